/* The interpreter's step: take a pending interrupt, or fetch, decode and
 * execute one instruction through the mnemonic -> handler table; and the
 * run loop that prefers decoded blocks (block.c) and steps one instruction
 * at a time where a block cannot be used. The decoded-instruction cache is
 * keyed by the instruction's bytes, so self-modifying code needs no
 * invalidation. */
#include <stdio.h>
#include <string.h>

#include "emu.h"
#include "util/log.h"

static const emu_handler handlers[M_COUNT] = {
	[M_ADD] = emu_x_alu, [M_OR] = emu_x_alu, [M_ADC] = emu_x_alu, [M_SBB] = emu_x_alu,
	[M_AND] = emu_x_alu, [M_SUB] = emu_x_alu, [M_XOR] = emu_x_alu, [M_CMP] = emu_x_alu,
	[M_TEST] = emu_x_alu,
	[M_INC] = emu_x_unary, [M_DEC] = emu_x_unary, [M_NOT] = emu_x_unary, [M_NEG] = emu_x_unary,
	[M_MUL] = emu_x_muldiv, [M_IMUL1] = emu_x_muldiv, [M_IMUL] = emu_x_muldiv, [M_DIV] = emu_x_muldiv,
	[M_IDIV] = emu_x_muldiv,
	[M_ROL] = emu_x_shift, [M_ROR] = emu_x_shift, [M_RCL] = emu_x_shift, [M_RCR] = emu_x_shift,
	[M_SHL] = emu_x_shift, [M_SHR] = emu_x_shift, [M_SAR] = emu_x_shift, [M_SHLD] = emu_x_shift,
	[M_SHRD] = emu_x_shift,
	[M_MOV] = emu_x_mov, [M_MOVZX] = emu_x_mov, [M_MOVSX] = emu_x_mov, [M_MOVSXD] = emu_x_mov,
	[M_LEA] = emu_x_mov,
	[M_XCHG] = emu_x_data, [M_CMPXCHG] = emu_x_data, [M_CMPXCHG8B] = emu_x_data, [M_XADD] = emu_x_data,
	[M_BSWAP] = emu_x_data, [M_CBW] = emu_x_data, [M_CWD] = emu_x_data, [M_XLAT] = emu_x_data,
	[M_BOUND] = emu_x_data,
	[M_BT] = emu_x_bits, [M_BTS] = emu_x_bits, [M_BTR] = emu_x_bits, [M_BTC] = emu_x_bits,
	[M_BSF] = emu_x_bits, [M_BSR] = emu_x_bits, [M_POPCNT] = emu_x_bits, [M_SETCC] = emu_x_bits,
	[M_CMOV] = emu_x_bits,
	[M_PUSH] = emu_x_stack, [M_POP] = emu_x_stack, [M_PUSHSEG] = emu_x_stack, [M_POPSEG] = emu_x_stack,
	[M_PUSHA] = emu_x_stack, [M_POPA] = emu_x_stack, [M_PUSHF] = emu_x_stack, [M_POPF] = emu_x_stack,
	[M_ENTER] = emu_x_stack, [M_LEAVE] = emu_x_stack,
	[M_JCC] = emu_x_control, [M_JMP] = emu_x_control, [M_CALL] = emu_x_control, [M_RET] = emu_x_control,
	[M_LOOP] = emu_x_control, [M_LOOPE] = emu_x_control, [M_LOOPNE] = emu_x_control,
	[M_JRCXZ] = emu_x_control,
	[M_JMPF] = emu_x_far, [M_CALLF] = emu_x_far, [M_RETF] = emu_x_far,
	[M_INT] = emu_x_int, [M_INT3] = emu_x_int, [M_INTO] = emu_x_int, [M_INT1] = emu_x_int,
	[M_IRET] = emu_x_iret,
	[M_MOVS] = emu_x_string, [M_CMPS] = emu_x_string, [M_STOS] = emu_x_string, [M_LODS] = emu_x_string,
	[M_SCAS] = emu_x_string, [M_INS] = emu_x_string, [M_OUTS] = emu_x_string,
	[M_IN] = emu_x_io, [M_OUT] = emu_x_io,
	[M_NOP] = emu_x_system, [M_PAUSE] = emu_x_system, [M_HLT] = emu_x_system, [M_CLI] = emu_x_system,
	[M_STI] = emu_x_system, [M_CLTS] = emu_x_system, [M_INVD] = emu_x_system, [M_WBINVD] = emu_x_system,
	[M_INVLPG] = emu_x_system, [M_MOVCR] = emu_x_system, [M_MOVDR] = emu_x_system,
	[M_LMSW] = emu_x_system, [M_SMSW] = emu_x_system, [M_RDTSC] = emu_x_system,
	[M_RDTSCP] = emu_x_system, [M_SWAPGS] = emu_x_system, [M_FENCE] = emu_x_system,
	[M_CLFLUSH] = emu_x_system,
	[M_STAC] = emu_x_pkey, [M_CLAC] = emu_x_pkey, [M_RDPKRU] = emu_x_pkey, [M_WRPKRU] = emu_x_pkey,
	[M_FPU] = emu_x_fpu, [M_FWAIT] = emu_x_fpu, [M_FXSAVE] = emu_x_fpu, [M_FXRSTOR] = emu_x_fpu,
	[M_LDMXCSR] = emu_x_fpu, [M_STMXCSR] = emu_x_fpu,
	[M_CMC] = emu_x_flagop, [M_CLC] = emu_x_flagop, [M_STC] = emu_x_flagop, [M_CLD] = emu_x_flagop,
	[M_STD] = emu_x_flagop, [M_SAHF] = emu_x_flagop, [M_LAHF] = emu_x_flagop, [M_SALC] = emu_x_flagop,
	[M_DAA] = emu_x_bcd, [M_DAS] = emu_x_bcd, [M_AAA] = emu_x_bcd, [M_AAS] = emu_x_bcd,
	[M_AAM] = emu_x_bcd, [M_AAD] = emu_x_bcd,
	[M_SGDT] = emu_x_desc, [M_SIDT] = emu_x_desc, [M_LGDT] = emu_x_desc, [M_LIDT] = emu_x_desc,
	[M_SLDT] = emu_x_desc, [M_STR] = emu_x_desc, [M_LLDT] = emu_x_desc, [M_LTR] = emu_x_desc,
	[M_VERR] = emu_x_desc, [M_VERW] = emu_x_desc, [M_LAR] = emu_x_desc, [M_LSL] = emu_x_desc,
	[M_ARPL] = emu_x_desc, [M_MOVSEG] = emu_x_desc, [M_LSEG] = emu_x_desc,
	[M_WRMSR] = emu_x_msr, [M_RDMSR] = emu_x_msr,
	[M_CPUID] = emu_x_cpuid,
	[M_SYSCALL] = emu_x_syscall, [M_SYSRET] = emu_x_syscall, [M_SYSENTER] = emu_x_syscall,
	[M_SYSEXIT] = emu_x_syscall,
#define EMU_X_SSE(m) [M_##m] = emu_x_sse,
	EMU_SSE_MNEMONICS(EMU_X_SSE)
#undef EMU_X_SSE
};

