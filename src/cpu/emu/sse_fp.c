/* SSE/SSE2 floating-point arithmetic, compares and conversions (SDM vol. 1
 * §10.4.2-10.4.6, §11.4.1-11.4.4; vol. 2 instruction pages). The host is an
 * x86-64 CPU with SSE2, like the guest: each instruction runs as the same
 * host instruction on register copies of the operands under the guest's
 * MXCSR (RC, DAZ, FTZ; all exceptions masked on the host), so results,
 * NaN propagation, MIN/MAX operand order, the integer indefinite of
 * out-of-range conversions and the MXCSR flags are bit-exact without
 * re-deriving IEEE 754 in C (and without libm, which vmon does not link).
 * Memory operands are read by sse.c's rules first (128-bit ones 16-byte
 * aligned; scalar ones 4 or 8 bytes, zero-extended), so the host
 * instruction always takes register operands.
 *
 * Unmasked exceptions (SDM vol. 1 §11.5.2): the flags are ORed into MXCSR,
 * the destination is left unchanged, and #XM is raised with CR4.OSXMMEXCPT,
 * #UD without (vol. 3 §13.1.3). Simplification: the flags recorded are
 * those of the masked host computation (a post-computation flag such as PE
 * may accompany a pre-computation one that real hardware would report
 * alone). */
#include <string.h>

#include "emu.h"

#if !defined(__x86_64__)
#error "sse_fp.c executes the guest's SSE arithmetic on an x86-64 host"
#endif

struct v128 {
	uint8_t b[16];
} __attribute__((aligned(16)));

#define MXCSR_MASKS 0x1f80u
#define MXCSR_FLAGS 0x3fu

/* xmm0 = xmm0 OP xmm1 under guest MXCSR *csr; *csr receives the result flags. */
#define HOST_XX(insn)                                                                             \
	__asm__ volatile("stmxcsr %[sv]\n ldmxcsr %[c]\n movdqa %[a], %%xmm0\n movdqa %[b], %%xmm1\n" \
			 insn " %%xmm1, %%xmm0\n movdqa %%xmm0, %[a]\n stmxcsr %[c]\n ldmxcsr %[sv]" \
			 : [a] "+m"(*a), [c] "+m"(*csr), [sv] "=m"(save)                          \
			 : [b] "m"(*b)                                                             \
			 : "xmm0", "xmm1")

