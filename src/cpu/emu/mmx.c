/* MMX: the 64-bit packed-integer instructions on MM0-MM7 (SDM vol. 1
 * chapter 9, vol. 2 instruction pages), and the SSE/SSE2 instructions that
 * operate on MMX registers (PSHUFW, PMINUB, PMULUDQ, PADDQ, PMOVMSKB,
 * MOVNTQ, MASKMOVQ...). The operations themselves are sse.c's, run on the
 * low 64 bits of a 128-bit value (emu_sse_int_op); this file is the MMX
 * glue: the registers, which alias the mantissas of the x87 physical
 * registers R0-R7 (a write sets bits 79:64 to all ones), the x87 state
 * every MMX instruction leaves (TOP = 0, no register empty, each full tag
 * the one its contents imply, as FNSAVE shows; EMMS: all empty; vol. 1
 * §9.5.1), the exceptions of vol. 3 §2.5 table 2-2 (#UD with
 * CR0.EM, #NM with CR0.TS) and a pending x87 exception (#MF with CR0.NE,
 * vol. 1 §9.5.2), and the forms whose MMX layout differs from the XMM one
 * (PUNPCKH*, PACK*, the lane index of PEXTRW/PINSRW). */
#include <string.h>

#include "emu.h"

static uint64_t mm_get(const struct emu_cpu *cpu, unsigned r)
{
	uint64_t v;
	memcpy(&v, cpu->fpu.st[r & 7], 8);
	return v;
}

static void mm_set(struct emu_cpu *cpu, unsigned r, uint64_t v)
{
	uint8_t *st = cpu->fpu.st[r & 7];
	memcpy(st, &v, 8);
	st[8] = st[9] = 0xff;
}

static int mmx_check(struct emu_cpu *cpu)
{
	if (cpu->cr0 & X86_CR0_EM)
		return emu_ud(cpu);
	if (cpu->cr0 & X86_CR0_TS)
		return emu_raise(cpu, EXC_NM, false, 0);
	/* FSW.ES; without CR0.NE vmon goes on as if IGNNE# were asserted (as x87) */
	if ((cpu->fpu.fsw & 0x80) && (cpu->cr0 & X86_CR0_NE))
		return emu_raise(cpu, EXC_MF, false, 0);
	return EMU_OK;
}

/* Operand n as 64 bits: an MMX register, or memory (opw bytes, zero-extended). */
static int src64(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, uint64_t *v)
{
	*v = 0;
	switch (in->op[n].kind) {
	case OK_P:
		*v = mm_get(cpu, in->reg);
		return EMU_OK;
	case OK_Q:
	case OK_N:
		if (!in->has_mem) {
			*v = mm_get(cpu, in->rm);
			return EMU_OK;
		}
		return emu_mem_read_buf(cpu, in, 0, v, in->opw[n], 1);
	default:
		return emu_op_read(cpu, in, n, v);
	}
}

/* The packed operation mnem on MMX values a (destination) and b. */
static bool int_op(unsigned mnem, unsigned imm, uint64_t *a, uint64_t b)
{
	uint64_t x[2] = { *a, 0 }, y[2] = { b, 0 };
	switch (mnem) {
	case M_PUNPCKHBW: case M_PUNPCKHWD: case M_PUNPCKHDQ:
		/* the high halves of 64 bits interleave as the low ones of 32 */
		x[0] >>= 32;
		y[0] >>= 32;
		mnem = mnem == M_PUNPCKHBW ? M_PUNPCKLBW : mnem == M_PUNPCKHWD ? M_PUNPCKLWD : M_PUNPCKLDQ;
		break;
	case M_PACKSSWB: case M_PACKUSWB: case M_PACKSSDW:
		x[1] = b; /* the low half of the result narrows a then b */
		break;
	case M_PSHUFW:
		mnem = M_PSHUFLW;
		break;
	case M_PSLLDQ: case M_PSRLDQ:
		return false; /* 66 0F 73 /7, /3 only */
	default:
		break;
	}
	uint8_t xa[16], xb[16];
	memcpy(xa, x, 16);
	memcpy(xb, y, 16);
	if (!emu_sse_int_op(mnem, imm, xa, xb))
		return false;
	memcpy(a, xa, 8);
	return true;
}

