/* The x86 instruction decoder: a pure function from a byte buffer and a
 * code-size mode to one decoded-instruction value. The interpreter, the
 * --trace disassembler, the unit tests (and later the JIT and a decoder
 * fuzzer) share it. Opcode maps are const tables in SDM vol. 2 appendix A
 * notation (decode_tables.c); this header defines their vocabulary. */
#ifndef VMON_CPU_EMU_DECODE_H
#define VMON_CPU_EMU_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Every mnemonic the tables know. X(name, "text") */
#define EMU_MNEMONICS(X)                                                                      \
	X(INVALID, "(bad)") X(ADD, "add") X(OR, "or") X(ADC, "adc") X(SBB, "sbb")               \
	X(AND, "and") X(SUB, "sub") X(XOR, "xor") X(CMP, "cmp") X(TEST, "test")                 \
	X(INC, "inc") X(DEC, "dec") X(NOT, "not") X(NEG, "neg")                                  \
	X(MUL, "mul") X(IMUL1, "imul") X(IMUL, "imul") X(DIV, "div") X(IDIV, "idiv")             \
	X(ROL, "rol") X(ROR, "ror") X(RCL, "rcl") X(RCR, "rcr") X(SHL, "shl") X(SHR, "shr")      \
	X(SAR, "sar") X(SHLD, "shld") X(SHRD, "shrd")                                            \
	X(MOV, "mov") X(MOVZX, "movzx") X(MOVSX, "movsx") X(MOVSXD, "movsxd") X(LEA, "lea")      \
	X(XCHG, "xchg") X(CMPXCHG, "cmpxchg") X(CMPXCHG8B, "cmpxchg8b") X(XADD, "xadd")          \
	X(BSWAP, "bswap") X(CBW, "cbw") X(CWD, "cwd") X(CMOV, "cmov") X(SETCC, "set")            \
	X(BT, "bt") X(BTS, "bts") X(BTR, "btr") X(BTC, "btc") X(BSF, "bsf") X(BSR, "bsr")        \
	X(POPCNT, "popcnt")                                                                      \
	X(PUSH, "push") X(POP, "pop") X(PUSHSEG, "push") X(POPSEG, "pop") X(PUSHA, "pusha")      \
	X(POPA, "popa") X(PUSHF, "pushf") X(POPF, "popf") X(ENTER, "enter") X(LEAVE, "leave")    \
	X(JCC, "j") X(JMP, "jmp") X(JMPF, "jmp far") X(CALL, "call") X(CALLF, "call far")        \
	X(RET, "ret") X(RETF, "retf") X(LOOP, "loop") X(LOOPE, "loope") X(LOOPNE, "loopne")      \
	X(JRCXZ, "jrcxz") X(INT, "int") X(INT3, "int3") X(INTO, "into") X(INT1, "int1")          \
	X(IRET, "iret")                                                                          \
	X(MOVS, "movs") X(CMPS, "cmps") X(STOS, "stos") X(LODS, "lods") X(SCAS, "scas")          \
	X(INS, "ins") X(OUTS, "outs") X(IN, "in") X(OUT, "out")                                  \
	X(NOP, "nop") X(PAUSE, "pause") X(HLT, "hlt") X(CMC, "cmc") X(CLC, "clc") X(STC, "stc")  \
	X(CLI, "cli") X(STI, "sti") X(CLD, "cld") X(STD, "std") X(SAHF, "sahf") X(LAHF, "lahf")  \
	X(XLAT, "xlat") X(DAA, "daa") X(DAS, "das") X(AAA, "aaa") X(AAS, "aas") X(AAM, "aam")    \
	X(AAD, "aad") X(SALC, "salc") X(BOUND, "bound") X(ARPL, "arpl") X(LSEG, "l")             \
	X(MOVSEG, "mov") X(MOVCR, "mov") X(MOVDR, "mov") X(FWAIT, "fwait") X(FPU, "(x87)")       \
	X(SGDT, "sgdt") X(SIDT, "sidt") X(LGDT, "lgdt") X(LIDT, "lidt") X(SMSW, "smsw")          \
	X(LMSW, "lmsw") X(INVLPG, "invlpg") X(SLDT, "sldt") X(STR, "str") X(LLDT, "lldt")        \
	X(LTR, "ltr") X(VERR, "verr") X(VERW, "verw") X(LAR, "lar") X(LSL, "lsl")                \
	X(CLTS, "clts") X(INVD, "invd") X(WBINVD, "wbinvd") X(UD2, "ud2") X(UD1, "ud1")          \
	X(WRMSR, "wrmsr") X(RDMSR, "rdmsr") X(RDTSC, "rdtsc") X(RDTSCP, "rdtscp")                \
	X(RDPMC, "rdpmc") X(CPUID, "cpuid") X(SYSCALL, "syscall") X(SYSRET, "sysret")            \
	X(SYSENTER, "sysenter") X(SYSEXIT, "sysexit") X(SWAPGS, "swapgs") X(FENCE, "fence")      \
	X(CLFLUSH, "clflush") X(MONITOR, "monitor") X(MWAIT, "mwait") X(XGETBV, "xgetbv")        \
	X(RSM, "rsm") X(STAC, "stac") X(CLAC, "clac") X(RDPKRU, "rdpkru") X(WRPKRU, "wrpkru")     \
	X(FXSAVE, "fxsave") X(FXRSTOR, "fxrstor") X(LDMXCSR, "ldmxcsr") X(STMXCSR, "stmxcsr")    \
	X(MOVUPS, "movups") X(MOVUPD, "movupd") X(MOVAPS, "movaps") X(MOVAPD, "movapd")          \
	X(MOVSS, "movss") X(MOVSD, "movsd") X(MOVLPS, "movlps") X(MOVLPD, "movlpd")              \
	X(MOVHPS, "movhps") X(MOVHPD, "movhpd") X(MOVNTPS, "movntps") X(MOVNTPD, "movntpd")      \
	X(MOVD, "movd") X(MOVQ, "movq") X(MOVDQA, "movdqa") X(MOVDQU, "movdqu")                  \
	X(MOVNTDQ, "movntdq") X(MOVNTI, "movnti") X(MOVMSKPS, "movmskps") X(MOVMSKPD, "movmskpd") \
	X(ANDPS, "andps") X(ANDPD, "andpd") X(ANDNPS, "andnps") X(ANDNPD, "andnpd")              \
	X(ORPS, "orps") X(ORPD, "orpd") X(XORPS, "xorps") X(XORPD, "xorpd")                      \
	X(PAND, "pand") X(PANDN, "pandn") X(POR, "por") X(PXOR, "pxor")                          \
	X(PCMPEQB, "pcmpeqb") X(PCMPEQW, "pcmpeqw") X(PCMPEQD, "pcmpeqd")                        \
	X(PCMPGTB, "pcmpgtb") X(PCMPGTW, "pcmpgtw") X(PCMPGTD, "pcmpgtd")                        \
	X(PMOVMSKB, "pmovmskb") X(PADDB, "paddb") X(PADDW, "paddw") X(PADDD, "paddd")            \
	X(PADDQ, "paddq") X(PSUBB, "psubb") X(PSUBW, "psubw") X(PSUBD, "psubd") X(PSUBQ, "psubq") \
	X(PADDUSB, "paddusb") X(PSUBUSB, "psubusb") X(PMULLW, "pmullw")                          \
	X(PMINUB, "pminub") X(PMAXUB, "pmaxub") X(PSADBW, "psadbw")                              \
	X(PSHUFD, "pshufd") X(PSHUFLW, "pshuflw") X(PSHUFHW, "pshufhw") X(SHUFPS, "shufps")      \
	X(SHUFPD, "shufpd")                                                                      \
	X(PUNPCKLBW, "punpcklbw") X(PUNPCKLWD, "punpcklwd") X(PUNPCKLDQ, "punpckldq")            \
	X(PUNPCKLQDQ, "punpcklqdq") X(PUNPCKHBW, "punpckhbw") X(PUNPCKHWD, "punpckhwd")          \
	X(PUNPCKHDQ, "punpckhdq") X(PUNPCKHQDQ, "punpckhqdq")                                    \
	X(UNPCKLPS, "unpcklps") X(UNPCKHPS, "unpckhps")                                          \
	X(PSLLW, "psllw") X(PSLLD, "pslld") X(PSLLQ, "psllq") X(PSRLW, "psrlw") X(PSRLD, "psrld") \
	X(PSRLQ, "psrlq") X(PSRAW, "psraw") X(PSRAD, "psrad") X(PSLLDQ, "pslldq")                \
	X(PSRLDQ, "psrldq")                                                                      \
	X(PADDSB, "paddsb") X(PADDSW, "paddsw") X(PSUBSB, "psubsb") X(PSUBSW, "psubsw")          \
	X(PADDUSW, "paddusw") X(PSUBUSW, "psubusw") X(PMINSW, "pminsw") X(PMAXSW, "pmaxsw")      \
	X(PAVGB, "pavgb") X(PAVGW, "pavgw") X(PMULHW, "pmulhw") X(PMULHUW, "pmulhuw")            \
	X(PMULUDQ, "pmuludq") X(PMADDWD, "pmaddwd") X(PACKSSWB, "packsswb")                      \
	X(PACKUSWB, "packuswb") X(PACKSSDW, "packssdw") X(PEXTRW, "pextrw") X(PINSRW, "pinsrw")  \
	X(UCOMISS, "ucomiss") X(UCOMISD, "ucomisd") X(COMISS, "comiss") X(COMISD, "comisd")      \
	X(EMMS, "emms") X(PSHUFW, "pshufw") X(MOVNTQ, "movntq") X(MASKMOVQ, "maskmovq")          \
	/* sse_fp.c; keep ADDPS first and CVTPD2DQ last */                                      \
	X(ADDPS, "addps") X(ADDPD, "addpd") X(ADDSS, "addss") X(ADDSD, "addsd")                  \
	X(SUBPS, "subps") X(SUBPD, "subpd") X(SUBSS, "subss") X(SUBSD, "subsd")                  \
	X(MULPS, "mulps") X(MULPD, "mulpd") X(MULSS, "mulss") X(MULSD, "mulsd")                  \
	X(DIVPS, "divps") X(DIVPD, "divpd") X(DIVSS, "divss") X(DIVSD, "divsd")                  \
	X(SQRTPS, "sqrtps") X(SQRTPD, "sqrtpd") X(SQRTSS, "sqrtss") X(SQRTSD, "sqrtsd")          \
	X(MINPS, "minps") X(MINPD, "minpd") X(MINSS, "minss") X(MINSD, "minsd")                  \
	X(MAXPS, "maxps") X(MAXPD, "maxpd") X(MAXSS, "maxss") X(MAXSD, "maxsd")                  \
	X(CMPPS, "cmpps") X(CMPPD, "cmppd") X(CMPSS, "cmpss") X(CMPSD, "cmpsd")                  \
	X(CVTSI2SS, "cvtsi2ss") X(CVTSI2SD, "cvtsi2sd") X(CVTTSS2SI, "cvttss2si")                \
	X(CVTTSD2SI, "cvttsd2si") X(CVTSS2SI, "cvtss2si") X(CVTSD2SI, "cvtsd2si")                \
	X(CVTSS2SD, "cvtss2sd") X(CVTSD2SS, "cvtsd2ss") X(CVTPS2PD, "cvtps2pd")                  \
	X(CVTPD2PS, "cvtpd2ps") X(CVTDQ2PS, "cvtdq2ps") X(CVTPS2DQ, "cvtps2dq")                  \
	X(CVTTPS2DQ, "cvttps2dq") X(CVTDQ2PD, "cvtdq2pd") X(CVTTPD2DQ, "cvttpd2dq")              \
	X(CVTPD2DQ, "cvtpd2dq")                                                                 

