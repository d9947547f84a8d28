/* Differential-test generator: writes a random, reproducible sequence of
 * 64-bit integer instructions (AT&T syntax) that a harness runs both on the
 * host CPU (a static Linux program: the oracle) and inside a vmon guest.
 *
 *   gen SEED COUNT [PREFIX]  ->  stdout: an assembly fragment
 *
 * The same SEED and COUNT always give the same instructions; PREFIX keeps
 * only the first PREFIX of them (to find the first divergent instruction).
 *
 * Rules that keep the oracle honest (SDM vol. 1 appendix A, vol. 2 per
 * instruction):
 * - Flags the SDM leaves undefined after an instruction are tracked; an
 *   instruction that reads a flag is only emitted while that flag is defined,
 *   and the final flags are compared under the mask of defined flags
 *   (emitted as DIFF_FLAGS_MASK).
 * - No instruction has an undefined result: divisors are made non-zero and
 *   quotients kept in range, BSF/BSR sources non-zero, shift counts of
 *   SHLD/SHRD kept below the operand width.
 * - Faults only where meant: e_fault emits UD2 (#UD), a division by zero
 *   (#DE) and a load from a non-canonical address (#GP), each followed by
 *   the label where the handler resumes; the pairs go to the table
 *   diff_faults (report.c), and both sides log the vectors they took.
 * - %rbp points at a 256-byte scratch buffer and %rsp at the stack: neither
 *   is ever a destination. Memory operands are disp(%rbp). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ALLF (CF | PF | AF | ZF | SF | OF)

static uint64_t rng_state;
static uint64_t rnd(void) /* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}
static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

static const char *const r64[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
				   "r12", "r13", "r14", "r15" };
static const char *const r32[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "r8d", "r9d", "r10d",
				   "r11d", "r12d", "r13d", "r14d", "r15d" };
static const char *const r16[] = { "ax", "bx", "cx", "dx", "si", "di", "r8w", "r9w", "r10w", "r11w",
				   "r12w", "r13w", "r14w", "r15w" };
static const char *const r8[] = { "al", "bl", "cl", "dl", "sil", "dil", "r8b", "r9b", "r10b", "r11b",
				  "r12b", "r13b", "r14b", "r15b" };
#define NREGS 14

static const char *reg(unsigned w, unsigned i)
{
	switch (w) {
	case 8: return r8[i];
	case 16: return r16[i];
	case 32: return r32[i];
	default: return r64[i];
	}
}
static const char *rreg(unsigned w) { return reg(w, pick(NREGS)); }
static char sfx(unsigned w) { return w == 8 ? 'b' : w == 16 ? 'w' : w == 32 ? 'l' : 'q'; }
static unsigned rwidth(void) { static const unsigned w[] = { 8, 16, 32, 64 }; return w[pick(4)]; }
static unsigned rwidth_no8(void) { static const unsigned w[] = { 16, 32, 64 }; return w[pick(3)]; }

/* Immediates biased to the values where flag logic breaks. */
static int64_t imm_for(unsigned w)
{
	static const int64_t edge[] = { 0, 1, -1, 2, 0x7f, -0x80, 0xff, 0x7fff, -0x8000, 0xffff,
					0x7fffffff, -0x7fffffff - 1, 0x12345678, 0x55 };
	int64_t v = pick(3) ? edge[pick(sizeof(edge) / sizeof(edge[0]))] : (int64_t)rnd();
	switch (w) {
	case 8: return (int8_t)v;
	case 16: return (int16_t)v;
	default: return (int32_t)v; /* imm32, sign-extended for 64-bit ops */
	}
}

static char mem_buf[32];
static const char *mem(unsigned w)
{
	unsigned bytes = w / 8;
	unsigned disp = pick(256 - bytes + 1);
	snprintf(mem_buf, sizeof(mem_buf), "%u(%%rbp)", disp);
	return mem_buf;
}

static unsigned defined = ALLF; /* flags currently defined */
static char line[256];

