/* A virtio driver from scratch, as a guest's first steps with a device
 * (virtio 1.2 §3.1, §4.1): find the virtio-rng function on bus 0
 * (1af4:1044), walk its capability list, size and move its 64-bit BAR (the
 * boot page tables map only the low 4 GiB), negotiate VERSION_1, set up one
 * split queue with an MSI-X vector to the local APIC, and ask for random
 * bytes: a single descriptor, then a chain of two. Then a hostile request
 * (an indirect descriptor the driver did not negotiate) must make the device
 * ask for a reset with a configuration interrupt, and a reset must read
 * back as status 0. Run with --rng. */
#include <stdint.h>

#include "lib/guestlib.h"
#include "lib/virtio.h"

#define LAPIC 0xfee00000ULL
#define VEC_QUEUE 0x41
#define VEC_CONFIG 0x42
#define NEW_BAR 0xd0000000ULL

static struct vq vq;
static uint8_t buf[128];

volatile uint32_t queue_irqs, config_irqs;
extern void queue_entry(void), config_entry(void);
__asm__(".text\n"
	"queue_entry:\n"
	"	lock incl queue_irqs(%rip)\n"
	"	jmp 1f\n"
	"config_entry:\n"
	"	lock incl config_irqs(%rip)\n"
	"1:	push %rax\n"
	"	movabs $0xfee000b0, %rax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n");

static int nonzero(const uint8_t *p, unsigned n)
{
	unsigned z = 0;
	for (unsigned i = 0; i < n; i++)
		z += p[i] == 0;
	return z < n / 2; /* random bytes: about 1 in 256 is zero */
}

void guest_main(void)
{
	int found = pci_find(0x10441af4);
	if (found < 0) {
		print("virtio-rng: not found\n");
		guest_exit(1);
	}
	unsigned slot = (unsigned)found;
	print("virtio-rng: revision %2x, class %6x, subsystem vendor %4x\n", (uint64_t)pci_cfg8(slot, 0x08),
	      (uint64_t)(pci_cfg32(slot, 0x08) >> 8), (uint64_t)(pci_cfg32(slot, 0x2c) & 0xffff));

	/* BAR 4: 64-bit prefetchable memory, placed above 4 GiB; sized by the
	 * all-ones protocol (PCI 3.0 §6.2.5.1), then moved below 4 GiB. */
	uint32_t lo = pci_cfg32(slot, 0x20), hi = pci_cfg32(slot, 0x24);
	pci_cfg_write32(slot, 0x20, 0xffffffff);
	pci_cfg_write32(slot, 0x24, 0xffffffff);
	uint64_t mask = (uint64_t)pci_cfg32(slot, 0x24) << 32 | (pci_cfg32(slot, 0x20) & ~0xfu);
	struct vdev d;
	virtio_open(&d, slot, NEW_BAR);
	print("capabilities: %s\n", d.caps);
	print("bar4: type %1x, above 4 GiB %s, size %5x\n", (uint64_t)(lo & 0xf), hi ? "yes" : "no", ~mask + 1);
	volatile struct virtio_common *cc = d.cc;

	/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, features */
	cc->status = 0;
	print("status after reset: %2x\n", (uint64_t)cc->status);
	uint64_t f;
	/* a driver without VERSION_1 is refused (§6.1) */
	int ok = virtio_negotiate(&d, 0, &f);
	print("features: version_1 %s, indirect %s, event_idx %s\n", (f >> 32) & 1 ? "yes" : "no",
	      (f >> 28) & 1 ? "yes" : "no", (f >> 29) & 1 ? "yes" : "no");
	print("FEATURES_OK without version_1: %s\n", ok ? "ACCEPTED" : "refused");
	ok = virtio_negotiate(&d, 1ULL << 32, &f);
	print("FEATURES_OK with version_1: %s\n", ok ? "accepted" : "REFUSED");

	/* MSI-X: vector 0 for the queue, 1 for configuration changes. */
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff;
	idt_set_gate(VEC_QUEUE, (uint64_t)queue_entry, 0, 0);
	idt_set_gate(VEC_CONFIG, (uint64_t)config_entry, 0, 0);
	idt_load();
	print("msix: %d vectors, table in bar %d\n", (unsigned)(pci_cfg32(slot, d.msix_cap) >> 16 & 0x7ff) + 1,
	      (unsigned)(pci_cfg32(slot, d.msix_cap + 4) & 7));
	virtio_msix_enable(&d);
	virtio_msix_vector(&d, 0, VEC_QUEUE);
	virtio_msix_vector(&d, 1, VEC_CONFIG);
	cc->msix_config = 1;
	print("num_queues %d", (unsigned)cc->num_queues);
	cc->q_select = 0;
	print(", queue 0 size %d", (unsigned)cc->q_size);
	cc->q_msix = 7;
	print(", vector 7 reads %4x", (uint64_t)cc->q_msix);
	cc->q_msix = 0;
	print(", vector 0 reads %d\n", (unsigned)cc->q_msix);
	virtio_queue(&d, 0, &vq, 0);
	cc->status = VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK;
	print("DRIVER_OK: status %2x\n", (uint64_t)cc->status);

	/* One writable descriptor of 64 bytes. */
	vq.desc[0] = (struct vq_desc){ (uint64_t)buf, 64, VQ_F_WRITE, 0 };
	vq_submit(&vq, 0, 0);
	vq_wait_used(&vq, 1);
	wait_irq(&queue_irqs, 1);
	print("request 1: used idx %d, id %d, len %d, random %s, interrupt %s\n", (unsigned)vq.used.idx,
	      (unsigned)vq.used.ring[0].id, (unsigned)vq.used.ring[0].len, nonzero(buf, 64) ? "yes" : "NO",
	      queue_irqs ? "yes" : "NO");

	/* A chain of two: 16 + 48 bytes. */
	vq.desc[1] = (struct vq_desc){ (uint64_t)buf + 64, 16, VQ_F_WRITE | VQ_F_NEXT, 2 };
	vq.desc[2] = (struct vq_desc){ (uint64_t)buf + 80, 48, VQ_F_WRITE, 0 };
	vq_submit(&vq, 0, 1);
	vq_wait_used(&vq, 2);
	wait_irq(&queue_irqs, 2);
	print("request 2: used idx %d, id %d, len %d, random %s, interrupt %s\n", (unsigned)vq.used.idx,
	      (unsigned)vq.used.ring[1].id, (unsigned)vq.used.ring[1].len, nonzero(buf + 64, 64) ? "yes" : "NO",
	      queue_irqs >= 2 ? "yes" : "NO");

	/* Hostile: an indirect descriptor although INDIRECT_DESC was not
	 * negotiated (§2.7.5.3.1): nothing is used, the device needs a reset. */
	vq.desc[3] = (struct vq_desc){ (uint64_t)vq.desc, 32, VQ_F_INDIRECT, 0 };
	vq_submit(&vq, 0, 3);
	for (unsigned i = 0; i < 50000000 && !(cc->status & VIRTIO_NEEDS_RESET); i++)
		__asm__ volatile("pause");
	wait_irq(&config_irqs, 1);
	print("bad request: used idx %d, needs reset %s, config interrupt %s\n", (unsigned)vq.used.idx,
	      cc->status & VIRTIO_NEEDS_RESET ? "yes" : "NO", config_irqs ? "yes" : "NO");
	cc->status = 0;
	print("reset: status %2x, queue 0 enabled %d\n", (uint64_t)cc->status, (unsigned)cc->q_enable);
	guest_exit(0x10);
}
