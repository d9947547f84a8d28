/* Split virtqueues (virtio 1.2 §2.7), the device side: the one queue walker
 * every vmon virtio device uses. The rings live in guest RAM and the guest
 * may rewrite them at any moment, so every value read from them is
 * untrusted: a descriptor is copied once before it is checked and used,
 * every buffer must lie inside guest RAM (guest_mem_ptr), a chain is at most
 * the queue size long (which also ends loops), device-writable descriptors
 * come after the device-readable ones (§2.7.4.2), an indirect table is
 * whole descriptors inside RAM and holds no further indirect one
 * (§2.7.5.3.1), and length sums cannot overflow. A ring that breaks a rule
 * makes virtq_pop() return -EINVAL; the device then sets DEVICE_NEEDS_RESET
 * (§2.1.2) and stops using the queue.
 *
 * Memory ordering (§2.7.13): avail->idx is read with acquire before the
 * entries it covers; used entries are written before used->idx is
 * published with release.
 *
 * Not thread-safe: a queue is driven by one thread at a time (its device
 * serialises). */
#ifndef VMON_DEV_VIRTIO_VIRTQUEUE_H
#define VMON_DEV_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/guest_mem.h"

/* The largest queue a vmon device offers; a chain is at most this long. */
#define VIRTQ_MAX_SIZE 256

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Feature bits the queue walker implements (§6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;            /* entries, a power of 2, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;           /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;            /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	/* host views of the three rings, checked once by virtq_init */
	void *desc, *avail, *used;
	uint16_t last_avail;      /* free-running index of the next chain to take */
	uint16_t used_idx;        /* free-running used->idx as published */
	uint16_t signalled_used;  /* used_idx at the last virtq_need_interrupt (event idx) */
	bool signalled_valid;
};

/* One descriptor chain: iov[0..nout) is what the driver wrote for the
 * device (readable), iov[nout..nout+nin) what the device may write. Every
 * iov_base points into guest RAM, checked. */
struct virtq_chain {
	uint16_t head;            /* the id to give back with virtq_push */
	unsigned nout, nin;
	uint64_t out_len, in_len; /* byte totals of each part */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Sets the queue up from the addresses and size the driver programmed.
 * Checks size (a power of 2, at most VIRTQ_MAX_SIZE), alignment (§2.7:
 * descriptor table 16, available ring 2, used ring 4) and that the three
 * rings lie inside guest RAM. Returns 0 or -EINVAL. */
int virtq_init(struct virtq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
	       uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, bool indirect);

/* Takes the next available chain into *c. Returns 1 (a chain), 0 (the
 * driver has made nothing more available) or -EINVAL (the ring or this
 * chain breaks a rule above; nothing was consumed). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Gives back the last n chains taken by virtq_pop (none pushed since), as
 * if never taken: a device that found too few buffers waits for more. */
void virtq_unpop(struct virtq *q, unsigned n);

/* Writes used element (head, written) at position used_idx + i, without
 * publishing it; virtq_flush(q, n) then publishes n filled elements at once
 * (virtio-net's mergeable buffers). virtq_push is fill(0) + flush(1).
 * written is what the device wrote into the chain's writable part. */
void virtq_fill(struct virtq *q, unsigned i, uint16_t head, uint32_t written);
void virtq_flush(struct virtq *q, unsigned n);
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushes: does the driver want an interrupt now? With EVENT_IDX,
 * whether one of the entries published since the previous call was
 * written at index used_event (§2.7.7, vring_need_event of §2.7.10);
 * without, unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7).
 * Each call starts the next window, so the caller sends the interrupt
 * whenever it returns true. */
bool virtq_need_interrupt(struct virtq *q);

/* Notification suppression (§2.7.7/§2.7.10): disable while draining the
 * queue; enable afterwards returns true when chains arrived in between
 * (drain again), so no notification is ever lost. */
void virtq_disable_notify(struct virtq *q);
bool virtq_enable_notify(struct virtq *q);

/* Copies up to len bytes of the chain's readable part from offset off into
 * dst, or of src into its writable part from offset off. Return the bytes
 * copied. */
uint64_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, uint64_t len);
uint64_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, uint64_t len);

#endif
