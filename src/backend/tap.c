#include "backend/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/log.h"

#define TUN_PATH "/dev/net/tun"

static int tap_fail(const char *name, const char *what, int err)
{
	const char *hint = "";
	if (err == EPERM || err == EACCES)
		hint = " — needs CAP_NET_ADMIN or a persistent tap owned by you";
	else if (err == EBUSY)
		hint = " — the tap is already attached (another vmon?)";
	else if (err == ENOENT || err == ENODEV)
		hint = " — no tun/tap support (modprobe tun)";
	log_error("--net tap=%s: %s: %s%s", name, what, strerror(err), hint);
	return -err;
}

/* Offload sets tried in order, largest first: a tap either takes a set
 * with TUNSETOFFLOAD or refuses it with EINVAL. */
static const unsigned offload_probe[] = {
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	TUN_F_CSUM,
};

int tap_open(struct tap *t, const char *name, int hdr_size)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!*name || strlen(name) >= IFNAMSIZ) {
		log_error("--net tap=%s: interface names are 1 to %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);

	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return tap_fail(name, TUN_PATH, errno);

	unsigned features = 0;
	if (ioctl(fd, TUNGETFEATURES, &features) == 0 && !(features & IFF_VNET_HDR)) {
		close(fd);
		log_error("--net tap=%s: " TUN_PATH ": the kernel has no IFF_VNET_HDR", name);
		return -ENOTSUP;
	}

	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return tap_fail(name, TUN_PATH, e);
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
		int e = errno;
		close(fd);
		return tap_fail(name, "TUNSETVNETHDRSZ", e);
	}
	t->fd = fd;

	for (unsigned i = 0; i < sizeof(offload_probe) / sizeof(offload_probe[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)offload_probe[i]) == 0) {
			t->offloads = offload_probe[i];
			break;
		}
	}
	/* Nothing until the guest negotiates its receive offloads. */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		int e = errno;
		tap_close(t);
		return tap_fail(name, "TUNSETOFFLOAD", e);
	}
	log_debug("tap %s: vnet header %d bytes, offloads 0x%x", t->name, hdr_size, t->offloads);
	return 0;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int tap_set_offload(struct tap *t, unsigned tun_flags)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return -errno;
	return 0;
}

ssize_t tap_readv(struct tap *t, const struct iovec *iov, int n)
{
	ssize_t r;
	do
		r = readv(t->fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t tap_writev(struct tap *t, const struct iovec *iov, int n)
{
	ssize_t r;
	do
		r = writev(t->fd, iov, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}
