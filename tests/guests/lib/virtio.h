/* A minimal virtio 1.2 driver for bare-metal test guests: PCI configuration
 * mechanism #1, the modern PCI transport's capabilities (§4.1.4), feature
 * negotiation (§3.1.1), split queues (§2.7) with MSI-X vectors to the local
 * APIC of CPU 0. Single-threaded, polling with interrupts counted by the
 * caller's handlers. */
#ifndef VMON_GUEST_VIRTIO_H
#define VMON_GUEST_VIRTIO_H

#include <stdint.h>

/* PCI configuration space of bus 0, slot (function 0). */
uint32_t pci_cfg32(unsigned slot, unsigned reg);
uint8_t pci_cfg8(unsigned slot, unsigned reg);
void pci_cfg_write32(unsigned slot, unsigned reg, uint32_t v);
void pci_cfg_write16(unsigned slot, unsigned reg, uint16_t v);
/* The slot whose vendor/device dword is id (device << 16 | vendor), or -1. */
int pci_find(uint32_t id);

/* struct virtio_pci_common_cfg (§4.1.4.3) */
struct virtio_common {
	uint32_t dfselect, df, gfselect, gf;
	uint16_t msix_config, num_queues;
	uint8_t status, generation;
	uint16_t q_select, q_size, q_msix, q_enable, q_notify_off;
	uint64_t q_desc, q_driver, q_device;
};

#define VIRTIO_ACK 1
#define VIRTIO_DRIVER 2
#define VIRTIO_DRIVER_OK 4
#define VIRTIO_FEATURES_OK 8
#define VIRTIO_NEEDS_RESET 64

struct vdev {
	unsigned slot;
	uint64_t bar;                     /* BAR 4 where the driver put it */
	volatile struct virtio_common *cc;
	volatile uint8_t *isr, *devcfg;   /* devcfg: 0 when the device has none */
	uint32_t notify_off, notify_mult;
	unsigned msix_cap;
	volatile uint32_t *msix_table;
	char caps[64];                    /* the capability types in list order */
};

/* Walks the capabilities and moves BAR 4 (64-bit, placed above 4 GiB
 * by vmon, where the boot page tables do not reach) to bar. */
void virtio_open(struct vdev *d, unsigned slot, uint64_t bar);
/* Reset, ACKNOWLEDGE, DRIVER, the offered features in *offered, accept
 * want and set FEATURES_OK. Returns whether FEATURES_OK stuck. */
int virtio_negotiate(struct vdev *d, uint64_t want, uint64_t *offered);
/* Enables MSI-X; table entry vec sends LAPIC vector lapic_vec to CPU 0. */
void virtio_msix_enable(struct vdev *d);
void virtio_msix_vector(struct vdev *d, unsigned vec, unsigned lapic_vec);

#define VQ_SIZE 16
struct vq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
#define VQ_F_NEXT 1
#define VQ_F_WRITE 2
#define VQ_F_INDIRECT 4
struct vq {
	struct vq_desc desc[VQ_SIZE] __attribute__((aligned(16)));
	struct { uint16_t flags, idx, ring[VQ_SIZE], used_event; } avail __attribute__((aligned(2)));
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[VQ_SIZE]; uint16_t avail_event; } used
		__attribute__((aligned(4)));
	volatile uint16_t *notify;
	uint16_t next_avail;
};
/* Sets up queue q with VQ_SIZE entries and MSI-X vector vec, enables it. */
void virtio_queue(struct vdev *d, unsigned q, struct vq *vq, unsigned vec);
/* Makes the chain at head available and notifies queue q. */
void vq_submit(struct vq *vq, unsigned q, uint16_t head);
/* Spins until used idx reaches idx (bounded); returns whether it did. */
int vq_wait_used(struct vq *vq, uint16_t idx);
/* Spins with interrupts enabled until *count reaches want (bounded). */
void wait_irq(volatile uint32_t *count, uint32_t want);

#endif
