/* virtio-blk: the request parser fed hostile chains (built directly as
 * struct virtq_chain, no ring), the configuration layout, and the device
 * end to end over a real image file with the transport, the queue walker
 * and the event loop replaced by recording fakes below (test-only: this
 * binary defines the few functions of theirs that virtio_blk.c calls, so
 * the linker takes them from here instead of the library). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <unistd.h>

#include "dev/virtio/virtio_blk.h"
#include "util/event_loop.h"
#include "unit.h"

/* ---- chains ---- */

static uint8_t buf[1 << 16];

static void chain_reset(struct virtq_chain *c)
{
	memset(c, 0, offsetof(struct virtq_chain, iov));
}

/* Appends a buffer; readable ones must all come before writable ones. */
static void chain_add(struct virtq_chain *c, void *p, uint64_t len, int writable)
{
	c->iov[c->nout + c->nin] = (struct iovec){ p, len };
	if (writable) {
		c->nin++;
		c->in_len += len;
	} else {
		c->nout++;
		c->out_len += len;
	}
}

static void put_hdr(uint8_t *p, uint32_t type, uint64_t sector)
{
	memset(p, 0, 16);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
}

static void put_seg(uint8_t *p, uint64_t sector, uint32_t n, uint32_t flags)
{
	memcpy(p, &sector, 8);
	memcpy(p + 8, &n, 4);
	memcpy(p + 12, &flags, 4);
}

static struct virtq_chain c;
static struct blk_req r;

#define CAP 2048 /* sectors: 1 MiB */

/* A plain request: header | data (dir) | status. */
static enum blk_action simple(uint32_t type, uint64_t sector, uint64_t len, int data_writable, bool ro)
{
	chain_reset(&c);
	put_hdr(buf, type, sector);
	chain_add(&c, buf, 16, 0);
	if (len && !data_writable)
		chain_add(&c, buf + 16, len, 0);
	if (len && data_writable)
		chain_add(&c, buf + 16, len, 1);
	chain_add(&c, buf + 0x8000, 1, 1);
	return virtio_blk_parse(&c, CAP, ro, &r);
}

static void test_rw(void)
{
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, 3, 4096, 1, false), BLK_IO);
	CHECK_EQ(r.op, DISK_READ);
	CHECK_EQ(r.offset, 3 * 512);
	CHECK_EQ(r.len, 4096);
	CHECK_EQ(r.niov, 1);
	CHECK(r.iov[0].iov_base == buf + 16);
	CHECK(r.status_byte == buf + 0x8000);
	CHECK_EQ(r.written, 4097);

	CHECK_EQ(simple(VIRTIO_BLK_T_OUT, CAP - 1, 512, 0, false), BLK_IO);
	CHECK_EQ(r.op, DISK_WRITE);
	CHECK_EQ(r.written, 1);

	/* wrong direction: IN with readable data, OUT with writable data */
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, 0, 512, 0, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK(r.status_byte == buf + 0x8000);
	CHECK_EQ(simple(VIRTIO_BLK_T_OUT, 0, 512, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);

	/* not whole sectors */
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, 0, 100, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_OUT, 0, 513, 0, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);

	/* the disk's end, and sectors whose byte offset would overflow */
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, CAP - 1, 1024, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, CAP, 512, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, UINT64_MAX, 512, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, 0, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, UINT64_MAX - 1, 1024, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	/* no data: nothing to do, if the sector is on the disk */
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, CAP, 0, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_OK);
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, CAP + 1, 0, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);

	/* a read-only disk refuses writes (§5.2.6.2) and still reads */
	CHECK_EQ(simple(VIRTIO_BLK_T_OUT, 0, 512, 0, true), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_IN, 0, 512, 1, true), BLK_IO);
	CHECK_EQ(simple(VIRTIO_BLK_T_FLUSH, 0, 0, 0, true), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_OK);

	/* more data than seg_max * size_max: the lengths are never touched,
	 * only the header and the status byte are */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_IN, 0);
	chain_add(&c, buf, 16, 0);
	chain_add(&c, buf + 16, VIRTIO_BLK_MAX_DATA, 1);
	chain_add(&c, buf + 16, 512, 1);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, UINT64_MAX, false, &r), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
}

