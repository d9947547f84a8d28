/* vCPU state: loading the engine-neutral boot state, exporting it for
 * dumps, INIT, the derived code size, and raising exceptions as values. */
#include <string.h>

#include "emu.h"

void emu_cpu_update_mode(struct emu_cpu *cpu)
{
	const struct x86_segment *cs = &cpu->seg[SEG_CS];
	if (emu_long_mode(cpu) && cs->l)
		cpu->code_size = 8;
	else if (emu_prot_mode(cpu) && !emu_vm86(cpu))
		cpu->code_size = cs->db ? 4 : 2;
	else
		cpu->code_size = cs->db ? 4 : 2; /* real mode keeps the cached D bit */
}

void emu_cpu_load(struct emu_cpu *cpu, const struct x86_state *st)
{
	memcpy(cpu->gpr, st->gpr, sizeof(cpu->gpr));
	cpu->rip = cpu->next_rip = st->rip;
	cpu->lf.op = LF_NONE;
	cpu->rflags = (st->rflags & 0x3f7fd7) | X86_RFLAGS_FIXED;
	memcpy(cpu->seg, st->seg, sizeof(cpu->seg));
	cpu->gdt = st->gdt;
	cpu->idt = st->idt;
	cpu->cr0 = st->cr0 | X86_CR0_ET;
	cpu->cr2 = st->cr2;
	cpu->cr3 = st->cr3;
	cpu->cr4 = st->cr4;
	cpu->cr8 = st->cr8;
	cpu->efer = st->efer;
	cpu->apic_base = st->apic_base;
	emu_msr_reset(cpu);
	cpu->dr[6] = EMU_DR6_FIXED; /* the power-on values (SDM vol. 3 table 9-1) */
	cpu->dr[7] = EMU_DR7_FIXED;
	cpu->dbg = 0;
	uint32_t id[4];
	emu_cpuid(cpu, 0, 0, id);
	cpu->vendor_amd = id[1] == 0x68747541; /* "Auth" */
	emu_fpu_reset(&cpu->fpu);
	if (!emu_prot_mode(cpu))
		cpu->cpl = 0;
	else if (cpu->rflags & FL_VM)
		cpu->cpl = 3;
	else
		cpu->cpl = cpu->seg[SEG_CS].selector & 3;
	cpu->state = EMU_RUNNING;
	emu_cpu_update_mode(cpu);
	emu_tlb_flush(cpu);
}

void emu_cpu_save(struct emu_cpu *cpu, struct x86_state *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->gpr, cpu->gpr, sizeof(st->gpr));
	st->rip = cpu->rip;
	st->rflags = emu_flags_get(cpu);
	memcpy(st->seg, cpu->seg, sizeof(st->seg));
	st->gdt = cpu->gdt;
	st->idt = cpu->idt;
	st->cr0 = cpu->cr0;
	st->cr2 = cpu->cr2;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	st->cr8 = cpu->cr8;
	st->efer = cpu->efer;
	st->apic_base = cpu->apic_base;
}

/* The state after INIT (SDM vol. 3 §9.1.1 table 9-1); the vCPU then waits
 * for a startup IPI. */
void emu_cpu_reset_wait_sipi(struct emu_cpu *cpu)
{
	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[RDX] = 0x600;
	cpu->rip = cpu->next_rip = 0xfff0;
	cpu->lf.op = LF_NONE;
	cpu->rflags = X86_RFLAGS_FIXED;
	for (int i = 0; i < SEG_COUNT; i++)
		cpu->seg[i] = (struct x86_segment){ .limit = 0xffff, .type = 3, .s = 1, .present = 1 };
	cpu->seg[SEG_CS] = (struct x86_segment){ .base = 0xffff0000, .limit = 0xffff, .selector = 0xf000,
						 .type = 0xb, .s = 1, .present = 1 };
	cpu->seg[SEG_LDTR] = (struct x86_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	cpu->seg[SEG_TR] = (struct x86_segment){ .limit = 0xffff, .type = 3, .present = 1 };
	cpu->gdt = (struct x86_dtable){ 0, 0xffff };
	cpu->idt = (struct x86_dtable){ 0, 0xffff };
	cpu->cr0 = 0x60000010;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
	cpu->efer = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	/* INIT keeps x87/SSE state (table 9-1), but vmon's APs come here from
	 * power-on, so they get the RESET values */
	emu_fpu_reset(&cpu->fpu);
	cpu->dr[6] = EMU_DR6_FIXED;
	cpu->dr[7] = EMU_DR7_FIXED;
	cpu->dbg = 0;
	cpu->db_pending = 0;
	cpu->db_hold = false;
	cpu->cpl = 0;
	cpu->irq_shadow = 0;
	cpu->nmi_pending = cpu->nmi_blocked = false;
	cpu->state = EMU_WAIT_SIPI;
	emu_cpu_update_mode(cpu);
	emu_tlb_flush(cpu);
}

int emu_raise(struct emu_cpu *cpu, unsigned vector, bool has_error, uint32_t error)
{
	cpu->exc.vector = (uint8_t)vector;
	cpu->exc.has_error = has_error;
	cpu->exc.error = error;
	return EMU_EXC;
}