/* Each emitter writes one or more instructions into line (separated by
 * "; ") and returns 0, or -1 when it cannot be used now (needs a flag that
 * is undefined). */
typedef int emit_fn(void);

static void set_flags(unsigned written_defined, unsigned made_undefined)
{
	defined = (defined | written_defined) & ~made_undefined;
}

static int e_alu(void)
{
	static const char *const ops[] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
	unsigned op = pick(8), w = rwidth();
	if ((op == 2 || op == 3) && !(defined & CF))
		return -1;
	char s = sfx(w);
	switch (pick(5)) {
	case 0: snprintf(line, sizeof(line), "%s%c %%%s, %%%s", ops[op], s, rreg(w), rreg(w)); break;
	case 1: snprintf(line, sizeof(line), "%s%c $%" PRId64 ", %%%s", ops[op], s, imm_for(w), rreg(w)); break;
	case 2: snprintf(line, sizeof(line), "%s%c %s, %%%s", ops[op], s, mem(w), rreg(w)); break;
	case 3: snprintf(line, sizeof(line), "%s%c %%%s, %s", ops[op], s, rreg(w), mem(w)); break;
	default: snprintf(line, sizeof(line), "%s%c $%" PRId64 ", %s", ops[op], s, imm_for(w), mem(w)); break;
	}
	/* AND/OR/XOR leave AF undefined. */
	if (op == 1 || op == 4 || op == 6)
		set_flags(ALLF & ~AF, AF);
	else
		set_flags(ALLF, 0);
	return 0;
}

static int e_test(void)
{
	unsigned w = rwidth();
	if (pick(2))
		snprintf(line, sizeof(line), "test%c %%%s, %%%s", sfx(w), rreg(w), rreg(w));
	else
		snprintf(line, sizeof(line), "test%c $%" PRId64 ", %%%s", sfx(w), imm_for(w), rreg(w));
	set_flags(ALLF & ~AF, AF);
	return 0;
}

static int e_incdec(void)
{
	unsigned w = rwidth();
	const char *op = pick(2) ? "inc" : "dec";
	if (pick(3))
		snprintf(line, sizeof(line), "%s%c %%%s", op, sfx(w), rreg(w));
	else
		snprintf(line, sizeof(line), "%s%c %s", op, sfx(w), mem(w));
	set_flags(ALLF & ~CF, 0); /* CF unchanged */
	return 0;
}

static int e_negnot(void)
{
	unsigned w = rwidth();
	bool neg = pick(2);
	snprintf(line, sizeof(line), "%s%c %%%s", neg ? "neg" : "not", sfx(w), rreg(w));
	if (neg)
		set_flags(ALLF, 0);
	return 0;
}

static int e_shift_imm(void)
{
	static const char *const ops[] = { "shl", "shr", "sar", "rol", "ror", "rcl", "rcr" };
	unsigned op = pick(7), w = rwidth();
	bool rc = op >= 5;
	if (rc && !(defined & CF))
		return -1;
	unsigned count = pick(3) ? 1 : 1 + pick(w - 1); /* 1 .. w-1: never 0, never >= w */
	if (pick(3))
		snprintf(line, sizeof(line), "%s%c $%u, %%%s", ops[op], sfx(w), count, rreg(w));
	else
		snprintf(line, sizeof(line), "%s%c $%u, %s", ops[op], sfx(w), count, mem(w));
	unsigned undef = count == 1 ? 0 : OF;
	if (op <= 2)
		set_flags((CF | PF | ZF | SF | OF) & ~undef, AF | undef);
	else
		set_flags((CF | OF) & ~undef, undef);
	return 0;
}

