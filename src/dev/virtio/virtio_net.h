/* virtio-net (virtio 1.2 §5.1) on a host tap: one receive queue (0) and
 * one transmit queue (1), no control queue (the driver then keeps its
 * receive filter to itself and the tap sees every frame; MAC and link
 * status come from the configuration space). Offloads are offered only
 * where the tap takes them: checksum and TSO4/6/ECN both ways, mergeable
 * receive buffers always. Frames move on the I/O thread. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_NET_H
#define VMON_DEV_VIRTIO_VIRTIO_NET_H

#include <stdint.h>

#include "dev/virtio/virtio_dev.h"

struct event_loop;
struct virtio_net;

struct virtio_net_params {
	const char *tap;     /* host interface name, e.g. "vmtap0" */
	uint8_t mac[6];      /* the guest's MAC address */
};

/* Opens the tap (logging why on failure) and watches it on loop. The
 * device is then given to the transport: virtio_pci_create(...,
 * virtio_net_ops(n), n, &t), then virtio_net_attach(n, t) before the guest
 * runs. Returns 0 or -errno. */
int virtio_net_create(const struct virtio_net_params *p, struct event_loop *loop, struct virtio_net **out);
/* The device's operations (its offered features depend on the tap). */
const struct virtio_device_ops *virtio_net_ops(struct virtio_net *n);
void virtio_net_attach(struct virtio_net *n, struct virtio_pci *t);
/* Stops watching the tap (not from the loop's thread) and closes it. */
void virtio_net_destroy(struct virtio_net *n);

#endif
