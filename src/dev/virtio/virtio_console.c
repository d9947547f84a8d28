#include "dev/virtio/virtio_console.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/event_loop.h"
#include "util/log.h"
#include "util/outbuf.h"

struct virtio_console {
	pthread_mutex_t lock;
	struct virtio_device_ops ops;
	struct virtio_pci *t;
	struct event_loop *io;
	bool running;                 /* between start and reset */
	uint16_t cols, rows;          /* immutable: config_read takes no lock */
	bool out_watched;             /* EPOLLOUT registered (I/O thread only) */
	bool tx_partial;              /* tx_chain is taken, copied up to tx_off */
	uint64_t tx_off;
	console_wake_fn *wake;        /* the console, waiting for receive buffers */
	void *wake_opaque;
	bool want_wake;
	struct virtq_chain tx_chain, rx_chain;
	struct outbuf out;
};

/* §5.3.4: cols, rows (le16), max_nr_ports, emerg_wr (le32). */
#define CONSOLE_CONFIG_SIZE 12

static void vcon_config_read(void *dev, unsigned off, unsigned size, uint8_t *out)
{
	struct virtio_console *c = dev;
	uint8_t cfg[CONSOLE_CONFIG_SIZE] = { (uint8_t)c->cols, (uint8_t)(c->cols >> 8), (uint8_t)c->rows,
					     (uint8_t)(c->rows >> 8), 1 };
	if (off < sizeof(cfg) && size <= sizeof(cfg) - off)
		memcpy(out, cfg + off, size);
}

static void on_out(void *opaque, uint32_t events);

/* Copies transmit chains into the output buffer while they fit and writes
 * it out. Under the lock. Returns whether a chain was given back. */
static bool tx_run(struct virtio_console *c, struct virtq *q)
{
	bool pushed = false;
	for (;;) {
		if (outbuf_flush(&c->out) == -EAGAIN && outbuf_room(&c->out) == 0)
			break;
		if (!c->tx_partial) {
			virtq_disable_notify(q);
			int r = virtq_pop(q, &c->tx_chain);
			if (r < 0) {
				c->running = false;
				virtio_pci_needs_reset(c->t, "transmitq: malformed ring");
				return pushed;
			}
			if (r == 0) {
				if (virtq_enable_notify(q))
					continue;
				break;
			}
			c->tx_partial = true;
			c->tx_off = 0;
		}
		/* The readable part in pieces of what the buffer takes. */
		while (c->tx_off < c->tx_chain.out_len && outbuf_room(&c->out) > 0) {
			uint8_t tmp[4096];
			uint64_t want = c->tx_chain.out_len - c->tx_off;
			size_t room = outbuf_room(&c->out);
			if (want > sizeof(tmp))
				want = sizeof(tmp);
			if (want > room)
				want = room;
			uint64_t n = virtq_chain_read(&c->tx_chain, c->tx_off, tmp, want);
			outbuf_put(&c->out, tmp, (size_t)n);
			c->tx_off = n ? c->tx_off + n : c->tx_chain.out_len;
		}
		if (c->tx_off < c->tx_chain.out_len)
			continue; /* the buffer is full: flush, then copy on (or wait for EPOLLOUT) */
		virtq_push(q, c->tx_chain.head, 0);
		c->tx_partial = false;
		pushed = true;
	}
	/* Wait for stdout when bytes remain; the watch is the I/O thread's. */
	bool blocked = c->out.off < c->out.len;
	if (blocked && !c->out_watched) {
		if (event_loop_add(c->io, c->out.fd, EPOLLOUT, on_out, c) == 0)
			c->out_watched = true;
	}
	return pushed;
}

static void tx_kick(struct virtio_console *c)
{
	struct virtq *q = c->running ? virtio_pci_queue(c->t, VIRTIO_CONSOLE_TXQ) : NULL;
	if (q && tx_run(c, q))
		virtio_pci_queue_interrupt(c->t, VIRTIO_CONSOLE_TXQ);
	else if (!q)
		(void)outbuf_flush(&c->out); /* after a reset: what was acknowledged still goes out */
}

/* stdout is writable again (I/O thread). */
static void on_out(void *opaque, uint32_t events)
{
	struct virtio_console *c = opaque;
	pthread_mutex_lock(&c->lock);
	tx_kick(c);
	if (c->out.off >= c->out.len && c->out_watched) {
		event_loop_remove(c->io, c->out.fd); /* from its own callback: allowed */
		c->out_watched = false;
	}
	pthread_mutex_unlock(&c->lock);
}

static void vcon_notify(void *dev, unsigned q)
{
	struct virtio_console *c = dev;
	pthread_mutex_lock(&c->lock);
	if (q == VIRTIO_CONSOLE_TXQ) {
		tx_kick(c);
	} else if (q == VIRTIO_CONSOLE_RXQ && c->want_wake && c->wake) {
		/* New receive buffers: the console offers its bytes again. */
		c->want_wake = false;
		c->wake(c->wake_opaque);
	}
	pthread_mutex_unlock(&c->lock);
}

