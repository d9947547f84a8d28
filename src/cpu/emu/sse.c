/* SSE/SSE2 moves, logic and packed-integer operations on the XMM registers
 * (SDM vol. 1 chapters 10-11, vol. 2 instruction pages); their MMX forms
 * reuse the integer operations through emu_sse_int_op (mmx.c). Floating-point
 * arithmetic and conversions are in sse_fp.c: the PS/PD forms here are
 * bitwise or data movement. Legacy
 * (non-VEX) 128-bit memory operands must be 16-byte aligned, #GP(0)
 * otherwise, except the explicitly unaligned moves (row tag DF_UA; SDM
 * vol. 1 §11.4.1). The host is little-endian x86, like the guest. */
#include <string.h>

#include "emu.h"

union vec {
	uint8_t b[16];
	int8_t sb[16];
	uint16_t w[8];
	int16_t sw[8];
	uint32_t d[4];
	int32_t sd[4];
	uint64_t q[2];
	int64_t sq[2];
};

static void xget(const struct emu_cpu *cpu, unsigned r, union vec *v) { memcpy(v, cpu->fpu.xmm[r & 15], 16); }
static void xset(struct emu_cpu *cpu, unsigned r, const union vec *v) { memcpy(cpu->fpu.xmm[r & 15], v, 16); }

/* Operand n as a 128-bit value, zero-extended. */
static int src(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, union vec *v)
{
	uint64_t x;
	memset(v, 0, sizeof(*v));
	switch (in->op[n].kind) {
	case OK_V:
		xget(cpu, in->reg, v);
		return EMU_OK;
	case OK_U:
	case OK_W:
	case OK_M:
		if (!in->has_mem) {
			xget(cpu, in->rm, v);
			return EMU_OK;
		}
		return emu_mem_read_buf(cpu, in, 0, v, in->opw[n],
					in->opw[n] == 16 && !(in->flags & DF_UA) ? 16 : 1);
	default:
		EMU_TRY(emu_op_read(cpu, in, n, &x));
		v->q[0] = x;
		return EMU_OK;
	}
}

/* Stores the low opw[n] bytes of v to a memory operand n. */
static int store_mem(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, const union vec *v)
{
	return emu_mem_write_buf(cpu, in, 0, v, in->opw[n], in->opw[n] == 16 && !(in->flags & DF_UA) ? 16 : 1);
}

static uint8_t satu8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static uint16_t satu16(int v) { return (uint16_t)(v < 0 ? 0 : v > 0xffff ? 0xffff : v); }
static int8_t sats8(int v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }
static int16_t sats16(int v) { return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); }

/* PACKSSWB/PACKUSWB/PACKSSDW: a's elements narrowed into the low half, b's
 * into the high half, with signed or unsigned saturation. */
static void pack(unsigned mnem, union vec *a, const union vec *b)
{
	union vec r;
	if (mnem == M_PACKSSDW) {
		for (unsigned i = 0; i < 4; i++) {
			r.sw[i] = sats16(a->sd[i]);
			r.sw[4 + i] = sats16(b->sd[i]);
		}
	} else {
		for (unsigned i = 0; i < 8; i++) {
			if (mnem == M_PACKSSWB) {
				r.sb[i] = sats8(a->sw[i]);
				r.sb[8 + i] = sats8(b->sw[i]);
			} else {
				r.b[i] = satu8(a->sw[i]);
				r.b[8 + i] = satu8(b->sw[i]);
			}
		}
	}
	*a = r;
}

