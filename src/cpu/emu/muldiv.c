/* MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV
 * (SDM vol. 2). 64-bit forms use 128-bit host arithmetic. Flags: CF/OF as
 * documented; SF/ZF/PF (undefined) from the low half, AF cleared. */
#include "emu.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static int64_t sext(uint64_t v, unsigned w)
{
	unsigned sh = 64 - 8 * w;
	return w >= 8 ? (int64_t)v : (int64_t)(v << sh) >> sh;
}

static void mul_flags(struct emu_cpu *cpu, uint64_t low, unsigned w, bool overflow)
{
	uint64_t f = 0, m = emu_mask(w);
	low &= m;
	if (overflow)
		f |= FL_CF | FL_OF;
	if (low == 0)
		f |= FL_ZF;
	if (low >> (8 * w - 1))
		f |= FL_SF;
	if (emu_parity(low))
		f |= FL_PF;
	emu_flags_materialize(cpu);
	emu_flags_set_arith(cpu, f);
}

/* Stores a double-width result in AX, DX:AX, EDX:EAX or RDX:RAX. */
static void store_pair(struct emu_cpu *cpu, const struct emu_insn *in, unsigned w, uint64_t lo, uint64_t hi)
{
	if (w == 1) {
		emu_reg_set(cpu, in, RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
	} else {
		emu_reg_set(cpu, in, RAX, w, lo);
		emu_reg_set(cpu, in, RDX, w, hi);
	}
}

static u128 load_pair(const struct emu_cpu *cpu, const struct emu_insn *in, unsigned w)
{
	if (w == 1)
		return emu_reg_get(cpu, in, RAX, 2);
	return ((u128)emu_reg_get(cpu, in, RDX, w) << (8 * w)) | emu_reg_get(cpu, in, RAX, w);
}

static int divide(struct emu_cpu *cpu, const struct emu_insn *in, unsigned w, uint64_t d, bool is_signed)
{
	uint64_t m = emu_mask(w);
	u128 n = load_pair(cpu, in, w);
	if (d == 0)
		return emu_raise(cpu, EXC_DE, false, 0);
	if (!is_signed) {
		u128 q = n / d, r = n % d;
		if (q > m)
			return emu_raise(cpu, EXC_DE, false, 0);
		store_pair(cpu, in, w, (uint64_t)q, (uint64_t)r);
		return EMU_OK;
	}
	/* sign-extend the 2w-byte dividend */
	unsigned bits = 16 * w;
	s128 sn = bits >= 128 ? (s128)n : (s128)(n << (128 - bits)) >> (128 - bits);
	s128 sd = sext(d, w);
	if (sd == -1 && sn == -((s128)1 << (bits - 1)) && bits == 128)
		return emu_raise(cpu, EXC_DE, false, 0); /* would overflow the host too */
	s128 q = sn / sd, r = sn % sd;
	s128 lim = (s128)1 << (8 * w - 1);
	if (q >= lim || q < -lim)
		return emu_raise(cpu, EXC_DE, false, 0);
	store_pair(cpu, in, w, (uint64_t)q, (uint64_t)r);
	return EMU_OK;
}

int emu_x_muldiv(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t src;
	if (in->mnem == M_IMUL) {
		/* IMUL Gv, Ev[, imm] */
		unsigned w = in->opw[0];
		uint64_t a, b;
		EMU_TRY(emu_op_read(cpu, in, 1, &a));
		if (in->op[2].kind != OK_NONE)
			EMU_TRY(emu_op_read(cpu, in, 2, &b));
		else
			EMU_TRY(emu_op_read(cpu, in, 0, &b));
		s128 full = (s128)sext(a, w) * (s128)sext(b, w);
		uint64_t low = (uint64_t)full & emu_mask(w);
		mul_flags(cpu, low, w, full != (s128)sext(low, w));
		return emu_op_write(cpu, in, 0, low);
	}
	unsigned w = in->opw[1];
	EMU_TRY(emu_op_read(cpu, in, 1, &src));
	uint64_t acc = emu_reg_get(cpu, in, RAX, w);
	switch (in->mnem) {
	case M_MUL: {
		u128 p = (u128)acc * src;
		uint64_t lo = (uint64_t)p & emu_mask(w), hi = (uint64_t)(p >> (8 * w)) & emu_mask(w);
		store_pair(cpu, in, w, lo, hi);
		mul_flags(cpu, lo, w, hi != 0);
		return EMU_OK;
	}
	case M_IMUL1: {
		s128 p = (s128)sext(acc, w) * (s128)sext(src, w);
		uint64_t lo = (uint64_t)p & emu_mask(w), hi = (uint64_t)((u128)p >> (8 * w)) & emu_mask(w);
		store_pair(cpu, in, w, lo, hi);
		mul_flags(cpu, lo, w, p != (s128)sext(lo, w));
		return EMU_OK;
	}
	case M_DIV:
		return divide(cpu, in, w, src, false);
	default:
		return divide(cpu, in, w, src, true);
	}
}
