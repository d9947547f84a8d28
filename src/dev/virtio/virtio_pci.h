/* The virtio 1.2 PCI transport, modern interface only (§4.1): a PCI
 * function 1af4:(0x1040 + device id), revision 1, with the common, notify,
 * ISR, device and PCI-configuration-access capabilities (§4.1.4) in one
 * 64-bit memory BAR, and MSI-X (one vector per queue plus one for
 * configuration changes) in a 32-bit one; INTx when the driver leaves MSI-X
 * off. It negotiates features (VERSION_1 required), runs the status state
 * machine and resets, and sets up each queue the driver enables
 * (virtqueue.c); the device (virtio_dev.h) does the rest. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_PCI_H
#define VMON_DEV_VIRTIO_VIRTIO_PCI_H

#include "bus/msi.h"
#include "dev/pci/pci_host.h"
#include "dev/virtio/virtio_dev.h"
#include "mem/guest_mem.h"

struct event_loop;

/* What the transport needs from the machine. */
struct virtio_pci_env {
	struct pci_host *pci;
	struct event_loop *io;        /* queue notifications are served here */
	const struct guest_mem *mem;
	struct msi_sink msi;
	struct ioeventfd_sink ioeventfd;
};

/* Puts device dev (with its ops) at PCI slot. Returns 0 or -errno. */
int virtio_pci_create(const struct virtio_pci_env *env, unsigned slot, const struct virtio_device_ops *ops,
		      void *dev, struct virtio_pci **out);
/* Removes the notifications from the event loop (stopped or not). */
void virtio_pci_destroy(struct virtio_pci *t);

/* BAR layout (BAR 4, 64-bit memory): one page per structure (§4.1.4). */
#define VIRTIO_PCI_BAR           4
#define VIRTIO_PCI_BAR_SIZE      0x4000
#define VIRTIO_PCI_COMMON_OFF    0x0000
#define VIRTIO_PCI_ISR_OFF       0x1000
#define VIRTIO_PCI_DEVICE_OFF    0x2000
#define VIRTIO_PCI_NOTIFY_OFF    0x3000
#define VIRTIO_PCI_NOTIFY_MULT   4      /* notify_off_multiplier */
#define VIRTIO_PCI_MSIX_BAR      1      /* 32-bit memory: table, then PBA */
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_MSIX_PBA_OFF  0x800

/* Device status bits (§2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  64
#define VIRTIO_STATUS_FAILED       128

#endif
