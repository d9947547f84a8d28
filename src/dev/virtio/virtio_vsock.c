#include "dev/virtio/virtio_vsock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "dev/virtio/vsock_conn.h"
#include "util/event_loop.h"
#include "util/log.h"

/* Host programs in the CONNECT handshake at once: more wait in the backlog. */
#define VSOCK_MAX_HANDSHAKES 8

struct vsock_watch {
	struct virtio_vsock *v;
	unsigned i;
	uint32_t events; /* what the event loop watches now, 0: not added */
};

struct vsock_handshake {
	struct virtio_vsock *v;
	int fd;          /* -1: free */
	size_t len;
	char line[VSOCK_UDS_LINE_MAX];
};

struct virtio_vsock {
	pthread_mutex_t lock;
	struct virtio_device_ops ops;
	struct virtio_pci *t;
	struct event_loop *io;
	bool running;
	bool rx_starved;               /* the guest has no rx buffers: wait for its notify */
	uint64_t cid;                  /* immutable: config_read takes no lock */
	char path[108];
	int listen_fd;
	unsigned rr;                   /* round robin over connections with data */
	struct vsock_watch watch[VSOCK_MAX_CONNS];
	bool readable[VSOCK_MAX_CONNS];
	struct vsock_handshake hs[VSOCK_MAX_HANDSHAKES];
	struct virtq_chain chain;
	uint8_t pkt[VSOCK_HDR_SIZE + VSOCK_MAX_PAYLOAD];
	struct vsock_table table;
};

static void on_conn(void *opaque, uint32_t events);

/* §5.10.4: le64 guest_cid. */
static void vsock_config_read(void *dev, unsigned off, unsigned size, uint8_t *out)
{
	struct virtio_vsock *v = dev;
	uint8_t cfg[8];
	for (int i = 0; i < 8; i++)
		cfg[i] = (uint8_t)(v->cid >> (8 * i));
	if (off < sizeof(cfg) && size <= sizeof(cfg) - off)
		memcpy(out, cfg + off, size);
}

/* What each connection's socket is watched for: EPOLLIN while the guest
 * has credit and buffers for it, EPOLLOUT while its ring has bytes the
 * socket did not take. I/O thread, under the lock. */
static void update_watches(struct virtio_vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->table.conns[i];
		struct vsock_watch *w = &v->watch[i];
		uint32_t ev = 0;
		if (v->running && c->state == VSOCK_CONNECTED && c->fd >= 0) {
			if (!v->rx_starved && !(c->shut_flags & VSOCK_SHUTDOWN_SEND) && vsock_credit(c))
				ev |= EPOLLIN;
			if (c->buf_len)
				ev |= EPOLLOUT;
		}
		if (ev == w->events)
			continue;
		if (!ev)
			event_loop_remove(v->io, c->fd);
		else if (!w->events ? event_loop_add(v->io, c->fd, ev, on_conn, w) < 0
				    : event_loop_modify(v->io, c->fd, ev) < 0)
			ev = w->events; /* out of memory in epoll: the next pass tries again */
		w->events = ev;
	}
}

static void conn_close(struct virtio_vsock *v, struct vsock_conn *c)
{
	unsigned i = (unsigned)(c - v->table.conns);
	if (v->watch[i].events)
		event_loop_remove(v->io, c->fd);
	v->watch[i].events = 0;
	v->readable[i] = false;
	if (c->fd >= 0)
		close(c->fd);
	vsock_free(c);
}

/* Writes c's ring to its socket; half-closes it once the guest shut its
 * sending side and everything is written. */
static void conn_flush(struct vsock_conn *c)
{
	while (c->buf_len && c->fd >= 0) {
		uint32_t n = VSOCK_BUF_ALLOC - c->buf_head;
		if (n > c->buf_len)
			n = c->buf_len;
		ssize_t w = send(c->fd, c->buf + c->buf_head, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			vsock_reset(c); /* the host side went away */
			return;
		}
		vsock_consumed(c, (uint32_t)w);
	}
	if (c->peer_shut_send && c->fd >= 0)
		shutdown(c->fd, SHUT_WR);
}

/* Fills rx buffers: control packets first, then data from connections
 * with credit, round robin. */
