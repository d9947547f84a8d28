/* The fixed CPUID model of vmon's software CPU (SDM vol. 2A, CPUID). It
 * names a GenuineIntel family-6 part and advertises exactly what the
 * interpreter implements, so a guest that trusts CPUID never meets #UD.
 * Intel, because the instructions' vendor-specific behaviour is Intel's
 * (SYSCALL/SYSRET only in 64-bit mode, SYSENTER in long mode, syscall.c)
 * and the differential tests check emu against the host, an Intel CPU.
 * n = --cpus; s = the bits an APIC id needs for n, ceil(log2 n); each vCPU is
 * one core of one package, with APIC id = vCPU index.
 *
 *   leaf        register  value / bits
 *   0           eax       0x16 (highest basic leaf; 2 while MISC_ENABLE[22])
 *               ebx:edx:ecx "GenuineIntel"
 *   1           eax       0x00010601: family 6, model 0x10, stepping 1 (a model
 *                         number no Intel part uses: no model quirks apply)
 *               ebx       [31:24] APIC id, [23:16] 2^s addressable ids,
 *                         [15:8] CLFLUSH line 8 (64 bytes)
 *               ecx       CX16(13) x2APIC(21) POPCNT(23) TSC-deadline(24) HYPERVISOR(31)
 *               edx       FPU(0) DE(2) PSE(3) TSC(4) MSR(5) PAE(6) MCE(7) CX8(8) APIC(9)
 *                         SEP(11) MTRR(12) PGE(13) MCA(14) CMOV(15) PAT(16)
 *                         CLFSH(19) MMX(23) FXSR(24) SSE(25) SSE2(26), HTT(28) if n > 1
 *   2           eax       0x0000ff01: one round, descriptor 0xff "use leaf 4"
 *   4 (sub 0-3) all       caches, nominal (the interpreter keeps none; this is
 *                         the geometry software tunes for), 64-byte lines:
 *                         0 L1 data 32 KiB 8-way, 1 L1 code 32 KiB 8-way,
 *                         2 L2 1 MiB 16-way per core, 3 L3 8 MiB 16-way shared
 *                         by all; eax[31:26] 2^s - 1 cores per package
 *   4 (sub >3)  all       0 (no more caches)
 *   6           eax       ARAT(2): the APIC timer runs in every C-state
 *   7 (sub 0)   eax       0 (highest subleaf)
 *               ebx       TSC_ADJUST(1) SMEP(7) SMAP(20)
 *               ecx       UMIP(2) PKU(3) OSPKE(4) = CR4.PKE, PKS(31)
 *               edx       ARCH_CAPABILITIES(29)
 *   7 (sub >0)  all       0
 *   0xa         all       0 (no architectural performance monitoring)
 *   0xb         sub 0     SMT: eax 0, ebx 1, ecx 0x100; sub 1 core: eax s,
 *                         ebx n, ecx 0x201; sub >1: ecx = sub; edx APIC id
 *   0x15        eax/ebx/ecx 1 / 10 / 100000000: a 100 MHz core crystal (the
 *                         LAPIC timer's clock, lapic.c) and TSC = 10 x crystal
 *                         = 1 GHz
 *   0x16        eax/ebx/ecx 1000 / 1000 / 100: base, maximum and bus MHz (the
 *                         TSC's 1 GHz and the LAPIC's 100 MHz)
 *   0x40000000  eax       0x40000010; ebx:ecx:edx "VmonVmonVmon" (hypervisor leaf)
 *   0x40000010  eax       1000000: TSC kHz; ebx 100000: APIC bus kHz (the
 *                         VMware/QEMU convention; Linux 6.1 reads it only
 *                         under VMware's and ACRN's signatures and uses
 *                         leaf 0x15 here)
 *   0x80000000  eax       0x80000008
 *   0x80000001  ecx       LAHF/SAHF in 64-bit mode(0)
 *               edx       SYSCALL(11) NX(20; 0 while MISC_ENABLE[34]) RDTSCP(27) LM(29)
 *   0x80000002-4          brand string "vmon software CPU"
 *   0x80000006  ecx       0x04008040: L2 1024 KiB, 16-way (code 8), 64-byte lines
 *   0x80000007  edx       invariant TSC(8)
 *   0x80000008  eax       0x3028: 40 physical, 48 linear address bits
 *   above 0x16 and below 0x40000000, above 0x80000008: leaf 0x16's values,
 *                         as Intel parts answer a leaf past the highest
 *   other       all       0
 *
 * The x87 unit (fpu.c) runs the control and state instructions (FNINIT,
 * FNSTSW, FLDCW, FNSAVE, FXSAVE...) but no x87 arithmetic (#UD); SSE/SSE2
 * (sse.c) covers the moves, logic and common packed-integer operations, not
 * floating-point arithmetic. That is what the Linux x86-64 kernel requires
 * (FPU, FXSR, SSE, SSE2) and what integer code uses; MMX (mmx.c) runs the
 * same integer operations on the MMX registers.
 * MCA has no banks (MCG_CAP = 0): nothing here raises #MC. The MSRs these
 * bits imply are in msr.c.
 *
 * Not advertised (and #UD): SSE3+, AVX, XSAVE, VMX, MONITOR, RDRAND,
 * 1 GiB pages (they still walk correctly if a guest uses them), PMU,
 * speculation controls (there is no speculation). */