/* Element-wise shifts; count is the full 64-bit count (SDM PSLLW/PSRLW/PSRAW). */
static void shift(union vec *v, unsigned esz, uint64_t count, int kind /* 0 left, 1 logical right, 2 arith */)
{
	unsigned bits = esz * 8, n = 16 / esz;
	for (unsigned i = 0; i < n; i++) {
		uint64_t x;
		switch (esz) {
		case 2: x = kind == 2 ? (uint64_t)(int64_t)v->sw[i] : v->w[i]; break;
		case 4: x = kind == 2 ? (uint64_t)(int64_t)v->sd[i] : v->d[i]; break;
		default: x = v->q[i]; break;
		}
		if (kind == 0)
			x = count >= bits ? 0 : x << count;
		else if (kind == 1)
			x = count >= bits ? 0 : x >> count;
		else
			x = (uint64_t)((int64_t)x >> (count >= bits ? bits - 1 : count));
		switch (esz) {
		case 2: v->w[i] = (uint16_t)x; break;
		case 4: v->d[i] = (uint32_t)x; break;
		default: v->q[i] = x; break;
		}
	}
}

/* PUNPCKL/H: interleave the low or high halves of a and b by element size. */
static void unpack(union vec *a, const union vec *b, unsigned esz, bool high)
{
	union vec r;
	unsigned half = 8 / esz, base = high ? 8 : 0;
	for (unsigned i = 0; i < half; i++) {
		memcpy(&r.b[2 * i * esz], &a->b[base + i * esz], esz);
		memcpy(&r.b[(2 * i + 1) * esz], &b->b[base + i * esz], esz);
	}
	*a = r;
}

