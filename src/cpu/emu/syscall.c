/* Fast system calls with the rules of the CPUID vendor (cpu->vendor_amd).
 * AMD (APM vol. 3 SYSCALL, SYSRET, SYSENTER): SYSCALL/SYSRET in legacy
 * protected mode, compatibility mode (to CSTAR) and 64-bit mode, SYSRET
 * leaving a non-canonical RCX to fault at CPL 3; SYSENTER/SYSEXIT in legacy
 * mode only. Intel (SDM vol. 2): SYSCALL/SYSRET in 64-bit mode only (#UD
 * elsewhere), SYSRET #GP(0) at CPL 0 for a non-canonical RCX; SYSENTER/
 * SYSEXIT in every protected mode, to 64-bit code in IA-32e mode. The
 * segments they load are fixed flat descriptors, not read from the GDT.
 *
 * Single-step: SYSCALL and SYSRET trap when TF is set at their end, not at
 * their start: no #DB when FMASK clears TF on the way in, and one at once,
 * at CPL 3, when SYSRET sets TF from R11 (unlike IRET, whose TF takes
 * effect one instruction later). Hardware's behaviour: Linux's entry code
 * relies on both (it returns with IRET when TF is set), kvm-unit-tests'
 * syscall test checks them. */
#include "emu.h"

/* The single-step trap after SYSCALL/SYSRET, from TF as they leave it; also
 * reached from the block path, which runs SYSRET with TF clear. */
static int step_trap(struct emu_cpu *cpu)
{
	if (cpu->rflags & FL_TF)
		cpu->db_pending |= EMU_DR6_BS;
	return EMU_OK;
}

static struct x86_segment flat(unsigned type, unsigned dpl, bool l, bool db)
{
	return (struct x86_segment){ .base = 0, .limit = 0xffffffff, .type = (uint8_t)type, .s = 1,
				     .dpl = (uint8_t)dpl, .present = 1, .l = l, .db = db, .g = 1 };
}

static void set_flat_cs_ss(struct emu_cpu *cpu, uint16_t cs, uint16_t ss, unsigned cpl, bool l)
{
	struct x86_segment c = flat(0xb, cpl, l, !l);
	emu_set_cs(cpu, cs, &c, cpl);
	cpu->seg[SEG_SS] = flat(3, cpl, false, true);
	cpu->seg[SEG_SS].selector = (uint16_t)((ss & ~3u) | cpl);
}