static void test_framing(void)
{
	/* Header split 3 + 13 bytes, the last header byte's descriptor also
	 * holding the first 100 data bytes; the data then in 412 + 512 bytes. */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_OUT, 5);
	chain_add(&c, buf, 3, 0);
	chain_add(&c, buf + 3, 13 + 100, 0);
	chain_add(&c, buf + 1000, 412, 0);
	chain_add(&c, buf + 2000, 512, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_IO);
	CHECK_EQ(r.op, DISK_WRITE);
	CHECK_EQ(r.offset, 5 * 512);
	CHECK_EQ(r.len, 1024);
	CHECK_EQ(r.niov, 3);
	CHECK(r.iov[0].iov_base == buf + 16);
	CHECK_EQ(r.iov[0].iov_len, 100);
	CHECK(r.iov[1].iov_base == buf + 1000);
	CHECK_EQ(r.iov[2].iov_len, 512);

	/* One byte per header descriptor, then a read whose status byte shares
	 * the descriptor with the last data. */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_IN, 7);
	for (int i = 0; i < 16; i++)
		chain_add(&c, buf + i, 1, 0);
	chain_add(&c, buf + 100, 1000, 1);
	chain_add(&c, buf + 2000, 24 + 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_IO);
	CHECK_EQ(r.offset, 7 * 512);
	CHECK_EQ(r.len, 1024);
	CHECK_EQ(r.niov, 2);
	CHECK_EQ(r.iov[1].iov_len, 24);
	CHECK(r.status_byte == buf + 2024);
	CHECK_EQ(r.written, 1025);

	/* The whole request in one readable and one writable descriptor whose
	 * only byte is the status; and a status byte alone after a zero-length
	 * writable descriptor. */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_OUT, 0);
	chain_add(&c, buf, 16 + 512, 0);
	chain_add(&c, buf + 0x8000, 0, 1);
	chain_add(&c, buf + 0x8001, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_IO);
	CHECK_EQ(r.niov, 1);
	CHECK(r.status_byte == buf + 0x8001);

	/* A short header still gets its status. */
	chain_reset(&c);
	chain_add(&c, buf, 15, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK(r.status_byte == buf + 0x8000);

	/* No status byte at all: nothing can answer it. */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_FLUSH, 0);
	chain_add(&c, buf, 16, 0);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
	chain_add(&c, buf + 0x8000, 0, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
	chain_reset(&c);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
	/* Counts or lengths that do not match the buffers (not from the walker,
	 * but the parser does not trust them either). */
	chain_reset(&c);
	chain_add(&c, buf, 16, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	c.in_len = 5;
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
	c.in_len = 1;
	c.nout = VIRTQ_MAX_SIZE;
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
	c.nout = 1;
	c.out_len = 40;
	put_hdr(buf, VIRTIO_BLK_T_OUT, 0);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_ANSWER); /* 24 bytes: not whole sectors */
	c.out_len = 16 + 512;
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_BROKEN);
}

