/* Lazy arithmetic flags (SDM vol. 1 §3.4.3.1, appendix A for which
 * instruction sets which flag): ALU instructions record their operation,
 * operands and result; CF/PF/AF/ZF/SF/OF are computed only when read. */
#include "emu.h"

unsigned emu_parity(uint64_t v)
{
	return !__builtin_parity((unsigned)(v & 0xff)); /* PF: even number of ones in the low byte */
}

static uint64_t lazy_arith(const struct emu_lazy *lf)
{
	uint64_t m = emu_mask(lf->width), sign = 1ULL << (lf->width * 8 - 1);
	uint64_t r = lf->res & m, a = lf->a & m, b = lf->b & m;
	uint64_t f = 0;
	bool cf = false, of = false;
	switch (lf->op) {
	case LF_ADD:
		cf = r < a || (lf->cf_in && r == a);
		of = ((a ^ r) & (b ^ r) & sign) != 0;
		break;
	case LF_SUB:
		cf = a < b || (lf->cf_in && a == b);
		of = ((a ^ b) & (a ^ r) & sign) != 0;
		break;
	case LF_INC:
		cf = lf->cf_in;
		of = r == sign;
		break;
	case LF_DEC:
		cf = lf->cf_in;
		of = r == sign - 1;
		break;
	case LF_SHL: /* shift.c's rules: OF as for a count of one, AF = 0 */
		cf = (a >> (lf->width * 8 - b)) & 1;
		of = ((r & sign) != 0) ^ cf;
		break;
	case LF_SHR:
		cf = (a >> (b - 1)) & 1;
		of = (a & sign) != 0;
		break;
	case LF_SAR: {
		unsigned sh = 64 - lf->width * 8;
		cf = (((int64_t)(a << sh) >> sh) >> (b - 1)) & 1;
		break;
	}
	default: /* LF_LOGIC */
		break;
	}
	if (cf)
		f |= FL_CF;
	if (of)
		f |= FL_OF;
	if (lf->op <= LF_DEC && lf->op != LF_LOGIC && ((a ^ b ^ r) & 0x10))
		f |= FL_AF;
	if (r == 0)
		f |= FL_ZF;
	if (r & sign)
		f |= FL_SF;
	if (emu_parity(r))
		f |= FL_PF;
	return f;
}

void emu_flags_materialize(struct emu_cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return;
	cpu->rflags = (cpu->rflags & ~(uint64_t)FL_ARITH) | lazy_arith(&cpu->lf);
	cpu->lf.op = LF_NONE;
}

uint64_t emu_flags_get(struct emu_cpu *cpu)
{
	emu_flags_materialize(cpu);
	return cpu->rflags;
}

void emu_flags_set(struct emu_cpu *cpu, uint64_t value)
{
	cpu->lf.op = LF_NONE;
	cpu->rflags = (value & 0x3f7fd7) | X86_RFLAGS_FIXED;
}

void emu_flags_set_arith(struct emu_cpu *cpu, uint64_t arith_bits)
{
	cpu->lf.op = LF_NONE;
	cpu->rflags = (cpu->rflags & ~(uint64_t)FL_ARITH) | (arith_bits & FL_ARITH);
}

bool emu_flag_cf(const struct emu_cpu *cpu)
{
	const struct emu_lazy *lf = &cpu->lf;
	uint64_t m = emu_mask(lf->width);
	switch (lf->op) {
	case LF_NONE: return cpu->rflags & FL_CF;
	case LF_ADD: return (lf->res & m) < (lf->a & m) || (lf->cf_in && (lf->res & m) == (lf->a & m));
	case LF_SUB: return (lf->a & m) < (lf->b & m) || (lf->cf_in && (lf->a & m) == (lf->b & m));
	case LF_INC:
	case LF_DEC: return lf->cf_in;
	case LF_LOGIC: return false;
	default: return lazy_arith(lf) & FL_CF;
	}
}

/* Condition codes tttn, SDM vol. 1 appendix B table B-1. */
bool emu_cond(struct emu_cpu *cpu, unsigned cond)
{
	bool r;
	int q = -1;
	if (cpu->lf.op == LF_SUB || cpu->lf.op == LF_LOGIC)
		q = emu_lazy_cond(&cpu->lf, cond >> 1);
	else if (cpu->lf.op != LF_NONE && (cond >> 1) == 2) /* E / NE */
		q = (cpu->lf.res & emu_mask(cpu->lf.width)) == 0;
	if (q >= 0) {
		r = q;
	} else {
		uint64_t f = emu_flags_get(cpu);
		bool cf = f & FL_CF, zf = f & FL_ZF, sf = f & FL_SF, of = f & FL_OF, pf = f & FL_PF;
		switch (cond >> 1) {
		case 0: r = of; break;
		case 1: r = cf; break;
		case 2: r = zf; break;
		case 3: r = cf || zf; break;
		case 4: r = sf; break;
		case 5: r = pf; break;
		case 6: r = sf != of; break;
		default: r = zf || (sf != of); break;
		}
	}
	return (cond & 1) ? !r : r;
}
