/* virtio-net's pure parts (virtio 1.2 §5.1.6): the checks on a header the
 * driver sends, hostile ones included; the iovec list handed to the tap;
 * the receive header fixup; how a received frame spreads over receive
 * buffers, mergeable or not. */
#include <errno.h>

#include "dev/virtio/virtio_net_hdr.h"
#include "unit.h"

#define F(bit) (1ULL << (bit))
#define ALL_TX (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN))

static int check(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cstart, uint16_t coff, uint64_t len,
		 uint64_t features, struct virtio_net_hdr_v1 *out)
{
	uint8_t raw[12] = { flags, gso, 54, 0, (uint8_t)gso_size, (uint8_t)(gso_size >> 8), (uint8_t)cstart,
			    (uint8_t)(cstart >> 8), (uint8_t)coff, (uint8_t)(coff >> 8), 0x34, 0x12 };
	const char *why = "";
	int r = virtio_net_hdr_tx_check(raw, len, features, out, &why);
	if (r == 0)
		CHECK(why == NULL);
	else
		CHECK(why != NULL && *why);
	return r;
}

static void test_tx_check(void)
{
	struct virtio_net_hdr_v1 h;
	/* a plain frame; num_buffers (0x1234 from the driver) is zeroed */
	CHECK_EQ(check(0, 0, 0, 0, 0, 60, 0, &h), 0);
	CHECK_EQ(h.flags, 0);
	CHECK_EQ(h.num_buffers, 0);
	CHECK_EQ(h.hdr_len, 54);
	/* flag bits the device does not know are ignored and cleared (§5.1.6.2.2) */
	CHECK_EQ(check(VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO | 0xf8, 0, 0, 0, 0, 60, 0, &h), 0);
	CHECK_EQ(h.flags, 0);
	/* lengths: an Ethernet header at least, 64 KiB + headers at most */
	CHECK_EQ(check(0, 0, 0, 0, 0, 13, 0, &h), -EINVAL);
	CHECK_EQ(check(0, 0, 0, 0, 0, 0, 0, &h), -EINVAL);
	CHECK_EQ(check(0, 0, 0, 0, 0, 14, 0, &h), 0);
	CHECK_EQ(check(0, 0, 0, 0, 0, VIRTIO_NET_MAX_FRAME, 0, &h), 0);
	CHECK_EQ(check(0, 0, 0, 0, 0, VIRTIO_NET_MAX_FRAME + 1, 0, &h), -EINVAL);
	CHECK_EQ(check(0, 0, 0, 0, 0, UINT64_MAX, ALL_TX, &h), -EINVAL);

	/* NEEDS_CSUM: only with VIRTIO_NET_F_CSUM, the 2-byte field inside */
	CHECK_EQ(check(1, 0, 0, 34, 16, 60, F(VIRTIO_NET_F_CSUM), &h), 0);
	CHECK_EQ(h.flags, 1);
	CHECK_EQ(h.csum_start, 34);
	CHECK_EQ(h.csum_offset, 16);
	CHECK_EQ(check(1, 0, 0, 34, 16, 60, 0, &h), -EINVAL);
	CHECK_EQ(check(1, 0, 0, 42, 16, 60, F(VIRTIO_NET_F_CSUM), &h), 0);  /* 42 + 16 + 2 = 60 */
	CHECK_EQ(check(1, 0, 0, 43, 16, 60, F(VIRTIO_NET_F_CSUM), &h), -EINVAL);
	CHECK_EQ(check(1, 0, 0, 0xffff, 0xffff, VIRTIO_NET_MAX_FRAME, F(VIRTIO_NET_F_CSUM), &h), -EINVAL);
	/* csum fields are not looked at without NEEDS_CSUM */
	CHECK_EQ(check(0, 0, 0, 0xffff, 0xffff, 60, 0, &h), 0);

	/* GSO: its HOST_* feature, NEEDS_CSUM and an MSS */
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 9000, ALL_TX, &h), 0);
	CHECK_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(h.gso_size, 1448);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 9000, ALL_TX & ~F(VIRTIO_NET_F_HOST_TSO4), &h),
		 -EINVAL);
	CHECK_EQ(check(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 9000, ALL_TX, &h), -EINVAL);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16, 9000, ALL_TX, &h), -EINVAL);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16, 9000, ALL_TX, &h), 0);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16, 9000, ALL_TX & ~F(VIRTIO_NET_F_HOST_TSO6), &h),
		 -EINVAL);
	/* ECN needs HOST_ECN, and a GSO type under it */
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1428, 54, 16, 9000, ALL_TX, &h), 0);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, 9000,
		       ALL_TX & ~F(VIRTIO_NET_F_HOST_ECN), &h), -EINVAL);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, 9000, ALL_TX, &h), -EINVAL);
	/* UFO is not offered; UDP_L4 (USO) and undefined types are refused */
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_UDP, 1472, 34, 6, 9000, ALL_TX, &h), -EINVAL);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_UDP, 1472, 34, 6, 9000, ALL_TX | F(VIRTIO_NET_F_HOST_UFO), &h), 0);
	CHECK_EQ(check(1, VIRTIO_NET_HDR_GSO_UDP_L4, 1472, 34, 6, 9000, ~0ULL, &h), -EINVAL);
	for (unsigned t = 0; t < 256; t++) {
		unsigned base = t & 0x7f;
		int valid = t == 0 || base == 1 || base == 3 || base == 4; /* ECN on any of them */
		int r = check(1, (uint8_t)t, 1400, 34, 16, 9000, ~0ULL, &h);
		if ((r == 0) != valid)
			fprintf(stderr, "gso_type 0x%x: %d\n", t, r);
		CHECK((r == 0) == valid);
	}
}