/* Two-operand packed integer and logic operations: a = a op b. */
static bool binop(unsigned mnem, union vec *a, const union vec *b)
{
	unsigned i;
	switch (mnem) {
	case M_PAND: case M_ANDPS: case M_ANDPD:
		a->q[0] &= b->q[0]; a->q[1] &= b->q[1]; break;
	case M_PANDN: case M_ANDNPS: case M_ANDNPD:
		a->q[0] = ~a->q[0] & b->q[0]; a->q[1] = ~a->q[1] & b->q[1]; break;
	case M_POR: case M_ORPS: case M_ORPD:
		a->q[0] |= b->q[0]; a->q[1] |= b->q[1]; break;
	case M_PXOR: case M_XORPS: case M_XORPD:
		a->q[0] ^= b->q[0]; a->q[1] ^= b->q[1]; break;
	case M_PCMPEQB: for (i = 0; i < 16; i++) a->b[i] = a->b[i] == b->b[i] ? 0xff : 0; break;
	case M_PCMPEQW: for (i = 0; i < 8; i++) a->w[i] = a->w[i] == b->w[i] ? 0xffff : 0; break;
	case M_PCMPEQD: for (i = 0; i < 4; i++) a->d[i] = a->d[i] == b->d[i] ? ~0u : 0; break;
	case M_PCMPGTB: for (i = 0; i < 16; i++) a->b[i] = a->sb[i] > b->sb[i] ? 0xff : 0; break;
	case M_PCMPGTW: for (i = 0; i < 8; i++) a->w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0; break;
	case M_PCMPGTD: for (i = 0; i < 4; i++) a->d[i] = a->sd[i] > b->sd[i] ? ~0u : 0; break;
	case M_PADDB: for (i = 0; i < 16; i++) a->b[i] = (uint8_t)(a->b[i] + b->b[i]); break;
	case M_PADDW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)(a->w[i] + b->w[i]); break;
	case M_PADDD: for (i = 0; i < 4; i++) a->d[i] += b->d[i]; break;
	case M_PADDQ: for (i = 0; i < 2; i++) a->q[i] += b->q[i]; break;
	case M_PSUBB: for (i = 0; i < 16; i++) a->b[i] = (uint8_t)(a->b[i] - b->b[i]); break;
	case M_PSUBW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)(a->w[i] - b->w[i]); break;
	case M_PSUBD: for (i = 0; i < 4; i++) a->d[i] -= b->d[i]; break;
	case M_PSUBQ: for (i = 0; i < 2; i++) a->q[i] -= b->q[i]; break;
	case M_PADDUSB: for (i = 0; i < 16; i++) a->b[i] = satu8(a->b[i] + b->b[i]); break;
	case M_PADDUSW: for (i = 0; i < 8; i++) a->w[i] = satu16(a->w[i] + b->w[i]); break;
	case M_PSUBUSW: for (i = 0; i < 8; i++) a->w[i] = satu16(a->w[i] - b->w[i]); break;
	case M_PADDSB: for (i = 0; i < 16; i++) a->sb[i] = sats8(a->sb[i] + b->sb[i]); break;
	case M_PSUBSB: for (i = 0; i < 16; i++) a->sb[i] = sats8(a->sb[i] - b->sb[i]); break;
	case M_PADDSW: for (i = 0; i < 8; i++) a->sw[i] = sats16(a->sw[i] + b->sw[i]); break;
	case M_PSUBSW: for (i = 0; i < 8; i++) a->sw[i] = sats16(a->sw[i] - b->sw[i]); break;
	case M_PMINSW: for (i = 0; i < 8; i++) a->sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i]; break;
	case M_PMAXSW: for (i = 0; i < 8; i++) a->sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i]; break;
	case M_PAVGB: for (i = 0; i < 16; i++) a->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1); break;
	case M_PAVGW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1) >> 1); break;
	case M_PMULHW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)(((int32_t)a->sw[i] * b->sw[i]) >> 16); break;
	case M_PMULHUW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16); break;
	case M_PMULUDQ: for (i = 0; i < 2; i++) a->q[i] = (uint64_t)a->d[2 * i] * b->d[2 * i]; break;
	case M_PMADDWD:
		for (i = 0; i < 4; i++)
			a->d[i] = (uint32_t)((int64_t)a->sw[2 * i] * b->sw[2 * i] +
					     (int64_t)a->sw[2 * i + 1] * b->sw[2 * i + 1]);
		break;
	case M_PACKSSWB: case M_PACKUSWB: case M_PACKSSDW: pack(mnem, a, b); break;
	case M_PSUBUSB: for (i = 0; i < 16; i++) a->b[i] = satu8(a->b[i] - b->b[i]); break;
	case M_PMULLW: for (i = 0; i < 8; i++) a->w[i] = (uint16_t)((uint32_t)a->w[i] * b->w[i]); break;
	case M_PMINUB: for (i = 0; i < 16; i++) a->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i]; break;
	case M_PMAXUB: for (i = 0; i < 16; i++) a->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i]; break;
	case M_PSADBW:
		for (unsigned h = 0; h < 2; h++) {
			unsigned sum = 0;
			for (i = 0; i < 8; i++) {
				int d = a->b[8 * h + i] - b->b[8 * h + i];
				sum += (unsigned)(d < 0 ? -d : d);
			}
			a->q[h] = sum;
		}
		break;
	case M_PUNPCKLBW: unpack(a, b, 1, false); break;
	case M_PUNPCKLWD: unpack(a, b, 2, false); break;
	case M_PUNPCKLDQ: case M_UNPCKLPS: unpack(a, b, 4, false); break;
	case M_PUNPCKLQDQ: unpack(a, b, 8, false); break;
	case M_PUNPCKHBW: unpack(a, b, 1, true); break;
	case M_PUNPCKHWD: unpack(a, b, 2, true); break;
	case M_PUNPCKHDQ: case M_UNPCKHPS: unpack(a, b, 4, true); break;
	case M_PUNPCKHQDQ: unpack(a, b, 8, true); break;
	case M_PSLLW: shift(a, 2, b->q[0], 0); break;
	case M_PSLLD: shift(a, 4, b->q[0], 0); break;
	case M_PSLLQ: shift(a, 8, b->q[0], 0); break;
	case M_PSRLW: shift(a, 2, b->q[0], 1); break;
	case M_PSRLD: shift(a, 4, b->q[0], 1); break;
	case M_PSRLQ: shift(a, 8, b->q[0], 1); break;
	case M_PSRAW: shift(a, 2, b->q[0], 2); break;
	case M_PSRAD: shift(a, 4, b->q[0], 2); break;
	case M_PSLLDQ:
	case M_PSRLDQ: {
		/* byte shifts of the whole register; counts above 15 clear it */
		union vec r = { .q = { 0, 0 } };
		unsigned c = b->q[0] > 16 ? 16 : (unsigned)b->q[0];
		if (mnem == M_PSLLDQ)
			memcpy(&r.b[c], a->b, 16 - c);
		else
			memcpy(r.b, &a->b[c], 16 - c);
		*a = r;
		break;
	}
	default:
		return false;
	}
	return true;
}

