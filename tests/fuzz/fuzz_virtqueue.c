// FUZZ_SRCS: src/dev/virtio/virtqueue.c src/mem/guest_mem.c
/* libFuzzer target for the split virtqueue walker (virtio 1.2 §2.7): the
 * input is a hostile driver. It picks the queue size, features and ring
 * addresses, fills guest RAM, and scripts the device's calls (pop, push,
 * fill/flush, unpop, need_interrupt, notify on/off) interleaved with the
 * driver's writes. Each result is checked against the walker's contract
 * (virtqueue.h); a broken invariant aborts, which libFuzzer reports.
 *
 * Input: byte 0 queue size (1 << (b % 9), or 2 * b with byte 1 bit 3,
 * which virtq_init must refuse unless a power of 2 up to 256); byte 1 bit 0
 * EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 ring addresses taken as given
 * (else aligned);
 * bytes 2-7 desc, avail and used offsets (le16, modulo 8 KiB, the RAM
 * size); byte 8 the script length
 * n; n script bytes; the rest is the RAM image from address 0. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtio/virtqueue.h"
#include "mem/guest_mem.h"

/* 8 KiB: room for a 256-entry queue (6.5 KiB of rings), small enough for
 * an input to fill all of it. */
#define RAM_SIZE 0x2000
#define HEADER   9

#define REQUIRE(cond) \
	do { if (!(cond)) abort(); } while (0)

struct script {
	const uint8_t *p;
	size_t n, at;
};

static unsigned next_byte(struct script *s)
{
	return s->at < s->n ? s->p[s->at++] : 0;
}
static unsigned next16(struct script *s)
{
	unsigned lo = next_byte(s);
	return lo | next_byte(s) << 8;
}

static uint16_t rd16(const struct guest_mem *m, uint64_t gpa)
{
	uint16_t v;
	REQUIRE(guest_mem_read(m, gpa, &v, 2) == 0);
	return v;
}

/* Every pop result against the contract. */
static void check_chain(const struct virtq *q, const struct guest_mem *m,
			const struct virtq_chain *c)
{
	REQUIRE(c->head < q->size);
	REQUIRE(c->nout + c->nin <= q->size);
	uint64_t out = 0, in = 0;
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t l = c->iov[i].iov_len;
		REQUIRE(l > 0);
		REQUIRE(b >= m->base && b <= m->base + m->size && l <= (size_t)(m->base + m->size - b));
		*(i < c->nout ? &out : &in) += l;
	}
	REQUIRE(out == c->out_len && in == c->in_len);
	REQUIRE(out + in <= UINT32_MAX);
}

