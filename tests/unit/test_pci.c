/* PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2) and ECAM
 * (PCIe Base 4.0 §7.2.2) through the io bus, the host bridge at 00:00.0,
 * the config-space write masks, and a function with BARs (§6.2.5.1): its
 * placement, the sizing protocol, decode gated by COMMAND, dispatch by
 * offset, moves. */
#include <errno.h>
#include <stdlib.h>

#include "bus/io_bus.h"
#include "dev/pci/pci_host.h"
#include "machine/pc.h"
#include "unit.h"

static struct io_bus bus;

static uint64_t in(uint16_t port, unsigned size)
{
	uint64_t v = 0xdeadbeefcafe;
	io_bus_access(&bus, IO_SPACE_PIO, port, size, false, &v);
	return v;
}
static void out(uint16_t port, unsigned size, uint64_t v) { io_bus_access(&bus, IO_SPACE_PIO, port, size, true, &v); }

static uint32_t addr(unsigned b, unsigned d, unsigned f, unsigned reg)
{
	return 0x80000000u | b << 16 | d << 11 | f << 8 | (reg & 0xfc);
}
static uint64_t cfg_read(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size)
{
	out(0xcf8, 4, addr(b, d, f, reg));
	return in((uint16_t)(0xcfc + (reg & 3)), size);
}
static void cfg_write(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size, uint32_t v)
{
	out(0xcf8, 4, addr(b, d, f, reg));
	out((uint16_t)(0xcfc + (reg & 3)), size, v);
}

/* ECAM: base + bus << 20 | dev << 15 | fn << 12 | reg. */
static uint64_t ecam(unsigned b, unsigned d, unsigned f, unsigned reg)
{
	return PC_PCI_ECAM_BASE + ((uint64_t)b << 20 | d << 15 | f << 12 | reg);
}
static uint64_t mmio_read(uint64_t a, unsigned size)
{
	uint64_t v = 0xdeadbeefcafe;
	io_bus_access(&bus, IO_SPACE_MMIO, a, size, false, &v);
	return v;
}
static void mmio_write(uint64_t a, unsigned size, uint64_t v) { io_bus_access(&bus, IO_SPACE_MMIO, a, size, true, &v); }
static uint64_t ecam_read(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size)
{
	return mmio_read(ecam(b, d, f, reg), size);
}
static void ecam_write(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size, uint32_t v)
{
	mmio_write(ecam(b, d, f, reg), size, v);
}

/* The fake device: what its BAR handlers and hooks saw. */
struct fake {
	struct pci_function f;
	unsigned calls, last_bar;
	uint64_t last_off, last_value;
	unsigned last_size;
	bool last_write;
	unsigned changes, config_writes;
	unsigned ch_bar[32];
	uint64_t ch_addr[32];
	bool ch_on[32];
	unsigned cw_off, cw_size;
	struct pci_host *h;
	uint32_t seen_cmd; /* COMMAND as the BAR handler read it */
};
struct bar_ctx {
	struct fake *fk;
	unsigned bar;
};
static void fake_bar_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct bar_ctx *c = opaque;
	struct fake *fk = c->fk;
	fk->calls++;
	fk->last_bar = c->bar;
	fk->last_off = offset;
	fk->last_size = size;
	fk->last_write = is_write;
	if (is_write)
		fk->last_value = *value;
	else
		*value = c->bar << 24 | (uint32_t)offset;
	/* The handler runs without the host lock: it may read its config. */
	fk->seen_cmd = pci_host_config_read(fk->h, &fk->f, PCI_COMMAND, 2);
}
static void fake_bar_changed(void *opaque, unsigned i, uint64_t a, bool enabled)
{
	struct fake *fk = opaque;
	if (fk->changes < 32) {
		fk->ch_bar[fk->changes] = i;
		fk->ch_addr[fk->changes] = a;
		fk->ch_on[fk->changes] = enabled;
	}
	fk->changes++;
}
static void fake_config_written(void *opaque, unsigned off, unsigned size)
{
	struct fake *fk = opaque;
	fk->config_writes++;
	fk->cw_off = off;
	fk->cw_size = size;
}
static int irq_level[24];
static void irq_set(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi < 24)
		irq_level[gsi] = level;
}

