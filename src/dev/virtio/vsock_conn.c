#include "dev/virtio/vsock_conn.h"

#include <errno.h>
#include <string.h>

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* §5.10.6: src_cid, dst_cid (le64), src_port, dst_port, len (le32), type,
 * op (le16), flags, buf_alloc, fwd_cnt (le32); packed, 44 bytes. */
void vsock_hdr_decode(const uint8_t in[VSOCK_HDR_SIZE], struct vsock_hdr *h)
{
	h->src_cid = le64(in);
	h->dst_cid = le64(in + 8);
	h->src_port = le32(in + 16);
	h->dst_port = le32(in + 20);
	h->len = le32(in + 24);
	h->type = (uint16_t)(in[28] | in[29] << 8);
	h->op = (uint16_t)(in[30] | in[31] << 8);
	h->flags = le32(in + 32);
	h->buf_alloc = le32(in + 36);
	h->fwd_cnt = le32(in + 40);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_SIZE])
{
	put(out, h->src_cid, 8);
	put(out + 8, h->dst_cid, 8);
	put(out + 16, h->src_port, 4);
	put(out + 20, h->dst_port, 4);
	put(out + 24, h->len, 4);
	put(out + 28, h->type, 2);
	put(out + 30, h->op, 2);
	put(out + 32, h->flags, 4);
	put(out + 36, h->buf_alloc, 4);
	put(out + 40, h->fwd_cnt, 4);
}

int vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint64_t avail)
{
	/* §5.10.6.1: the device drops a packet whose source CID is not the
	 * guest's; vmon's only peer is the host. */
	if (h->src_cid != guest_cid || h->dst_cid != VSOCK_HOST_CID)
		return -EINVAL;
	if (h->type != VSOCK_TYPE_STREAM || h->op == VSOCK_OP_INVALID || h->op > VSOCK_OP_CREDIT_REQUEST)
		return -EINVAL;
	if (h->len > VSOCK_MAX_PAYLOAD || h->len > avail)
		return -EINVAL;
	if (h->len && h->op != VSOCK_OP_RW)
		return -EINVAL;
	if (h->op == VSOCK_OP_SHUTDOWN ? (h->flags & ~(uint32_t)(VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) != 0
				       : h->flags != 0)
		return -EINVAL;
	return 0;
}

void vsock_table_init(struct vsock_table *t, uint64_t guest_cid)
{
	t->guest_cid = guest_cid;
	t->next_local_port = VSOCK_LOCAL_PORT_BASE;
	t->nrst = 0;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		t->conns[i].state = VSOCK_FREE;
		t->conns[i].fd = -1;
	}
}

static struct vsock_conn *lookup(struct vsock_table *t, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];
		if (c->state != VSOCK_FREE && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

static struct vsock_conn *alloc(struct vsock_table *t, uint32_t local_port, uint32_t peer_port, int fd)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];
		if (c->state != VSOCK_FREE || c->pending)
			continue;
		/* The ring's bytes are not cleared: only [head, head+len) is read. */
		c->local_port = local_port;
		c->peer_port = peer_port;
		c->fd = fd;
		c->pending = 0;
		c->shut_flags = 0;
		c->peer_buf_alloc = c->peer_fwd_cnt = c->tx_cnt = 0;
		c->peer_shut_send = c->peer_shut_rcv = c->credreq_sent = false;
		c->rx_cnt = c->fwd_cnt = c->fwd_cnt_told = 0;
		c->buf_head = c->buf_len = 0;
		return c;
	}
	return NULL;
}

/* A reply RST to a packet of no connection (§5.10.6.3: a packet for an
 * unknown connection is answered with RST). Never to an RST: two
 * endpoints would answer each other forever. Dropped when the queue is
 * full: a guest flooding us gets fewer answers, nothing else. */
static void queue_rst(struct vsock_table *t, const struct vsock_hdr *to)
{
	if (to->op == VSOCK_OP_RST || t->nrst == VSOCK_MAX_RST)
		return;
	t->rst[t->nrst++] = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = t->guest_cid,
		.src_port = to->dst_port,
		.dst_port = to->src_port,
		.type = VSOCK_TYPE_STREAM,
		.op = VSOCK_OP_RST,
	};
}

