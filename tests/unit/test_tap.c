/* backend/tap.c against the real /dev/net/tun, in a network namespace of
 * the test's own (unshare(CLONE_NEWNET): root), so nothing on the host
 * changes. SKIPs where that or /dev/net/tun is missing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/tap.h"
#include "unit.h"

static int link_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ? -1 : 0;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	if (s >= 0)
		close(s);
	return r;
}

int main(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("SKIP tap: needs /dev/net/tun and a network namespace (root): %s\n", strerror(errno));
		return unit_report("tap");
	}
	struct tap t, t2;
	CHECK_EQ(tap_open(&t, "", 12), -EINVAL);
	CHECK_EQ(tap_open(&t, "abcdefghijklmnop", 12), -EINVAL);  /* 16 > IFNAMSIZ - 1 */
	CHECK_EQ(tap_open(&t, "vmonut0", 12), 0);
	CHECK(t.fd >= 0);
	CHECK(strcmp(t.name, "vmonut0") == 0);
	CHECK(fcntl(t.fd, F_GETFL) & O_NONBLOCK);
	int sz = 0;
	CHECK(ioctl(t.fd, TUNGETVNETHDRSZ, &sz) == 0 && sz == 12);
	unsigned fl = 0;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	CHECK(ioctl(t.fd, TUNGETIFF, &ifr) == 0);
	fl = (unsigned)ifr.ifr_flags;
	CHECK((fl & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) == (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
	/* Linux taps take checksum and TSO offloads (tun.c set_offload) */
	CHECK(t.offloads & TUN_F_CSUM);
	CHECK((t.offloads & (TUN_F_TSO4 | TUN_F_TSO6)) == (TUN_F_TSO4 | TUN_F_TSO6));
	CHECK_EQ(tap_set_offload(&t, TUN_F_CSUM | TUN_F_TSO4), 0);
	CHECK_EQ(tap_set_offload(&t, 0), 0);
	/* the same interface twice: busy (not multi-queue) */
	CHECK_EQ(tap_open(&t2, "vmonut0", 12), -EBUSY);

	uint8_t buf[12 + 1514];
	struct iovec iov = { buf, sizeof(buf) };
	CHECK_EQ(tap_readv(&t, &iov, 1), -EAGAIN);  /* nothing there, no blocking */
	/* a frame (vnet header, then broadcast Ethernet + junk) while the link is down: EIO */
	memset(buf, 0, sizeof(buf));
	memset(buf + 12, 0xff, 6);
	buf[12 + 12] = 0x88, buf[12 + 13] = 0xb5;  /* local experimental ethertype */
	struct iovec w[2] = { { buf, 12 }, { buf + 12, 60 } };
	CHECK_EQ(tap_writev(&t, w, 2), -EIO);
	if (link_up("vmonut0") == 0)
		CHECK_EQ(tap_writev(&t, w, 2), 72);
	else
		CHECK(0);
	/* a header the kernel refuses: GSO with a zero MSS */
	buf[0] = 1, buf[1] = 1;
	CHECK_EQ(tap_writev(&t, w, 2), -EINVAL);
	tap_close(&t);
	CHECK_EQ(t.fd, -1);

	/* without CAP_NET_ADMIN a new tap cannot be made: EPERM, or EACCES
	 * where /dev/net/tun is not world-writable (the message names the
	 * cure) */
	FILE *msg = tmpfile();
	pid_t pid = fork();
	if (pid == 0) {
		struct tap u;
		dup2(fileno(msg), 2);
		int r = setgid(65534) == 0 && setuid(65534) == 0 ? tap_open(&u, "vmonut1", 12) : 0;
		_exit(r == -EPERM || r == -EACCES ? 0 : 1); /* EACCES: /dev/net/tun not 0666 */
	}
	int st = -1;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char line[256] = "";
	rewind(msg);
	CHECK(fgets(line, sizeof(line), msg) != NULL);
	CHECK(strncmp(line, "vmon: --net tap=vmonut1: /dev/net/tun: ", 39) == 0);
	CHECK(strstr(line, " — needs CAP_NET_ADMIN or a persistent tap owned by you\n") != NULL);
	fclose(msg);
	return unit_report("tap");
}
