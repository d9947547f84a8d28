/* A compact Intel-syntax disassembler over the decoded instruction, for
 * --trace output and crash messages. It prints what the decoder understood,
 * so it doubles as a view of the decoder. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "decode.h"

static const char *const reg64[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
				       "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const reg32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
				       "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" };
static const char *const reg16[16] = { "ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
				       "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w" };
static const char *const reg8[16] = { "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
				      "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b" };
static const char *const reg8h[4] = { "ah", "ch", "dh", "bh" };
static const char *const sreg[8] = { "es", "cs", "ss", "ds", "fs", "gs", "?", "?" };
static const char *const cc[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
				    "s", "ns", "p", "np", "l", "ge", "le", "g" };

struct out {
	char *p;
	size_t left;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p, o->left, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t m = (size_t)n < o->left ? (size_t)n : (o->left ? o->left - 1 : 0);
	o->p += m;
	o->left -= m;
}

static const char *gpr_name(const struct emu_insn *in, unsigned r, unsigned w)
{
	r &= 15;
	switch (w) {
	case 1: return (!in->rex && r >= 4 && r < 8) ? reg8h[r - 4] : reg8[r];
	case 2: return reg16[r];
	case 4: return reg32[r];
	default: return reg64[r];
	}
}

static void mem_operand(struct out *o, const struct emu_insn *in, uint64_t rip, unsigned w)
{
	static const char *const sizes[17] = { [1] = "byte ", [2] = "word ", [4] = "dword ", [6] = "fword ",
					       [8] = "qword ", [10] = "tbyte ", [16] = "xmmword " };
	if (w < 17 && sizes[w])
		put(o, "%s", sizes[w]);
	const char *const *names = in->addrsize == 8 ? reg64 : in->addrsize == 4 ? reg32 : reg16;
	if (in->segovr != EMU_NO_REG)
		put(o, "%s:", sreg[in->segovr]);
	put(o, "[");
	bool any = false;
	if (in->rip_rel) {
		put(o, "rip%s%#llx] ; 0x%llx", in->disp < 0 ? "-" : "+",
		    (unsigned long long)(in->disp < 0 ? -in->disp : in->disp),
		    (unsigned long long)(rip + in->len + (uint64_t)in->disp));
		return;
	}
	if (in->base != EMU_NO_REG) {
		put(o, "%s", names[in->base]);
		any = true;
	}
	if (in->index != EMU_NO_REG) {
		put(o, "%s%s", any ? "+" : "", names[in->index]);
		if (in->scale)
			put(o, "*%u", 1u << in->scale);
		any = true;
	}
	if (!any)
		put(o, "%#llx", (unsigned long long)in->disp & (in->addrsize == 8 ? ~0ULL : in->addrsize == 4 ? 0xffffffffULL : 0xffffULL));
	else if (in->disp < 0)
		put(o, "-%#llx", (unsigned long long)-in->disp);
	else if (in->disp > 0)
		put(o, "+%#llx", (unsigned long long)in->disp);
	put(o, "]");
}

/* The x87 forms fpu.c executes (SDM vol. 2 tables,
 * ); other escapes print as "(x87)". */
static const char *x87_name(const struct emu_insn *in)
{
	unsigned esc = in->opcode & 7;
	if (in->has_mem) {
		static const char *const d9[8] = { [4] = "fldenv", [5] = "fldcw", [6] = "fnstenv", [7] = "fnstcw" };
		static const char *const dd[8] = { [4] = "frstor", [6] = "fnsave", [7] = "fnstsw" };
		const char *n = esc == 1 ? d9[in->reg & 7] : esc == 5 ? dd[in->reg & 7] : NULL;
		return n ? n : "(x87)";
	}
	if (esc == 3 && in->modrm == 0xe2)
		return "fnclex";
	if (esc == 3 && in->modrm == 0xe3)
		return "fninit";
	if (esc == 7 && in->modrm == 0xe0)
		return "fnstsw ax";
	if (esc == 1 && in->modrm == 0xd0)
		return "fnop";
	return "(x87)";
}

void emu_disasm(const struct emu_insn *in, uint64_t rip, char *buf, size_t len)
{
	struct out o = { buf, len };
	if (len)
		buf[0] = 0;
	if (in->lock)
		put(&o, "lock ");
	if (in->rep && (in->flags & DF_STRING))
		put(&o, in->rep == EMU_REP_F2 ? "repne " : "rep ");
	if (in->mnem == M_FPU) {
		put(&o, "%s", x87_name(in));
		if (in->has_mem) {
			put(&o, " ");
			mem_operand(&o, in, rip, 0);
		}
		return;
	}
	put(&o, "%s", emu_mnem_name(in->mnem));
	if (in->flags & DF_COND)
		put(&o, "%s", cc[in->cond & 15]);
	if (in->mnem == M_INVALID)
		return;
	for (int i = 0; i < 3; i++) {
		const struct emu_opspec *s = &in->op[i];
		if (s->kind == OK_NONE)
			break;
		put(&o, i ? ", " : " ");
		unsigned w = in->opw[i];
		switch (s->kind) {
		case OK_E:
		case OK_M:
			if (in->has_mem)
				mem_operand(&o, in, rip, w);
			else
				put(&o, "%s", gpr_name(in, in->rm, w));
			break;
		case OK_R: put(&o, "%s", gpr_name(in, in->rm, w)); break;
		case OK_V: put(&o, "xmm%u", in->reg); break;
		case OK_U: put(&o, "xmm%u", in->rm); break;
		case OK_P: put(&o, "mm%u", in->reg & 7); break;
		case OK_N: put(&o, "mm%u", in->rm & 7); break;
		case OK_Q:
			if (in->has_mem)
				mem_operand(&o, in, rip, w);
			else
				put(&o, "mm%u", in->rm & 7);
			break;
		case OK_W:
			if (in->has_mem)
				mem_operand(&o, in, rip, w);
			else
				put(&o, "xmm%u", in->rm);
			break;
		case OK_G: put(&o, "%s", gpr_name(in, in->reg, w)); break;
		case OK_Z: put(&o, "%s", gpr_name(in, (in->opcode & 7) | (in->rex & 1 ? 8 : 0), w)); break;
		case OK_REG: put(&o, "%s", gpr_name(in, s->reg, w)); break;
		case OK_I: put(&o, "%#llx", (unsigned long long)(i == 1 && s->size == SZ_B && in->op[0].kind == OK_I ? in->imm2 : in->imm)); break;
		case OK_J: put(&o, "%#llx", (unsigned long long)((rip + in->len + in->imm) & (in->opsize == 8 ? ~0ULL : in->opsize == 4 ? 0xffffffffULL : 0xffffULL))); break;
		case OK_O: put(&o, "[%#llx]", (unsigned long long)in->imm); break;
		case OK_A: put(&o, "%#llx:%#llx", (unsigned long long)in->imm2, (unsigned long long)in->imm); break;
		case OK_S: put(&o, "%s", sreg[in->reg & 7]); break;
		case OK_C: put(&o, "cr%u", in->reg); break;
		case OK_D: put(&o, "dr%u", in->reg); break;
		case OK_X: put(&o, "[%ssi]", in->addrsize == 8 ? "r" : in->addrsize == 4 ? "e" : ""); break;
		case OK_Y: put(&o, "es:[%sdi]", in->addrsize == 8 ? "r" : in->addrsize == 4 ? "e" : ""); break;
		case OK_ONE: put(&o, "1"); break;
		case OK_SREG: put(&o, "%s", sreg[s->reg & 7]); break;
		default: break;
		}
	}
}