/* A function with an I/O, a MEM32 and a MEM64 BAR at slot 3, and a
 * second one to check that BARs follow each other in the windows. */
static void test_bars(struct pci_host *h)
{
	static struct fake fk, fk2;
	static struct bar_ctx ctx[3] = { { &fk, 0 }, { &fk, 1 }, { &fk, 2 } };
	fk.h = h;
	pci_config_init(&fk.f.cfg, 0x1af4, 0x1041, 1, 0xff0000, 0);
	pci_config_set_wmask(&fk.f.cfg, PCI_COMMAND, 2, 1u << 2, 0); /* the device's own: bus master */
	fk.f.bar[0] = (struct pci_bar){ PCI_BAR_IO, false, 32, fake_bar_io, &ctx[0] };
	fk.f.bar[1] = (struct pci_bar){ PCI_BAR_MEM32, false, 0x2000, fake_bar_io, &ctx[1] };
	fk.f.bar[2] = (struct pci_bar){ PCI_BAR_MEM64, true, 0x4000, fake_bar_io, &ctx[2] };
	fk.f.intx_pin = 1;
	fk.f.opaque = &fk;
	fk.f.bar_changed = fake_bar_changed;
	fk.f.config_written = fake_config_written;

	/* Bad templates are refused before anything changes. */
	struct pci_function bad;
	memset(&bad, 0, sizeof(bad));
	bad.bar[0] = (struct pci_bar){ PCI_BAR_MEM32, false, 0x3000, fake_bar_io, NULL }; /* not a power of 2 */
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.bar[0] = (struct pci_bar){ PCI_BAR_MEM32, false, 16, fake_bar_io, NULL }; /* under 4 KiB */
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.bar[0] = (struct pci_bar){ PCI_BAR_IO, false, 2, fake_bar_io, NULL };
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.bar[0] = (struct pci_bar){ PCI_BAR_NONE, false, 0, NULL, NULL };
	bad.bar[5] = (struct pci_bar){ PCI_BAR_MEM64, false, 4096, fake_bar_io, NULL }; /* no upper half */
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.bar[5] = (struct pci_bar){ PCI_BAR_NONE, false, 0, NULL, NULL };
	bad.bar[1] = (struct pci_bar){ PCI_BAR_MEM64, false, 4096, fake_bar_io, NULL };
	bad.bar[2] = (struct pci_bar){ PCI_BAR_IO, false, 4, fake_bar_io, NULL }; /* upper half taken */
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.bar[2] = (struct pci_bar){ PCI_BAR_NONE, false, 0, NULL, NULL };
	bad.intx_pin = 5;
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL);
	bad.intx_pin = 0;
	CHECK_EQ(pci_host_add_function(h, 32, &bad), -EINVAL);
	CHECK_EQ(pci_host_add_function(h, 0, &bad), -EBUSY); /* the host bridge */
	bad.bar[1] = (struct pci_bar){ PCI_BAR_MEM64, false, PC_PCI_MMIO64_SIZE * 2, fake_bar_io, NULL };
	CHECK_EQ(pci_host_add_function(h, 4, &bad), -EINVAL); /* bigger than the window */
	CHECK_EQ(cfg_read(0, 4, 0, 0, 4), 0xffffffff);

	CHECK_EQ(pci_host_add_function(h, 3, &fk.f), 0);
	CHECK_EQ(pci_host_add_function(h, 3, &fk.f), -EBUSY);

	/* Placement: naturally aligned at the start of each window; the type
	 * bits: I/O (bit 0), 64-bit prefetchable memory (bits 2:1 = 10b, 3). */
	CHECK_EQ(cfg_read(0, 3, 0, 0x10, 4), PC_PCI_IO_BASE | 1);
	CHECK_EQ(cfg_read(0, 3, 0, 0x14, 4), PC_PCI_MMIO32_BASE);
	CHECK_EQ(cfg_read(0, 3, 0, 0x18, 4), (uint32_t)PC_PCI_MMIO64_BASE | 0xc);
	CHECK_EQ(cfg_read(0, 3, 0, 0x1c, 4), PC_PCI_MMIO64_BASE >> 32);
	CHECK_EQ(cfg_read(0, 3, 0, 0x20, 4), 0);
	CHECK_EQ(cfg_read(0, 3, 0, 0x24, 4), 0);
	/* COMMAND: I/O and memory decode on, as firmware leaves it. */
	CHECK_EQ(cfg_read(0, 3, 0, PCI_COMMAND, 2), 0x3);
	/* Interrupt Pin INTA; Line = the GSI of slot 3 INTA: 16 + (3 + 0) % 4. */
	CHECK_EQ(cfg_read(0, 3, 0, 0x3d, 1), 1);
	CHECK_EQ(cfg_read(0, 3, 0, 0x3c, 1), 19);
	CHECK_EQ(fk.f.intx.gsi, 19);
	irq_line_set(&fk.f.intx, 1);
	CHECK_EQ(irq_level[19], 1);
	irq_line_set(&fk.f.intx, 0);
	CHECK_EQ(irq_level[19], 0);
	cfg_write(0, 3, 0, 0x3d, 1, 4); /* pin: read-only */
	CHECK_EQ(cfg_read(0, 3, 0, 0x3d, 1), 1);
	/* The first placement reached bar_changed, BAR by BAR. */
	CHECK_EQ(fk.changes, 3);
	CHECK(fk.ch_bar[0] == 0 && fk.ch_addr[0] == PC_PCI_IO_BASE && fk.ch_on[0]);
	CHECK(fk.ch_bar[1] == 1 && fk.ch_addr[1] == PC_PCI_MMIO32_BASE && fk.ch_on[1]);
	CHECK(fk.ch_bar[2] == 2 && fk.ch_addr[2] == PC_PCI_MMIO64_BASE && fk.ch_on[2]);

	/* ECAM and mechanism #1 see the same function, every width. */
	for (unsigned reg = 0; reg < 0x40; reg += 4) {
		CHECK_EQ(ecam_read(0, 3, 0, reg, 4), cfg_read(0, 3, 0, reg, 4));
		CHECK_EQ(ecam_read(0, 3, 0, reg + 2, 2), cfg_read(0, 3, 0, reg + 2, 2));
		CHECK_EQ(ecam_read(0, 3, 0, reg + 1, 1), cfg_read(0, 3, 0, reg + 1, 1));
	}

	/* Dispatch: the handler gets the offset inside the BAR. */
	uint64_t v = 0;
	io_bus_access(&bus, IO_SPACE_PIO, PC_PCI_IO_BASE + 0x12, 2, false, &v);
	CHECK_EQ(v, 0x12);
	CHECK(fk.last_bar == 0 && fk.last_off == 0x12 && fk.last_size == 2 && !fk.last_write);
	CHECK_EQ(fk.seen_cmd, 0x3);
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE + 0x1ffc, 4), 1u << 24 | 0x1ffc);
	mmio_write(PC_PCI_MMIO64_BASE + 0x3ff8, 8, 0x1122334455667788ULL);
	CHECK(fk.last_bar == 2 && fk.last_off == 0x3ff8 && fk.last_size == 8 && fk.last_write &&
	      fk.last_value == 0x1122334455667788ULL);
	/* Past a BAR, or straddling its end: nothing answers. */
	unsigned calls = fk.calls;
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE + 0x2000, 4), 0xffffffff);
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE + 0x1ffe, 4), 0xffffffff);
	CHECK_EQ(in((uint16_t)(PC_PCI_IO_BASE + 0x20), 1), 0xff);
	mmio_write(PC_PCI_MMIO64_BASE + 0x4000, 4, 0);
	CHECK_EQ(fk.calls, calls);

	/* The sizing protocol: all ones read back as ~(size-1) with the type
	 * bits; decoding off meanwhile, as an OS does it. */
	unsigned changes = fk.changes, writes = fk.config_writes;
	cfg_write(0, 3, 0, PCI_COMMAND, 2, 0x0004);
	CHECK_EQ(cfg_read(0, 3, 0, PCI_COMMAND, 2), 0x0004); /* bus master stays the device's */
	CHECK_EQ(fk.changes, changes + 3);                  /* every BAR off */
	CHECK(!fk.ch_on[changes] && !fk.ch_on[changes + 1] && !fk.ch_on[changes + 2]);
	CHECK_EQ(fk.config_writes, writes + 1);
	CHECK(fk.cw_off == PCI_COMMAND && fk.cw_size == 2);
	CHECK_EQ(in((uint16_t)PC_PCI_IO_BASE, 4), 0xffffffff);
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE, 4), 0xffffffff);
	cfg_write(0, 3, 0, 0x10, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 3, 0, 0x10, 4), 0xffffffe1);
	cfg_write(0, 3, 0, 0x14, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 3, 0, 0x14, 4), 0xffffe000);
	ecam_write(0, 3, 0, 0x18, 4, 0xffffffff);
	ecam_write(0, 3, 0, 0x1c, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 3, 0, 0x18, 4), 0xffffc00c);
	CHECK_EQ(cfg_read(0, 3, 0, 0x1c, 4), 0xffffffff);
	CHECK_EQ(fk.changes, changes + 3); /* decoding off: no news */

	/* Moves: new addresses, decoding back on. */
	cfg_write(0, 3, 0, 0x10, 4, 0xd000);
	cfg_write(0, 3, 0, 0x14, 4, 0xc1000000);
	ecam_write(0, 3, 0, 0x18, 4, 0x00010000);
	ecam_write(0, 3, 0, 0x1c, 4, 0x41);
	changes = fk.changes;
	cfg_write(0, 3, 0, PCI_COMMAND, 1, 0x07);
	CHECK_EQ(fk.changes, changes + 3);
	CHECK(fk.ch_addr[changes] == 0xd000 && fk.ch_on[changes]);
	CHECK(fk.ch_addr[changes + 1] == 0xc1000000 && fk.ch_on[changes + 1]);
	CHECK(fk.ch_addr[changes + 2] == 0x4100010000ULL && fk.ch_on[changes + 2]);
	CHECK_EQ(in(0xd004, 4), 4);
	CHECK_EQ(mmio_read(0xc1000010, 4), 1u << 24 | 0x10);
	CHECK_EQ(mmio_read(0x4100010020ULL, 2), 2u << 24 | 0x20);
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE, 4), 0xffffffff); /* the old place is empty */
	/* I/O decode alone off: only BAR 0 stops. */
	changes = fk.changes;
	ecam_write(0, 3, 0, PCI_COMMAND, 2, 0x0006);
	CHECK_EQ(fk.changes, changes + 1);
	CHECK(fk.ch_bar[changes] == 0 && !fk.ch_on[changes]);
	CHECK_EQ(in(0xd004, 4), 0xffffffff);
	CHECK_EQ(mmio_read(0xc1000010, 4), 1u << 24 | 0x10);
	/* A move while decoding: one bar_changed, with the new address. */
	changes = fk.changes;
	cfg_write(0, 3, 0, 0x14, 4, 0xc2000000);
	CHECK_EQ(fk.changes, changes + 1);
	CHECK(fk.ch_bar[changes] == 1 && fk.ch_addr[changes] == 0xc2000000 && fk.ch_on[changes]);
	/* Writes that change nothing relevant do not call it. */
	changes = fk.changes;
	cfg_write(0, 3, 0, 0x14, 4, 0xc2000000);
	cfg_write(0, 3, 0, 0x3c, 1, 11);
	CHECK_EQ(fk.changes, changes);
	CHECK(fk.cw_off == 0x3c && fk.cw_size == 1);
	CHECK_EQ(cfg_read(0, 3, 0, 0x3c, 1), 11); /* Interrupt Line: the OS's scratch */
	/* A BAR moved outside the windows decodes nowhere. */
	cfg_write(0, 3, 0, 0x14, 4, 0x80000000);
	CHECK_EQ(fk.changes, changes + 1);
	CHECK(!fk.ch_on[changes]);
	CHECK_EQ(mmio_read(0xc2000000, 4), 0xffffffff);
	/* The last place in the window decodes; the next one (the ECAM
	 * area) does not, and the ECAM still answers there. */
	cfg_write(0, 3, 0, 0x14, 4, (uint32_t)(PC_PCI_MMIO32_BASE + PC_PCI_MMIO32_SIZE - 0x2000));
	CHECK(fk.ch_on[fk.changes - 1] && fk.ch_addr[fk.changes - 1] == PC_PCI_MMIO32_BASE + PC_PCI_MMIO32_SIZE - 0x2000);
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE + PC_PCI_MMIO32_SIZE - 4, 4), 1u << 24 | 0x1ffc);
	cfg_write(0, 3, 0, 0x14, 4, (uint32_t)PC_PCI_ECAM_BASE);
	CHECK(!fk.ch_on[fk.changes - 1]);
	CHECK_EQ(mmio_read(PC_PCI_ECAM_BASE, 4), 0x00081b36);
	cfg_write(0, 3, 0, 0x14, 4, 0xc0000000);
	CHECK(fk.ch_on[fk.changes - 1] && fk.ch_addr[fk.changes - 1] == 0xc0000000);
	/* Extended configuration space of a conventional function reads 0
	 * and ignores writes; an absent function reads all ones there too. */
	writes = fk.config_writes;
	CHECK_EQ(ecam_read(0, 3, 0, 0x100, 4), 0);
	CHECK_EQ(ecam_read(0, 3, 0, 0xffc, 4), 0);
	ecam_write(0, 3, 0, 0x100, 4, 0x12345678);
	CHECK_EQ(ecam_read(0, 3, 0, 0x100, 4), 0);
	CHECK_EQ(fk.config_writes, writes);
	CHECK_EQ(ecam_read(0, 5, 0, 0x100, 4), 0xffffffff);
	CHECK_EQ(ecam_read(0, 3, 1, 0x000, 4), 0xffffffff);
	/* pci_host_config_read: the function's own registers. */
	CHECK_EQ(pci_host_config_read(h, &fk.f, 0, 4), 0x10411af4);

	/* A second function: its BARs after the first one's first places. */
	static struct bar_ctx ctx2 = { &fk2, 0 };
	pci_config_init(&fk2.f.cfg, 0x1af4, 0x1042, 1, 0xff0000, 0);
	fk2.f.bar[0] = (struct pci_bar){ PCI_BAR_MEM32, false, 0x1000, fake_bar_io, &ctx2 };
	fk2.f.bar[1] = (struct pci_bar){ PCI_BAR_IO, false, 0x40, fake_bar_io, &ctx2 };
	fk2.f.intx_pin = 2;
	fk2.h = h;
	CHECK_EQ(pci_host_add_function(h, 5, &fk2.f), 0);
	CHECK_EQ(cfg_read(0, 5, 0, 0x10, 4), PC_PCI_MMIO32_BASE + 0x2000);
	CHECK_EQ(cfg_read(0, 5, 0, 0x14, 4), (PC_PCI_IO_BASE + 0x40) | 1);
	CHECK_EQ(cfg_read(0, 5, 0, 0x3c, 2), 0x0200 | 18); /* slot 5 INTB: 16 + (5 + 1) % 4 */
	CHECK_EQ(fk2.f.intx.gsi, 18);
	/* A window's full: -ENOSPC, and nothing taken. */
	struct pci_function huge;
	memset(&huge, 0, sizeof(huge));
	huge.bar[0] = (struct pci_bar){ PCI_BAR_MEM32, false, PC_PCI_MMIO32_SIZE, fake_bar_io, NULL };
	CHECK_EQ(pci_host_add_function(h, 6, &huge), -ENOSPC);
	CHECK_EQ(cfg_read(0, 6, 0, 0, 4), 0xffffffff);
	huge.bar[0] = (struct pci_bar){ PCI_BAR_MEM32, false, PC_PCI_MMIO32_SIZE / 2, fake_bar_io, NULL };
	CHECK_EQ(pci_host_add_function(h, 6, &huge), 0); /* the upper half is free */
	CHECK_EQ(cfg_read(0, 6, 0, 0x10, 4), PC_PCI_MMIO32_BASE + PC_PCI_MMIO32_SIZE / 2);
	CHECK_EQ(cfg_read(0, 6, 0, 0x3d, 1), 0); /* no pin: no line */
	CHECK_EQ(cfg_read(0, 6, 0, PCI_COMMAND, 2), 0x2); /* memory only */
	cfg_write(0, 6, 0, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(cfg_read(0, 6, 0, PCI_COMMAND, 2), 0x2); /* no I/O BAR: I/O enable hardwired 0 */
}

