// FUZZ_SRCS: src/dev/virtio/virtio_blk_req.c
/* libFuzzer target for virtio-blk's request parser (virtio 1.2 §5.2.6): a
 * hostile driver's descriptor chain in any framing (§2.6.4), as the queue
 * walker would hand it over (readable buffers, then writable ones, inside
 * guest RAM). Each decision is checked against the contract in
 * virtio_blk.h; a broken invariant aborts.
 *
 * Input: flags (bit 0: read-only; bits 1-3: the capacity, one of eight
 * edge values), nout, nin, then per buffer a little-endian 16-bit length
 * followed by its bytes (zero-filled when the input runs out). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtio/virtio_blk.h"

static uint8_t arena[1 << 17];
static struct virtq_chain chain;
static struct blk_req req;

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

/* Does [p, p+len) lie inside one buffer of iov[from, to)? */
static int inside(const void *p, uint64_t len, unsigned from, unsigned to)
{
	const uint8_t *b = p;
	for (unsigned i = from; i < to; i++) {
		const uint8_t *s = chain.iov[i].iov_base;
		if (b >= s && len <= chain.iov[i].iov_len && (uint64_t)(b - s) <= chain.iov[i].iov_len - len)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t caps[8] = { 0, 1, 8, 2048, 1ull << 32, UINT64_MAX / 512, UINT64_MAX - 1, UINT64_MAX };
	if (size < 3)
		return 0;
	bool ro = data[0] & 1;
	uint64_t cap = caps[(data[0] >> 1) & 7];
	unsigned nout = data[1] % 20, nin = data[2] % 20;
	size_t pos = 3, used = 0;
	memset(&chain, 0, offsetof(struct virtq_chain, iov));
	for (unsigned i = 0; i < nout + nin; i++) {
		uint16_t len = 0;
		if (pos + 2 <= size)
			len = (uint16_t)(data[pos] | data[pos + 1] << 8);
		pos += 2;
		len %= 8192;
		if (used + len > sizeof(arena))
			len = 0;
		size_t have = pos < size ? size - pos : 0;
		size_t n = have < len ? have : len;
		if (n)
			memcpy(arena + used, data + pos, n);
		memset(arena + used + n, 0, len - n);
		pos += n;
		chain.iov[i] = (struct iovec){ arena + used, len };
		used += len;
		if (i < nout)
			chain.out_len += len;
		else
			chain.in_len += len;
	}
	chain.nout = nout;
	chain.nin = nin;

	enum blk_action a = virtio_blk_parse(&chain, cap, ro, &req);
	if (chain.in_len == 0) {
		REQUIRE(a == BLK_BROKEN);
		return 0;
	}
	REQUIRE(a != BLK_BROKEN);
	/* the status byte: the last writable byte */
	REQUIRE(inside(req.status_byte, 1, nout, nout + nin));
	for (unsigned i = nout + nin; i-- > nout;) {
		if (chain.iov[i].iov_len) {
			REQUIRE(req.status_byte == (uint8_t *)chain.iov[i].iov_base + chain.iov[i].iov_len - 1);
			break;
		}
	}
	*req.status_byte = 0;
	if (a == BLK_ANSWER) {
		REQUIRE(req.status <= VIRTIO_BLK_S_UNSUPP);
		REQUIRE(req.written == 1);
		return 0;
	}
	REQUIRE(chain.out_len >= VIRTIO_BLK_HDR_SIZE);
	uint64_t sum = 0;
	for (unsigned i = 0; i < req.niov; i++)
		sum += req.iov[i].iov_len;
	if (a == BLK_GET_ID) {
		REQUIRE(req.len >= 1 && req.len <= VIRTIO_BLK_ID_BYTES && sum == req.len);
		REQUIRE(req.written == req.len + 1);
		for (unsigned i = 0; i < req.niov; i++)
			REQUIRE(inside(req.iov[i].iov_base, req.iov[i].iov_len, nout, nout + nin));
		static const char id[VIRTIO_BLK_ID_BYTES] = "vmon-disk0";
		REQUIRE(virtio_blk_write_id(&req, id) == req.len);
		return 0;
	}
	REQUIRE(a == BLK_IO);
	REQUIRE(!ro || req.op == DISK_READ);
	switch (req.op) {
	case DISK_READ:
	case DISK_WRITE:
		REQUIRE(req.len && req.len % 512 == 0 && req.len <= VIRTIO_BLK_MAX_DATA && sum == req.len);
		REQUIRE(req.offset % 512 == 0 && req.offset / 512 <= cap && req.len / 512 <= cap - req.offset / 512);
		for (unsigned i = 0; i < req.niov; i++) {
			if (req.op == DISK_READ)
				REQUIRE(inside(req.iov[i].iov_base, req.iov[i].iov_len, nout, nout + nin));
			else
				REQUIRE(inside(req.iov[i].iov_base, req.iov[i].iov_len, 0, nout));
		}
		/* the data never covers the status byte nor the header */
		REQUIRE(req.op == DISK_WRITE ? chain.in_len == 1 : chain.out_len == VIRTIO_BLK_HDR_SIZE);
		REQUIRE(req.written == (req.op == DISK_READ ? req.len + 1 : 1));
		break;
	case DISK_DISCARD:
	case DISK_WRITE_ZEROES:
		REQUIRE(req.len && req.len % 512 == 0);
		REQUIRE(req.len / 512 <= (req.op == DISK_DISCARD ? VIRTIO_BLK_MAX_DISCARD_SECTORS : VIRTIO_BLK_MAX_WZ_SECTORS));
		REQUIRE(req.offset / 512 <= cap && req.len / 512 <= cap - req.offset / 512);
		REQUIRE(chain.out_len == VIRTIO_BLK_HDR_SIZE + VIRTIO_BLK_SEG_SIZE && chain.in_len == 1);
		REQUIRE(req.op == DISK_WRITE_ZEROES || !req.unmap);
		break;
	case DISK_FLUSH:
		REQUIRE(chain.out_len == VIRTIO_BLK_HDR_SIZE && chain.in_len == 1);
		break;
	}
	return 0;
}
