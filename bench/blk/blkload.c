/* bench/blk/blkload.c: the block load generator of bench/blk, one static
 * program run both in the guest (on /dev/vda) and on the host (on the image
 * file itself), so the two figures come from the same code.
 *   blkload seqread  FILE SECONDS        1 MiB O_DIRECT preadv, sequential
 *   blkload seqwrite FILE SECONDS        1 MiB O_DIRECT pwritev, sequential
 *   blkload randread FILE SECONDS QD     4 KiB O_DIRECT preadv at random
 *                                        4 KiB-aligned offsets, QD threads
 * Each runs for SECONDS (wrapping round at the end of FILE) and prints one
 * line "RESULT <mode> <value> <unit>" (MiB/s or IOPS), timed with
 * CLOCK_MONOTONIC. Built with gcc -static by bench/blk/run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define SEQ_BS (1u << 20)
#define RAND_BS 4096u
#define MAX_QD 256

struct job {
	int fd;
	uint64_t size;	/* bytes of FILE used, a multiple of SEQ_BS */
	double seconds;
	uint64_t seed;
	uint64_t ops;
	int err;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *aligned(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, n))
		return NULL;
	memset(p, 0x5a, n);
	return p;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *rand_worker(void *arg)
{
	struct job *j = arg;
	char *buf = aligned(RAND_BS);
	if (!buf) {
		j->err = ENOMEM;
		return NULL;
	}
	struct iovec iov = { buf, RAND_BS };
	uint64_t blocks = j->size / RAND_BS;
	double end = now() + j->seconds;
	/* The clock is read every 16 requests: a guest's clock_gettime may
	 * cost more than a request. */
	while (!j->err) {
		for (int k = 0; k < 16; k++) {
			off_t off = (off_t)(xorshift(&j->seed) % blocks) * RAND_BS;
			if (preadv(j->fd, &iov, 1, off) != (ssize_t)RAND_BS) {
				j->err = errno ? errno : EIO;
				break;
			}
			j->ops++;
		}
		if (now() >= end)
			break;
	}
	free(buf);
	return NULL;
}

static int seq(struct job *j, int write)
{
	char *buf = aligned(SEQ_BS);
	if (!buf)
		return -ENOMEM;
	struct iovec iov = { buf, SEQ_BS };
	uint64_t off = 0;
	double end = now() + j->seconds;
	while (now() < end) {
		ssize_t n = write ? pwritev(j->fd, &iov, 1, off) : preadv(j->fd, &iov, 1, off);
		if (n != (ssize_t)SEQ_BS) {
			int r = n < 0 ? -errno : -EIO;
			free(buf);
			return r;
		}
		j->ops++;
		off += SEQ_BS;
		if (off >= j->size)
			off = 0;
	}
	free(buf);
	if (write && fdatasync(j->fd) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: blkload seqread|seqwrite|randread FILE SECONDS [QD]\n");
		return 2;
	}
	const char *mode = argv[1], *path = argv[2];
	double seconds = atof(argv[3]);
	int qd = argc > 4 ? atoi(argv[4]) : 1;
	int write = !strcmp(mode, "seqwrite");
	if (qd < 1 || qd > MAX_QD || seconds <= 0) {
		fprintf(stderr, "blkload: bad SECONDS or QD\n");
		return 2;
	}
	int fd = open(path, (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkload: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	uint64_t size = 0;
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			size = 0;
	} else {
		size = st.st_size;
	}
	size -= size % SEQ_BS;
	if (size == 0) {
		fprintf(stderr, "blkload: %s: smaller than 1 MiB\n", path);
		return 1;
	}
	struct job jobs[MAX_QD];
	double t0 = now(), t;
	if (!strcmp(mode, "randread")) {
		pthread_t th[MAX_QD];
		for (int i = 0; i < qd; i++) {
			jobs[i] = (struct job){ fd, size, seconds, 0x9e3779b97f4a7c15ull * (i + 1), 0, 0 };
			if (pthread_create(&th[i], NULL, rand_worker, &jobs[i])) {
				fprintf(stderr, "blkload: pthread_create failed\n");
				return 1;
			}
		}
		uint64_t ops = 0;
		int err = 0;
		for (int i = 0; i < qd; i++) {
			pthread_join(th[i], NULL);
			ops += jobs[i].ops;
			err = err ? err : jobs[i].err;
		}
		t = now() - t0;
		if (err) {
			fprintf(stderr, "blkload: %s: read: %s\n", path, strerror(err));
			return 1;
		}
		printf("RESULT randread-qd%d %.0f IOPS\n", qd, ops / t);
	} else if (write || !strcmp(mode, "seqread")) {
		jobs[0] = (struct job){ fd, size, seconds, 0, 0, 0 };
		int r = seq(&jobs[0], write);
		t = now() - t0;
		if (r < 0) {
			fprintf(stderr, "blkload: %s: %s: %s\n", path, mode, strerror(-r));
			return 1;
		}
		printf("RESULT %s %.1f MiB/s\n", mode, jobs[0].ops * (SEQ_BS / 1048576.0) / t);
	} else {
		fprintf(stderr, "blkload: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