static int e_shift_cl(void)
{
	/* The count is whatever %cl holds (masked to 5 or 6 bits): a count of 0
	 * leaves every flag as it was, so only what can become undefined is
	 * dropped: OF (count != 1), AF, and CF for 8/16-bit SHL/SHR/SAR whose
	 * count may reach the operand width. RCL/RCR are left out: their 8/16-bit
	 * counts are taken modulo 9/17. */
	static const char *const ops[] = { "shl", "shr", "sar", "rol", "ror" };
	unsigned op = pick(5), w = rwidth();
	snprintf(line, sizeof(line), "%s%c %%cl, %%%s", ops[op], sfx(w), rreg(w));
	unsigned undef = OF;
	if (op <= 2)
		undef |= AF | (w <= 16 ? CF : 0);
	/* The rest is either unchanged (count 0) or a defined new value. */
	set_flags(0, undef);
	return 0;
}

static int e_mul(void)
{
	unsigned w = rwidth();
	switch (pick(3)) {
	case 0: /* one operand: rdx:rax = rax * src */
		snprintf(line, sizeof(line), "%s%c %%%s", pick(2) ? "mul" : "imul", sfx(w), rreg(w));
		break;
	case 1:
		w = rwidth_no8();
		snprintf(line, sizeof(line), "imul%c %%%s, %%%s", sfx(w), rreg(w), rreg(w));
		break;
	default:
		w = rwidth_no8();
		snprintf(line, sizeof(line), "imul%c $%" PRId64 ", %%%s, %%%s", sfx(w), imm_for(w), rreg(w), rreg(w));
		break;
	}
	set_flags(CF | OF, SF | ZF | AF | PF);
	return 0;
}

static int e_div(void)
{
	/* Divisor: %rcx/%ecx/%cx/%cl made positive, non-zero and (for IDIV)
	 * never -1; the dividend's high half is zero- or sign-extended from the
	 * low half, so the quotient always fits. */
	unsigned w = rwidth();
	bool sign = pick(2);
	switch (w) {
	case 8:
		snprintf(line, sizeof(line), "andb $0x3f, %%cl; orb $1, %%cl; %s; %sb %%cl",
			 sign ? "cbtw" : "movzbw %al, %ax", sign ? "idiv" : "div");
		break;
	case 16:
		snprintf(line, sizeof(line), "andw $0x3fff, %%cx; orw $1, %%cx; %s; %sw %%cx",
			 sign ? "cwtd" : "xorw %dx, %dx", sign ? "idiv" : "div");
		break;
	case 32:
		snprintf(line, sizeof(line), "andl $0x3fffffff, %%ecx; orl $1, %%ecx; %s; %sl %%ecx",
			 sign ? "cltd" : "xorl %edx, %edx", sign ? "idiv" : "div");
		break;
	default:
		snprintf(line, sizeof(line), "andq $0x3fffffff, %%rcx; orq $1, %%rcx; %s; %sq %%rcx",
			 sign ? "cqto" : "xorl %edx, %edx", sign ? "idiv" : "div");
		break;
	}
	set_flags(0, ALLF);
	return 0;
}

static int e_bt(void)
{
	static const char *const ops[] = { "bt", "bts", "btr", "btc" };
	unsigned w = rwidth_no8();
	if (pick(2))
		snprintf(line, sizeof(line), "%s%c %%%s, %%%s", ops[pick(4)], sfx(w), rreg(w), rreg(w));
	else
		snprintf(line, sizeof(line), "%s%c $%u, %%%s", ops[pick(4)], sfx(w), pick(w), rreg(w));
	set_flags(CF, OF | SF | AF | PF); /* ZF unaffected */
	return 0;
}

static int e_bsf(void)
{
	unsigned w = rwidth_no8(), src = pick(NREGS);
	snprintf(line, sizeof(line), "or%c $%u, %%%s; %s%c %%%s, %%%s", sfx(w), 1u << pick(15), reg(w, src),
		 pick(2) ? "bsf" : "bsr", sfx(w), reg(w, src), rreg(w));
	set_flags(ZF, CF | OF | SF | AF | PF);
	return 0;
}

static const char *const cc[] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
				  "s", "ns", "p", "np", "l", "ge", "le", "g" };