static bool host_vw(unsigned mnem, unsigned imm, struct v128 *a, const struct v128 *b, uint32_t *csr)
{
	uint32_t save;
#define CMP8(insn)                                                                 \
	switch (imm & 7) {                                                         \
	case 0: HOST_XX(insn " $0,"); break; case 1: HOST_XX(insn " $1,"); break; \
	case 2: HOST_XX(insn " $2,"); break; case 3: HOST_XX(insn " $3,"); break; \
	case 4: HOST_XX(insn " $4,"); break; case 5: HOST_XX(insn " $5,"); break; \
	case 6: HOST_XX(insn " $6,"); break; default: HOST_XX(insn " $7,"); break; \
	}
	switch (mnem) {
	case M_ADDPS: HOST_XX("addps"); break;
	case M_ADDPD: HOST_XX("addpd"); break;
	case M_ADDSS: HOST_XX("addss"); break;
	case M_ADDSD: HOST_XX("addsd"); break;
	case M_SUBPS: HOST_XX("subps"); break;
	case M_SUBPD: HOST_XX("subpd"); break;
	case M_SUBSS: HOST_XX("subss"); break;
	case M_SUBSD: HOST_XX("subsd"); break;
	case M_MULPS: HOST_XX("mulps"); break;
	case M_MULPD: HOST_XX("mulpd"); break;
	case M_MULSS: HOST_XX("mulss"); break;
	case M_MULSD: HOST_XX("mulsd"); break;
	case M_DIVPS: HOST_XX("divps"); break;
	case M_DIVPD: HOST_XX("divpd"); break;
	case M_DIVSS: HOST_XX("divss"); break;
	case M_DIVSD: HOST_XX("divsd"); break;
	case M_SQRTPS: HOST_XX("sqrtps"); break;
	case M_SQRTPD: HOST_XX("sqrtpd"); break;
	case M_SQRTSS: HOST_XX("sqrtss"); break;
	case M_SQRTSD: HOST_XX("sqrtsd"); break;
	/* MIN/MAX: the second (source) operand when either is NaN or both are zero */
	case M_MINPS: HOST_XX("minps"); break;
	case M_MINPD: HOST_XX("minpd"); break;
	case M_MINSS: HOST_XX("minss"); break;
	case M_MINSD: HOST_XX("minsd"); break;
	case M_MAXPS: HOST_XX("maxps"); break;
	case M_MAXPD: HOST_XX("maxpd"); break;
	case M_MAXSS: HOST_XX("maxss"); break;
	case M_MAXSD: HOST_XX("maxsd"); break;
	/* predicates 0-7: EQ LT LE UNORD NEQ NLT NLE ORD */
	case M_CMPPS: CMP8("cmpps"); break;
	case M_CMPPD: CMP8("cmppd"); break;
	case M_CMPSS: CMP8("cmpss"); break;
	case M_CMPSD: CMP8("cmpsd"); break;
	case M_CVTSS2SD: HOST_XX("cvtss2sd"); break;
	case M_CVTSD2SS: HOST_XX("cvtsd2ss"); break;
	case M_CVTPS2PD: HOST_XX("cvtps2pd"); break;
	case M_CVTPD2PS: HOST_XX("cvtpd2ps"); break;
	case M_CVTDQ2PS: HOST_XX("cvtdq2ps"); break;
	case M_CVTPS2DQ: HOST_XX("cvtps2dq"); break;
	case M_CVTTPS2DQ: HOST_XX("cvttps2dq"); break;
	case M_CVTDQ2PD: HOST_XX("cvtdq2pd"); break;
	case M_CVTPD2DQ: HOST_XX("cvtpd2dq"); break;
	case M_CVTTPD2DQ: HOST_XX("cvttpd2dq"); break;
	default:
		return false;
	}
#undef CMP8
	return true;
}

/* CVTSI2SS/CVTSI2SD xmm0, r32/r64 (w = 4 or 8). */
static bool host_cvtsi(unsigned mnem, unsigned w, struct v128 *a, uint64_t x, uint32_t *csr)
{
	uint32_t save;
#define HOST_XR(insn, r)                                                                            \
	__asm__ volatile("stmxcsr %[sv]\n ldmxcsr %[c]\n movdqa %[a], %%xmm0\n" insn " %" r "[x], %%xmm0\n" \
			 "movdqa %%xmm0, %[a]\n stmxcsr %[c]\n ldmxcsr %[sv]"                       \
			 : [a] "+m"(*a), [c] "+m"(*csr), [sv] "=m"(save)                            \
			 : [x] "r"(x)                                                                \
			 : "xmm0")
	if (mnem == M_CVTSI2SS && w == 8)
		HOST_XR("cvtsi2ssq", "q");
	else if (mnem == M_CVTSI2SS)
		HOST_XR("cvtsi2ssl", "k");
	else if (w == 8)
		HOST_XR("cvtsi2sdq", "q");
	else
		HOST_XR("cvtsi2sdl", "k");
#undef HOST_XR
	return true;
}

