// FUZZ_SRCS: src/dev/virtio/vsock_conn.c src/backend/vsock_uds.c
/* libFuzzer target for virtio-vsock's packet protocol (virtio 1.2 §5.10.6):
 * the input is a hostile guest (and an odd host) scripting packets and
 * host events against the connection table, the way virtio_vsock.c drives
 * it. Every invariant of vsock_conn.h is checked after each step; a broken
 * one aborts, which libFuzzer reports.
 *
 * Input: records of one kind byte then its operands:
 *   0: a guest packet: 44 header bytes (as read from a chain), then the
 *      payload: the header's len bytes if the input still holds them (the
 *      chain's readable part is what remains, as the device computes it)
 *   1: a host CONNECT: le32 guest port
 *   2: host EOF on connection (byte % VSOCK_MAX_CONNS)
 *   3: the host socket consumed le16 bytes of connection (byte)'s ring
 *   4: the device sends control packets and data: byte = how many, and
 *      for data it sends min(credit, 4096) on each connection
 *   5: a CONNECT line: byte n, then n bytes fed to the parser prefix by prefix
 *   6: the host side of connection (byte) fails: RST */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vsock_uds.h"
#include "dev/virtio/vsock_conn.h"

#define REQUIRE(cond) \
	do { if (!(cond)) abort(); } while (0)
#define CID 3

static void invariants(const struct vsock_table *t)
{
	REQUIRE(t->nrst <= VSOCK_MAX_RST);
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = &t->conns[i];
		REQUIRE(c->state <= VSOCK_CLOSING);
		if (c->state == VSOCK_FREE)
			continue;
		REQUIRE(c->buf_len <= VSOCK_BUF_ALLOC && c->buf_head < VSOCK_BUF_ALLOC);
		/* Never more than the guest's advertised credit (§5.10.6.3). */
		uint32_t credit = vsock_credit(c);
		REQUIRE(credit <= c->peer_buf_alloc);
		REQUIRE(credit == 0 || (uint32_t)(c->tx_cnt - c->peer_fwd_cnt) + credit == c->peer_buf_alloc);
		/* What we hold is what the guest sent minus what we forwarded. */
		REQUIRE(c->rx_cnt - c->fwd_cnt == c->buf_len);
		/* Two live connections never share a port pair. */
		for (unsigned k = i + 1; k < VSOCK_MAX_CONNS; k++) {
			const struct vsock_conn *o = &t->conns[k];
			REQUIRE(o->state == VSOCK_FREE || o->local_port != c->local_port || o->peer_port != c->peer_port);
		}
	}
}

static void check_out(const struct vsock_table *t, const struct vsock_hdr *h)
{
	REQUIRE(h->src_cid == VSOCK_HOST_CID && h->dst_cid == t->guest_cid);
	REQUIRE(h->type == VSOCK_TYPE_STREAM && h->op >= VSOCK_OP_REQUEST && h->op <= VSOCK_OP_CREDIT_REQUEST);
	REQUIRE(h->op == VSOCK_OP_SHUTDOWN ? (h->flags & ~3u) == 0 : h->flags == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vsock_table t;
	static uint8_t payload[VSOCK_MAX_PAYLOAD];
	vsock_table_init(&t, CID);
	int next_fd = 100;
	size_t i = 0;
	while (i < size) {
		uint8_t kind = data[i++] % 7;
		struct vsock_conn *c;
		struct vsock_hdr h;
		switch (kind) {
		case 0: {
			if (size - i < VSOCK_HDR_SIZE)
				return 0;
			vsock_hdr_decode(data + i, &h);
			i += VSOCK_HDR_SIZE;
			uint64_t avail = size - i;
			if (vsock_hdr_check(&h, CID, avail) < 0) {
				if (h.src_cid == CID && h.dst_cid == VSOCK_HOST_CID)
					vsock_refuse(&t, &h);
				break;
			}
			REQUIRE(h.len <= avail && h.len <= VSOCK_MAX_PAYLOAD);
			memcpy(payload, data + i, h.len);
			i += h.len;
			switch (vsock_input(&t, &h, payload, &c)) {
			case VSOCK_ACT_LISTEN:
				REQUIRE(h.op == VSOCK_OP_REQUEST);
				if (h.dst_port & 1)
					vsock_refuse(&t, &h);
				else if ((c = vsock_accept(&t, &h, next_fd)) != NULL)
					next_fd++;
				break;
			case VSOCK_ACT_DATA:
				REQUIRE(c && c->buf_len >= h.len && h.len > 0);
				break;
			case VSOCK_ACT_CLOSED:
				REQUIRE(c && c->state != VSOCK_FREE);
				vsock_free(c);
				break;
			case VSOCK_ACT_ESTABLISHED:
				REQUIRE(c && c->state == VSOCK_CONNECTED);
				break;
			case VSOCK_ACT_SHUTDOWN:
				REQUIRE(c);
				break;
			case VSOCK_ACT_NONE:
				break;
			}
			break;
		}
		case 1:
			if (size - i < 4)
				return 0;
			(void)vsock_connect(&t, (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
						    (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3] << 24,
					    next_fd++);
			i += 4;
			break;
		case 2:
			if (i < size && t.conns[data[i] % VSOCK_MAX_CONNS].state != VSOCK_FREE)
				vsock_host_eof(&t.conns[data[i] % VSOCK_MAX_CONNS]);
			i++;
			break;
		case 3:
			if (size - i < 3)
				return 0;
			c = &t.conns[data[i] % VSOCK_MAX_CONNS];
			if (c->state != VSOCK_FREE)
				vsock_consumed(c, (uint32_t)data[i + 1] | (uint32_t)data[i + 2] << 8);
			i += 3;
			break;
		case 4: {
			unsigned n = i < size ? data[i++] : 1;
			for (unsigned k = 0; k < n && vsock_next(&t, &h, &c); k++) {
				check_out(&t, &h);
				if (c && h.op == VSOCK_OP_RST)
					vsock_free(c);
			}
			for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
				uint32_t credit = vsock_credit(&t.conns[k]);
				if (credit) {
					uint32_t len = credit < 4096 ? credit : 4096;
					vsock_conn_hdr(&t, &t.conns[k], VSOCK_OP_RW, len, &h);
					check_out(&t, &h);
					vsock_sent(&t.conns[k], len);
				}
			}
			break;
		}
		case 5: {
			if (i >= size)
				return 0;
			size_t n = data[i++];
			if (n > size - i)
				n = size - i;
			uint32_t port;
			for (size_t k = 0; k <= n; k++) {
				int r = vsock_uds_parse_connect((const char *)data + i, k, &port);
				REQUIRE(r == 0 || r == 1 || r == -22);
				if (r != 0) {
					REQUIRE(r < 0 || (k > 9 && data[i + k - 1] == '\n'));
					break;
				}
			}
			i += n;
			break;
		}
		case 6:
			if (i < size && t.conns[data[i] % VSOCK_MAX_CONNS].state != VSOCK_FREE)
				vsock_reset(&t.conns[data[i] % VSOCK_MAX_CONNS]);
			i++;
			break;
		}
		invariants(&t);
	}
	return 0;
}