static const unsigned cc_reads[] = { OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF,
				     SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF };

static int e_cmov(void)
{
	unsigned c = pick(16), w = rwidth_no8();
	if ((cc_reads[c] & defined) != cc_reads[c])
		return -1;
	if (pick(3))
		snprintf(line, sizeof(line), "cmov%s%c %%%s, %%%s", cc[c], sfx(w), rreg(w), rreg(w));
	else
		snprintf(line, sizeof(line), "cmov%s%c %s, %%%s", cc[c], sfx(w), mem(w), rreg(w));
	return 0;
}

static int e_setcc(void)
{
	unsigned c = pick(16);
	if ((cc_reads[c] & defined) != cc_reads[c])
		return -1;
	if (pick(3))
		snprintf(line, sizeof(line), "set%s %%%s", cc[c], rreg(8));
	else
		snprintf(line, sizeof(line), "set%s %s", cc[c], mem(8));
	return 0;
}

static int e_jcc(void)
{
	/* A forward conditional branch over one instruction. */
	unsigned c = pick(16), w = rwidth();
	if ((cc_reads[c] & defined) != cc_reads[c])
		return -1;
	static unsigned label;
	label++;
	snprintf(line, sizeof(line), "j%s 1f; not%c %%%s; 1:", cc[c], sfx(w), rreg(w));
	return 0;
}

static int e_xchg(void)
{
	unsigned w = rwidth();
	switch (pick(4)) {
	case 0: snprintf(line, sizeof(line), "xchg%c %%%s, %%%s", sfx(w), rreg(w), rreg(w)); break;
	case 1: snprintf(line, sizeof(line), "xchg%c %%%s, %s", sfx(w), rreg(w), mem(w)); break;
	case 2:
		snprintf(line, sizeof(line), "xadd%c %%%s, %%%s", sfx(w), rreg(w), rreg(w));
		set_flags(ALLF, 0);
		break;
	default:
		snprintf(line, sizeof(line), "%scmpxchg%c %%%s, %s", pick(2) ? "lock " : "", sfx(w), rreg(w),
			 pick(2) ? mem(w) : "0(%rbp)");
		set_flags(ALLF, 0);
		break;
	}
	return 0;
}

static int e_mov(void)
{
	unsigned w = rwidth();
	char s = sfx(w);
	switch (pick(6)) {
	case 0: snprintf(line, sizeof(line), "mov%c %%%s, %%%s", s, rreg(w), rreg(w)); break;
	case 1: snprintf(line, sizeof(line), "mov%c $%" PRId64 ", %%%s", s, imm_for(w), rreg(w)); break;
	case 2: snprintf(line, sizeof(line), "mov%c %s, %%%s", s, mem(w), rreg(w)); break;
	case 3: snprintf(line, sizeof(line), "mov%c %%%s, %s", s, rreg(w), mem(w)); break;
	case 4: snprintf(line, sizeof(line), "movabsq $0x%016" PRIx64 ", %%%s", rnd(), rreg(64)); break;
	default: snprintf(line, sizeof(line), "mov%c $%" PRId64 ", %s", s, imm_for(w), mem(w)); break;
	}
	return 0;
}

static int e_movx(void)
{
	static const struct { const char *op; unsigned from, to; } forms[] = {
		{ "movzbw", 8, 16 }, { "movzbl", 8, 32 }, { "movzbq", 8, 64 }, { "movzwl", 16, 32 },
		{ "movzwq", 16, 64 }, { "movsbw", 8, 16 }, { "movsbl", 8, 32 }, { "movsbq", 8, 64 },
		{ "movswl", 16, 32 }, { "movswq", 16, 64 }, { "movslq", 32, 64 },
	};
	unsigned f = pick(sizeof(forms) / sizeof(forms[0]));
	if (pick(3))
		snprintf(line, sizeof(line), "%s %%%s, %%%s", forms[f].op, rreg(forms[f].from), rreg(forms[f].to));
	else
		snprintf(line, sizeof(line), "%s %s, %%%s", forms[f].op, mem(forms[f].from), rreg(forms[f].to));
	return 0;
}