#include <string.h>

#include "cpu/x86_topology.h"
#include "emu.h"

#define EMU_CPUID_MAX_BASIC 0x16u
#define EMU_CPUID_MAX_EXT 0x80000008u
#define EMU_CPUID_HV_MAX 0x40000010u

static void put_str(uint32_t *regs, const char *s)
{
	memcpy(regs, s, 12);
}

static unsigned ncpus(const struct emu_cpu *cpu)
{
	return cpu->mach ? emu_machine_ncpus(cpu->mach) : 1;
}

/* Leaf 4: a cache of the given type (1 data, 2 code, 3 unified) and level
 * (SDM vol. 2A, CPUID leaf 04H). */
static void cache_leaf(uint32_t out[4], unsigned type, unsigned level, unsigned kib, unsigned ways,
		       unsigned sharing, unsigned cores)
{
	unsigned sets = kib * 1024 / (ways * 64);
	out[0] = type | (level << 5) | (1u << 8) | ((sharing - 1) << 14) | ((cores - 1) << 26);
	out[1] = ((ways - 1) << 22) | 63; /* one partition, 64-byte lines */
	out[2] = sets - 1;
	out[3] = 0;
}

void emu_cpuid(const struct emu_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	uint32_t *a = &out[0], *b = &out[1], *c = &out[2], *d = &out[3];
	unsigned n = ncpus(cpu), s = x86_core_id_bits(n);
	*a = *b = *c = *d = 0;
	if ((leaf > EMU_CPUID_MAX_BASIC && leaf < 0x40000000) || leaf > EMU_CPUID_MAX_EXT)
		leaf = EMU_CPUID_MAX_BASIC;
	switch (leaf) {
	case 0: {
		uint32_t r[3];
		put_str(r, "GenuineIntel");
		*a = (cpu->msr.misc_enable & EMU_MISC_ENABLE_LIMIT_CPUID) ? 2 : EMU_CPUID_MAX_BASIC;
		*b = r[0];
		*d = r[1];
		*c = r[2];
		break;
	}
	case 1:
		*a = 0x00010601;
		*b = (cpu->index << 24) | ((1u << s) << 16) | (8u << 8);
		*c = (1u << 13) | (1u << 21) | (1u << 23) | (1u << 24) | (1u << 31);
		*d = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
		     (1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) | (1u << 16) |
		     (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
		if (n > 1)
			*d |= 1u << 28;
		if (!(cpu->apic_base & (1u << 11)))
			*d &= ~(1u << 9); /* APIC globally disabled: the bit reads 0 */
		break;
	case 2:
		*a = 0x0000ff01;
		break;
	case 4:
		switch (sub) {
		case 0: cache_leaf(out, 1, 1, 32, 8, 1, 1u << s); break;
		case 1: cache_leaf(out, 2, 1, 32, 8, 1, 1u << s); break;
		case 2: cache_leaf(out, 3, 2, 1024, 16, 1, 1u << s); break;
		case 3: cache_leaf(out, 3, 3, 8192, 16, 1u << s, 1u << s); break;
		default: break;
		}
		break;
	case 6:
		*a = 1u << 2; /* ARAT */
		break;
	case 7:
		if (sub == 0) {
			*b = (1u << 1) | (1u << 7) | (1u << 20); /* TSC_ADJUST SMEP SMAP */
			*c = (1u << 2) | (1u << 3) | (1u << 31); /* UMIP PKU PKS */
			if (cpu->cr4 & EMU_CR4_PKE)
				*c |= 1u << 4; /* OSPKE mirrors CR4.PKE */
			*d = 1u << 29; /* ARCH_CAPABILITIES */
		}
		break;
	case 0xb:
		*c = sub & 0xff;
		*d = cpu->index;
		if (sub == 0) {
			*b = 1;
			*c |= 1u << 8;
		} else if (sub == 1) {
			*a = s;
			*b = n;
			*c |= 2u << 8;
		}
		break;
	case 0x15:
		*a = 1;
		*b = 10;
		*c = 100000000;
		break;
	case 0x16:
		*a = 1000;
		*b = 1000;
		*c = 100;
		break;
	case 0x40000000: {
		uint32_t r[3];
		put_str(r, "VmonVmonVmon");
		*a = EMU_CPUID_HV_MAX;
		*b = r[0];
		*c = r[1];
		*d = r[2];
		break;
	}
	case 0x40000010:
		*a = 1000000;
		*b = 100000;
		break;
	case 0x80000000:
		*a = EMU_CPUID_MAX_EXT;
		break;
	case 0x80000001:
		*c = 1u << 0;
		*d = (1u << 11) | (1u << 27) | (1u << 29);
		if (!(cpu->msr.misc_enable & EMU_MISC_ENABLE_XD_DISABLE))
			*d |= 1u << 20; /* NX, unless MISC_ENABLE[34] (SDM vol. 4 table 2-2) */
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: {
		static const char brand[48] = "vmon software CPU";
		memcpy(out, brand + 16 * (leaf - 0x80000002), 16);
		break;
	}
	case 0x80000006:
		*c = (1024u << 16) | (0x8u << 12) | 64;
		break;
	case 0x80000007:
		*d = 1u << 8;
		break;
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
