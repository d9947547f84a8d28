/* virtio-blk's pure part: the configuration layout and the request parser
 * (virtio 1.2 §5.2.4, §5.2.6). Everything in a chain comes from the guest:
 * lengths are checked before use and sector arithmetic cannot overflow. */
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include "dev/virtio/virtio_blk.h"

static void put_le16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put_le32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put_le64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint32_t get_le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

/* §5.2.4 struct virtio_blk_config, by byte offset */
void virtio_blk_config_build(const struct virtio_blk_geometry *g, uint8_t out[VIRTIO_BLK_CONFIG_SIZE])
{
	memset(out, 0, VIRTIO_BLK_CONFIG_SIZE);
	put_le64(out + 0, g->capacity);
	put_le32(out + 8, VIRTIO_BLK_SIZE_MAX);
	put_le32(out + 12, VIRTIO_BLK_SEG_MAX);
	/* 16: geometry, not offered */
	put_le32(out + 20, VIRTIO_BLK_SECTOR);       /* blk_size */
	/* 24: topology, not offered; 32: writeback (CONFIG_WCE), not offered */
	put_le16(out + 34, (uint16_t)g->num_queues);
	if (g->discard) {
		put_le32(out + 36, VIRTIO_BLK_MAX_DISCARD_SECTORS);
		put_le32(out + 40, VIRTIO_BLK_MAX_DISCARD_SEG);
		put_le32(out + 44, VIRTIO_BLK_DISCARD_ALIGNMENT);
	}
	put_le32(out + 48, VIRTIO_BLK_MAX_WZ_SECTORS);
	put_le32(out + 52, VIRTIO_BLK_MAX_WZ_SEG);
	out[56] = g->discard;                        /* write_zeroes_may_unmap */
}

/* The bytes [off, off+len) of the buffers iov[0..n) as iovecs, whatever the
 * buffer boundaries. Returns the count, or -1 when the buffers hold fewer
 * bytes. out has room for n entries (a slice never has more). */
static int iov_slice(const struct iovec *iov, unsigned n, uint64_t off, uint64_t len, struct iovec *out)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		uint64_t take = l - off < len ? l - off : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k++].iov_len = take;
		len -= take;
		off = 0;
	}
	return len ? -1 : (int)k;
}

/* Copies [off, off+len) of the buffers into dst; false if they are shorter. */
static bool iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *dst, uint64_t len)
{
	struct iovec part[VIRTQ_MAX_SIZE];
	int k = iov_slice(iov, n, off, len, part);
	if (k < 0)
		return false;
	uint8_t *d = dst;
	for (int i = 0; i < k; i++) {
		memcpy(d, part[i].iov_base, part[i].iov_len);
		d += part[i].iov_len;
	}
	return true;
}

static enum blk_action answer(struct blk_req *r, uint8_t status)
{
	r->status = status;
	r->written = 1;
	return BLK_ANSWER;
}

/* A discard or write-zeroes: exactly one 16-byte segment after the header
 * (VIRTIO_BLK_MAX_*_SEG = 1), inside the disk and the advertised size. */
static enum blk_action parse_range(const struct virtq_chain *c, uint64_t capacity, bool ro, struct blk_req *r)
{
	const struct iovec *rd = c->iov;
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	uint64_t data = c->out_len - VIRTIO_BLK_HDR_SIZE;
	uint32_t max_seg = discard ? VIRTIO_BLK_MAX_DISCARD_SEG : VIRTIO_BLK_MAX_WZ_SEG;
	uint32_t max_sectors = discard ? VIRTIO_BLK_MAX_DISCARD_SECTORS : VIRTIO_BLK_MAX_WZ_SECTORS;
	if (c->in_len != 1 || data == 0 || data % VIRTIO_BLK_SEG_SIZE ||
	    data / VIRTIO_BLK_SEG_SIZE > max_seg)
		return answer(r, VIRTIO_BLK_S_IOERR);
	uint8_t seg[VIRTIO_BLK_SEG_SIZE];
	if (!iov_copy(rd, c->nout, VIRTIO_BLK_HDR_SIZE, seg, sizeof(seg)))
		return BLK_BROKEN;
	uint64_t sector = get_le64(seg);
	uint32_t nsec = get_le32(seg + 8), flags = get_le32(seg + 12);
	/* §5.2.6.2: unknown flags, and unmap on a discard, are UNSUPP */
	if (flags & ~VIRTIO_BLK_WZ_FLAG_UNMAP || (discard && flags))
		return answer(r, VIRTIO_BLK_S_UNSUPP);
	if (ro)
		return answer(r, VIRTIO_BLK_S_IOERR);
	if (nsec > max_sectors || sector > capacity || nsec > capacity - sector)
		return answer(r, VIRTIO_BLK_S_IOERR);
	if (nsec == 0)
		return answer(r, VIRTIO_BLK_S_OK);
	r->op = discard ? DISK_DISCARD : DISK_WRITE_ZEROES;
	r->offset = sector * VIRTIO_BLK_SECTOR;
	r->len = (uint64_t)nsec * VIRTIO_BLK_SECTOR;
	r->unmap = flags & VIRTIO_BLK_WZ_FLAG_UNMAP;
	r->written = 1;
	return BLK_IO;
}

