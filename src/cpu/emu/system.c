/* System instructions: control registers (the debug registers are
 * debug.c's), HLT, CLI/STI, TLB and cache control, LMSW/SMSW, time stamp
 * counter, SWAPGS, and the harmless hint/fence forms. CR writes follow SDM
 * vol. 3 §2.5 and the MOV CR page, including the long-mode activation
 * rules of §9.8.5. */

#include "emu.h"
#include "util/log.h"

/* CR4 bits vmon lets a guest set: TSD DE PSE PAE MCE PGE PCE OSFXSR
 * OSXMMEXCPT UMIP (bits 2-11), SMEP SMAP PKE (20-22) PKS (24) */
#define CR4_ALLOWED (0xffcULL | EMU_CR4_SMEP | EMU_CR4_SMAP | EMU_CR4_PKE | EMU_CR4_PKS)

int emu_set_cr(struct emu_cpu *cpu, unsigned cr, uint64_t v)
{
	switch (cr) {
	case 0: {
		uint64_t old = cpu->cr0;
		if (v >> 32)
			return emu_gp(cpu, 0);
		v |= X86_CR0_ET;
		if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
			return emu_gp(cpu, 0);
		if ((v & X86_CR0_NW) && !(v & X86_CR0_CD))
			return emu_gp(cpu, 0);
		bool pg_on = (v & X86_CR0_PG) && !(old & X86_CR0_PG);
		bool pg_off = !(v & X86_CR0_PG) && (old & X86_CR0_PG);
		if (pg_on && (cpu->efer & X86_EFER_LME)) {
			if (!(cpu->cr4 & X86_CR4_PAE) || cpu->seg[SEG_CS].l)
				return emu_gp(cpu, 0);
			cpu->efer |= X86_EFER_LMA;
		}
		if (pg_off && emu_long_mode(cpu)) {
			if (emu_code64(cpu))
				return emu_gp(cpu, 0);
			cpu->efer &= ~(uint64_t)X86_EFER_LMA;
		}
		cpu->cr0 = v;
		if ((old ^ v) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
			emu_tlb_flush(cpu);
		emu_cpu_update_mode(cpu);
		return EMU_OK;
	}
	case 2:
		cpu->cr2 = v;
		return EMU_OK;
	case 3:
		if (emu_long_mode(cpu) && (v >> 52))
			return emu_gp(cpu, 0);
		cpu->cr3 = emu_long_mode(cpu) ? v : (v & 0xffffffffULL);
		emu_tlb_flush(cpu);
		return EMU_OK;
	case 4: {
		if (v & ~CR4_ALLOWED)
			return emu_gp(cpu, 0);
		if (emu_long_mode(cpu) && !(v & X86_CR4_PAE))
			return emu_gp(cpu, 0);
		uint64_t old = cpu->cr4;
		cpu->cr4 = v;
		/* the TLB holds rights checked under the old SMEP/SMAP/PKE */
		if ((old ^ v) & (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | EMU_CR4_SMEP | EMU_CR4_SMAP |
				 EMU_CR4_PKE | EMU_CR4_PKS))
			emu_tlb_flush(cpu);
		return EMU_OK;
	}
	case 8:
		if (v >> 4)
			return emu_gp(cpu, 0);
		cpu->lapic.tpr = (uint32_t)(v << 4);
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
}

static uint64_t get_cr(struct emu_cpu *cpu, unsigned cr)
{
	switch (cr) {
	case 0: return cpu->cr0;
	case 2: return cpu->cr2;
	case 3: return cpu->cr3;
	case 4: return cpu->cr4;
	default: return (cpu->lapic.tpr >> 4) & 0xf;
	}
}

static int need_cpl0(struct emu_cpu *cpu)
{
	if (emu_prot_mode(cpu) && cpu->cpl != 0)
		return emu_gp(cpu, 0);
	return EMU_OK;
}

int emu_x_system(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v;
	switch (in->mnem) {
	case M_PAUSE:
		/* a spin-wait: the lock holder is probably another vCPU, which only
		 * runs when this one's slice ends (emu_engine.c) */
		cpu->yield = true;
		return EMU_OK;
	case M_NOP:
	case M_FENCE:
		return EMU_OK;
	case M_CLFLUSH:
		return emu_read(cpu, in->seg, emu_ea(cpu, in), 1, &v);
	case M_HLT:
		EMU_TRY(need_cpl0(cpu));
		cpu->state = EMU_HALTED;
		return EMU_OK;
	case M_CLI:
	case M_STI: {
		uint64_t f = emu_flags_get(cpu);
		if (emu_prot_mode(cpu) && cpu->cpl > ((f >> 12) & 3))
			return emu_gp(cpu, 0);
		if (in->mnem == M_CLI) {
			cpu->rflags = f & ~(uint64_t)FL_IF;
		} else {
			if (!(f & FL_IF))
				cpu->irq_shadow = 1; /* one more instruction before interrupts */
			cpu->rflags = f | FL_IF;
		}
		return EMU_OK;
	}
	case M_CLTS:
		EMU_TRY(need_cpl0(cpu));
		cpu->cr0 &= ~(uint64_t)X86_CR0_TS;
		return EMU_OK;
	case M_INVD:
	case M_WBINVD:
		return need_cpl0(cpu);
	case M_INVLPG: {
		EMU_TRY(need_cpl0(cpu));
		uint64_t off = emu_ea(cpu, in);
		uint64_t base = emu_code64(cpu) && in->seg != SEG_FS && in->seg != SEG_GS ? 0 : cpu->seg[in->seg].base;
		uint64_t lin = base + off;
		if (!emu_long_mode(cpu))
			lin &= 0xffffffffULL;
		emu_tlb_flush_page(cpu, lin);
		return EMU_OK;
	}
	case M_MOVCR: {
		EMU_TRY(need_cpl0(cpu));
		bool to_cr = in->op[0].kind == OK_C;
		unsigned cr = in->reg;
		if (cr == 1 || (cr >= 5 && cr != 8) || (cr == 8 && !emu_code64(cpu)))
			return emu_ud(cpu); /* CR8 exists only in 64-bit mode */
		if (to_cr)
			return emu_set_cr(cpu, cr, emu_reg_get(cpu, in, in->rm, in->opw[1]));
		emu_reg_set(cpu, in, in->rm, in->opw[0], get_cr(cpu, cr));
		return EMU_OK;
	}
	case M_MOVDR:
		return emu_mov_dr(cpu, in); /* debug.c */
	case M_LMSW: {
		EMU_TRY(need_cpl0(cpu));
		EMU_TRY(emu_op_read(cpu, in, 0, &v));
		/* LMSW sets PE but never clears it (SDM vol. 2 LMSW) */
		uint64_t nv = (cpu->cr0 & ~0xeULL) | (v & 0xf) | (cpu->cr0 & 1);
		return emu_set_cr(cpu, 0, nv);
	}
	case M_SMSW:
		/* UMIP: #GP(0) at CPL > 0 (SDM vol. 3 §2.5, CR4.UMIP) */
		if ((cpu->cr4 & X86_CR4_UMIP) && emu_prot_mode(cpu) && cpu->cpl > 0)
			return emu_gp(cpu, 0);
		if (in->has_mem)
			return emu_write(cpu, in->seg, emu_ea(cpu, in), 2, cpu->cr0 & 0xffff);
		emu_reg_set(cpu, in, in->rm, in->opsize, cpu->cr0 & emu_mask(in->opsize));
		return EMU_OK;
	case M_RDTSC:
	case M_RDTSCP:
		if ((cpu->cr4 & (1u << 2)) && emu_prot_mode(cpu) && cpu->cpl != 0) /* CR4.TSD */
			return emu_gp(cpu, 0);
		v = emu_tsc(cpu); /* msr.c */
		emu_reg_set(cpu, in, RAX, 4, v & 0xffffffffULL);
		emu_reg_set(cpu, in, RDX, 4, v >> 32);
		if (in->mnem == M_RDTSCP)
			emu_reg_set(cpu, in, RCX, 4, cpu->msr.tsc_aux & 0xffffffffULL);
		return EMU_OK;
	case M_SWAPGS:
		EMU_TRY(need_cpl0(cpu));
		v = cpu->seg[SEG_GS].base;
		cpu->seg[SEG_GS].base = cpu->msr.kernel_gs_base;
		cpu->msr.kernel_gs_base = v;
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
}
