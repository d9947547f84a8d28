/* The soft MMU: page walks for 32-bit, PAE and 4-level paging (SDM vol. 3
 * chapter 4) with accessed/dirty updates and the access rights of §4.6
 * (U/S, R/W, NX, CR0.WP, SMEP, SMAP, protection keys), the software TLB's
 * invalidation, the SMAP/PKU instructions (STAC, CLAC, RDPKRU, WRPKRU), and
 * physical accesses (RAM through guest_mem_ptr(), the local APIC,
 * everything else as MMIO on the io bus). */
#include <string.h>

#include "emu.h"
#include "vm.h"

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)
#define PTE_PKEY_SHIFT 59 /* bits 62:59: the protection key (4-level paging, §4.6.2) */

/* MAXPHYADDR is 40 (CPUID 0x80000008): address bits 40-51 are reserved. */
#define PHYS_ADDR_MASK 0x000000fffffff000ULL
#define PHYS_RSVD_MASK 0x000fff0000000000ULL

#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u
#define PF_RSVD 0x8u
#define PF_ID 0x10u
#define PF_PK 0x20u

void emu_tlb_flush(struct emu_cpu *cpu)
{
	memset(&cpu->tlb, 0, sizeof(cpu->tlb));
}

void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin)
{
	if (cpu->tlb.has_large) {
		emu_tlb_flush(cpu);
		return;
	}
	unsigned idx = (unsigned)(lin >> 12) & (EMU_TLB_SIZE - 1);
	for (int k = 0; k < 3; k++)
		cpu->tlb.e[k][idx].tag = 0;
}

/* A paging-structure entry. Tables outside RAM read as not present. */
static uint64_t *entry_ptr(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
	return guest_mem_ptr(&cpu->vm->mem, gpa, size);
}