static void test_tx_iov(void)
{
	uint8_t b[256];
	struct iovec out[4];
	/* the header split 5 + 7: the frame is the third buffer, whole */
	struct iovec a[] = { { b, 5 }, { b + 5, 7 }, { b + 12, 100 } };
	CHECK_EQ(virtio_net_hdr_tx_iov(a, 3, 12, out, 4), 1);
	CHECK(out[0].iov_base == b + 12 && out[0].iov_len == 100);
	/* the header ends inside a buffer */
	struct iovec c[] = { { b, 3 }, { b + 3, 20 }, { b + 23, 1 } };
	CHECK_EQ(virtio_net_hdr_tx_iov(c, 3, 12, out, 4), 2);
	CHECK(out[0].iov_base == b + 12 && out[0].iov_len == 11);
	CHECK(out[1].iov_base == b + 23 && out[1].iov_len == 1);
	/* zero-length buffers dropped; a header alone gives no entry */
	struct iovec d[] = { { b, 0 }, { b, 12 }, { b + 12, 0 }, { b + 12, 5 } };
	CHECK_EQ(virtio_net_hdr_tx_iov(d, 4, 12, out, 4), 1);
	CHECK(out[0].iov_base == b + 12 && out[0].iov_len == 5);
	CHECK_EQ(virtio_net_hdr_tx_iov(d, 2, 12, out, 4), 0);
	/* fewer bytes than the header: refused; no room in out: refused */
	CHECK_EQ(virtio_net_hdr_tx_iov(c, 1, 12, out, 4), -EINVAL);
	CHECK_EQ(virtio_net_hdr_tx_iov(c, 3, 12, out, 1), -E2BIG);
	CHECK_EQ(virtio_net_hdr_tx_iov(c, 3, 0, out, 3), 3);
}