static void test_types(void)
{
	static const uint32_t unknown[] = { 2, 3, 5, 10, 14, 15, 16, 0x80000000u, 0xffffffffu };
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK_EQ(simple(unknown[i], 0, 0, 0, false), BLK_ANSWER);
		CHECK_EQ(r.status, VIRTIO_BLK_S_UNSUPP);
		CHECK_EQ(r.written, 1);
	}
	CHECK_EQ(simple(VIRTIO_BLK_T_FLUSH, 12345, 0, 0, false), BLK_IO); /* sector unused */
	CHECK_EQ(r.op, DISK_FLUSH);
	CHECK_EQ(simple(VIRTIO_BLK_T_FLUSH, 0, 512, 0, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_FLUSH, 0, 512, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);

	/* GET_ID: 20 bytes, fewer if the buffer is smaller; split buffers */
	static const char id[20] = "vmon-disk3";
	CHECK_EQ(simple(VIRTIO_BLK_T_GET_ID, 0, 20, 1, false), BLK_GET_ID);
	CHECK_EQ(r.len, 20);
	CHECK_EQ(r.written, 21);
	memset(buf + 16, 0xee, 64);
	CHECK_EQ(virtio_blk_write_id(&r, id), 20);
	CHECK(memcmp(buf + 16, id, 20) == 0);
	CHECK_EQ(buf[36], 0xee);
	CHECK_EQ(simple(VIRTIO_BLK_T_GET_ID, 0, 64, 1, false), BLK_GET_ID);
	CHECK_EQ(r.len, 20);
	CHECK_EQ(simple(VIRTIO_BLK_T_GET_ID, 0, 4, 1, false), BLK_GET_ID);
	CHECK_EQ(r.len, 4);
	CHECK_EQ(r.written, 5);
	memset(buf + 16, 0xee, 64);
	CHECK_EQ(virtio_blk_write_id(&r, id), 4);
	CHECK(memcmp(buf + 16, "vmon", 4) == 0);
	CHECK_EQ(buf[20], 0xee);
	CHECK_EQ(simple(VIRTIO_BLK_T_GET_ID, 0, 0, 1, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(simple(VIRTIO_BLK_T_GET_ID, 0, 20, 0, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_GET_ID, 0);
	chain_add(&c, buf, 16, 0);
	chain_add(&c, buf + 100, 7, 1);
	chain_add(&c, buf + 200, 13 + 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, true, &r), BLK_GET_ID);
	CHECK(r.status_byte == buf + 213);
	CHECK_EQ(virtio_blk_write_id(&r, id), 20);
	CHECK(memcmp(buf + 100, "vmon-di", 7) == 0);
	CHECK(memcmp(buf + 200, "sk3\0\0\0\0\0\0\0\0\0\0", 13) == 0);
}

/* header | n segment bytes | status */
static enum blk_action range(uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags, unsigned bytes, bool ro)
{
	chain_reset(&c);
	put_hdr(buf, type, 0);
	put_seg(buf + 16, sector, nsec, flags);
	put_seg(buf + 32, 0, 1, 0);
	chain_add(&c, buf, 16, 0);
	if (bytes)
		chain_add(&c, buf + 16, bytes, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	return virtio_blk_parse(&c, CAP, ro, &r);
}

static void test_ranges(void)
{
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, 8, 16, 0, 16, false), BLK_IO);
	CHECK_EQ(r.op, DISK_DISCARD);
	CHECK_EQ(r.offset, 8 * 512);
	CHECK_EQ(r.len, 16 * 512);
	CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, 0, CAP, VIRTIO_BLK_WZ_FLAG_UNMAP, 16, false), BLK_IO);
	CHECK_EQ(r.op, DISK_WRITE_ZEROES);
	CHECK(r.unmap);
	CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 16, false), BLK_IO);
	CHECK(!r.unmap);
	/* segment counts: 1 is the maximum offered; no segment; a partial one */
	static const unsigned bad_bytes[] = { 0, 8, 15, 17, 32 };
	for (unsigned i = 0; i < sizeof(bad_bytes) / sizeof(bad_bytes[0]); i++) {
		CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, 0, 1, 0, bad_bytes[i], false), BLK_ANSWER);
		CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
		CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0, bad_bytes[i], false), BLK_ANSWER);
		CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	}
	/* flags (§5.2.6.2): unmap on a discard and unknown bits are UNSUPP */
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, 0, 1, VIRTIO_BLK_WZ_FLAG_UNMAP, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 2, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_UNSUPP);
	/* ranges */
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, CAP - 1, 2, 0, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, UINT64_MAX, 2, 0, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 1, 0xffffffffu, 0, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	chain_reset(&c);
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, CAP, 0, 0, 16, false), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_OK);
	/* more sectors than advertised, on a disk big enough for them */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_DISCARD, 0);
	put_seg(buf + 16, 0, VIRTIO_BLK_MAX_DISCARD_SECTORS + 1, 0);
	chain_add(&c, buf, 32, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, UINT64_MAX, false, &r), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	put_seg(buf + 16, 0, VIRTIO_BLK_MAX_DISCARD_SECTORS, 0);
	CHECK_EQ(virtio_blk_parse(&c, UINT64_MAX, false, &r), BLK_IO);
	/* the segment split across descriptors, sharing one with the header */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	put_seg(buf + 16, 100, 4, VIRTIO_BLK_WZ_FLAG_UNMAP);
	chain_add(&c, buf, 20, 0);
	chain_add(&c, buf + 20, 12, 0);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_IO);
	CHECK_EQ(r.offset, 100 * 512);
	CHECK_EQ(r.len, 4 * 512);
	/* read-only */
	CHECK_EQ(range(VIRTIO_BLK_T_DISCARD, 0, 1, 0, 16, true), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	CHECK_EQ(range(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0, 16, true), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
	/* writable data or more than the status byte writable */
	chain_reset(&c);
	put_hdr(buf, VIRTIO_BLK_T_DISCARD, 0);
	chain_add(&c, buf, 16, 0);
	chain_add(&c, buf + 16, 16, 1);
	chain_add(&c, buf + 0x8000, 1, 1);
	CHECK_EQ(virtio_blk_parse(&c, CAP, false, &r), BLK_ANSWER);
	CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
}

static uint32_t le32_at(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void test_config(void)
{
	uint8_t cfg[VIRTIO_BLK_CONFIG_SIZE];
	struct virtio_blk_geometry g = { .capacity = 0x123456789ull, .num_queues = 4, .discard = true };
	virtio_blk_config_build(&g, cfg);
	uint64_t cap;
	memcpy(&cap, cfg, 8);
	CHECK_EQ(cap, 0x123456789ull);
	CHECK_EQ(le32_at(cfg + 8), VIRTIO_BLK_SIZE_MAX);
	CHECK_EQ(le32_at(cfg + 12), VIRTIO_BLK_SEG_MAX);
	CHECK_EQ(le32_at(cfg + 20), 512);
	CHECK_EQ(cfg[34] | cfg[35] << 8, 4);
	CHECK_EQ(le32_at(cfg + 36), VIRTIO_BLK_MAX_DISCARD_SECTORS);
	CHECK_EQ(le32_at(cfg + 40), 1);
	CHECK_EQ(le32_at(cfg + 44), 8);
	CHECK_EQ(le32_at(cfg + 48), VIRTIO_BLK_MAX_WZ_SECTORS);
	CHECK_EQ(le32_at(cfg + 52), 1);
	CHECK_EQ(cfg[56], 1);
	g.discard = false;
	virtio_blk_config_build(&g, cfg);
	CHECK_EQ(le32_at(cfg + 36) | le32_at(cfg + 40) | cfg[56], 0);
}

/* ---- the device, over recording fakes of the transport, the queue
 * walker and the event loop ---- */

#define MAXC 400
static struct virtq_chain pending[MAXC];
static unsigned npending, popped, unpopped;
static struct { uint16_t head; uint32_t written; } pushes[1024];
static unsigned npush, interrupts, resets_asked;
static const char *reset_why;
static int loop_fd = -1;
static event_fn *loop_fn;
static void *loop_opaque;
static struct virtq fake_vq[VIRTIO_MAX_QUEUES];
static struct event_loop *fake_loop = (struct event_loop *)&loop_fd;

int virtq_pop(struct virtq *q, struct virtq_chain *out)
{
	if (popped == npending)
		return 0;
	if (pending[popped].nout == 0xdead) {
		popped++;
		return -EINVAL;
	}
	*out = pending[popped++];
	return 1;
}
void virtq_unpop(struct virtq *q, unsigned n) { popped -= n; unpopped += n; }
void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	pushes[npush].head = head;
	pushes[npush++].written = written;
}
void virtq_disable_notify(struct virtq *q) {}
bool virtq_enable_notify(struct virtq *q) { return false; }
struct virtq *virtio_pci_queue(struct virtio_pci *t, unsigned q) { return &fake_vq[q]; }
void virtio_pci_queue_interrupt(struct virtio_pci *t, unsigned q) { __atomic_add_fetch(&interrupts, 1, __ATOMIC_SEQ_CST); }
void virtio_pci_needs_reset(struct virtio_pci *t, const char *why) { resets_asked++; reset_why = why; }
int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn *fn, void *opaque)
{
	loop_fd = fd;
	loop_fn = fn;
	loop_opaque = opaque;
	return 0;
}
void event_loop_remove(struct event_loop *l, int fd) { loop_fd = -1; }

