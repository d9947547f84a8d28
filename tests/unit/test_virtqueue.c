/* The split virtqueue walker (virtio 1.2 §2.7) on rings built in guest RAM:
 * chains, indirect tables, used-ring batching, notification suppression
 * with and without EVENT_IDX, and rings a hostile driver wrote. Expected
 * values are the spec's layouts and rules, computed here by hand. */
#include <errno.h>

#include "dev/virtio/virtqueue.h"
#include "mem/guest_mem.h"
#include "unit.h"

#define RAM   (1ULL << 20)
#define DESC  0x1000ULL
#define AVAIL 0x2000ULL
#define USED  0x3000ULL
#define BUF   0x10000ULL
#define TABLE 0x8000ULL

static struct guest_mem mem;

/* Ring accessors for the test's own setup: a bad address here is a bug in
 * the test, counted once as a failure (not a CHECK per access). */
static void poke(uint64_t gpa, const void *v, unsigned n)
{
	if (guest_mem_write(&mem, gpa, v, n))
		unit_failed++;
}
static void put16(uint64_t gpa, uint16_t v) { poke(gpa, &v, 2); }
static void put32(uint64_t gpa, uint32_t v) { poke(gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { poke(gpa, &v, 8); }
static uint16_t get16(uint64_t gpa)
{
	uint16_t v = 0;
	if (guest_mem_read(&mem, gpa, &v, 2))
		unit_failed++;
	return v;
}
static uint32_t get32(uint64_t gpa)
{
	uint32_t v = 0;
	if (guest_mem_read(&mem, gpa, &v, 4))
		unit_failed++;
	return v;
}

/* struct virtq_desc (§2.7.5): le64 addr, le32 len, le16 flags, le16 next;
 * table is a gpa of a descriptor table (the ring's or an indirect one). */
static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	uint64_t g = table + 16ULL * i;
	put64(g, addr);
	put32(g + 8, len);
	put16(g + 12, flags);
	put16(g + 14, next);
}
static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc_at(DESC, i, addr, len, flags, next);
}

/* struct virtq_avail (§2.7.6): le16 flags, le16 idx, le16 ring[size],
 * le16 used_event. The driver's side: put head at ring[idx % size], idx++. */
static void avail_add(uint16_t size, uint16_t head)
{
	uint16_t idx = get16(AVAIL + 2);
	put16(AVAIL + 4 + 2ULL * (idx % size), head);
	put16(AVAIL + 2, (uint16_t)(idx + 1));
}

static void fresh(struct virtq *q, uint16_t size, bool event_idx, bool indirect)
{
	memset(mem.base, 0, 0x20000);
	CHECK_EQ(virtq_init(q, &mem, size, DESC, AVAIL, USED, event_idx, indirect), 0);
}

/* A chain the walker must refuse, leaving last_avail where it was. */
static void check_refused(struct virtq *q, int line)
{
	struct virtq_chain c;
	uint16_t before = q->last_avail;
	int r = virtq_pop(q, &c);
	if (r != -EINVAL || q->last_avail != before)
		fprintf(stderr, "  refused chain at line %d: pop %d, last_avail %u -> %u\n", line, r,
			before, q->last_avail);
	CHECK_EQ(r, -EINVAL);
	CHECK_EQ(q->last_avail, before);
}
#define REFUSED(q) check_refused(q, __LINE__)

/* A chain popped with the given head, part sizes and byte totals. */
static void check_chain(const struct virtq_chain *c, uint16_t head, unsigned nout, unsigned nin,
			uint64_t out_len, uint64_t in_len, int line)
{
	bool ok = c->head == head && c->nout == nout && c->nin == nin && c->out_len == out_len &&
		  c->in_len == in_len;
	if (!ok)
		fprintf(stderr, "  chain at line %d: head %u nout %u nin %u out %" PRIu64 " in %" PRIu64
			"\n", line, c->head, c->nout, c->nin, c->out_len, c->in_len);
	CHECK(ok);
}
#define CHAIN(c, head, nout, nin, out_len, in_len) \
	check_chain(c, head, nout, nin, out_len, in_len, __LINE__)

