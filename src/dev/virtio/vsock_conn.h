/* virtio-vsock's packet protocol (virtio 1.2 §5.10.6), the pure part: the
 * 44-byte little-endian header, its validation, and the connection table
 * with its state machine and credit accounting (§5.10.6.3). No host I/O:
 * virtio_vsock.c moves the bytes between the queues and the host sockets.
 *
 * Stream sockets only (VIRTIO_VSOCK_TYPE_STREAM). The guest is untrusted:
 * a header whose CIDs, type, op or length are wrong is dropped (or answered
 * with RST when it names a connection), a guest that sends more than the
 * credit we advertised is reset, and the host side is bounded: at most
 * VSOCK_MAX_CONNS connections of VSOCK_BUF_ALLOC buffered bytes each, and
 * VSOCK_MAX_RST pending replies to packets that name no connection. */
#ifndef VMON_DEV_VIRTIO_VSOCK_CONN_H
#define VMON_DEV_VIRTIO_VSOCK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSOCK_HDR_SIZE 44
#define VSOCK_HOST_CID 2 /* VMADDR_CID_HOST */

#define VSOCK_TYPE_STREAM 1
enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};
#define VSOCK_SHUTDOWN_RCV  1
#define VSOCK_SHUTDOWN_SEND 2

/* Our receive buffer per connection (the buf_alloc we advertise), the
 * largest payload in one packet, and the table's bounds. */
#define VSOCK_BUF_ALLOC (64u * 1024)
#define VSOCK_MAX_PAYLOAD (64u * 1024)
#define VSOCK_MAX_CONNS 64
#define VSOCK_MAX_RST 64
/* Ports vmon gives host-initiated connections (Firecracker's choice too). */
#define VSOCK_LOCAL_PORT_BASE (1u << 30)

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t in[VSOCK_HDR_SIZE], struct vsock_hdr *h);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_SIZE]);
/* A packet from the guest: src_cid is the guest's, dst_cid the host's,
 * the type stream, the op known, len at most VSOCK_MAX_PAYLOAD and the
 * payload bytes the chain holds (avail), a payload only on RW, shutdown
 * flags only on SHUTDOWN. Returns 0 or -EINVAL. */
int vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid, uint64_t avail);

enum vsock_state {
	VSOCK_FREE = 0,
	VSOCK_CONNECTING,  /* host-initiated: REQUEST sent (or to send), no RESPONSE yet */
	VSOCK_CONNECTED,
	VSOCK_CLOSING,     /* the guest shut both ways: RST once our buffer is written */
};

/* Control packets a connection owes the guest (bits of vsock_conn.pending). */
#define VSOCK_PEND_REQUEST  1u
#define VSOCK_PEND_RESPONSE 2u
#define VSOCK_PEND_CREDIT   4u  /* CREDIT_UPDATE */
#define VSOCK_PEND_CREDREQ  8u  /* CREDIT_REQUEST */
#define VSOCK_PEND_SHUTDOWN 16u /* SHUTDOWN with shut_flags */
#define VSOCK_PEND_RST      32u /* then the connection is freed */

struct vsock_conn {
	enum vsock_state state;
	uint32_t local_port, peer_port; /* host side (CID 2), guest side */
	int fd;                         /* the host socket (the glue's) */
	uint32_t pending;               /* VSOCK_PEND_* */
	uint32_t shut_flags;            /* ours, for VSOCK_PEND_SHUTDOWN */
	/* The guest's receive side as it last told us (§5.10.6.3). */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;                /* payload bytes sent to the guest */
	bool peer_shut_send, peer_shut_rcv;
	bool credreq_sent;              /* one CREDIT_REQUEST per stall */
	/* Ours: payload from the guest not yet written to fd, in a ring. */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_told;
	uint32_t buf_head, buf_len;
	uint8_t buf[VSOCK_BUF_ALLOC];
};

struct vsock_table {
	uint64_t guest_cid;
	uint32_t next_local_port;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	struct vsock_hdr rst[VSOCK_MAX_RST]; /* replies to packets of no connection */
	unsigned nrst;
};

void vsock_table_init(struct vsock_table *t, uint64_t guest_cid);

/* What the glue must do after vsock_input. */
enum vsock_action {
	VSOCK_ACT_NONE,        /* handled; maybe packets to send (vsock_next) */
	VSOCK_ACT_LISTEN,      /* a guest REQUEST to host port h->dst_port: connect the host
				  side, then vsock_accept or vsock_refuse */
	VSOCK_ACT_DATA,        /* *conn has new bytes in its ring: write them to its fd */
	VSOCK_ACT_ESTABLISHED, /* a host-initiated *conn got its RESPONSE: tell the host side */
	VSOCK_ACT_CLOSED,      /* *conn is over: close its fd, then vsock_free */
	VSOCK_ACT_SHUTDOWN,    /* the guest shut *conn (peer_shut_*): half-close the host side */
};

/* Feeds one validated guest packet (payload: h->len bytes, RW only). */
enum vsock_action vsock_input(struct vsock_table *t, const struct vsock_hdr *h, const uint8_t *payload,
			      struct vsock_conn **conn);

/* A host-initiated connection to guest port: REQUEST pending. NULL when
 * the table is full. */
struct vsock_conn *vsock_connect(struct vsock_table *t, uint32_t guest_port, int fd);
/* After VSOCK_ACT_LISTEN: the host side is connected (fd): RESPONSE
 * pending. NULL (and RST queued) when the table is full. */
struct vsock_conn *vsock_accept(struct vsock_table *t, const struct vsock_hdr *req, int fd);
/* After VSOCK_ACT_LISTEN: nobody listens on the host: RST. */
void vsock_refuse(struct vsock_table *t, const struct vsock_hdr *req);
/* The host side of c is gone (error, or closed while the guest still
 * sends): RST pending, the connection freed once it is sent. */
void vsock_reset(struct vsock_conn *c);
/* The host side read EOF: SHUTDOWN(SEND) pending. */
void vsock_host_eof(struct vsock_conn *c);
void vsock_free(struct vsock_conn *c);

/* Payload bytes the guest can take now (its credit); 0 when it shut its
 * receive side or the connection is not up. */
uint32_t vsock_credit(const struct vsock_conn *c);
/* The glue sent n payload bytes in an RW packet. */
void vsock_sent(struct vsock_conn *c, uint32_t n);
/* n bytes of the ring were written to the host socket (consumed). */
void vsock_consumed(struct vsock_conn *c, uint32_t n);

/* The next control packet to send, into *h: RST replies first, then the
 * connections' pending packets; its connection (NULL for a reply of no
 * connection) through *conn; false when nothing is pending. After an RST
 * on a connection the glue closes its fd and calls vsock_free. */
bool vsock_next(struct vsock_table *t, struct vsock_hdr *h, struct vsock_conn **conn);
/* Whether vsock_next has a packet. */
bool vsock_pending(const struct vsock_table *t);
/* The header of a packet on c (RW: len is the payload), with our credit. */
void vsock_conn_hdr(struct vsock_table *t, struct vsock_conn *c, uint16_t op, uint32_t len, struct vsock_hdr *h);

#endif