enum emu_mnem {
#define EMU_X_ENUM(n, s) M_##n,
	EMU_MNEMONICS(EMU_X_ENUM)
#undef EMU_X_ENUM
	M_COUNT
};

const char *emu_mnem_name(unsigned mnem);

/* Operand kinds, SDM vol. 2 §A.2.1 addressing-method letters. */
enum emu_opkind {
	OK_NONE,
	OK_E,    /* ModRM r/m: register or memory */
	OK_G,    /* ModRM reg: general register */
	OK_M,    /* ModRM r/m: memory only */
	OK_R,    /* ModRM r/m: register only */
	OK_I,    /* immediate (stored sign-extended) */
	OK_J,    /* relative branch offset */
	OK_O,    /* moffs: absolute offset, address-size wide */
	OK_Z,    /* register in the opcode's low three bits (+ REX.B) */
	OK_A,    /* far pointer immediate: offset then selector */
	OK_S,    /* segment register in ModRM reg */
	OK_C,    /* control register in ModRM reg */
	OK_D,    /* debug register in ModRM reg */
	OK_X,    /* string source DS:rSI */
	OK_Y,    /* string destination ES:rDI */
	OK_ONE,  /* the constant 1 (shift by one) */
	OK_REG,  /* a fixed general register (reg holds its number) */
	OK_SREG, /* a fixed segment register (reg holds it) */
	OK_V,    /* ModRM reg: XMM register */
	OK_W,    /* ModRM r/m: XMM register or memory */
	OK_U,    /* ModRM r/m: XMM register only */
	OK_P,    /* ModRM reg: MMX register */
	OK_Q,    /* ModRM r/m: MMX register or memory */
	OK_N,    /* ModRM r/m: MMX register only */
};

