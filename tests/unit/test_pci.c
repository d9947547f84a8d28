/* PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2) through the
 * io bus, the host bridge at 00:00.0, and the config-space write masks. */
#include <errno.h>

#include "bus/io_bus.h"
#include "dev/pci/pci_host.h"
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

	pci_host_destroy(h);
	io_bus_destroy(&bus);
	return unit_report("test_pci");
}
