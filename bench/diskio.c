/* Chooses virtio-blk's asynchronous I/O mechanism (issue 11 item 4; the
 * result is in src/backend/disk.h): the same workloads through io_uring
 * (liburing), through a pool of 4 worker threads doing preadv/pwritev, and
 * through io_uring with requests of 64 KiB and more sent to its own workers
 * (IOSQE_ASYNC); each completion is signalled on an eventfd that the
 * submitting thread waits on, as the I/O thread would.
 *
 *   diskio [FILE] [MiB]      (default /tmp/vmon-diskio.img, 256 MiB)
 *
 * Rows: 4 KiB random reads at queue depth 1 and 32 (IOPS), 1 MiB sequential
 * reads and writes at queue depth 4 (MiB/s); each with the file's pages in the
 * page cache ("warm") and dropped before the run with POSIX_FADV_DONTNEED
 * ("cold"), the same for both mechanisms. Median of 3 runs per cell. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAXQD 32
#define POOL_THREADS 4

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct job {
	struct iovec iov;
	uint64_t off;
	int write;
	ssize_t res;
	struct job *next;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo, *done;
	int fd, efd, stop;
	pthread_t th[POOL_THREADS];
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		struct job *j = p->todo;
		p->todo = j->next;
		pthread_mutex_unlock(&p->lock);
		j->res = j->write ? pwritev(p->fd, &j->iov, 1, (off_t)j->off)
				  : preadv(p->fd, &j->iov, 1, (off_t)j->off);
		pthread_mutex_lock(&p->lock);
		j->next = p->done;
		p->done = j;
		uint64_t one = 1;
		if (write(p->efd, &one, 8) != 8)
			abort();
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* URING_BIG_ASYNC: requests of 64 KiB and more go to io_uring's own
 * workers (IOSQE_ASYNC) instead of running inline at submission. */
enum mech { URING, POOL, URING_BIG_ASYNC };

struct run {
	enum mech m;
	int fd, efd;
	struct io_uring ring;
	struct pool pool;
	struct job jobs[MAXQD];
	uint64_t fsize;
};

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void submit(struct run *r, struct job *j)
{
	if (r->m != POOL) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
		if (j->write)
			io_uring_prep_writev(sqe, r->fd, &j->iov, 1, j->off);
		else
			io_uring_prep_readv(sqe, r->fd, &j->iov, 1, j->off);
		if (r->m == URING_BIG_ASYNC && j->iov.iov_len >= 65536)
			sqe->flags |= IOSQE_ASYNC;
		io_uring_sqe_set_data(sqe, j);
		io_uring_submit(&r->ring);
	} else {
		pthread_mutex_lock(&r->pool.lock);
		j->next = r->pool.todo;
		r->pool.todo = j;
		pthread_cond_signal(&r->pool.cond);
		pthread_mutex_unlock(&r->pool.lock);
	}
}

/* Waits on the eventfd, then collects finished jobs into out[]. */
static unsigned reap(struct run *r, struct job **out)
{
	uint64_t v;
	unsigned n = 0;
	if (r->m != POOL) {
		struct io_uring_cqe *cqe;
		while (io_uring_peek_cqe(&r->ring, &cqe) != 0) {
			if (read(r->efd, &v, 8) != 8)
				abort();
		}
		do {
			struct job *j = io_uring_cqe_get_data(cqe);
			j->res = cqe->res;
			out[n++] = j;
			io_uring_cqe_seen(&r->ring, cqe);
		} while (io_uring_peek_cqe(&r->ring, &cqe) == 0);
	} else {
		if (read(r->efd, &v, 8) != 8)
			abort();
		pthread_mutex_lock(&r->pool.lock);
		while (r->pool.done) {
			out[n++] = r->pool.done;
			r->pool.done = r->pool.done->next;
		}
		pthread_mutex_unlock(&r->pool.lock);
	}
	for (unsigned i = 0; i < n; i++)
		if (out[i]->res != (ssize_t)out[i]->iov.iov_len) {
			fprintf(stderr, "diskio: short or failed I/O: %zd\n", out[i]->res);
			exit(1);
		}
	return n;
}

/* ops requests of bs bytes at depth qd; random or sequential offsets.
 * Returns nanoseconds. */
static uint64_t workload(struct run *r, unsigned qd, size_t bs, int seq, int wr, unsigned ops)
{
	uint64_t next = 0, t0 = now_ns();
	unsigned issued = 0, doneops = 0, inflight = 0;
	struct job *fin[MAXQD];
	for (unsigned i = 0; i < qd; i++)
		fin[i] = &r->jobs[i];
	unsigned nfree = qd;
	while (doneops < ops) {
		while (nfree && issued < ops) {
			struct job *j = fin[--nfree];
			j->iov.iov_len = bs;
			j->write = wr;
			if (seq) {
				j->off = next;
				next = (next + bs) % r->fsize;
			} else {
				j->off = (rnd() % (r->fsize / bs)) * bs;
			}
			submit(r, j);
			issued++;
			inflight++;
		}
		unsigned n = reap(r, fin + nfree);
		nfree += n;
		inflight -= n;
		doneops += n;
	}
	return now_ns() - t0;
}