static void test_init(void)
{
	struct virtq q;
	CHECK_EQ(virtq_init(&q, &mem, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 3, DESC, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 512, DESC, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 1, DESC, AVAIL, USED, false, false), 0);
	CHECK_EQ(virtq_init(&q, &mem, 256, DESC, AVAIL, USED, false, false), 0);
	/* Alignment: descriptor table 16, available ring 2, used ring 4. */
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL + 2, USED + 2, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL + 2, USED + 4, false, false), 0);
	/* Ring sizes for 8 entries: 128, 6 + 16 = 22, 6 + 64 = 70 bytes;
	 * ending exactly at the top of RAM is fine, one byte more is not. */
	CHECK_EQ(virtq_init(&q, &mem, 8, RAM - 128, AVAIL, USED, false, false), 0);
	CHECK_EQ(virtq_init(&q, &mem, 8, RAM - 112, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, RAM - 22, USED, false, false), 0);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, RAM - 20, USED, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL, RAM - 72, false, false), 0);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL, RAM - 68, false, false), -EINVAL);
	CHECK_EQ(virtq_init(&q, &mem, 8, DESC, AVAIL, 0xfffffffffffffff0ULL, false, false), -EINVAL);
}

static void test_chain(void)
{
	struct virtq q;
	struct virtq_chain c;
	fresh(&q, 8, false, false);
	CHECK_EQ(virtq_pop(&q, &c), 0);

	/* Head 5: two readable buffers, then one writable (§2.7.4.2). */
	desc(5, BUF, 0x100, VIRTQ_DESC_F_NEXT, 2);
	desc(2, BUF + 0x1000, 0x20, VIRTQ_DESC_F_NEXT, 7);
	desc(7, BUF + 0x2000, 0x200, VIRTQ_DESC_F_WRITE, 0);
	avail_add(8, 5);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 5, 2, 1, 0x120, 0x200);
	CHECK(c.iov[0].iov_base == mem.base + BUF && c.iov[0].iov_len == 0x100);
	CHECK(c.iov[1].iov_base == mem.base + BUF + 0x1000 && c.iov[1].iov_len == 0x20);
	CHECK(c.iov[2].iov_base == mem.base + BUF + 0x2000 && c.iov[2].iov_len == 0x200);
	CHECK_EQ(q.last_avail, 1);
	CHECK_EQ(virtq_pop(&q, &c), 0);

	/* Copies across the buffers' boundary, and past the end. */
	for (unsigned i = 0; i < 0x100; i++)
		mem.base[BUF + i] = (uint8_t)i;
	for (unsigned i = 0; i < 0x20; i++)
		mem.base[BUF + 0x1000 + i] = (uint8_t)(0xa0 + i);
	uint8_t b[32];
	CHECK_EQ(virtq_chain_read(&c, 0xfc, b, 8), 8);
	CHECK(b[0] == 0xfc && b[3] == 0xff && b[4] == 0xa0 && b[7] == 0xa3);
	CHECK_EQ(virtq_chain_read(&c, 0x118, b, 32), 8);
	CHECK_EQ(b[7], 0xbf);
	CHECK_EQ(virtq_chain_read(&c, 0x120, b, 32), 0);
	memset(b, 0x5a, sizeof(b));
	CHECK_EQ(virtq_chain_write(&c, 0x1f0, b, 32), 16);
	CHECK(mem.base[BUF + 0x21f0] == 0x5a && mem.base[BUF + 0x21ff] == 0x5a);
	CHECK_EQ(mem.base[BUF + 0x2200], 0);
	CHECK_EQ(mem.base[BUF + 0xff], 0xff); /* the readable part untouched */

	/* §2.7.8: used->ring[0] = { id 5, len 0x1f0 + 16 }, then idx 1. */
	virtq_push(&q, c.head, 0x200);
	CHECK_EQ(get32(USED + 4), 5);
	CHECK_EQ(get32(USED + 8), 0x200);
	CHECK_EQ(get16(USED + 2), 1);

	/* A zero-length descriptor is skipped, whatever its address. */
	desc(0, 0xfffffffffffff000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	desc(3, 0, 0, VIRTQ_DESC_F_WRITE, 0);
	avail_add(8, 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 0, 0, 1, 0, 16);

	/* A buffer ending exactly at the top of RAM. */
	desc(4, RAM - 0x10, 0x10, 0, 0);
	avail_add(8, 4);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK(c.iov[0].iov_base == mem.base + RAM - 0x10);

	/* A chain of exactly size (8) descriptors. */
	for (unsigned i = 0; i < 8; i++)
		desc(i, BUF + i, 1, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	avail_add(8, 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 0, 8, 0, 8, 0);
}

static void test_indirect(void)
{
	struct virtq q;
	struct virtq_chain c;

	/* Not negotiated: INDIRECT is a broken ring. */
	fresh(&q, 8, false, false);
	desc(0, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(TABLE, 0, BUF, 8, 0, 0);
	avail_add(8, 0);
	REFUSED(&q);

	/* A table of 3, chained 0 -> 2 -> 1 by next (§2.7.5.3). The WRITE
	 * flag on the descriptor naming the table is ignored (§2.7.5.3.2). */
	fresh(&q, 8, false, true);
	desc(3, TABLE, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	desc_at(TABLE, 0, BUF, 0x10, VIRTQ_DESC_F_NEXT, 2);
	desc_at(TABLE, 2, BUF + 0x100, 0x30, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(TABLE, 1, BUF + 0x200, 0x40, VIRTQ_DESC_F_WRITE, 0);
	avail_add(8, 3);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 3, 1, 2, 0x10, 0x70);
	CHECK(c.iov[1].iov_base == mem.base + BUF + 0x100);
	CHECK(c.iov[2].iov_base == mem.base + BUF + 0x200);

	/* Direct descriptors followed by one naming a table (§2.7.5.3.2:
	 * "zero or more normal chained descriptors followed by a single
	 * descriptor with flags&VIRTQ_DESC_F_INDIRECT"). */
	desc(0, BUF, 4, VIRTQ_DESC_F_NEXT, 6);
	desc(6, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(TABLE + 0x100, 0, BUF + 0x300, 12, VIRTQ_DESC_F_WRITE, 0);
	avail_add(8, 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 0, 1, 1, 4, 12);

	/* A full table of size (8) entries is a chain of 8: accepted. */
	for (unsigned i = 0; i < 8; i++)
		desc_at(TABLE, i, BUF + 16 * i, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	desc_at(TABLE, 7, BUF + 0x70, 16, 0, 0);
	desc(1, TABLE, 128, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(8, 1);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 1, 8, 0, 128, 0);

	/* One direct buffer before that table: 9 > size. */
	desc(0, BUF, 4, VIRTQ_DESC_F_NEXT, 1);
	avail_add(8, 0);
	REFUSED(&q);
	put16(AVAIL + 2, (uint16_t)(get16(AVAIL + 2) - 1));

	/* A table longer than size entries, empty, not whole descriptors,
	 * past RAM, or straddling its end. */
	static const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ TABLE, 144 }, { TABLE, 0 }, { TABLE, 24 }, { TABLE, 8 },
		{ RAM, 16 }, { RAM - 16, 32 }, { 0xfffffffffffffff0ULL, 32 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		desc(2, bad[i].addr, bad[i].len, VIRTQ_DESC_F_INDIRECT, 0);
		avail_add(8, 2);
		REFUSED(&q);
		put16(AVAIL + 2, (uint16_t)(get16(AVAIL + 2) - 1));
	}

	/* INDIRECT with NEXT (§2.7.5.3.1). */
	desc_at(TABLE + 0x100, 0, BUF, 12, 0, 0);
	desc(2, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 4);
	desc(4, BUF, 4, 0, 0);
	avail_add(8, 2);
	REFUSED(&q);

	/* Nested: an indirect descriptor inside a table (§2.7.5.3.1). */
	desc(2, TABLE + 0x100, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(TABLE + 0x100, 0, BUF, 12, VIRTQ_DESC_F_NEXT, 1);
	desc_at(TABLE + 0x100, 1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	REFUSED(&q);

	/* next past the table's 2 entries (the queue has 8). */
	desc_at(TABLE + 0x100, 0, BUF, 12, VIRTQ_DESC_F_NEXT, 2);
	REFUSED(&q);

	/* A loop inside the table: 0 -> 1 -> 0. */
	desc_at(TABLE + 0x100, 0, BUF, 12, VIRTQ_DESC_F_NEXT, 1);
	desc_at(TABLE + 0x100, 1, BUF, 12, VIRTQ_DESC_F_NEXT, 0);
	REFUSED(&q);

	/* Readable after writable, inside the table and across into it. */
	desc_at(TABLE + 0x100, 0, BUF, 12, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(TABLE + 0x100, 1, BUF, 12, 0, 0);
	REFUSED(&q);
	desc_at(TABLE + 0x100, 0, BUF, 12, 0, 0);
	desc(2, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
	desc(5, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	REFUSED(&q);

	/* Mended, the same head is taken: nothing was consumed before. */
	desc_at(TABLE + 0x100, 0, BUF, 12, VIRTQ_DESC_F_WRITE, 0);
	uint16_t before = q.last_avail;
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHAIN(&c, 2, 0, 2, 0, 16);
	CHECK_EQ(q.last_avail, (uint16_t)(before + 1));
}

static void test_hostile(void)
{
	struct virtq q;
	struct virtq_chain c;
	fresh(&q, 8, false, false);

	/* Loops: 0 -> 1 -> 0, and 3 -> 3. */
	desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	avail_add(8, 0);
	REFUSED(&q);
	desc(3, BUF, 8, VIRTQ_DESC_F_NEXT, 3);
	put16(AVAIL + 4, 3);
	REFUSED(&q);
	/* A loop of writable empty descriptors still ends. */
	desc(3, 0, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	REFUSED(&q);

	/* next >= size. */
	desc(3, BUF, 8, VIRTQ_DESC_F_NEXT, 8);
	REFUSED(&q);
	desc(3, BUF, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	REFUSED(&q);

	/* Readable after writable (§2.7.4.2). */
	desc(3, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	desc(4, BUF, 8, 0, 0);
	REFUSED(&q);
	desc(4, 0, 0, 0, 0); /* even an empty one */
	REFUSED(&q);

	/* Buffers outside RAM: past the top, straddling it, wrapping 2^64. */
	static const struct { uint64_t addr; uint32_t len; } bad[] = {
		{ RAM, 1 }, { RAM - 8, 9 }, { RAM - 1, 0xffffffff },
		{ 0xfffffffffffffff8ULL, 16 }, { 0xffffffffffffffffULL, 1 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		desc(3, BUF, 8, VIRTQ_DESC_F_NEXT, 4);
		desc(4, bad[i].addr, bad[i].len, VIRTQ_DESC_F_WRITE, 0);
		REFUSED(&q);
		desc(3, bad[i].addr, bad[i].len, 0, 0);
		REFUSED(&q);
	}

	/* Head >= size. */
	put16(AVAIL + 4, 8);
	REFUSED(&q);
	put16(AVAIL + 4, 0xffff);
	REFUSED(&q);

	/* avail idx more than size ahead of last_avail; exactly size is
	 * allowed (the driver can make every descriptor available). */
	for (unsigned i = 0; i < 8; i++) {
		desc(i, BUF, 8, 0, 0);
		put16(AVAIL + 4 + 2 * i, (uint16_t)i);
	}
	put16(AVAIL + 2, 9);
	REFUSED(&q);
	put16(AVAIL + 2, 0x8000);
	REFUSED(&q);
	put16(AVAIL + 2, 0xffff); /* "behind": 65535 ahead modulo 2^16 */
	REFUSED(&q);
	put16(AVAIL + 2, 8);
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ(virtq_pop(&q, &c), 1);
		CHECK_EQ(c.head, i);
	}
	CHECK_EQ(virtq_pop(&q, &c), 0);
	CHECK_EQ(q.last_avail, 8);
}

/* Chains whose byte total passes 2^32 - 1 (§2.7.5.2), in 5 GiB of RAM
 * (MAP_NORESERVE: only the ring pages are touched). */
static void test_total(void)
{
	struct guest_mem big;
	CHECK_EQ(guest_mem_init(&big, 5ULL << 30), 0);
	struct virtq q;
	struct virtq_chain c;
	CHECK_EQ(virtq_init(&q, &big, 4, DESC, AVAIL, USED, false, false), 0);
	struct guest_mem saved = mem;
	mem = big;
	desc(0, 0x100000, 0x80000000, VIRTQ_DESC_F_NEXT, 1);
	desc(1, 4ULL << 30, 0x7fffffff, VIRTQ_DESC_F_WRITE, 0);
	avail_add(4, 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK_EQ(c.out_len + c.in_len, 0xffffffffULL);
	desc(1, 4ULL << 30, 0x80000000, VIRTQ_DESC_F_WRITE, 0);
	avail_add(4, 0);
	REFUSED(&q);
	/* Four buffers of 2 GiB: 8 GiB, 0 in a uint32 sum. */
	for (unsigned i = 0; i < 4; i++)
		desc(i, i & 1 ? 4ULL << 30 : 0x100000, 0x80000000, i < 3 ? VIRTQ_DESC_F_NEXT : 0,
		     (uint16_t)(i + 1));
	REFUSED(&q);
	/* Across the 3 GiB hole: not RAM. */
	desc(0, (3ULL << 30) - 8, 16, 0, 0);
	REFUSED(&q);
	mem = saved;
	guest_mem_destroy(&big);
}

static void test_unpop_fill(void)
{
	struct virtq q;
	struct virtq_chain c;
	fresh(&q, 4, false, false);
	for (unsigned i = 0; i < 4; i++)
		desc(i, BUF + 0x100 * i, 0x10, VIRTQ_DESC_F_WRITE, 0);
	avail_add(4, 2);
	avail_add(4, 0);
	avail_add(4, 3);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK_EQ(c.head, 0);
	virtq_unpop(&q, 2);
	CHECK_EQ(q.last_avail, 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK_EQ(c.head, 2);

	/* fill writes elements without publishing; flush publishes them. */
	virtq_fill(&q, 0, 2, 7);
	virtq_fill(&q, 1, 0, 9);
	CHECK_EQ(get16(USED + 2), 0);
	CHECK_EQ(get32(USED + 4), 2);
	CHECK_EQ(get32(USED + 8), 7);
	CHECK_EQ(get32(USED + 12), 0);
	CHECK_EQ(get32(USED + 16), 9);
	virtq_flush(&q, 2);
	CHECK_EQ(get16(USED + 2), 2);
	CHECK_EQ(q.used_idx, 2);
	/* Positions wrap modulo size: used idx 2 + 1 + 1 -> ring[0]. */
	virtq_fill(&q, 1, 1, 0x11);
	virtq_fill(&q, 2, 3, 0x33);
	CHECK_EQ(get32(USED + 4 + 8 * 3), 1);
	CHECK_EQ(get32(USED + 4 + 8 * 0), 3);
	CHECK_EQ(get32(USED + 4 + 8 * 0 + 4), 0x33);

	/* 16-bit used idx wrap: 65536 pushes later, idx is back to 2. */
	for (unsigned i = 0; i < 65536; i++)
		virtq_push(&q, (uint16_t)(i & 3), i);
	CHECK_EQ(get16(USED + 2), 2);
	/* The last push (i = 65535) went to (2 + 65535) % 4 = 1. */
	CHECK_EQ(get32(USED + 4 + 8 * 1), 3);
	CHECK_EQ(get32(USED + 4 + 8 * 1 + 4), 65535);
}

static void test_interrupt_flags(void)
{
	struct virtq q;
	fresh(&q, 8, false, false);
	virtq_push(&q, 0, 0);
	CHECK(virtq_need_interrupt(&q));
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));
	/* used_event is ignored without EVENT_IDX (§2.7.7). */
	put16(AVAIL + 4 + 2 * 8, 2);
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));
	put16(AVAIL, 0);
	CHECK(virtq_need_interrupt(&q));
}

/* §2.7.7 with EVENT_IDX: interrupt when the entry at index used_event
 * (avail->ring[size], at avail + 4 + 2*size) was written. */
static void test_event_idx(void)
{
	struct virtq q;
	const uint64_t ue = AVAIL + 4 + 2 * 8;
	fresh(&q, 8, true, false);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT); /* ignored with EVENT_IDX */
	put16(ue, 0);
	virtq_push(&q, 0, 0);              /* wrote entry 0 */
	CHECK(virtq_need_interrupt(&q));
	virtq_push(&q, 0, 0);              /* entry 1 */
	CHECK(!virtq_need_interrupt(&q));
	put16(ue, 3);
	virtq_push(&q, 0, 0);              /* entry 2 */
	CHECK(!virtq_need_interrupt(&q));
	virtq_push(&q, 0, 0);              /* entry 3 */
	CHECK(virtq_need_interrupt(&q));
	CHECK(!virtq_need_interrupt(&q));  /* nothing new since */

	/* A batch of 3 (entries 4, 5, 6) covering used_event 5, and one
	 * (entries 7, 8) that ends just before used_event 9. */
	put16(ue, 5);
	for (unsigned i = 0; i < 3; i++)
		virtq_fill(&q, i, 0, 0);
	virtq_flush(&q, 3);
	CHECK(virtq_need_interrupt(&q));
	put16(ue, 9);
	virtq_push(&q, 0, 0);
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));
	virtq_push(&q, 0, 0);              /* entry 9 */
	CHECK(virtq_need_interrupt(&q));

	/* A used_event already passed is not met again until idx wraps. */
	put16(ue, 4);
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));

	/* Across the 16-bit wrap: checked after every push up to 0xfffe. */
	put16(ue, 0x8000);
	unsigned wrong = 0, hits = 0;
	while (q.used_idx != 0xfffe) {
		virtq_push(&q, 0, 0);
		bool want = virtq_need_interrupt(&q);
		hits += want;
		wrong += want != (q.used_idx == 0x8001);
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(hits, 1);
	put16(ue, 0xffff);
	virtq_push(&q, 0, 0);              /* entry 0xfffe */
	CHECK(!virtq_need_interrupt(&q));
	put16(ue, 0);
	virtq_push(&q, 0, 0);              /* 0xffff */
	virtq_push(&q, 0, 0);              /* 0x0000 */
	CHECK_EQ(q.used_idx, 1);
	CHECK(virtq_need_interrupt(&q));
	put16(ue, 0xffff);                 /* behind again */
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));

	/* 2^16 entries without a check: every index was written, used_event
	 * among them, so the next check must interrupt. */
	put16(ue, 0x1234);
	for (unsigned i = 0; i < 65536; i++)
		virtq_push(&q, 0, 0);
	CHECK(virtq_need_interrupt(&q));
	virtq_push(&q, 0, 0);
	CHECK(!virtq_need_interrupt(&q));
}

static void test_notify(void)
{
	struct virtq q;
	struct virtq_chain c;

	/* Without EVENT_IDX: used->flags bit 0 (§2.7.10). */
	fresh(&q, 8, false, false);
	desc(0, BUF, 8, 0, 0);
	virtq_disable_notify(&q);
	CHECK_EQ(get16(USED), VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(USED), 0);
	virtq_disable_notify(&q);
	avail_add(8, 0);
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ(get16(USED), 0);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK(!virtq_enable_notify(&q));

	/* With EVENT_IDX: avail_event is used->ring[size], at used + 4 +
	 * 8*size; the device asks to be notified when the driver makes the
	 * chain at last_avail available. used->flags is left alone. */
	const uint64_t ae = USED + 4 + 8 * 8;
	fresh(&q, 8, true, false);
	desc(0, BUF, 8, 0, 0);
	put16(ae, 0x7777);
	virtq_disable_notify(&q);
	CHECK_EQ(get16(USED), 0);
	CHECK_EQ(get16(ae), 0x7777);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(ae), 0);
	avail_add(8, 0);
	avail_add(8, 0);
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ(get16(ae), 1);
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(ae), 2);

	/* last_avail across 0xffff -> 0: avail_event follows it. */
	unsigned taken = 0;
	for (unsigned i = 0; i < 65533; i++) {
		avail_add(8, 0);
		taken += virtq_pop(&q, &c) == 1;
		virtq_push(&q, c.head, 0);
	}
	CHECK_EQ(taken, 65533);
	CHECK_EQ(q.last_avail, 0xffff);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(ae), 0xffff);
	avail_add(8, 0);
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ(virtq_pop(&q, &c), 1);
	CHECK_EQ(q.last_avail, 0);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ(get16(ae), 0);
}

int main(void)
{
	CHECK_EQ(guest_mem_init(&mem, RAM), 0);
	test_init();
	test_chain();
	test_indirect();
	test_hostile();
	test_total();
	test_unpop_fill();
	test_interrupt_flags();
	test_event_idx();
	test_notify();
	guest_mem_destroy(&mem);
	return unit_report("virtqueue");
}