/* --trace: address, bytes, disassembly, then the registers the instruction
 * changed (rip only when it did not simply fall through). */
static const char *const trace_reg[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };

static void trace_insn(struct emu_cpu *cpu, const struct emu_insn *in, const uint64_t *old_gpr,
		       uint64_t old_flags, uint64_t old_rip)
{
	char text[96], bytes[3 * EMU_INSN_MAX + 1];
	emu_disasm(in, old_rip, text, sizeof(text));
	size_t n = 0;
	for (unsigned i = 0; i < cpu->ilen && i < EMU_INSN_MAX; i++)
		n += (size_t)snprintf(bytes + n, sizeof(bytes) - n, "%02x ", cpu->ibytes[i]);
	bytes[n] = 0;
	fprintf(cpu->trace, "cpu%u %04x:%016llx  %-30s %-32s", cpu->index, cpu->seg[SEG_CS].selector,
		(unsigned long long)old_rip, bytes, text);
	for (int i = 0; i < 16; i++)
		if (cpu->gpr[i] != old_gpr[i])
			fprintf(cpu->trace, " %s=%llx", trace_reg[i], (unsigned long long)cpu->gpr[i]);
	uint64_t flags = emu_flags_get(cpu);
	if (flags != old_flags)
		fprintf(cpu->trace, " rflags=%llx", (unsigned long long)flags);
	if (cpu->rip != ((old_rip + in->len) & emu_mask(cpu->code_size)))
		fprintf(cpu->trace, " rip=%llx", (unsigned long long)cpu->rip);
	fputc('\n', cpu->trace);
}