/* PSHUFD/PSHUFLW/PSHUFHW: a = b with dwords or low/high words picked by imm. */
static void pshuf(unsigned mnem, unsigned imm, union vec *a, const union vec *b)
{
	*a = *b;
	for (unsigned i = 0; i < 4; i++) {
		unsigned sel = (imm >> (2 * i)) & 3;
		if (mnem == M_PSHUFD)
			a->d[i] = b->d[sel];
		else if (mnem == M_PSHUFLW)
			a->w[i] = b->w[sel];
		else
			a->w[4 + i] = b->w[4 + sel];
	}
}

bool emu_sse_int_op(unsigned mnem, unsigned imm, uint8_t a[16], const uint8_t b[16])
{
	union vec x, y;
	memcpy(&x, a, 16);
	memcpy(&y, b, 16);
	if (mnem == M_PSHUFD || mnem == M_PSHUFLW || mnem == M_PSHUFHW)
		pshuf(mnem, imm, &x, &y);
	else if (!binop(mnem, &x, &y))
		return false;
	memcpy(a, &x, 16);
	return true;
}

/* Moves between an XMM register and memory or another XMM register where
 * only part of the register is written (SDM MOVSS/MOVSD/MOVQ/MOVLPS...). */
static int partial_move(struct emu_cpu *cpu, const struct emu_insn *in)
{
	union vec d, s;
	unsigned w = in->mnem == M_MOVSS ? 4 : 8;
	bool load = in->op[0].kind == OK_V;
	switch (in->mnem) {
	case M_MOVSS:
	case M_MOVSD:
		if (load) {
			EMU_TRY(src(cpu, in, 1, &s));
			if (in->has_mem) { /* load: the rest of the register is zeroed */
				xset(cpu, in->reg, &s);
				return EMU_OK;
			}
			xget(cpu, in->reg, &d);
			memcpy(d.b, s.b, w);
			xset(cpu, in->reg, &d);
			return EMU_OK;
		}
		xget(cpu, in->reg, &s);
		if (in->has_mem)
			return store_mem(cpu, in, 0, &s);
		xget(cpu, in->rm, &d);
		memcpy(d.b, s.b, w);
		xset(cpu, in->rm, &d);
		return EMU_OK;
	case M_MOVQ: /* F3 0F 7E load, 66 0F D6 store; register forms zero bits 127:64 */
		if (load) {
			EMU_TRY(src(cpu, in, 1, &s));
			s.q[1] = 0;
			xset(cpu, in->reg, &s);
			return EMU_OK;
		}
		xget(cpu, in->reg, &s);
		if (in->has_mem)
			return store_mem(cpu, in, 0, &s);
		s.q[1] = 0;
		xset(cpu, in->rm, &s);
		return EMU_OK;
	case M_MOVLPS:
	case M_MOVLPD:
	case M_MOVHPS:
	case M_MOVHPD: {
		unsigned half = in->mnem == M_MOVHPS || in->mnem == M_MOVHPD;
		if (load) {
			xget(cpu, in->reg, &d);
			EMU_TRY(src(cpu, in, 1, &s));
			if (!in->has_mem) /* 0F 12 MOVHLPS / 0F 16 MOVLHPS */
				d.q[half] = s.q[!half];
			else
				d.q[half] = s.q[0];
			xset(cpu, in->reg, &d);
			return EMU_OK;
		}
		xget(cpu, in->reg, &s);
		s.q[0] = s.q[half];
		return store_mem(cpu, in, 0, &s);
	}
	default:
		return emu_ud(cpu);
	}
}

/* An IEEE operand's class from its bits: single (dbl false) or double. */
struct fclass {
	bool nan, snan, denormal;
};

