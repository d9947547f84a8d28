#include "backend/vsock_uds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int vsock_uds_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	const size_t vl = sizeof(verb) - 1;
	if (len >= VSOCK_UDS_LINE_MAX)
		return -EINVAL;
	if (memcmp(line, verb, len < vl ? len : vl) != 0)
		return -EINVAL;
	if (len <= vl)
		return 0;
	uint64_t v = 0;
	size_t i = vl;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(line[i] - '0');
		if (i - vl >= 10 || v > UINT32_MAX)
			return -EINVAL;
	}
	if (i == len)
		return 0; /* digits so far, no newline yet */
	if (line[i] != '\n' || i == vl || i + 1 != len)
		return -EINVAL;
	*port = (uint32_t)v;
	return 1;
}

size_t vsock_uds_ok_line(uint32_t port, char *out)
{
	return (size_t)snprintf(out, VSOCK_UDS_LINE_MAX, "OK %u\n", port);
}

static int make_addr(struct sockaddr_un *a, const char *path, const char *suffix)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path, sizeof(a->sun_path), "%s%s", path, suffix);
	return n < 0 || (size_t)n >= sizeof(a->sun_path) ? -ENAMETOOLONG : 0;
}

int vsock_uds_listen(const char *path, int *out)
{
	struct sockaddr_un a;
	int r = make_addr(&a, path, "");
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	if (r == -EADDRINUSE) {
		/* Someone accepting there is another vmon: refuse. Else stale. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (probe >= 0)
			close(probe);
		if (!live && unlink(path) == 0)
			r = bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	}
	if (r == 0 && listen(fd, 16) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int vsock_uds_connect_port(const char *path, uint32_t port, int *out)
{
	struct sockaddr_un a;
	char suffix[16];
	snprintf(suffix, sizeof(suffix), "_%u", port);
	int r = make_addr(&a, path, suffix);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix stream connect completes at once, or fails (EAGAIN: the
	 * listener's backlog is full, taken as a refusal). */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}
