/* The virtio-net packet header and the pure parts of the device (virtio
 * 1.2 §5.1.6): checking a header the driver sent, building the iovec list
 * handed to the tap, and planning how a received frame spreads over the
 * driver's receive buffers. No I/O here: unit tests and the fuzzer call
 * these directly. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_NET_HDR_H
#define VMON_DEV_VIRTIO_VIRTIO_NET_HDR_H

#include <stdint.h>
#include <sys/uio.h>

/* Feature bits (§5.1.3) */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU        3
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN  9
#define VIRTIO_NET_F_GUEST_UFO  10
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_HOST_ECN   13
#define VIRTIO_NET_F_HOST_UFO   14
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_F_CTRL_VQ    17

/* struct virtio_net_hdr flags and gso_type (§5.1.6) */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4
#define VIRTIO_NET_HDR_GSO_NONE   0
#define VIRTIO_NET_HDR_GSO_TCPV4  1
#define VIRTIO_NET_HDR_GSO_UDP    3
#define VIRTIO_NET_HDR_GSO_TCPV6  4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN    0x80

/* With VIRTIO_F_VERSION_1 the header always has num_buffers: 12 bytes,
 * little-endian fields (§5.1.6). */
#define VIRTIO_NET_HDR_SIZE 12
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_net_hdr_v1) == VIRTIO_NET_HDR_SIZE, "virtio_net_hdr_v1 is 12 bytes");
#define VIRTIO_NET_HDR_NUM_BUFFERS_OFF 10

/* Frames (without the header): at least an Ethernet header, at most a
 * 64 KiB IP packet behind an Ethernet and a VLAN header (TSO). */
#define VIRTIO_NET_MIN_FRAME 14
#define VIRTIO_NET_MAX_FRAME (14 + 4 + 65535)

/* Checks the header of a frame the driver sent (raw: its first 12 bytes,
 * little-endian) against the negotiated features (§5.1.6.2): a gso_type
 * needs its HOST_* feature, ECN needs HOST_ECN, any GSO needs NEEDS_CSUM
 * and a non-zero gso_size; NEEDS_CSUM needs VIRTIO_NET_F_CSUM and a checksum
 * field inside the frame (csum_start + csum_offset + 2 <= frame_len).
 * frame_len is the length after the header. Flag bits the device does not
 * know are ignored (§5.1.6.2.2) and cleared in *out, num_buffers zeroed.
 * Returns 0, or -EINVAL with *why saying what is wrong. */
int virtio_net_hdr_tx_check(const uint8_t raw[VIRTIO_NET_HDR_SIZE], uint64_t frame_len, uint64_t features,
			    struct virtio_net_hdr_v1 *out, const char **why);

/* The readable buffers of a transmit chain (iov[0..n)) minus their first
 * skip bytes, as a new list in out (at most max entries; zero-length parts
 * dropped). Returns the number of entries, or -E2BIG when max is too
 * small, or -EINVAL when the buffers hold fewer than skip bytes. */
int virtio_net_hdr_tx_iov(const struct iovec *iov, unsigned n, uint64_t skip, struct iovec *out, unsigned max);

/* The header received from the tap, fixed for the driver (§5.1.6.4):
 * without GUEST_CSUM no checksum flags at all, and num_buffers (1 without
 * mergeable buffers). hdr is VIRTIO_NET_HDR_SIZE bytes, modified. */
void virtio_net_hdr_rx_fixup(uint8_t *hdr, uint64_t features, uint16_t num_buffers);

/* How a received frame of total bytes (header included) spreads over
 * receive chains whose writable capacities are cap[0..n), in order
 * (§5.1.6.3/§5.1.6.4). Mergeable: chains are filled in turn, each as full
 * as it goes; without: the first chain alone must hold it. Returns the
 * number of chains used (their byte counts in used[]), 0 when the chains
 * so far are not enough yet (mergeable: more may come), or -E2BIG when the
 * frame can never fit (without mergeable buffers: the first chain is too
 * small; mergeable: n chains reached max_chains). */
int virtio_net_hdr_rx_plan(uint64_t total, const uint64_t *cap, unsigned n, int mergeable, unsigned max_chains,
			   uint32_t *used);

#endif