static int vcon_start(void *dev, uint64_t features)
{
	struct virtio_console *c = dev;
	pthread_mutex_lock(&c->lock);
	c->running = true;
	c->tx_partial = false;
	if (c->want_wake && c->wake) {
		c->want_wake = false;
		c->wake(c->wake_opaque);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void vcon_reset(void *dev)
{
	struct virtio_console *c = dev;
	pthread_mutex_lock(&c->lock);
	c->running = false;
	c->tx_partial = false; /* a chain half copied: the rest was not acknowledged */
	pthread_mutex_unlock(&c->lock);
}

/* The console's sink: its thread. */
static size_t sink_receive(void *sink, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = sink;
	size_t taken = 0;
	bool pushed = false;
	pthread_mutex_lock(&c->lock);
	struct virtq *q = c->running ? virtio_pci_queue(c->t, VIRTIO_CONSOLE_RXQ) : NULL;
	while (q && taken < len) {
		int r = virtq_pop(q, &c->rx_chain);
		if (r < 0) {
			c->running = false;
			virtio_pci_needs_reset(c->t, "receiveq: malformed ring");
			break;
		}
		if (r == 0) {
			if (virtq_enable_notify(q))
				continue;
			break;
		}
		uint64_t n = virtq_chain_write(&c->rx_chain, 0, buf + taken, len - taken);
		virtq_push(q, c->rx_chain.head, (uint32_t)n);
		taken += (size_t)n;
		pushed = true;
	}
	if (taken < len)
		c->want_wake = true;
	if (pushed)
		virtio_pci_queue_interrupt(c->t, VIRTIO_CONSOLE_RXQ);
	pthread_mutex_unlock(&c->lock);
	return taken;
}

/* hold is the UART's concern: a guest's driver posts receive buffers only
 * once it takes input, and bytes wait in them until hvc0 reads. */
static void sink_connect(void *sink, bool hold, console_wake_fn *wake, void *opaque)
{
	struct virtio_console *c = sink;
	(void)hold;
	pthread_mutex_lock(&c->lock);
	c->wake = wake;
	c->wake_opaque = opaque;
	c->want_wake = false;
	pthread_mutex_unlock(&c->lock);
}

struct console_sink virtio_console_sink(struct virtio_console *c)
{
	return (struct console_sink){ sink_receive, sink_connect, c };
}

int virtio_console_create(struct event_loop *io, int out_fd, int size_fd, struct virtio_console **out)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int fd = outbuf_open(out_fd);
	if (fd < 0) {
		log_error("virtio-console: output fd %d: %s", out_fd, strerror(-fd));
		free(c);
		return fd;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->out.fd = fd;
	c->io = io;
	c->ops = (struct virtio_device_ops){
		.name = "virtio-console",
		.device_id = VIRTIO_ID_CONSOLE,
		.pci_class = 0x078000, /* communication controller, other */
		.num_queues = 2,
		.queue_max_size = 128,
		.config_size = CONSOLE_CONFIG_SIZE,
		.config_read = vcon_config_read,
		.start = vcon_start,
		.notify = vcon_notify,
		.reset = vcon_reset,
	};
	struct winsize ws;
	if (size_fd >= 0 && ioctl(size_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		c->cols = ws.ws_col;
		c->rows = ws.ws_row;
		c->ops.features = 1ULL << VIRTIO_CONSOLE_F_SIZE;
	}
	*out = c;
	return 0;
}

const struct virtio_device_ops *virtio_console_ops(const struct virtio_console *c)
{
	return &c->ops;
}

void virtio_console_attach(struct virtio_console *c, struct virtio_pci *t)
{
	c->t = t;
}

void virtio_console_stop(struct virtio_console *c)
{
	pthread_mutex_lock(&c->lock);
	/* What the guest posted last (its final messages before a poweroff)
	 * may not have been taken yet: take it, guest RAM is still there. */
	struct virtq *q = c->running ? virtio_pci_queue(c->t, VIRTIO_CONSOLE_TXQ) : NULL;
	for (int i = 0; q && i < 64 && c->running; i++) {
		tx_run(c, q);
		if (outbuf_drain(&c->out, 2000) < 0 || !c->tx_partial)
			break;
	}
	if (outbuf_drain(&c->out, 2000) < 0)
		log_warn("virtio-console: %zu bytes of output not written: stdout blocked for 2 s",
			 c->out.len - c->out.off);
	pthread_mutex_unlock(&c->lock);
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c)
		return;
	if (c->out_watched)
		event_loop_remove(c->io, c->out.fd);
	close(c->out.fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
