#!/usr/bin/env python3
# Writes the seed corpus of fuzz_virtio_blk (its input format: the comment
# at the top of fuzz_virtio_blk.c) into tests/fuzz/corpus/virtio_blk/.
import os, struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtio_blk")
os.makedirs(out, exist_ok=True)

def hdr(t, sector):
    return struct.pack("<IIQ", t, 0, sector)

def seg(sector, n, flags):
    return struct.pack("<QII", sector, n, flags)

def chain(name, flags, readable, writable):
    """readable/writable: lists of bytes (contents) or ints (zeroed lengths)"""
    b = bytes([flags, len(readable), len(writable)])
    for d in readable + writable:
        if isinstance(d, int):
            d = bytes(d)
        b += struct.pack("<H", len(d)) + d
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)

CAP2048 = 3 << 1          # caps[3] = 2048 sectors
chain("read", CAP2048, [hdr(0, 8)], [4096, 1])
chain("read_status_shared", CAP2048, [hdr(0, 7)], [1000, 25])
chain("write_split_hdr", CAP2048, [hdr(1, 5)[:3], hdr(1, 5)[3:] + bytes(100), 412, 512], [1])
chain("write_ro", CAP2048 | 1, [hdr(1, 0), 512], [1])
chain("flush", CAP2048, [hdr(4, 0)], [1])
chain("get_id", CAP2048, [hdr(8, 0)], [7, 14])
chain("discard", CAP2048, [hdr(11, 0), seg(8, 16, 0)], [1])
chain("write_zeroes_unmap", CAP2048, [hdr(13, 0)[:10], hdr(13, 0)[10:] + seg(0, 2048, 1)], [1])
chain("overflow", 7 << 1, [hdr(0, 0xffffffffffffffff)], [512, 1])
chain("no_status", CAP2048, [hdr(0, 0)], [])
chain("unknown", CAP2048, [hdr(0x80000000, 0)], [1])
