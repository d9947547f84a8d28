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

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }

#define LAPIC 0xfee00000ULL
#define VEC_QUEUE 0x41
#define VEC_CONFIG 0x42
#define NEW_BAR 0xd0000000ULL

static unsigned slot;
static uint32_t cfg_addr(unsigned reg) { return 0x80000000u | slot << 11 | (reg & 0xfc); }
static uint32_t cfg32(unsigned reg)
{
	outl(0xcf8, cfg_addr(reg));
	return inl(0xcfc);
}
static uint8_t cfg8(unsigned reg) { return (uint8_t)(cfg32(reg) >> (8 * (reg & 3))); }
static void cfg_write32(unsigned reg, uint32_t v)
{
	outl(0xcf8, cfg_addr(reg));
	outl(0xcfc, v);
}
static void cfg_write16(unsigned reg, uint16_t v)
{
	outl(0xcf8, cfg_addr(reg));
	outw((uint16_t)(0xcfc + (reg & 2)), v);
}

/* struct virtio_pci_common_cfg (§4.1.4.3) */
struct common {
	uint32_t dfselect, df, gfselect, gf;
	uint16_t msix_config, num_queues;
	uint8_t status, generation;
	uint16_t q_select, q_size, q_msix, q_enable, q_notify_off;
	uint64_t q_desc, q_driver, q_device;
};
_Static_assert(sizeof(struct common) == 0x38, "common config layout");

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
#define QSIZE 8
static struct desc ring_desc[QSIZE] __attribute__((aligned(16)));
static struct { uint16_t flags, idx, ring[QSIZE], used_event; } avail __attribute__((aligned(2)));
static struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; uint16_t avail_event; } used
	__attribute__((aligned(4)));
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

static volatile struct common *cc;
static volatile uint16_t *notify;

static void wait_irq(volatile uint32_t *count, uint32_t want)
{
	for (unsigned i = 0; i < 2000000 && *count < want; i++)
		__asm__ volatile("sti; pause; cli");
}

static void wait_used(uint16_t want)
{
	for (unsigned i = 0; i < 50000000 && *(volatile uint16_t *)&used.idx != want; i++)
		__asm__ volatile("pause");
}

static int nonzero(const uint8_t *p, unsigned n)
{
	unsigned z = 0;
	for (unsigned i = 0; i < n; i++)
		z += p[i] == 0;
	return z < n / 2; /* random bytes: about 1 in 256 is zero */
}

static void submit(uint16_t head, uint16_t avail_idx)
{
	avail.ring[avail_idx % QSIZE] = head;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order (§2.7.13) */
	*(volatile uint16_t *)&avail.idx = (uint16_t)(avail_idx + 1);
	*notify = 0; /* the queue index (§4.1.5.2) */
}

