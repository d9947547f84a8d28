/* The stack: PUSH/POP of registers, memory, immediates, segment registers
 * and flags, PUSHA/POPA, ENTER/LEAVE. The stack-pointer width is SS.B
 * (16/32) outside 64-bit mode (SDM vol. 1 §6.2.3). Instructions restore RSP
 * when a later part faults, so a fault leaves no half-done state. */
#include "emu.h"

unsigned emu_stack_width(const struct emu_cpu *cpu)
{
	return emu_code64(cpu) ? 8 : cpu->seg[SEG_SS].db ? 4 : 2;
}

static void set_sp(struct emu_cpu *cpu, uint64_t v)
{
	emu_reg_set(cpu, NULL, RSP, emu_stack_width(cpu), v);
}

int emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v)
{
	uint64_t sp = (cpu->gpr[RSP] - size) & emu_mask(emu_stack_width(cpu));
	EMU_TRY(emu_write(cpu, SEG_SS, sp, size, v));
	set_sp(cpu, sp);
	return EMU_OK;
}

int emu_pop(struct emu_cpu *cpu, unsigned size, uint64_t *v)
{
	uint64_t sp = cpu->gpr[RSP] & emu_mask(emu_stack_width(cpu));
	EMU_TRY(emu_read(cpu, SEG_SS, sp, size, v));
	set_sp(cpu, sp + size);
	return EMU_OK;
}

/* POPF's writable bits by privilege (SDM vol. 2 POPF operation table). */
static int popf(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize;
	uint64_t v, old = emu_flags_get(cpu);
	unsigned iopl = (old >> 12) & 3;
	if (emu_vm86(cpu) && iopl < 3)
		return emu_gp(cpu, 0);
	EMU_TRY(emu_pop(cpu, s, &v));
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
	if (!emu_prot_mode(cpu) || cpu->cpl == 0)
		mask |= FL_IF | FL_IOPL;
	else if (cpu->cpl <= iopl)
		mask |= FL_IF;
	if (emu_vm86(cpu))
		mask = (mask | FL_IF) & ~(uint64_t)FL_IOPL;
	if (s == 2)
		mask &= 0xffff;
	emu_flags_set(cpu, (old & ~mask & ~(uint64_t)FL_RF) | (v & mask));
	return EMU_OK;
}

static int enter(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize, sw = emu_stack_width(cpu);
	uint64_t size = in->imm & 0xffff, level = in->imm2 & 31;
	uint64_t save_sp = cpu->gpr[RSP], save_bp = cpu->gpr[RBP];
	int r = emu_push(cpu, s, emu_reg_get(cpu, in, RBP, s));
	uint64_t frame = cpu->gpr[RSP] & emu_mask(sw);
	uint64_t bp = cpu->gpr[RBP];
	for (uint64_t i = 1; !r && i < level; i++) {
		uint64_t v;
		bp = (bp - s) & emu_mask(sw);
		r = emu_read(cpu, SEG_SS, bp, s, &v);
		if (!r)
			r = emu_push(cpu, s, v);
	}
	if (!r && level > 0)
		r = emu_push(cpu, s, frame);
	if (!r) {
		uint64_t sp = (cpu->gpr[RSP] - size) & emu_mask(sw);
		uint64_t probe;
		/* the new stack top must be writable: probe it */
		if (size)
			r = emu_read(cpu, SEG_SS, sp, 1, &probe);
		if (!r) {
			emu_reg_set(cpu, in, RBP, s == 2 ? 2 : sw, frame);
			set_sp(cpu, sp);
			return EMU_OK;
		}
	}
	cpu->gpr[RSP] = save_sp;
	cpu->gpr[RBP] = save_bp;
	return r;
}

int emu_x_stack(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize;
	uint64_t v, save_sp = cpu->gpr[RSP];
	int r;
	switch (in->mnem) {
	case M_PUSH:
		if (in->op[0].kind == OK_I)
			v = in->imm & emu_mask(s);
		else
			EMU_TRY(emu_op_read(cpu, in, 0, &v));
		return emu_push(cpu, s, v);
	case M_POP:
		EMU_TRY(emu_pop(cpu, s, &v));
		/* a memory destination addressed via rSP uses the popped rSP */
		r = emu_op_write(cpu, in, 0, v);
		if (r)
			cpu->gpr[RSP] = save_sp;
		return r;
	case M_PUSHSEG:
		return emu_push(cpu, s, cpu->seg[in->op[0].reg].selector);
	case M_POPSEG:
		EMU_TRY(emu_pop(cpu, s, &v));
		r = emu_load_seg(cpu, in->op[0].reg, (uint16_t)v);
		if (r)
			cpu->gpr[RSP] = save_sp;
		return r;
	case M_PUSHA: {
		uint64_t sp = emu_reg_get(cpu, in, RSP, s);
		for (unsigned i = 0; i < 8; i++) {
			r = emu_push(cpu, s, i == RSP ? sp : emu_reg_get(cpu, in, i, s));
			if (r) {
				cpu->gpr[RSP] = save_sp;
				return r;
			}
		}
		return EMU_OK;
	}
	case M_POPA: {
		uint64_t vals[8];
		for (int i = 7; i >= 0; i--) {
			r = emu_pop(cpu, s, &vals[i]);
			if (r) {
				cpu->gpr[RSP] = save_sp;
				return r;
			}
		}
		for (unsigned i = 0; i < 8; i++)
			if (i != RSP)
				emu_reg_set(cpu, in, i, s, vals[i]);
		return EMU_OK;
	}
	case M_PUSHF:
		if (emu_vm86(cpu) && ((emu_flags_get(cpu) >> 12) & 3) < 3)
			return emu_gp(cpu, 0);
		return emu_push(cpu, s, emu_flags_get(cpu) & ~(uint64_t)(FL_VM | FL_RF));
	case M_POPF:
		return popf(cpu, in);
	case M_ENTER:
		return enter(cpu, in);
	case M_LEAVE:
		set_sp(cpu, cpu->gpr[RBP]);
		r = emu_pop(cpu, s, &v);
		if (r) {
			cpu->gpr[RSP] = save_sp;
			return r;
		}
		emu_reg_set(cpu, in, RBP, s, v);
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
}
