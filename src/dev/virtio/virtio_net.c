/* virtio-net device (virtio 1.2 §5.1) on a tap (backend/tap.c).
 *
 * Threads: notify and the tap's events run on the I/O thread, start and
 * reset on a vCPU thread; one mutex serialises them. The transport is
 * never called with that mutex held (its lock is taken around start, so
 * the order is transport -> device only).
 *
 * Transmit (§5.1.6.2): each chain's readable part is header + frame in any
 * framing (§2.6.4); the header is copied and checked once, then the copy
 * and the rest of the guest's buffers go to the tap in one writev (the tap
 * has IFF_VNET_HDR with the same 12-byte header, so offloads pass through;
 * the kernel checks them again). EAGAIN from the tap: the chain goes back
 * to the ring and the device waits for EPOLLOUT.
 *
 * Receive (§5.1.6.3-4): a frame is read from the tap into a staging buffer,
 * then copied into as many receive chains as it needs (one without
 * MRG_RXBUF), num_buffers set, and all of them published at once. No
 * buffers: the frame stays staged and the tap is not read until the driver
 * notifies the receive queue. A frame is dropped only if it can never fit.
 *
 * Fairness: at most RX_BUDGET frames and TX_BUDGET chains per callback;
 * more transmit work is resumed through EPOLLOUT on the tap (always
 * writable when the budget ran out), receive through EPOLLIN (level
 * triggered), so other devices on the loop get their turn. */
#include "dev/virtio/virtio_net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "backend/tap.h"
#include "dev/virtio/virtio_net_hdr.h"
#include "util/event_loop.h"
#include "util/log.h"

#define RXQ 0
#define TXQ 1
#define RX_BUDGET 64
#define TX_BUDGET 128
#define QUEUE_SIZE 256
#define STAGING_SIZE (VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME)

#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_config up to max_virtqueue_pairs (§5.1.4) */
#define CONFIG_SIZE 10

struct virtio_net {
	struct virtio_device_ops ops;
	struct virtio_pci *transport;
	struct event_loop *loop;
	struct tap tap;
	uint8_t config[CONFIG_SIZE];

	pthread_mutex_t lock;
	bool running;             /* between start and reset, and not broken */
	uint64_t features;
	struct virtq *rxq, *txq;
	uint32_t tap_events;      /* the epoll interest set now */
	bool rx_wait;             /* no receive buffers: EPOLLIN off until notify */
	bool tx_wait;             /* EAGAIN or budget spent: resume on EPOLLOUT */

	uint8_t *staging;         /* a frame read from the tap, header first */
	size_t staged;            /* its length, 0: none */
	struct virtq_chain *rx_chains;  /* QUEUE_SIZE: one frame's chains */
	uint64_t rx_cap[QUEUE_SIZE];
	uint32_t rx_used[QUEUE_SIZE];
	struct virtq_chain tx_chain;
	struct iovec tx_iov[VIRTQ_MAX_SIZE + 1];

	uint64_t rx_dropped, tx_dropped;
};

/* What the transport must do once the lock is dropped. */
struct pending {
	bool irq[2];
	const char *broken;
};

static bool has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

static void update_interest(struct virtio_net *n)
{
	uint32_t ev = 0;
	if (n->running && !n->rx_wait && n->rxq)
		ev |= EPOLLIN;
	if (n->running && n->tx_wait)
		ev |= EPOLLOUT;
	if (ev != n->tap_events && n->tap.fd >= 0) {
		int r = event_loop_modify(n->loop, n->tap.fd, ev);
		if (r < 0)
			log_warn("virtio-net %s: watching the tap: %s", n->tap.name, strerror(-r));
		else
			n->tap_events = ev;
	}
}

static void mark_broken(struct virtio_net *n, struct pending *p, const char *why)
{
	n->running = false;
	p->broken = why;
}

/* One transmit chain to the tap. Returns 0 (done with it: sent or
 * dropped) or -EAGAIN (the tap is full: give the chain back). */