/* The I/O thread's part: wait for the disk and run its callback until
 * want pushes happened. */
static void pump(unsigned want)
{
	for (int tries = 0; npush < want && tries < 500; tries++) {
		struct pollfd p = { .fd = loop_fd, .events = POLLIN };
		if (poll(&p, 1, 10) == 1)
			loop_fn(loop_opaque, EPOLLIN);
	}
}

static uint8_t mem[1 << 20]; /* "guest RAM" */

static void offer(uint32_t type, uint64_t sector, uint8_t *data, uint64_t len, int writable, uint8_t *status)
{
	struct virtq_chain *p = &pending[npending];
	chain_reset(p);
	p->head = (uint16_t)npending;
	uint8_t *h = status - 16;
	put_hdr(h, type, sector);
	chain_add(p, h, 16, 0);
	if (len)
		chain_add(p, data, len, writable);
	chain_add(p, status, 1, 1);
	npending++;
}

static struct virtio_blk *reset_dev;
static unsigned push_at_reset;
static void *reset_thread(void *arg)
{
	virtio_blk_ops(reset_dev)->reset(reset_dev);
	push_at_reset = npush;
	return NULL;
}

static void test_device(const char *path, const char *path_ro)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK_EQ(ftruncate(fd, 1 << 20), 0);
	struct virtio_blk *b;
	CHECK_EQ(virtio_blk_create(path, false, 2, 0, fake_loop, &b), 0);
	const struct virtio_device_ops *ops = virtio_blk_ops(b);
	CHECK(loop_fd >= 0);
	CHECK_EQ(ops->device_id, VIRTIO_ID_BLOCK);
	CHECK_EQ(ops->pci_class, 0x010000);
	CHECK_EQ(ops->num_queues, 2);
	CHECK_EQ(ops->queue_max_size, 256);
	uint64_t want = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_DISCARD |
			1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	CHECK_EQ(ops->features, want);
	uint8_t cfgb[8];
	ops->config_read(b, 0, 8, cfgb);
	uint64_t cap;
	memcpy(&cap, cfgb, 8);
	CHECK_EQ(cap, 2048);
	struct virtio_blk *b2;
	fprintf(stderr, "(expected:) ");
	CHECK_EQ(virtio_blk_create(path, true, 1, 1, fake_loop, &b2), -EWOULDBLOCK);

	virtio_blk_attach(b, (struct virtio_pci *)&loop_fd);
	fake_vq[0].size = fake_vq[1].size = 256;
	/* Before DRIVER_OK a notification does nothing. */
	offer(VIRTIO_BLK_T_GET_ID, 0, mem + 0x1000, 20, 1, mem + 0x1100);
	ops->notify(b, 0);
	CHECK_EQ(popped, 0);
	CHECK_EQ(ops->start(b, ops->features), 0);

	/* GET_ID and an unknown type are answered at once. */
	offer(99, 0, NULL, 0, 0, mem + 0x1200);
	mem[0x1100] = mem[0x1200] = 0xff;
	ops->notify(b, 0);
	CHECK_EQ(npush, 2);
	CHECK(memcmp(mem + 0x1000, "vmon-disk0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
	CHECK_EQ(mem[0x1100], VIRTIO_BLK_S_OK);
	CHECK_EQ(pushes[0].written, 21);
	CHECK_EQ(mem[0x1200], VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(pushes[1].head, 1);
	CHECK(interrupts >= 1);

	/* A write, then a flush, then a read of it back through the file. */
	for (int i = 0; i < 1024; i++)
		mem[0x2000 + i] = (uint8_t)(i * 13 + 1);
	offer(VIRTIO_BLK_T_OUT, 4, mem + 0x2000, 1024, 0, mem + 0x2500);
	ops->notify(b, 1);
	pump(3);
	CHECK_EQ(npush, 3);
	CHECK_EQ(mem[0x2500], VIRTIO_BLK_S_OK);
	offer(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, mem + 0x2600);
	ops->notify(b, 1);
	pump(4);
	CHECK_EQ(mem[0x2600], VIRTIO_BLK_S_OK);
	uint8_t chk[1024];
	CHECK_EQ(pread(fd, chk, 1024, 4 * 512), 1024);
	CHECK(memcmp(chk, mem + 0x2000, 1024) == 0);
	offer(VIRTIO_BLK_T_IN, 4, mem + 0x3000, 1024, 1, mem + 0x3500);
	ops->notify(b, 0);
	pump(5);
	CHECK_EQ(npush, 5);
	CHECK_EQ(pushes[4].written, 1025);
	CHECK(memcmp(mem + 0x3000, mem + 0x2000, 1024) == 0);
	/* Past the end is answered with IOERR, the disk untouched. */
	offer(VIRTIO_BLK_T_IN, 2048, mem + 0x3000, 512, 1, mem + 0x3600);
	ops->notify(b, 0);
	CHECK_EQ(npush, 6);
	CHECK_EQ(mem[0x3600], VIRTIO_BLK_S_IOERR);
	CHECK_EQ(pushes[5].written, 1);

	/* 300 requests offered at once (a driver may repeat heads): only 256
	 * are taken while all are in flight, the rest once slots free up. */
	unsigned base = npush, first = npending;
	for (int i = 0; i < 300; i++)
		offer(VIRTIO_BLK_T_IN, (uint64_t)i % 2048, mem + 0x10000 + i * 512, 512, 1, mem + 0x8000 + i * 17 + 16);
	ops->notify(b, 1);
	CHECK_EQ(popped - first, 256);
	pump(base + 300);
	CHECK_EQ(npush - base, 300);
	CHECK_EQ(popped, npending);

	/* Reset while requests are in flight: it returns after they completed
	 * on the "I/O thread" (here the main thread, pumping). */
	base = npush;
	for (int i = 0; i < 32; i++)
		offer(VIRTIO_BLK_T_OUT, (uint64_t)i * 8, mem + 0x40000, 4096, 0, mem + 0x9000 + i * 17 + 16);
	ops->notify(b, 0);
	reset_dev = b;
	pthread_t th;
	pthread_create(&th, NULL, reset_thread, NULL);
	pump(base + 32);
	pthread_join(th, NULL);
	CHECK_EQ(push_at_reset, base + 32);
	/* After reset nothing is processed until the next start. */
	offer(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, mem + 0xa000);
	ops->notify(b, 0);
	CHECK_EQ(popped, npending - 1);

	/* A ring the walker refuses, and a chain without a status byte: both
	 * ask for a reset once, and the device stops. */
	CHECK_EQ(ops->start(b, ops->features & ~(1ull << VIRTIO_BLK_F_FLUSH)), 0); /* write-through */
	ops->notify(b, 0);
	pump(npush + 1);
	CHECK_EQ(mem[0xa000], VIRTIO_BLK_S_OK);
	offer(VIRTIO_BLK_T_OUT, 0, mem + 0x40000, 512, 0, mem + 0xa100);
	ops->notify(b, 0);
	pump(npush + 1);
	CHECK_EQ(mem[0xa100], VIRTIO_BLK_S_OK); /* synced before done */
	struct virtq_chain *p = &pending[npending++];
	chain_reset(p);
	put_hdr(mem + 0xb000, VIRTIO_BLK_T_IN, 0);
	chain_add(p, mem + 0xb000, 16, 0);
	offer(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, mem + 0xb100);
	unsigned before = npush;
	ops->notify(b, 0);
	CHECK_EQ(resets_asked, 1);
	CHECK(reset_why != NULL);
	CHECK_EQ(npush, before);
	ops->notify(b, 0);
	CHECK_EQ(resets_asked, 1);
	CHECK_EQ(popped, npending - 1);
	ops->reset(b);
	CHECK_EQ(ops->start(b, ops->features), 0);
	ops->notify(b, 0);
	pump(before + 1);
	CHECK_EQ(mem[0xb100], VIRTIO_BLK_S_OK);
	/* A 16-entry queue has 16 requests in flight at most. */
	ops->reset(b);
	fake_vq[1].size = 16;
	CHECK_EQ(ops->start(b, ops->features), 0);
	base = npush;
	first = npending;
	for (int i = 0; i < 40; i++)
		offer(VIRTIO_BLK_T_IN, 0, mem + 0x10000 + i * 512, 512, 1, mem + 0x8000 + i * 17 + 16);
	ops->notify(b, 1);
	CHECK_EQ(popped - first, 16);
	CHECK_EQ(ops->start(b, ops->features), 0); /* again, no reset: changes nothing */
	pump(base + 40);
	CHECK_EQ(npush - base, 40);
	pending[npending].nout = 0xdead;
	npending++;
	ops->notify(b, 1);
	CHECK_EQ(resets_asked, 2);
	virtio_blk_destroy(b);
	CHECK_EQ(loop_fd, -1);

	/* Read-only: RO offered, no write-zeroes or discard; a write gets IOERR
	 * and the file is untouched. */
	int rfd = open(path_ro, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK_EQ(ftruncate(rfd, 4096), 0);
	CHECK_EQ(virtio_blk_create(path_ro, true, 1, 1, fake_loop, &b), 0);
	ops = virtio_blk_ops(b);
	CHECK_EQ(ops->features, 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
				1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_RO);
	virtio_blk_attach(b, NULL);
	CHECK_EQ(ops->start(b, ops->features), 0);
	memset(mem + 0x2000, 0x77, 512);
	offer(VIRTIO_BLK_T_OUT, 0, mem + 0x2000, 512, 0, mem + 0xc000);
	ops->notify(b, 0);
	CHECK_EQ(mem[0xc000], VIRTIO_BLK_S_IOERR);
	CHECK_EQ(pread(rfd, chk, 512, 0), 512);
	CHECK_EQ(chk[0] | chk[511], 0);
	virtio_blk_destroy(b);
	close(rfd);
	close(fd);
	CHECK_EQ(virtio_blk_create(path, false, 0, 0, fake_loop, &b), -EINVAL);
	CHECK_EQ(virtio_blk_create(path, false, VIRTIO_MAX_QUEUES + 1, 0, fake_loop, &b), -EINVAL);
}

int main(void)
{
	test_rw();
	test_framing();
	test_types();
	test_ranges();
	test_config();
	const char *tmp = getenv("TMPDIR");
	char path[256], path_ro[256];
	snprintf(path, sizeof(path), "%s/vmon-test-blk.%d", tmp ? tmp : "/tmp", (int)getpid());
	snprintf(path_ro, sizeof(path_ro), "%s/vmon-test-blk-ro.%d", tmp ? tmp : "/tmp", (int)getpid());
	test_device(path, path_ro);
	unlink(path);
	unlink(path_ro);
	return unit_report("test_virtio_blk");
}