/* chain_read/chain_write from offset off: the bytes that exist there. */
static void check_copy(const struct virtq_chain *c, struct script *s)
{
	static uint8_t buf[512];
	uint64_t off = next16(s), len = next_byte(s) * 2;
	uint64_t want = off < c->out_len ? c->out_len - off : 0;
	REQUIRE(virtq_chain_read(c, off, buf, len) == (want < len ? want : len));
	want = off < c->in_len ? c->in_len - off : 0;
	REQUIRE(virtq_chain_write(c, off, buf, len) == (want < len ? want : len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* RAM from malloc, not guest_mem_init's mmap: ASan then reports any
	 * access past either end of it, such as a descriptor read beyond a
	 * table placed at the top of RAM. One region at 0, as guest_mem_init
	 * makes for a small guest. */
	static struct guest_mem mem;
	if (!mem.base) {
		mem.base = malloc(RAM_SIZE);
		REQUIRE(mem.base);
		mem.size = RAM_SIZE;
		mem.nregions = 1;
		mem.region[0] = (struct guest_mem_region){ 0, RAM_SIZE, mem.base };
	}
	if (size < HEADER)
		return 0;
	size_t nscript = data[8];
	if (size < HEADER + nscript)
		nscript = size - HEADER;
	struct script s = { data + HEADER, nscript, 0 };
	size_t image = size - HEADER - nscript;
	memset(mem.base, 0, RAM_SIZE);
	memcpy(mem.base, data + HEADER + nscript, image < RAM_SIZE ? image : RAM_SIZE);

	uint16_t qsize = (uint16_t)(data[1] & 8 ? data[0] * 2 : 1u << (data[0] % 9));
	bool event_idx = data[1] & 1, indirect = data[1] & 2;
	uint64_t d = (data[2] | data[3] << 8) % RAM_SIZE, a = (data[4] | data[5] << 8) % RAM_SIZE,
		 u = (data[6] | data[7] << 8) % RAM_SIZE;
	if (!(data[1] & 4)) {
		d &= ~15ULL;
		a &= ~1ULL;
		u &= ~3ULL;
	}
	struct virtq q;
	if (virtq_init(&q, &mem, qsize, d, a, u, event_idx, indirect) < 0) {
		REQUIRE(qsize == 0 || qsize > VIRTQ_MAX_SIZE || (qsize & (qsize - 1)) ||
			(d & 15) || (a & 1) || (u & 3) || d + 16 * qsize > RAM_SIZE ||
			a + 6 + 2 * qsize > RAM_SIZE || u + 6 + 8 * qsize > RAM_SIZE);
		return 0;
	}

	static struct virtq_chain c;
	uint16_t popped[VIRTQ_MAX_SIZE]; /* heads taken, not yet given back */
	unsigned npopped = 0, since_push = 0;
	bool have_chain = false;
	while (s.at < s.n) {
		unsigned op = next_byte(&s);
		switch (op % 9) {
		case 0: { /* device: take a chain */
			uint16_t before = q.last_avail;
			uint16_t pending = (uint16_t)(rd16(&mem, q.avail_gpa + 2) - before);
			int r = virtq_pop(&q, &c);
			REQUIRE(r == 1 || r == 0 || r == -EINVAL);
			/* Nothing new, or more than size new: §2.7.6, §2.7.13. */
			REQUIRE((r == 0) == (pending == 0));
			if (pending > q.size)
				REQUIRE(r == -EINVAL);
			if (r != 1) {
				REQUIRE(q.last_avail == before);
				break;
			}
			REQUIRE(q.last_avail == (uint16_t)(before + 1));
			check_chain(&q, &mem, &c);
			have_chain = true;
			/* A hostile driver can hand out descriptors still in
			 * flight, so more than size chains can be taken. */
			if (npopped == VIRTQ_MAX_SIZE) {
				virtq_push(&q, c.head, 0);
				since_push = 0;
				break;
			}
			popped[npopped++] = c.head;
			since_push++;
			break;
		}
		case 1: /* device: copy in and out of the last chain */
			if (have_chain)
				check_copy(&c, &s);
			break;
		case 2: /* device: give back the oldest chain */
			if (npopped) {
				virtq_push(&q, popped[0], next_byte(&s));
				memmove(popped, popped + 1, --npopped * sizeof(popped[0]));
				since_push = 0;
				REQUIRE(rd16(&mem, q.used_gpa + 2) == q.used_idx);
			}
			break;
		case 3: { /* device: give back up to k chains in one flush */
			unsigned k = next_byte(&s) % (npopped + 1);
			for (unsigned i = 0; i < k; i++)
				virtq_fill(&q, i, popped[i], i);
			virtq_flush(&q, k);
			npopped -= k;
			memmove(popped, popped + k, npopped * sizeof(popped[0]));
			since_push = 0;
			REQUIRE(rd16(&mem, q.used_gpa + 2) == q.used_idx);
			break;
		}
		case 4: { /* device: unpop some of those taken since the last push */
			unsigned k = next_byte(&s) % (since_push + 1);
			uint16_t before = q.last_avail;
			virtq_unpop(&q, k);
			REQUIRE(q.last_avail == (uint16_t)(before - k));
			npopped -= k;
			since_push -= k;
			have_chain = false;
			break;
		}
		case 5:
			(void)virtq_need_interrupt(&q);
			break;
		case 6:
			virtq_disable_notify(&q);
			break;
		case 7: { /* device: re-enable notifications */
			bool more = virtq_enable_notify(&q);
			REQUIRE(more == (rd16(&mem, q.avail_gpa + 2) != q.last_avail));
			if (event_idx)
				REQUIRE(rd16(&mem, q.used_gpa + 4 + 8ULL * q.size) == q.last_avail);
			break;
		}
		case 8: { /* driver: write a 16-bit value anywhere (the rings too) */
			unsigned gpa = next16(&s) % (RAM_SIZE - 1);
			uint16_t v = (uint16_t)next16(&s);
			memcpy(mem.base + gpa, &v, 2);
			break;
		}
		}
	}
	return 0;
}
