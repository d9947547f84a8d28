/* Bit instructions: BT/BTS/BTR/BTC (register and immediate offsets, SDM
 * vol. 1 §3.5.6 bit-string addressing), BSF/BSR/POPCNT, SETcc, CMOVcc. */
#include "emu.h"

static int bit_test(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned w = in->opw[0], bits = 8 * w;
	uint64_t off, v;
	EMU_TRY(emu_op_read(cpu, in, 1, &off));
	unsigned bit;
	uint64_t ea = 0;
	if (in->op[1].kind == OK_I || !in->has_mem) {
		bit = (unsigned)(off & (bits - 1));
		if (in->has_mem)
			ea = emu_ea(cpu, in);
	} else {
		/* a register offset is signed and may reach outside the operand */
		unsigned sh = 64 - bits;
		int64_t so = bits == 64 ? (int64_t)off : (int64_t)(off << sh) >> sh;
		int64_t words = so >> (bits == 8 ? 3 : bits == 16 ? 4 : bits == 32 ? 5 : 6);
		ea = (emu_ea(cpu, in) + (uint64_t)(words * (int64_t)w)) & emu_addr_mask(in->addrsize);
		bit = (unsigned)(so & (bits - 1));
	}
	if (in->has_mem)
		EMU_TRY(emu_read(cpu, in->seg, ea, w, &v));
	else
		v = emu_reg_get(cpu, in, in->rm, w);
	uint64_t f = emu_flags_get(cpu) & ~(uint64_t)FL_CF;
	if ((v >> bit) & 1)
		f |= FL_CF;
	uint64_t b = 1ULL << bit, nv = v;
	switch (in->mnem) {
	case M_BTS: nv = v | b; break;
	case M_BTR: nv = v & ~b; break;
	case M_BTC: nv = v ^ b; break;
	default: break;
	}
	if (in->mnem != M_BT) {
		if (in->has_mem)
			EMU_TRY(emu_write(cpu, in->seg, ea, w, nv));
		else
			emu_reg_set(cpu, in, in->rm, w, nv);
	}
	cpu->rflags = f;
	return EMU_OK;
}

int emu_x_bits(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v;
	unsigned w = in->opw[0];
	switch (in->mnem) {
	case M_BT:
	case M_BTS:
	case M_BTR:
	case M_BTC:
		return bit_test(cpu, in);
	case M_BSF:
	case M_BSR:
	case M_POPCNT: {
		EMU_TRY(emu_op_read(cpu, in, 1, &v));
		uint64_t f = emu_flags_get(cpu);
		if (in->mnem == M_POPCNT) {
			f &= ~(uint64_t)FL_ARITH;
			if (!v)
				f |= FL_ZF;
			cpu->rflags = f;
			return emu_op_write(cpu, in, 0, (uint64_t)__builtin_popcountll(v));
		}
		if (!v) {
			cpu->rflags = f | FL_ZF; /* destination unchanged */
			return EMU_OK;
		}
		cpu->rflags = f & ~(uint64_t)FL_ZF;
		return emu_op_write(cpu, in, 0, in->mnem == M_BSF ? (uint64_t)__builtin_ctzll(v)
							      : (uint64_t)(63 - __builtin_clzll(v)));
	}
	case M_SETCC:
		return emu_op_write(cpu, in, 0, emu_cond(cpu, in->cond));
	case M_CMOV:
		EMU_TRY(emu_op_read(cpu, in, 1, &v));
		if (emu_cond(cpu, in->cond))
			return emu_op_write(cpu, in, 0, v);
		if (w == 4) /* a 32-bit destination is zero-extended either way */
			emu_reg_set(cpu, in, in->reg, 4, emu_reg_get(cpu, in, in->reg, 4));
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
}