static int syscall_(struct emu_cpu *cpu, uint64_t f)
{
	/* #UD without EFER.SCE; Intel: outside 64-bit mode; AMD: in real mode
	 * (where vmon does not run it) */
	if (!(cpu->efer & X86_EFER_SCE) || !emu_prot_mode(cpu) || (!cpu->vendor_amd && !emu_code64(cpu)))
		return emu_ud(cpu);
	uint16_t sel = (uint16_t)(cpu->msr.star >> 32);
	if (emu_long_mode(cpu)) {
		/* from 64-bit mode to LSTAR, from compatibility mode to CSTAR;
		 * always into 64-bit mode */
		uint64_t target = emu_code64(cpu) ? cpu->msr.lstar : cpu->msr.cstar;
		cpu->gpr[RCX] = cpu->next_rip;
		cpu->gpr[R11] = f & ~(uint64_t)FL_RF;
		set_flat_cs_ss(cpu, sel & 0xfffc, (uint16_t)(sel + 8), 0, true);
		emu_flags_set(cpu, f & ~cpu->msr.fmask & ~(uint64_t)FL_RF);
		cpu->next_rip = target;
		return step_trap(cpu);
	}
	/* legacy mode: ECX = return EIP, EIP = STAR[31:0], VM IF RF cleared */
	cpu->gpr[RCX] = cpu->next_rip & 0xffffffffULL;
	set_flat_cs_ss(cpu, sel & 0xfffc, (uint16_t)(sel + 8), 0, false);
	emu_flags_set(cpu, f & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
	cpu->next_rip = cpu->msr.star & 0xffffffffULL;
	return step_trap(cpu);
}

static int sysret(struct emu_cpu *cpu, const struct emu_insn *in)
{
	if (!(cpu->efer & X86_EFER_SCE) || (!cpu->vendor_amd && !emu_code64(cpu)))
		return emu_ud(cpu);
	if (!emu_prot_mode(cpu) || cpu->cpl != 0)
		return emu_gp(cpu, 0);
	uint16_t sel = (uint16_t)(cpu->msr.star >> 48);
	if (emu_long_mode(cpu)) {
		/* REX.W: to 64-bit mode at RCX (AMD does not check it: a
		 * non-canonical RCX faults at CPL 3 on the fetch; Intel: #GP(0)
		 * here), else to compatibility mode at ECX; RFLAGS from R11 */
		bool to64 = in->opsize == 8;
		uint64_t rip = to64 ? cpu->gpr[RCX] : (cpu->gpr[RCX] & 0xffffffffULL);
		if (!cpu->vendor_amd && to64 && !emu_canonical(rip))
			return emu_gp(cpu, 0);
		set_flat_cs_ss(cpu, (uint16_t)((to64 ? sel + 16 : sel) | 3), (uint16_t)(sel + 8), 3, to64);
		emu_flags_set(cpu, (cpu->gpr[R11] & 0x3c7fd7) | X86_RFLAGS_FIXED);
		cpu->next_rip = rip;
		return step_trap(cpu);
	}
	/* legacy mode: to 32-bit code at ECX with IF set */
	set_flat_cs_ss(cpu, (uint16_t)(sel | 3), (uint16_t)(sel + 8), 3, false);
	emu_flags_set(cpu, emu_flags_get(cpu) | FL_IF);
	cpu->next_rip = cpu->gpr[RCX] & 0xffffffffULL;
	return step_trap(cpu);
}

int emu_x_syscall(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t f = emu_flags_get(cpu);
	switch (in->mnem) {
	case M_SYSCALL:
		return syscall_(cpu, f);
	case M_SYSRET:
		return sysret(cpu, in);
	case M_SYSENTER: {
		uint16_t sel = (uint16_t)cpu->msr.sysenter_cs;
		bool lm = emu_long_mode(cpu);
		if (lm && cpu->vendor_amd)
			return emu_ud(cpu); /* AMD: legacy mode only */
		if (!emu_prot_mode(cpu) || (sel & 0xfffc) == 0)
			return emu_gp(cpu, 0);
		set_flat_cs_ss(cpu, sel & 0xfffc, (uint16_t)(sel + 8), 0, lm);
		emu_flags_set(cpu, f & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
		cpu->gpr[RSP] = lm ? cpu->msr.sysenter_esp : (cpu->msr.sysenter_esp & 0xffffffffULL);
		cpu->next_rip = lm ? cpu->msr.sysenter_eip : (cpu->msr.sysenter_eip & 0xffffffffULL);
		return EMU_OK;
	}
	default: { /* SYSEXIT */
		uint16_t sel = (uint16_t)cpu->msr.sysenter_cs;
		if (emu_long_mode(cpu) && cpu->vendor_amd)
			return emu_ud(cpu); /* AMD: legacy mode only */
		if (!emu_prot_mode(cpu) || cpu->cpl != 0 || (sel & 0xfffc) == 0)
			return emu_gp(cpu, 0);
		bool to64 = in->opsize == 8;
		uint64_t rip = to64 ? cpu->gpr[RDX] : (cpu->gpr[RDX] & 0xffffffffULL);
		uint64_t rsp = to64 ? cpu->gpr[RCX] : (cpu->gpr[RCX] & 0xffffffffULL);
		if (to64 && (!emu_canonical(rip) || !emu_canonical(rsp)))
			return emu_gp(cpu, 0);
		set_flat_cs_ss(cpu, (uint16_t)(sel + (to64 ? 32 : 16)), (uint16_t)(sel + (to64 ? 40 : 24)), 3, to64);
		cpu->gpr[RSP] = rsp;
		cpu->next_rip = rip;
		return EMU_OK;
	}
	}
}
