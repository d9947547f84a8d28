/* The host side of a virtio-blk disk: a raw image file (or block device)
 * with asynchronous reads, writes, flushes, discards and write-zeroes.
 *
 * Mechanism: io_uring through liburing. bench/diskio measures it against a
 * pool of 4 worker threads doing preadv/pwritev (each completion signalled
 * on an eventfd the submitter waits on, as the I/O thread would), on a
 * 256 MiB file on ext4, the page cache warm (read in first) or cold
 * (POSIX_FADV_DONTNEED) for both alike. Four runs on this 2-core host shared
 * with other work (load about 4.5, so only wide gaps mean much), io_uring
 * over the pool:
 *   4 KiB random read QD1   warm 4.3-32x   cold 1.09-1.43x
 *   4 KiB random read QD32  warm 1.46-2.75x cold 1.51-2.11x
 *   1 MiB sequential read QD4   warm 0.61-1.05x  cold 0.82-1.48x
 *   1 MiB sequential write QD4  warm 1.02-1.81x  cold 0.33-0.91x
 * (e.g. warm QD1 1,088k against 187k IOPS, warm QD32 1,120k against 736k.)
 * io_uring wins every 4 KiB row, by 1.46x or more except cold QD1, where
 * the disk's own latency dominates: a cached read completes inline at
 * submission, with no hand-off to another thread. The
 * pool is ahead on cold 1 MiB writes (every run) and warm 1 MiB reads (3 of
 * 4), where its copies run on both cores; those rows swing by up to 2x from
 * run to run here. Sending 64 KiB+ requests to io_uring's own workers
 * (IOSQE_ASYNC, the third column of bench/diskio, two runs) was not
 * consistently better, so requests are submitted plainly.
 *
 * The image is opened without O_DIRECT: the host page cache is the disk's
 * volatile write cache. A write is acknowledged once it reached the page
 * cache and may be lost in a host crash, as on a real disk with a write-back
 * cache; a flush (fdatasync) makes every write acknowledged before it durable
 * before the flush itself is acknowledged (virtio 1.2 §5.2.6.2).
 *
 * Threads: open/close on any one thread; disk_submit, disk_kick and
 * disk_complete on one thread (the I/O thread), and completions run there,
 * from disk_complete. The owner watches disk_event_fd() (readable when
 * completions wait) and calls disk_complete. No event loop dependency here. */
#ifndef VMON_BACKEND_DISK_H
#define VMON_BACKEND_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum disk_op { DISK_READ, DISK_WRITE, DISK_FLUSH, DISK_DISCARD, DISK_WRITE_ZEROES };

struct disk_io;
/* res: 0 on success, else -errno. */
typedef void disk_done_fn(struct disk_io *io, int res);

/* One request; the caller's memory (e.g. a per-queue pool) from submission
 * until done runs. The fields after the public ones are the backend's. */
struct disk_io {
	enum disk_op op;
	uint64_t offset;          /* bytes */
	struct iovec *iov;        /* READ/WRITE data; advanced on short transfers */
	unsigned iovcnt;
	uint64_t len;             /* DISCARD/WRITE_ZEROES bytes; READ/WRITE: the iov total */
	bool unmap;               /* WRITE_ZEROES may deallocate (punch a hole) */
	bool sync;                /* WRITE/DISCARD/WRITE_ZEROES: fdatasync before done */
	disk_done_fn *done;
	/* backend state */
	unsigned stage;           /* WRITE_ZEROES: which method is being tried */
	bool syncing;             /* the fdatasync of a sync request is running */
	struct iovec zio[16];     /* WRITE_ZEROES by writing: chunks of the zero page */
};

struct disk;

/* Opens path read-write, or read-only when ro, with an exclusive (shared
 * when ro) flock so that two vmons cannot both write it; sets up an io_uring
 * of at least depth entries. Logs "--disk PATH: <why>" and returns -errno:
 * -EWOULDBLOCK when another open file holds the lock ("in use by another
 * process (locked)"), the open/ioctl errors, a size that is not a multiple
 * of 512, io_uring unavailable (seccomp, kernel.io_uring_disabled). */
int disk_open(const char *path, bool ro, unsigned depth, struct disk **out);
void disk_close(struct disk *d);

uint64_t disk_size(const struct disk *d);   /* bytes, a multiple of 512 */
bool disk_read_only(const struct disk *d);
/* Discard punches holes; offered when the file system accepts
 * FALLOC_FL_PUNCH_HOLE (probed at open) or for a block device. Write-zeroes
 * always works on a writable disk (ZERO_RANGE, else PUNCH_HOLE when unmap is
 * allowed, else written zeroes). */
bool disk_can_discard(const struct disk *d);

/* Queues io (nothing reaches the kernel until disk_kick). 0, or -EBUSY
 * when more than depth requests are outstanding. */
int disk_submit(struct disk *d, struct disk_io *io);
/* Hands the queued requests to the kernel in one system call. */
void disk_kick(struct disk *d);
/* Readable (EPOLLIN) when completions are waiting. */
int disk_event_fd(const struct disk *d);
/* Runs the done callbacks of every finished request. */
void disk_complete(struct disk *d);

#endif
