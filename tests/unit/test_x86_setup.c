/* The start states vmon builds: registers and the bytes of its GDT and page
 * tables, checked against the SDM's formats. */
#include "boot/layout.h"
#include "boot/x86_setup.h"
#include "unit.h"

static uint64_t q(const struct guest_mem *m, uint64_t gpa)
{
	uint64_t v = 0;
	guest_mem_read(m, gpa, &v, 8);
	return v;
}

int main(void)
{
	struct guest_mem m;
	struct x86_state st;
	const char *why = NULL;
	CHECK_EQ(guest_mem_init(&m, 64ULL << 20), 0);

	/* Real mode: CS:IP from the entry, data segments = CS, stack 0:0xf000. */
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_REAL, 0x10000, &st, &why), 0);
	CHECK_EQ(st.seg[SEG_CS].selector, 0x1000);
	CHECK_EQ(st.seg[SEG_CS].base, 0x10000);
	CHECK_EQ(st.seg[SEG_DS].selector, 0x1000);
	CHECK_EQ(st.seg[SEG_SS].selector, 0);
	CHECK_EQ(st.seg[SEG_CS].limit, 0xffff);
	CHECK_EQ(st.rip, 0);
	CHECK_EQ(st.gpr[RSP], 0xf000);
	CHECK_EQ(st.cr0 & X86_CR0_PE, 0);
	CHECK_EQ(st.rflags, 2);
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_REAL, 0x7c00, &st, &why), 0);
	CHECK_EQ(st.seg[SEG_CS].selector, 0);
	CHECK_EQ(st.rip, 0x7c00);
	CHECK(x86_setup_mode(&m, BOOT_MODE_REAL, 0x100000, &st, &why) < 0);

	/* prot32: flat CS 0x08 / DS 0x10 and the GDT bytes. */
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_PROT32, 0x10000, &st, &why), 0);
	CHECK_EQ(st.seg[SEG_CS].selector, BOOT_SEL_CODE32);
	CHECK_EQ(st.seg[SEG_CS].db, 1);
	CHECK_EQ(st.seg[SEG_CS].limit, 0xffffffff);
	CHECK_EQ(st.seg[SEG_SS].selector, BOOT_SEL_DATA);
	CHECK_EQ(st.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	CHECK_EQ(st.gdt.base, BOOT_GDT_ADDR);
	CHECK_EQ(st.gdt.limit, 31);
	CHECK_EQ(q(&m, BOOT_GDT_ADDR + 0x08), 0x00cf9b000000ffffULL);
	CHECK_EQ(q(&m, BOOT_GDT_ADDR + 0x10), 0x00cf93000000ffffULL);
	CHECK_EQ(q(&m, BOOT_GDT_ADDR + 0x18), 0x00af9b000000ffffULL);
	CHECK_EQ(st.rip, 0x10000);
	CHECK_EQ(st.gpr[RSP], BOOT_STACK_TOP);

	/* paged32: a page directory of 4 MiB identity pages over 4 GiB. */
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_PAGED32, 0x10000, &st, &why), 0);
	CHECK(st.cr0 & X86_CR0_PG);
	CHECK(st.cr4 & X86_CR4_PSE);
	CHECK_EQ(st.cr3, BOOT_PT_ROOT_ADDR);
	uint32_t pde[1024];
	guest_mem_read(&m, BOOT_PT_ROOT_ADDR, pde, sizeof(pde));
	CHECK_EQ(pde[0], 0x83);
	CHECK_EQ(pde[1], 0x00400083);
	CHECK_EQ(pde[0x3fb], 0xfec00083); /* the IOAPIC/LAPIC page is reachable */
	CHECK_EQ(pde[1023], 0xffc00083);

	/* long64: PML4 -> PDPT -> 4 page directories of 2 MiB pages for 4 GiB. */
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_LONG64, 0x10000, &st, &why), 0);
	CHECK_EQ(st.efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
	CHECK(st.cr4 & X86_CR4_PAE);
	CHECK_EQ(st.seg[SEG_CS].selector, BOOT_SEL_CODE64);
	CHECK_EQ(st.seg[SEG_CS].l, 1);
	CHECK_EQ(st.seg[SEG_CS].db, 0);
	CHECK_EQ(q(&m, BOOT_PT_ROOT_ADDR), BOOT_PDPT_ADDR | 3);
	CHECK_EQ(q(&m, BOOT_PDPT_ADDR), BOOT_PD_ADDR | 3);
	CHECK_EQ(q(&m, BOOT_PDPT_ADDR + 3 * 8), (BOOT_PD_ADDR + 3 * 4096) | 3);
	CHECK_EQ(q(&m, BOOT_PDPT_ADDR + 4 * 8), 0);
	CHECK_EQ(q(&m, BOOT_PD_ADDR), 0x83);
	CHECK_EQ(q(&m, BOOT_PD_ADDR + 8), 0x200083);
	CHECK_EQ(q(&m, BOOT_PD_ADDR + 3 * 4096 + 511 * 8), 0xffe00083ULL);
	guest_mem_destroy(&m);

	/* 8 GiB of RAM reaches 9 GiB: nine page directories. */
	CHECK_EQ(guest_mem_init(&m, 8ULL << 30), 0);
	CHECK_EQ(x86_setup_mode(&m, BOOT_MODE_LONG64, 0x10000, &st, &why), 0);
	CHECK_EQ(q(&m, BOOT_PDPT_ADDR + 8 * 8), (BOOT_PD_ADDR + 8 * 4096) | 3);
	CHECK_EQ(q(&m, BOOT_PDPT_ADDR + 9 * 8), 0);
	CHECK_EQ(q(&m, BOOT_PD_ADDR + 8 * 4096 + 511 * 8), 0x23fe00083ULL);
	guest_mem_destroy(&m);

	/* The boot block moved (an image below 0x10000): GDT, stack and page
	 * tables all at base + their offset, nothing written at the usual place. */
	CHECK_EQ(guest_mem_init(&m, 64ULL << 20), 0);
	const uint64_t base = 0x20000;
	CHECK_EQ(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, base, &st, &why), 0);
	CHECK_EQ(st.gdt.base, base + BOOT_GDT_ADDR);
	CHECK_EQ(q(&m, base + BOOT_GDT_ADDR + 0x08), 0x00cf9b000000ffffULL);
	CHECK_EQ(q(&m, BOOT_GDT_ADDR + 0x08), 0);
	CHECK_EQ(st.gpr[RSP], base + BOOT_STACK_TOP);
	CHECK_EQ(st.rip, 0x8000);
	CHECK_EQ(x86_setup_mode_at(&m, BOOT_MODE_LONG64, 0x8000, base, &st, &why), 0);
	CHECK_EQ(st.cr3, base + BOOT_PT_ROOT_ADDR);
	CHECK_EQ(q(&m, base + BOOT_PT_ROOT_ADDR), (base + BOOT_PDPT_ADDR) | 3);
	CHECK_EQ(q(&m, base + BOOT_PDPT_ADDR + 3 * 8), (base + BOOT_PD_ADDR + 3 * 4096) | 3);
	CHECK_EQ(q(&m, base + BOOT_PD_ADDR + 8), 0x200083);
	CHECK_EQ(q(&m, BOOT_PT_ROOT_ADDR), 0);
	CHECK_EQ(st.gpr[RSP], base + BOOT_STACK_TOP);
	/* Misaligned, past 1 MiB, or past the end of RAM: refused. */
	CHECK(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, base + 0x800, &st, &why) < 0);
	CHECK(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, 0xf1000, &st, &why) < 0);
	CHECK_EQ(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, 0xf0000, &st, &why), 0);
	guest_mem_destroy(&m);
	CHECK_EQ(guest_mem_init(&m, 0x18000), 0);
	CHECK(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, 0x10000, &st, &why) < 0);
	CHECK_EQ(x86_setup_mode_at(&m, BOOT_MODE_PROT32, 0x8000, 0x8000, &st, &why), 0);
	guest_mem_destroy(&m);

	/* 12 GiB does not fit vmon's ten page directories: a clear refusal. */
	CHECK_EQ(guest_mem_init(&m, 12ULL << 30), 0);
	why = NULL;
	CHECK(x86_setup_mode(&m, BOOT_MODE_LONG64, 0x10000, &st, &why) < 0);
	CHECK(why != NULL);
	guest_mem_destroy(&m);
	return unit_report("x86_setup");
}
