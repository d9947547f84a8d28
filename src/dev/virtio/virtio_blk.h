/* virtio-blk (virtio 1.2 §5.2): a disk image (backend/disk.h) as a virtio
 * block device on the PCI transport.
 *
 * Two parts. virtio_blk_req.c is pure: the request parser, which turns a
 * descriptor chain into a status to answer at once or an I/O to submit,
 * and the configuration layout; it needs neither the transport nor the
 * queue walker (unit test, fuzz target). virtio_blk.c is the device: the
 * queues, the per-request pools, completions and reset.
 *
 * Threads (virtio_dev.h): notify and disk completions run on the I/O
 * thread, start/config_read/reset on vCPU threads. One mutex guards the
 * device state; the device never holds it while calling into the
 * transport (interrupts, needs_reset), so the only lock order is transport
 * lock -> device mutex (start), and reset, which waits for the requests in
 * flight with the mutex released in a condition wait, cannot deadlock
 * with the I/O thread that completes them. reset must not run on the I/O
 * thread (it would wait for itself). */
#ifndef VMON_DEV_VIRTIO_VIRTIO_BLK_H
#define VMON_DEV_VIRTIO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend/disk.h"
#include "dev/virtio/virtio_dev.h"
#include "dev/virtio/virtqueue.h"

/* Feature bits (§5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (§5.2.6) */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_FLAG_UNMAP 1u

#define VIRTIO_BLK_HDR_SIZE 16     /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_SEG_SIZE 16     /* le64 sector, le32 num_sectors, le32 flags */
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR   512

/* What the device offers (configuration space, §5.2.4). A request never
 * needs more than the queue's descriptors: seg_max leaves one for the
 * header and one for the status. The parser enforces the data limit
 * seg_max * size_max, which also keeps the used length in 32 bits. */
#define VIRTIO_BLK_QUEUE_SIZE  256
#define VIRTIO_BLK_SEG_MAX     (VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_SIZE_MAX    (1u << 20)
#define VIRTIO_BLK_MAX_DATA    ((uint64_t)VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX)
/* One segment per discard/write-zeroes request (Linux honours the limit):
 * each is one fallocate. 2 GiB each bounds how long one request (a
 * write-zeroes written out on a file system without ZERO_RANGE) can keep
 * a reset waiting. */
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1u << 22)
#define VIRTIO_BLK_MAX_DISCARD_SEG     1
#define VIRTIO_BLK_DISCARD_ALIGNMENT   8  /* sectors: 4 KiB, the page and file system block */
#define VIRTIO_BLK_MAX_WZ_SECTORS      (1u << 22)
#define VIRTIO_BLK_MAX_WZ_SEG          1

/* struct virtio_blk_config (§5.2.4) up to write_zeroes_may_unmap and its
 * padding; the secure-erase and zoned fields are not offered. */
#define VIRTIO_BLK_CONFIG_SIZE 60

struct virtio_blk_geometry {
	uint64_t capacity;         /* 512-byte sectors */
	unsigned num_queues;
	bool discard;              /* the backend punches holes */
};
/* The configuration space bytes (little-endian) for a disk. */
void virtio_blk_config_build(const struct virtio_blk_geometry *g, uint8_t out[VIRTIO_BLK_CONFIG_SIZE]);

/* What the parser decided. */
enum blk_action {
	BLK_BROKEN,   /* no status byte to answer in: needs reset */
	BLK_ANSWER,   /* write status now, nothing else */
	BLK_GET_ID,   /* copy the id into iov (virtio_blk_write_id), then OK */
	BLK_IO,       /* submit op; its result gives the status */
};

struct blk_req {
	uint32_t type;
	uint8_t status;            /* BLK_ANSWER */
	uint8_t *status_byte;      /* the chain's last writable byte (guest RAM) */
	uint32_t written;          /* the used length when it succeeds */
	enum disk_op op;           /* BLK_IO */
	uint64_t offset, len;      /* bytes; READ/WRITE: len = the data's size */
	bool unmap;                /* WRITE_ZEROES may deallocate */
	unsigned niov;             /* READ/WRITE data, GET_ID buffer */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Validates chain c (§5.2.6) for a disk of capacity_sectors, read-only or
 * not, and fills *out. Framing is arbitrary (§2.6.4): the 16-byte header is
 * the first bytes of the readable part, the status the last byte of the
 * writable part, and the data the bytes between, whatever the descriptor
 * boundaries. Answers IOERR for a header short of 16 bytes, data in the
 * wrong direction or not a multiple of 512 bytes, sectors outside the disk
 * (overflow-safe), more than VIRTIO_BLK_MAX_DATA, a write/discard/write-
 * zeroes on a read-only disk (§5.2.6.2: "MUST set the status byte to
 * VIRTIO_BLK_S_IOERR for a write request if VIRTIO_BLK_F_RO is offered"),
 * discard/write-zeroes segments other than VIRTIO_BLK_MAX_*_SEG whole ones
 * or longer than the advertised sectors; UNSUPP for an unknown type, an
 * unknown segment flag or a discard with unmap (§5.2.6.2). */
enum blk_action virtio_blk_parse(const struct virtq_chain *c, uint64_t capacity_sectors, bool ro,
				 struct blk_req *out);

/* GET_ID: copies the id (NUL-padded to 20 bytes, §5.2.6) into r's buffer,
 * at most its size; returns the bytes written. */
uint32_t virtio_blk_write_id(const struct blk_req *r, const char id[VIRTIO_BLK_ID_BYTES]);

/* The device. */
struct virtio_blk;
struct event_loop;

/* Opens path (disk_open: locked, read-only when ro) as disk number index
 * (its GET_ID serial is "vmon-disk<index>"), with nqueues request queues
 * (1..VIRTIO_MAX_QUEUES; MQ offered when more than one), and watches the
 * disk's completions on io. Logs "--disk PATH: <why>" and returns -errno
 * (-EWOULDBLOCK: locked by another process; the caller exits with 2). */
int virtio_blk_create(const char *path, bool ro, unsigned nqueues, unsigned index, struct event_loop *io,
		      struct virtio_blk **out);
/* What the transport needs (virtio_dev.h); the opaque is the virtio_blk. */
const struct virtio_device_ops *virtio_blk_ops(const struct virtio_blk *b);
/* The transport this device answers through; before the guest runs. */
void virtio_blk_attach(struct virtio_blk *b, struct virtio_pci *t);
/* After the transport stopped calling it: waits for requests in flight,
 * stops watching the disk, closes it. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
