#include "dev/pci/pci_host.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/pci/pci_host_bridge.h"
#include "machine/pc.h"

/* CONFIG_ADDRESS (§3.2.2.3.2, figure 3-2): enable 31, reserved 30:24
 * (read-only 0), bus 23:16, device 15:11, function 10:8, register 7:2,
 * 1:0 read-only 0. */
#define ADDR_ENABLE   (1u << 31)
#define ADDR_WRITABLE 0x80fffffcu

/* Header fields the host fills for a function with BARs (§6.2.2, §6.2.4,
 * §6.2.5.1). */
#define CMD_IO_ENABLE  (1u << 0)
#define CMD_MEM_ENABLE (1u << 1)
#define INTERRUPT_PIN  0x3d
#define BAR_IO         0x1u  /* bit 0: I/O space indicator */
#define BAR_MEM_64     0x4u  /* bits 2:1 = 10b: anywhere in 64-bit space */
#define BAR_MEM_PREF   0x8u  /* bit 3: prefetchable */

/* PCIe Base 4.0 §7.2.2: ECAM offset = bus 27:20, device 19:15, function
 * 14:12, register 11:0. The window covers bus 0 only. */
#define ECAM_FN_SPACE 4096u

enum { WIN_IO, WIN_MMIO32, WIN_MMIO64, WINDOWS };

struct window {
	struct pci_host *h;
	enum io_space space;
	uint64_t base, size, next; /* next: where the next BAR may go */
};

/* A BAR that decodes now: the window handlers' lookup table. */
struct decode {
	enum io_space space;
	uint64_t base, size;
	io_handler_fn *fn;
	void *opaque;
};

/* What the host last told a function's bar_changed about each BAR. */
struct bar_state {
	uint64_t addr;
	bool enabled;
};

struct pci_host {
	pthread_mutex_t lock;
	uint32_t address;
	struct pci_config *fn[PCI_SLOTS][PCI_FUNCTIONS];
	struct pci_function *dev[PCI_SLOTS];  /* functions with BARs, at slot:0 */
	struct bar_state bars[PCI_SLOTS][PCI_BARS];
	struct decode decode[PCI_SLOTS * PCI_BARS];
	unsigned ndecode;
	struct window win[WINDOWS];
	struct irq_line irq;
	struct pci_config bridge;
};

static uint64_t ones(unsigned size) { return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1; }

/* The BAR's current address from its register(s), §6.2.5.1. */
static uint64_t bar_address(const struct pci_function *f, unsigned i)
{
	uint32_t lo = pci_config_read(&f->cfg, PCI_BAR_0 + 4 * i, 4);
	switch (f->bar[i].kind) {
	case PCI_BAR_IO:
		return lo & ~3u;
	case PCI_BAR_MEM32:
		return lo & ~0xfu;
	case PCI_BAR_MEM64:
		return (uint64_t)pci_config_read(&f->cfg, PCI_BAR_0 + 4 * (i + 1), 4) << 32 | (lo & ~0xfu);
	default:
		return 0;
	}
}

/* Whether [addr, addr+size) lies inside one of the host's windows of the
 * space: only there does the host see the cycle. */
static bool in_window(const struct pci_host *h, enum io_space space, uint64_t addr, uint64_t size)
{
	for (unsigned w = 0; w < WINDOWS; w++) {
		const struct window *x = &h->win[w];
		if (x->space == space && addr >= x->base && size <= x->size && addr - x->base <= x->size - size)
			return true;
	}
	return false;
}

/* Recomputes which BARs decode and where; tells each function's
 * bar_changed what changed. Host lock held. */
static void update_decode(struct pci_host *h)
{
	h->ndecode = 0;
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		struct pci_function *f = h->dev[s];
		if (!f)
			continue;
		uint16_t cmd = (uint16_t)pci_config_read(&f->cfg, PCI_COMMAND, 2);
		for (unsigned i = 0; i < PCI_BARS; i++) {
			const struct pci_bar *b = &f->bar[i];
			if (b->kind == PCI_BAR_NONE)
				continue;
			enum io_space space = b->kind == PCI_BAR_IO ? IO_SPACE_PIO : IO_SPACE_MMIO;
			uint64_t addr = bar_address(f, i);
			bool on = (cmd & (space == IO_SPACE_PIO ? CMD_IO_ENABLE : CMD_MEM_ENABLE)) &&
				  in_window(h, space, addr, b->size);
			if (on)
				h->decode[h->ndecode++] = (struct decode){ space, addr, b->size, b->fn, b->opaque };
			struct bar_state *st = &h->bars[s][i];
			if (st->enabled != on || (on && st->addr != addr)) {
				st->enabled = on;
				st->addr = addr;
				if (f->bar_changed)
					f->bar_changed(f->opaque, i, addr, on);
			}
		}
	}
}

