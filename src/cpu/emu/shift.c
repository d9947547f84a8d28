/* Shifts and rotates (SDM vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR,
 * SHLD/SHRD). A masked count of zero changes nothing, flags included.
 * Flags are set eagerly; undefined ones (AF, OF for counts > 1) are given
 * fixed, documented values: AF = 0, OF computed as for a count of one. */
#include "emu.h"

static uint64_t szp(uint64_t r, unsigned w)
{
	uint64_t f = 0;
	if ((r & emu_mask(w)) == 0)
		f |= FL_ZF;
	if ((r >> (8 * w - 1)) & 1)
		f |= FL_SF;
	if (emu_parity(r))
		f |= FL_PF;
	return f;
}

static bool msb(uint64_t v, unsigned w)
{
	return (v >> (8 * w - 1)) & 1;
}

int emu_x_shift(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned w = in->opw[0], bits = 8 * w;
	uint64_t m = emu_mask(w), a, cnt_v, src = 0;
	EMU_TRY(emu_op_read(cpu, in, 0, &a));
	bool dbl = in->mnem == M_SHLD || in->mnem == M_SHRD;
	if (dbl) {
		EMU_TRY(emu_op_read(cpu, in, 1, &src));
		cnt_v = in->op[2].kind == OK_I ? (in->imm & 0xff) : (cpu->gpr[RCX] & 0xff);
	} else {
		EMU_TRY(emu_op_read(cpu, in, 1, &cnt_v));
	}
	unsigned c = (unsigned)cnt_v & (w == 8 ? 63 : 31);
	if (c == 0) /* no change, but a 32-bit register is still written (zero-extended) */
		return (w == 4 && !in->has_mem) ? emu_op_write(cpu, in, 0, a) : EMU_OK;
	uint64_t f = emu_flags_get(cpu);
	bool cf = f & FL_CF, of;
	uint64_t r;
	uint64_t arith = FL_CF | FL_OF; /* which flags this op defines */
	switch (in->mnem) {
	case M_ROL: {
		unsigned k = c % bits;
		r = k ? ((a << k) | (a >> (bits - k))) & m : a;
		cf = r & 1;
		of = msb(r, w) ^ cf;
		break;
	}
	case M_ROR: {
		unsigned k = c % bits;
		r = k ? ((a >> k) | (a << (bits - k))) & m : a;
		cf = msb(r, w);
		of = msb(r, w) ^ ((r >> (bits - 2)) & 1);
		break;
	}
	case M_RCL:
	case M_RCR: {
		unsigned k = c % (bits + 1);
		r = a;
		for (unsigned i = 0; i < k; i++) {
			if (in->mnem == M_RCL) {
				bool out = msb(r, w);
				r = ((r << 1) | cf) & m;
				cf = out;
			} else {
				bool out = r & 1;
				r = (r >> 1) | ((uint64_t)cf << (bits - 1));
				cf = out;
			}
		}
		of = in->mnem == M_RCL ? (msb(r, w) ^ cf) : (msb(r, w) ^ ((r >> (bits - 2)) & 1));
		break;
	}
	case M_SHL:
		r = c < 64 ? (a << c) & m : 0;
		cf = c <= bits ? (a >> (bits - c)) & 1 : 0;
		of = msb(r, w) ^ cf;
		arith = FL_ARITH;
		break;
	case M_SHR:
		r = c < 64 ? a >> c : 0;
		cf = c <= bits ? (a >> (c - 1)) & 1 : 0;
		of = msb(a, w);
		arith = FL_ARITH;
		break;
	case M_SAR: {
		unsigned sh = 64 - bits;
		int64_t sa = (int64_t)(a << sh) >> sh;
		unsigned k = c > 63 ? 63 : c;
		r = (uint64_t)(sa >> k) & m;
		cf = (sa >> (c - 1 > 63 ? 63 : c - 1)) & 1;
		of = false;
		arith = FL_ARITH;
		break;
	}
	case M_SHLD: {
		/* Counts above 16 for 16-bit operands are undefined; this gives the
		 * a:src concatenation shifted on. */
		unsigned __int128 cat = ((unsigned __int128)a << bits) | src;
		r = (uint64_t)((cat << c) >> bits) & m;
		cf = (uint64_t)((cat << (c - 1)) >> (2 * bits - 1)) & 1;
		of = msb(r, w) ^ msb(a, w);
		arith = FL_ARITH;
		break;
	}
	default: { /* SHRD */
		unsigned k = c;
		unsigned __int128 cat = ((unsigned __int128)src << bits) | a;
		r = (uint64_t)(cat >> k) & m;
		cf = (uint64_t)(cat >> (k - 1)) & 1;
		of = msb(r, w) ^ msb(a, w);
		arith = FL_ARITH;
		break;
	}
	}
	f &= ~arith;
	if (arith == FL_ARITH)
		f |= szp(r, w);
	if (cf)
		f |= FL_CF;
	if (of)
		f |= FL_OF;
	cpu->rflags = f;
	return emu_op_write(cpu, in, 0, r);
}
