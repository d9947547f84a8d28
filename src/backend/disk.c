/* A raw disk image with io_uring (why io_uring: disk.h). */
#include "backend/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define ZERO_CHUNK (64u << 10)

/* WRITE_ZEROES stages, tried in order; a file system without one method
 * remembers it (zero_range_ok, punch_ok) and skips it next time. */
enum { WZ_ZERO_RANGE, WZ_PUNCH, WZ_WRITE };

struct disk {
	int fd, efd;
	bool ro, blockdev;
	bool punch_ok, zero_range_ok;
	uint64_t size;
	unsigned depth, outstanding;
	struct io_uring ring;
	void *zeroes;             /* ZERO_CHUNK bytes of zeroes */
};

uint64_t disk_size(const struct disk *d) { return d->size; }
bool disk_read_only(const struct disk *d) { return d->ro; }
bool disk_can_discard(const struct disk *d) { return !d->ro && d->punch_ok; }
int disk_event_fd(const struct disk *d) { return d->efd; }

static int disk_geometry(struct disk *d, const char *path)
{
	struct stat st;
	if (fstat(d->fd, &st) < 0) {
		int e = errno;
		log_error("--disk %s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISBLK(st.st_mode)) {
		d->blockdev = true;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0) {
			int e = errno;
			log_error("--disk %s: BLKGETSIZE64: %s", path, strerror(e));
			return -e;
		}
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
	} else {
		log_error("--disk %s: not a regular file or a block device", path);
		return -EINVAL;
	}
	if (d->size == 0 || d->size % 512) {
		log_error("--disk %s: size %llu is not a positive multiple of 512 bytes", path,
			  (unsigned long long)d->size);
		return -EINVAL;
	}
	return 0;
}

/* Punching a hole at the end of a regular file changes nothing; the file
 * system answers EOPNOTSUPP when it has no hole punching at all. A block
 * device supports it since Linux 4.9 (blkdev_fallocate). */
static void disk_probe(struct disk *d)
{
	if (d->ro)
		return;
	d->zero_range_ok = true;
	if (d->blockdev) {
		d->punch_ok = true;
		return;
	}
	d->punch_ok = fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)d->size, 512) == 0;
}

int disk_open(const char *path, bool ro, unsigned depth, struct disk **out)
{
	struct disk *d = calloc(1, sizeof(*d));
	if (!d) {
		log_error("--disk %s: out of memory", path);
		return -ENOMEM;
	}
	d->fd = d->efd = -1;
	d->ro = ro;
	d->depth = depth ? depth : 1;
	int r;
	d->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		r = -errno;
		log_error("--disk %s: %s", path, strerror(-r));
		goto fail;
	}
	/* flock locks the open file description: a second open of the same
	 * file conflicts even in this process. */
	if (flock(d->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK)
			log_error("--disk %s: in use by another process (locked)", path);
		else
			log_error("--disk %s: flock: %s", path, strerror(-r));
		goto fail;
	}
	r = disk_geometry(d, path);
	if (r < 0)
		goto fail;
	disk_probe(d);
	d->zeroes = calloc(1, ZERO_CHUNK);
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->zeroes || d->efd < 0) {
		r = d->zeroes ? -errno : -ENOMEM;
		log_error("--disk %s: %s", path, strerror(-r));
		goto fail;
	}
	/* The completion queue is twice the submission queue (liburing's
	 * default), so depth outstanding requests never overflow it. */
	unsigned entries = 1;
	while (entries < d->depth && entries < 4096)
		entries <<= 1;
	d->depth = entries;
	r = io_uring_queue_init(entries, &d->ring, 0);
	if (r < 0) {
		log_error("--disk %s: io_uring_queue_init: %s (io_uring disabled by "
			  "kernel.io_uring_disabled or a seccomp filter?)", path, strerror(-r));
		goto fail;
	}
	r = io_uring_register_eventfd(&d->ring, d->efd);
	if (r < 0) {
		io_uring_queue_exit(&d->ring);
		log_error("--disk %s: io_uring_register_eventfd: %s", path, strerror(-r));
		goto fail;
	}
	*out = d;
	return 0;
fail:
	free(d->zeroes);
	if (d->efd >= 0)
		close(d->efd);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	return r;
}

/* The owner has waited for its requests (nothing outstanding). */
void disk_close(struct disk *d)
{
	if (!d)
		return;
	io_uring_queue_exit(&d->ring);
	close(d->efd);
	close(d->fd);
	free(d->zeroes);
	free(d);
}

/* Prepares one SQE for io at its current stage. The ring has room: at most
 * depth requests are outstanding and each holds one SQE at a time. */