static void setup(struct run *r, enum mech m, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	r->efd = eventfd(0, EFD_CLOEXEC);
	if (r->fd < 0 || r->efd < 0) {
		perror("diskio: open");
		exit(1);
	}
	r->fsize = (uint64_t)lseek(r->fd, 0, SEEK_END);
	for (unsigned i = 0; i < MAXQD; i++)
		if (posix_memalign(&r->jobs[i].iov.iov_base, 4096, 1 << 20))
			exit(1);
	if (m != POOL) {
		int e = io_uring_queue_init(64, &r->ring, 0);
		if (e < 0 || io_uring_register_eventfd(&r->ring, r->efd) < 0) {
			fprintf(stderr, "diskio: io_uring_queue_init: %s\n", strerror(-e));
			exit(1);
		}
	} else {
		pthread_mutex_init(&r->pool.lock, NULL);
		pthread_cond_init(&r->pool.cond, NULL);
		r->pool.fd = r->fd;
		r->pool.efd = r->efd;
		for (int i = 0; i < POOL_THREADS; i++)
			pthread_create(&r->pool.th[i], NULL, pool_worker, &r->pool);
	}
}

static void teardown(struct run *r)
{
	if (r->m != POOL) {
		io_uring_queue_exit(&r->ring);
	} else {
		pthread_mutex_lock(&r->pool.lock);
		r->pool.stop = 1;
		pthread_cond_broadcast(&r->pool.cond);
		pthread_mutex_unlock(&r->pool.lock);
		for (int i = 0; i < POOL_THREADS; i++)
			pthread_join(r->pool.th[i], NULL);
	}
	for (unsigned i = 0; i < MAXQD; i++)
		free(r->jobs[i].iov.iov_base);
	close(r->fd);
	close(r->efd);
}

static void cache(int fd, uint64_t size, int warm)
{
	if (warm) {
		static char buf[1 << 20];
		for (uint64_t o = 0; o < size; o += sizeof(buf))
			if (pread(fd, buf, sizeof(buf), (off_t)o) < 0)
				exit(1);
	} else {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/tmp/vmon-diskio.img";
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 0) : 256;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("diskio: open");
		return 1;
	}
	static char buf[1 << 20];
	for (uint64_t i = 0; i < mib; i++) {
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (char)rnd();
		if (pwrite(fd, buf, sizeof(buf), (off_t)(i << 20)) != (ssize_t)sizeof(buf))
			return 1;
	}
	fsync(fd);
	struct {
		const char *name, *unit;
		unsigned qd;
		size_t bs;
		int seq, wr;
		unsigned ops;
	} rows[] = {
		{ "4K randread QD1", "IOPS", 1, 4096, 0, 0, 20000 },
		{ "4K randread QD32", "IOPS", 32, 4096, 0, 0, 40000 },
		{ "1M seqread QD4", "MiB/s", 4, 1 << 20, 1, 0, 512 },
		{ "1M seqwrite QD4", "MiB/s", 4, 1 << 20, 1, 1, 512 },
	};
	printf("%-18s %-5s %-6s %12s %12s %14s %7s %7s\n", "workload", "cache", "unit", "io_uring", "pool(4)",
	       "uring+async64K", "u/pool", "ua/pool");
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			double res[3];
			for (int m = 0; m < 3; m++) {
				double v[3];
				for (int k = 0; k < 3; k++) {
					struct run *r = malloc(sizeof(*r));
					setup(r, (enum mech)m, path);
					cache(r->fd, r->fsize, w == 0);
					unsigned ops = rows[i].ops / (w == 0 ? 1 : 4);
					uint64_t ns = workload(r, rows[i].qd, rows[i].bs, rows[i].seq, rows[i].wr, ops);
					double per_s = (double)ops * 1e9 / (double)ns;
					v[k] = rows[i].bs >= (1 << 20) ? per_s * (double)(rows[i].bs >> 20) : per_s;
					teardown(r);
					free(r);
				}
				qsort(v, 3, sizeof(v[0]), cmp);
				res[m] = v[1];
			}
			printf("%-18s %-5s %-6s %12.0f %12.0f %14.0f %7.2f %7.2f\n", rows[i].name,
			       w == 0 ? "warm" : "cold", rows[i].unit, res[0], res[1], res[2], res[0] / res[1],
			       res[2] / res[1]);
			fflush(stdout);
		}
	}
	close(fd);
	unlink(path);
	return 0;
}