int main(void)
{
	struct pci_host *h;
	io_bus_init(&bus);
	CHECK_EQ(pci_host_create(&bus, &h), 0);

	/* CONFIG_ADDRESS: a dword latches and reads back; reserved 30:24 and
	 * 1:0 read as 0. */
	out(0xcf8, 4, 0x80001234);
	CHECK_EQ(in(0xcf8, 4), 0x80001234);
	out(0xcf8, 4, 0xffffffff);
	CHECK_EQ(in(0xcf8, 4), 0x80fffffc);
	/* byte and word accesses at 0xcf8 do not latch (and read as ones) */
	out(0xcf8, 4, 0x80000000);
	out(0xcf8, 1, 0x12);
	out(0xcf8, 2, 0x3456);
	CHECK_EQ(in(0xcf8, 4), 0x80000000);
	CHECK_EQ(in(0xcf8, 1), 0xff);
	CHECK_EQ(in(0xcf8, 2), 0xffff);
	/* nothing at 0xcfa/0xcfb: unclaimed ports */
	CHECK_EQ(in(0xcfa, 2), 0xffff);

	/* The host bridge: ids, class, header type, all access widths. */
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 4), 0x00081b36);
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 2), 0x1b36);
	CHECK_EQ(cfg_read(0, 0, 0, 0x02, 2), 0x0008);
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 1), 0x36);
	CHECK_EQ(cfg_read(0, 0, 0, 0x01, 1), 0x1b);
	CHECK_EQ(cfg_read(0, 0, 0, 0x02, 1), 0x08);
	CHECK_EQ(cfg_read(0, 0, 0, 0x03, 1), 0x00);
	CHECK_EQ(cfg_read(0, 0, 0, 0x01, 2), 0x081b); /* word inside the dword */
	CHECK_EQ(cfg_read(0, 0, 0, 0x08, 4), 0x06000000); /* class 06 00 00, revision 0 */
	CHECK_EQ(cfg_read(0, 0, 0, 0x0b, 1), 0x06);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0a, 1), 0x00);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0e, 1), 0x00); /* header type 0, single function */
	CHECK_EQ(cfg_read(0, 0, 0, 0x0c, 4), 0);
	for (unsigned bar = 0x10; bar < 0x28; bar += 4) { /* no BARs: writes read back 0 */
		cfg_write(0, 0, 0, bar, 4, 0xffffffff);
		CHECK_EQ(cfg_read(0, 0, 0, bar, 4), 0);
	}
	CHECK_EQ(cfg_read(0, 0, 0, 0x34, 1), 0); /* no capabilities */
	CHECK_EQ(cfg_read(0, 0, 0, 0xfc, 4), 0);
	CHECK_EQ(cfg_read(0, 0, 0, 0xff, 1), 0);

	/* Read-only fields stay: ids, class, header type. */
	cfg_write(0, 0, 0, 0x00, 4, 0x12345678);
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 4), 0x00081b36);
	cfg_write(0, 0, 0, 0x08, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 0, 0, 0x08, 4), 0x06000000);
	cfg_write(0, 0, 0, 0x0e, 1, 0x80);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0e, 1), 0x00);
	/* Command: memory, master, parity, SERR# writable, others hardwired 0;
	 * status reads 0 and writing ones does not set it. */
	CHECK_EQ(cfg_read(0, 0, 0, 0x04, 4), 0);
	cfg_write(0, 0, 0, 0x04, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 0, 0, 0x04, 2), 0x0146);
	CHECK_EQ(cfg_read(0, 0, 0, 0x06, 2), 0x0000);
	cfg_write(0, 0, 0, 0x05, 1, 0x00); /* byte write of the high half only */
	CHECK_EQ(cfg_read(0, 0, 0, 0x04, 2), 0x0046);
	cfg_write(0, 0, 0, 0x04, 2, 0x0000);
	CHECK_EQ(cfg_read(0, 0, 0, 0x04, 2), 0);
	/* Interrupt Line is read/write; Interrupt Pin is 0 and read-only. */
	cfg_write(0, 0, 0, 0x3c, 2, 0xffff);
	CHECK_EQ(cfg_read(0, 0, 0, 0x3c, 2), 0x00ff);
	cfg_write(0, 0, 0, 0x3e, 1, 0xaa); /* min_gnt: read-only 0 */
	CHECK_EQ(cfg_read(0, 0, 0, 0x3c, 4), 0x000000ff);

	/* Absent function, device, bus: all ones; writes dropped. */
	CHECK_EQ(cfg_read(0, 0, 1, 0x00, 4), 0xffffffff);
	CHECK_EQ(cfg_read(0, 1, 0, 0x00, 4), 0xffffffff);
	CHECK_EQ(cfg_read(0, 31, 7, 0x00, 2), 0xffff);
	CHECK_EQ(cfg_read(1, 0, 0, 0x00, 4), 0xffffffff);
	CHECK_EQ(cfg_read(255, 0, 0, 0x00, 1), 0xff);
	cfg_write(0, 3, 0, 0x3c, 1, 0x12);
	CHECK_EQ(cfg_read(0, 3, 0, 0x3c, 1), 0xff);
	/* Enable bit clear: 0xcfc is not a configuration cycle. */
	out(0xcf8, 4, 0x00000000);
	CHECK_EQ(in(0xcfc, 4), 0xffffffff);
	CHECK_EQ(in(0xcfe, 1), 0xff);
	out(0xcfc, 1, 0x00); /* dropped */
	CHECK_EQ(cfg_read(0, 0, 0, 0x3c, 1), 0xff);

	/* Accesses that do not fit the dword at 0xcfc are ignored. */
	out(0xcf8, 4, addr(0, 0, 0, 0));
	CHECK_EQ(in(0xcfd, 4), 0xffffffff);
	CHECK_EQ(in(0xcff, 2), 0xffff);
	CHECK_EQ(in(0xcfc, 3), 0xffffff);
	CHECK_EQ(in(0xcfc, 8), ~0ULL);
	pci_host_data_io(h, 7, 1, false, &(uint64_t){ 0 }); /* offset beyond the range: no crash */
	uint64_t v = 0;
	pci_host_data_io(h, 0x100000, 4, false, &v);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(in(0xcfc, 4), 0x00081b36); /* the latch survived */

	/* A second function: the config helper and pci_host_add. */
	struct pci_config dev;
	pci_config_init(&dev, 0x1af4, 0x1000, 1, 0x020000, PCI_HEADER_TYPE_MULTIFUNCTION);
	pci_config_set_wmask(&dev, 0x40, 4, 0x0000ffff, 0xff000000);
	dev.data[0x43] = 0xf0;
	CHECK_EQ(pci_host_add(h, 2, 0, &dev), 0);
	CHECK_EQ(pci_host_add(h, 2, 0, &dev), -EBUSY);
	CHECK_EQ(pci_host_add(h, 32, 0, &dev), -EINVAL);
	CHECK_EQ(pci_host_add(h, 0, 8, &dev), -EINVAL);
	CHECK_EQ(cfg_read(0, 2, 0, 0x00, 4), 0x10001af4);
	CHECK_EQ(cfg_read(0, 2, 0, 0x08, 4), 0x02000001);
	CHECK_EQ(cfg_read(0, 2, 0, 0x0e, 1), 0x80);
	cfg_write(0, 2, 0, 0x40, 4, 0x30ffffff); /* low word written, 0x30 clears bits 4-5 of 0x43 */
	CHECK_EQ(cfg_read(0, 2, 0, 0x40, 4), 0xc000ffff);
	CHECK_EQ(pci_config_read(&dev, 0xfe, 4), 0xffff0000); /* past the end reads ones */
	pci_config_write(&dev, 0xff, 4, 0); /* past the end: dropped */
	pci_config_set_wmask(&dev, 0xfe, 4, ~0u, 0); /* does not fit: ignored */
	CHECK_EQ(dev.wmask[0xfe], 0);

	/* ECAM decode: the host bridge at 00:00.0, absent functions, widths. */
	for (unsigned reg = 0; reg < 0x100; reg += 4)
		CHECK_EQ(ecam_read(0, 0, 0, reg, 4), cfg_read(0, 0, 0, reg, 4));
	CHECK_EQ(ecam_read(0, 0, 0, 0x02, 2), 0x0008);
	CHECK_EQ(ecam_read(0, 0, 0, 0x03, 1), 0x00);
	CHECK_EQ(ecam_read(0, 0, 0, 0x00, 8), ~0ULL);    /* no 8-byte cycles */
	CHECK_EQ(ecam_read(0, 0, 0, 0x03, 2), 0xffff);  /* crosses the dword */
	CHECK_EQ(ecam_read(0, 1, 0, 0x00, 4), 0xffffffff);
	CHECK_EQ(ecam_read(0, 31, 7, 0xffc, 4), 0xffffffff);
	CHECK_EQ(ecam_read(0, 0, 0, 0x100, 4), 0); /* the bridge's extended space */
	ecam_write(0, 0, 0, 0x3c, 1, 0x5a);
	CHECK_EQ(cfg_read(0, 0, 0, 0x3c, 1), 0x5a);
	cfg_write(0, 0, 0, 0x3c, 1, 0xa5);
	CHECK_EQ(ecam_read(0, 0, 0, 0x3c, 1), 0xa5);
	v = 0;
	pci_host_ecam_io(h, PC_PCI_ECAM_SIZE, 4, false, &v); /* beyond the window: no crash */
	CHECK_EQ(v, 0xffffffff);
	/* The windows with no BAR: all ones. */
	CHECK_EQ(mmio_read(PC_PCI_MMIO32_BASE, 4), 0xffffffff);
	CHECK_EQ(mmio_read(PC_PCI_MMIO64_BASE + PC_PCI_MMIO64_SIZE - 8, 8), ~0ULL);
	CHECK_EQ(in((uint16_t)PC_PCI_IO_BASE, 2), 0xffff);

	pci_host_set_irq(h, &(struct irq_line){ irq_set, NULL, 0 });
	test_bars(h);

	pci_host_destroy(h);
	io_bus_destroy(&bus);
	return unit_report("test_pci");
}
