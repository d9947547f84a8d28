/* A hostile virtio driver (issue 11: "a hostile guest gets nowhere"): for a
 * bounded number of operations drawn from a xorshift64 generator with a
 * fixed seed, it writes random values of every width, aligned or not, to
 * the common configuration, ISR, device configuration, notify area and the
 * MSI-X table and PBA of virtio-blk and virtio-rng (virtio 1.2 §4.1.4);
 * writes their PCI configuration space through CF8/CFC and ECAM, moves
 * their BARs over RAM, the LAPIC, IOAPIC, HPET, ECAM or outside any window
 * and back; sets random status values (DRIVER_OK without FEATURES_OK, random
 * features, resets with requests in flight); programs queues with hostile
 * sizes and ring addresses (outside RAM, across its end, unaligned,
 * overlapping); fills descriptor tables with random bytes (indirect tables
 * pointing at themselves, huge lengths, loops, chains longer than the
 * queue), jumps avail idx, notifies every queue index; sends virtio-blk
 * requests with random headers (§5.2.6).
 *
 * Everything the driver hands the devices lies in a scratch area of guest
 * RAM, across the end of RAM or outside it: canaries just below and above
 * the scratch area, which nothing points to, must be unchanged at the end.
 * MSIs may arrive at any vector from 32 (an EOI-ing stub). At the end both
 * devices are reset, must read back status 0 and serve valid requests
 * again. Run with --mem 64M --disk FILE --rng; FILE is a 1 MiB image with
 * "vmon-disk-test" in sector 0; the guest's own requests write only from
 * sector 1 on, random bytes may write anywhere in it. */
#include <stdint.h>

#include "lib/guestlib.h"
#include "lib/virtio.h"

#ifndef SEED /* -DSEED=... -DOPS=... for longer runs by hand */
#define SEED 0x9e3779b97f4a7c15ULL
#endif
#ifndef OPS
#define OPS 2500
#endif

#define RAM_END 0x4000000ULL /* --mem 64M */
#define SCRATCH 0x200000ULL
#define SCRATCH_END 0x300000ULL
#define CANARY_LO 0x1f0000ULL /* 64 KiB each side of the scratch area */
#define CANARY_HI 0x300000ULL
#define CANARY_SIZE 0x10000ULL
#define RING_MARGIN 0x2000ULL /* a ring of 256 entries fits in 8 KiB */

#define LAPIC 0xfee00000ULL
#define ECAM 0xe0000000ULL
#define VEC_QUEUE 0x41

static uint64_t rng_state = SEED;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