/* Operand sizes, SDM vol. 2 §A.2.2 size letters. */
enum emu_opsize {
	SZ_0, SZ_B, SZ_W, SZ_D, SZ_Q,
	SZ_V, /* word, dword or qword by operand size */
	SZ_Z, /* word for 16-bit operand size, else dword */
	SZ_Y, /* dword, or qword with 64-bit operand size */
	SZ_P, /* far pointer: 16-bit selector + v-size offset */
	SZ_S, /* pseudo-descriptor (lgdt/lidt) */
	SZ_X, /* 128 bits: dq, ps, pd */
};

struct emu_opspec {
	uint8_t kind, size, reg;
};

/* Decode tags (SDM vol. 2 §A.2.5 superscripts and table footnotes). */
enum {
	DF_MODRM = 1 << 0,  /* a ModRM byte follows */
	DF_LOCK = 1 << 1,   /* LOCK prefix allowed with a memory destination */
	DF_I64 = 1 << 2,    /* invalid in 64-bit mode */
	DF_O64 = 1 << 3,    /* valid only in 64-bit mode */
	DF_D64 = 1 << 4,    /* 64-bit mode: default operand size 64 */
	DF_F64 = 1 << 5,    /* 64-bit mode: operand size forced to 64 */
	DF_GROUP = 1 << 6,  /* the ModRM reg field selects the instruction */
	DF_STRING = 1 << 7, /* takes REP prefixes */
	DF_COND = 1 << 8,   /* low opcode nibble is a condition code */
	DF_NOSIZE = 1 << 9, /* operand size is irrelevant (width from spec) */
	DF_PRIV = 1 << 10,  /* CPL 0 only (informational; executor checks) */
	DF_SIGNED = 1 << 11,/* byte immediate sign-extends to operand size */
	DF_SSE = 1 << 12,   /* SSE/SSE2: #UD if CR0.EM or !CR4.OSFXSR, #NM if CR0.TS (SDM vol. 3 §13.1) */
	DF_UA = 1 << 13,    /* a 128-bit memory operand may be misaligned (MOVUPS, MOVDQU...) */
	DF_MMX = 1 << 14,   /* MMX registers: #UD if CR0.EM, #NM if CR0.TS, #MF if pending (SDM vol. 3 §2.5, §12.1) */
};