/* CVT(T)SS2SI/CVT(T)SD2SI r32/r64, xmm1 (w = 4 or 8). */
static bool host_cvt2si(unsigned mnem, unsigned w, const struct v128 *b, uint64_t *r, uint32_t *csr)
{
	uint32_t save;
	uint64_t x = 0;
#define HOST_RX(insn, reg)                                                                        \
	__asm__ volatile("stmxcsr %[sv]\n ldmxcsr %[c]\n movdqa %[b], %%xmm1\n" insn " %%xmm1, %" reg \
			 "[x]\n stmxcsr %[c]\n ldmxcsr %[sv]"                                        \
			 : [x] "+r"(x), [c] "+m"(*csr), [sv] "=m"(save)                              \
			 : [b] "m"(*b)                                                               \
			 : "xmm1")
	switch (mnem) {
	case M_CVTSS2SI: if (w == 8) HOST_RX("cvtss2si", "q"); else HOST_RX("cvtss2si", "k"); break;
	case M_CVTSD2SI: if (w == 8) HOST_RX("cvtsd2si", "q"); else HOST_RX("cvtsd2si", "k"); break;
	case M_CVTTSS2SI: if (w == 8) HOST_RX("cvttss2si", "q"); else HOST_RX("cvttss2si", "k"); break;
	case M_CVTTSD2SI: if (w == 8) HOST_RX("cvttsd2si", "q"); else HOST_RX("cvttsd2si", "k"); break;
	default:
		return false;
	}
#undef HOST_RX
	*r = w == 8 ? x : (uint32_t)x;
	return true;
}

/* The XMM register or memory operand n, zero-extended to 128 bits. */
static int xsrc(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, struct v128 *v)
{
	memset(v, 0, sizeof(*v));
	if (!in->has_mem) {
		memcpy(v->b, cpu->fpu.xmm[in->rm & 15], 16);
		return EMU_OK;
	}
	return emu_mem_read_buf(cpu, in, 0, v->b, in->opw[n], in->opw[n] == 16 ? 16 : 1);
}

/* Folds the host's flags into MXCSR; an unmasked one raises #XM (#UD
 * without CR4.OSXMMEXCPT) and the caller must not write the destination. */
static int mxcsr_update(struct emu_cpu *cpu, uint32_t csr)
{
	uint32_t exc = csr & MXCSR_FLAGS;
	cpu->fpu.mxcsr |= exc;
	if (exc & ~(cpu->fpu.mxcsr >> 7) & MXCSR_FLAGS)
		return cpu->cr4 & EMU_CR4_OSXMMEXCPT ? emu_raise(cpu, EXC_XM, false, 0) : emu_ud(cpu);
	return EMU_OK;
}

int emu_x_sse_fp(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct v128 a, b;
	uint64_t x;
	/* flags cleared, exceptions masked on the host; RC/DAZ/FTZ kept */
	uint32_t csr = (cpu->fpu.mxcsr & ~MXCSR_FLAGS) | MXCSR_MASKS;
	switch (in->mnem) {
	case M_CVTSI2SS:
	case M_CVTSI2SD:
		EMU_TRY(emu_op_read(cpu, in, 1, &x));
		memcpy(a.b, cpu->fpu.xmm[in->reg & 15], 16);
		host_cvtsi(in->mnem, in->opw[1], &a, x, &csr);
		EMU_TRY(mxcsr_update(cpu, csr));
		memcpy(cpu->fpu.xmm[in->reg & 15], a.b, 16);
		return EMU_OK;
	case M_CVTSS2SI:
	case M_CVTSD2SI:
	case M_CVTTSS2SI:
	case M_CVTTSD2SI:
		EMU_TRY(xsrc(cpu, in, 1, &b));
		host_cvt2si(in->mnem, in->opw[0], &b, &x, &csr);
		EMU_TRY(mxcsr_update(cpu, csr));
		return emu_op_write(cpu, in, 0, x);
	default:
		break;
	}
	memcpy(a.b, cpu->fpu.xmm[in->reg & 15], 16);
	EMU_TRY(xsrc(cpu, in, 1, &b));
	if (!host_vw(in->mnem, (unsigned)in->imm, &a, &b, &csr))
		return emu_ud(cpu);
	EMU_TRY(mxcsr_update(cpu, csr));
	memcpy(cpu->fpu.xmm[in->reg & 15], a.b, 16);
	return EMU_OK;
}
