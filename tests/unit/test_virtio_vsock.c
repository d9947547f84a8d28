/* virtio-vsock's pure parts (virtio 1.2 §5.10.6): the 44-byte header at
 * the spec's offsets, the checks on every guest header, the connection
 * state machine and credit accounting fed packet sequences, Firecracker's
 * CONNECT line parser fed hostile lines, and the Unix socket helpers. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "dev/virtio/vsock_conn.h"
#include "unit.h"

#define GUEST 3

static struct vsock_hdr from_guest(uint16_t op, uint32_t sport, uint32_t dport)
{
	return (struct vsock_hdr){ .src_cid = GUEST, .dst_cid = 2, .src_port = sport, .dst_port = dport,
				   .type = VSOCK_TYPE_STREAM, .op = op, .buf_alloc = 4096, .fwd_cnt = 0 };
}

static void test_header(void)
{
	/* §5.10.6: le64 src_cid, le64 dst_cid, le32 src_port, le32 dst_port,
	 * le32 len, le16 type, le16 op, le32 flags, buf_alloc, fwd_cnt. */
	uint8_t raw[VSOCK_HDR_SIZE];
	for (unsigned i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i + 1);
	struct vsock_hdr h;
	vsock_hdr_decode(raw, &h);
	CHECK_EQ(h.src_cid, 0x0807060504030201ULL);
	CHECK_EQ(h.dst_cid, 0x100f0e0d0c0b0a09ULL);
	CHECK_EQ(h.src_port, 0x14131211);
	CHECK_EQ(h.dst_port, 0x18171615);
	CHECK_EQ(h.len, 0x1c1b1a19);
	CHECK_EQ(h.type, 0x1e1d);
	CHECK_EQ(h.op, 0x201f);
	CHECK_EQ(h.flags, 0x24232221);
	CHECK_EQ(h.buf_alloc, 0x28272625);
	CHECK_EQ(h.fwd_cnt, 0x2c2b2a29);
	uint8_t back[VSOCK_HDR_SIZE];
	vsock_hdr_encode(&h, back);
	CHECK(memcmp(raw, back, sizeof(raw)) == 0);
}

static void test_check(void)
{
	struct vsock_hdr h = from_guest(VSOCK_OP_REQUEST, 1000, 52);
	CHECK_EQ(vsock_hdr_check(&h, GUEST, 0), 0);
	struct vsock_hdr b = h;
	b.src_cid = 4; /* spoofed source: §5.10.6.1 */
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.dst_cid = 5; /* not to the host */
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.dst_cid = 2 | (1ULL << 32); /* the upper half counts */
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.type = 2; /* seqpacket: not offered */
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.op = 0;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.op = 8;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.op = 0xffff;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	/* len: at most what the chain holds, at most 64 KiB, only on RW. */
	b = from_guest(VSOCK_OP_RW, 1, 2), b.len = 100;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 100), 0);
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 99), -EINVAL);
	b.len = 0xffffffff;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, ~0ULL), -EINVAL);
	b.len = VSOCK_MAX_PAYLOAD + 1;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, ~0ULL), -EINVAL);
	b = h, b.len = 1;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 1), -EINVAL);
	/* flags: shutdown bits on SHUTDOWN only */
	b = from_guest(VSOCK_OP_SHUTDOWN, 1, 2), b.flags = 3;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), 0);
	b.flags = 4;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
	b = h, b.flags = 1;
	CHECK_EQ(vsock_hdr_check(&b, GUEST, 0), -EINVAL);
}

/* Takes the next control packet and checks its op and ports. */
static void expect_next(struct vsock_table *t, uint16_t op, uint32_t sport, uint32_t dport, struct vsock_conn *conn)
{
	struct vsock_hdr h;
	struct vsock_conn *c = (void *)1;
	CHECK(vsock_next(t, &h, &c));
	CHECK_EQ(h.op, op);
	CHECK_EQ(h.src_cid, 2);
	CHECK_EQ(h.dst_cid, GUEST);
	CHECK_EQ(h.src_port, sport);
	CHECK_EQ(h.dst_port, dport);
	CHECK_EQ(h.type, VSOCK_TYPE_STREAM);
	CHECK_EQ(h.buf_alloc, op == VSOCK_OP_RST && !conn ? 0 : VSOCK_BUF_ALLOC);
	CHECK(c == conn);
}

