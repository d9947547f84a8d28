/* The MSR state a PC firmware leaves for the OS, described once for both
 * CPU engines: emu's reset (emu/msr.c) stores it, the KVM engine writes it
 * with KVM_SET_MSRS (kvm/kvm_fw.c). */
#ifndef VMON_CPU_X86_FW_MSRS_H
#define VMON_CPU_X86_FW_MSRS_H

#include <stdint.h>

/* The architectural MSRs it holds (SDM vol. 4 table 2-2). */
enum {
	X86_MSR_MTRR_PHYSBASE0 = 0x200,
	X86_MSR_MTRR_FIX64K_00000 = 0x250,
	X86_MSR_MTRR_FIX16K_80000 = 0x258,
	X86_MSR_MTRR_FIX16K_A0000 = 0x259,
	X86_MSR_MTRR_FIX4K_C0000 = 0x268,
	X86_MSR_PAT = 0x277,
	X86_MSR_MTRR_DEF_TYPE = 0x2ff,
};

/* Variable ranges the firmware state fills (range 0) or clears: the 8 that
 * both engines' MTRRcap reports (emu: msr.c; KVM: KVM_NR_VAR_MTRR). */
#define X86_FW_MTRR_VCNT 8u
#define X86_FW_MTRR_NFIXED 11u

/* The CPUID.1:EDX feature an MSR belongs to: write it only if advertised. */
enum x86_fw_feature { X86_FW_NEEDS_MTRR, X86_FW_NEEDS_PAT };

struct x86_fw_msr {
	uint32_t index;
	enum x86_fw_feature needs;
	uint64_t value;
};

/* MTRRdefType, the variable pairs, the fixed ranges, PAT. */
#define X86_FW_MSRS_COUNT (1u + 2u * X86_FW_MTRR_VCNT + X86_FW_MTRR_NFIXED + 1u)

/* Fills out[X86_FW_MSRS_COUNT] for a CPU with `phys_bits` physical address
 * bits (CPUID 0x80000008 EAX[7:0], 36 if the leaf is absent: the variable
 * range masks cover every address bit, SDM vol. 3 §12.11.3). Returns the
 * count. No TSC, TSC_ADJUST or other clock here: each engine's TSC is
 * machine-wide and must not be written per vCPU. */
unsigned x86_fw_msrs(unsigned phys_bits, struct x86_fw_msr *out);

#endif
