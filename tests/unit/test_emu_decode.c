/* The software CPU's decoder: lengths, sizes, operands and prefixes for a
 * table of encodings in 16-, 32- and 64-bit code, plus over-long (>15 bytes)
 * and truncated inputs. Expected values were worked out from the SDM vol. 2
 * encoding tables (and agree with binutils' objdump for the valid ones). */
#include <stdlib.h>

#include "cpu/emu/decode.h"
#include "unit.h"

#define ANY 0xff

struct dcase {
	unsigned mode;
	const char *hex;
	enum emu_decode_status st;
	unsigned len;
	unsigned mnem;
	unsigned opsize, addrsize; /* ANY: not checked */
};

static size_t parse_hex(const char *s, uint8_t *buf, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		char tmp[3] = { s[0], s[1], 0 };
		buf[n++] = (uint8_t)strtoul(tmp, NULL, 16);
		s += 2;
	}
	return n;
}

static const struct dcase cases[] = {
	/* 32-bit code */
	{ 4, "90", EMU_DEC_OK, 1, M_NOP, 4, 4 },
	{ 4, "01 d8", EMU_DEC_OK, 2, M_ADD, 4, 4 },
	{ 4, "66 01 d8", EMU_DEC_OK, 3, M_ADD, 2, 4 },
	{ 4, "8b 44 24 08", EMU_DEC_OK, 4, M_MOV, 4, 4 },
	{ 4, "8b 04 8d 00 10 00 00", EMU_DEC_OK, 7, M_MOV, 4, 4 },
	{ 4, "8b 45 fc", EMU_DEC_OK, 3, M_MOV, 4, 4 },
	{ 4, "67 8b 07", EMU_DEC_OK, 3, M_MOV, 4, 2 },
	{ 4, "c7 05 78 56 34 12 01 00 00 00", EMU_DEC_OK, 10, M_MOV, 4, 4 },
	{ 4, "81 c3 00 01 00 00", EMU_DEC_OK, 6, M_ADD, 4, 4 },
	{ 4, "83 e8 ff", EMU_DEC_OK, 3, M_SUB, 4, 4 },
	{ 4, "e8 00 00 00 00", EMU_DEC_OK, 5, M_CALL, 4, 4 },
	{ 4, "0f 84 10 00 00 00", EMU_DEC_OK, 6, M_JCC, 4, 4 },
	{ 4, "ea 00 00 01 00 08 00", EMU_DEC_OK, 7, M_JMPF, 4, 4 },
	{ 4, "0f 22 c0", EMU_DEC_OK, 3, M_MOVCR, ANY, 4 },
	{ 4, "0f 01 15 00 20 00 00", EMU_DEC_OK, 7, M_LGDT, 4, 4 },
	{ 4, "f3 a4", EMU_DEC_OK, 2, M_MOVS, 4, 4 },
	{ 4, "f0 01 03", EMU_DEC_OK, 3, M_ADD, 4, 4 },
	{ 4, "f0 01 d8", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },   /* LOCK needs a memory destination */
	{ 4, "f0 90", EMU_DEC_UD, 2, M_INVALID, ANY, ANY },
	{ 4, "f0 3b 03", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },   /* LOCK CMP: not lockable */
	{ 4, "0f 0b", EMU_DEC_OK, 2, M_UD2, ANY, ANY },
	{ 4, "0f 38 00 c0", EMU_DEC_UD, 4, M_INVALID, ANY, ANY },
	{ 4, "0f 3a 0f c1 08", EMU_DEC_UD, 5, M_INVALID, ANY, ANY },
	{ 4, "c8 10 00 01", EMU_DEC_OK, 4, M_ENTER, 4, 4 },
	{ 4, "f6 c3 01", EMU_DEC_OK, 3, M_TEST, 4, 4 },
	{ 4, "f7 c3 01 00 00 00", EMU_DEC_OK, 6, M_TEST, 4, 4 },
	{ 4, "66 f7 c3 01 00", EMU_DEC_OK, 5, M_TEST, 2, 4 },
	{ 4, "f7 e3", EMU_DEC_OK, 2, M_MUL, 4, 4 },
	{ 4, "d3 e0", EMU_DEC_OK, 2, M_SHL, 4, 4 },
	{ 4, "c1 f8 1f", EMU_DEC_OK, 3, M_SAR, 4, 4 },
	{ 4, "0f b6 c3", EMU_DEC_OK, 3, M_MOVZX, 4, 4 },
	{ 4, "a1 44 33 22 11", EMU_DEC_OK, 5, M_MOV, 4, 4 },
	{ 4, "67 a1 44 33", EMU_DEC_OK, 4, M_MOV, 4, 2 },
	{ 4, "40", EMU_DEC_OK, 1, M_INC, 4, 4 },
	{ 4, "62 00", EMU_DEC_OK, 2, M_BOUND, 4, 4 },
	{ 4, "d9 c0", EMU_DEC_OK, 2, M_FPU, ANY, ANY },
	{ 4, "0f 01 f8", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },   /* SWAPGS: 64-bit only */
	{ 4, "26 8b 03", EMU_DEC_OK, 3, M_MOV, 4, 4 },
	{ 4, "8d 00", EMU_DEC_OK, 2, M_LEA, 4, 4 },
	{ 4, "8d c0", EMU_DEC_UD, 2, M_INVALID, ANY, ANY },      /* LEA needs memory */
	{ 4, "0f b8 c3", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },   /* POPCNT without F3 */
	{ 4, "f3 0f b8 c3", EMU_DEC_OK, 4, M_POPCNT, 4, 4 },
	{ 4, "0f c7 0e", EMU_DEC_OK, 3, M_CMPXCHG8B, 4, 4 },
	{ 4, "0f c7 ce", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },
	{ 4, "0f ba e0 05", EMU_DEC_OK, 4, M_BT, 4, 4 },
	{ 4, "0f 94 c0", EMU_DEC_OK, 3, M_SETCC, ANY, 4 },
	{ 4, "0f 44 c3", EMU_DEC_OK, 3, M_CMOV, 4, 4 },
	{ 4, "8e d8", EMU_DEC_OK, 2, M_MOVSEG, 4, 4 },
	{ 4, "9a 00 00 01 00 08 00", EMU_DEC_OK, 7, M_CALLF, 4, 4 },
	{ 4, "ff 1d 00 30 00 00", EMU_DEC_OK, 6, M_CALLF, 4, 4 },
	{ 4, "0f ae f0", EMU_DEC_OK, 3, M_FENCE, ANY, ANY },
	/* 16-bit code */
	{ 2, "b8 34 12", EMU_DEC_OK, 3, M_MOV, 2, 2 },
	{ 2, "66 b8 78 56 34 12", EMU_DEC_OK, 6, M_MOV, 4, 2 },
	{ 2, "8b 46 02", EMU_DEC_OK, 3, M_MOV, 2, 2 },
	{ 2, "8b 00", EMU_DEC_OK, 2, M_MOV, 2, 2 },
	{ 2, "8b 06 00 10", EMU_DEC_OK, 4, M_MOV, 2, 2 },
	{ 2, "67 8b 04 24", EMU_DEC_OK, 4, M_MOV, 2, 4 },
	{ 2, "e8 fd ff", EMU_DEC_OK, 3, M_CALL, 2, 2 },
	{ 2, "ea 00 00 00 10", EMU_DEC_OK, 5, M_JMPF, 2, 2 },
	{ 2, "66 ea 00 00 01 00 08 00", EMU_DEC_OK, 8, M_JMPF, 4, 2 },
	{ 2, "cd 10", EMU_DEC_OK, 2, M_INT, 2, 2 },
	{ 2, "0f 20 c0", EMU_DEC_OK, 3, M_MOVCR, ANY, 2 },
	{ 2, "8b 87 34 12", EMU_DEC_OK, 4, M_MOV, 2, 2 },
	/* 64-bit code */
	{ 8, "48 01 d8", EMU_DEC_OK, 3, M_ADD, 8, 8 },
	{ 8, "4c 01 c0", EMU_DEC_OK, 3, M_ADD, 8, 8 },
	{ 8, "49 01 c0", EMU_DEC_OK, 3, M_ADD, 8, 8 },
	{ 8, "48 8b 05 10 00 00 00", EMU_DEC_OK, 7, M_MOV, 8, 8 },
	{ 8, "48 b8 88 77 66 55 44 33 22 11", EMU_DEC_OK, 10, M_MOV, 8, 8 },
	{ 8, "b8 01 00 00 00", EMU_DEC_OK, 5, M_MOV, 4, 8 },
	{ 8, "50", EMU_DEC_OK, 1, M_PUSH, 8, 8 },
	{ 8, "66 50", EMU_DEC_OK, 2, M_PUSH, 2, 8 },
	{ 8, "41 50", EMU_DEC_OK, 2, M_PUSH, 8, 8 },
	{ 8, "e8 00 00 00 00", EMU_DEC_OK, 5, M_CALL, 8, 8 },
	{ 8, "eb fe", EMU_DEC_OK, 2, M_JMP, 8, 8 },
	{ 8, "48 c7 c0 ff ff ff ff", EMU_DEC_OK, 7, M_MOV, 8, 8 },
	{ 8, "0f 05", EMU_DEC_OK, 2, M_SYSCALL, ANY, 8 },
	{ 8, "48 0f c7 0e", EMU_DEC_OK, 4, M_CMPXCHG8B, 8, 8 },
	{ 8, "4a 8b 04 e5 00 00 00 00", EMU_DEC_OK, 8, M_MOV, 8, 8 },
	{ 8, "41 8b 04 24", EMU_DEC_OK, 4, M_MOV, 4, 8 },
	{ 8, "41 8b 45 00", EMU_DEC_OK, 4, M_MOV, 4, 8 },
	{ 8, "06", EMU_DEC_UD, 1, M_INVALID, ANY, ANY },
	{ 8, "40 90", EMU_DEC_OK, 2, M_NOP, ANY, 8 },
	{ 8, "41 90", EMU_DEC_OK, 2, M_XCHG, 4, 8 },
	{ 8, "f3 90", EMU_DEC_OK, 2, M_PAUSE, ANY, 8 },
	{ 8, "63 c3", EMU_DEC_OK, 2, M_MOVSXD, 4, 8 },
	{ 8, "48 63 c3", EMU_DEC_OK, 3, M_MOVSXD, 8, 8 },
	{ 8, "40 66 90", EMU_DEC_OK, 3, M_NOP, 2, 8 },
	{ 8, "c4 e2 79 00 c0", EMU_DEC_UD, ANY, M_INVALID, ANY, ANY },
	{ 8, "0f 01 f8", EMU_DEC_OK, 3, M_SWAPGS, ANY, 8 },
	{ 8, "67 8b 07", EMU_DEC_OK, 3, M_MOV, 4, 4 },
	{ 8, "ff 15 00 00 00 00", EMU_DEC_OK, 6, M_CALL, 8, 8 },
	/* x87 control, FXSAVE group, SSE rows chosen by mandatory prefix (SDM table A-3) */
	{ 8, "db e3", EMU_DEC_OK, 2, M_FPU, ANY, 8 },                     /* fninit */
	{ 8, "9b", EMU_DEC_OK, 1, M_FWAIT, ANY, 8 },
	{ 8, "0f ae 00", EMU_DEC_OK, 3, M_FXSAVE, ANY, 8 },
	{ 8, "48 0f ae 08", EMU_DEC_OK, 4, M_FXRSTOR, 8, 8 },
	{ 8, "0f ae 54 24 fc", EMU_DEC_OK, 5, M_LDMXCSR, ANY, 8 },
	{ 8, "0f ae 5c 24 fc", EMU_DEC_OK, 5, M_STMXCSR, ANY, 8 },
	{ 8, "0f ae c0", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },             /* FXSAVE needs memory */
	{ 8, "0f ae f0", EMU_DEC_OK, 3, M_FENCE, ANY, 8 },                /* mfence */
	{ 8, "66 0f 6f 06", EMU_DEC_OK, 4, M_MOVDQA, ANY, 8 },
	{ 8, "f3 0f 6f 06", EMU_DEC_OK, 4, M_MOVDQU, ANY, 8 },
	{ 8, "0f 6f 06", EMU_DEC_OK, 3, M_MOVQ, ANY, ANY },                /* MMX movq mm0, [rsi] */
	{ 8, "0f 6c c1", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },             /* punpcklqdq has no MMX form */
	{ 8, "0f 73 f8 01", EMU_DEC_OK, 4, M_PSLLDQ, ANY, ANY },           /* decodes; mmx.c: #UD (66 only) */
	{ 8, "0f 71 30 01", EMU_DEC_UD, ANY, M_INVALID, ANY, ANY },        /* psllw mm, imm: register only */
	{ 8, "0f 77", EMU_DEC_OK, 2, M_EMMS, ANY, ANY },
	{ 8, "66 0f 7f 07", EMU_DEC_OK, 4, M_MOVDQA, ANY, 8 },
	{ 8, "f3 44 0f 7f 3f", EMU_DEC_OK, 5, M_MOVDQU, ANY, 8 },
	{ 8, "0f 10 04 24", EMU_DEC_OK, 4, M_MOVUPS, ANY, 8 },
	{ 8, "66 0f 11 04 24", EMU_DEC_OK, 5, M_MOVUPD, ANY, 8 },
	{ 8, "f3 0f 10 c1", EMU_DEC_OK, 4, M_MOVSS, ANY, 8 },
	{ 8, "f2 0f 11 c1", EMU_DEC_OK, 4, M_MOVSD, ANY, 8 },
	{ 8, "66 f2 0f 10 c1", EMU_DEC_OK, 5, M_MOVSD, ANY, 8 },          /* F2 wins over 66 */
	{ 8, "0f 28 c1", EMU_DEC_OK, 3, M_MOVAPS, ANY, 8 },
	{ 8, "66 0f 29 01", EMU_DEC_OK, 4, M_MOVAPD, ANY, 8 },
	{ 8, "0f 12 c1", EMU_DEC_OK, 3, M_MOVLPS, ANY, 8 },               /* movhlps form */
	{ 8, "66 0f 12 c1", EMU_DEC_UD, 4, M_INVALID, ANY, ANY },          /* movlpd needs memory */
	{ 8, "66 0f 17 07", EMU_DEC_OK, 4, M_MOVHPD, ANY, 8 },
	{ 8, "66 0f 6e c0", EMU_DEC_OK, 4, M_MOVD, 2, 8 },
	{ 8, "66 48 0f 6e c0", EMU_DEC_OK, 5, M_MOVD, 8, 8 },             /* movq xmm0, rax */
	{ 8, "66 48 0f 7e c0", EMU_DEC_OK, 5, M_MOVD, 8, 8 },
	{ 8, "f3 0f 7e c1", EMU_DEC_OK, 4, M_MOVQ, ANY, 8 },
	{ 8, "66 0f d6 07", EMU_DEC_OK, 4, M_MOVQ, ANY, 8 },
	{ 8, "66 0f e7 07", EMU_DEC_OK, 4, M_MOVNTDQ, ANY, 8 },
	{ 8, "66 0f e7 c0", EMU_DEC_UD, 4, M_INVALID, ANY, ANY },
	{ 8, "48 0f c3 07", EMU_DEC_OK, 4, M_MOVNTI, 8, 8 },
	{ 8, "66 0f ef c0", EMU_DEC_OK, 4, M_PXOR, ANY, 8 },
	{ 8, "66 45 0f ef ff", EMU_DEC_OK, 5, M_PXOR, ANY, 8 },
	{ 8, "0f 57 c0", EMU_DEC_OK, 3, M_XORPS, ANY, 8 },
	{ 8, "f2 0f 58 c1", EMU_DEC_OK, 4, M_ADDSD, ANY, 8 },
	{ 8, "f3 0f 5e 04 24", EMU_DEC_OK, 5, M_DIVSS, ANY, 8 },
	{ 8, "66 0f 51 c1", EMU_DEC_OK, 4, M_SQRTPD, ANY, 8 },
	{ 8, "f2 48 0f 2a c1", EMU_DEC_OK, 5, M_CVTSI2SD, 8, 8 },         /* cvtsi2sd xmm0, rcx */
	{ 8, "f2 0f 2a c1", EMU_DEC_OK, 4, M_CVTSI2SD, 4, 8 },
	{ 8, "f2 48 0f 2c c1", EMU_DEC_OK, 5, M_CVTTSD2SI, 8, 8 },
	{ 8, "f3 0f 2d c1", EMU_DEC_OK, 4, M_CVTSS2SI, 4, 8 },
	{ 8, "0f 2a c1", EMU_DEC_UD, 3, M_INVALID, ANY, ANY },             /* MMX cvtpi2ps: not offered */
	{ 8, "f2 0f c2 c1 03", EMU_DEC_OK, 5, M_CMPSD, ANY, 8 },
	{ 8, "f3 0f e6 c1", EMU_DEC_OK, 4, M_CVTDQ2PD, ANY, 8 },
	{ 8, "0f 5a 07", EMU_DEC_OK, 3, M_CVTPS2PD, ANY, 8 },
	{ 8, "66 0f 57 c0", EMU_DEC_OK, 4, M_XORPD, ANY, 8 },
	{ 8, "66 0f 74 c1", EMU_DEC_OK, 4, M_PCMPEQB, ANY, 8 },
	{ 8, "66 0f d7 c0", EMU_DEC_OK, 4, M_PMOVMSKB, ANY, 8 },
	{ 8, "66 0f d7 00", EMU_DEC_UD, 4, M_INVALID, ANY, ANY },          /* register source only */
	{ 8, "66 0f 70 c1 1b", EMU_DEC_OK, 5, M_PSHUFD, ANY, 8 },
	{ 8, "f2 0f 70 c1 1b", EMU_DEC_OK, 5, M_PSHUFLW, ANY, 8 },
	{ 8, "f3 0f 70 c1 1b", EMU_DEC_OK, 5, M_PSHUFHW, ANY, 8 },
	{ 8, "66 0f 73 d8 04", EMU_DEC_OK, 5, M_PSRLDQ, ANY, 8 },         /* group 14 /3 */
	{ 8, "66 0f 73 f8 04", EMU_DEC_OK, 5, M_PSLLDQ, ANY, 8 },
	{ 8, "66 0f 72 e0 04", EMU_DEC_OK, 5, M_PSRAD, ANY, 8 },          /* group 13 /4 */
	{ 8, "66 0f 71 f0 04", EMU_DEC_OK, 5, M_PSLLW, ANY, 8 },          /* group 12 /6 */
	{ 8, "66 0f 73 c0 04", EMU_DEC_UD, 5, M_INVALID, ANY, ANY },       /* group 14 /0 */
	{ 8, "66 0f 60 c1", EMU_DEC_OK, 4, M_PUNPCKLBW, ANY, 8 },
	{ 8, "66 0f 6d c1", EMU_DEC_OK, 4, M_PUNPCKHQDQ, ANY, 8 },
	{ 8, "0f c6 c1 44", EMU_DEC_OK, 4, M_SHUFPS, ANY, 8 },
	{ 8, "66 0f fe c1", EMU_DEC_OK, 4, M_PADDD, ANY, 8 },
	{ 8, "66 0f f6 c1", EMU_DEC_OK, 4, M_PSADBW, ANY, 8 },
	{ 8, "f0 66 0f ef 00", EMU_DEC_UD, 5, M_INVALID, ANY, ANY },       /* LOCK: #UD */
	{ 4, "66 0f 6e c0", EMU_DEC_OK, 4, M_MOVD, 2, 4 },
	{ 4, "66 0f d4 04 24", EMU_DEC_OK, 5, M_PADDQ, ANY, 4 },
	{ 8, "ff e0", EMU_DEC_OK, 2, M_JMP, 8, 8 },
	{ 8, "0f 20 d8", EMU_DEC_OK, 3, M_MOVCR, 8, 8 },
	{ 8, "48 cf", EMU_DEC_OK, 2, M_IRET, 8, 8 },
	{ 8, "cf", EMU_DEC_OK, 1, M_IRET, 4, 8 },
	{ 8, "66 e8 00 00 00 00", EMU_DEC_OK, 6, M_CALL, 8, 8 },  /* Intel: 66 ignored on near branches */
	{ 8, "0f 88 00 00 00 00", EMU_DEC_OK, 6, M_JCC, 8, 8 },
	{ 8, "ea 00 00 00 00 08 00", EMU_DEC_UD, ANY, M_INVALID, ANY, ANY },
	{ 8, "48 0f c8", EMU_DEC_OK, 3, M_BSWAP, 8, 8 },
	{ 8, "48 a5", EMU_DEC_OK, 2, M_MOVS, 8, 8 },
	{ 8, "48 a1 88 77 66 55 44 33 22 11", EMU_DEC_OK, 10, M_MOV, 8, 8 },
	/* length limits: 15 bytes is fine, 16 is #GP */
	{ 4, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", EMU_DEC_OK, 15, M_NOP, 2, 4 },
	{ 4, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", EMU_DEC_TOOLONG, 15, M_INVALID, ANY, ANY },
	{ 8, "66 66 66 66 66 66 48 b8 88 77 66 55 44 33 22 11", EMU_DEC_TOOLONG, ANY, M_INVALID, ANY, ANY },
	{ 4, "26 26 26 26 26 26 26 26 26 26 26 c7 05 78 56 34 12 01 00 00 00", EMU_DEC_TOOLONG, ANY, M_INVALID, ANY, ANY },
	/* truncated: the decoder asks for more bytes */
	{ 4, "", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "66", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "0f", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "8b", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "8b 44", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "8b 44 24", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "e8 00 00", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 8, "48 b8 88 77 66 55 44 33 22", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
	{ 4, "ea 00 00 01 00 08", EMU_DEC_MORE, ANY, M_INVALID, ANY, ANY },
};

static void check_case(const struct dcase *c, unsigned i)
{
	uint8_t buf[32];
	size_t n = parse_hex(c->hex, buf, sizeof(buf));
	struct emu_insn in;
	enum emu_decode_status st = emu_decode(buf, n, c->mode, &in);
	if (st != c->st || (c->len != ANY && in.len != c->len) ||
	    (c->st != EMU_DEC_MORE && c->st != EMU_DEC_TOOLONG && in.mnem != c->mnem) ||
	    (c->st == EMU_DEC_OK && c->opsize != ANY && in.opsize != c->opsize) ||
	    (c->st == EMU_DEC_OK && c->addrsize != ANY && in.addrsize != c->addrsize)) {
		fprintf(stderr, "case %u (mode %u, %s): status %d len %u mnem %s opsize %u addrsize %u\n", i,
			c->mode * 8, c->hex, st, in.len, emu_mnem_name(in.mnem), in.opsize, in.addrsize);
		CHECK(0);
	} else {
		CHECK(1);
	}
}

static struct emu_insn dec(unsigned mode, const char *hex)
{
	uint8_t buf[32];
	size_t n = parse_hex(hex, buf, sizeof(buf));
	struct emu_insn in;
	CHECK_EQ(emu_decode(buf, n, mode, &in), EMU_DEC_OK);
	return in;
}

/* Operand fields of selected encodings. */
static void check_operands(void)
{
	struct emu_insn in;

	in = dec(4, "01 d8"); /* add eax, ebx */
	CHECK_EQ(in.mod, 3);
	CHECK_EQ(in.reg, 3);
	CHECK_EQ(in.rm, 0);
	CHECK_EQ(in.opw[0], 4);

	in = dec(4, "8b 44 24 08"); /* mov eax, [esp+8] */
	CHECK_EQ(in.base, 4);
	CHECK_EQ(in.index, EMU_NO_REG);
	CHECK_EQ(in.disp, 8);
	CHECK_EQ(in.seg, 2); /* SS: rSP base */

	in = dec(4, "8b 04 8d 00 10 00 00"); /* mov eax, [ecx*4+0x1000] */
	CHECK_EQ(in.base, EMU_NO_REG);
	CHECK_EQ(in.index, 1);
	CHECK_EQ(in.scale, 2);
	CHECK_EQ(in.disp, 0x1000);
	CHECK_EQ(in.seg, 3);

	in = dec(4, "8b 45 fc"); /* mov eax, [ebp-4] */
	CHECK_EQ(in.base, 5);
	CHECK_EQ(in.disp, -4);
	CHECK_EQ(in.seg, 2);

	in = dec(4, "c7 05 78 56 34 12 01 00 00 00"); /* mov dword [0x12345678], 1 */
	CHECK_EQ(in.disp, 0x12345678);
	CHECK_EQ(in.imm, 1);

	in = dec(4, "83 e8 ff"); /* sub eax, -1: the imm8 sign-extends */
	CHECK_EQ(in.imm, ~0ULL);

	in = dec(4, "ea 00 00 01 00 08 00"); /* jmp 0x08:0x10000 */
	CHECK_EQ(in.imm, 0x10000);
	CHECK_EQ(in.imm2, 8);

	in = dec(4, "c8 10 00 01"); /* enter 16, 1 */
	CHECK_EQ(in.imm, 0x10);
	CHECK_EQ(in.imm2, 1);

	in = dec(4, "f3 a4");
	CHECK_EQ(in.rep, EMU_REP_F3);
	CHECK_EQ(in.opw[0], 1);

	in = dec(4, "26 8b 03"); /* es: mov eax, [ebx] */
	CHECK_EQ(in.seg, 0);
	CHECK_EQ(in.segovr, 0);

	in = dec(4, "0f 84 10 00 00 00"); /* je */
	CHECK_EQ(in.cond, 4);
	CHECK_EQ(in.imm, 0x10);

	in = dec(4, "67 a1 44 33"); /* mov eax, [0x3344] with 16-bit addresses */
	CHECK_EQ(in.imm, 0x3344);

	in = dec(2, "8b 46 02"); /* mov ax, [bp+2] */
	CHECK_EQ(in.base, 5);
	CHECK_EQ(in.index, EMU_NO_REG);
	CHECK_EQ(in.seg, 2);
	CHECK_EQ(in.disp, 2);

	in = dec(2, "8b 00"); /* mov ax, [bx+si] */
	CHECK_EQ(in.base, 3);
	CHECK_EQ(in.index, 6);
	CHECK_EQ(in.seg, 3);

	in = dec(2, "8b 06 00 10"); /* mov ax, [0x1000] */
	CHECK_EQ(in.base, EMU_NO_REG);
	CHECK_EQ(in.disp, 0x1000);

	in = dec(2, "8b 87 34 12"); /* mov ax, [bx+0x1234]: disp16 is signed */
	CHECK_EQ(in.disp, 0x1234);

	in = dec(2, "e8 fd ff");
	CHECK_EQ(in.imm, (uint64_t)-3);

	in = dec(8, "4c 01 c0"); /* add rax, r8 */
	CHECK_EQ(in.reg, 8);
	CHECK_EQ(in.rm, 0);
	in = dec(8, "49 01 c0"); /* add r8, rax */
	CHECK_EQ(in.reg, 0);
	CHECK_EQ(in.rm, 8);

	in = dec(8, "48 8b 05 10 00 00 00"); /* mov rax, [rip+0x10] */
	CHECK_EQ(in.rip_rel, 1);
	CHECK_EQ(in.base, EMU_NO_REG);
	CHECK_EQ(in.disp, 0x10);

	in = dec(8, "48 b8 88 77 66 55 44 33 22 11");
	CHECK_EQ(in.imm, 0x1122334455667788ULL);

	in = dec(8, "48 c7 c0 ff ff ff ff"); /* mov rax, -1: imm32 sign-extends to 64 */
	CHECK_EQ(in.imm, ~0ULL);

	in = dec(8, "4a 8b 04 e5 00 00 00 00"); /* mov rax, [r12*8] */
	CHECK_EQ(in.index, 12);
	CHECK_EQ(in.scale, 3);
	CHECK_EQ(in.base, EMU_NO_REG);

	in = dec(8, "41 8b 04 24"); /* mov eax, [r12]: r12 base, no index, DS */
	CHECK_EQ(in.base, 12);
	CHECK_EQ(in.index, EMU_NO_REG);
	CHECK_EQ(in.seg, 3);

	in = dec(8, "41 8b 45 00"); /* mov eax, [r13+0]: DS, not SS */
	CHECK_EQ(in.base, 13);
	CHECK_EQ(in.seg, 3);

	in = dec(8, "40 66 90"); /* a REX before a legacy prefix is ignored */
	CHECK_EQ(in.rex, 0);

	in = dec(8, "41 90"); /* xchg r8d, eax */
	CHECK_EQ(in.rex, 0x41);

	in = dec(8, "48 a1 88 77 66 55 44 33 22 11"); /* mov rax, [moffs64] */
	CHECK_EQ(in.imm, 0x1122334455667788ULL);

	in = dec(8, "67 8b 07");
	CHECK_EQ(in.base, 7);
	CHECK_EQ(in.addrsize, 4);
}

/* The decoder never reads past the length it is given. */
static void check_bounds(void)
{
	uint8_t buf[EMU_INSN_MAX];
	struct emu_insn in;
	unsigned seed = 12345;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % (EMU_INSN_MAX + 1));
		for (size_t j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			buf[j] = (uint8_t)(seed >> 16);
		}
		enum emu_decode_status st = emu_decode(buf, n, 2u << (i % 3), &in);
		if (st == EMU_DEC_OK && in.len > n) {
			CHECK(in.len <= n);
			return;
		}
	}
	CHECK(1);
}

/* The disassembly that --trace and crash reports print. */
static void check_disasm(void)
{
	static const struct {
		unsigned mode;
		uint64_t rip;
		const char *hex, *text;
	} d[] = {
		{ 4, 0, "01 d8", "add eax, ebx" },
		{ 4, 0, "8b 44 24 08", "mov eax, dword [esp+0x8]" },
		{ 8, 0x1000, "48 8b 05 10 00 00 00", "mov rax, qword [rip+0x10] ; 0x1017" },
		{ 2, 0, "8b 46 fe", "mov ax, word [bp-0x2]" },
		{ 4, 0, "f3 a4", "rep movs es:[edi], [esi]" },
		{ 4, 0, "0f 84 10 00 00 00", "je 0x16" },
		{ 4, 0, "88 e0", "mov al, ah" },
		{ 8, 0, "40 88 e0", "mov al, spl" },
		{ 4, 0, "f0 0f b1 0b", "lock cmpxchg dword [ebx], ecx" },
		{ 4, 0, "ea 00 00 01 00 08 00", "jmp far 0x8:0x10000" },
		{ 4, 0, "0f 22 c0", "mov cr0, eax" },
		{ 4, 0, "c8 10 00 01", "enter 0x10, 0x1" },
		{ 8, 0, "db e3", "fninit" },
		{ 8, 0, "d9 7c 24 fe", "fnstcw [rsp-0x2]" },
		{ 8, 0, "66 0f 6f 06", "movdqa xmm0, xmmword [rsi]" },
		{ 8, 0, "f3 44 0f 7f 3f", "movdqu xmmword [rdi], xmm15" },
		{ 8, 0, "66 0f d7 c1", "pmovmskb eax, xmm1" },
		{ 8, 0, "66 0f 73 d8 04", "psrldq xmm0, 0x4" },
	};
	for (unsigned i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct emu_insn in = dec(d[i].mode, d[i].hex);
		char text[96];
		emu_disasm(&in, d[i].rip, text, sizeof(text));
		if (strcmp(text, d[i].text) != 0)
			fprintf(stderr, "disasm %s: got \"%s\", expected \"%s\"\n", d[i].hex, text, d[i].text);
		CHECK(strcmp(text, d[i].text) == 0);
	}
	/* a short buffer truncates, never overflows */
	struct emu_insn in = dec(4, "f0 0f b1 0b");
	char small[8];
	emu_disasm(&in, 0, small, sizeof(small));
	CHECK_EQ(strlen(small), 7);
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], i);
	check_operands();
	check_bounds();
	check_disasm();
	return unit_report("emu_decode");
}