/* One configuration cycle to bus 0, slot:func, register reg (size bytes
 * inside one dword), for both access mechanisms. Returns false when no
 * function answers (master abort, §6.1: reads all ones, writes dropped). */
static bool config_cycle(struct pci_host *h, unsigned slot, unsigned func, unsigned reg, unsigned size,
			 bool is_write, uint64_t *value)
{
	struct pci_config *c = h->fn[slot][func];
	if (!c)
		return false;
	/* A conventional function has no extended configuration space
	 * (256-4095): it reads 0, which is also what "no extended
	 * capabilities" looks like (PCIe Base 4.0 §7.6.2), and ignores writes. */
	if (reg >= PCI_CONFIG_SIZE) {
		if (!is_write)
			*value = 0;
		return true;
	}
	struct pci_function *f = func == 0 ? h->dev[slot] : NULL;
	if (!is_write) {
		if (f && f->config_read)
			f->config_read(f->opaque, reg, size);
		*value = pci_config_read(c, reg, size);
		return true;
	}
	pci_config_write(c, reg, size, (uint32_t)*value);
	if (f) {
		unsigned end = reg + size;
		bool bars = reg < PCI_BAR_0 + 4 * PCI_BARS && end > PCI_BAR_0;
		bool cmd = reg < PCI_COMMAND + 1 && end > PCI_COMMAND; /* I/O and memory enable: byte 0 */
		if (bars || cmd)
			update_decode(h);
		if (f->config_written)
			f->config_written(f->opaque, reg, size);
	}
	return true;
}

void pci_host_address_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct pci_host *h = opaque;
	/* Only a dword access at 0xcf8 is CONFIG_ADDRESS; narrower ones are
	 * ordinary I/O cycles that nothing here decodes. */
	if (offset != 0 || size != 4) {
		if (!is_write)
			*value = ones(size);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (is_write)
		h->address = (uint32_t)*value & ADDR_WRITABLE;
	else
		*value = h->address;
	pthread_mutex_unlock(&h->lock);
}

void pci_host_data_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct pci_host *h = opaque;
	/* An access of 1, 2 or 4 bytes that stays inside the dword at 0xcfc
	 * is one configuration cycle with those byte enables; anything else
	 * (odd widths, a dword at 0xcfd) is ignored. */
	bool valid = (size == 1 || size == 2 || size == 4) && offset < 4 && offset + size <= 4;
	uint64_t result = ones(size);
	pthread_mutex_lock(&h->lock);
	uint32_t a = h->address;
	/* Enable clear: 0xcfc is plain I/O space, nothing answers. Only bus 0
	 * exists; a cycle to any other bus ends in master abort. */
	if (valid && (a & ADDR_ENABLE) && ((a >> 16) & 0xff) == 0)
		config_cycle(h, (a >> 11) & 0x1f, (a >> 8) & 7, (a & 0xfc) + (unsigned)offset, size, is_write,
			     is_write ? value : &result);
	pthread_mutex_unlock(&h->lock);
	if (!is_write)
		*value = result;
}

/* The ECAM window (PCIe Base 4.0 §7.2.2): the same configuration cycles
 * as mechanism #1, addressed by the memory offset. Accesses of 1, 2 or 4
 * bytes that stay inside a dword are cycles; others are ignored. */
void pci_host_ecam_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct pci_host *h = opaque;
	bool valid = (size == 1 || size == 2 || size == 4) && (offset & 3) + size <= 4 &&
		     offset < PC_PCI_ECAM_SIZE;
	uint64_t result = ones(size);
	pthread_mutex_lock(&h->lock);
	if (valid)
		config_cycle(h, (unsigned)(offset >> 15) & 0x1f, (unsigned)(offset >> 12) & 7,
			     (unsigned)offset & (ECAM_FN_SPACE - 1), size, is_write, is_write ? value : &result);
	pthread_mutex_unlock(&h->lock);
	if (!is_write)
		*value = result;
}

/* A BAR window: the access goes to the BAR that decodes it, with the
 * offset inside the BAR, called without the lock so that a device may take
 * its own locks and read its configuration. A concurrent config write may
 * move or disable the BAR after the lookup; the access then completes as
 * if it had come just before that write, which a guest racing its own BAR
 * programming cannot tell apart. Nothing decodes it: reads all ones,
 * writes dropped. */
