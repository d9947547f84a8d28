/* Data movement: MOV and its extending forms, LEA, XCHG, CMPXCHG(8B/16B),
 * XADD, BSWAP, CBW/CWD families, XLAT, BOUND. */
#include "emu.h"

static int64_t sext(uint64_t v, unsigned w)
{
	unsigned sh = 64 - 8 * w;
	return w >= 8 ? (int64_t)v : (int64_t)(v << sh) >> sh;
}

int emu_x_mov(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v;
	switch (in->mnem) {
	case M_LEA:
		if (!in->has_mem)
			return emu_ud(cpu);
		return emu_op_write(cpu, in, 0, emu_ea(cpu, in));
	case M_MOVSX:
	case M_MOVSXD:
		EMU_TRY(emu_op_read(cpu, in, 1, &v));
		return emu_op_write(cpu, in, 0, (uint64_t)sext(v, in->opw[1]) & emu_mask(in->opw[0]));
	default: /* MOV, MOVZX */
		EMU_TRY(emu_op_read(cpu, in, 1, &v));
		return emu_op_write(cpu, in, 0, v);
	}
}

static int cmpxchg_wide(struct emu_cpu *cpu, const struct emu_insn *in)
{
	bool wide = in->opsize == 8; /* CMPXCHG16B with REX.W */
	unsigned half = wide ? 8 : 4, size = 2 * half;
	uint64_t off = emu_ea(cpu, in), lin, m[2] = { 0, 0 };
	if (wide && (off & 15))
		return emu_gp(cpu, 0);
	EMU_TRY(emu_seg_linear(cpu, in->seg, off, size, ACC_WRITE, &lin));
	EMU_TRY(emu_lin_read(cpu, lin, size, m, ACC_WRITE));
	if (!wide) {
		m[1] = m[0] >> 32;
		m[0] &= 0xffffffffULL;
	}
	uint64_t hm = emu_mask(half);
	uint64_t f = emu_flags_get(cpu) & ~(uint64_t)FL_ZF;
	if (m[0] == (cpu->gpr[RAX] & hm) && m[1] == (cpu->gpr[RDX] & hm)) {
		uint64_t n[2] = { cpu->gpr[RBX] & hm, cpu->gpr[RCX] & hm };
		if (!wide)
			n[0] |= n[1] << 32;
		EMU_TRY(emu_lin_write(cpu, lin, size, n, ACC_WRITE));
		f |= FL_ZF;
	} else {
		uint64_t o[2] = { m[0], m[1] };
		if (!wide)
			o[0] |= o[1] << 32;
		EMU_TRY(emu_lin_write(cpu, lin, size, o, ACC_WRITE)); /* the CPU always writes */
		emu_reg_set(cpu, in, RAX, half, m[0]);
		emu_reg_set(cpu, in, RDX, half, m[1]);
	}
	cpu->rflags = f;
	return EMU_OK;
}

int emu_x_data(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned w = in->opw[0];
	uint64_t a, b;
	switch (in->mnem) {
	case M_XCHG:
		EMU_TRY(emu_op_read(cpu, in, 0, &a));
		EMU_TRY(emu_op_read(cpu, in, 1, &b));
		EMU_TRY(emu_op_write(cpu, in, 0, b)); /* memory (if any) first: it may fault */
		return emu_op_write(cpu, in, 1, a);
	case M_XADD:
		EMU_TRY(emu_op_read(cpu, in, 0, &a));
		EMU_TRY(emu_op_read(cpu, in, 1, &b));
		emu_lf_set(cpu, LF_ADD, w, (a + b) & emu_mask(w), a, b, 0);
		if (in->has_mem) { /* the memory write may fault: do it first */
			EMU_TRY(emu_op_write(cpu, in, 0, (a + b) & emu_mask(w)));
			return emu_op_write(cpu, in, 1, a);
		}
		/* registers: the destination is written last (xadd %r, %r = add) */
		EMU_TRY(emu_op_write(cpu, in, 1, a));
		return emu_op_write(cpu, in, 0, (a + b) & emu_mask(w));
	case M_CMPXCHG: {
		EMU_TRY(emu_op_read(cpu, in, 0, &a));
		uint64_t acc = emu_reg_get(cpu, in, RAX, w);
		emu_lf_set(cpu, LF_SUB, w, (acc - a) & emu_mask(w), acc, a, 0);
		if (acc == a) {
			EMU_TRY(emu_op_read(cpu, in, 1, &b));
			return emu_op_write(cpu, in, 0, b);
		}
		if (in->has_mem)
			EMU_TRY(emu_op_write(cpu, in, 0, a));
		emu_reg_set(cpu, in, RAX, w, a);
		return EMU_OK;
	}
	case M_CMPXCHG8B:
		return cmpxchg_wide(cpu, in);
	case M_BSWAP: {
		unsigned r = emu_op_reg(in, 0);
		if (w == 8)
			cpu->gpr[r] = __builtin_bswap64(cpu->gpr[r]);
		else
			emu_reg_set(cpu, in, r, 4, __builtin_bswap32((uint32_t)cpu->gpr[r]));
		return EMU_OK;
	}
	case M_CBW: {
		unsigned h = in->opsize / 2;
		emu_reg_set(cpu, in, RAX, in->opsize, (uint64_t)sext(cpu->gpr[RAX], h));
		return EMU_OK;
	}
	case M_CWD: {
		unsigned s = in->opsize;
		bool neg = (cpu->gpr[RAX] >> (8 * s - 1)) & 1;
		emu_reg_set(cpu, in, RDX, s, neg ? ~0ULL : 0);
		return EMU_OK;
	}
	case M_XLAT: {
		uint64_t off = (cpu->gpr[RBX] + (cpu->gpr[RAX] & 0xff)) & emu_addr_mask(in->addrsize);
		EMU_TRY(emu_read(cpu, in->seg, off, 1, &a));
		emu_reg_set(cpu, in, RAX, 1, a);
		return EMU_OK;
	}
	case M_BOUND: {
		unsigned s = in->opsize;
		uint64_t off = emu_ea(cpu, in);
		EMU_TRY(emu_read(cpu, in->seg, off, s, &a));
		EMU_TRY(emu_read(cpu, in->seg, (off + s) & emu_addr_mask(in->addrsize), s, &b));
		int64_t idx = sext(emu_reg_get(cpu, in, in->reg, s), s);
		if (idx < sext(a, s) || idx > sext(b, s))
			return emu_raise(cpu, EXC_BR, false, 0);
		return EMU_OK;
	}
	default:
		return emu_ud(cpu);
	}
}