static int tx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	uint8_t raw[VIRTIO_NET_HDR_SIZE];
	struct virtio_net_hdr_v1 hdr;
	const char *why = "header shorter than 12 bytes";
	int r = -EINVAL;
	if (c->out_len >= VIRTIO_NET_HDR_SIZE) {
		virtq_chain_read(c, 0, raw, sizeof(raw));
		r = virtio_net_hdr_tx_check(raw, c->out_len - VIRTIO_NET_HDR_SIZE, n->features, &hdr, &why);
	}
	if (r < 0) {
		n->tx_dropped++;
		log_debug("virtio-net %s: transmit dropped: %s", n->tap.name, why);
		return 0;
	}
	n->tx_iov[0].iov_base = &hdr;
	n->tx_iov[0].iov_len = sizeof(hdr);
	int k = virtio_net_hdr_tx_iov(c->iov, c->nout, VIRTIO_NET_HDR_SIZE, n->tx_iov + 1, VIRTQ_MAX_SIZE);
	if (k < 0) {
		n->tx_dropped++;
		return 0;
	}
	ssize_t w = tap_writev(&n->tap, n->tx_iov, k + 1);
	if (w == -EAGAIN)
		return -EAGAIN;
	if (w < 0) {
		/* EIO: the tap is down; EINVAL: the kernel refused the header */
		n->tx_dropped++;
		log_debug("virtio-net %s: transmit dropped: %s", n->tap.name, strerror((int)-w));
	}
	return 0;
}

static void tx_run(struct virtio_net *n, struct pending *p)
{
	struct virtq *q = n->txq;
	if (!n->running || !q || n->tx_wait)
		return;
	virtq_disable_notify(q);
	for (unsigned done = 0;;) {
		if (done == TX_BUDGET) {
			n->tx_wait = true; /* resume on EPOLLOUT, after the others */
			return;
		}
		int r = virtq_pop(q, &n->tx_chain);
		if (r < 0) {
			mark_broken(n, p, "malformed transmit ring");
			return;
		}
		if (r == 0) {
			if (!virtq_enable_notify(q))
				return;
			virtq_disable_notify(q); /* chains came in between: drain on */
			continue;
		}
		if (tx_one(n, &n->tx_chain) == -EAGAIN) {
			virtq_unpop(q, 1);
			n->tx_wait = true;
			return;
		}
		virtq_push(q, n->tx_chain.head, 0);
		p->irq[TXQ] = true;
		done++;
	}
}

/* Puts the staged frame into receive chains. Returns 1 (delivered or
 * dropped), 0 (not enough buffers: wait for the driver). */
static int rx_deliver(struct virtio_net *n, struct pending *p)
{
	struct virtq *q = n->rxq;
	bool mergeable = has(n->features, VIRTIO_NET_F_MRG_RXBUF);
	unsigned max = q->size < QUEUE_SIZE ? q->size : QUEUE_SIZE;
	unsigned nc = 0;
	int k;
	for (;;) {
		int r = virtq_pop(q, &n->rx_chains[nc]);
		if (r < 0) {
			virtq_unpop(q, nc);
			mark_broken(n, p, "malformed receive ring");
			return 0;
		}
		if (r == 0) {
			if (virtq_enable_notify(q))
				continue;
			virtq_unpop(q, nc);
			return 0;
		}
		n->rx_cap[nc] = n->rx_chains[nc].in_len;
		nc++;
		k = virtio_net_hdr_rx_plan(n->staged, n->rx_cap, nc, mergeable, max, n->rx_used);
		if (k != 0)
			break;
	}
	if (k < 0) {
		/* It cannot fit in what the driver gives: the chains stay its. */
		virtq_unpop(q, nc);
		n->rx_dropped++;
		log_debug("virtio-net %s: %zu-byte frame dropped: larger than the receive buffers", n->tap.name,
			  n->staged);
		return 1;
	}
	virtio_net_hdr_rx_fixup(n->staging, n->features, (uint16_t)k);
	size_t off = 0;
	for (int i = 0; i < k; i++) {
		virtq_chain_write(&n->rx_chains[i], 0, n->staging + off, n->rx_used[i]);
		virtq_fill(q, (unsigned)i, n->rx_chains[i].head, n->rx_used[i]);
		off += n->rx_used[i];
	}
	virtq_flush(q, (unsigned)k);
	p->irq[RXQ] = true;
	return 1;
}