static int e_lea(void)
{
	static const unsigned scale[] = { 1, 2, 4, 8 };
	unsigned w = pick(2) ? 64 : 32;
	snprintf(line, sizeof(line), "lea%c %d(%%%s,%%%s,%u), %%%s", sfx(w), (int)(int32_t)imm_for(32), rreg(64),
		 rreg(64), scale[pick(4)], rreg(w));
	return 0;
}

static int e_misc(void)
{
	switch (pick(9)) {
	case 0: snprintf(line, sizeof(line), "bswap %%%s", pick(2) ? rreg(32) : rreg(64)); return 0;
	case 1: snprintf(line, sizeof(line), "cbtw"); return 0;
	case 2: snprintf(line, sizeof(line), "cwtl"); return 0;
	case 3: snprintf(line, sizeof(line), "cltq"); return 0;
	case 4: snprintf(line, sizeof(line), "%s", pick(2) ? "cwtd" : pick(2) ? "cltd" : "cqto"); return 0;
	case 5:
		snprintf(line, sizeof(line), "%s", pick(2) ? "clc" : "stc");
		set_flags(CF, 0);
		return 0;
	case 6:
		if (!(defined & CF))
			return -1;
		snprintf(line, sizeof(line), "cmc");
		return 0;
	case 7:
		if ((defined & (SF | ZF | AF | PF | CF)) != (SF | ZF | AF | PF | CF))
			return -1;
		snprintf(line, sizeof(line), "lahf");
		return 0;
	default:
		snprintf(line, sizeof(line), "sahf");
		set_flags(SF | ZF | AF | PF | CF, 0);
		return 0;
	}
}

static int e_shld(void)
{
	unsigned w = rwidth_no8(), count = 1 + pick(w - 1);
	snprintf(line, sizeof(line), "%s%c $%u, %%%s, %%%s", pick(2) ? "shld" : "shrd", sfx(w), count, rreg(w),
		 rreg(w));
	unsigned undef = AF | (count == 1 ? 0 : OF);
	set_flags((CF | PF | ZF | SF | OF) & ~undef, undef);
	return 0;
}

static int e_stack(void)
{
	unsigned a = pick(NREGS), b = pick(NREGS);
	if (pick(2))
		snprintf(line, sizeof(line), "pushq %%%s; popq %%%s", r64[a], r64[b]);
	else
		snprintf(line, sizeof(line), "pushw %%%s; popw %%%s", r16[a], r16[b]);
	return 0;
}

static int e_string(void)
{
	/* String instructions on the scratch buffer; the pointers are turned
	 * back into offsets (minus %rbp) so host and guest compare equal. */
	static const char *const ops[] = { "movsb", "stosb", "movsl", "stosq", "lodsw" };
	unsigned op = pick(5), n = pick(8);
	snprintf(line, sizeof(line),
		 "leaq %u(%%rbp), %%rsi; leaq %u(%%rbp), %%rdi; movl $%u, %%ecx; %s%s; "
		 "subq %%rbp, %%rsi; subq %%rbp, %%rdi", pick(64), 64 + pick(64), n,
		 pick(3) ? "rep " : "", ops[op]);
	return 0;
}