static uint64_t entry_load(struct emu_cpu *cpu, uint64_t gpa, unsigned size)
{
	void *p = entry_ptr(cpu, gpa, size);
	if (!p)
		return 0;
	if (size == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void entry_set_bits(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t old, uint64_t bits)
{
	if ((old & bits) == bits)
		return;
	void *p = entry_ptr(cpu, gpa, size);
	if (!p)
		return;
	uint64_t v = old | bits;
	emu_smc_note(cpu, (uintptr_t)p, size);
	memcpy(p, &v, size); /* little-endian host: the low 4 bytes for 32-bit entries */
}

static int page_fault(struct emu_cpu *cpu, uint64_t lin, uint32_t err)
{
	cpu->cr2 = lin;
	return emu_raise(cpu, EXC_PF, true, err);
}

/* SDM vol. 3 §4.6.1 (access rights) and §4.6.2 (protection keys): the rights
 * of a translation with combined R/W (w), U/S (u) and XD (nx) bits and
 * protection key key (-1: none) against an access. */
uint32_t emu_page_access_denied(const struct emu_cpu *cpu, unsigned acc, bool w, bool u, bool nx, int key)
{
	unsigned kind = acc & ACC_KIND;
	bool user = cpu->cpl == 3 && !(acc & ACC_SUPER);
	bool wp = cpu->cr0 & X86_CR0_WP;
	bool deny = false, pk = false;
	if (user) {
		deny = !u || (kind == ACC_WRITE && !w);
	} else {
		if (kind == ACC_WRITE && !w && wp)
			deny = true;
		/* a supervisor access to a user page: SMEP forbids fetches;
		 * SMAP forbids data accesses, but explicit ones with EFLAGS.AC */
		if (u && kind == ACC_FETCH && (cpu->cr4 & EMU_CR4_SMEP))
			deny = true;
		if (u && kind != ACC_FETCH && (cpu->cr4 & EMU_CR4_SMAP) &&
		    ((acc & ACC_SUPER) || !(cpu->rflags & FL_AC)))
			deny = true;
	}
	if (kind == ACC_FETCH && nx)
		deny = true;
	/* PKRU governs data accesses to user pages, from either privilege,
	 * and IA32_PKRS (PKS) those to supervisor pages; WD stops supervisor
	 * writes only when CR0.WP is set */
	uint32_t keys = 0;
	if (u && (cpu->cr4 & EMU_CR4_PKE))
		keys = cpu->pkru;
	else if (!u && (cpu->cr4 & EMU_CR4_PKS))
		keys = cpu->msr.pkrs;
	if (key >= 0 && kind != ACC_FETCH && keys) {
		bool ad = keys & (1u << (2 * key)), wd = keys & (2u << (2 * key));
		pk = ad || (kind == ACC_WRITE && wd && (user || wp));
	}
	if (!deny && !pk)
		return 0;
	return PF_P | (pk ? PF_PK : 0);
}

struct walk_level {
	uint64_t gpa;
	uint64_t val;
};

int emu_translate(struct emu_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *gpa)
{
	unsigned kind = acc & ACC_KIND;
	bool user = cpu->cpl == 3 && !(acc & ACC_SUPER);
	if (!(cpu->cr0 & X86_CR0_PG)) {
		*gpa = emu_long_mode(cpu) ? lin : (lin & 0xffffffffULL);
		return EMU_OK;
	}
	bool nxe = cpu->efer & X86_EFER_NXE;
	/* I/D is defined with XD (PAE paging, NXE) or SMEP (SDM vol. 3 §4.7) */
	bool id = kind == ACC_FETCH && ((nxe && (cpu->cr4 & X86_CR4_PAE)) || (cpu->cr4 & EMU_CR4_SMEP));
	uint32_t err = (kind == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0) | (id ? PF_ID : 0);
	struct walk_level lv[4];
	unsigned n = 0, esize;
	uint64_t page_mask; /* offset bits inside the final page */
	uint64_t rsvd = PHYS_RSVD_MASK | (nxe ? 0 : PTE_NX);

	if (!(cpu->cr4 & X86_CR4_PAE)) {
		/* 32-bit paging, SDM vol. 3 §4.3 */
		esize = 4;
		uint64_t pde_gpa = (cpu->cr3 & 0xfffff000ULL) + ((lin >> 22) & 0x3ff) * 4;
		uint64_t pde = entry_load(cpu, pde_gpa, 4);
		lv[n++] = (struct walk_level){ pde_gpa, pde };
		if (!(pde & PTE_P))
			return page_fault(cpu, lin, err);
		if ((pde & PTE_PS) && (cpu->cr4 & X86_CR4_PSE)) {
			page_mask = 0x3fffff;
			/* PSE-36: bits 13-20 hold physical bits 32-39 */
			uint64_t base = (pde & 0xffc00000ULL) | (((pde >> 13) & 0xff) << 32);
			lv[0].val = pde;
			*gpa = base | (lin & page_mask);
		} else {
			uint64_t pte_gpa = (pde & 0xfffff000ULL) + ((lin >> 12) & 0x3ff) * 4;
			uint64_t pte = entry_load(cpu, pte_gpa, 4);
			lv[n++] = (struct walk_level){ pte_gpa, pte };
			if (!(pte & PTE_P))
				return page_fault(cpu, lin, err);
			page_mask = 0xfff;
			*gpa = (pte & 0xfffff000ULL) | (lin & page_mask);
		}
	} else {
		esize = 8;
		uint64_t table;
		int level;
		if (emu_long_mode(cpu)) {
			table = cpu->cr3 & PHYS_ADDR_MASK;
			level = 4;
		} else {
			/* PAE: the PDPTE has no R/W, U/S or NX bits (SDM vol. 3 §4.4.1) */
			uint64_t pdpte_gpa = (cpu->cr3 & 0xffffffe0ULL) + ((lin >> 30) & 3) * 8;
			uint64_t pdpte = entry_load(cpu, pdpte_gpa, 8);
			if (!(pdpte & PTE_P))
				return page_fault(cpu, lin, err);
			if (pdpte & (PHYS_RSVD_MASK | 0x1e6ULL | PTE_NX))
				return page_fault(cpu, lin, err | PF_P | PF_RSVD);
			table = pdpte & PHYS_ADDR_MASK;
			level = 2;
		}
		for (;; level--) {
			unsigned shift = 12 + 9 * (unsigned)(level - 1);
			uint64_t e_gpa = table + ((lin >> shift) & 511) * 8;
			uint64_t e = entry_load(cpu, e_gpa, 8);
			lv[n++] = (struct walk_level){ e_gpa, e };
			if (!(e & PTE_P))
				return page_fault(cpu, lin, err);
			uint64_t r = rsvd;
			if (level == 4)
				r |= PTE_PS;
			bool leaf = level == 1 || ((e & PTE_PS) && level <= 3);
			if (leaf && level > 1)
				r |= ((1ULL << shift) - 1) & ~0x1fffULL; /* large page: low address bits but PAT */
			if (level == 3 && (e & PTE_PS) && !emu_long_mode(cpu))
				r |= PTE_PS;
			if (e & r)
				return page_fault(cpu, lin, err | PF_P | PF_RSVD);
			if (leaf) {
				page_mask = (1ULL << shift) - 1;
				*gpa = (e & PHYS_ADDR_MASK & ~page_mask) | (lin & page_mask);
				break;
			}
			table = e & PHYS_ADDR_MASK;
		}
	}

	/* Combined rights: writable/user only if every level says so; NX if any. */
	bool w = true, u = true, nx = false;
	for (unsigned i = 0; i < n; i++) {
		w = w && (lv[i].val & PTE_W);
		u = u && (lv[i].val & PTE_U);
		nx = nx || (esize == 8 && nxe && (lv[i].val & PTE_NX));
	}
	/* protection keys exist in 4-level paging only; the leaf holds the key */
	int key = emu_long_mode(cpu) ? (int)((lv[n - 1].val >> PTE_PKEY_SHIFT) & 0xf) : -1;
	uint32_t deny = emu_page_access_denied(cpu, acc, w, u, nx, key);
	if (deny)
		return page_fault(cpu, lin, err | deny);

	if (page_mask > 0xfff)
		cpu->tlb.has_large = true;
	for (unsigned i = 0; i < n; i++) {
		uint64_t bits = PTE_A;
		if (i == n - 1 && kind == ACC_WRITE)
			bits |= PTE_D;
		entry_set_bits(cpu, lv[i].gpa, esize, lv[i].val, bits);
	}
	return EMU_OK;
}

/* STAC/CLAC (SDM vol. 2: #UD above CPL 0 and in virtual-8086 mode) and
 * RDPKRU/WRPKRU (#UD without CR4.PKE, #GP(0) unless ECX, and for WRPKRU
 * EDX, are 0; any CPL). */
int emu_x_pkey(struct emu_cpu *cpu, const struct emu_insn *in)
{
	switch (in->mnem) {
	case M_STAC:
	case M_CLAC:
		if (emu_vm86(cpu) || (emu_prot_mode(cpu) && cpu->cpl != 0))
			return emu_ud(cpu);
		if (in->mnem == M_STAC)
			cpu->rflags |= FL_AC;
		else
			cpu->rflags &= ~(uint64_t)FL_AC;
		return EMU_OK;
	case M_RDPKRU:
		if (!(cpu->cr4 & EMU_CR4_PKE))
			return emu_ud(cpu);
		if ((uint32_t)cpu->gpr[RCX])
			return emu_gp(cpu, 0);
		emu_reg_set(cpu, in, RAX, 4, cpu->pkru);
		emu_reg_set(cpu, in, RDX, 4, 0);
		return EMU_OK;
	default: /* WRPKRU */
		if (!(cpu->cr4 & EMU_CR4_PKE))
			return emu_ud(cpu);
		if ((uint32_t)cpu->gpr[RCX] || (uint32_t)cpu->gpr[RDX])
			return emu_gp(cpu, 0);
		cpu->pkru = (uint32_t)cpu->gpr[RAX];
		emu_tlb_flush(cpu); /* the TLB holds rights checked against PKRU */
		return EMU_OK;
	}
}

/* One access of 1, 2, 4 or 8 bytes that is not RAM. */
static void phys_io(struct emu_cpu *cpu, uint64_t gpa, unsigned size, bool is_write, uint64_t *val)
{
	if (emu_lapic_claims(cpu, gpa)) {
		/* APIC registers are 32-bit at 16-byte strides (SDM vol. 3 §10.4.1) */
		uint32_t off = (uint32_t)(gpa & 0xfff);
		unsigned sh = (off & 3) * 8;
		if (is_write) {
			if ((off & 3) == 0 && size >= 4)
				emu_lapic_write(cpu, off, (uint32_t)*val);
		} else {
			uint64_t v = emu_lapic_read(cpu, off & ~3u) >> sh;
			*val = v & emu_mask(size);
		}
		return;
	}
	io_bus_access(&cpu->vm->bus, IO_SPACE_MMIO, gpa, size, is_write, val);
}

int emu_phys_read(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val)
{
	void *p = guest_mem_ptr(&cpu->vm->mem, gpa, size);
	*val = 0;
	if (p) {
		memcpy(val, p, size);
		return 0;
	}
	phys_io(cpu, gpa, size, false, val);
	return 0;
}

int emu_phys_write(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val)
{
	void *p = guest_mem_ptr(&cpu->vm->mem, gpa, size);
	if (p) {
		emu_smc_note(cpu, (uintptr_t)p, size);
		memcpy(p, &val, size);
		return 0;
	}
	phys_io(cpu, gpa, size, true, &val);
	return 0;
}