void vsock_reset(struct vsock_conn *c)
{
	c->pending = VSOCK_PEND_RST; /* nothing else matters any more */
	c->state = VSOCK_CLOSING;
}

static void peer_credit(struct vsock_conn *c, const struct vsock_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	if (vsock_credit(c))
		c->credreq_sent = false;
}

enum vsock_action vsock_input(struct vsock_table *t, const struct vsock_hdr *h, const uint8_t *payload,
			      struct vsock_conn **conn)
{
	struct vsock_conn *c = lookup(t, h->dst_port, h->src_port);
	*conn = c;
	if (!c || c->pending & VSOCK_PEND_RST) {
		if (c)
			return VSOCK_ACT_NONE; /* already being reset */
		if (h->op == VSOCK_OP_REQUEST)
			return VSOCK_ACT_LISTEN;
		queue_rst(t, h);
		return VSOCK_ACT_NONE;
	}
	peer_credit(c, h);
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_CONNECTING)
			break;
		c->state = VSOCK_CONNECTED;
		return VSOCK_ACT_ESTABLISHED;
	case VSOCK_OP_RST:
		c->pending = 0;
		return VSOCK_ACT_CLOSED;
	case VSOCK_OP_REQUEST:
		break; /* a second REQUEST for a live connection */
	case VSOCK_OP_SHUTDOWN:
		if (c->state == VSOCK_CONNECTING)
			break;
		c->peer_shut_send |= (h->flags & VSOCK_SHUTDOWN_SEND) != 0;
		c->peer_shut_rcv |= (h->flags & VSOCK_SHUTDOWN_RCV) != 0;
		if (c->peer_shut_send && c->peer_shut_rcv)
			c->state = VSOCK_CLOSING; /* RST once the ring is written (vsock_consumed) */
		if (c->state == VSOCK_CLOSING && c->buf_len == 0)
			vsock_reset(c);
		return VSOCK_ACT_SHUTDOWN;
	case VSOCK_OP_RW: {
		if (c->state != VSOCK_CONNECTED || c->peer_shut_send)
			break;
		/* §5.10.6.3: the guest may send what our buf_alloc minus the
		 * unconsumed bytes allows; more is a broken (or hostile) driver. */
		if (h->len > VSOCK_BUF_ALLOC - c->buf_len) {
			vsock_reset(c);
			return VSOCK_ACT_NONE;
		}
		uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
		uint32_t first = h->len < VSOCK_BUF_ALLOC - tail ? h->len : VSOCK_BUF_ALLOC - tail;
		memcpy(c->buf + tail, payload, first);
		memcpy(c->buf, payload + first, h->len - first);
		c->buf_len += h->len;
		c->rx_cnt += h->len;
		return h->len ? VSOCK_ACT_DATA : VSOCK_ACT_NONE;
	}
	case VSOCK_OP_CREDIT_UPDATE:
		return VSOCK_ACT_NONE; /* peer_credit took it */
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= VSOCK_PEND_CREDIT;
		return VSOCK_ACT_NONE;
	}
	/* An op the connection's state does not allow: reset it. */
	vsock_reset(c);
	return VSOCK_ACT_NONE;
}

struct vsock_conn *vsock_connect(struct vsock_table *t, uint32_t guest_port, int fd)
{
	/* A local port no live connection to guest_port uses. */
	for (unsigned tries = 0; tries < VSOCK_MAX_CONNS + 1; tries++) {
		uint32_t port = t->next_local_port++;
		if (t->next_local_port == 0)
			t->next_local_port = VSOCK_LOCAL_PORT_BASE;
		if (lookup(t, port, guest_port))
			continue;
		struct vsock_conn *c = alloc(t, port, guest_port, fd);
		if (c) {
			c->state = VSOCK_CONNECTING;
			c->pending = VSOCK_PEND_REQUEST;
		}
		return c;
	}
	return NULL;
}