/* Accesses of any width at any address (no C alignment rules involved). */
static void mmio_w(uint64_t a, unsigned w, uint64_t v)
{
	switch (w) {
	case 1: __asm__ volatile("movb %b1, (%0)" : : "r"(a), "q"(v) : "memory"); break;
	case 2: __asm__ volatile("movw %w1, (%0)" : : "r"(a), "r"(v) : "memory"); break;
	case 4: __asm__ volatile("movl %k1, (%0)" : : "r"(a), "r"(v) : "memory"); break;
	default: __asm__ volatile("movq %1, (%0)" : : "r"(a), "r"(v) : "memory"); break;
	}
}
static uint64_t mmio_r(uint64_t a, unsigned w)
{
	uint64_t v = 0;
	switch (w) {
	case 1: __asm__ volatile("movzbq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	case 2: __asm__ volatile("movzwq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	case 4: __asm__ volatile("movl (%1), %k0" : "=r"(v) : "r"(a) : "memory"); break;
	default: __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
	}
	return v;
}
static unsigned rnd_width(void) { return 1u << below(4); }

/* guestlib.h has outb; these take the port in DX (any port). */
static inline void outl_(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p)); }
static inline void outw_(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %w1" : : "a"(v), "d"(p)); }
static inline uint32_t inl_(uint16_t p)
{
	uint32_t v;
	__asm__ volatile("inl %w1, %0" : "=a"(v) : "d"(p));
	return v;
}

/* ---- where the driver lets the devices read and write ---- */

/* An address outside the guest's own RAM: past its end, in the MMIO hole,
 * far above, or near 2^64 (where address + length wraps). */
static uint64_t rnd_outside(void)
{
	switch (below(6)) {
	case 0: return RAM_END + below(0x10000);
	case 1: return 0xc0000000ULL + below(0x40000000);
	case 2: return 0x100000000ULL + rnd() % (1ULL << 40);
	case 3: return ~0ULL - below(0x2000);
	case 4: return below(2) ? LAPIC : 0xfec00000ULL;
	default: return rnd() | (1ULL << 63);
	}
}

/* An address for a buffer of *len bytes the device may access: in the
 * scratch area (the length then clamped to its end), across the end of
 * RAM (where only the part below the end is RAM), or outside RAM (any
 * length). Never the guest's code, data, stack or canaries. */
static uint64_t rnd_buf(uint32_t *len)
{
	unsigned k = (unsigned)below(10);
	if (k < 7) {
		uint64_t a = SCRATCH + below(SCRATCH_END - SCRATCH);
		if (*len > SCRATCH_END - a)
			*len = (uint32_t)(SCRATCH_END - a);
		return a;
	}
	if (k == 7)
		return RAM_END - 1 - below(0x1000);
	return rnd_outside();
}

/* A ring address: mostly in the scratch area with room for the largest
 * ring, aligned or not; else across the end of RAM or outside it. */
static uint64_t rnd_ring(void)
{
	unsigned k = (unsigned)below(10);
	if (k < 7) {
		uint64_t a = SCRATCH + 0x1000 + below(SCRATCH_END - SCRATCH - 0x1000 - RING_MARGIN);
		return below(3) ? a & ~15ULL : a;
	}
	if (k < 9)
		return RAM_END - below(0x1000);
	return rnd_outside();
}
static int in_scratch(uint64_t a, uint64_t n) { return a >= SCRATCH && a + n <= SCRATCH_END && a + n >= a; }

static uint32_t rnd_len(void)
{
	switch (below(6)) {
	case 0: return 0;
	case 1: return (uint32_t)below(17);
	case 2: return 512 * (uint32_t)(1 + below(8));
	case 3: return 0xffffffffu - (uint32_t)below(16);
	case 4: return (uint32_t)rnd();
	default: return (uint32_t)below(4096);
	}
}

static void fill_random(uint64_t a, uint64_t n)
{
	for (uint64_t i = 0; i + 8 <= n; i += 8)
		*(volatile uint64_t *)(a + i) = rnd();
}

/* One random descriptor (§2.7.5) in a table of size entries at table. */
static void rnd_desc(struct vq_desc *d, uint64_t table, unsigned size)
{
	uint32_t len = rnd_len();
	uint64_t addr;
	uint16_t flags = (uint16_t)(below(4) ? below(8) : rnd());
	if ((flags & VQ_F_INDIRECT) && below(2)) { /* an indirect table: itself, or random scratch */
		addr = below(2) ? table : (SCRATCH + below(SCRATCH_END - SCRATCH - RING_MARGIN)) & ~15ULL;
		len = below(2) ? 16 * (uint32_t)(1 + below(size ? size : 1)) : rnd_len();
		if (!in_scratch(addr, len))
			len = (uint32_t)(SCRATCH_END - addr) & ~15u;
	} else {
		addr = rnd_buf(&len);
	}
	uint16_t next = (uint16_t)(below(3) ? below(size ? size : 1) : rnd());
	*d = (struct vq_desc){ addr, len, flags, next };
}

/* ---- the two devices ---- */

struct hdev {
	const char *name;
	struct vdev v;
	unsigned slot, nq, nvec;
	uint64_t bar4, bar1;
	uint64_t common, isr, devcfg, notify; /* absolute addresses in BAR 4 */
	uint64_t msix;                        /* BAR 1: table, PBA at 0x800 */
};
static struct hdev devs[2];

/* The MSI-X message control restore() writes: mostly enabled, else off
 * for a while (the device then raises INTx, whose I/O APIC pin stays
 * masked) or enabled with every vector masked (PCI 3.0 §6.8.2.3). */
static uint16_t msix_ctl = 0x8000;

/* Memory decode and bus mastering on, BARs and MSI-X where the driver put
 * them: after every configuration-space attack. */
static void restore(struct hdev *h)
{
	pci_cfg_write32(h->slot, 0x14, (uint32_t)h->bar1);
	pci_cfg_write32(h->slot, 0x20, (uint32_t)h->bar4);
	pci_cfg_write32(h->slot, 0x24, (uint32_t)(h->bar4 >> 32));
	pci_cfg_write16(h->slot, 0x04, 0x0006);
	pci_cfg_write16(h->slot, h->v.msix_cap + 2, msix_ctl);
}

/* The queue's ring addresses; only whole aligned writes change them
 * (§4.1.3.1), and vmon latches them at queue_enable. */
static void queue_addrs(struct hdev *h, uint64_t desc, uint64_t drv, uint64_t dev)
{
	mmio_w(h->common + 0x20, 8, desc);
	mmio_w(h->common + 0x28, 4, (uint32_t)drv);
	mmio_w(h->common + 0x2c, 4, (uint32_t)(drv >> 32));
	mmio_w(h->common + 0x30, 8, dev);
}

static const uint16_t hostile_sizes[] = { 0, 1, 2, 3, 4, 16, 100, 128, 255, 256, 257, 512, 0x8000, 0xffff };

/* After a reset every queue reads address 0, which is the guest's own low
 * memory: give each one a scratch or outside address before anything can
 * enable it. */
static void queues_safe(struct hdev *h)
{
	for (unsigned q = 0; q < h->nq; q++) {
		mmio_w(h->common + 0x16, 2, q);
		queue_addrs(h, rnd_ring(), rnd_ring(), rnd_ring());
	}
}

static void status_set(struct hdev *h, uint8_t s)
{
	mmio_w(h->common + 0x14, 1, s);
	if (s == 0) {
		for (unsigned i = 0; i < 10000 && mmio_r(h->common + 0x14, 1); i++)
			__asm__ volatile("pause");
		queues_safe(h);
	}
}

/* An MSI-X entry (PCI 3.0 §6.8.2): addresses to CPU 0's LAPIC with random
 * low bits, or anywhere; data with a vector from 32 and fixed or
 * lowest-priority delivery (no INIT, SMI or NMI to the guest's only CPU),
 * random trigger and reserved bits. */
static void rnd_msix_entry(uint32_t e[4])
{
	uint64_t a = below(2) ? 0xfee00000ULL | (below(4) ? 0 : (rnd() & 0xff00c)) : rnd();
	e[0] = (uint32_t)a;
	e[1] = below(2) ? 0 : (uint32_t)(a >> 32);
	e[2] = (uint32_t)(32 + below(224)) | (uint32_t)below(2) << 8 | (uint32_t)(rnd() & 0xffffc000);
	e[3] = (uint32_t)below(2) | (below(8) ? 0 : (uint32_t)rnd() & ~1u);
}

/* ---- the attacks ---- */

/* A random write of every width anywhere in the common configuration; the
 * ring addresses get hostile values only (a random one could point at the
 * guest itself, which the device is then entitled to write), status and
 * queue_enable go through their own helpers for the same reason. */
static void op_common(struct hdev *h)
{
	unsigned off = (unsigned)below(0x40), w = rnd_width();
	uint64_t v = rnd();
	if (below(2))
		v &= below(2) ? 0xff : 0xffff;
	if (off + w > 0x20 && off < 0x38 && w >= 4) {
		if (off & (w - 1)) {
			w = 1; /* an unaligned piece: the transport ignores it */
		} else { /* both halves of one hostile address, never a mix */
			uint64_t a = rnd_ring(), f = h->common + (off & ~7u);
			if (w == 8) {
				mmio_w(f, 8, a);
			} else {
				mmio_w(f, 4, a);
				mmio_w(f + 4, 4, a >> 32);
			}
			return;
		}
	}
	if (off == 0x14 && w == 1) {
		status_set(h, (uint8_t)v);
		return;
	}
	if (off == 0x1c && w == 2) { /* queue_enable: addresses first */
		queue_addrs(h, rnd_ring(), rnd_ring(), rnd_ring());
		mmio_w(h->common + 0x1c, 2, v);
		return;
	}
	if (below(4) == 0)
		(void)mmio_r(h->common + off, w);
	else
		mmio_w(h->common + off, w, v);
}

/* ISR, device configuration, notify area (every queue index, existing or
 * not, any value) and the holes in BAR 4. */
static void op_bar4(struct hdev *h)
{
	unsigned w = rnd_width();
	uint64_t a;
	switch (below(5)) {
	case 0: a = h->isr + below(8); break;
	case 1: a = h->devcfg + below(0x40); break;
	case 2: a = h->notify + 4 * below(h->nq + 4); break;
	case 3: a = h->notify + below(0x1000 - 8); break;
	default: a = h->bar4 + below(0x4000 - 8); break;
	}
	if (a >= h->common && a < h->common + 0x40)
		return op_common(h);
	if (below(3) == 0)
		(void)mmio_r(a, w);
	else
		mmio_w(a, w, below(2) ? below(h->nq + 4) : rnd());
}

static void op_msix(struct hdev *h)
{
	unsigned w = rnd_width();
	if (below(4) == 0) { /* the PBA (read-only) and past it */
		uint64_t a = h->msix + 0x800 + below(0x800 - 8);
		if (below(2))
			mmio_w(a, w, rnd());
		else
			(void)mmio_r(a, w);
		return;
	}
	/* A slice of a fresh safe entry, of any width and alignment: every byte
	 * of it is safe, whatever the device merges it with. */
	uint32_t e[4];
	rnd_msix_entry(e);
	unsigned entry = (unsigned)below(h->nvec + 2), off = (unsigned)below(16);
	if (off + w > 16)
		off = 16 - w;
	uint64_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint64_t)((const uint8_t *)e)[off + i] << (8 * i);
	if (16 * entry + off + w <= 0x800)
		mmio_w(h->msix + 16 * entry + off, w, v);
}