static void test_host_initiated(struct vsock_table *t)
{
	vsock_table_init(t, GUEST);
	struct vsock_conn *c = vsock_connect(t, 52, 7);
	CHECK(c != NULL);
	CHECK_EQ(c->local_port, VSOCK_LOCAL_PORT_BASE);
	CHECK_EQ(c->state, VSOCK_CONNECTING);
	CHECK_EQ(vsock_credit(c), 0); /* nothing to the guest before it accepts */
	expect_next(t, VSOCK_OP_REQUEST, VSOCK_LOCAL_PORT_BASE, 52, c);
	CHECK(!vsock_pending(t));
	/* RW before RESPONSE breaks the protocol: RST. */
	struct vsock_conn *got;
	struct vsock_hdr h = from_guest(VSOCK_OP_RESPONSE, 52, VSOCK_LOCAL_PORT_BASE);
	h.buf_alloc = 1000;
	h.fwd_cnt = 0;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_ESTABLISHED);
	CHECK(got == c);
	CHECK_EQ(c->state, VSOCK_CONNECTED);
	/* Credit: buf_alloc - (tx_cnt - fwd_cnt), never more. */
	CHECK_EQ(vsock_credit(c), 1000);
	vsock_sent(c, 600);
	CHECK_EQ(vsock_credit(c), 400);
	vsock_sent(c, 400);
	CHECK_EQ(vsock_credit(c), 0);
	h = from_guest(VSOCK_OP_CREDIT_UPDATE, 52, VSOCK_LOCAL_PORT_BASE);
	h.buf_alloc = 1000;
	h.fwd_cnt = 700;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_NONE);
	CHECK_EQ(vsock_credit(c), 700);
	/* A guest that shrinks its buffer below what is in flight: 0, not a wrap. */
	h.buf_alloc = 100;
	h.fwd_cnt = 0;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_NONE);
	CHECK_EQ(vsock_credit(c), 0);
	/* Counters wrap at 2^32 (§5.10.6.3): the difference stays right. */
	c->tx_cnt = 0xfffffff0u;
	h.buf_alloc = 0x100;
	h.fwd_cnt = 0xffffffe0u;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_NONE);
	CHECK_EQ(vsock_credit(c), 0xf0);
	vsock_sent(c, 0x20); /* tx_cnt wraps to 0x10 */
	CHECK_EQ(vsock_credit(c), 0xd0);

	/* Data from the guest: into the ring, within our credit. */
	uint8_t data[VSOCK_BUF_ALLOC];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	h = from_guest(VSOCK_OP_RW, 52, VSOCK_LOCAL_PORT_BASE);
	h.len = 5000;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_DATA);
	CHECK_EQ(c->buf_len, 5000);
	CHECK_EQ(c->rx_cnt, 5000);
	CHECK(memcmp(c->buf, data, 5000) == 0);
	vsock_consumed(c, 5000);
	CHECK_EQ(c->fwd_cnt, 5000);
	CHECK(!vsock_pending(t)); /* less than half the buffer freed: no update yet */
	/* The ring wraps: the bytes come out in order. */
	h.len = VSOCK_BUF_ALLOC - 1000;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_DATA);
	CHECK_EQ(c->buf_head, 5000);
	CHECK(memcmp(c->buf + 5000, data, VSOCK_BUF_ALLOC - 5000) == 0);
	CHECK(memcmp(c->buf, data + VSOCK_BUF_ALLOC - 5000, 4000) == 0);
	/* 1000 bytes of room left: 1001 is more than we advertised: RST. */
	h.len = 1001;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_NONE);
	CHECK_EQ(c->buf_len, VSOCK_BUF_ALLOC - 1000);
	expect_next(t, VSOCK_OP_RST, VSOCK_LOCAL_PORT_BASE, 52, c);
	CHECK(!vsock_pending(t));
	/* The glue closes and frees it; the slot is reusable. */
	vsock_free(c);
	CHECK_EQ(c->state, VSOCK_FREE);
	/* A packet for it now: an RST reply, from the port it names. */
	h = from_guest(VSOCK_OP_RW, 52, VSOCK_LOCAL_PORT_BASE);
	h.len = 1;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_NONE);
	CHECK(got == NULL);
	expect_next(t, VSOCK_OP_RST, VSOCK_LOCAL_PORT_BASE, 52, NULL);
	/* ...but an RST is never answered with one. */
	h = from_guest(VSOCK_OP_RST, 52, VSOCK_LOCAL_PORT_BASE);
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_NONE);
	CHECK(!vsock_pending(t));
	/* The next host connection gets the next port. */
	c = vsock_connect(t, 52, 8);
	CHECK_EQ(c->local_port, VSOCK_LOCAL_PORT_BASE + 1);
	/* The guest refuses it: RST closes it. */
	expect_next(t, VSOCK_OP_REQUEST, VSOCK_LOCAL_PORT_BASE + 1, 52, c);
	h = from_guest(VSOCK_OP_RST, 52, VSOCK_LOCAL_PORT_BASE + 1);
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_CLOSED);
	CHECK(got == c && c->fd == 8);
	vsock_free(c);
}