static void disk_prep(struct disk *d, struct disk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);
	if (!sqe) {
		io_uring_submit(&d->ring);
		sqe = io_uring_get_sqe(&d->ring);
	}
	if (io->syncing) {
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data(sqe, io);
		return;
	}
	switch (io->op) {
	case DISK_READ:
		io_uring_prep_readv(sqe, d->fd, io->iov, io->iovcnt, io->offset);
		break;
	case DISK_WRITE:
		io_uring_prep_writev(sqe, d->fd, io->iov, io->iovcnt, io->offset);
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		break;
	case DISK_DISCARD:
		io_uring_prep_fallocate(sqe, d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	case DISK_WRITE_ZEROES:
		if (io->stage == WZ_ZERO_RANGE) {
			io_uring_prep_fallocate(sqe, d->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						(off_t)io->offset, (off_t)io->len);
		} else if (io->stage == WZ_PUNCH) {
			io_uring_prep_fallocate(sqe, d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						(off_t)io->offset, (off_t)io->len);
		} else {
			unsigned n = 0;
			uint64_t left = io->len;
			while (left && n < sizeof(io->zio) / sizeof(io->zio[0])) {
				size_t c = left < ZERO_CHUNK ? (size_t)left : ZERO_CHUNK;
				io->zio[n].iov_base = d->zeroes;
				io->zio[n++].iov_len = c;
				left -= c;
			}
			io_uring_prep_writev(sqe, d->fd, io->zio, n, io->offset);
		}
		break;
	}
	io_uring_sqe_set_data(sqe, io);
}

/* The first WRITE_ZEROES method this file system has not refused. */
static unsigned disk_wz_stage(const struct disk *d, const struct disk_io *io, unsigned from)
{
	if (from <= WZ_ZERO_RANGE && d->zero_range_ok)
		return WZ_ZERO_RANGE;
	if (from <= WZ_PUNCH && d->punch_ok && io->unmap)
		return WZ_PUNCH;
	return WZ_WRITE;
}

int disk_submit(struct disk *d, struct disk_io *io)
{
	if (d->outstanding >= d->depth)
		return -EBUSY;
	if (d->ro && io->op != DISK_READ)
		return -EROFS;
	if (io->op == DISK_READ || io->op == DISK_WRITE) {
		io->len = 0;
		for (unsigned i = 0; i < io->iovcnt; i++)
			io->len += io->iov[i].iov_len;
	}
	io->stage = io->op == DISK_WRITE_ZEROES ? disk_wz_stage(d, io, WZ_ZERO_RANGE) : 0;
	io->syncing = false;
	d->outstanding++;
	disk_prep(d, io);
	return 0;
}

void disk_kick(struct disk *d)
{
	io_uring_submit(&d->ring);
}

/* Drops done bytes from the front of io's iov array (a short transfer). */
static void disk_advance(struct disk_io *io, uint64_t done)
{
	io->offset += done;
	io->len -= done;
	while (io->iovcnt && done >= io->iov[0].iov_len) {
		done -= io->iov[0].iov_len;
		io->iov++;
		io->iovcnt--;
	}
	if (io->iovcnt && done) {
		io->iov[0].iov_base = (char *)io->iov[0].iov_base + done;
		io->iov[0].iov_len -= done;
	}
}

/* One completion: 1 when io is finished (*res set), 0 when it was
 * resubmitted (a short transfer, EINTR/EAGAIN, the next WRITE_ZEROES
 * method). */
static int disk_step(struct disk *d, struct disk_io *io, int r, int *res)
{
	if (r == -EINTR || r == -EAGAIN) {
		disk_prep(d, io);
		return 0;
	}
	if (io->syncing) {
		*res = r < 0 ? r : 0;
		return 1;
	}
	switch (io->op) {
	case DISK_READ:
	case DISK_WRITE:
		if (r < 0)
			break;
		if (r == 0) {
			r = -EIO; /* past the end: the file shrank under us */
			break;
		}
		if ((uint64_t)r < io->len) {
			disk_advance(io, (uint64_t)r);
			disk_prep(d, io);
			return 0;
		}
		r = 0;
		break;
	case DISK_FLUSH:
		break;
	case DISK_DISCARD:
		/* Discard is a hint (§5.2.6.2): a file system that cannot punch
		 * holes just keeps the data. */
		if (r == -EOPNOTSUPP) {
			d->punch_ok = false;
			r = 0;
		}
		break;
	case DISK_WRITE_ZEROES:
		if (r == -EOPNOTSUPP && io->stage != WZ_WRITE) {
			if (io->stage == WZ_ZERO_RANGE)
				d->zero_range_ok = false;
			else
				d->punch_ok = false;
			io->stage = disk_wz_stage(d, io, io->stage + 1);
			disk_prep(d, io);
			return 0;
		}
		if (io->stage == WZ_WRITE && r > 0) {
			if ((uint64_t)r < io->len) {
				io->offset += (uint64_t)r;
				io->len -= (uint64_t)r;
				disk_prep(d, io);
				return 0;
			}
			r = 0;
		} else if (io->stage == WZ_WRITE && r == 0) {
			r = -EIO;
		}
		break;
	}
	/* A write-through request (the driver negotiated no FLUSH) is done
	 * when its data is stable (§5.2.6.2). */
	if (r >= 0 && io->sync && io->op != DISK_READ && io->op != DISK_FLUSH) {
		io->syncing = true;
		disk_prep(d, io);
		return 0;
	}
	*res = r < 0 ? r : 0;
	return 1;
}

void disk_complete(struct disk *d)
{
	uint64_t v;
	if (read(d->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("disk: eventfd read: %s", strerror(errno));
	bool resubmitted = false;
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
		struct disk_io *io = io_uring_cqe_get_data(cqe);
		int r = cqe->res;
		io_uring_cqe_seen(&d->ring, cqe);
		int res;
		if (!disk_step(d, io, r, &res)) {
			resubmitted = true;
			continue;
		}
		d->outstanding--;
		io->done(io, res);
	}
	if (resubmitted)
		io_uring_submit(&d->ring);
}