struct vsock_conn *vsock_accept(struct vsock_table *t, const struct vsock_hdr *req, int fd)
{
	struct vsock_conn *c = alloc(t, req->dst_port, req->src_port, fd);
	if (!c) {
		queue_rst(t, req);
		return NULL;
	}
	c->state = VSOCK_CONNECTED;
	c->pending = VSOCK_PEND_RESPONSE;
	peer_credit(c, req);
	return c;
}

void vsock_refuse(struct vsock_table *t, const struct vsock_hdr *req)
{
	queue_rst(t, req);
}

void vsock_host_eof(struct vsock_conn *c)
{
	if (c->state != VSOCK_CONNECTED || c->shut_flags & VSOCK_SHUTDOWN_SEND)
		return;
	c->shut_flags |= VSOCK_SHUTDOWN_SEND;
	c->pending |= VSOCK_PEND_SHUTDOWN;
}

void vsock_free(struct vsock_conn *c)
{
	c->state = VSOCK_FREE;
	c->pending = 0;
	c->fd = -1;
}

uint32_t vsock_credit(const struct vsock_conn *c)
{
	if (c->state != VSOCK_CONNECTED || c->peer_shut_rcv || c->pending & VSOCK_PEND_RST)
		return 0;
	/* Free-running 32-bit counters (§5.10.6.3): the difference is exact. */
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

void vsock_sent(struct vsock_conn *c, uint32_t n)
{
	c->tx_cnt += n;
}

void vsock_consumed(struct vsock_conn *c, uint32_t n)
{
	if (n > c->buf_len)
		n = c->buf_len;
	c->buf_head = (c->buf_head + n) % VSOCK_BUF_ALLOC;
	c->buf_len -= n;
	c->fwd_cnt += n;
	/* Tell the guest about freed space once half the buffer is free
	 * again since we last told it, so it never stalls on a full window. */
	if (c->fwd_cnt - c->fwd_cnt_told >= VSOCK_BUF_ALLOC / 2)
		c->pending |= VSOCK_PEND_CREDIT;
	if (c->state == VSOCK_CLOSING && c->buf_len == 0 && !(c->pending & VSOCK_PEND_RST))
		vsock_reset(c);
}

void vsock_conn_hdr(struct vsock_table *t, struct vsock_conn *c, uint16_t op, uint32_t len, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = t->guest_cid,
		.src_port = c->local_port,
		.dst_port = c->peer_port,
		.len = len,
		.type = VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = VSOCK_BUF_ALLOC,
		.fwd_cnt = c->fwd_cnt,
	};
	c->fwd_cnt_told = c->fwd_cnt;
}

bool vsock_next(struct vsock_table *t, struct vsock_hdr *h, struct vsock_conn **conn)
{
	if (t->nrst) {
		*h = t->rst[0];
		memmove(t->rst, t->rst + 1, --t->nrst * sizeof(t->rst[0]));
		*conn = NULL;
		return true;
	}
	static const struct {
		uint32_t bit;
		uint16_t op;
	} order[] = {
		{ VSOCK_PEND_RST, VSOCK_OP_RST },           { VSOCK_PEND_REQUEST, VSOCK_OP_REQUEST },
		{ VSOCK_PEND_RESPONSE, VSOCK_OP_RESPONSE }, { VSOCK_PEND_SHUTDOWN, VSOCK_OP_SHUTDOWN },
		{ VSOCK_PEND_CREDIT, VSOCK_OP_CREDIT_UPDATE }, { VSOCK_PEND_CREDREQ, VSOCK_OP_CREDIT_REQUEST },
	};
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];
		if (!c->pending)
			continue;
		for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			if (!(c->pending & order[k].bit))
				continue;
			vsock_conn_hdr(t, c, order[k].op, 0, h);
			if (order[k].bit == VSOCK_PEND_SHUTDOWN)
				h->flags = c->shut_flags;
			c->pending = order[k].bit == VSOCK_PEND_RST ? 0 : c->pending & ~order[k].bit;
			*conn = c;
			return true;
		}
	}
	return false;
}

bool vsock_pending(const struct vsock_table *t)
{
	if (t->nrst)
		return true;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (t->conns[i].pending)
			return true;
	return false;
}
