/* The fixed CPUID model of vmon's software CPU. It advertises exactly what
 * the interpreter implements, so a guest that trusts CPUID never meets #UD:
 *
 *   leaf        register  value / bits
 *   0           eax       7 (highest basic leaf)
 *               ebx:edx:ecx "VmonVmonVmon"
 *   1           eax       0x00000663: family 6, model 6, stepping 3
 *               ebx       [31:24] APIC id = vCPU index, [23:16] 1 logical CPU,
 *                         [15:8] CLFLUSH line 8 (64 bytes)
 *               ecx       CX16(13) x2APIC(21) POPCNT(23) TSC-deadline(24) HYPERVISOR(31)
 *               edx       FPU(0) PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) APIC(9) SEP(11)
 *                         PGE(13) CMOV(15) PAT(16) CLFSH(19) MMX(23) FXSR(24) SSE(25) SSE2(26)
 *   2-6         all       0 (no cache descriptors)
 *   7 (sub 0)   eax       0 (highest subleaf)
 *               ebx       SMEP(7) SMAP(20)
 *               ecx       UMIP(2) PKU(3) OSPKE(4) = CR4.PKE, PKS(31)
 *   7 (sub >0)  all       0
 *   0x40000000  eax       0x40000000; ebx:ecx:edx "VmonVmonVmon" (hypervisor leaf)
 *   0x80000000  eax       0x80000008
 *   0x80000001  ecx       LAHF/SAHF in 64-bit mode(0)
 *               edx       SYSCALL(11) NX(20) RDTSCP(27) LM(29)
 *   0x80000002-4          brand string "vmon software CPU"
 *   0x80000008  eax       0x3028: 40 physical, 48 linear address bits
 *   other       all       0
 *
 * The x87 unit (fpu.c) runs the control and state instructions (FNINIT,
 * FNSTSW, FLDCW, FNSAVE, FXSAVE...) but no x87 arithmetic (#UD); SSE/SSE2
 * (sse.c) covers the moves, logic and common packed-integer operations, not
 * floating-point arithmetic. That is what the Linux x86-64 kernel requires
 * (FPU, FXSR, SSE, SSE2) and what integer code uses; MMX (mmx.c) runs the
 * same integer operations on the MMX registers.
 *
 * Not advertised (and #UD): SSE3+, AVX, VMX, MONITOR, RDRAND,
 * 1 GiB pages (they still walk correctly if a guest uses them), MTRR, MCA. */
#include <string.h>

#include "emu.h"

static void put_str(uint32_t *regs, const char *s)
{
	memcpy(regs, s, 12);
}

void emu_cpuid(const struct emu_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	uint32_t *a = &out[0], *b = &out[1], *c = &out[2], *d = &out[3];
	*a = *b = *c = *d = 0;
	switch (leaf) {
	case 0: {
		uint32_t r[3];
		put_str(r, "VmonVmonVmon");
		*a = 7;
		*b = r[0];
		*d = r[1];
		*c = r[2];
		break;
	}
	case 1:
		*a = 0x00000663;
		*b = (cpu->index << 24) | (1u << 16) | (8u << 8);
		*c = (1u << 13) | (1u << 21) | (1u << 23) | (1u << 24) | (1u << 31);
		*d = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) |
		     (1u << 11) | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 23) | (1u << 24) |
		     (1u << 25) | (1u << 26);
		if (!(cpu->apic_base & (1u << 11)))
			*d &= ~(1u << 9); /* APIC globally disabled: the bit reads 0 */
		break;
	case 7:
		if (sub == 0) {
			*b = (1u << 7) | (1u << 20); /* SMEP SMAP */
			*c = (1u << 2) | (1u << 3); /* UMIP PKU */
			if (cpu->cr4 & EMU_CR4_PKE)
				*c |= 1u << 4; /* OSPKE mirrors CR4.PKE */
			*c |= 1u << 31; /* PKS */
		}
		break;
	case 0x40000000: {
		uint32_t r[3];
		put_str(r, "VmonVmonVmon");
		*a = 0x40000000;
		*b = r[0];
		*c = r[1];
		*d = r[2];
		break;
	}
	case 0x80000000:
		*a = 0x80000008;
		break;
	case 0x80000001:
		*c = 1u << 0;
		*d = (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29);
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: {
		static const char brand[48] = "vmon software CPU";
		memcpy(out, brand + 16 * (leaf - 0x80000002), 16);
		break;
	}
	case 0x80000008:
		*a = 0x3028;
		break;
	default:
		break;
	}
}

int emu_x_cpuid(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint32_t r[4];
	emu_cpuid(cpu, (uint32_t)cpu->gpr[RAX], (uint32_t)cpu->gpr[RCX], r);
	emu_reg_set(cpu, in, RAX, 4, r[0]);
	emu_reg_set(cpu, in, RBX, 4, r[1]);
	emu_reg_set(cpu, in, RCX, 4, r[2]);
	emu_reg_set(cpu, in, RDX, 4, r[3]);
	return EMU_OK;
}