static bool rx_run(struct virtio_vsock *v)
{
	struct virtq *q = virtio_pci_queue(v->t, VIRTIO_VSOCK_RXQ);
	bool pushed = false;
	while (q) {
		int r = virtq_pop(q, &v->chain);
		if (r < 0) {
			v->running = false;
			virtio_pci_needs_reset(v->t, "rx queue: malformed ring");
			return pushed;
		}
		if (r == 0) {
			if (virtq_enable_notify(q))
				continue;
			v->rx_starved = true;
			break;
		}
		if (v->chain.in_len < VSOCK_HDR_SIZE) {
			/* No room for a header: a buffer no driver posts. */
			virtq_push(q, v->chain.head, 0);
			pushed = true;
			continue;
		}
		struct vsock_hdr h;
		struct vsock_conn *c;
		if (vsock_next(&v->table, &h, &c)) {
			vsock_hdr_encode(&h, v->pkt);
			virtq_push(q, v->chain.head, (uint32_t)virtq_chain_write(&v->chain, 0, v->pkt, VSOCK_HDR_SIZE));
			pushed = true;
			if (c && h.op == VSOCK_OP_RST)
				conn_close(v, c);
			continue;
		}
		/* Data: the next connection the guest has credit for. */
		bool sent = false;
		for (unsigned k = 0; k < VSOCK_MAX_CONNS && !sent; k++) {
			unsigned i = (v->rr + k) % VSOCK_MAX_CONNS;
			c = &v->table.conns[i];
			uint32_t credit = vsock_credit(c);
			if (!v->readable[i] || !credit || c->shut_flags & VSOCK_SHUTDOWN_SEND)
				continue;
			uint64_t room = v->chain.in_len - VSOCK_HDR_SIZE;
			size_t want = credit < room ? credit : (size_t)room;
			if (want > VSOCK_MAX_PAYLOAD)
				want = VSOCK_MAX_PAYLOAD;
			ssize_t n = recv(c->fd, v->pkt + VSOCK_HDR_SIZE, want, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				v->readable[i] = false;
				continue;
			}
			if (n <= 0) {
				v->readable[i] = false;
				if (n == 0)
					vsock_host_eof(c);
				else
					vsock_reset(c);
				break; /* its control packet goes into this chain */
			}
			vsock_conn_hdr(&v->table, c, VSOCK_OP_RW, (uint32_t)n, &h);
			vsock_hdr_encode(&h, v->pkt);
			virtq_push(q, v->chain.head,
				   (uint32_t)virtq_chain_write(&v->chain, 0, v->pkt, VSOCK_HDR_SIZE + (size_t)n));
			vsock_sent(c, (uint32_t)n);
			if (!vsock_credit(c) && !c->credreq_sent) {
				c->pending |= VSOCK_PEND_CREDREQ; /* so the guest says when it has read */
				c->credreq_sent = true;
			}
			v->rr = i + 1;
			pushed = sent = true;
		}
		if (sent)
			continue;
		/* Nothing to send now; a connection that just read EOF or failed
		 * owes a control packet: go round once more for it. */
		virtq_unpop(q, 1);
		if (!vsock_pending(&v->table))
			break;
	}
	return pushed;
}

