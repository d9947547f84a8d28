#include "util/outbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

int outbuf_open(int out_fd)
{
	struct stat st;
	if (fstat(out_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", out_fd);
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		log_info("output: cannot reopen fd %d non-blocking (%s): writes may block", out_fd,
			 strerror(errno));
	}
	int fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

size_t outbuf_room(const struct outbuf *b)
{
	return sizeof(b->data) - (b->len - b->off);
}

size_t outbuf_put(struct outbuf *b, const void *src, size_t len)
{
	if (b->off && b->len + len > sizeof(b->data)) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	size_t n = sizeof(b->data) - b->len;
	if (n > len)
		n = len;
	memcpy(b->data + b->len, src, n);
	b->len += n;
	return n;
}

int outbuf_flush(struct outbuf *b)
{
	while (b->off < b->len && !b->dead) {
		ssize_t n = write(b->fd, b->data + b->off, b->len - b->off);
		if (n > 0) {
			b->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		/* Nobody reads any more (EPIPE: `vmon ... | head`): the guest
		 * goes on, its output is discarded. */
		log_warn("output: write: %s: the guest's console output is discarded from now on",
			 n < 0 ? strerror(errno) : "no progress");
		b->dead = true;
	}
	b->off = b->len = 0;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int outbuf_drain(struct outbuf *b, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	while (outbuf_flush(b) == -EAGAIN) {
		int64_t left = end - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { b->fd, POLLOUT, 0 };
		(void)poll(&p, 1, (int)left);
	}
	return 0;
}