static struct fclass classify(uint64_t v, bool dbl)
{
	uint64_t exp = dbl ? (v >> 52) & 0x7ff : (v >> 23) & 0xff, emax = dbl ? 0x7ff : 0xff;
	uint64_t mant = dbl ? v & ((1ULL << 52) - 1) : v & ((1u << 23) - 1);
	uint64_t quiet = dbl ? 1ULL << 51 : 1u << 22;
	struct fclass c = { exp == emax && mant, exp == emax && mant && !(mant & quiet), exp == 0 && mant };
	return c;
}

/* COMISS/COMISD/UCOMISS/UCOMISD (SDM vol. 2): ZF PF CF from the unordered
 * compare, OF SF AF cleared. MXCSR.IE for an SNaN (any NaN for COMIS*),
 * else MXCSR.DE for a denormal operand unless DAZ; an unmasked one raises
 * #XM with CR4.OSXMMEXCPT, #UD without (SDM vol. 3 §13.1.3), and leaves
 * EFLAGS alone. */
static int comis(struct emu_cpu *cpu, const struct emu_insn *in)
{
	union vec a, b;
	bool dbl = in->mnem == M_UCOMISD || in->mnem == M_COMISD;
	bool qnan_signals = in->mnem == M_COMISS || in->mnem == M_COMISD;
	xget(cpu, in->reg, &a);
	EMU_TRY(src(cpu, in, 1, &b));
	uint64_t x = dbl ? a.q[0] : a.d[0], y = dbl ? b.q[0] : b.d[0];
	struct fclass cx = classify(x, dbl), cy = classify(y, dbl);
	bool daz = cpu->fpu.mxcsr & (1u << 6);
	uint32_t exc = 0;
	if (cx.snan || cy.snan || (qnan_signals && (cx.nan || cy.nan)))
		exc = 1u << 0; /* IE */
	else if (!cx.nan && !cy.nan && !daz && (cx.denormal || cy.denormal))
		exc = 1u << 1; /* DE */
	if (exc) {
		cpu->fpu.mxcsr |= exc;
		if (!(cpu->fpu.mxcsr & (exc << 7)))
			return cpu->cr4 & EMU_CR4_OSXMMEXCPT ? emu_raise(cpu, EXC_XM, false, 0) : emu_ud(cpu);
	}
	uint64_t f;
	if (cx.nan || cy.nan) {
		f = FL_ZF | FL_PF | FL_CF;
	} else {
		double p, q;
		if (dbl) {
			memcpy(&p, &x, 8);
			memcpy(&q, &y, 8);
		} else {
			float fp, fq;
			uint32_t x32 = (uint32_t)x, y32 = (uint32_t)y;
			memcpy(&fp, &x32, 4);
			memcpy(&fq, &y32, 4);
			p = fp;
			q = fq;
		}
		if (daz) { /* denormal inputs count as zero of the same sign */
			if (cx.denormal)
				p = p < 0 ? -0.0 : 0.0;
			if (cy.denormal)
				q = q < 0 ? -0.0 : 0.0;
		}
		f = p == q ? FL_ZF : p < q ? FL_CF : 0;
	}
	emu_flags_set_arith(cpu, f);
	return EMU_OK;
}