/* MASKMOVQ: the bytes of mm1 whose mask byte in mm2 has bit 7 set, stored at
 * DS:rDI (a segment override applies), SDM vol. 2 MASKMOVQ. */
static int maskmovq(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v = mm_get(cpu, in->reg), m = mm_get(cpu, in->rm);
	unsigned seg = in->segovr != EMU_NO_REG ? in->segovr : SEG_DS;
	for (unsigned i = 0; i < 8; i++) {
		if ((m >> (8 * i + 7)) & 1) {
			uint64_t off = (cpu->gpr[RDI] + i) & emu_addr_mask(in->addrsize);
			EMU_TRY(emu_write(cpu, seg, off, 1, (v >> (8 * i)) & 0xff));
		}
	}
	return EMU_OK;
}

static int execute(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t a, b;
	unsigned imm = (unsigned)in->imm & 0xff;
	switch (in->mnem) {
	case M_MOVD: /* 0F 6E: zero-extended into mm; 0F 7E: the low dword (qword with REX.W) out */
	case M_MOVQ:
		if (in->op[0].kind == OK_P) {
			EMU_TRY(src64(cpu, in, 1, &a));
			mm_set(cpu, in->reg, a);
			return EMU_OK;
		}
		a = mm_get(cpu, in->reg);
		if (in->op[0].kind == OK_Q && !in->has_mem) {
			mm_set(cpu, in->rm, a);
			return EMU_OK;
		}
		if (in->op[0].kind == OK_Q)
			return emu_mem_write_buf(cpu, in, 0, &a, 8, 1);
		return emu_op_write(cpu, in, 0, a & emu_mask(in->opw[0]));
	case M_MOVNTQ:
		a = mm_get(cpu, in->reg);
		return emu_mem_write_buf(cpu, in, 0, &a, 8, 1);
	case M_MASKMOVQ:
		return maskmovq(cpu, in);
	case M_PMOVMSKB: {
		unsigned m = 0;
		a = mm_get(cpu, in->rm);
		for (unsigned i = 0; i < 8; i++)
			m |= (unsigned)((a >> (8 * i + 7)) & 1) << i;
		emu_reg_set(cpu, in, in->reg, 4, m);
		return EMU_OK;
	}
	case M_PEXTRW: /* the word selected by imm8[1:0] */
		emu_reg_set(cpu, in, in->reg, 4, (mm_get(cpu, in->rm) >> (16 * (imm & 3))) & 0xffff);
		return EMU_OK;
	case M_PINSRW:
		EMU_TRY(emu_op_read(cpu, in, 1, &b));
		a = mm_get(cpu, in->reg);
		a = (a & ~(0xffffULL << (16 * (imm & 3)))) | ((b & 0xffff) << (16 * (imm & 3)));
		mm_set(cpu, in->reg, a);
		return EMU_OK;
	default:
		break;
	}
	unsigned dst;
	if (in->op[0].kind == OK_N) { /* 0F 71-73 /n ib: shift mm by the immediate */
		dst = in->rm;
		a = mm_get(cpu, dst);
		b = imm;
	} else {
		dst = in->reg;
		a = mm_get(cpu, dst);
		EMU_TRY(src64(cpu, in, 1, &b));
	}
	if (!int_op(in->mnem, imm, &a, b))
		return emu_ud(cpu);
	mm_set(cpu, dst, a);
	return EMU_OK;
}

int emu_x_mmx(struct emu_cpu *cpu, const struct emu_insn *in)
{
	EMU_TRY(mmx_check(cpu));
	if (in->mnem == M_EMMS) {
		cpu->fpu.ftw = 0xffff;
		return EMU_OK;
	}
	EMU_TRY(execute(cpu, in));
	cpu->fpu.fsw &= (uint16_t)~(7u << 11);
	emu_fpu_tags_valid(&cpu->fpu);
	return EMU_OK;
}