/* Do the first n bytes (1-15) of two 16-byte buffers agree? Two word
 * compares instead of a memcmp call: this runs for every instruction. */
static bool same_bytes(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	if (n < 8)
		return ((a0 ^ b0) & ((1ULL << (8 * n)) - 1)) == 0;
	memcpy(&a1, a + 8, 8);
	memcpy(&b1, b + 8, 8);
	return a0 == b0 && ((a1 ^ b1) & ((1ULL << (8 * (n - 8))) - 1)) == 0;
}

/* Fetches and decodes the instruction at RIP; the second fetch only happens
 * when the instruction really continues on the next page. */
static int fetch_decode(struct emu_cpu *cpu, struct emu_insn *in, const struct emu_insn **out)
{
	unsigned got = 0, more = 0;
	cpu->ilen = 0;
	cpu->iundef = false;
	*out = in;
	struct emu_icache_entry *ce = NULL;
	if (cpu->icache) {
		/* fast path: compare the cached bytes straight from guest RAM */
		ce = &cpu->icache[(cpu->rip ^ (cpu->rip >> 10)) & (EMU_ICACHE_SIZE - 1)];
		const uint8_t *p = emu_fetch_peek(cpu, cpu->rip);
		unsigned n = ce->insn.len;
		if (p && n && ce->mode == cpu->code_size && same_bytes(ce->bytes, p, n)) {
			/* --trace and the crash report print ibytes: keep them this instruction's */
			memcpy(cpu->ibytes, ce->bytes, n);
			cpu->ilen = (uint8_t)n;
			*out = &ce->insn;
			return EMU_OK;
		}
	}
	EMU_TRY(emu_fetch(cpu, cpu->rip, cpu->ibytes, EMU_INSN_MAX, &got));
	if (ce) {
		unsigned n = ce->insn.len;
		if (n && n <= got && ce->mode == cpu->code_size && same_bytes(ce->bytes, cpu->ibytes, n)) {
			cpu->ilen = (uint8_t)n;
			*out = &ce->insn;
			return EMU_OK;
		}
	}
	enum emu_decode_status st = emu_decode(cpu->ibytes, got, cpu->code_size, in);
	if (st == EMU_DEC_MORE && got < EMU_INSN_MAX) {
		EMU_TRY(emu_fetch(cpu, cpu->rip + got, cpu->ibytes + got, EMU_INSN_MAX - got, &more));
		got += more;
		st = emu_decode(cpu->ibytes, got, cpu->code_size, in);
	}
	cpu->ilen = (uint8_t)(in->len ? in->len : got);
	switch (st) {
	case EMU_DEC_OK:
		if (ce) {
			memcpy(ce->bytes, cpu->ibytes, in->len);
			ce->mode = cpu->code_size;
			ce->insn = *in;
		}
		return EMU_OK;
	case EMU_DEC_UD:
		cpu->iundef = true;
		return emu_ud(cpu);
	default: /* over-long, or cut short by the CS limit */
		return emu_gp(cpu, 0);
	}
}