static void rx_run(struct virtio_net *n, struct pending *p)
{
	if (!n->running || !n->rxq)
		return;
	for (unsigned done = 0; done < RX_BUDGET && n->running; done++) {
		if (!n->staged) {
			struct iovec iov = { n->staging, STAGING_SIZE };
			ssize_t r = tap_readv(&n->tap, &iov, 1);
			if (r == -EAGAIN)
				return;
			if (r < 0) {
				/* Not read again until the driver adds buffers:
				 * a failing tap must not spin the loop. */
				log_warn("virtio-net %s: reading the tap: %s", n->tap.name, strerror((int)-r));
				n->rx_wait = true;
				return;
			}
			if (r < VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MIN_FRAME) {
				n->rx_dropped++;
				continue;
			}
			n->staged = (size_t)r;
		}
		if (!rx_deliver(n, p)) {
			n->rx_wait = true;
			return;
		}
		n->staged = 0;
	}
}

/* After the lock: interrupts and a broken ring go to the transport. */
static void finish(struct virtio_net *n, const struct pending *p)
{
	if (p->broken)
		virtio_pci_needs_reset(n->transport, p->broken);
	for (unsigned q = 0; q < 2; q++)
		if (p->irq[q])
			virtio_pci_queue_interrupt(n->transport, q);
}

static void net_tap_event(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	struct pending p = { { false, false }, NULL };
	pthread_mutex_lock(&n->lock);
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The interface went away: epoll would report it forever. */
		log_error("virtio-net %s: the tap failed; the link is down", n->tap.name);
		event_loop_remove(n->loop, n->tap.fd);
		n->running = false;
		n->tap_events = 0;
		pthread_mutex_unlock(&n->lock);
		return;
	}
	if (events & EPOLLOUT) {
		n->tx_wait = false;
		tx_run(n, &p);
	}
	if (events & EPOLLIN)
		rx_run(n, &p);
	update_interest(n);
	pthread_mutex_unlock(&n->lock);
	finish(n, &p);
}

static void net_notify(void *dev, unsigned q)
{
	struct virtio_net *n = dev;
	struct pending p = { { false, false }, NULL };
	pthread_mutex_lock(&n->lock);
	if (q == RXQ) {
		n->rx_wait = false;
		rx_run(n, &p);
	} else if (q == TXQ) {
		tx_run(n, &p);
	}
	update_interest(n);
	pthread_mutex_unlock(&n->lock);
	finish(n, &p);
}

/* The tap's TUN_F_* for the guest's receive offloads (§5.1.3.1: the TSO
 * features need GUEST_CSUM, as TUNSETOFFLOAD needs TUN_F_CSUM). */
