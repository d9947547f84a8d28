/* Model-specific registers: RDMSR/WRMSR for the MSRs the CPUID model
 * (cpuid.c, a family-6 Intel part) implies (SDM vol. 4 table 2-2, the
 * architectural MSRs), and the time stamp counter. Anything else is #GP(0),
 * as on hardware; so is a write that sets a reserved bit.
 *
 * The TSC: one machine-wide clock, the host's CLOCK_MONOTONIC in ns since
 * the machine's power-on (tsc_epoch, the same on every vCPU), so it counts
 * at the 1 GHz that CPUID leaf 0x15 announces, never stops and never goes
 * back, and the vCPUs' TSCs agree; each vCPU adds only its IA32_TSC_ADJUST
 * (tsc_offset), which WRMSR to the TSC moves by the same amount (SDM vol. 3
 * §17.17.3). */
#include <time.h>

#include "cpu/x86_fw_msrs.h"
#include "emu.h"
#include "util/log.h"

enum {
	MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b, MSR_FEATURE_CONTROL = 0x3a,
	MSR_TSC_ADJUST = 0x3b, MSR_BIOS_SIGN_ID = 0x8b, MSR_PMC0 = 0xc1, MSR_PMC1 = 0xc2,
	MSR_MTRRCAP = 0xfe, MSR_ARCH_CAPABILITIES = 0x10a, MSR_SYSENTER_CS = 0x174,
	MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a,
	MSR_PERFEVTSEL0 = 0x186, MSR_PERFEVTSEL1 = 0x187, MSR_MISC_ENABLE = 0x1a0,
	MSR_MTRR_PHYS_BASE0 = 0x200, MSR_MTRR_PHYS_MASK7 = 0x20f, MSR_MTRR_FIX64K_00000 = 0x250,
	MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259, MSR_MTRR_FIX4K_C0000 = 0x268,
	MSR_MTRR_FIX4K_F8000 = 0x26f, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff, MSR_PKRS = 0x6e1,
	MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083,
	MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
	MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

/* MTRRcap: 8 variable ranges, fixed ranges, write-combining; no SMRR
 * (SDM vol. 3 §12.11.2.1). */
#define MTRR_VCNT 8u
#define MTRRCAP_VALUE (MTRR_VCNT | (1u << 8) | (1u << 10))
#define MTRR_DEF_E (1u << 11)
#define MTRR_DEF_FE (1u << 10)
#define MTRR_VALID (1u << 11)
/* Address bits above MAXPHYADDR (40, CPUID 0x80000008) are reserved. */
#define EMU_PHYS_BITS 40u
#define PHYS_MASK (((1ULL << EMU_PHYS_BITS) - 1) & ~0xfffULL)

/* IA32_ARCH_CAPABILITIES: the "not affected" bits. The interpreter runs
 * one instruction at a time, with no speculation, no fill or store buffers
 * and no branch predictors to train, so none of these attacks apply:
 * RDCL_NO(0) SSB_NO(4) MDS_NO(5) PSCHANGE_MC_NO(6) TAA_NO(8)
 * SBDR_SSDP_NO(13) FBSDP_NO(14) PSDP_NO(15) BHI_NO(20) PBRSB_NO(24)
 * GDS_NO(26) RFDS_NO(27) ITS_NO(62) (SDM vol. 4 table 2-2). */
#define ARCH_CAPABILITIES_VALUE                                                                     \
	((1ULL << 0) | (1ULL << 4) | (1ULL << 5) | (1ULL << 6) | (1ULL << 8) | (1ULL << 13) |        \
	 (1ULL << 14) | (1ULL << 15) | (1ULL << 20) | (1ULL << 24) | (1ULL << 26) | (1ULL << 27) |   \
	 (1ULL << 62))

/* IA32_MISC_ENABLE (SDM vol. 4 table 2-2): R/W are fast strings (0),
 * automatic thermal control (3), Enhanced SpeedStep (16), MONITOR FSM (18),
 * the CPUID limit (22), xTPR disable (23) and XD disable (34), which hides
 * NX (cpuid.c) and makes EFER.NXE reserved; "BTS unavailable" (11) and
 * "PEBS unavailable" (12) read 1 and ignore writes, like "performance
 * monitoring available" (7), which reads 0; the reserved bits (2:1, 6:4,
 * 10:8, 15:13, 17, 21:19, 33:24, 63:35) are #GP if changed. */
#define MISC_ENABLE_RW                                                                              \
	((1ULL << 0) | (1ULL << 3) | (1ULL << 16) | (1ULL << 18) | EMU_MISC_ENABLE_LIMIT_CPUID |       \
	 (1ULL << 23) | EMU_MISC_ENABLE_XD_DISABLE)
#define MISC_ENABLE_RO ((1ULL << 7) | (1ULL << 11) | (1ULL << 12))
#define MISC_ENABLE_RESET ((1ULL << 0) | (1ULL << 11) | (1ULL << 12))

/* IA32_FEATURE_CONTROL reads as locked (bit 0) with VMX, SGX and LMCE off,
 * as firmware leaves it; a write to a locked register is #GP. */
#define FEATURE_CONTROL_VALUE 1ULL

uint64_t emu_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t emu_tsc(const struct emu_cpu *cpu)
{
	return emu_host_ns() - cpu->msr.tsc_epoch + cpu->msr.tsc_offset;
}

/* Memory types an MTRR may hold: UC WC WT WP WB (SDM vol. 3 table 12-8). */
static bool mtrr_type_ok(uint64_t t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into mtrr_fix[]: 0 = FIX64K_00000, 1-2 = FIX16K_*, 3-10 = FIX4K_*; or -1. */
static int fixed_index(uint32_t idx)
{
	if (idx == MSR_MTRR_FIX64K_00000)
		return 0;
	if (idx == MSR_MTRR_FIX16K_80000 || idx == MSR_MTRR_FIX16K_A0000)
		return 1 + (int)(idx - MSR_MTRR_FIX16K_80000);
	if (idx >= MSR_MTRR_FIX4K_C0000 && idx <= MSR_MTRR_FIX4K_F8000)
		return 3 + (int)(idx - MSR_MTRR_FIX4K_C0000);
	return -1;
}

static bool is_var_mtrr(uint32_t idx)
{
	return idx >= MSR_MTRR_PHYS_BASE0 && idx < MSR_MTRR_PHYS_BASE0 + 2 * MTRR_VCNT;
}

/* Power-on: PAT, the MTRRs and the rest of what firmware leaves, the state
 * shared with the KVM engine (cpu/x86_fw_msrs.c), for this CPU's 40 address
 * bits; MISC_ENABLE its power-on value (SDM vol. 3 table 9-1). */
void emu_msr_reset(struct emu_cpu *cpu)
{
	_Static_assert(X86_FW_MTRR_VCNT == MTRR_VCNT, "the firmware state fills the ranges MTRRcap reports");
	struct emu_msrs *m = &cpu->msr;
	m->misc_enable = MISC_ENABLE_RESET;
	m->mcg_status = 0;
	m->pkrs = 0;
	struct x86_fw_msr fw[X86_FW_MSRS_COUNT];
	unsigned n = x86_fw_msrs(EMU_PHYS_BITS, fw);
	for (unsigned i = 0; i < n; i++) {
		uint32_t idx = fw[i].index;
		int f = fixed_index(idx);
		if (f >= 0)
			m->mtrr_fix[f] = fw[i].value;
		else if (is_var_mtrr(idx))
			m->mtrr_var[idx - MSR_MTRR_PHYS_BASE0] = fw[i].value;
		else if (idx == MSR_MTRR_DEF_TYPE)
			m->mtrr_def = fw[i].value;
		else if (idx == MSR_PAT)
			m->pat = fw[i].value;
	}
}

/* WRMSR to an MTRR: reserved bits and undefined types are #GP(0) (SDM vol. 3
 * §12.11.2). */
static int wrmsr_mtrr(struct emu_cpu *cpu, uint32_t idx, uint64_t v)
{
	int f = fixed_index(idx);
	if (f >= 0) {
		for (unsigned i = 0; i < 8; i++)
			if (!mtrr_type_ok((v >> (8 * i)) & 0xff))
				return emu_gp(cpu, 0);
		cpu->msr.mtrr_fix[f] = v;
		return EMU_OK;
	}
	if (idx == MSR_MTRR_DEF_TYPE) {
		if ((v & ~(uint64_t)(MTRR_DEF_E | MTRR_DEF_FE | 0xff)) || !mtrr_type_ok(v & 0xff))
			return emu_gp(cpu, 0);
		cpu->msr.mtrr_def = v;
		return EMU_OK;
	}
	unsigned n = idx - MSR_MTRR_PHYS_BASE0;
	if (n % 2 == 0) { /* IA32_MTRR_PHYSBASEn: type in 7:0, base in 39:12 */
		if ((v & ~(PHYS_MASK | 0xff)) || !mtrr_type_ok(v & 0xff))
			return emu_gp(cpu, 0);
	} else if (v & ~(PHYS_MASK | MTRR_VALID)) { /* IA32_MTRR_PHYSMASKn */
		return emu_gp(cpu, 0);
	}
	cpu->msr.mtrr_var[n] = v;
	return EMU_OK;
}

/* PAT entries: UC WC WT WP WB UC- (0 1 4 5 6 7), each in the low 3 bits of
 * its byte (SDM vol. 3 §12.12.2). */
static bool pat_ok(uint64_t v)
{
	for (unsigned i = 0; i < 8; i++) {
		uint64_t t = (v >> (8 * i)) & 0xff;
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

int emu_set_efer(struct emu_cpu *cpu, uint64_t v)
{
	uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA;
	if (!(cpu->msr.misc_enable & EMU_MISC_ENABLE_XD_DISABLE))
		allowed |= X86_EFER_NXE; /* NX advertised only then (cpuid.c) */
	if (v & ~allowed)
		return emu_gp(cpu, 0);
	/* LME may not change while paging is on; LMA is read-only (SDM vol. 3 §9.8.5) */
	if ((cpu->cr0 & X86_CR0_PG) && ((v ^ cpu->efer) & X86_EFER_LME))
		return emu_gp(cpu, 0);
	v = (v & ~(uint64_t)X86_EFER_LMA) | (cpu->efer & X86_EFER_LMA);
	if ((v ^ cpu->efer) & X86_EFER_NXE)
		emu_tlb_flush(cpu);
	cpu->efer = v;
	return EMU_OK;
}

static int rdmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t *v)
{
	int f = fixed_index(idx);
	if (f >= 0) {
		*v = cpu->msr.mtrr_fix[f];
		return EMU_OK;
	}
	if (is_var_mtrr(idx)) {
		*v = cpu->msr.mtrr_var[idx - MSR_MTRR_PHYS_BASE0];
		return EMU_OK;
	}
	if (emu_lapic_msr(idx))
		return emu_lapic_rdmsr(cpu, idx, v);
	switch (idx) {
	case MSR_TSC: *v = emu_tsc(cpu); return EMU_OK;
	case MSR_PLATFORM_ID: *v = 0; return EMU_OK; /* platform 0 (bits 52:50) */
	case MSR_APIC_BASE: *v = cpu->apic_base; return EMU_OK;
	case MSR_FEATURE_CONTROL: *v = FEATURE_CONTROL_VALUE; return EMU_OK;
	case MSR_TSC_ADJUST: *v = cpu->msr.tsc_offset; return EMU_OK;
	case MSR_BIOS_SIGN_ID: *v = 0; return EMU_OK; /* microcode revision 0: none loaded */
	/* No PMU (CPUID leaf 0xa is 0): the counters and their selectors read 0. */
	case MSR_PMC0:
	case MSR_PMC1:
	case MSR_PERFEVTSEL0:
	case MSR_PERFEVTSEL1: *v = 0; return EMU_OK;
	case MSR_MTRRCAP: *v = MTRRCAP_VALUE; return EMU_OK;
	case MSR_ARCH_CAPABILITIES: *v = ARCH_CAPABILITIES_VALUE; return EMU_OK;
	case MSR_SYSENTER_CS: *v = cpu->msr.sysenter_cs; return EMU_OK;
	case MSR_SYSENTER_ESP: *v = cpu->msr.sysenter_esp; return EMU_OK;
	case MSR_SYSENTER_EIP: *v = cpu->msr.sysenter_eip; return EMU_OK;
	case MSR_MCG_CAP: *v = 0; return EMU_OK; /* no banks, no MCG_CTL (SDM vol. 3 §16.3.1.1) */
	case MSR_MCG_STATUS: *v = cpu->msr.mcg_status; return EMU_OK;
	case MSR_MISC_ENABLE: *v = cpu->msr.misc_enable; return EMU_OK;
	case MSR_PAT: *v = cpu->msr.pat; return EMU_OK;
	case MSR_MTRR_DEF_TYPE: *v = cpu->msr.mtrr_def; return EMU_OK;
	case MSR_PKRS: *v = cpu->msr.pkrs; return EMU_OK;
	case MSR_EFER: *v = cpu->efer; return EMU_OK;
	case MSR_STAR: *v = cpu->msr.star; return EMU_OK;
	case MSR_LSTAR: *v = cpu->msr.lstar; return EMU_OK;
	case MSR_CSTAR: *v = cpu->msr.cstar; return EMU_OK;
	case MSR_FMASK: *v = cpu->msr.fmask; return EMU_OK;
	case MSR_FS_BASE: *v = cpu->seg[SEG_FS].base; return EMU_OK;
	case MSR_GS_BASE: *v = cpu->seg[SEG_GS].base; return EMU_OK;
	case MSR_KERNEL_GS_BASE: *v = cpu->msr.kernel_gs_base; return EMU_OK;
	case MSR_TSC_AUX: *v = cpu->msr.tsc_aux; return EMU_OK;
	default:
		log_debug("emu: vCPU %u: rdmsr %#x: not implemented, #GP", cpu->index, idx);
		return emu_gp(cpu, 0);
	}
}

static int wrmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t v)
{
	if (fixed_index(idx) >= 0 || is_var_mtrr(idx) || idx == MSR_MTRR_DEF_TYPE)
		return wrmsr_mtrr(cpu, idx, v);
	if (emu_lapic_msr(idx))
		return emu_lapic_wrmsr(cpu, idx, v);
	switch (idx) {
	case MSR_TSC: cpu->msr.tsc_offset += v - emu_tsc(cpu); return EMU_OK;
	case MSR_TSC_ADJUST: cpu->msr.tsc_offset = v; return EMU_OK;
	case MSR_APIC_BASE: return emu_lapic_set_base(cpu, v);
	/* Software writes 0 here before CPUID to read the revision (SDM vol. 3
	 * §10.11.7.1); there is no microcode to report. */
	case MSR_BIOS_SIGN_ID: return EMU_OK;
	case MSR_PMC0:
	case MSR_PMC1:
	case MSR_PERFEVTSEL0:
	case MSR_PERFEVTSEL1: return EMU_OK;
	case MSR_MCG_STATUS:
		/* RIPV EIPV MCIP; LMCE_S needs LMCE, not offered */
		if (v & ~7ULL)
			return emu_gp(cpu, 0);
		cpu->msr.mcg_status = v;
		return EMU_OK;
	case MSR_SYSENTER_CS: cpu->msr.sysenter_cs = v & 0xffff; return EMU_OK;
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!emu_canonical(v))
			return emu_gp(cpu, 0);
		switch (idx) {
		case MSR_SYSENTER_ESP: cpu->msr.sysenter_esp = v; break;
		case MSR_SYSENTER_EIP: cpu->msr.sysenter_eip = v; break;
		case MSR_LSTAR: cpu->msr.lstar = v; break;
		case MSR_CSTAR: cpu->msr.cstar = v; break;
		case MSR_FS_BASE: cpu->seg[SEG_FS].base = v; break;
		case MSR_GS_BASE: cpu->seg[SEG_GS].base = v; break;
		default: cpu->msr.kernel_gs_base = v; break;
		}
		return EMU_OK;
	case MSR_MISC_ENABLE:
		if ((v ^ cpu->msr.misc_enable) & ~(MISC_ENABLE_RW | MISC_ENABLE_RO))
			return emu_gp(cpu, 0);
		cpu->msr.misc_enable = (cpu->msr.misc_enable & ~MISC_ENABLE_RW) | (v & MISC_ENABLE_RW);
		return EMU_OK;
	case MSR_PAT:
		if (!pat_ok(v))
			return emu_gp(cpu, 0);
		cpu->msr.pat = v;
		return EMU_OK;
	case MSR_PKRS: /* bits 63:32 reserved (SDM vol. 4 table 2-2); cached rights change */
		if (v >> 32)
			return emu_gp(cpu, 0);
		cpu->msr.pkrs = (uint32_t)v;
		emu_tlb_flush(cpu);
		return EMU_OK;
	case MSR_EFER: return emu_set_efer(cpu, v);
	case MSR_STAR: cpu->msr.star = v; return EMU_OK;
	case MSR_FMASK: cpu->msr.fmask = v & 0xffffffffULL; return EMU_OK;
	case MSR_TSC_AUX: cpu->msr.tsc_aux = v & 0xffffffffULL; return EMU_OK;
	default:
		/* read-only ones too: PLATFORM_ID, FEATURE_CONTROL (locked), MTRRcap,
		 * ARCH_CAPABILITIES, MCG_CAP */
		log_debug("emu: vCPU %u: wrmsr %#x: not implemented, #GP", cpu->index, idx);
		return emu_gp(cpu, 0);
	}
}

int emu_x_msr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (emu_prot_mode(cpu) && cpu->cpl != 0)
		return emu_gp(cpu, 0);
	uint32_t idx = (uint32_t)cpu->gpr[RCX];
	if (in->mnem == M_RDMSR) {
		uint64_t v = 0;
		EMU_TRY(rdmsr(cpu, idx, &v));
		emu_reg_set(cpu, in, RAX, 4, v & 0xffffffffULL);
		emu_reg_set(cpu, in, RDX, 4, v >> 32);
		return EMU_OK;
	}
	uint64_t v = (cpu->gpr[RAX] & 0xffffffffULL) | (cpu->gpr[RDX] << 32);
	return wrmsr(cpu, idx, v);
}