void guest_main(void)
{
	for (slot = 0; slot < 32; slot++)
		if (cfg32(0) == 0x10441af4)
			break;
	if (slot == 32) {
		print("virtio-rng: not found\n");
		guest_exit(1);
	}
	print("virtio-rng: revision %2x, class %6x, subsystem vendor %4x\n", (uint64_t)cfg8(0x08),
	      (uint64_t)(cfg32(0x08) >> 8), (uint64_t)(cfg32(0x2c) & 0xffff));

	/* Capabilities (§4.1.4): vendor-specific 0x09 with cfg_type at +3. */
	static const char *const names[] = { "?", "common", "notify", "isr", "device", "pci-cfg" };
	unsigned common_off = 0, notify_off = 0, mult = 0, msix = 0;
	print("capabilities:");
	for (unsigned p = cfg8(0x34), n = 0; p && n < 16; p = cfg8(p + 1), n++) {
		if (cfg8(p) == 0x11) {
			msix = p;
			print(" msix");
			continue;
		}
		unsigned type = cfg8(p + 3);
		print(" %s", type <= 5 ? names[type] : "?");
		if (cfg8(p + 4) != 4 && type != 5)
			print("(bar %d)", (unsigned)cfg8(p + 4));
		if (type == 1)
			common_off = cfg32(p + 8);
		if (type == 2) {
			notify_off = cfg32(p + 8);
			mult = cfg32(p + 16);
		}
	}
	print("\n");

	/* BAR 4: 64-bit prefetchable memory, placed above 4 GiB; sized by the
	 * all-ones protocol (PCI 3.0 §6.2.5.1), then moved below 4 GiB. */
	uint32_t lo = cfg32(0x20), hi = cfg32(0x24);
	print("bar4: type %1x, above 4 GiB %s", (uint64_t)(lo & 0xf), hi ? "yes" : "no");
	cfg_write32(0x20, 0xffffffff);
	cfg_write32(0x24, 0xffffffff);
	uint64_t mask = (uint64_t)cfg32(0x24) << 32 | (cfg32(0x20) & ~0xfu);
	print(", size %5x\n", ~mask + 1);
	cfg_write32(0x20, (uint32_t)NEW_BAR);
	cfg_write32(0x24, 0);
	uint32_t bar1 = cfg32(0x14) & ~0xfu;
	cc = (volatile struct common *)(NEW_BAR + common_off);

	/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, features */
	cc->status = 0;
	print("status after reset: %2x\n", (uint64_t)cc->status);
	cc->status = 1;
	cc->status = 1 | 2;
	cc->dfselect = 1;
	uint64_t f = (uint64_t)cc->df << 32;
	cc->dfselect = 0;
	f |= cc->df;
	print("features: version_1 %s, indirect %s, event_idx %s\n", (f >> 32) & 1 ? "yes" : "no",
	      (f >> 28) & 1 ? "yes" : "no", (f >> 29) & 1 ? "yes" : "no");
	/* a driver without VERSION_1 is refused (§6.1) */
	cc->gfselect = 1;
	cc->gf = 0;
	cc->status = 1 | 2 | 8;
	print("FEATURES_OK without version_1: %s\n", cc->status & 8 ? "ACCEPTED" : "refused");
	cc->status = 0;
	cc->status = 1 | 2;
	cc->gfselect = 1;
	cc->gf = 1; /* VERSION_1 only */
	cc->gfselect = 0;
	cc->gf = 0;
	cc->status = 1 | 2 | 8;
	print("FEATURES_OK with version_1: %s\n", cc->status & 8 ? "accepted" : "REFUSED");

	/* MSI-X: vector 0 for the queue, 1 for configuration changes, to the
	 * LAPIC of CPU 0 (SDM vol. 3 §10.11.1). */
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff;
	idt_set_gate(VEC_QUEUE, (uint64_t)queue_entry, 0, 0);
	idt_set_gate(VEC_CONFIG, (uint64_t)config_entry, 0, 0);
	idt_load();
	uint32_t table = bar1 + (cfg32(msix + 4) & ~7u);
	print("msix: %d vectors, table in bar %d\n", (unsigned)(cfg32(msix) >> 16 & 0x7ff) + 1,
	      (unsigned)(cfg32(msix + 4) & 7));
	cfg_write16(msix + 2, 0x8000);
	volatile uint32_t *t = (volatile uint32_t *)(uint64_t)table;
	t[0] = 0xfee00000; t[1] = 0; t[2] = VEC_QUEUE; t[3] = 0;
	t[4] = 0xfee00000; t[5] = 0; t[6] = VEC_CONFIG; t[7] = 0;
	cc->msix_config = 1;
	print("num_queues %d", (unsigned)cc->num_queues);
	cc->q_select = 0;
	print(", queue 0 size %d", (unsigned)cc->q_size);
	cc->q_msix = 7;
	print(", vector 7 reads %4x", (uint64_t)cc->q_msix);
	cc->q_msix = 0;
	print(", vector 0 reads %d\n", (unsigned)cc->q_msix);
	cc->q_size = QSIZE;
	cc->q_desc = (uint64_t)ring_desc;
	cc->q_driver = (uint64_t)&avail;
	cc->q_device = (uint64_t)&used;
	cc->q_enable = 1;
	notify = (volatile uint16_t *)(NEW_BAR + notify_off + cc->q_notify_off * mult);
	cc->status = 1 | 2 | 8 | 4;
	print("DRIVER_OK: status %2x\n", (uint64_t)cc->status);

	/* One writable descriptor of 64 bytes. */
	ring_desc[0] = (struct desc){ (uint64_t)buf, 64, 2, 0 };
	submit(0, 0);
	wait_used(1);
	wait_irq(&queue_irqs, 1);
	print("request 1: used idx %d, id %d, len %d, random %s, interrupt %s\n", (unsigned)used.idx,
	      (unsigned)used.ring[0].id, (unsigned)used.ring[0].len, nonzero(buf, 64) ? "yes" : "NO",
	      queue_irqs ? "yes" : "NO");

	/* A chain of two: 16 + 48 bytes. */
	ring_desc[1] = (struct desc){ (uint64_t)buf + 64, 16, 2 | 1, 2 };
	ring_desc[2] = (struct desc){ (uint64_t)buf + 80, 48, 2, 0 };
	submit(1, 1);
	wait_used(2);
	wait_irq(&queue_irqs, 2);
	print("request 2: used idx %d, id %d, len %d, random %s, interrupt %s\n", (unsigned)used.idx,
	      (unsigned)used.ring[1].id, (unsigned)used.ring[1].len, nonzero(buf + 64, 64) ? "yes" : "NO",
	      queue_irqs >= 2 ? "yes" : "NO");

	/* Hostile: an indirect descriptor although INDIRECT_DESC was not
	 * negotiated (§2.7.5.3.1): nothing is used, the device needs a reset. */
	ring_desc[3] = (struct desc){ (uint64_t)ring_desc, 32, 4, 0 };
	submit(3, 2);
	for (unsigned i = 0; i < 50000000 && !(cc->status & 64); i++)
		__asm__ volatile("pause");
	wait_irq(&config_irqs, 1);
	print("bad request: used idx %d, needs reset %s, config interrupt %s\n", (unsigned)used.idx,
	      cc->status & 64 ? "yes" : "NO", config_irqs ? "yes" : "NO");
	cc->status = 0;
	print("reset: status %2x, queue 0 enabled %d\n", (uint64_t)cc->status, (unsigned)cc->q_enable);
	guest_exit(0x10);
}
