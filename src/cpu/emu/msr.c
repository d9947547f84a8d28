/* Model-specific registers: RDMSR/WRMSR for the MSRs the CPUID model
 * implies (SDM vol. 4). Anything else is #GP(0), as on hardware. */
#include "emu.h"
#include "util/log.h"

enum {
	MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
	MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0, MSR_PAT = 0x277, MSR_PKRS = 0x6e1,
	MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083,
	MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
	MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

static bool canonical(uint64_t a)
{
	return (uint64_t)(((int64_t)(a << 16)) >> 16) == a;
}

int emu_set_efer(struct emu_cpu *cpu, uint64_t v)
{
	uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
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
	if (emu_lapic_msr(idx))
		return emu_lapic_rdmsr(cpu, idx, v);
	switch (idx) {
	case MSR_TSC: *v = emu_tsc(cpu); return EMU_OK;
	case MSR_APIC_BASE: *v = cpu->apic_base; return EMU_OK;
	case MSR_SYSENTER_CS: *v = cpu->msr.sysenter_cs; return EMU_OK;
	case MSR_SYSENTER_ESP: *v = cpu->msr.sysenter_esp; return EMU_OK;
	case MSR_SYSENTER_EIP: *v = cpu->msr.sysenter_eip; return EMU_OK;
	case MSR_MISC_ENABLE: *v = cpu->msr.misc_enable; return EMU_OK;
	case MSR_PAT: *v = cpu->msr.pat; return EMU_OK;
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
	if (emu_lapic_msr(idx))
		return emu_lapic_wrmsr(cpu, idx, v);
	switch (idx) {
	case MSR_TSC: cpu->msr.tsc_offset += v - emu_tsc(cpu); return EMU_OK;
	case MSR_APIC_BASE: return emu_lapic_set_base(cpu, v);
	case MSR_SYSENTER_CS: cpu->msr.sysenter_cs = v & 0xffff; return EMU_OK;
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!canonical(v))
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
	case MSR_MISC_ENABLE: cpu->msr.misc_enable = v; return EMU_OK;
	case MSR_PAT: cpu->msr.pat = v; return EMU_OK;
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
