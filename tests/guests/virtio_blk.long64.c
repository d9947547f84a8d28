/* virtio-blk from a bare-metal driver (virtio 1.2 §5.2) on both engines:
 * the configuration space and features, three requests in flight at once
 * (GET_ID, a write of sector 5, a read of sector 0), FLUSH, the written
 * sector read back, a header split over two descriptors, requests past the
 * end of the disk and of an unknown type, and a chain with no status byte
 * (the device can only ask for a reset). Run with --disk FILE[,ro] on a
 * 1 MiB image whose sector 0 starts with "vmon-disk-test"; the system test
 * checks sector 5 of FILE afterwards. */
#include <stdint.h>

#include "lib/guestlib.h"
#include "lib/virtio.h"

#define LAPIC 0xfee00000ULL
#define VEC_QUEUE 0x41
#define NEW_BAR 0xd0000000ULL

/* Feature bits (§5.2.3) */
#define BLK_F_SIZE_MAX 1
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
/* Request types and status (§5.2.6) */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

struct hdr { uint32_t type, reserved; uint64_t sector; };

static struct vq vq;
static struct hdr hdr[4];
static uint8_t status[4];
static uint8_t data[3][1024] __attribute__((aligned(512)));

volatile uint32_t queue_irqs;
extern void queue_entry(void);
__asm__(".text\n"
	"queue_entry:\n"
	"	lock incl queue_irqs(%rip)\n"
	"	push %rax\n"
	"	movabs $0xfee000b0, %rax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n");

/* A request from descriptor base on: header | data (if len) | status,
 * with header and status in slot's buffers. */
static void request(unsigned base, unsigned slot, uint32_t type, uint64_t sector, void *buf, uint32_t len,
		    int write)
{
	hdr[slot] = (struct hdr){ type, 0, sector };
	status[slot] = 0xff;
	vq.desc[base] = (struct vq_desc){ (uint64_t)&hdr[slot], 16, VQ_F_NEXT, (uint16_t)(base + 1) };
	if (len) {
		vq.desc[base + 1] = (struct vq_desc){ (uint64_t)buf, len, (uint16_t)(VQ_F_NEXT | (write ? 0 : VQ_F_WRITE)),
						      (uint16_t)(base + 2) };
		vq.desc[base + 2] = (struct vq_desc){ (uint64_t)&status[slot], 1, VQ_F_WRITE, 0 };
	} else {
		vq.desc[base].next = (uint16_t)(base + 1);
		vq.desc[base + 1] = (struct vq_desc){ (uint64_t)&status[slot], 1, VQ_F_WRITE, 0 };
	}
}

/* The used length the device reported for the chain whose head is id. */
static uint32_t used_len(uint16_t id)
{
	for (unsigned i = 0; i < vq.used.idx && i < 64; i++)
		if (vq.used.ring[i % VQ_SIZE].id == id)
			return vq.used.ring[i % VQ_SIZE].len;
	return 0xffffffff;
}

static int one(unsigned base)
{
	uint16_t want = (uint16_t)(vq.used.idx + 1);
	vq_submit(&vq, 0, (uint16_t)base);
	return vq_wait_used(&vq, want);
}

