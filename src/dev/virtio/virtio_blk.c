/* The virtio-blk device (virtio 1.2 §5.2): queues in, disk I/O out. The
 * threads and the lock: virtio_blk.h. */
#include "dev/virtio/virtio_blk.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "util/event_loop.h"
#include "util/log.h"

struct blk_queue;

/* One request in flight; a queue has one per ring entry, so no allocation
 * on the I/O path. io comes first: the disk hands it back. */
struct blk_slot {
	struct disk_io io;
	struct blk_queue *q;
	uint16_t head;
	struct blk_slot *next_free;
	struct blk_req req;
};

struct blk_queue {
	struct virtq *vq;          /* the transport's, from start until reset */
	struct blk_slot *slots;    /* VIRTIO_BLK_QUEUE_SIZE of them */
	struct blk_slot *free;
	unsigned inflight;
	bool stalled;              /* out of slots: drain again on a completion */
	bool irq;                  /* pushed since the last interrupt */
};

struct virtio_blk {
	struct virtio_device_ops ops;
	struct disk *disk;
	struct event_loop *io;
	struct virtio_pci *t;
	const char *path;
	uint64_t capacity;         /* sectors */
	bool ro;
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	char id[VIRTIO_BLK_ID_BYTES];

	pthread_mutex_t lock;      /* everything below */
	pthread_cond_t idle;       /* busy and every inflight reached 0 */
	bool running;              /* between start and reset */
	bool broken;               /* needs reset: process nothing */
	bool write_through;        /* FLUSH not negotiated (§5.2.6.2 case 1) */
	unsigned busy;             /* I/O-thread handlers still working */
	struct blk_queue q[VIRTIO_MAX_QUEUES];
	struct virtq_chain chain;  /* the I/O thread's scratch */
};

/* Work done under the lock that must reach the transport after it. */
struct blk_after {
	unsigned irq_mask;
	const char *broken;
};

static void blk_finish(struct blk_queue *q, struct blk_slot *s, uint8_t status)
{
	*s->req.status_byte = status;
	virtq_push(q->vq, s->head, status == VIRTIO_BLK_S_OK ? s->req.written : 1);
	q->irq = true;
	s->next_free = q->free;
	q->free = s;
	q->inflight--;
}

static void blk_io_done(struct disk_io *io, int res)
{
	struct blk_slot *s = (struct blk_slot *)io;
	if (res < 0)
		log_debug("virtio-blk: request type %u at byte %llu: %s", s->req.type,
			  (unsigned long long)s->req.offset, strerror(-res));
	blk_finish(s->q, s, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* Takes chains until the queue is empty or out of slots. Lock held. */
static void blk_drain(struct virtio_blk *b, unsigned qi, struct blk_after *after)
{
	struct blk_queue *q = &b->q[qi];
	if (!q->vq || b->broken)
		return;
	q->stalled = false;
	for (;;) {
		virtq_disable_notify(q->vq);
		for (;;) {
			if (!q->free) {
				/* Every slot in flight (a driver can offer a head twice):
				 * completions resume the queue. */
				q->stalled = true;
				return;
			}
			int r = virtq_pop(q->vq, &b->chain);
			if (r == 0)
				break;
			if (r < 0) {
				b->broken = true;
				after->broken = "malformed descriptor chain";
				return;
			}
			struct blk_slot *s = q->free;
			q->free = s->next_free;
			q->inflight++;
			s->head = b->chain.head;
			enum blk_action a = virtio_blk_parse(&b->chain, b->capacity, b->ro, &s->req);
			if (a == BLK_BROKEN) {
				b->broken = true;
				after->broken = "request without a status byte";
				s->next_free = q->free;
				q->free = s;
				q->inflight--;
				return;
			}
			if (a == BLK_ANSWER) {
				blk_finish(q, s, s->req.status);
				continue;
			}
			if (a == BLK_GET_ID) {
				virtio_blk_write_id(&s->req, b->id);
				blk_finish(q, s, VIRTIO_BLK_S_OK);
				continue;
			}
			s->io.op = s->req.op;
			s->io.offset = s->req.offset;
			s->io.iov = s->req.iov;
			s->io.iovcnt = s->req.niov;
			s->io.len = s->req.len;
			s->io.unmap = s->req.unmap;
			s->io.sync = b->write_through;
			s->io.done = blk_io_done;
			int e = disk_submit(b->disk, &s->io);
			if (e < 0) {
				/* Cannot happen (the ring holds every slot), but answer. */
				log_warn("virtio-blk: %s: submit: %s", b->path, strerror(-e));
				blk_finish(q, s, VIRTIO_BLK_S_IOERR);
			}
		}
		if (!virtq_enable_notify(q->vq))
			return;
	}
}

/* Interrupts and needs-reset, after the lock was dropped; then the reset
 * that may be waiting for this handler can go on. */
static void blk_after(struct virtio_blk *b, struct blk_after *after)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (after->irq_mask & (1u << i))
			virtio_pci_queue_interrupt(b->t, i);
	if (after->broken)
		virtio_pci_needs_reset(b->t, after->broken);
	pthread_mutex_lock(&b->lock);
	if (--b->busy == 0)
		pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->lock);
}