static void test_guest_initiated(struct vsock_table *t)
{
	vsock_table_init(t, GUEST);
	struct vsock_conn *got;
	struct vsock_hdr req = from_guest(VSOCK_OP_REQUEST, 1025, 9000);
	req.buf_alloc = 262144;
	CHECK_EQ(vsock_input(t, &req, NULL, &got), VSOCK_ACT_LISTEN);
	/* Nobody listens on PATH_9000: RST. */
	vsock_refuse(t, &req);
	expect_next(t, VSOCK_OP_RST, 9000, 1025, NULL);
	/* Somebody does: RESPONSE, the guest's credit known from its REQUEST. */
	CHECK_EQ(vsock_input(t, &req, NULL, &got), VSOCK_ACT_LISTEN);
	struct vsock_conn *c = vsock_accept(t, &req, 11);
	CHECK(c != NULL);
	CHECK_EQ(vsock_credit(c), 262144);
	expect_next(t, VSOCK_OP_RESPONSE, 9000, 1025, c);
	/* A second REQUEST on a live connection resets it. */
	CHECK_EQ(vsock_input(t, &req, NULL, &got), VSOCK_ACT_NONE);
	expect_next(t, VSOCK_OP_RST, 9000, 1025, c);
	vsock_free(c);

	/* Again, then half-closes both ways. */
	CHECK_EQ(vsock_input(t, &req, NULL, &got), VSOCK_ACT_LISTEN);
	c = vsock_accept(t, &req, 12);
	expect_next(t, VSOCK_OP_RESPONSE, 9000, 1025, c);
	struct vsock_hdr h = from_guest(VSOCK_OP_CREDIT_REQUEST, 1025, 9000);
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_NONE);
	expect_next(t, VSOCK_OP_CREDIT_UPDATE, 9000, 1025, c);
	uint8_t data[300] = { 1, 2, 3 };
	h = from_guest(VSOCK_OP_RW, 1025, 9000);
	h.len = 300;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_DATA);
	/* The host side ends: SHUTDOWN(SEND) once, no more data to the guest. */
	vsock_host_eof(c);
	vsock_host_eof(c);
	struct vsock_hdr out;
	struct vsock_conn *oc;
	CHECK(vsock_next(t, &out, &oc));
	CHECK_EQ(out.op, VSOCK_OP_SHUTDOWN);
	CHECK_EQ(out.flags, VSOCK_SHUTDOWN_SEND);
	CHECK_EQ(out.fwd_cnt, 0); /* nothing consumed yet */
	CHECK(!vsock_pending(t));
	/* The guest closes: SHUTDOWN both; RST only after its 300 bytes are written. */
	h = from_guest(VSOCK_OP_SHUTDOWN, 1025, 9000);
	h.flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_SHUTDOWN);
	CHECK(c->peer_shut_send && c->peer_shut_rcv);
	CHECK_EQ(vsock_credit(c), 0);
	CHECK(!vsock_pending(t));
	vsock_consumed(c, 300);
	CHECK_EQ(c->fwd_cnt, 300);
	expect_next(t, VSOCK_OP_RST, 9000, 1025, c);
	vsock_free(c);

	/* RW after the guest's SHUTDOWN(SEND): a protocol error, RST. */
	CHECK_EQ(vsock_input(t, &req, NULL, &got), VSOCK_ACT_LISTEN);
	c = vsock_accept(t, &req, 13);
	expect_next(t, VSOCK_OP_RESPONSE, 9000, 1025, c);
	h = from_guest(VSOCK_OP_SHUTDOWN, 1025, 9000);
	h.flags = VSOCK_SHUTDOWN_SEND;
	CHECK_EQ(vsock_input(t, &h, NULL, &got), VSOCK_ACT_SHUTDOWN);
	CHECK(!vsock_pending(t));
	h = from_guest(VSOCK_OP_RW, 1025, 9000);
	h.len = 1;
	CHECK_EQ(vsock_input(t, &h, data, &got), VSOCK_ACT_NONE);
	CHECK_EQ(c->buf_len, 0);
	expect_next(t, VSOCK_OP_RST, 9000, 1025, c);
	vsock_free(c);

	/* The table is bounded: VSOCK_MAX_CONNS, then RST. */
	unsigned n = 0;
	for (uint32_t p = 0; p < VSOCK_MAX_CONNS + 5; p++) {
		struct vsock_hdr r = from_guest(VSOCK_OP_REQUEST, 2000 + p, 9000);
		CHECK_EQ(vsock_input(t, &r, NULL, &got), VSOCK_ACT_LISTEN);
		if (vsock_accept(t, &r, 100 + (int)p))
			n++;
	}
	CHECK_EQ(n, VSOCK_MAX_CONNS);
	CHECK(vsock_connect(t, 5, 1) == NULL);
	unsigned resp = 0, rst = 0;
	while (vsock_next(t, &out, &oc)) {
		resp += out.op == VSOCK_OP_RESPONSE;
		rst += out.op == VSOCK_OP_RST;
	}
	CHECK_EQ(resp, VSOCK_MAX_CONNS);
	CHECK_EQ(rst, 5);
	/* A flood of packets for no connection: the RST queue is bounded. */
	vsock_table_init(t, GUEST);
	for (uint32_t p = 0; p < 1000; p++) {
		struct vsock_hdr r = from_guest(VSOCK_OP_RW, p, 1);
		vsock_input(t, &r, NULL, &got);
	}
	CHECK_EQ(t->nrst, VSOCK_MAX_RST);
}

