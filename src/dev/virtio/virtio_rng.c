/* virtio-rng (virtio 1.2 §5.4). Threads as in virtio_dev.h: notify and the
 * pacing timer on the I/O thread, reset on a vCPU thread, one mutex; the
 * transport is called only with it released. */
#include "dev/virtio/virtio_rng.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "util/event_loop.h"
#include "util/log.h"

#define RNG_PACE_NS 1000000L        /* a turn used up: go on 1 ms later */
#define RNG_RETRY_NS 100000000L     /* pool not ready: try again in 100 ms */

struct virtio_rng {
	struct virtio_device_ops ops;
	struct virtio_pci *transport;
	struct event_loop *loop;
	int timer;                  /* timerfd: resumes a paced or waiting queue */
	pthread_mutex_t lock;
	bool running;
	bool paced;                 /* the timer is armed: notifies wait for it */
	struct virtq *q;
	struct virtq_chain chain;
	uint8_t *buf;               /* RNG_CHAIN_MAX */
};

uint32_t virtio_rng_request_len(uint64_t in_len, uint64_t left)
{
	uint64_t n = in_len < RNG_CHAIN_MAX ? in_len : RNG_CHAIN_MAX;
	return (uint32_t)(n < left ? n : left);
}

ssize_t virtio_rng_fill(uint8_t *buf, size_t len)
{
	ssize_t r;
	do
		r = getrandom(buf, len, GRND_NONBLOCK);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static void arm(struct virtio_rng *r, long ns)
{
	struct itimerspec its = { .it_value = { 0, ns } };
	if (timerfd_settime(r->timer, 0, &its, NULL) == 0)
		r->paced = true;
}

/* Serves requests until the queue is empty or this turn's bytes are
 * spent. Returns whether chains were pushed; *broken on a bad ring. */
static bool rng_run(struct virtio_rng *r, const char **broken)
{
	bool pushed = false;
	uint64_t left = RNG_TURN_MAX;
	if (!r->running || !r->q || r->paced)
		return false;
	virtq_disable_notify(r->q);
	for (;;) {
		if (left == 0) {
			arm(r, RNG_PACE_NS);
			return pushed;
		}
		int p = virtq_pop(r->q, &r->chain);
		if (p < 0) {
			r->running = false;
			*broken = "malformed request ring";
			return pushed;
		}
		if (p == 0) {
			if (!virtq_enable_notify(r->q))
				return pushed;
			virtq_disable_notify(r->q); /* chains came in between */
			continue;
		}
		uint32_t want = virtio_rng_request_len(r->chain.in_len, left);
		ssize_t got = want ? virtio_rng_fill(r->buf, want) : 0;
		if (got == -EAGAIN) {
			virtq_unpop(r->q, 1);
			arm(r, RNG_RETRY_NS);
			return pushed;
		}
		if (got < 0) {
			log_warn("virtio-rng: getrandom: %s", strerror((int)-got));
			got = 0;
		}
		/* §5.4.6.2: one or more bytes, not necessarily the whole buffer.
		 * A chain with no writable part is used with 0 bytes. */
		virtq_chain_write(&r->chain, 0, r->buf, (uint64_t)got);
		virtq_push(r->q, r->chain.head, (uint32_t)got);
		pushed = true;
		/* a chain of 0 bytes still costs a little of the turn */
		left -= got ? (uint64_t)got : (left < 64 ? left : 64);
	}
}

static void rng_finish(struct virtio_rng *r, bool irq, const char *broken)
{
	if (broken)
		virtio_pci_needs_reset(r->transport, broken);
	if (irq)
		virtio_pci_queue_interrupt(r->transport, 0);
}

static void rng_notify(void *dev, unsigned q)
{
	struct virtio_rng *r = dev;
	const char *broken = NULL;
	pthread_mutex_lock(&r->lock);
	bool irq = q == 0 && rng_run(r, &broken);
	pthread_mutex_unlock(&r->lock);
	rng_finish(r, irq, broken);
}

static void rng_timer(void *opaque, uint32_t events)
{
	struct virtio_rng *r = opaque;
	uint64_t ticks;
	if (read(r->timer, &ticks, sizeof(ticks)) < 0)
		return; /* EAGAIN: disarmed meanwhile */
	const char *broken = NULL;
	pthread_mutex_lock(&r->lock);
	r->paced = false;
	bool irq = rng_run(r, &broken);
	pthread_mutex_unlock(&r->lock);
	rng_finish(r, irq, broken);
}

static int rng_start(void *dev, uint64_t features)
{
	struct virtio_rng *r = dev;
	pthread_mutex_lock(&r->lock);
	r->q = virtio_pci_queue(r->transport, 0);
	r->running = true;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rng_reset(void *dev)
{
	struct virtio_rng *r = dev;
	struct itimerspec off = { { 0, 0 }, { 0, 0 } };
	pthread_mutex_lock(&r->lock);
	r->running = false;
	r->q = NULL;
	timerfd_settime(r->timer, 0, &off, NULL);
	r->paced = false;
	pthread_mutex_unlock(&r->lock);
}

int virtio_rng_create(struct event_loop *loop, struct virtio_rng **out)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->buf = malloc(RNG_CHAIN_MAX);
	r->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int e = r->timer < 0 ? -errno : (r->buf ? 0 : -ENOMEM);
	if (e == 0)
		e = event_loop_add(loop, r->timer, EPOLLIN, rng_timer, r);
	if (e < 0) {
		log_error("--rng: %s", strerror(-e));
		if (r->timer >= 0)
			close(r->timer);
		free(r->buf);
		free(r);
		return e;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->ops = (struct virtio_device_ops){
		.name = "virtio-rng",
		.device_id = VIRTIO_ID_RNG,
		.pci_class = 0xff0000, /* PCI 3.0 App. D: "does not fit any class" */
		.num_queues = 1,
		.queue_max_size = 64,
		.features = 0,         /* §5.4.3: none */
		.config_size = 0,      /* §5.4.4: none */
		.start = rng_start,
		.notify = rng_notify,
		.reset = rng_reset,
	};
	*out = r;
	return 0;
}

const struct virtio_device_ops *virtio_rng_ops(struct virtio_rng *r)
{
	return &r->ops;
}

void virtio_rng_attach(struct virtio_rng *r, struct virtio_pci *t)
{
	r->transport = t;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	event_loop_remove(r->loop, r->timer);
	close(r->timer);
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	free(r);
}
