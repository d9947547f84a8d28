/* Split virtqueue walker, device side (virtio 1.2 §2.7). The rules checked
 * are listed in virtqueue.h; the choices the spec leaves open:
 *
 * - Byte order: virtio 1.x rings are little endian (§2.7); vmon runs on
 *   x86-64 hosts, so ring fields are read and written natively (the static
 *   assertion below stops a big-endian build).
 * - A zero-length descriptor is harmless: it counts towards the chain's
 *   length and its position (readable before writable) but gives no iovec
 *   and its address is not looked at.
 * - The chain limit: at most `size` buffer descriptors, direct and indirect
 *   together (§2.7.5.3.1: "a descriptor chain longer than the Queue
 *   Size"); the one descriptor that names an indirect table is not a buffer
 *   and does not count. An indirect table is at most `size` entries.
 * - A chain's byte total is capped at UINT32_MAX: §2.7.5.2 forbids chains
 *   longer than 2^32 bytes, and one byte less keeps every total, and the
 *   used element's le32 len (§2.7.8), within 32 bits.
 *
 * Every guest value is read once into a local before it is checked and
 * used: a compiler barrier after the copy stops the compiler from reading
 * the guest's copy again in its place. */
#include "dev/virtio/virtqueue.h"

#include <errno.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "virtio rings are little endian; vmon reads them natively");

/* Ring layouts, §2.7.5, §2.7.6 and §2.7.8. */
#define DESC_SIZE        16
#define AVAIL_RING_OFF   4     /* flags, idx, then ring[size], used_event */
#define USED_RING_OFF    4     /* flags, idx, then ring[size], avail_event */
#define USED_ELEM_SIZE   8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct desc) == DESC_SIZE, "struct virtq_desc is 16 bytes");

static uint16_t *avail_flags(const struct virtq *q) { return (uint16_t *)q->avail; }
static uint16_t *avail_idx(const struct virtq *q) { return (uint16_t *)q->avail + 1; }
static uint16_t *avail_ring(const struct virtq *q, uint16_t i)
{
	return (uint16_t *)((uint8_t *)q->avail + AVAIL_RING_OFF) + (i & (q->size - 1));
}
/* §2.7.10: used_event is avail->ring[size], avail_event is used->ring[size]. */
static uint16_t *used_event(const struct virtq *q)
{
	return (uint16_t *)((uint8_t *)q->avail + AVAIL_RING_OFF) + q->size;
}
static uint16_t *used_flags(const struct virtq *q) { return (uint16_t *)q->used; }
static uint16_t *used_idx(const struct virtq *q) { return (uint16_t *)q->used + 1; }
static uint32_t *used_elem(const struct virtq *q, uint16_t i)
{
	return (uint32_t *)((uint8_t *)q->used + USED_RING_OFF +
			    (size_t)(i & (q->size - 1)) * USED_ELEM_SIZE);
}
static uint16_t *avail_event(const struct virtq *q)
{
	return (uint16_t *)((uint8_t *)q->used + USED_RING_OFF + (size_t)q->size * USED_ELEM_SIZE);
}