static void window_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct window *w = opaque;
	struct pci_host *h = w->h;
	uint64_t addr = w->base + offset;
	io_handler_fn *fn = NULL;
	void *dev = NULL;
	uint64_t base = 0;
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < h->ndecode; i++) {
		const struct decode *d = &h->decode[i];
		if (d->space == w->space && addr >= d->base && addr - d->base < d->size &&
		    size <= d->size - (addr - d->base)) {
			fn = d->fn;
			dev = d->opaque;
			base = d->base;
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (fn)
		fn(dev, addr - base, size, is_write, value);
	else if (!is_write)
		*value = ones(size);
}

int pci_host_add(struct pci_host *h, unsigned slot, unsigned func, struct pci_config *cfg)
{
	if (slot >= PCI_SLOTS || func >= PCI_FUNCTIONS || !cfg)
		return -EINVAL;
	int r = 0;
	pthread_mutex_lock(&h->lock);
	if (h->fn[slot][func])
		r = -EBUSY;
	else
		h->fn[slot][func] = cfg;
	pthread_mutex_unlock(&h->lock);
	return r;
}

void pci_host_set_irq(struct pci_host *h, const struct irq_line *line)
{
	pthread_mutex_lock(&h->lock);
	h->irq = *line;
	pthread_mutex_unlock(&h->lock);
}

static bool bar_valid(const struct pci_function *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	bool pow2 = b->size && !(b->size & (b->size - 1));
	switch (b->kind) {
	case PCI_BAR_NONE:
		return true;
	case PCI_BAR_IO:
		return pow2 && b->size >= 4 && b->size <= PC_PCI_IO_SIZE && b->fn;
	case PCI_BAR_MEM32:
		return pow2 && b->size >= 4096 && b->size <= PC_PCI_MMIO32_SIZE && b->fn;
	case PCI_BAR_MEM64: /* its upper half is the next slot, which must be free */
		return pow2 && b->size >= 4096 && b->size <= PC_PCI_MMIO64_SIZE && b->fn && i + 1 < PCI_BARS &&
		       f->bar[i + 1].kind == PCI_BAR_NONE;
	}
	return false;
}

/* Fills BAR i's register(s) and write mask: the address bits above the
 * size are writable, the low type bits read-only, so that writing all ones
 * reads back ~(size-1) plus the type (§6.2.5.1). */
static void bar_program(struct pci_function *f, unsigned i, uint64_t addr)
{
	const struct pci_bar *b = &f->bar[i];
	unsigned off = PCI_BAR_0 + 4 * i;
	uint64_t mask = ~(b->size - 1);
	uint32_t type = b->kind == PCI_BAR_IO ? BAR_IO :
			(b->kind == PCI_BAR_MEM64 ? BAR_MEM_64 : 0) | (b->prefetchable ? BAR_MEM_PREF : 0);
	uint32_t low_ro = b->kind == PCI_BAR_IO ? 3u : 0xfu;
	pci_config_set_wmask(&f->cfg, off, 4, (uint32_t)mask & ~low_ro, 0);
	uint32_t lo = ((uint32_t)addr & ~low_ro) | type;
	for (unsigned k = 0; k < 4; k++)
		f->cfg.data[off + k] = (uint8_t)(lo >> (8 * k));
	if (b->kind == PCI_BAR_MEM64) {
		pci_config_set_wmask(&f->cfg, off + 4, 4, (uint32_t)(mask >> 32), 0);
		for (unsigned k = 0; k < 4; k++)
			f->cfg.data[off + 4 + k] = (uint8_t)(addr >> (32 + 8 * k));
	}
}

int pci_host_add_function(struct pci_host *h, unsigned slot, struct pci_function *f)
{
	if (slot >= PCI_SLOTS || !f || f->intx_pin > 4)
		return -EINVAL;
	for (unsigned i = 0; i < PCI_BARS; i++)
		if (!bar_valid(f, i))
			return -EINVAL;
	pthread_mutex_lock(&h->lock);
	int r = 0;
	uint64_t next[WINDOWS], addr[PCI_BARS] = { 0 };
	for (unsigned w = 0; w < WINDOWS; w++)
		next[w] = h->win[w].next;
	if (h->fn[slot][0])
		r = -EBUSY;
	/* Firmware's placement: each BAR at the next naturally aligned
	 * address of its window (MEM64 BARs in the 64-bit one). */
	for (unsigned i = 0; i < PCI_BARS && r == 0; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		unsigned w = b->kind == PCI_BAR_IO ? WIN_IO : b->kind == PCI_BAR_MEM32 ? WIN_MMIO32 : WIN_MMIO64;
		const struct window *x = &h->win[w];
		uint64_t a = (next[w] + b->size - 1) & ~(b->size - 1);
		if (a - x->base > x->size || b->size > x->size - (a - x->base)) {
			r = -ENOSPC;
			break;
		}
		addr[i] = a;
		next[w] = a + b->size;
	}
	if (r < 0) {
		pthread_mutex_unlock(&h->lock);
		return r;
	}
	uint32_t cmd = 0;
	for (unsigned i = 0; i < PCI_BARS; i++) {
		if (f->bar[i].kind == PCI_BAR_NONE)
			continue;
		bar_program(f, i, addr[i]);
		cmd |= f->bar[i].kind == PCI_BAR_IO ? CMD_IO_ENABLE : CMD_MEM_ENABLE;
	}
	for (unsigned w = 0; w < WINDOWS; w++)
		h->win[w].next = next[w];
	/* The enables of the spaces it has BARs in are the guest's to toggle
	 * (§6.2.2); the device's own command bits (bus master...) stay. */
	f->cfg.wmask[PCI_COMMAND] |= (uint8_t)cmd;
	f->cfg.data[PCI_COMMAND] |= (uint8_t)cmd;
	/* Interrupt Pin is read-only; Interrupt Line (§6.2.4) is what
	 * firmware wrote for the OS: here the I/O APIC input, since there is no
	 * 8259 routing for PCI (the _PRT gives GSIs, boot/acpi.c). */
	f->cfg.data[INTERRUPT_PIN] = f->intx_pin;
	f->cfg.wmask[INTERRUPT_PIN] = 0;
	f->cfg.wmask[PCI_INTERRUPT_LINE] = 0xff;
	f->intx = (struct irq_line){ 0 };
	if (f->intx_pin) {
		f->intx = h->irq;
		f->intx.gsi = pc_pci_intx_gsi(slot, f->intx_pin);
		f->cfg.data[PCI_INTERRUPT_LINE] = (uint8_t)f->intx.gsi;
	}
	h->fn[slot][0] = &f->cfg;
	h->dev[slot] = f;
	update_decode(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

uint32_t pci_host_config_read(struct pci_host *h, const struct pci_function *f, unsigned off, unsigned size)
{
	pthread_mutex_lock(&h->lock);
	uint32_t v = pci_config_read(&f->cfg, off, size);
	pthread_mutex_unlock(&h->lock);
	return v;
}

int pci_host_create(struct io_bus *bus, struct pci_host **out)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pci_host_bridge_init(&h->bridge);
	h->fn[0][0] = &h->bridge;
	h->win[WIN_IO] = (struct window){ h, IO_SPACE_PIO, PC_PCI_IO_BASE, PC_PCI_IO_SIZE, PC_PCI_IO_BASE };
	h->win[WIN_MMIO32] = (struct window){ h, IO_SPACE_MMIO, PC_PCI_MMIO32_BASE, PC_PCI_MMIO32_SIZE,
					      PC_PCI_MMIO32_BASE };
	h->win[WIN_MMIO64] = (struct window){ h, IO_SPACE_MMIO, PC_PCI_MMIO64_BASE, PC_PCI_MMIO64_SIZE,
					      PC_PCI_MMIO64_BASE };
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, PCI_CONFIG_ADDRESS_PORT, 1, pci_host_address_io, h,
				    "pci-config-address");
		if (r == 0)
			r = io_bus_register(bus, IO_SPACE_PIO, PCI_CONFIG_DATA_PORT, 4, pci_host_data_io, h,
					    "pci-config-data");
		if (r == 0)
			r = io_bus_register(bus, IO_SPACE_MMIO, PC_PCI_ECAM_BASE, PC_PCI_ECAM_SIZE, pci_host_ecam_io,
					    h, "pci-ecam");
		/* The windows are claimed whole, once: the io bus is fixed
		 * after the build, BARs move inside them. */
		static const char *const names[WINDOWS] = { "pci-io", "pci-mmio32", "pci-mmio64" };
		for (unsigned w = 0; w < WINDOWS && r == 0; w++)
			r = io_bus_register(bus, h->win[w].space, h->win[w].base, h->win[w].size, window_io,
					    &h->win[w], names[w]);
	}
	if (r < 0) {
		pci_host_destroy(h);
		return r;
	}
	*out = h;
	return 0;
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}
