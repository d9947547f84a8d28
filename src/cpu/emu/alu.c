/* Integer ALU instructions: the eight classic binary operations and TEST as
 * an operation x width table, INC/DEC/NOT/NEG, the flag instructions and the
 * decimal adjustments. Flags are recorded lazily (flags.c). */
#include "emu.h"

/* One tiny function per operation and width: wrap-around is done by the C
 * type, flags by the lazy record. */
#define ALU_FNS(T, W)                                                                               \
	static uint64_t add_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a + (T)b); emu_lf_set(c, LF_ADD, sizeof(T), r, a, b, 0); (void)ci; return r; } \
	static uint64_t adc_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a + (T)b + (T)ci); emu_lf_set(c, LF_ADD, sizeof(T), r, a, b, ci); return r; } \
	static uint64_t sub_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a - (T)b); emu_lf_set(c, LF_SUB, sizeof(T), r, a, b, 0); (void)ci; return r; } \
	static uint64_t sbb_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a - (T)b - (T)ci); emu_lf_set(c, LF_SUB, sizeof(T), r, a, b, ci); return r; } \
	static uint64_t and_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a & (T)b); emu_lf_set(c, LF_LOGIC, sizeof(T), r, a, b, 0); (void)ci; return r; } \
	static uint64_t or_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)              \
	{ T r = (T)((T)a | (T)b); emu_lf_set(c, LF_LOGIC, sizeof(T), r, a, b, 0); (void)ci; return r; } \
	static uint64_t xor_##W(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci)             \
	{ T r = (T)((T)a ^ (T)b); emu_lf_set(c, LF_LOGIC, sizeof(T), r, a, b, 0); (void)ci; return r; }

ALU_FNS(uint8_t, 8)
ALU_FNS(uint16_t, 16)
ALU_FNS(uint32_t, 32)
ALU_FNS(uint64_t, 64)

typedef uint64_t alu_fn(struct emu_cpu *c, uint64_t a, uint64_t b, unsigned ci);

/* Rows in ModRM /digit order (SDM table A-6 group 1): ADD OR ADC SBB AND SUB XOR CMP. */
#define ALU_ROW(W) { add_##W, or_##W, adc_##W, sbb_##W, and_##W, sub_##W, xor_##W, sub_##W }
static alu_fn *const alu_table[4][8] = { ALU_ROW(8), ALU_ROW(16), ALU_ROW(32), ALU_ROW(64) };

static unsigned width_index(unsigned w)
{
	return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3;
}

int emu_x_alu(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned op;
	switch (in->mnem) {
	case M_ADD: op = 0; break;
	case M_OR: op = 1; break;
	case M_ADC: op = 2; break;
	case M_SBB: op = 3; break;
	case M_AND: case M_TEST: op = 4; break;
	case M_SUB: op = 5; break;
	case M_XOR: op = 6; break;
	default: op = 7; break; /* CMP */
	}
	uint64_t a, b;
	EMU_TRY(emu_op_read(cpu, in, 0, &a));
	EMU_TRY(emu_op_read(cpu, in, 1, &b));
	unsigned ci = (op == 2 || op == 3) ? emu_flag_cf(cpu) : 0;
	uint64_t r = alu_table[width_index(in->opw[0])][op](cpu, a, b, ci);
	if (op == 7 || in->mnem == M_TEST)
		return EMU_OK;
	return emu_op_write(cpu, in, 0, r);
}

int emu_x_unary(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned w = in->opw[0];
	uint64_t m = emu_mask(w), a, r;
	EMU_TRY(emu_op_read(cpu, in, 0, &a));
	switch (in->mnem) {
	case M_INC:
		r = (a + 1) & m;
		emu_lf_set(cpu, LF_INC, w, r, a, 1, emu_flag_cf(cpu));
		break;
	case M_DEC:
		r = (a - 1) & m;
		emu_lf_set(cpu, LF_DEC, w, r, a, 1, emu_flag_cf(cpu));
		break;
	case M_NOT:
		r = ~a & m;
		break;
	default: /* NEG: flags as 0 - a */
		r = (0 - a) & m;
		emu_lf_set(cpu, LF_SUB, w, r, 0, a, 0);
		break;
	}
	return emu_op_write(cpu, in, 0, r);
}

