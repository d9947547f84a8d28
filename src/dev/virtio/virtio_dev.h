/* What a virtio device (blk, net, console, rng, vsock) gives the transport
 * and what the transport (virtio_pci.c, virtio 1.2 §4.1) gives it back.
 *
 * Threads: the driver's register accesses arrive on vCPU threads and are
 * served by the transport under its lock. Queue notifications reach the
 * device on the I/O thread (an eventfd: KVM signals it itself through
 * KVM_IOEVENTFD; under emu the transport writes it), so a device does its
 * work, and blocks on nothing, there. ops->reset runs on a vCPU thread with
 * no transport lock held. A device serialises its own state. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_DEV_H
#define VMON_DEV_VIRTIO_VIRTIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/virtio/virtqueue.h"

/* Device ids (§5) */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4
#define VIRTIO_ID_VSOCK   19

/* Reserved feature bits the transport negotiates itself (§6) */
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_MAX_QUEUES 8

struct virtio_pci;

struct virtio_device_ops {
	const char *name;            /* "virtio-blk": for log lines */
	uint16_t device_id;          /* VIRTIO_ID_* */
	uint32_t pci_class;          /* class code of the PCI header, e.g. 0x010000 */
	unsigned num_queues;         /* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_max_size;     /* a power of 2, at most VIRTQ_MAX_SIZE */
	/* Device-specific feature bits offered (bits 0-23 and 41+, §6); the
	 * transport adds VERSION_1, RING_INDIRECT_DESC and RING_EVENT_IDX. */
	uint64_t features;
	/* The device-specific configuration (§4.1.4.6): config_size bytes
	 * that the driver reads through the device configuration capability.
	 * config_read copies [off, off+size) (inside config_size, checked by
	 * the transport) into out; config_write, optional, takes a write.
	 * Both run under the transport lock on a vCPU thread. */
	size_t config_size;
	void (*config_read)(void *dev, unsigned off, unsigned size, uint8_t *out);
	void (*config_write)(void *dev, unsigned off, unsigned size, const uint8_t *in);
	/* DRIVER_OK (§3.1.1): features are the negotiated ones, the enabled
	 * queues are set up (virtio_pci_queue). Returns 0, or -errno: the
	 * device is then marked DEVICE_NEEDS_RESET. vCPU thread. */
	int (*start)(void *dev, uint64_t features);
	/* The driver notified queue q (I/O thread). */
	void (*notify)(void *dev, unsigned q);
	/* The driver reset the device (§2.4). When it returns the device no
	 * longer touches guest memory or its queues: it may wait here for its
	 * requests in flight. vCPU thread, no transport lock held. */
	void (*reset)(void *dev);
};

/* For the device: queue q as the driver set it up, or NULL when the
 * driver did not enable it. Valid from start() until reset(). */
struct virtq *virtio_pci_queue(struct virtio_pci *t, unsigned q);

/* After virtq_push: interrupts the driver for queue q if the queue asks
 * for it (virtq_need_interrupt): its MSI-X vector, or INTx with ISR bit 0.
 * Any thread; takes the transport lock briefly. */
void virtio_pci_queue_interrupt(struct virtio_pci *t, unsigned q);

/* The device configuration changed (e.g. a link came up): a new
 * config_generation and a configuration change interrupt (§2.5.1). */
void virtio_pci_config_changed(struct virtio_pci *t);

/* The driver broke the rules (a malformed ring or request that no status
 * code can answer): DEVICE_NEEDS_RESET and a configuration change
 * interrupt (§2.1.2). The device stops processing until reset. Logged once
 * with why. */
void virtio_pci_needs_reset(struct virtio_pci *t, const char *why);

#endif
