/* The host side of virtio-net: a Linux tap interface (/dev/net/tun,
 * Documentation/networking/tuntap.rst) opened with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, so every frame read or written is preceded by a
 * virtio_net_hdr of the size set here: the guest's own header passes
 * through unchanged, offloads included. Non-blocking. */
#ifndef VMON_BACKEND_TAP_H
#define VMON_BACKEND_TAP_H

#include <net/if.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tap {
	int fd;
	char name[IFNAMSIZ];
	/* TUN_F_* offloads the tap accepted in a TUNSETOFFLOAD probe: what
	 * it may hand us (the guest's receive offloads). */
	unsigned offloads;
};

/* Attaches to interface name (created if absent: that needs
 * CAP_NET_ADMIN; a persistent tap owned by the user does not), sets the
 * vnet header size to hdr_size and probes the offloads. On failure logs
 * one line naming the interface and the step, and returns -errno. */
int tap_open(struct tap *t, const char *name, int hdr_size);
void tap_close(struct tap *t);

/* TUNSETOFFLOAD: which TUN_F_* offloads the tap may use towards us.
 * 0 or -errno. */
int tap_set_offload(struct tap *t, unsigned tun_flags);

/* One frame (vnet header first) per call. Return bytes or -errno
 * (-EAGAIN: nothing to read / no room now). */
ssize_t tap_readv(struct tap *t, const struct iovec *iov, int n);
ssize_t tap_writev(struct tap *t, const struct iovec *iov, int n);

#endif