static void test_rx_fixup(void)
{
	uint8_t h[12] = { 3, VIRTIO_NET_HDR_GSO_TCPV4, 1, 2, 3, 4, 34, 0, 16, 0, 0xee, 0xee };
	virtio_net_hdr_rx_fixup(h, F(VIRTIO_NET_F_GUEST_CSUM), 3);
	CHECK_EQ(h[0], 3);
	CHECK_EQ(h[6], 34);
	CHECK_EQ(h[10], 3);
	CHECK_EQ(h[11], 0);
	/* without GUEST_CSUM: flags and checksum fields zero (§5.1.6.4.1) */
	virtio_net_hdr_rx_fixup(h, F(VIRTIO_NET_F_MRG_RXBUF), 0x0102);
	CHECK_EQ(h[0], 0);
	CHECK(h[6] == 0 && h[7] == 0 && h[8] == 0 && h[9] == 0);
	CHECK_EQ(h[1], VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK(h[10] == 2 && h[11] == 1);  /* little-endian */
}

static void test_rx_plan(void)
{
	uint32_t used[300];
	uint64_t cap[300];
	/* without mergeable buffers: one chain holds it or the frame cannot fit */
	cap[0] = 1526;
	CHECK_EQ(virtio_net_hdr_rx_plan(1526, cap, 1, 0, 256, used), 1);
	CHECK_EQ(used[0], 1526);
	CHECK_EQ(virtio_net_hdr_rx_plan(1527, cap, 1, 0, 256, used), -E2BIG);
	CHECK_EQ(virtio_net_hdr_rx_plan(1526, cap, 0, 0, 256, used), 0);
	/* mergeable: 4000 bytes over 1536-byte buffers take three */
	cap[0] = cap[1] = cap[2] = 1536;
	CHECK_EQ(virtio_net_hdr_rx_plan(4000, cap, 1, 1, 256, used), 0);
	CHECK_EQ(virtio_net_hdr_rx_plan(4000, cap, 2, 1, 256, used), 0);
	CHECK_EQ(virtio_net_hdr_rx_plan(4000, cap, 3, 1, 256, used), 3);
	CHECK(used[0] == 1536 && used[1] == 1536 && used[2] == 928);
	CHECK_EQ(virtio_net_hdr_rx_plan(1536, cap, 1, 1, 256, used), 1);
	CHECK_EQ(used[0], 1536);
	CHECK_EQ(virtio_net_hdr_rx_plan(1537, cap, 2, 1, 256, used), 2);
	CHECK(used[0] == 1536 && used[1] == 1);
	/* the queue's worth of chains is not enough: never fits */
	CHECK_EQ(virtio_net_hdr_rx_plan(4000, cap, 2, 1, 2, used), -E2BIG);
	/* an empty chain still counts as a buffer used with 0 bytes */
	cap[0] = 0, cap[1] = 100;
	CHECK_EQ(virtio_net_hdr_rx_plan(50, cap, 2, 1, 256, used), 2);
	CHECK(used[0] == 0 && used[1] == 50);
	/* a 64 KiB TSO frame: 17 pages; 256 chains of 256 bytes cannot hold it */
	uint64_t big = VIRTIO_NET_HDR_SIZE + VIRTIO_NET_MAX_FRAME;
	for (unsigned i = 0; i < 300; i++)
		cap[i] = 4096;
	CHECK_EQ(virtio_net_hdr_rx_plan(big, cap, 16, 1, 256, used), 0);
	CHECK_EQ(virtio_net_hdr_rx_plan(big, cap, 17, 1, 256, used), 17);
	CHECK_EQ(used[16], big - 16 * 4096);
	for (unsigned i = 0; i < 300; i++)
		cap[i] = 256;
	CHECK_EQ(virtio_net_hdr_rx_plan(big, cap, 255, 1, 256, used), 0);
	CHECK_EQ(virtio_net_hdr_rx_plan(big, cap, 256, 1, 256, used), -E2BIG);
	/* capacities near 2^64 do not wrap the sum */
	cap[0] = UINT64_MAX, cap[1] = UINT64_MAX;
	CHECK_EQ(virtio_net_hdr_rx_plan(big, cap, 2, 1, 256, used), 1);
	CHECK_EQ(used[0], big);
}

int main(void)
{
	test_tx_check();
	test_tx_iov();
	test_rx_fixup();
	test_rx_plan();
	return unit_report("virtio_net");
}