void guest_main(void)
{
	int found = pci_find(0x10421af4);
	if (found < 0) {
		print("virtio-blk: not found\n");
		guest_exit(1);
	}
	struct vdev d;
	virtio_open(&d, (unsigned)found, NEW_BAR);
	volatile uint8_t *cfg = d.devcfg;
	uint64_t capacity = *(volatile uint64_t *)cfg;
	uint32_t blk_size = *(volatile uint32_t *)(cfg + 20);
	print("virtio-blk: class %6x, capabilities: %s\n", (uint64_t)(pci_cfg32(d.slot, 8) >> 8), d.caps);
	uint64_t f;
	virtio_negotiate(&d, 0, &f);
	print("capacity %d sectors, blk_size %d; features: ro %s, flush %s, blk_size %s, seg_max %s, size_max %s\n",
	      (unsigned)capacity, (unsigned)blk_size, (f >> BLK_F_RO) & 1 ? "yes" : "no",
	      (f >> BLK_F_FLUSH) & 1 ? "yes" : "no", (f >> BLK_F_BLK_SIZE) & 1 ? "yes" : "no",
	      (f >> BLK_F_SEG_MAX) & 1 ? "yes" : "no", (f >> BLK_F_SIZE_MAX) & 1 ? "yes" : "no");
	uint64_t want = (1ULL << 32) | (f & ((1u << BLK_F_FLUSH) | (1u << BLK_F_BLK_SIZE) | (1u << BLK_F_RO) |
					     (1u << BLK_F_SEG_MAX) | (1u << BLK_F_SIZE_MAX)));
	int ok = virtio_negotiate(&d, want, &f);
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff;
	idt_set_gate(VEC_QUEUE, (uint64_t)queue_entry, 0, 0);
	idt_load();
	virtio_msix_enable(&d);
	virtio_msix_vector(&d, 0, VEC_QUEUE);
	virtio_queue(&d, 0, &vq, 0);
	d.cc->status = VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK;
	print("FEATURES_OK %s, DRIVER_OK: status %2x\n", ok ? "yes" : "NO", (uint64_t)d.cc->status);

	/* Three at once: GET_ID (20 bytes), OUT sector 5, IN sector 0. The
	 * device may complete them in any order; each is looked up by id. */
	for (unsigned i = 0; i < 512; i++)
		data[1][i] = (uint8_t)(i * 7 + 3);
	request(0, 0, T_GET_ID, 0, data[0], 20, 0);
	request(3, 1, T_OUT, 5, data[1], 512, 1);
	request(6, 2, T_IN, 0, data[2], 512, 0);
	vq.avail.ring[vq.next_avail++ % VQ_SIZE] = 0;
	vq.avail.ring[vq.next_avail++ % VQ_SIZE] = 3;
	vq_submit(&vq, 0, 6);
	int done = vq_wait_used(&vq, 3);
	wait_irq(&queue_irqs, 1);
	data[0][20] = 0;
	print("three in flight: %s, interrupt %s\n", done ? "all used" : "NOT ALL USED", queue_irqs ? "yes" : "NO");
	print("  GET_ID: status %d, len %d, id '%s'\n", (unsigned)status[0], (unsigned)used_len(0), (const char *)data[0]);
	print("  write sector 5: status %d, len %d\n", (unsigned)status[1], (unsigned)used_len(3));
	data[2][14] = 0;
	print("  read sector 0: status %d, len %d, '%s'\n", (unsigned)status[2], (unsigned)used_len(6),
	      (const char *)data[2]);

	/* FLUSH: no data (§5.2.6.2). */
	request(0, 0, T_FLUSH, 0, 0, 0, 0);
	one(0);
	print("flush: status %d\n", (unsigned)status[0]);

	/* Sector 5 read back. */
	for (unsigned i = 0; i < 512; i++)
		data[2][i] = 0xee;
	request(0, 0, T_IN, 5, data[2], 512, 0);
	one(0);
	unsigned same = 0, zero = 0;
	for (unsigned i = 0; i < 512; i++) {
		same += data[2][i] == data[1][i];
		zero += data[2][i] == 0;
	}
	print("read sector 5: status %d, %s\n", (unsigned)status[0],
	      same == 512 ? "what was written" : zero == 512 ? "zeros" : "OTHER BYTES");

	/* The header in two descriptors of 8 bytes: framing is free (§2.6.4). */
	hdr[0] = (struct hdr){ T_IN, 0, 0 };
	status[0] = 0xff;
	vq.desc[0] = (struct vq_desc){ (uint64_t)&hdr[0], 8, VQ_F_NEXT, 1 };
	vq.desc[1] = (struct vq_desc){ (uint64_t)&hdr[0] + 8, 8, VQ_F_NEXT, 2 };
	vq.desc[2] = (struct vq_desc){ (uint64_t)data[2], 512, VQ_F_WRITE | VQ_F_NEXT, 3 };
	vq.desc[3] = (struct vq_desc){ (uint64_t)&status[0], 1, VQ_F_WRITE, 0 };
	one(0);
	data[2][14] = 0;
	print("split header: status %d, '%s'\n", (unsigned)status[0], (const char *)data[2]);

	/* Past the end: sector == capacity, and 2 sectors from the last one. */
	request(0, 0, T_IN, capacity, data[2], 512, 0);
	one(0);
	request(0, 1, T_IN, capacity - 1, data[2], 1024, 0);
	one(0);
	request(0, 2, 99, 0, 0, 0, 0);
	one(0);
	print("past the end: status %d, across the end: status %d, type 99: status %d\n", (unsigned)status[0],
	      (unsigned)status[1], (unsigned)status[2]);

	/* No writable byte at all: nothing to answer in, the device needs a reset. */
	hdr[0] = (struct hdr){ T_IN, 0, 0 };
	vq.desc[0] = (struct vq_desc){ (uint64_t)&hdr[0], 16, 0, 0 };
	vq_submit(&vq, 0, 0);
	for (unsigned i = 0; i < 50000000 && !(d.cc->status & VIRTIO_NEEDS_RESET); i++)
		__asm__ volatile("pause");
	print("no status byte: needs reset %s\n", d.cc->status & VIRTIO_NEEDS_RESET ? "yes" : "NO");
	d.cc->status = 0;
	print("reset: status %2x\n", (uint64_t)d.cc->status);
	(void)S_OK, (void)S_IOERR, (void)S_UNSUPP;
	guest_exit(0x10);
}
