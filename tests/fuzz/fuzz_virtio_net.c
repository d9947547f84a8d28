// FUZZ_SRCS: src/dev/virtio/virtio_net_hdr.c
/* libFuzzer target for virtio-net's packet parsing (virtio 1.2 §5.1.6): a
 * hostile driver's transmit chain (header + frame in any framing, §2.6.4)
 * and receive buffer sizes. Each result is checked against the contract in
 * virtio_net_hdr.h; a broken invariant aborts.
 *
 * Input: byte 0 the negotiated features (bit 0 CSUM, 1 HOST_TSO4,
 * 2 HOST_TSO6, 3 HOST_ECN, 4 HOST_UFO, 5 MRG_RXBUF, 6 GUEST_CSUM); byte 1
 * the number of transmit buffers n (1-32), then n bytes, each a buffer's
 * length; byte m the number of receive buffers (0-255), then 2 bytes
 * (le16) per buffer, its capacity; the rest is the chain's readable bytes,
 * cut into the n buffers in turn (the last takes what is left). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dev/virtio/virtio_net_hdr.h"

#define REQUIRE(cond) \
	do { if (!(cond)) abort(); } while (0)

static const unsigned feature_bit[] = { VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
					VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_MRG_RXBUF,
					VIRTIO_NET_F_GUEST_CSUM };

static void check_tx(const uint8_t *data, size_t size, const uint8_t *lens, unsigned n, uint64_t features)
{
	struct iovec iov[32];
	size_t off = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = i + 1 == n ? size - off : lens[i];
		if (len > size - off)
			len = size - off;
		iov[i].iov_base = (void *)(data + off);
		iov[i].iov_len = len;
		off += len;
	}
	if (size < VIRTIO_NET_HDR_SIZE) {
		struct iovec out[32];
		REQUIRE(virtio_net_hdr_tx_iov(iov, n, VIRTIO_NET_HDR_SIZE, out, 32) == -EINVAL);
		return;
	}
	/* the device copies the header once (virtq_chain_read), then checks the copy */
	uint8_t raw[VIRTIO_NET_HDR_SIZE];
	memcpy(raw, data, sizeof(raw));
	uint64_t frame_len = size - VIRTIO_NET_HDR_SIZE;
	struct virtio_net_hdr_v1 h;
	const char *why = "unset";
	int r = virtio_net_hdr_tx_check(raw, frame_len, features, &h, &why);
	REQUIRE(r == 0 || r == -EINVAL);
	if (r < 0) {
		REQUIRE(why && *why);
		return;
	}
	REQUIRE(why == NULL);
	REQUIRE((h.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0);
	REQUIRE(h.num_buffers == 0);
	REQUIRE(frame_len >= VIRTIO_NET_MIN_FRAME && frame_len <= VIRTIO_NET_MAX_FRAME);
	if (h.flags) {
		REQUIRE(features & 1ULL << VIRTIO_NET_F_CSUM);
		REQUIRE((uint64_t)h.csum_start + h.csum_offset + 2 <= frame_len);
	}
	if (h.gso_type) {
		REQUIRE(h.flags && h.gso_size);
		unsigned base = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
		unsigned need = base == VIRTIO_NET_HDR_GSO_TCPV4 ? VIRTIO_NET_F_HOST_TSO4
			      : base == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
			      : base == VIRTIO_NET_HDR_GSO_UDP   ? VIRTIO_NET_F_HOST_UFO : 64;
		REQUIRE(need < 64 && (features >> need & 1));
		if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
			REQUIRE(features >> VIRTIO_NET_F_HOST_ECN & 1);
	}
	/* the frame handed to the tap: exactly the bytes after the header, in order */
	struct iovec out[32];
	int k = virtio_net_hdr_tx_iov(iov, n, VIRTIO_NET_HDR_SIZE, out, 32);
	REQUIRE(k >= 0 && k <= (int)n);
	const uint8_t *expect = data + VIRTIO_NET_HDR_SIZE;
	for (int i = 0; i < k; i++) {
		REQUIRE(out[i].iov_len > 0);
		REQUIRE(out[i].iov_base == expect);
		expect += out[i].iov_len;
	}
	REQUIRE(expect == data + size);
	if (k > 0)
		REQUIRE(virtio_net_hdr_tx_iov(iov, n, VIRTIO_NET_HDR_SIZE, out, (unsigned)k - 1) == -E2BIG);
}

static void check_rx(const uint8_t *caps, unsigned nc, uint64_t total, uint64_t features)
{
	uint64_t cap[256];
	uint32_t used[256];
	int merge = (features >> VIRTIO_NET_F_MRG_RXBUF) & 1;
	for (unsigned i = 0; i < nc; i++)
		cap[i] = (uint64_t)caps[2 * i] | (uint64_t)caps[2 * i + 1] << 8;
	for (unsigned n = 0; n <= nc; n++) {
		int k = virtio_net_hdr_rx_plan(total, cap, n, merge, nc ? nc : 1, used);
		REQUIRE(k >= -E2BIG && k <= (int)n);
		REQUIRE(k == -E2BIG || k >= 0);
		if (k > 0) {
			uint64_t sum = 0;
			for (int i = 0; i < k; i++) {
				REQUIRE(used[i] <= cap[i]);
				if (i + 1 < k)
					REQUIRE(used[i] == cap[i]); /* each full but the last */
				sum += used[i];
			}
			REQUIRE(sum == total);
			REQUIRE(merge || k == 1);
			break;
		}
		if (k < 0) {
			REQUIRE(merge ? n == nc : cap[0] < total);
			break;
		}
	}
	uint8_t hdr[VIRTIO_NET_HDR_SIZE] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0 };
	virtio_net_hdr_rx_fixup(hdr, features, (uint16_t)nc);
	REQUIRE(hdr[10] == (uint8_t)nc && hdr[11] == 0);
	if (!(features >> VIRTIO_NET_F_GUEST_CSUM & 1))
		REQUIRE(hdr[0] == 0 && hdr[6] == 0 && hdr[9] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint64_t features = 0;
	for (unsigned i = 0; i < sizeof(feature_bit) / sizeof(feature_bit[0]); i++)
		if (data[0] >> i & 1)
			features |= 1ULL << feature_bit[i];
	unsigned n = data[1] % 32 + 1;
	size_t p = 2;
	if (size < p + n + 1)
		return 0;
	const uint8_t *lens = data + p;
	p += n;
	unsigned nc = data[p++];
	if (size < p + 2 * (size_t)nc)
		return 0;
	const uint8_t *caps = data + p;
	p += 2 * (size_t)nc;
	check_tx(data + p, size - p, lens, n, features);
	check_rx(caps, nc, size - p, features);
	return 0;
}