static void blk_collect_irqs(struct virtio_blk *b, struct blk_after *after)
{
	for (unsigned i = 0; i < b->ops.num_queues; i++)
		if (b->q[i].irq) {
			b->q[i].irq = false;
			after->irq_mask |= 1u << i;
		}
}

/* ops->notify: the driver made buffers available on queue qi. */
static void blk_notify(void *opaque, unsigned qi)
{
	struct virtio_blk *b = opaque;
	struct blk_after after = { 0 };
	if (qi >= b->ops.num_queues)
		return;
	pthread_mutex_lock(&b->lock);
	if (!b->running) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	b->busy++;
	blk_drain(b, qi, &after);
	disk_kick(b->disk);
	blk_collect_irqs(b, &after);
	pthread_mutex_unlock(&b->lock);
	blk_after(b, &after);
}

/* The disk's completion eventfd (I/O thread). */
static void blk_disk_event(void *opaque, uint32_t events)
{
	struct virtio_blk *b = opaque;
	struct blk_after after = { 0 };
	pthread_mutex_lock(&b->lock);
	b->busy++;
	disk_complete(b->disk);
	bool kick = false;
	for (unsigned i = 0; i < b->ops.num_queues; i++)
		if (b->q[i].stalled && b->running) {
			blk_drain(b, i, &after);
			kick = true;
		}
	if (kick)
		disk_kick(b->disk);
	blk_collect_irqs(b, &after);
	pthread_mutex_unlock(&b->lock);
	blk_after(b, &after);
}

static void blk_config_read(void *opaque, unsigned off, unsigned size, uint8_t *out)
{
	struct virtio_blk *b = opaque;
	if (off <= sizeof(b->config) && size <= sizeof(b->config) - off)
		memcpy(out, b->config + off, size);
}

/* n slots free: at most n requests of the queue in flight, n its size (a
 * driver that offers a head twice gets no more). */
static void blk_reset_slots(struct blk_queue *q, unsigned n)
{
	q->free = NULL;
	for (unsigned i = n; i-- > 0;) {
		q->slots[i].next_free = q->free;
		q->free = &q->slots[i];
	}
	q->inflight = 0;
	q->stalled = false;
	q->irq = false;
}

/* ops->start: DRIVER_OK (vCPU thread, no transport lock held; the
 * transport's control lock keeps a reset out until it returns). */
static int blk_start(void *opaque, uint64_t features)
{
	struct virtio_blk *b = opaque;
	pthread_mutex_lock(&b->lock);
	if (b->running) {
		/* Started twice without a reset: keep the requests in flight. */
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	b->write_through = !(features & (1ull << VIRTIO_BLK_F_FLUSH));
	for (unsigned i = 0; i < b->ops.num_queues; i++) {
		struct virtq *vq = virtio_pci_queue(b->t, i);
		b->q[i].vq = vq;
		blk_reset_slots(&b->q[i], vq && vq->size && vq->size < VIRTIO_BLK_QUEUE_SIZE ? vq->size
											: VIRTIO_BLK_QUEUE_SIZE);
	}
	b->broken = false;
	b->running = true;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static unsigned blk_inflight(const struct virtio_blk *b)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->ops.num_queues; i++)
		n += b->q[i].inflight;
	return n;
}

/* ops->reset (vCPU thread, no transport lock): stop taking requests, wait
 * for the ones in flight (the I/O thread completes them; the wait releases
 * the mutex), then forget the queues (§2.4). */