struct emu_opdesc {
	uint16_t mnem;
	uint16_t flags;
	uint8_t group;  /* index into the group tables when DF_GROUP */
	struct emu_opspec op[3];
};

enum emu_decode_status {
	EMU_DEC_OK = 0,
	EMU_DEC_MORE,    /* the buffer ends inside the instruction */
	EMU_DEC_TOOLONG, /* longer than 15 bytes: #GP(0) */
	EMU_DEC_UD,      /* undefined or not implemented: #UD */
};

#define EMU_INSN_MAX 15
#define EMU_NO_REG 0xff

enum { EMU_REP_NONE = 0, EMU_REP_F3 = 1, EMU_REP_F2 = 2 };
/* Mandatory-prefix columns of the 0F map (SDM vol. 2 §A.3: F3/F2 win over 66). */
enum { EMU_PFX_NP = 0, EMU_PFX_66 = 1, EMU_PFX_F3 = 2, EMU_PFX_F2 = 3 };

/* One decoded instruction. Register numbers include the REX extension. */
struct emu_insn {
	const struct emu_opdesc *desc;
	uint16_t mnem;
	uint16_t flags;     /* DF_* of the refined row */
	struct emu_opspec op[3];
	uint8_t len;
	uint8_t mode;       /* code size: 2, 4 or 8 */
	uint8_t opsize;     /* 2, 4 or 8 */
	uint8_t addrsize;   /* 2, 4 or 8 */
	uint8_t opw[3];     /* width in bytes of each operand (0 = none) */
	uint8_t map;        /* 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A */
	uint8_t mpfx;       /* mandatory prefix of an SSE row: EMU_PFX_* */
	uint8_t opcode;
	uint8_t rep;        /* EMU_REP_* */
	uint8_t lock;
	uint8_t opsize_prefix, addrsize_prefix;
	uint8_t segovr;     /* segment override prefix or EMU_NO_REG */
	uint8_t seg;        /* segment of the memory operand */
	uint8_t rex;        /* the REX byte, 0 if none */
	uint8_t cond;       /* condition code for Jcc/SETcc/CMOVcc */
	uint8_t has_modrm;
	uint8_t modrm, mod, reg, rm;
	uint8_t base, index, scale; /* memory operand; EMU_NO_REG when absent */
	uint8_t rip_rel;
	uint8_t has_mem;    /* mod != 3 */
	int64_t disp;
	uint64_t imm, imm2; /* imm sign-extended; imm2 = second immediate / selector */
};

/* Decodes at most len bytes of buf as code of size mode (2, 4 or 8).
 * Fills *insn as far as decoding got. Never reads past len. */
enum emu_decode_status emu_decode(const uint8_t *buf, size_t len, unsigned mode, struct emu_insn *insn);

/* Tables (decode_tables.c) */
extern const struct emu_opdesc emu_map1[256];
extern const struct emu_opdesc emu_map2[256];
/* 0F-map rows chosen by mandatory prefix (none, 66, F3, F2): SSE/SSE2. */
extern const struct emu_opdesc emu_map2_pfx[256][4];
const struct emu_opdesc *emu_group_entry(unsigned group, const struct emu_insn *insn);

/* Disassembly for --trace and crash messages: "add eax, [ebx+0x10]". */
void emu_disasm(const struct emu_insn *insn, uint64_t rip, char *out, size_t outlen);

#endif