/* A packet from the guest. */
static void tx_packet(struct virtio_vsock *v)
{
	struct vsock_hdr h;
	if (v->chain.out_len < VSOCK_HDR_SIZE)
		return; /* dropped */
	virtq_chain_read(&v->chain, 0, v->pkt, VSOCK_HDR_SIZE);
	vsock_hdr_decode(v->pkt, &h);
	if (vsock_hdr_check(&h, v->cid, v->chain.out_len - VSOCK_HDR_SIZE) < 0) {
		/* From the guest to the host but broken (a seqpacket REQUEST):
		 * RST, so its connect fails at once; anything else: dropped. */
		if (h.src_cid == v->cid && h.dst_cid == VSOCK_HOST_CID)
			vsock_refuse(&v->table, &h);
		return;
	}
	virtq_chain_read(&v->chain, VSOCK_HDR_SIZE, v->pkt + VSOCK_HDR_SIZE, h.len);
	struct vsock_conn *c;
	int fd;
	switch (vsock_input(&v->table, &h, v->pkt + VSOCK_HDR_SIZE, &c)) {
	case VSOCK_ACT_NONE:
		break;
	case VSOCK_ACT_LISTEN:
		if (vsock_uds_connect_port(v->path, h.dst_port, &fd) < 0)
			vsock_refuse(&v->table, &h);
		else if (!vsock_accept(&v->table, &h, fd))
			close(fd);
		break;
	case VSOCK_ACT_DATA:
	case VSOCK_ACT_SHUTDOWN:
		conn_flush(c);
		break;
	case VSOCK_ACT_ESTABLISHED: {
		char line[VSOCK_UDS_LINE_MAX];
		size_t n = vsock_uds_ok_line(c->local_port, line);
		/* Into an empty socket buffer: it fits. */
		if (send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
			vsock_reset(c);
		break;
	}
	case VSOCK_ACT_CLOSED:
		conn_close(v, c);
		break;
	}
}

static bool tx_run(struct virtio_vsock *v)
{
	struct virtq *q = virtio_pci_queue(v->t, VIRTIO_VSOCK_TXQ);
	bool pushed = false;
	while (q) {
		virtq_disable_notify(q);
		int r = virtq_pop(q, &v->chain);
		if (r < 0) {
			v->running = false;
			virtio_pci_needs_reset(v->t, "tx queue: malformed ring");
			break;
		}
		if (r == 0) {
			if (virtq_enable_notify(q))
				continue;
			break;
		}
		tx_packet(v);
		virtq_push(q, v->chain.head, 0);
		pushed = true;
	}
	return pushed;
}

/* After any event: packets to the guest, interrupts, watches. */
static void run(struct virtio_vsock *v, bool tx_pushed)
{
	if (v->running && tx_pushed)
		virtio_pci_queue_interrupt(v->t, VIRTIO_VSOCK_TXQ);
	if (v->running && !v->rx_starved && rx_run(v))
		virtio_pci_queue_interrupt(v->t, VIRTIO_VSOCK_RXQ);
	update_watches(v);
}

static void vsock_notify(void *dev, unsigned q)
{
	struct virtio_vsock *v = dev;
	pthread_mutex_lock(&v->lock);
	bool pushed = false;
	if (v->running && q == VIRTIO_VSOCK_TXQ)
		pushed = tx_run(v);
	if (q == VIRTIO_VSOCK_RXQ)
		v->rx_starved = false;
	if (v->running)
		run(v, pushed);
	pthread_mutex_unlock(&v->lock);
}

static void on_conn(void *opaque, uint32_t events)
{
	struct vsock_watch *w = opaque;
	struct virtio_vsock *v = w->v;
	pthread_mutex_lock(&v->lock);
	struct vsock_conn *c = &v->table.conns[w->i];
	if (v->running && c->state != VSOCK_FREE) {
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			v->readable[w->i] = true;
		if (events & (EPOLLOUT | EPOLLERR))
			conn_flush(c);
		run(v, false);
	}
	pthread_mutex_unlock(&v->lock);
}

static void hs_close(struct virtio_vsock *v, struct vsock_handshake *hs, bool close_fd)
{
	event_loop_remove(v->io, hs->fd);
	if (close_fd)
		close(hs->fd);
	hs->fd = -1;
}

/* A host program's CONNECT line, one byte per read so that the stream
 * after it stays in the socket. */
static void on_handshake(void *opaque, uint32_t events)
{
	struct vsock_handshake *hs = opaque;
	struct virtio_vsock *v = hs->v;
	pthread_mutex_lock(&v->lock);
	for (;;) {
		ssize_t n = recv(hs->fd, hs->line + hs->len, 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		uint32_t port;
		int r = n == 1 ? vsock_uds_parse_connect(hs->line, ++hs->len, &port) : -EINVAL;
		if (r == 0)
			continue;
		struct vsock_conn *c = r == 1 && v->running ? vsock_connect(&v->table, port, hs->fd) : NULL;
		if (!c)
			log_debug("virtio-vsock: a host connection closed (%s)",
				  r < 0 ? "no CONNECT <port> line" : "the guest is not running or too many connections");
		hs_close(v, hs, c == NULL);
		if (c)
			run(v, false);
		break;
	}
	pthread_mutex_unlock(&v->lock);
}

static void on_listen(void *opaque, uint32_t events)
{
	struct virtio_vsock *v = opaque;
	pthread_mutex_lock(&v->lock);
	for (;;) {
		struct vsock_handshake *hs = NULL;
		for (unsigned i = 0; i < VSOCK_MAX_HANDSHAKES && !hs; i++)
			if (v->hs[i].fd < 0)
				hs = &v->hs[i];
		if (!hs)
			break; /* the rest wait in the backlog */
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		hs->fd = fd;
		hs->len = 0;
		if (event_loop_add(v->io, fd, EPOLLIN, on_handshake, hs) < 0) {
			close(fd);
			hs->fd = -1;
		}
	}
	pthread_mutex_unlock(&v->lock);
}

static int vsock_start(void *dev, uint64_t features)
{
	struct virtio_vsock *v = dev;
	pthread_mutex_lock(&v->lock);
	v->running = true;
	v->rx_starved = false;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* §5.10.6.6-ish: a reset device forgets every connection; the host sides
 * see their sockets close. The event loop's watches are removed with the
 * lock released (a callback may be waiting for it). */
static void vsock_reset_dev(void *dev)
{
	struct virtio_vsock *v = dev;
	int fds[VSOCK_MAX_CONNS];
	pthread_mutex_lock(&v->lock);
	v->running = false;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		fds[i] = v->watch[i].events ? v->table.conns[i].fd : -1;
	pthread_mutex_unlock(&v->lock);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (fds[i] >= 0)
			event_loop_remove(v->io, fds[i]);
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		v->watch[i].events = 0;
		if (v->table.conns[i].fd >= 0)
			close(v->table.conns[i].fd);
		v->readable[i] = false;
	}
	vsock_table_init(&v->table, v->cid);
	pthread_mutex_unlock(&v->lock);
}

int virtio_vsock_create(struct event_loop *io, uint64_t guest_cid, const char *uds_path,
			struct virtio_vsock **out)
{
	struct virtio_vsock *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (strlen(uds_path) >= sizeof(v->path)) {
		free(v);
		return -ENAMETOOLONG;
	}
	snprintf(v->path, sizeof(v->path), "%s", uds_path);
	int r = vsock_uds_listen(uds_path, &v->listen_fd);
	if (r < 0) {
		log_error("virtio-vsock: %s: %s", uds_path,
			  r == -EADDRINUSE ? "another program listens there" : strerror(-r));
		free(v);
		return r;
	}
	pthread_mutex_init(&v->lock, NULL);
	v->io = io;
	v->cid = guest_cid;
	vsock_table_init(&v->table, guest_cid);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->watch[i] = (struct vsock_watch){ v, i, 0 };
	for (unsigned i = 0; i < VSOCK_MAX_HANDSHAKES; i++)
		v->hs[i] = (struct vsock_handshake){ .v = v, .fd = -1 };
	v->ops = (struct virtio_device_ops){
		.name = "virtio-vsock",
		.device_id = VIRTIO_ID_VSOCK,
		.pci_class = 0x088000, /* system peripheral, other */
		.num_queues = 3,
		.queue_max_size = 128,
		.features = 0, /* no feature bit: stream sockets only (§5.10.3) */
		.config_size = 8,
		.config_read = vsock_config_read,
		.start = vsock_start,
		.notify = vsock_notify,
		.reset = vsock_reset_dev,
	};
	r = event_loop_add(io, v->listen_fd, EPOLLIN, on_listen, v);
	if (r < 0) {
		log_error("virtio-vsock: event loop: %s", strerror(-r));
		virtio_vsock_destroy(v);
		return r;
	}
	*out = v;
	return 0;
}

const struct virtio_device_ops *virtio_vsock_ops(const struct virtio_vsock *v)
{
	return &v->ops;
}

void virtio_vsock_attach(struct virtio_vsock *v, struct virtio_pci *t)
{
	v->t = t;
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	if (!v)
		return;
	event_loop_remove(v->io, v->listen_fd);
	for (unsigned i = 0; i < VSOCK_MAX_HANDSHAKES; i++)
		if (v->hs[i].fd >= 0)
			hs_close(v, &v->hs[i], true);
	vsock_reset_dev(v);
	close(v->listen_fd);
	unlink(v->path);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