static void test_connect_line(void)
{
	uint32_t port = 0;
	const char *l = "CONNECT 52\n";
	for (size_t n = 0; n < strlen(l); n++)
		CHECK_EQ(vsock_uds_parse_connect(l, n, &port), 0); /* a valid beginning */
	CHECK_EQ(vsock_uds_parse_connect(l, strlen(l), &port), 1);
	CHECK_EQ(port, 52);
	CHECK_EQ(vsock_uds_parse_connect("CONNECT 4294967295\n", 19, &port), 1);
	CHECK_EQ(port, 4294967295u);
	CHECK_EQ(vsock_uds_parse_connect("CONNECT 0\n", 10, &port), 1);
	CHECK_EQ(port, 0);
	static const char *const bad[] = {
		"CONNECT 4294967296\n", /* 2^32 */
		"CONNECT 99999999999\n",
		"CONNECT 00000000001\n", /* 11 digits */
		"CONNECT \n",
		"CONNECT -1\n",
		"CONNECT 5 \n",
		"CONNECT 5\r\n",
		"connect 5\n",
		"CONNECT5\n",
		"CONNECTX",
		"GET / HTTP/1.0\n",
		"CONNECT 5\nX", /* bytes after the newline are not the parser's */
		"CONNECT 0x10\n",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = vsock_uds_parse_connect(bad[i], strlen(bad[i]), &port);
		CHECK_EQ(r, -EINVAL);
		if (r != -EINVAL)
			fprintf(stderr, "  accepted: '%s'\n", bad[i]);
	}
	/* No newline within the line limit: refused, not waited for forever. */
	char longl[VSOCK_UDS_LINE_MAX + 8];
	memset(longl, '0', sizeof(longl));
	memcpy(longl, "CONNECT ", 8);
	CHECK_EQ(vsock_uds_parse_connect(longl, VSOCK_UDS_LINE_MAX, &port), -EINVAL);
	CHECK_EQ(vsock_uds_parse_connect(longl, 0, &port), 0);
	char ok[VSOCK_UDS_LINE_MAX];
	CHECK_EQ(vsock_uds_ok_line(1073741824u, ok), 14);
	CHECK(memcmp(ok, "OK 1073741824\n", 14) == 0);
}

static void test_sockets(void)
{
	char dir[] = "/tmp/vmon-test-vsock-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	char path[128], p52[140];
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	snprintf(p52, sizeof(p52), "%s_52", path);
	int l, l2, fd;
	CHECK_EQ(vsock_uds_listen(path, &l), 0);
	/* A live listener: a second vmon is refused. */
	CHECK_EQ(vsock_uds_listen(path, &l2), -EADDRINUSE);
	close(l);
	/* A stale socket file (its vmon died): replaced. */
	CHECK_EQ(vsock_uds_listen(path, &l), 0);
	/* PATH_P: nobody there, then a listener. */
	CHECK(vsock_uds_connect_port(path, 52, &fd) < 0);
	int lp;
	CHECK_EQ(vsock_uds_listen(p52, &lp), 0);
	CHECK_EQ(vsock_uds_connect_port(path, 52, &fd), 0);
	CHECK(write(fd, "x", 1) == 1);
	int a = accept(lp, NULL, NULL);
	char b = 0;
	CHECK(a >= 0 && read(a, &b, 1) == 1 && b == 'x');
	close(a), close(fd), close(lp), close(l);
	/* A path too long for sun_path. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_EQ(vsock_uds_listen(longp, &l), -ENAMETOOLONG);
	unlink(path), unlink(p52), rmdir(dir);
}

int main(void)
{
	static struct vsock_table t; /* 4 MiB of rings: not on the stack */
	test_header();
	test_check();
	test_host_initiated(&t);
	test_guest_initiated(&t);
	test_connect_line();
	test_sockets();
	return unit_report("virtio_vsock");
}
