/* MSI-X (PCI Local Bus 3.0 §6.8.2): the capability's layout and writable
 * bits, the table and PBA through the BAR, masking and the pending bits,
 * and what reaches the sink. */
#include "dev/pci/msix.h"
#include "unit.h"

struct sent { unsigned n; uint64_t addr; uint32_t data; };

static void sink_send(void *opaque, uint64_t addr, uint32_t data)
{
	struct sent *s = opaque;
	s->n++;
	s->addr = addr;
	s->data = data;
}

static uint64_t rd(struct msix *m, uint64_t off, unsigned size)
{
	uint64_t v = 0x1234;
	msix_bar_access(m, off, size, false, &v);
	return v;
}
static void wr(struct msix *m, uint64_t off, unsigned size, uint64_t v) { msix_bar_access(m, off, size, true, &v); }

static void set_ctrl(struct msix *m, struct pci_config *c, uint16_t v)
{
	pci_config_write(c, 0x40 + 2, 2, v);
	msix_config_written(m, c);
}

int main(void)
{
	struct pci_config c;
	struct msix m;
	struct sent s = { 0 };
	struct msi_sink sink = { sink_send, &s };
	pci_config_init(&c, 0x1af4, 0x1042, 1, 0x010000, 0);
	msix_init(&m, &c, 0x40, 0x50, 3, 1, 0, 0x800, &sink);

	/* §6.8.2.1-4: id 0x11, next, table size - 1 = 2, table/PBA offset | BIR 1 */
	CHECK_EQ(pci_config_read(&c, 0x40, 1), 0x11);
	CHECK_EQ(pci_config_read(&c, 0x41, 1), 0x50);
	CHECK_EQ(pci_config_read(&c, 0x42, 2), 2);
	CHECK_EQ(pci_config_read(&c, 0x44, 4), 0x000 | 1);
	CHECK_EQ(pci_config_read(&c, 0x48, 4), 0x800 | 1);
	/* only enable (15) and function mask (14) are writable */
	pci_config_write(&c, 0x42, 2, 0xffff);
	CHECK_EQ(pci_config_read(&c, 0x42, 2), 0xc002);
	pci_config_write(&c, 0x42, 2, 0);
	pci_config_write(&c, 0x44, 4, 0xffffffff);
	CHECK_EQ(pci_config_read(&c, 0x44, 4), 1);

	/* table: every vector starts masked (§6.8.2.9) */
	for (unsigned v = 0; v < 3; v++)
		CHECK_EQ(rd(&m, v * 16 + 12, 4), 1);
	CHECK(msix_claims(&m, 0));
	CHECK(msix_claims(&m, 3 * 16 - 4));
	CHECK(!msix_claims(&m, 3 * 16));
	CHECK(msix_claims(&m, 0x800));
	CHECK(!msix_claims(&m, 0x808));
	/* a qword write to address lo/hi, a dword to data; reserved control bits stay 0 */
	wr(&m, 16 + 0, 8, 0x00000000fee01000ULL);
	wr(&m, 16 + 8, 4, 0x4041);
	wr(&m, 16 + 12, 4, 0xfffffffe);
	CHECK_EQ(rd(&m, 16, 8), 0xfee01000ULL);
	CHECK_EQ(rd(&m, 16 + 8, 4), 0x4041);
	CHECK_EQ(rd(&m, 16 + 12, 4), 0);
	/* narrow and unaligned accesses are dropped, read as 0 */
	wr(&m, 16 + 8, 2, 0xffff);
	CHECK_EQ(rd(&m, 16 + 8, 4), 0x4041);
	CHECK_EQ(rd(&m, 16 + 8, 2), 0);
	CHECK_EQ(rd(&m, 16 + 2, 4), 0);

	/* disabled: a notify only sets the pending bit */
	CHECK(msix_notify(&m, 1));
	CHECK_EQ(s.n, 0);
	CHECK_EQ(rd(&m, 0x800, 4), 2);
	/* the PBA is read-only */
	wr(&m, 0x800, 4, 0);
	CHECK_EQ(rd(&m, 0x800, 4), 2);
	/* enabling sends what is pending on an unmasked vector */
	set_ctrl(&m, &c, 0x8000);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.addr, 0xfee01000ULL);
	CHECK_EQ(s.data, 0x4041);
	CHECK_EQ(rd(&m, 0x800, 4), 0);
	CHECK(msix_notify(&m, 1));
	CHECK_EQ(s.n, 2);
	/* function mask: pending, then sent when the mask is lifted */
	set_ctrl(&m, &c, 0xc000);
	CHECK(msix_notify(&m, 1));
	CHECK_EQ(s.n, 2);
	CHECK_EQ(rd(&m, 0x800, 8), 2);
	set_ctrl(&m, &c, 0x8000);
	CHECK_EQ(s.n, 3);
	/* a masked vector: pending until its own mask bit clears */
	CHECK(msix_notify(&m, 0));
	CHECK_EQ(s.n, 3);
	CHECK_EQ(rd(&m, 0x800, 4), 1);
	wr(&m, 0, 4, 0xfee00000);
	wr(&m, 8, 4, 0x30);
	wr(&m, 12, 4, 0);
	CHECK_EQ(s.n, 4);
	CHECK_EQ(s.data, 0x30);
	/* out of range vectors are refused */
	CHECK(!msix_notify(&m, 3));
	CHECK(!msix_notify(&m, 0xffff));
	CHECK_EQ(s.n, 4);
	return unit_report("msix");
}
