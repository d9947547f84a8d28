/* Operands of a decoded instruction: general registers (with the legacy
 * AH/CH/DH/BH encoding, SDM vol. 1 §3.7.2.1), effective addresses (SDM vol.
 * 2 §2.1.5, §2.2.1.6 RIP-relative) and reading/writing operand n. */
#include "emu.h"

uint64_t emu_addr_mask(unsigned addrsize)
{
	return emu_mask(addrsize);
}

static bool high_byte(const struct emu_insn *in, unsigned r, unsigned w)
{
	return w == 1 && (!in || !in->rex) && r >= 4 && r < 8;
}

uint64_t emu_reg_get(const struct emu_cpu *cpu, const struct emu_insn *in, unsigned r, unsigned w)
{
	r &= 15;
	if (high_byte(in, r, w))
		return (cpu->gpr[r - 4] >> 8) & 0xff;
	return cpu->gpr[r] & emu_mask(w);
}

void emu_reg_set(struct emu_cpu *cpu, const struct emu_insn *in, unsigned r, unsigned w, uint64_t v)
{
	r &= 15;
	if (high_byte(in, r, w)) {
		cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
		return;
	}
	switch (w) {
	case 1: cpu->gpr[r] = (cpu->gpr[r] & ~0xffULL) | (v & 0xff); break;
	case 2: cpu->gpr[r] = (cpu->gpr[r] & ~0xffffULL) | (v & 0xffff); break;
	case 4: cpu->gpr[r] = v & 0xffffffffULL; break; /* 32-bit writes zero-extend */
	default: cpu->gpr[r] = v; break;
	}
}

unsigned emu_op_reg(const struct emu_insn *in, unsigned n)
{
	const struct emu_opspec *o = &in->op[n];
	switch (o->kind) {
	case OK_G: return in->reg;
	case OK_Z: return (in->opcode & 7) | (in->rex & 1 ? 8 : 0);
	case OK_REG: return o->reg;
	default: return in->rm;
	}
}

int emu_op_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, uint64_t *v)
{
	const struct emu_opspec *o = &in->op[n];
	unsigned w = in->opw[n];
	switch (o->kind) {
	case OK_E:
	case OK_M:
		if (!in->has_mem) {
			*v = emu_reg_get(cpu, in, in->rm, w);
			return EMU_OK;
		}
		return emu_read(cpu, in->seg, emu_ea(cpu, in), w, v);
	case OK_O:
		return emu_read(cpu, in->seg, in->imm & emu_addr_mask(in->addrsize), w, v);
	case OK_G:
	case OK_R:
	case OK_Z:
	case OK_REG:
		*v = emu_reg_get(cpu, in, emu_op_reg(in, n), w);
		return EMU_OK;
	case OK_I:
		/* Immediates sign-extend to the destination's width (83 /0 ib). */
		*v = in->imm & emu_mask(n > 0 && in->opw[0] ? in->opw[0] : w);
		return EMU_OK;
	case OK_J:
		*v = in->imm;
		return EMU_OK;
	case OK_ONE:
		*v = 1;
		return EMU_OK;
	case OK_SREG:
		*v = cpu->seg[o->reg].selector;
		return EMU_OK;
	default:
		*v = 0;
		return emu_ud(cpu);
	}
}

int emu_op_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, uint64_t v)
{
	const struct emu_opspec *o = &in->op[n];
	unsigned w = in->opw[n];
	switch (o->kind) {
	case OK_E:
	case OK_M:
		if (!in->has_mem) {
			emu_reg_set(cpu, in, in->rm, w, v);
			return EMU_OK;
		}
		return emu_write(cpu, in->seg, emu_ea(cpu, in), w, v);
	case OK_O:
		return emu_write(cpu, in->seg, in->imm & emu_addr_mask(in->addrsize), w, v);
	case OK_G:
	case OK_R:
	case OK_Z:
	case OK_REG:
		emu_reg_set(cpu, in, emu_op_reg(in, n), w, v);
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
}
