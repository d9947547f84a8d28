/* Near control transfers: Jcc, JMP, CALL, RET, LOOPcc, JrCXZ (SDM vol. 2).
 * A target outside CS's limit (or non-canonical in 64-bit mode) is #GP(0)
 * before anything is pushed. */
#include "emu.h"

/* Checks a near branch target and makes it the next RIP. */
static int branch(struct emu_cpu *cpu, uint64_t target, unsigned opsize)
{
	target &= emu_mask(opsize);
	if (emu_code64(cpu)) {
		if (!emu_canonical(target))
			return emu_gp(cpu, 0);
	} else if (target > cpu->seg[SEG_CS].limit) {
		return emu_gp(cpu, 0);
	}
	cpu->next_rip = target;
	return EMU_OK;
}

int emu_x_control(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize;
	uint64_t t, v;
	switch (in->mnem) {
	case M_JCC:
		if (!emu_cond(cpu, in->cond))
			return EMU_OK;
		return branch(cpu, cpu->next_rip + in->imm, s);
	case M_JMP:
		if (in->op[0].kind == OK_J)
			return branch(cpu, cpu->next_rip + in->imm, s);
		EMU_TRY(emu_op_read(cpu, in, 0, &t));
		return branch(cpu, t, s);
	case M_CALL: {
		if (in->op[0].kind == OK_J)
			t = cpu->next_rip + in->imm;
		else
			EMU_TRY(emu_op_read(cpu, in, 0, &t));
		uint64_t ret = cpu->next_rip;
		EMU_TRY(branch(cpu, t, s));
		int r = emu_push(cpu, s, ret);
		if (r)
			cpu->next_rip = ret;
		return r;
	}
	case M_RET: {
		uint64_t save_sp = cpu->gpr[RSP];
		EMU_TRY(emu_pop(cpu, s, &v));
		int r = branch(cpu, v, s);
		if (r) {
			cpu->gpr[RSP] = save_sp;
			return r;
		}
		if (in->op[0].kind == OK_I) {
			unsigned sw = emu_stack_width(cpu);
			emu_reg_set(cpu, NULL, RSP, sw, cpu->gpr[RSP] + (in->imm & 0xffff));
		}
		return EMU_OK;
	}
	case M_LOOP:
	case M_LOOPE:
	case M_LOOPNE: {
		unsigned a = in->addrsize;
		uint64_t c = (emu_reg_get(cpu, in, RCX, a) - 1) & emu_mask(a);
		emu_reg_set(cpu, in, RCX, a, c);
		bool take = c != 0;
		if (in->mnem == M_LOOPE)
			take = take && emu_cond(cpu, 4);
		else if (in->mnem == M_LOOPNE)
			take = take && emu_cond(cpu, 5);
		return take ? branch(cpu, cpu->next_rip + in->imm, s) : EMU_OK;
	}
	case M_JRCXZ:
		if (emu_reg_get(cpu, in, RCX, in->addrsize) != 0)
			return EMU_OK;
		return branch(cpu, cpu->next_rip + in->imm, s);
	default:
		return emu_ud(cpu);
	}
}
