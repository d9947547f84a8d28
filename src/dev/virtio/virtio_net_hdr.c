#include "dev/virtio/virtio_net_hdr.h"

#include <errno.h>
#include <string.h>

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

/* virtio 1.2 §5.1.6.2 (driver requirements the device relies on) */
int virtio_net_hdr_tx_check(const uint8_t raw[VIRTIO_NET_HDR_SIZE], uint64_t frame_len, uint64_t features,
			    struct virtio_net_hdr_v1 *out, const char **why)
{
	*why = NULL;
	uint8_t flags = raw[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint8_t gso = raw[1];
	uint16_t gso_size = get_le16(raw + 4);
	uint16_t csum_start = get_le16(raw + 6);
	uint16_t csum_offset = get_le16(raw + 8);

	if (frame_len < VIRTIO_NET_MIN_FRAME)
		return bad(why, "frame shorter than an Ethernet header");
	if (frame_len > VIRTIO_NET_MAX_FRAME)
		return bad(why, "frame longer than 64 KiB");

	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		unsigned need;
		switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
		case VIRTIO_NET_HDR_GSO_TCPV4: need = VIRTIO_NET_F_HOST_TSO4; break;
		case VIRTIO_NET_HDR_GSO_TCPV6: need = VIRTIO_NET_F_HOST_TSO6; break;
		case VIRTIO_NET_HDR_GSO_UDP: need = VIRTIO_NET_F_HOST_UFO; break;
		default: return bad(why, "unknown gso_type");
		}
		if (!has(features, need))
			return bad(why, "gso_type of an offload not negotiated");
		if ((gso & VIRTIO_NET_HDR_GSO_ECN) && !has(features, VIRTIO_NET_F_HOST_ECN))
			return bad(why, "GSO_ECN without HOST_ECN");
		if (!flags)
			return bad(why, "GSO without NEEDS_CSUM");
		if (gso_size == 0)
			return bad(why, "GSO with gso_size 0");
	}
	if (flags) {
		if (!has(features, VIRTIO_NET_F_CSUM))
			return bad(why, "NEEDS_CSUM without VIRTIO_NET_F_CSUM");
		if ((uint64_t)csum_start + csum_offset + 2 > frame_len)
			return bad(why, "checksum field outside the frame");
	}

	memcpy(out, raw, VIRTIO_NET_HDR_SIZE);
	out->flags = flags;
	out->num_buffers = 0;
	return 0;
}

int virtio_net_hdr_tx_iov(const struct iovec *iov, unsigned n, uint64_t skip, struct iovec *out, unsigned max)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t len = iov[i].iov_len;
		uint64_t off = 0;
		if (skip) {
			off = skip < len ? skip : len;
			skip -= off;
		}
		if (off == len)
			continue;
		if (k == max)
			return -E2BIG;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = len - off;
		k++;
	}
	return skip ? -EINVAL : (int)k;
}

/* §5.1.6.4.1: without GUEST_CSUM the device sets flags to zero (a frame
 * the tap could not checksum is never handed over: TUN_F_CSUM is off);
 * num_buffers is 1 unless MRG_RXBUF is negotiated. */
void virtio_net_hdr_rx_fixup(uint8_t *hdr, uint64_t features, uint16_t num_buffers)
{
	if (!has(features, VIRTIO_NET_F_GUEST_CSUM)) {
		hdr[0] = 0;
		memset(hdr + 6, 0, 4); /* csum_start, csum_offset */
	}
	hdr[VIRTIO_NET_HDR_NUM_BUFFERS_OFF] = (uint8_t)num_buffers;
	hdr[VIRTIO_NET_HDR_NUM_BUFFERS_OFF + 1] = (uint8_t)(num_buffers >> 8);
}

int virtio_net_hdr_rx_plan(uint64_t total, const uint64_t *cap, unsigned n, int mergeable, unsigned max_chains,
			   uint32_t *used)
{
	if (n == 0)
		return 0;
	if (!mergeable) {
		/* §5.1.6.3.1: one chain per frame. */
		if (cap[0] < total)
			return -E2BIG;
		used[0] = (uint32_t)total;
		return 1;
	}
	uint64_t left = total;
	for (unsigned i = 0; i < n; i++) {
		uint64_t take = cap[i] < left ? cap[i] : left;
		used[i] = (uint32_t)take;
		left -= take;
		if (left == 0)
			return (int)(i + 1);
	}
	return n >= max_chains ? -E2BIG : 0;
}