/* IN and OUT: the data between header and status, in the direction of the
 * transfer only, whole sectors inside the disk. */
static enum blk_action parse_rw(const struct virtq_chain *c, uint64_t capacity, bool ro, uint64_t sector,
				struct blk_req *r)
{
	bool in = r->type == VIRTIO_BLK_T_IN;
	uint64_t len;
	int k;
	if (in) {
		if (c->out_len != VIRTIO_BLK_HDR_SIZE)
			return answer(r, VIRTIO_BLK_S_IOERR);
		len = c->in_len - 1;
	} else {
		if (c->in_len != 1)
			return answer(r, VIRTIO_BLK_S_IOERR);
		if (ro)
			return answer(r, VIRTIO_BLK_S_IOERR);
		len = c->out_len - VIRTIO_BLK_HDR_SIZE;
	}
	if (len % VIRTIO_BLK_SECTOR || len > VIRTIO_BLK_MAX_DATA)
		return answer(r, VIRTIO_BLK_S_IOERR);
	uint64_t nsec = len / VIRTIO_BLK_SECTOR;
	if (sector > capacity || nsec > capacity - sector)
		return answer(r, VIRTIO_BLK_S_IOERR);
	if (len == 0)
		return answer(r, VIRTIO_BLK_S_OK);
	if (in)
		k = iov_slice(c->iov + c->nout, c->nin, 0, len, r->iov);
	else
		k = iov_slice(c->iov, c->nout, VIRTIO_BLK_HDR_SIZE, len, r->iov);
	if (k < 0)
		return BLK_BROKEN;
	r->niov = (unsigned)k;
	r->op = in ? DISK_READ : DISK_WRITE;
	r->offset = sector * VIRTIO_BLK_SECTOR;
	r->len = len;
	r->written = in ? (uint32_t)len + 1 : 1;
	return BLK_IO;
}

enum blk_action virtio_blk_parse(const struct virtq_chain *c, uint64_t capacity, bool ro, struct blk_req *r)
{
	memset(r, 0, offsetof(struct blk_req, iov));
	if (c->nout > VIRTQ_MAX_SIZE || c->nin > VIRTQ_MAX_SIZE - c->nout || c->in_len == 0)
		return BLK_BROKEN;
	/* The status: the last byte of the writable part. */
	struct iovec st;
	if (iov_slice(c->iov + c->nout, c->nin, c->in_len - 1, 1, &st) != 1)
		return BLK_BROKEN;
	r->status_byte = st.iov_base;
	uint8_t hdr[VIRTIO_BLK_HDR_SIZE];
	if (c->out_len < VIRTIO_BLK_HDR_SIZE)
		return answer(r, VIRTIO_BLK_S_IOERR);
	if (!iov_copy(c->iov, c->nout, 0, hdr, sizeof(hdr)))
		return BLK_BROKEN;
	r->type = get_le32(hdr);
	uint64_t sector = get_le64(hdr + 8);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(c, capacity, ro, sector, r);
	case VIRTIO_BLK_T_FLUSH:
		if (c->out_len != VIRTIO_BLK_HDR_SIZE || c->in_len != 1)
			return answer(r, VIRTIO_BLK_S_IOERR);
		if (ro)
			return answer(r, VIRTIO_BLK_S_OK); /* nothing was written */
		r->op = DISK_FLUSH;
		r->written = 1;
		return BLK_IO;
	case VIRTIO_BLK_T_GET_ID: {
		if (c->out_len != VIRTIO_BLK_HDR_SIZE || c->in_len < 2)
			return answer(r, VIRTIO_BLK_S_IOERR);
		uint64_t len = c->in_len - 1;
		if (len > VIRTIO_BLK_ID_BYTES)
			len = VIRTIO_BLK_ID_BYTES;
		int k = iov_slice(c->iov + c->nout, c->nin, 0, len, r->iov);
		if (k < 0)
			return BLK_BROKEN;
		r->niov = (unsigned)k;
		r->len = len;
		r->written = (uint32_t)len + 1;
		return BLK_GET_ID;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range(c, capacity, ro, r);
	default:
		return answer(r, VIRTIO_BLK_S_UNSUPP);
	}
}

uint32_t virtio_blk_write_id(const struct blk_req *r, const char id[VIRTIO_BLK_ID_BYTES])
{
	uint64_t done = 0;
	for (unsigned i = 0; i < r->niov && done < r->len; i++) {
		uint64_t n = r->iov[i].iov_len;
		if (n > r->len - done)
			n = r->len - done;
		memcpy(r->iov[i].iov_base, id + done, n);
		done += n;
	}
	return (uint32_t)done;
}
