/* virtio-vsock (virtio 1.2 §5.10): AF_VSOCK stream sockets between the
 * guest (CID from --vsock cid=N) and the host (CID 2), whose side is a Unix
 * socket in Firecracker's manner (backend/vsock_uds.h). Queues: rx (0,
 * packets to the guest), tx (1, from it), event (2: transport reset
 * events; vmon never migrates, so it stays idle). The protocol and its
 * bounds are vsock_conn.h's.
 *
 * Threads: everything runs on the I/O thread (queue notifications, the
 * Unix sockets on the same event loop) under the device's lock; reset
 * comes from a vCPU thread and closes every connection. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_VSOCK_H
#define VMON_DEV_VIRTIO_VIRTIO_VSOCK_H

#include <stdint.h>

#include "dev/virtio/virtio_dev.h"

struct event_loop;
struct virtio_pci;
struct virtio_vsock;

#define VIRTIO_VSOCK_RXQ 0
#define VIRTIO_VSOCK_TXQ 1
#define VIRTIO_VSOCK_EVQ 2

/* Listens on uds_path (see vsock_uds_listen) on io. Returns 0 or -errno,
 * logged. */
int virtio_vsock_create(struct event_loop *io, uint64_t guest_cid, const char *uds_path,
			struct virtio_vsock **out);
/* The device's ops, for virtio_pci_create(env, slot, ops, dev, &t). */
const struct virtio_device_ops *virtio_vsock_ops(const struct virtio_vsock *v);
/* The transport, given once after virtio_pci_create, before the guest runs. */
void virtio_vsock_attach(struct virtio_vsock *v, struct virtio_pci *t);
/* Closes every socket and removes PATH (the listening socket's file). */
void virtio_vsock_destroy(struct virtio_vsock *v);

#endif