static void blk_reset(void *opaque)
{
	struct virtio_blk *b = opaque;
	pthread_mutex_lock(&b->lock);
	b->running = false;
	while (b->busy || blk_inflight(b))
		pthread_cond_wait(&b->idle, &b->lock);
	for (unsigned i = 0; i < b->ops.num_queues; i++)
		b->q[i].vq = NULL;
	b->broken = false;
	pthread_mutex_unlock(&b->lock);
}

int virtio_blk_create(const char *path, bool ro, unsigned nqueues, unsigned index, struct event_loop *io,
		      struct virtio_blk **out)
{
	if (nqueues < 1 || nqueues > VIRTIO_MAX_QUEUES) {
		log_error("--disk %s: %u queues (1..%u)", path, nqueues, VIRTIO_MAX_QUEUES);
		return -EINVAL;
	}
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		log_error("--disk %s: out of memory", path);
		return -ENOMEM;
	}
	b->path = path;
	b->ro = ro;
	b->io = io;
	int r = disk_open(path, ro, nqueues * VIRTIO_BLK_QUEUE_SIZE, &b->disk);
	if (r < 0) {
		free(b);
		return r;
	}
	for (unsigned i = 0; i < nqueues; i++) {
		b->q[i].slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(struct blk_slot));
		if (!b->q[i].slots) {
			log_error("--disk %s: out of memory", path);
			r = -ENOMEM;
			goto fail;
		}
		for (unsigned k = 0; k < VIRTIO_BLK_QUEUE_SIZE; k++)
			b->q[i].slots[k].q = &b->q[i];
		blk_reset_slots(&b->q[i], VIRTIO_BLK_QUEUE_SIZE);
	}
	b->capacity = disk_size(b->disk) / VIRTIO_BLK_SECTOR;
	bool discard = disk_can_discard(b->disk);
	struct virtio_blk_geometry g = { .capacity = b->capacity, .num_queues = nqueues, .discard = discard };
	virtio_blk_config_build(&g, b->config);
	/* NUL-padded, no terminator at 20 bytes (§5.2.6) */
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 }; /* zero padding, not stack bytes, reaches the guest */
	snprintf(id, sizeof(id), "vmon-disk%u", index);
	memcpy(b->id, id, sizeof(b->id));

	uint64_t f = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH;
	if (ro)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (nqueues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	b->ops = (struct virtio_device_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = 0x010000, /* mass storage, SCSI: what QEMU's virtio-blk-pci reports */
		.num_queues = nqueues,
		.queue_max_size = VIRTIO_BLK_QUEUE_SIZE,
		.features = f,
		.config_size = VIRTIO_BLK_CONFIG_SIZE,
		.config_read = blk_config_read,
		.start = blk_start,
		.notify = blk_notify,
		.reset = blk_reset,
	};
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->idle, NULL);
	r = event_loop_add(io, disk_event_fd(b->disk), EPOLLIN, blk_disk_event, b);
	if (r < 0) {
		log_error("--disk %s: event loop: %s", path, strerror(-r));
		pthread_cond_destroy(&b->idle);
		pthread_mutex_destroy(&b->lock);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	for (unsigned i = 0; i < nqueues; i++)
		free(b->q[i].slots);
	disk_close(b->disk);
	free(b);
	return r;
}

const struct virtio_device_ops *virtio_blk_ops(const struct virtio_blk *b)
{
	return &b->ops;
}

void virtio_blk_attach(struct virtio_blk *b, struct virtio_pci *t)
{
	b->t = t;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	/* The event loop may be stopped already: complete what is in flight
	 * here, without it. */
	event_loop_remove(b->io, disk_event_fd(b->disk));
	pthread_mutex_lock(&b->lock);
	b->running = false;
	while (blk_inflight(b)) {
		pthread_mutex_unlock(&b->lock);
		struct pollfd p = { .fd = disk_event_fd(b->disk), .events = POLLIN };
		poll(&p, 1, 1000);
		pthread_mutex_lock(&b->lock);
		disk_complete(b->disk);
	}
	pthread_mutex_unlock(&b->lock);
	for (unsigned i = 0; i < b->ops.num_queues; i++)
		free(b->q[i].slots);
	pthread_cond_destroy(&b->idle);
	pthread_mutex_destroy(&b->lock);
	disk_close(b->disk);
	free(b);
}