static uint16_t load16(const uint16_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static void store16(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

int virtq_init(struct virtq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	       uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	/* §2.7: a power of 2; alignments 16, 2 and 4 (table 2.7). */
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	/* Whole rings, the event fields included (§2.7: 16*size,
	 * 6+2*size, 6+8*size bytes). */
	void *desc = guest_mem_ptr(mem, desc_gpa, (uint64_t)DESC_SIZE * size);
	void *avail = guest_mem_ptr(mem, avail_gpa, AVAIL_RING_OFF + 2 * (uint64_t)size + 2);
	void *used = guest_mem_ptr(mem, used_gpa, USED_RING_OFF + USED_ELEM_SIZE * (uint64_t)size + 2);
	if (!desc || !avail || !used)
		return -EINVAL;
	q->mem = mem;
	q->size = size;
	q->desc_gpa = desc_gpa;
	q->avail_gpa = avail_gpa;
	q->used_gpa = used_gpa;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	/* A fresh queue starts at index 0 on both rings (§2.7.6, §2.7.8);
	 * nothing has been pushed, so the first window for used_event
	 * starts there too. */
	q->signalled_valid = true;
	return 0;
}

/* One descriptor, copied out of a table of n entries at host pointer table. */
static struct desc read_desc(const void *table, uint16_t i)
{
	struct desc d;
	memcpy(&d, (const uint8_t *)table + (size_t)i * DESC_SIZE, sizeof(d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return d;
}

struct walk {
	struct virtq_chain *c;
	unsigned count;       /* buffer descriptors taken, at most size */
	uint64_t total;       /* bytes, at most UINT32_MAX */
	bool writable_seen;
};

/* One buffer descriptor (not an indirect one): §2.7.4.2 order, RAM,
 * the chain's limits. */
static int take_buffer(const struct virtq *q, struct walk *w, const struct desc *d)
{
	if (++w->count > q->size)
		return -EINVAL;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	if (!writable && w->writable_seen)
		return -EINVAL;
	w->writable_seen |= writable;
	if (d->len == 0)
		return 0;
	w->total += d->len;
	if (w->total > UINT32_MAX)
		return -EINVAL;
	void *p = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!p)
		return -EINVAL;
	struct virtq_chain *c = w->c;
	/* count <= size <= VIRTQ_MAX_SIZE bounds nout + nin. */
	c->iov[c->nout + c->nin] = (struct iovec){ p, d->len };
	if (writable) {
		c->nin++;
		c->in_len += d->len;
	} else {
		c->nout++;
		c->out_len += d->len;
	}
	return 0;
}

/* The indirect table d names (§2.7.5.3): whole descriptors in RAM, no
 * further indirect one, chained by next inside the table. */
static int walk_indirect(const struct virtq *q, struct walk *w, const struct desc *d)
{
	if (!q->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return -EINVAL;
	if (d->len == 0 || d->len % DESC_SIZE || d->len / DESC_SIZE > q->size)
		return -EINVAL;
	const void *table = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!table)
		return -EINVAL;
	uint16_t n = (uint16_t)(d->len / DESC_SIZE);
	uint16_t i = 0;
	for (;;) {
		struct desc e = read_desc(table, i);
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;
		/* take_buffer's count ends a loop inside the table. */
		int r = take_buffer(q, w, &e);
		if (r < 0)
			return r;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -EINVAL;
		i = e.next;
	}
}

/* The chain starting at head: zero or more direct descriptors, optionally
 * ended by one that names an indirect table (§2.7.5.3.2). */
static int walk_chain(const struct virtq *q, struct walk *w, uint16_t head)
{
	uint16_t i = head;
	/* Each step is a buffer, counted by take_buffer, or the last one:
	 * the count ends loops. */
	for (;;) {
		struct desc d = read_desc(q->desc, i);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(q, w, &d);
		int r = take_buffer(q, w, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->size)
			return -EINVAL;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	/* §2.7.13.3: the driver publishes idx after the entries it covers;
	 * acquire pairs with its barrier. */
	uint16_t idx = __atomic_load_n(avail_idx(q), __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(idx - q->last_avail);
	if (pending == 0)
		return 0;
	/* The driver can have at most size chains outstanding. */
	if (pending > q->size)
		return -EINVAL;
	uint16_t head = load16(avail_ring(q, q->last_avail));
	if (head >= q->size)
		return -EINVAL;
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	struct walk w = { .c = c };
	int r = walk_chain(q, &w, head);
	if (r < 0)
		return r;
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_fill(struct virtq *q, unsigned i, uint16_t head, uint32_t written)
{
	/* §2.7.8: struct virtq_used_elem { le32 id; le32 len; }. */
	uint32_t *e = used_elem(q, (uint16_t)(q->used_idx + i));
	__atomic_store_n(&e[0], (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n(&e[1], written, __ATOMIC_RELAXED);
}

void virtq_flush(struct virtq *q, unsigned n)
{
	uint16_t old = q->used_idx, cur = (uint16_t)(old + n);
	q->used_idx = cur;
	/* §2.7.13 (device side of §2.7.8): entries before idx. */
	__atomic_store_n(used_idx(q), cur, __ATOMIC_RELEASE);
	/* used_idx went past the index of the last check again (2^16
	 * entries without a check): the window need_interrupt compares is
	 * lost, so the next check interrupts unconditionally. */
	if ((uint16_t)(cur - q->signalled_used) < (uint16_t)(cur - old))
		q->signalled_valid = false;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	virtq_fill(q, 0, head, written);
	virtq_flush(q, 1);
}

/* §2.7.10's vring_need_event: did moving from old to cur write the
 * entry at index event? That is, event is in [old, cur) modulo 2^16. */
static bool need_event(uint16_t event, uint16_t cur, uint16_t old)
{
	return (uint16_t)(cur - event - 1) < (uint16_t)(cur - old);
}

bool virtq_need_interrupt(struct virtq *q)
{
	/* The used idx store must be visible before the driver's flags or
	 * used_event is read: the driver writes those, then reads used idx
	 * (§2.7.7, §2.7.10), so both sides need a full barrier. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(avail_flags(q)) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	/* §2.7.7 with EVENT_IDX: notify when an entry was written at index
	 * used_event, among those written since the previous check. */
	uint16_t old = q->signalled_used, cur = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = cur;
	q->signalled_valid = true;
	if (!valid)
		return true;
	return need_event(load16(used_event(q)), cur, old);
}

void virtq_disable_notify(struct virtq *q)
{
	/* With EVENT_IDX the driver notifies only when it makes the chain at
	 * avail_event available; left where it is, avail_event is behind the
	 * chains the device is about to take, which suppresses notifications
	 * until enable_notify moves it (§2.7.10). */
	if (!q->event_idx)
		store16(used_flags(q), load16(used_flags(q)) | VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (q->event_idx)
		store16(avail_event(q), q->last_avail);
	else
		store16(used_flags(q), load16(used_flags(q)) & ~VIRTQ_USED_F_NO_NOTIFY);
	/* The driver writes avail idx, then reads flags/avail_event; the
	 * device writes those, then reads avail idx: a chain published in
	 * between is seen by one side or the other only with a full
	 * barrier on each (§2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(avail_idx(q), __ATOMIC_ACQUIRE) != q->last_avail;
}

/* Copies between a flat buffer and iov[first..first+n), from byte off. */
static uint64_t chain_copy(const struct iovec *iov, unsigned n, uint64_t off, void *buf,
			   uint64_t len, bool to_chain)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		uint64_t k = l - off;
		if (k > len - done)
			k = len - done;
		uint8_t *g = (uint8_t *)iov[i].iov_base + off;
		uint8_t *b = (uint8_t *)buf + done;
		if (to_chain)
			memcpy(g, b, k);
		else
			memcpy(b, g, k);
		done += k;
		off = 0;
	}
	return done;
}

uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len)
{
	return chain_copy(c->iov, c->nout, off, dst, len, false);
}

uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, uint64_t len)
{
	return chain_copy(c->iov + c->nout, c->nin, off, (void *)src, len, true);
}