static unsigned tun_offloads(uint64_t f)
{
	if (!has(f, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	unsigned t = TUN_F_CSUM;
	if (has(f, VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (has(f, VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (has(f, VIRTIO_NET_F_GUEST_ECN) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	return t;
}

static int net_start(void *dev, uint64_t features)
{
	struct virtio_net *n = dev;
	pthread_mutex_lock(&n->lock);
	int r = tap_set_offload(&n->tap, tun_offloads(features));
	if (r < 0) {
		log_error("virtio-net %s: TUNSETOFFLOAD: %s", n->tap.name, strerror(-r));
	} else {
		n->features = features;
		n->rxq = virtio_pci_queue(n->transport, RXQ);
		n->txq = virtio_pci_queue(n->transport, TXQ);
		n->rx_wait = n->tx_wait = false;
		n->staged = 0;
		n->running = true;
		update_interest(n);
	}
	pthread_mutex_unlock(&n->lock);
	/* No queue work here: the transport looks at every queue once after
	 * start returns (a notification during the start is not lost). */
	return r;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;
	pthread_mutex_lock(&n->lock);
	n->running = false;
	n->rxq = n->txq = NULL;
	n->staged = 0;
	n->rx_wait = n->tx_wait = false;
	n->features = 0;
	update_interest(n);
	tap_set_offload(&n->tap, 0);
	pthread_mutex_unlock(&n->lock);
}

static void net_config_read(void *dev, unsigned off, unsigned size, uint8_t *out)
{
	const struct virtio_net *n = dev;
	memcpy(out, n->config + off, size);
}

int virtio_net_create(const struct virtio_net_params *p, struct event_loop *loop, struct virtio_net **out)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->tap.fd = -1;
	n->loop = loop;
	pthread_mutex_init(&n->lock, NULL);
	n->staging = malloc(STAGING_SIZE);
	n->rx_chains = calloc(QUEUE_SIZE, sizeof(*n->rx_chains));
	int r = -ENOMEM;
	if (!n->staging || !n->rx_chains)
		goto fail;
	r = tap_open(&n->tap, p->tap, VIRTIO_NET_HDR_SIZE);
	if (r < 0)
		goto fail;

	/* Transmit offloads: any IFF_VNET_HDR tap takes checksum-pending and
	 * GSO frames; receive offloads: what the tap accepted in the probe. */
	uint64_t f = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_NET_F_MRG_RXBUF |
		     1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6 |
		     1ULL << VIRTIO_NET_F_HOST_ECN;
	if (n->tap.offloads & TUN_F_CSUM)
		f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	if (n->tap.offloads & TUN_F_TSO4)
		f |= 1ULL << VIRTIO_NET_F_GUEST_TSO4;
	if (n->tap.offloads & TUN_F_TSO6)
		f |= 1ULL << VIRTIO_NET_F_GUEST_TSO6;
	if (n->tap.offloads & TUN_F_TSO_ECN)
		f |= 1ULL << VIRTIO_NET_F_GUEST_ECN;

	n->ops = (struct virtio_device_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.pci_class = 0x020000, /* network controller, Ethernet */
		.num_queues = 2,
		.queue_max_size = QUEUE_SIZE,
		.features = f,
		.config_size = CONFIG_SIZE,
		.config_read = net_config_read,
		.start = net_start,
		.notify = net_notify,
		.reset = net_reset,
	};
	/* §5.1.4: mac, status (le16), max_virtqueue_pairs (le16) */
	memcpy(n->config, p->mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP;
	n->config[8] = 1;

	r = event_loop_add(loop, n->tap.fd, 0, net_tap_event, n);
	if (r < 0) {
		log_error("--net tap=%s: watching the tap: %s", p->tap, strerror(-r));
		goto fail;
	}
	*out = n;
	return 0;
fail:
	tap_close(&n->tap);
	free(n->staging);
	free(n->rx_chains);
	pthread_mutex_destroy(&n->lock);
	free(n);
	return r;
}

const struct virtio_device_ops *virtio_net_ops(struct virtio_net *n)
{
	return &n->ops;
}

void virtio_net_attach(struct virtio_net *n, struct virtio_pci *t)
{
	n->transport = t;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->tap.fd >= 0)
		event_loop_remove(n->loop, n->tap.fd);
	if (n->rx_dropped || n->tx_dropped)
		log_info("virtio-net %s: dropped %llu received and %llu transmitted frames", n->tap.name,
			 (unsigned long long)n->rx_dropped, (unsigned long long)n->tx_dropped);
	tap_close(&n->tap);
	free(n->staging);
	free(n->rx_chains);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