int emu_x_sse(struct emu_cpu *cpu, const struct emu_insn *in)
{
	union vec a, b;
	uint64_t x;
	if (in->flags & DF_MMX)
		return emu_x_mmx(cpu, in);
	if (in->flags & DF_SSE)
		EMU_TRY(emu_sse_check(cpu));
	if (in->mnem >= M_ADDPS && in->mnem <= M_CVTPD2DQ)
		return emu_x_sse_fp(cpu, in);
	switch (in->mnem) {
	case M_UCOMISS: case M_UCOMISD: case M_COMISS: case M_COMISD:
		return comis(cpu, in);
	case M_MOVNTI:
		EMU_TRY(emu_op_read(cpu, in, 1, &x));
		return emu_op_write(cpu, in, 0, x);
	case M_MOVUPS: case M_MOVUPD: case M_MOVAPS: case M_MOVAPD: case M_MOVDQA: case M_MOVDQU:
	case M_MOVNTPS: case M_MOVNTPD: case M_MOVNTDQ:
		EMU_TRY(src(cpu, in, 1, &a));
		if (in->op[0].kind == OK_V)
			xset(cpu, in->reg, &a);
		else if (in->has_mem)
			return store_mem(cpu, in, 0, &a);
		else
			xset(cpu, in->rm, &a);
		return EMU_OK;
	case M_MOVSS: case M_MOVSD: case M_MOVQ: case M_MOVLPS: case M_MOVLPD: case M_MOVHPS: case M_MOVHPD:
		return partial_move(cpu, in);
	case M_MOVD: /* 66 0F 6E: zero-extend into XMM; 66 0F 7E: low dword/qword out */
		if (in->op[0].kind == OK_V) {
			EMU_TRY(src(cpu, in, 1, &a));
			xset(cpu, in->reg, &a);
			return EMU_OK;
		}
		xget(cpu, in->reg, &a);
		return emu_op_write(cpu, in, 0, a.q[0] & emu_mask(in->opw[0]));
	case M_MOVMSKPS:
	case M_MOVMSKPD:
	case M_PMOVMSKB: {
		unsigned esz = in->mnem == M_MOVMSKPS ? 4 : in->mnem == M_MOVMSKPD ? 8 : 1, m = 0;
		xget(cpu, in->rm, &a);
		for (unsigned i = 0; i < 16 / esz; i++)
			m |= (unsigned)(a.b[i * esz + esz - 1] >> 7) << i;
		emu_reg_set(cpu, in, in->reg, 4, m);
		return EMU_OK;
	}
	case M_PSHUFD:
	case M_PSHUFLW:
	case M_PSHUFHW:
		EMU_TRY(src(cpu, in, 1, &b));
		pshuf(in->mnem, (unsigned)in->imm & 0xff, &a, &b);
		xset(cpu, in->reg, &a);
		return EMU_OK;
	case M_PEXTRW: /* the word selected by imm8[2:0], zero-extended */
		xget(cpu, in->rm, &a);
		emu_reg_set(cpu, in, in->reg, 4, a.w[in->imm & 7]);
		return EMU_OK;
	case M_PINSRW:
		EMU_TRY(emu_op_read(cpu, in, 1, &x));
		xget(cpu, in->reg, &a);
		a.w[in->imm & 7] = (uint16_t)x;
		xset(cpu, in->reg, &a);
		return EMU_OK;
	case M_SHUFPS:
	case M_SHUFPD: {
		unsigned imm = (unsigned)in->imm & 0xff;
		union vec r;
		xget(cpu, in->reg, &a);
		EMU_TRY(src(cpu, in, 1, &b));
		if (in->mnem == M_SHUFPS) {
			r.d[0] = a.d[imm & 3];
			r.d[1] = a.d[(imm >> 2) & 3];
			r.d[2] = b.d[(imm >> 4) & 3];
			r.d[3] = b.d[(imm >> 6) & 3];
		} else {
			r.q[0] = a.q[imm & 1];
			r.q[1] = b.q[(imm >> 1) & 1];
		}
		xset(cpu, in->reg, &r);
		return EMU_OK;
	}
	default:
		break;
	}
	if (in->op[0].kind == OK_U) {
		/* 66 0F 71-73 /n ib: shift the r/m register by the immediate */
		xget(cpu, in->rm, &a);
		memset(&b, 0, sizeof(b));
		b.q[0] = in->imm & 0xff;
		if (!binop(in->mnem, &a, &b))
			return emu_ud(cpu);
		xset(cpu, in->rm, &a);
		return EMU_OK;
	}
	xget(cpu, in->reg, &a);
	EMU_TRY(src(cpu, in, 1, &b));
	if (!binop(in->mnem, &a, &b))
		return emu_ud(cpu);
	xset(cpu, in->reg, &a);
	return EMU_OK;
}