static uint32_t cf8(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* Configuration space through CF8/CFC (PCI 3.0 §3.2.2.3.2) or ECAM (PCIe
 * §7.2.2): mostly the virtio functions, else any other slot or function. */
static void op_config(void)
{
	struct hdev *h = &devs[below(2)];
	unsigned slot = h->slot, fn = 0, bus = 0;
	if (below(4) == 0) {
		slot = 1 + (unsigned)below(31);
		fn = (unsigned)below(8);
		if (below(4) == 0)
			bus = (unsigned)below(256);
	}
	unsigned w = rnd_width();
	uint64_t v = rnd();
	msix_ctl = below(4) ? 0x8000 : below(2) ? 0 : 0xc000;
	if (below(2)) { /* CF8/CFC, unaligned data port accesses too */
		unsigned reg = (unsigned)below(256);
		uint32_t addr = cf8(bus, slot, fn, reg);
		if (below(8) == 0)
			addr &= 0x7fffffffu; /* not enabled */
		outl_(0xcf8, addr);
		uint16_t port = (uint16_t)(0xcfc + (reg & 3));
		if (w == 8)
			w = 4;
		if (below(4) == 0)
			(void)inl_(0xcfc);
		else if (w == 1)
			outb(port, (uint8_t)v);
		else if (w == 2)
			outw_(port, (uint16_t)v);
		else
			outl_(0xcfc, (uint32_t)v);
	} else if (bus == 0) {
		uint64_t a = ECAM + ((uint64_t)slot << 15 | fn << 12 | below(0x1000));
		if ((a & 0xfff) + w > 0x1000)
			a -= w;
		if (below(4) == 0)
			(void)mmio_r(a, w);
		else
			mmio_w(a, w, v);
	}
	restore(&devs[0]);
	restore(&devs[1]);
}

/* A BAR moved somewhere hostile and back, with interrupts off (the BAR may
 * hide the LAPIC meanwhile). */
static void op_move_bar(void)
{
	struct hdev *h = &devs[below(2)];
	static const uint64_t places[] = { SCRATCH, LAPIC, 0xfec00000ULL, 0xfed00000ULL, ECAM, RAM_END - 0x4000,
					   0xfff00000ULL, 0x80000000ULL };
	uint64_t to = below(4) ? places[below(8)] : rnd() & ~0x3fffULL;
	if (to < RAM_END && !in_scratch(to, 0x4000) && to != RAM_END - 0x4000)
		to |= 0x80000000ULL; /* never over the guest itself */
	if (below(2)) {
		pci_cfg_write32(h->slot, 0x14, (uint32_t)to);
		if (to == SCRATCH)
			(void)mmio_r(SCRATCH + below(0x800), 4);
	} else {
		pci_cfg_write32(h->slot, 0x20, (uint32_t)to);
		pci_cfg_write32(h->slot, 0x24, below(2) ? 0 : (uint32_t)(to >> 32));
		if (to == SCRATCH)
			(void)mmio_r(SCRATCH + below(0x4000), 4);
	}
	restore(h);
}

static uint64_t rnd_features(void)
{
	uint64_t f = below(4) ? (1ULL << 32) : 0; /* VERSION_1 mostly */
	f |= below(2) ? 1ULL << 28 : 0;           /* INDIRECT_DESC */
	f |= below(2) ? 1ULL << 29 : 0;           /* EVENT_IDX */
	f |= below(4) ? rnd() & 0x3ff : rnd();
	return f;
}

static void features(struct hdev *h, uint64_t f)
{
	mmio_w(h->common + 0x08, 4, 1);
	mmio_w(h->common + 0x0c, 4, f >> 32);
	mmio_w(h->common + 0x08, 4, 0);
	mmio_w(h->common + 0x0c, 4, (uint32_t)f);
}

static const uint8_t statuses[] = { 0, 1, 3, 4, 7, 8, 11, 15, 0x40, 0x80, 0xff, 0x4f };

static void op_status(struct hdev *h)
{
	if (below(2))
		features(h, rnd_features());
	status_set(h, below(3) ? statuses[below(sizeof(statuses))] : (uint8_t)rnd());
}

/* The driver's side of one hostile queue in the scratch area (or not). */
static void hostile_queue(struct hdev *h, unsigned q, uint64_t prev[3])
{
	uint16_t size = below(3) ? (uint16_t)(1u << below(9)) : hostile_sizes[below(sizeof(hostile_sizes) / 2)];
	uint64_t desc = rnd_ring(), drv = rnd_ring(), dev = rnd_ring();
	if (below(4) == 0) { /* overlapping another queue's rings */
		desc = prev[below(3)];
		drv = prev[below(3)];
	}
	if (below(4) == 0)
		dev = desc + 16 * below(4); /* used over descriptors */
	prev[0] = desc, prev[1] = drv, prev[2] = dev;
	unsigned n = size > 256 ? 256 : size;
	if (in_scratch(desc, 16 * n))
		for (unsigned i = 0; i < n && i < 24; i++) /* the rest: older random bytes */
			rnd_desc((struct vq_desc *)(desc + 16 * i), desc, n);
	if (in_scratch(drv, 6 + 2 * n)) {
		fill_random(drv, 6 + 2 * n);
		*(volatile uint16_t *)drv = 0; /* flags */
	}
	mmio_w(h->common + 0x16, 2, q);
	mmio_w(h->common + 0x18, 2, size);
	mmio_w(h->common + 0x1a, 2, below(4) ? below(h->nvec + 1) : rnd());
	queue_addrs(h, desc, drv, dev);
	mmio_w(h->common + 0x1c, 2, 1);
}

/* A whole hostile session: reset, random features, queues, DRIVER_OK,
 * random avail idx jumps and notifications, and maybe a reset with the
 * requests still in flight. */
static void op_session(struct hdev *h)
{
	uint64_t prev[3] = { SCRATCH + 0x1000, SCRATCH + 0x3000, SCRATCH + 0x5000 };
	status_set(h, 0);
	status_set(h, VIRTIO_ACK | VIRTIO_DRIVER);
	features(h, rnd_features());
	status_set(h, below(4) ? VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK : (uint8_t)rnd());
	unsigned nq = (unsigned)below(h->nq + 2);
	for (unsigned q = 0; q < nq; q++)
		hostile_queue(h, q, prev);
	status_set(h, below(6) ? (uint8_t)(mmio_r(h->common + 0x14, 1) | VIRTIO_DRIVER_OK) : VIRTIO_DRIVER_OK);
	for (unsigned k = (unsigned)below(4); k; k--) {
		if (in_scratch(prev[1], 4))
			*(volatile uint16_t *)(prev[1] + 2) = (uint16_t)(below(2) ? below(8) : rnd());
		mmio_w(h->notify + 4 * below(h->nq + 2), 2, below(h->nq + 2));
	}
	if (below(3) == 0)
		status_set(h, 0);
}

/* virtio-blk requests with random headers on a sane queue (§5.2.6): type,
 * sector near the end or 2^64, lengths not multiples of 512, wrong
 * directions, missing or misplaced status bytes; chains in flight when
 * the device may be reset. On virtio-rng the same chains are just buffers. */
#define SANE_DESC (SCRATCH + 0x1000)
#define SANE_AVAIL (SCRATCH + 0x1800)
#define SANE_USED (SCRATCH + 0x2000)
#define SANE_SIZE 16
static void op_requests(struct hdev *h)
{
	status_set(h, 0);
	status_set(h, VIRTIO_ACK | VIRTIO_DRIVER);
	features(h, (1ULL << 32) | (below(2) ? 1ULL << 28 : 0) | (below(2) ? 1ULL << 29 : 0));
	status_set(h, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK);
	unsigned q = (unsigned)below(h->nq);
	mmio_w(h->common + 0x16, 2, q);
	mmio_w(h->common + 0x18, 2, SANE_SIZE);
	mmio_w(h->common + 0x1a, 2, 0);
	queue_addrs(h, SANE_DESC, SANE_AVAIL, SANE_USED);
	*(volatile uint16_t *)SANE_AVAIL = 0;
	*(volatile uint16_t *)(SANE_AVAIL + 2) = 0;
	mmio_w(h->common + 0x1c, 2, 1);
	status_set(h, VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK);
	volatile struct vq_desc *d = (volatile struct vq_desc *)SANE_DESC;
	uint16_t idx = 0;
	for (unsigned r = 0, nr = 1 + (unsigned)below(4); r < nr; r++) {
		unsigned base = 4 * r;
		uint64_t hdr = SCRATCH + 0x3000 + 32 * r;
		static const uint32_t types[] = { 0, 1, 4, 8, 11, 13, 99, 0x80000000u };
		uint32_t type = types[below(8)];
		static const uint64_t sectors[] = { 0x7fe, 0x7ff, 0x800, 0x801, ~0ULL, ~0ULL - 1, 1ULL << 63,
						    ~0ULL >> 9, 2 };
		uint64_t sector = below(2) ? 1 + below(0x900) : sectors[below(9)];
		*(volatile uint32_t *)hdr = type;
		*(volatile uint32_t *)(hdr + 4) = (uint32_t)rnd();
		*(volatile uint64_t *)(hdr + 8) = sector; /* never 0: sector 0 holds the marker */
		uint32_t dlen = below(2) ? 512 * (uint32_t)below(5) + (uint32_t)below(3) : rnd_len();
		uint64_t data = rnd_buf(&dlen);
		uint32_t slen = below(4) ? 1 : (uint32_t)below(3);
		uint64_t st = rnd_buf(&slen);
		uint16_t hflags = (uint16_t)(VQ_F_NEXT | (below(6) ? 0 : VQ_F_WRITE));
		d[base] = (struct vq_desc){ hdr, below(6) ? 16 : (uint32_t)below(32), hflags, (uint16_t)(base + 1) };
		d[base + 1] = (struct vq_desc){ data, dlen, (uint16_t)(VQ_F_NEXT | (below(2) ? VQ_F_WRITE : 0)),
						 (uint16_t)(base + 2) };
		d[base + 2] = (struct vq_desc){ st, slen, (uint16_t)(below(6) ? VQ_F_WRITE : 0),
						 (uint16_t)(below(8) ? base + 3 : base) };
		if (below(6) == 0)
			d[base + 2].flags |= VQ_F_NEXT; /* on into the next chain, or a loop */
		d[base + 3] = (struct vq_desc){ SCRATCH + 0x4000, 0, 0, 0 };
		*(volatile uint16_t *)(SANE_AVAIL + 4 + 2 * (idx % SANE_SIZE)) = (uint16_t)base;
		idx++;
	}
	if (below(6) == 0)
		idx = (uint16_t)rnd(); /* a jump: more chains than the queue holds */
	*(volatile uint16_t *)(SANE_AVAIL + 2) = idx;
	mmio_w(h->notify + 4 * q, 2, q);
	if (below(3) == 0)
		status_set(h, 0); /* in flight */
	else
		for (unsigned i = 0; i < 200 && *(volatile uint16_t *)(SANE_USED + 2) != idx; i++)
			__asm__ volatile("pause");
}

/* ---- interrupts ---- */

extern void irq_entry(void), fault_entry(void);
__asm__(".text\n"
	"irq_entry:\n"
	"	push %rax\n"
	"	movabs $0xfee000b0, %rax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n"
	"fault_entry:\n"
	"	mov $0x3f8, %dx\n"
	"	mov $'!', %al\n"
	"	outb %al, %dx\n"
	"	mov $0xf4, %dx\n"
	"	mov $0x02, %al\n"   /* status 5: the guest itself faulted */
	"	outb %al, %dx\n"
	"1:	hlt\n"
	"	jmp 1b\n");

/* ---- the canaries ---- */

#define CANARY(a) ((a) * 0x9e3779b97f4a7c15ULL ^ 0xc3a5c85c97cb3127ULL)
static void canary_fill(uint64_t base)
{
	for (uint64_t a = base; a < base + CANARY_SIZE; a += 8)
		*(volatile uint64_t *)a = CANARY(a);
}
static int canary_ok(uint64_t base)
{
	for (uint64_t a = base; a < base + CANARY_SIZE; a += 8)
		if (*(volatile uint64_t *)a != CANARY(a))
			return 0;
	return 1;
}

/* ---- valid requests through the library, before and after ---- */

static struct vq vq;
static uint8_t buf[2][512] __attribute__((aligned(512)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr;
static uint8_t status;

static int lib_open(struct hdev *h)
{
	uint64_t f;
	int ok = virtio_negotiate(&h->v, 1ULL << 32, &f);
	for (unsigned i = 0; i < sizeof(vq); i++)
		((volatile uint8_t *)&vq)[i] = 0;
	virtio_queue(&h->v, 0, &vq, 0);
	h->v.cc->status = VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK | VIRTIO_DRIVER_OK;
	return ok;
}

/* A blk request: header | data | status byte (§5.2.6). */
static int blk_rw(struct hdev *h, uint32_t type, uint64_t sector, uint8_t *data)
{
	if (!lib_open(h))
		return -1;
	hdr.type = type, hdr.reserved = 0, hdr.sector = sector;
	status = 0xff;
	vq.desc[0] = (struct vq_desc){ (uint64_t)&hdr, 16, VQ_F_NEXT, 1 };
	vq.desc[1] = (struct vq_desc){ (uint64_t)data, 512, (uint16_t)(VQ_F_NEXT | (type == 0 ? VQ_F_WRITE : 0)), 2 };
	vq.desc[2] = (struct vq_desc){ (uint64_t)&status, 1, VQ_F_WRITE, 0 };
	vq_submit(&vq, 0, 0);
	if (!vq_wait_used(&vq, 1))
		return -2;
	return status;
}

static int rng_read(struct hdev *h)
{
	if (!lib_open(h))
		return -1;
	for (unsigned i = 0; i < 64; i++)
		buf[0][i] = 0;
	vq.desc[0] = (struct vq_desc){ (uint64_t)buf[0], 64, VQ_F_WRITE, 0 };
	vq_submit(&vq, 0, 0);
	if (!vq_wait_used(&vq, 1))
		return -2;
	unsigned z = 0;
	for (unsigned i = 0; i < 64; i++)
		z += buf[0][i] == 0;
	return vq.used.ring[0].len == 64 && z < 32 ? 0 : 1;
}

static void dev_init(struct hdev *h, const char *name, uint32_t id, uint64_t bar4)
{
	int slot = pci_find(id);
	if (slot < 0) {
		print("%s: not found\n", name);
		guest_exit(1);
	}
	h->name = name;
	h->slot = (unsigned)slot;
	virtio_open(&h->v, h->slot, bar4);
	h->bar4 = bar4;
	h->bar1 = pci_cfg32(h->slot, 0x14) & ~0xfULL;
	h->common = (uint64_t)h->v.cc;
	h->isr = (uint64_t)h->v.isr;
	h->devcfg = (uint64_t)h->v.devcfg;
	if (!h->devcfg)
		h->devcfg = bar4 + 0x2000;
	h->notify = bar4 + h->v.notify_off;
	h->msix = (uint64_t)h->v.msix_table;
	h->nq = (unsigned)mmio_r(h->common + 0x12, 2);
	h->nvec = (pci_cfg32(h->slot, h->v.msix_cap) >> 16 & 0x7ff) + 1;
	restore(h);
	for (unsigned e = 0; e < h->nvec; e++) { /* vectors from 32 only, even before any attack */
		mmio_w(h->msix + 16 * e, 4, LAPIC);
		mmio_w(h->msix + 16 * e + 4, 4, 0);
		mmio_w(h->msix + 16 * e + 8, 4, VEC_QUEUE);
		mmio_w(h->msix + 16 * e + 12, 4, 0);
	}
	status_set(h, 0);
	print("%s: slot %d, %d queues, %d MSI-X vectors\n", name, h->slot, h->nq, h->nvec);
}

void guest_main(void)
{
	for (unsigned v = 0; v < 256; v++)
		idt_set_gate(v, (uint64_t)(v >= 32 || v == 2 ? irq_entry : fault_entry), 0, 0);
	idt_load();
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff; /* software-enabled, spurious vector 0xff */
	dev_init(&devs[0], "virtio-blk", 0x10421af4, 0xd0000000ULL);
	dev_init(&devs[1], "virtio-rng", 0x10441af4, 0xd0100000ULL);
	print("seed %x, %d operations\n", SEED, OPS);

	int st = blk_rw(&devs[0], 0, 0, buf[1]);
	buf[1][14] = 0;
	print("before: read sector 0: status %d, '%s'\n", (unsigned)st, (const char *)buf[1]);

	canary_fill(CANARY_LO);
	canary_fill(CANARY_HI);
	fill_random(SCRATCH, 0x40000);
	status_set(&devs[0], 0);
	status_set(&devs[1], 0);
	for (unsigned i = 0; i < OPS; i++) {
		struct hdev *h = &devs[below(2)];
		unsigned k = (unsigned)below(100);
		if (k < 15)
			op_common(h);
		else if (k < 30)
			op_bar4(h);
		else if (k < 40)
			op_msix(h);
		else if (k < 48)
			op_config();
		else if (k < 51)
			op_move_bar();
		else if (k < 58)
			op_status(h);
		else if (k < 78)
			op_session(h);
		else
			op_requests(h);
		if ((i & 7) == 0)
			__asm__ volatile("sti; nop; nop; cli"); /* let pending MSIs in */
	}
	print("attack: done\n");

	/* Recovery (§2.4, §3.1.1): a reset reads back 0, then valid requests. */
	msix_ctl = 0x8000;
	for (unsigned i = 0; i < 2; i++) {
		restore(&devs[i]);
		mmio_w(devs[i].common + 0x14, 1, 0);
		unsigned n = 0;
		while (mmio_r(devs[i].common + 0x14, 1) && n < 100000)
			n++;
		print("%s: reset: status %2x\n", devs[i].name, mmio_r(devs[i].common + 0x14, 1));
	}
	/* The MSI-X entries of the library's vector 0 (masked: polling). */
	for (unsigned i = 0; i < 2; i++)
		mmio_w(devs[i].msix + 12, 4, 1);
	for (unsigned i = 0; i < 512; i++)
		buf[0][i] = (uint8_t)(i * 13 + 1);
	int w = blk_rw(&devs[0], 1, 1, buf[0]);
	for (unsigned i = 0; i < 512; i++)
		buf[1][i] = 0;
	int r = blk_rw(&devs[0], 0, 1, buf[1]);
	unsigned same = 0;
	for (unsigned i = 0; i < 512; i++)
		same += buf[1][i] == (uint8_t)(i * 13 + 1);
	print("after reset: virtio-blk write sector 1: status %d, read back: status %d, %s\n", (unsigned)w,
	      (unsigned)r, same == 512 ? "same bytes" : "OTHER BYTES");
	/* Sector 0's content is not compared: a header the device read from
	 * random scratch bytes may have been a valid write to it. */
	st = blk_rw(&devs[0], 0, 0, buf[1]);
	print("after reset: virtio-blk read sector 0: status %d\n", (unsigned)st);
	r = rng_read(&devs[1]);
	print("after reset: virtio-rng 64 bytes: %s\n", r == 0 ? "ok" : "FAILED");
	int lo = canary_ok(CANARY_LO), hi = canary_ok(CANARY_HI);
	print("canaries below and above the scratch area intact: %s\n", lo && hi ? "yes" : "NO");
	guest_exit(0x10);
}
