#include "boot/x86_setup.h"

#include <errno.h>
#include <string.h>

#include "boot/layout.h"

/* A flat segment as the hidden part of a segment register (SDM vol. 3 §3.4.5). */
static struct x86_segment flat_seg(uint16_t sel, uint8_t type, uint8_t db, uint8_t l)
{
	return (struct x86_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				     .s = 1, .dpl = 0, .present = 1, .db = db, .l = l, .g = 1 };
}

static void set_system_segments(struct x86_state *st)
{
	/* A TR that the hardware accepts (busy TSS, SDM vol. 3 §26.3.1.2) and an
	 * unusable LDTR: the guest loads its own before it needs them. */
	st->seg[SEG_TR] = (struct x86_segment){ .limit = 0x67, .type = 11, .present = 1 };
	st->seg[SEG_LDTR] = (struct x86_segment){ .limit = 0xffff, .type = 2, .present = 1, .unusable = 1 };
}

static int write_gdt(const struct guest_mem *mem, uint64_t base, struct x86_state *st)
{
	/* Descriptors with the accessed bit set, so no CPU needs to write them. */
	static const uint64_t gdt[] = {
		0,                     /* 0x00 null */
		0x00cf9b000000ffffULL, /* 0x08 code, 32-bit, 4 GiB, DPL 0 */
		0x00cf93000000ffffULL, /* 0x10 data, 4 GiB, DPL 0 */
		0x00af9b000000ffffULL, /* 0x18 code, 64-bit, DPL 0 */
	};
	if (guest_mem_write(mem, base + BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return -EFAULT;
	st->gdt.base = base + BOOT_GDT_ADDR;
	st->gdt.limit = sizeof(gdt) - 1;
	return 0;
}

/* 32-bit paging with 4 MiB pages (CR4.PSE) identity-mapping all 4 GiB, so
 * that RAM and the MMIO hole are both reachable. SDM vol. 3 §4.3. */
static int write_paged32_tables(const struct guest_mem *mem, uint64_t base)
{
	uint32_t *pd = guest_mem_ptr(mem, base + BOOT_PT_ROOT_ADDR, 4096);
	if (!pd)
		return -EFAULT;
	for (uint32_t i = 0; i < 1024; i++)
		pd[i] = (i << 22) | 0x83; /* present, writable, 4 MiB */
	return 0;
}

/* 4-level paging with 2 MiB pages identity-mapping [0, top) (top at least
 * 4 GiB). SDM vol. 3 §4.5. */
static int write_long64_tables(const struct guest_mem *mem, uint64_t base, uint64_t top,
			       const char **why)
{
	if (top < GUEST_MEM_HIGH_START)
		top = GUEST_MEM_HIGH_START;
	uint64_t gib = (top + (1ULL << 30) - 1) >> 30;
	if (gib > BOOT_PD_COUNT) {
		*why = "vmon's boot page tables identity-map at most 10 GiB of address space "
		       "(--mem 9G at the most)";
		return -EINVAL;
	}
	uint64_t *pml4 = guest_mem_ptr(mem, base + BOOT_PT_ROOT_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(mem, base + BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(mem, base + BOOT_PD_ADDR, 4096 * BOOT_PD_COUNT);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = (base + BOOT_PDPT_ADDR) | 0x3;
	for (uint64_t i = 0; i < gib; i++) {
		pdpt[i] = (base + BOOT_PD_ADDR + i * 4096) | 0x3;
		for (uint64_t j = 0; j < 512; j++)
			pd[i * 512 + j] = (i << 30) | (j << 21) | 0x83;
	}
	return 0;
}

int x86_setup_mode(const struct guest_mem *mem, enum boot_mode mode, uint64_t entry,
		   struct x86_state *st, const char **why)
{
	return x86_setup_mode_at(mem, mode, entry, 0, st, why);
}

int x86_setup_mode_at(const struct guest_mem *mem, enum boot_mode mode, uint64_t entry,
		      uint64_t base, struct x86_state *st, const char **why)
{
	memset(st, 0, sizeof(*st));
	st->rflags = X86_RFLAGS_FIXED;
	st->apic_base = 0xfee00000ULL | (1 << 11) | (1 << 8); /* enabled, BSP */
	st->idt.limit = 0x3ff;
	set_system_segments(st);
	if (guest_mem_top(mem) < BOOT_RESERVED_END) {
		*why = "guest RAM is smaller than vmon's boot area (64 KiB)";
		return -EINVAL;
	}
	if ((base & 0xfff) || base > 0x100000 - BOOT_AREA_SIZE || guest_mem_top(mem) < base + BOOT_AREA_SIZE) {
		*why = "vmon's boot area must be 4 KiB aligned, in RAM and below 1 MiB";
		return -EINVAL;
	}

	if (mode == BOOT_MODE_REAL) {
		/* CS:IP = (entry & 0xf0000) >> 4 : entry & 0xffff; data segments = CS;
		 * stack at 0:0xf000. */
		if (entry >= 0x100000) {
			*why = "real mode: the entry address must be below 1 MiB";
			return -EINVAL;
		}
		uint16_t cs = (uint16_t)((entry >> 4) & 0xf000);
		for (int i = SEG_ES; i <= SEG_GS; i++) {
			uint16_t sel = i == SEG_SS ? 0 : cs;
			st->seg[i] = (struct x86_segment){ .base = (uint64_t)sel << 4, .limit = 0xffff,
							   .selector = sel, .type = 3, .s = 1, .present = 1 };
		}
		st->seg[SEG_CS].type = 0xb;
		st->rip = entry & 0xffff;
		st->gpr[RSP] = BOOT_STACK_TOP;
		st->cr0 = X86_CR0_ET;
		return 0;
	}

	if (write_gdt(mem, base, st) < 0) {
		*why = "cannot write the GDT";
		return -EFAULT;
	}
	st->gpr[RSP] = base + BOOT_STACK_TOP;
	st->rip = entry;
	st->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	struct x86_segment data = flat_seg(BOOT_SEL_DATA, 3, 1, 0);
	for (int i = SEG_ES; i <= SEG_GS; i++)
		st->seg[i] = data;

	switch (mode) {
	case BOOT_MODE_PROT32:
	case BOOT_MODE_PAGED32:
		if (entry > 0xffffffffULL) {
			*why = "32-bit mode: the entry address must be below 4 GiB";
			return -EINVAL;
		}
		st->seg[SEG_CS] = flat_seg(BOOT_SEL_CODE32, 0xb, 1, 0);
		if (mode == BOOT_MODE_PAGED32) {
			if (write_paged32_tables(mem, base) < 0) {
				*why = "cannot write the page directory";
				return -EFAULT;
			}
			st->cr3 = base + BOOT_PT_ROOT_ADDR;
			st->cr4 = X86_CR4_PSE;
			st->cr0 |= X86_CR0_PG | X86_CR0_WP;
		}
		return 0;
	case BOOT_MODE_LONG64: {
		int r = write_long64_tables(mem, base, guest_mem_top(mem), why);
		if (r < 0)
			return r;
		st->seg[SEG_CS] = flat_seg(BOOT_SEL_CODE64, 0xb, 0, 1);
		st->cr3 = base + BOOT_PT_ROOT_ADDR;
		st->cr4 = X86_CR4_PAE | X86_CR4_PSE;
		st->cr0 |= X86_CR0_PG | X86_CR0_WP;
		st->efer = X86_EFER_LME | X86_EFER_LMA;
		return 0;
	}
	default:
		*why = "unknown mode";
		return -EINVAL;
	}
}

/* The GDT both Linux entries need: __BOOT_CS (0x10) with the entry's code
 * descriptor, __BOOT_DS (0x18) flat data, loaded into CS and every data
 * segment register. */
static int write_linux_gdt(const struct guest_mem *mem, uint64_t code_desc, uint8_t db, uint8_t l,
			   struct x86_state *st)
{
	const uint64_t gdt[] = {
		0, 0,
		code_desc,             /* 0x10 __BOOT_CS */
		0x00cf93000000ffffULL, /* 0x18 __BOOT_DS */
	};
	if (guest_mem_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return -EFAULT;
	st->gdt.base = BOOT_GDT_ADDR;
	st->gdt.limit = sizeof(gdt) - 1;
	st->seg[SEG_CS] = flat_seg(BOOT_LINUX_SEL_CS, 0xb, db, l);
	struct x86_segment data = flat_seg(BOOT_LINUX_SEL_DS, 3, 1, 0);
	for (int i = SEG_ES; i <= SEG_GS; i++)
		if (i != SEG_CS)
			st->seg[i] = data;
	return 0;
}

int x86_setup_linux64(const struct guest_mem *mem, uint64_t entry, uint64_t boot_params,
		      struct x86_state *st, const char **why)
{
	/* Linux boot protocol, "64-bit boot protocol": 64-bit mode, paging on,
	 * the kernel, zero page and command line identity-mapped (vmon maps the
	 * first 4 GiB), a GDT with flat __BOOT_CS (0x10) and __BOOT_DS (0x18),
	 * interrupts off, %rsi = boot_params. */
	int r = x86_setup_mode(mem, BOOT_MODE_PROT32, entry, st, why);
	if (r < 0)
		return r;
	if (write_linux_gdt(mem, 0x00af9b000000ffffULL, 0, 1, st) < 0 ||
	    write_long64_tables(mem, 0, GUEST_MEM_HIGH_START, why) < 0) {
		*why = "cannot write the boot GDT and page tables";
		return -EFAULT;
	}
	st->cr3 = BOOT_PT_ROOT_ADDR;
	st->cr4 = X86_CR4_PAE | X86_CR4_PSE;
	st->cr0 |= X86_CR0_PG | X86_CR0_WP;
	st->efer = X86_EFER_LME | X86_EFER_LMA;
	st->gpr[RSI] = boot_params;
	return 0;
}

int x86_setup_linux32(const struct guest_mem *mem, uint64_t entry, uint64_t boot_params,
		      struct x86_state *st, const char **why)
{
	/* Linux boot protocol, "32-bit boot protocol": protected mode, paging
	 * off, a GDT with flat __BOOT_CS (0x10, execute/read) and __BOOT_DS
	 * (0x18, read/write), CS = __BOOT_CS, DS = ES = SS = __BOOT_DS,
	 * interrupts off, %esi = boot_params, %ebp = %edi = %ebx = 0 (every
	 * register but ESP is zero from x86_setup_mode). */
	int r = x86_setup_mode(mem, BOOT_MODE_PROT32, entry, st, why);
	if (r < 0)
		return r;
	if (write_linux_gdt(mem, 0x00cf9b000000ffffULL, 1, 0, st) < 0) {
		*why = "cannot write the boot GDT";
		return -EFAULT;
	}
	st->gpr[RSI] = boot_params;
	return 0;
}