/* 0: nothing pending, 1: an interrupt was delivered, -1: delivering it
 * shut the vCPU down. */
static int take_interrupt(struct emu_cpu *cpu)
{
	if (cpu->nmi_pending && !cpu->nmi_blocked) {
		cpu->nmi_pending = false;
		cpu->nmi_blocked = true;
		if (emu_deliver(cpu, EXC_NMI, false, false, 0, cpu->rip) != EMU_OK && !emu_deliver_exception(cpu)) {
			emu_report_crash(cpu, "triple fault while delivering an NMI");
			return -1;
		}
		return 1;
	}
	if (!(cpu->rflags & FL_IF))
		return 0;
	emu_machine_poll_irqs(cpu);
	int vec = emu_lapic_pending(cpu);
	if (vec >= 0)
		emu_lapic_accept(cpu, (unsigned)vec);
	else if ((vec = emu_machine_ext_intr(cpu)) < 0)
		return 0;
	if (emu_deliver(cpu, (unsigned)vec, false, false, 0, cpu->rip) != EMU_OK && !emu_deliver_exception(cpu)) {
		emu_report_crash(cpu, "triple fault while delivering an external interrupt");
		return -1;
	}
	return 1;
}

bool emu_step(struct emu_cpu *cpu)
{
	bool shadow = cpu->irq_shadow;
	cpu->irq_shadow = 0;
	/* a debug trap left by something that was not an instruction here (a
	 * task switch's T flag in a block or an interrupt, a data breakpoint
	 * hit by an event delivery): taken at this boundary, before anything */
	if (cpu->db_pending && !cpu->db_hold) {
		int r_db = emu_dbg_raise(cpu, emu_dbg_trap_bits(cpu, false, false));
		return r_db == EMU_OK || emu_finish_fault(cpu);
	}
	if (!shadow) {
		int t = take_interrupt(cpu);
		if (t)
			return t > 0;
	}
	bool single_step = cpu->rflags & FL_TF; /* TF is never lazy */

	struct emu_insn buf;
	const struct emu_insn *in;
	/* A faulting instruction leaves no flag changes behind (handlers may
	 * have recorded flags before a memory write faulted): ADC retried after
	 * a copy-on-write #PF must see the old carry. */
	struct emu_lazy lf_save = cpu->lf;
	uint64_t flags_save = cpu->rflags;
	uint64_t trace_gpr[16], trace_flags = 0, trace_rip = cpu->rip;
	if (cpu->trace) {
		memcpy(trace_gpr, cpu->gpr, sizeof(trace_gpr));
		trace_flags = emu_flags_get(cpu);
	}
	/* SDM vol. 3 §17.3.1.1: the instruction breakpoint comes before the
	 * fetch's faults; RF is cleared once the instruction starts */
	int r = cpu->dbg ? emu_dbg_insn_check(cpu) : EMU_OK;
	if (r == EMU_OK)
		r = fetch_decode(cpu, &buf, &in);
	if (r == EMU_OK) {
		cpu->rflags &= ~(uint64_t)FL_RF;
		cpu->next_rip = (cpu->rip + in->len) & emu_mask(cpu->code_size);
		emu_handler h = handlers[in->mnem];
		if (h) {
			r = h(cpu, in);
		} else {
			cpu->iundef = true;
			r = emu_ud(cpu);
		}
	}
	if (r == EMU_OK) {
		cpu->rip = cpu->next_rip;
		cpu->icount++;
		if (cpu->trace)
			trace_insn(cpu, in, trace_gpr, trace_flags, trace_rip);
		/* single-step (§17.3.1.4) and data breakpoints: one trap-class #DB
		 * after the instruction, held one more instruction after MOV SS /
		 * POP SS (§6.8.3). INT n, INT3, INTO and INT1 enter their handler
		 * with TF cleared: no trap; SYSCALL and SYSRET leave theirs pending
		 * from TF at their end (syscall.c) */
		bool bs = single_step && in->mnem != M_INT && in->mnem != M_INT3 && in->mnem != M_INTO &&
			  in->mnem != M_INT1 && in->mnem != M_SYSCALL && in->mnem != M_SYSRET;
		if (in->mnem == M_INT1) {
			/* ICEBP's #DB is itself trap-class (§17.3.1; SDM vol. 2 INT n):
			 * the data breakpoints due at this boundary are reported in
			 * it, not in a second #DB */
			emu_dbg_enter(cpu, emu_dbg_trap_bits(cpu, false, false));
			return true;
		}
		if (!bs && !cpu->db_pending)
			return true;
		bool ss_shadow = cpu->irq_shadow && (in->mnem == M_MOVSEG || in->mnem == M_POPSEG);
		uint32_t bits = emu_dbg_trap_bits(cpu, bs, ss_shadow);
		if (!bits)
			return true;
		/* SDM vol. 2 HLT: "a debug exception ... will resume execution":
		 * the single-step trap after HLT ends the halt at once */
		if (cpu->state == EMU_HALTED)
			cpu->state = EMU_RUNNING;
		r = emu_dbg_raise(cpu, bits);
		return r == EMU_OK || emu_finish_fault(cpu);
	}
	cpu->db_pending = 0; /* the faulting instruction's data breakpoints never happened */
	cpu->db_hold = false;
	cpu->lf = lf_save;
	cpu->rflags = flags_save;
	return emu_finish_fault(cpu);
}