static int e_fault(void)
{
	/* Faults are precise: the faulting instruction changes nothing, and
	 * the handler resumes at the next label (SDM vol. 3 §6.5). The base of
	 * the non-canonical load is never %rsp or %rbp (that would be #SS). */
	static unsigned n;
	char insn[112];
	unsigned a = pick(NREGS), b = pick(NREGS);
	switch (pick(3)) {
	case 0: snprintf(insn, sizeof(insn), ".Lfault%u: ud2", n); break;
	case 1:
		if (a == 0 || a == 3) /* not %eax or %edx: they hold the dividend */
			a = 1;
		snprintf(insn, sizeof(insn), "movl $0, %%%s; .Lfault%u: divl %%%s", r32[a], n, r32[a]);
		break;
	default: /* bit 63 set, bits 47 and 46 clear: not canonical, even +8 */
		snprintf(insn, sizeof(insn), "movabsq $0x%016" PRIx64 ", %%%s; .Lfault%u: movq 8(%%%s), %%%s",
			 (uint64_t)((rnd() | 0x8000000000000000ULL) & ~0x0000c00000000000ULL), r64[a], n, r64[a], r64[b]);
		break;
	}
	snprintf(line, sizeof(line),
		 "%s; .Lresume%u: .pushsection .rodata.difffaults; .quad .Lfault%u, .Lresume%u; .popsection", insn, n,
		 n, n);
	n++;
	return 0;
}

static const struct { emit_fn *fn; unsigned weight; } emitters[] = {
	{ e_alu, 10 }, { e_test, 2 }, { e_incdec, 3 }, { e_negnot, 2 }, { e_shift_imm, 4 }, { e_shift_cl, 2 },
	{ e_mul, 3 }, { e_div, 2 }, { e_bt, 2 }, { e_bsf, 1 }, { e_cmov, 3 }, { e_setcc, 3 }, { e_jcc, 3 },
	{ e_xchg, 3 }, { e_mov, 5 }, { e_movx, 3 }, { e_lea, 2 }, { e_misc, 3 }, { e_shld, 1 },
	{ e_stack, 1 }, { e_string, 1 }, { e_fault, 1 },
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gen SEED COUNT [PREFIX]\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], NULL, 0);
	unsigned count = (unsigned)strtoul(argv[2], NULL, 0);
	unsigned prefix = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : count;
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (!rng_state)
		rng_state = 1;

	unsigned total = 0;
	for (unsigned i = 0; i < sizeof(emitters) / sizeof(emitters[0]); i++)
		total += emitters[i].weight;

	/* Initial register values and flags, from the same stream. */
	printf("/* generated by tests/difftest/gen %s %u: do not edit */\n", argv[1], count);
	printf("\t.pushsection .data\n\t.balign 8\n\t.globl diff_init\ndiff_init:\n");
	for (unsigned i = 0; i < NREGS; i++) {
		uint64_t v = rnd();
		switch (pick(4)) {
		case 0: v &= 0xff; break;
		case 1: v = (uint64_t)(int64_t)(int32_t)v; break;
		default: break;
		}
		printf("\t.quad 0x%016" PRIx64 "\n", v);
	}
	unsigned flags0 = (unsigned)rnd() & ALLF;
	printf("\t.quad 0x%x /* rflags */\n", flags0 | 2);
	printf("\t.globl diff_scratch_init\ndiff_scratch_init:\n");
	for (unsigned i = 0; i < 32; i++)
		printf("\t.quad 0x%016" PRIx64 "\n", rnd());
	printf("\t.popsection\n");

	/* The fault table's start; body.S ends it after DIFF_BODY. */
	printf("\t.pushsection .rodata.difffaults\n\t.balign 8\n\t.globl diff_faults\ndiff_faults:\n\t.popsection\n");
	printf("\t.macro DIFF_BODY\n");
	for (unsigned i = 0; i < count; i++) {
		for (;;) {
			unsigned r = pick(total), k = 0;
			while (r >= emitters[k].weight)
				r -= emitters[k++].weight;
			unsigned saved = defined;
			if (emitters[k].fn() == 0)
				break;
			defined = saved;
		}
		if (i < prefix)
			printf("\t%s /* %u */\n", line, i + 1);
		if (i + 1 == prefix)
			printf("\t.set DIFF_FLAGS_MASK_VALUE, 0x%x\n", defined);
	}
	if (prefix == 0)
		printf("\t.set DIFF_FLAGS_MASK_VALUE, 0x%x\n", ALLF);
	printf("\t.endm\n");
	return 0;
}