int emu_x_flagop(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t f = emu_flags_get(cpu);
	switch (in->mnem) {
	case M_CMC: f ^= FL_CF; break;
	case M_CLC: f &= ~(uint64_t)FL_CF; break;
	case M_STC: f |= FL_CF; break;
	case M_CLD: f &= ~(uint64_t)FL_DF; break;
	case M_STD: f |= FL_DF; break;
	case M_SAHF: {
		uint64_t ah = (cpu->gpr[RAX] >> 8) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
		f = (f & ~(uint64_t)(FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)) | ah;
		break;
	}
	case M_LAHF:
		emu_reg_set(cpu, NULL, RAX, 2, (cpu->gpr[RAX] & 0xff) | ((f & 0xd7) | 2) << 8);
		return EMU_OK;
	case M_SALC:
		emu_reg_set(cpu, NULL, RAX, 1, (f & FL_CF) ? 0xff : 0);
		return EMU_OK;
	default:
		return emu_ud(cpu);
	}
	cpu->rflags = f;
	return EMU_OK;
}

/* DAA/DAS/AAA/AAS/AAM/AAD per their SDM vol. 2 pseudo-code. */
int emu_x_bcd(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t f = emu_flags_get(cpu);
	unsigned al = cpu->gpr[RAX] & 0xff, ah = (cpu->gpr[RAX] >> 8) & 0xff;
	bool cf = f & FL_CF, af = f & FL_AF;
	unsigned old_al = al;
	f &= ~(uint64_t)FL_ARITH;
	switch (in->mnem) {
	case M_DAA:
	case M_DAS: {
		bool das = in->mnem == M_DAS;
		bool ncf = false;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || (das ? al < 6 : al + 6 > 0xff);
			al = (das ? al - 6 : al + 6) & 0xff;
			f |= FL_AF;
		}
		if (old_al > 0x99 || cf) {
			al = (das ? al - 0x60 : al + 0x60) & 0xff;
			ncf = true;
		}
		if (ncf)
			f |= FL_CF;
		break;
	}
	case M_AAA:
	case M_AAS: {
		bool aas = in->mnem == M_AAS;
		unsigned ax = (ah << 8) | al;
		if ((al & 0xf) > 9 || af) {
			ax = aas ? ax - 6 : ax + 0x106;
			if (aas)
				ax -= 0x100;
			f |= FL_AF | FL_CF;
		}
		al = ax & 0x0f;
		ah = (ax >> 8) & 0xff;
		emu_reg_set(cpu, NULL, RAX, 2, (ah << 8) | al);
		cpu->lf.op = LF_NONE;
		cpu->rflags = f | (emu_parity(al) ? FL_PF : 0) | (al == 0 ? FL_ZF : 0);
		return EMU_OK;
	}
	case M_AAM: {
		unsigned base = in->imm & 0xff;
		if (base == 0)
			return emu_raise(cpu, EXC_DE, false, 0);
		ah = al / base;
		al = al % base;
		emu_reg_set(cpu, NULL, RAX, 2, (ah << 8) | al);
		break;
	}
	default: { /* AAD */
		unsigned base = in->imm & 0xff;
		al = (al + ah * base) & 0xff;
		emu_reg_set(cpu, NULL, RAX, 2, al);
		break;
	}
	}
	if (in->mnem == M_DAA || in->mnem == M_DAS)
		emu_reg_set(cpu, NULL, RAX, 1, al);
	if (al & 0x80)
		f |= FL_SF;
	if (al == 0)
		f |= FL_ZF;
	if (emu_parity(al))
		f |= FL_PF;
	cpu->lf.op = LF_NONE;
	cpu->rflags = f;
	return EMU_OK;
}