bool emu_finish_fault(struct emu_cpu *cpu)
{
	if (emu_deliver_exception(cpu))
		return true;
	char reason[128];
	if (cpu->iundef) {
		int n = snprintf(reason, sizeof(reason), "triple fault after #UD on unimplemented instruction");
		for (unsigned i = 0; i < cpu->ilen && n > 0 && (size_t)n < sizeof(reason) - 4; i++)
			n += snprintf(reason + n, sizeof(reason) - (size_t)n, " %02x", cpu->ibytes[i]);
	} else {
		snprintf(reason, sizeof(reason), "triple fault (vector %u could not be delivered)", cpu->exc.vector);
	}
	emu_report_crash(cpu, reason);
	return false;
}

emu_handler emu_insn_handler(unsigned mnem)
{
	return mnem < M_COUNT ? handlers[mnem] : NULL;
}

#define IRQ_POLL_BLOCKS 16

long emu_run(struct emu_cpu *cpu, long budget)
{
	long done = 0;
	cpu->irq_poll = true; /* timers and IPIs were delivered before this slice */
	while (done < budget && cpu->state == EMU_RUNNING && !cpu->yield) {
		/* The block path has no per-instruction hooks: the trace, TF, RF,
		 * an interrupt shadow, enabled breakpoints and a pending debug trap
		 * take the single-step path (debug.c). */
		if (cpu->bcache && !cpu->trace && !cpu->irq_shadow && !(cpu->rflags & (FL_TF | FL_RF)) && !cpu->dbg &&
		    !cpu->db_pending) {
			/* Between blocks, look for interrupts after anything that may
			 * have changed them (a generic instruction, a LAPIC write, a
			 * new slice) and otherwise every IRQ_POLL_BLOCKS blocks: a
			 * device interrupt from another thread waits a little longer. */
			int t = 0;
			if (cpu->nmi_pending ||
			    ((cpu->rflags & FL_IF) && (cpu->irq_poll || ++cpu->irq_skip >= IRQ_POLL_BLOCKS))) {
				cpu->irq_poll = false;
				cpu->irq_skip = 0;
				t = take_interrupt(cpu);
			}
			if (t < 0)
				return -1;
			if (t > 0) {
				done++;
				continue;
			}
			int n = emu_run_block(cpu);
			if (n == -2)
				return -1;
			if (n >= 0) {
				done += n ? n : 1;
				continue;
			}
		}
		if (!emu_step(cpu))
			return -1;
		done++;
	}
	return done;
}
