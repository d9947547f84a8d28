#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_virtqueue (tests/fuzz/corpus/virtqueue/):
a few well-formed and broken rings in the input format described at the
top of fuzz_virtqueue.c. Run once; the files are committed."""
import os
import struct

POP, COPY, PUSH, FLUSH, UNPOP, NEEDINT, DISABLE, ENABLE, WRITE16 = range(9)
NEXT, WRITE, INDIRECT = 1, 2, 4


def seed(log2size, feats, desc, avail, used, script, image):
    hdr = bytes([log2size, feats]) + struct.pack("<HHH", desc, avail, used)
    return hdr + bytes([len(script)]) + bytes(script) + bytes(image)


class Ram:
    def __init__(self, size):
        self.b = bytearray(size)

    def put(self, gpa, fmt, *v):
        struct.pack_into(fmt, self.b, gpa, *v)

    def desc(self, table, i, addr, ln, flags, nxt):
        self.put(table + 16 * i, "<QIHH", addr, ln, flags, nxt)

    def avail(self, base, size, heads, used_event=0):
        self.put(base + 2, "<H", len(heads))
        for i, h in enumerate(heads):
            self.put(base + 4 + 2 * (i % size), "<H", h)
        self.put(base + 4 + 2 * size, "<H", used_event)


def w16(gpa, v):
    return [WRITE16, gpa & 255, gpa >> 8, v & 255, v >> 8]


seeds = {}
# 8 entries; desc 0x000, avail 0x100, used 0x200; one chain R 16 + W 32.
r = Ram(0x900)
r.desc(0, 0, 0x400, 16, NEXT, 1)
r.desc(0, 1, 0x800, 32, WRITE, 0)
r.avail(0x100, 8, [0])
seeds["simple"] = seed(3, 0, 0, 0x100, 0x200,
                       [POP, COPY, 4, 0, 20, PUSH, 32, NEEDINT, ENABLE, POP], r.b)

# EVENT_IDX + INDIRECT: head 0 names a 3-entry table at 0x300, head 2 is
# direct then indirect; used_event 1.
r = Ram(0x900)
r.desc(0, 0, 0x300, 48, INDIRECT, 0)
r.desc(0x300, 0, 0x400, 16, NEXT, 2)
r.desc(0x300, 2, 0x500, 64, WRITE | NEXT, 1)
r.desc(0x300, 1, 0x600, 64, WRITE, 0)
r.desc(0, 2, 0x700, 8, NEXT, 3)
r.desc(0, 3, 0x380, 16, INDIRECT, 0)
r.desc(0x380, 0, 0x780, 8, WRITE, 0)
r.avail(0x100, 8, [0, 2], used_event=1)
seeds["indirect_event"] = seed(3, 3, 0, 0x100, 0x200,
                               [DISABLE, POP, COPY, 0, 0, 40, POP, PUSH, 0, NEEDINT,
                                PUSH, 8, NEEDINT, ENABLE, NEEDINT], r.b)

# The driver adds chains while the device runs (WRITE16 on avail ring
# and idx), with a batch flush and an unpop.
r = Ram(0x900)
for i in range(8):
    r.desc(0, i, 0x400 + 0x40 * i, 0x40, WRITE, 0)
r.avail(0x100, 8, [0, 1])
script = [POP, POP, UNPOP, 1, POP, FLUSH, 2]
script += w16(0x104 + 4, 5) + w16(0x102, 3) + [POP, PUSH, 1, NEEDINT, ENABLE]
seeds["driver_adds"] = seed(3, 1, 0, 0x100, 0x200, script, r.b)

# Broken rings: a loop, readable after writable, avail idx too far ahead.
r = Ram(0x900)
r.desc(0, 0, 0x400, 16, NEXT, 1)
r.desc(0, 1, 0x400, 16, NEXT, 0)
r.avail(0x100, 8, [0])
seeds["loop"] = seed(3, 0, 0, 0x100, 0x200, [POP, POP], r.b)
r = Ram(0x900)
r.desc(0, 0, 0x400, 16, WRITE | NEXT, 1)
r.desc(0, 1, 0x400, 16, 0, 0)
r.avail(0x100, 8, [0])
seeds["read_after_write"] = seed(3, 2, 0, 0x100, 0x200, [POP] + w16(0x10c, 0) + [POP], r.b)
r = Ram(0x900)
r.desc(0, 0, 0x400, 16, 0, 0)
r.avail(0x100, 8, [0] * 8)
r.put(0x102, "<H", 9)
seeds["avail_jump"] = seed(3, 0, 0, 0x100, 0x200, [POP] + w16(0x102, 8) + [POP] * 9, r.b)

# 256 entries: desc 0x0000, avail 0x1000, used 0x1400; one chain of 256.
r = Ram(0x2000)
for i in range(256):
    r.desc(0, i, 0x1c00 + i, 1, NEXT if i < 255 else 0, i + 1 if i < 255 else 0)
r.avail(0x1000, 256, [0])
seeds["size256"] = seed(8, 3, 0, 0x1000, 0x1400, [POP, COPY, 0, 0, 255, PUSH, 0, NEEDINT], r.b)

# The descriptor table at the top of RAM (8 KiB): desc 0x1f80, avail
# 0x100, used 0x200; a chain of 8 that ends there.
r = Ram(0x2000)
for i in range(8):
    r.desc(0x1f80, i, 0x400 + 0x10 * i, 0x10, NEXT if i < 7 else WRITE, i + 1 if i < 7 else 0)
r.avail(0x100, 8, [0, 4])
seeds["table_at_top"] = seed(3, 0, 0x1f80, 0x100, 0x200, [POP, POP, PUSH, 0, POP], r.b)

# The same table, its last entry a loop onto itself (refused): next one
# step from size, the first index past the table.
r = Ram(0x2000)
r.desc(0x1f80, 0, 0x400, 0x10, NEXT, 7)
r.desc(0x1f80, 7, 0x400, 0x10, NEXT, 7)
r.avail(0x100, 8, [0])
seeds["loop_at_top"] = seed(3, 0, 0x1f80, 0x100, 0x200, [POP, POP], r.b)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "virtqueue")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
