/* x87 control and state management, FXSAVE/FXRSTOR and LDMXCSR/STMXCSR.
 * The x87 state is kept as the control, status and tag words and the eight
 * 80-bit registers as raw bytes; this file executes the control forms an OS
 * needs for context switches (FNSAVE/FRSTOR, FXSAVE/FXRSTOR) and what early
 * boot code probes (FNINIT, FNSTSW, FNSTCW), checks for a pending unmasked
 * exception (#MF) before every waiting instruction, and hands the other
 * D8-DF escapes to x87.c (arithmetic on the host's x87 unit). References:
 * SDM vol. 1 chapter 8 (x87 state and the FSTENV/FSAVE images, figures 8-9
 * to 8-12), §10.5 (FXSAVE area, table 10-2), vol. 2 pages of each
 * instruction, vol. 3 §2.5 table 2-2 (CR0.EM, TS, MP) and §13.1-13.2
 * (CR4.OSFXSR). */
#include <string.h>

#include "emu.h"
#include "x87.h"

void emu_fpu_reset(struct emu_fpu *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = 0x0040;
	f->ftw = 0x5555;
	f->mxcsr = EMU_MXCSR_RESET;
}

/* FNINIT/FNSAVE: SDM vol. 2 FINIT/FNINIT. */
static void fninit(struct emu_fpu *f)
{
	f->fcw = 0x037f;
	f->fsw = 0;
	f->ftw = 0xffff;
	f->fop = 0;
	f->fip = f->fdp = 0;
	f->fcs = f->fds = 0;
}

/* x87 instructions: #NM when CR0.EM or CR0.TS (table 2-2). */
static int x87_check(struct emu_cpu *cpu)
{
	if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
		return emu_raise(cpu, EXC_NM, false, 0);
	return EMU_OK;
}

int emu_sse_check(struct emu_cpu *cpu)
{
	if ((cpu->cr0 & X86_CR0_EM) || !(cpu->cr4 & X86_CR4_OSFXSR))
		return emu_ud(cpu);
	if (cpu->cr0 & X86_CR0_TS)
		return emu_raise(cpu, EXC_NM, false, 0);
	return EMU_OK;
}

static int mem_linear(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off, unsigned size, unsigned acc,
		      unsigned align, uint64_t *lin)
{
	EMU_TRY(emu_seg_linear(cpu, in->seg, (emu_ea(cpu, in) + off) & emu_addr_mask(in->addrsize), size, acc,
			       lin));
	if (align > 1 && (*lin & (align - 1)))
		return emu_gp(cpu, 0);
	return EMU_OK;
}

int emu_mem_read_buf(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off, void *buf, unsigned size,
		     unsigned align)
{
	uint64_t lin;
	EMU_TRY(mem_linear(cpu, in, off, size, ACC_READ, align, &lin));
	return emu_lin_read(cpu, lin, size, buf, ACC_READ);
}

int emu_mem_write_buf(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off, const void *buf,
		      unsigned size, unsigned align)
{
	uint64_t lin;
	EMU_TRY(mem_linear(cpu, in, off, size, ACC_WRITE, align, &lin));
	return emu_lin_write(cpu, lin, size, buf, ACC_WRITE);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static unsigned fpu_top(const struct emu_fpu *f) { return (f->fsw >> 11) & 7; }

/* The x87 environment image (SDM vol. 1 figures 8-9/8-10 protected mode,
 * 8-11/8-12 real mode): 14 bytes with a 16-bit operand size, else 28. The
 * real-mode layouts differ only in how FIP/FDP/FOP are packed; vmon keeps
 * those pointers, so both layouts are produced exactly. */
static unsigned env_size(const struct emu_insn *in) { return in->opsize == 2 ? 14 : 28; }

static void env_store(const struct emu_cpu *cpu, const struct emu_insn *in, uint8_t *p)
{
	const struct emu_fpu *f = &cpu->fpu;
	bool real = !emu_prot_mode(cpu) || emu_vm86(cpu);
	memset(p, 0, 28);
	if (in->opsize == 2) {
		put16(p + 0, f->fcw);
		put16(p + 2, f->fsw);
		put16(p + 4, f->ftw);
		if (real) {
			put16(p + 6, (uint16_t)f->fip);
			put16(p + 8, (uint16_t)(((f->fip >> 16) & 0xf) << 12 | (f->fop & 0x7ff)));
			put16(p + 10, (uint16_t)f->fdp);
			put16(p + 12, (uint16_t)(((f->fdp >> 16) & 0xf) << 12));
		} else {
			put16(p + 6, (uint16_t)f->fip);
			put16(p + 8, f->fcs);
			put16(p + 10, (uint16_t)f->fdp);
			put16(p + 12, f->fds);
		}
		return;
	}
	put16(p + 0, f->fcw);
	put16(p + 4, f->fsw);
	put16(p + 8, f->ftw);
	if (real) {
		put16(p + 12, (uint16_t)f->fip);
		put32(p + 16, (uint32_t)((((f->fip >> 16) & 0xffff) << 12) | (f->fop & 0x7ff)));
		put16(p + 20, (uint16_t)f->fdp);
		put32(p + 24, (uint32_t)(((f->fdp >> 16) & 0xffff) << 12));
	} else {
		put32(p + 12, (uint32_t)f->fip);
		put32(p + 16, (uint32_t)f->fcs | (uint32_t)(f->fop & 0x7ff) << 16);
		put32(p + 20, (uint32_t)f->fdp);
		put16(p + 24, f->fds);
	}
}

static void env_load(struct emu_cpu *cpu, const struct emu_insn *in, const uint8_t *p)
{
	struct emu_fpu *f = &cpu->fpu;
	bool real = !emu_prot_mode(cpu) || emu_vm86(cpu);
	if (in->opsize == 2) {
		f->fcw = get16(p + 0);
		f->fsw = get16(p + 2);
		f->ftw = get16(p + 4);
		if (real) {
			f->fip = get16(p + 6) | (uint64_t)(get16(p + 8) >> 12) << 16;
			f->fop = get16(p + 8) & 0x7ff;
			f->fdp = get16(p + 10) | (uint64_t)(get16(p + 12) >> 12) << 16;
		} else {
			f->fip = get16(p + 6);
			f->fcs = get16(p + 8);
			f->fdp = get16(p + 10);
			f->fds = get16(p + 12);
		}
	} else {
		f->fcw = get16(p + 0);
		f->fsw = get16(p + 4);
		f->ftw = get16(p + 8);
		if (real) {
			f->fip = get16(p + 12) | (uint64_t)(get32(p + 16) >> 12) << 16;
			f->fop = get32(p + 16) & 0x7ff;
			f->fdp = get16(p + 20) | (uint64_t)(get32(p + 24) >> 12) << 16;
		} else {
			f->fip = get32(p + 12);
			f->fcs = get16(p + 16);
			f->fop = (get32(p + 16) >> 16) & 0x7ff;
			f->fdp = get32(p + 20);
			f->fds = get16(p + 24);
		}
	}
	f->fcw |= 0x40; /* bit 6 reads as 1 */
}

/* The tag a register's contents imply (SDM vol. 1 §8.1.7): 0 valid, 1 zero, 2 special. */
static unsigned tag_of(const uint8_t *r)
{
	uint64_t mant = get64(r);
	unsigned exp = get16(r + 8) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2;
}

void emu_fpu_tags_valid(struct emu_fpu *f)
{
	uint16_t ftw = 0;
	for (unsigned i = 0; i < 8; i++)
		ftw |= (uint16_t)(tag_of(f->st[i]) << (2 * i));
	f->ftw = ftw;
}

/* FNSAVE/FRSTOR: the environment, then ST(0)..ST(7) as 80-bit values. */
static int fsave(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint8_t buf[28 + 80];
	unsigned n = env_size(in), top = fpu_top(&cpu->fpu);
	env_store(cpu, in, buf);
	for (unsigned i = 0; i < 8; i++)
		memcpy(buf + n + 10 * i, cpu->fpu.st[(top + i) & 7], 10);
	EMU_TRY(emu_mem_write_buf(cpu, in, 0, buf, n + 80, 1));
	fninit(&cpu->fpu);
	return EMU_OK;
}

static int frstor(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint8_t buf[28 + 80];
	unsigned n = env_size(in);
	EMU_TRY(emu_mem_read_buf(cpu, in, 0, buf, n + 80, 1));
	env_load(cpu, in, buf);
	unsigned top = fpu_top(&cpu->fpu);
	for (unsigned i = 0; i < 8; i++)
		memcpy(cpu->fpu.st[(top + i) & 7], buf + n + 10 * i, 10);
	return EMU_OK;
}

/* FXSAVE area, SDM vol. 1 table 10-2 (vol. 2 FXSAVE tables 3-53/3-56): the
 * REX.W form stores 64-bit FPU IP/DP without selectors. */
static int fxsave(struct emu_cpu *cpu, const struct emu_insn *in)
{
	const struct emu_fpu *f = &cpu->fpu;
	uint8_t a[512];
	EMU_TRY(emu_mem_read_buf(cpu, in, 0, a, sizeof(a), 16)); /* keep bytes 464-511 and the reserved ones */
	put16(a + 0, f->fcw);
	put16(a + 2, f->fsw);
	uint8_t ab = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((f->ftw >> (2 * i)) & 3) != 3)
			ab |= (uint8_t)(1u << i);
	a[4] = ab;
	a[5] = 0;
	put16(a + 6, f->fop);
	if (in->rex & 8) {
		put64(a + 8, f->fip);
		put64(a + 16, f->fdp);
	} else {
		put32(a + 8, (uint32_t)f->fip);
		put16(a + 12, f->fcs);
		put16(a + 14, 0);
		put32(a + 16, (uint32_t)f->fdp);
		put16(a + 20, f->fds);
		put16(a + 22, 0);
	}
	put32(a + 24, f->mxcsr);
	put32(a + 28, EMU_MXCSR_MASK);
	unsigned top = fpu_top(f);
	for (unsigned i = 0; i < 8; i++) {
		memcpy(a + 32 + 16 * i, f->st[(top + i) & 7], 10);
		memset(a + 42 + 16 * i, 0, 6);
	}
	/* XMM registers: saved when CR4.OSFXSR is set (implementation-defined
	 * otherwise); XMM8-15 only in 64-bit mode */
	if (cpu->cr4 & X86_CR4_OSFXSR)
		memcpy(a + 160, f->xmm, (emu_code64(cpu) ? 16 : 8) * 16);
	return emu_mem_write_buf(cpu, in, 0, a, sizeof(a), 16);
}

static int fxrstor(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct emu_fpu *f = &cpu->fpu;
	uint8_t a[512];
	EMU_TRY(emu_mem_read_buf(cpu, in, 0, a, sizeof(a), 16));
	uint32_t mxcsr = get32(a + 24);
	if (mxcsr & ~EMU_MXCSR_MASK)
		return emu_gp(cpu, 0); /* reserved MXCSR bits: #GP(0) */
	f->fcw = get16(a + 0) | 0x40;
	f->fsw = get16(a + 2);
	f->fop = get16(a + 6) & 0x7ff;
	if (in->rex & 8) {
		f->fip = get64(a + 8);
		f->fdp = get64(a + 16);
	} else {
		f->fip = get32(a + 8);
		f->fcs = get16(a + 12);
		f->fdp = get32(a + 16);
		f->fds = get16(a + 20);
	}
	unsigned top = fpu_top(f);
	for (unsigned i = 0; i < 8; i++)
		memcpy(f->st[(top + i) & 7], a + 32 + 16 * i, 10);
	/* the full tag word from the abridged one and the register contents */
	uint16_t ftw = 0;
	for (unsigned i = 0; i < 8; i++)
		ftw |= (uint16_t)(((a[4] >> i) & 1 ? tag_of(f->st[i]) : 3) << (2 * i));
	f->ftw = ftw;
	if (cpu->cr4 & X86_CR4_OSFXSR) {
		f->mxcsr = mxcsr;
		memcpy(f->xmm, a + 160, (emu_code64(cpu) ? 16 : 8) * 16);
	}
	return EMU_OK;
}

static int store16(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t v)
{
	return emu_mem_write_buf(cpu, in, 0, &v, 2, 1);
}

/* The no-wait forms (SDM vol. 1 §8.3.12, vol. 2 FINIT/FCLEX/FSTSW/FSTCW/
 * FSTENV/FSAVE; FENI/FDISI/FSETPM are no-ops): they do not check for a
 * pending unmasked exception. */
static bool x87_nowait(const struct emu_insn *in)
{
	unsigned esc = in->opcode & 7, reg = in->reg & 7;
	if (in->has_mem)
		return (esc == 1 && reg >= 6) || (esc == 5 && reg >= 6);
	return (esc == 3 && in->modrm >= 0xe0 && in->modrm <= 0xe4) || (esc == 7 && in->modrm == 0xe0);
}

/* D8-DF escapes (SDM vol. 2 appendix A.4, tables ): the control
 * forms here, the others in x87.c. */
static int x87_escape(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct emu_fpu *f = &cpu->fpu;
	unsigned esc = in->opcode & 7, reg = in->reg & 7;
	uint8_t buf[28];
	uint16_t v;
	EMU_TRY(x87_check(cpu));
	/* a waiting instruction first reports a pending unmasked exception:
	 * #MF with CR0.NE (vol. 1 §8.7, vol. 3 §2.5); without NE (FERR#,
	 * IRQ 13 on a PC) vmon goes on as if IGNNE# were asserted */
	if ((f->fsw & 0x80) && (cpu->cr0 & X86_CR0_NE) && !x87_nowait(in))
		return emu_raise(cpu, EXC_MF, false, 0);
	if (in->has_mem) {
		switch (esc << 3 | reg) {
		case 1 << 3 | 4: /* D9 /4 FLDENV */
			EMU_TRY(emu_mem_read_buf(cpu, in, 0, buf, env_size(in), 1));
			env_load(cpu, in, buf);
			return EMU_OK;
		case 1 << 3 | 5: /* D9 /5 FLDCW m16 */
			EMU_TRY(emu_mem_read_buf(cpu, in, 0, &v, 2, 1));
			f->fcw = v | 0x40;
			/* unmasking a flag that is set makes it pending (vol. 2 FLDCW) */
			f->fsw = emu_x87_summary(f->fsw, f->fcw);
			return EMU_OK;
		case 1 << 3 | 6: /* D9 /6 FNSTENV: then all exceptions masked */
			env_store(cpu, in, buf);
			EMU_TRY(emu_mem_write_buf(cpu, in, 0, buf, env_size(in), 1));
			f->fcw |= 0x3f;
			return EMU_OK;
		case 1 << 3 | 7: /* D9 /7 FNSTCW m16 */
			return store16(cpu, in, f->fcw);
		case 5 << 3 | 4: /* DD /4 FRSTOR */
			return frstor(cpu, in);
		case 5 << 3 | 6: /* DD /6 FNSAVE */
			return fsave(cpu, in);
		case 5 << 3 | 7: /* DD /7 FNSTSW m16 */
			return store16(cpu, in, f->fsw);
		default:
			break;
		}
	} else {
		switch (in->modrm) {
		case 0xd0: /* D9 D0 FNOP */
			if (esc == 1)
				return EMU_OK;
			break;
		case 0xe0: /* DF E0 FNSTSW AX; DB E0/E1/E4 FENI/FDISI/FSETPM: no-ops since the 80387 */
			if (esc == 7) {
				emu_reg_set(cpu, in, RAX, 2, f->fsw);
				return EMU_OK;
			}
			if (esc == 3)
				return EMU_OK;
			break;
		case 0xe1:
		case 0xe4:
			if (esc == 3)
				return EMU_OK;
			break;
		case 0xe2: /* DB E2 FNCLEX: clear PE UE OE ZE DE IE SF ES B */
			if (esc == 3) {
				f->fsw &= 0x7f00;
				return EMU_OK;
			}
			break;
		case 0xe3: /* DB E3 FNINIT */
			if (esc == 3) {
				fninit(f);
				return EMU_OK;
			}
			break;
		default:
			break;
		}
	}
	return emu_x87_exec(cpu, in);
}

int emu_x_fpu(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint32_t v;
	switch (in->mnem) {
	case M_FPU:
		return x87_escape(cpu, in);
	case M_FWAIT:
		/* #NM only when both MP and TS are set (table 2-2); then a pending
		 * unmasked x87 exception (FSW.ES) is reported: #MF with CR0.NE. */
		if ((cpu->cr0 & (X86_CR0_MP | X86_CR0_TS)) == (X86_CR0_MP | X86_CR0_TS))
			return emu_raise(cpu, EXC_NM, false, 0);
		if ((cpu->fpu.fsw & 0x80) && (cpu->cr0 & X86_CR0_NE))
			return emu_raise(cpu, EXC_MF, false, 0);
		return EMU_OK;
	case M_FXSAVE:
	case M_FXRSTOR:
		/* #NM when CR0.TS or CR0.EM (vol. 2 FXSAVE "Protected Mode Exceptions") */
		EMU_TRY(x87_check(cpu));
		return in->mnem == M_FXSAVE ? fxsave(cpu, in) : fxrstor(cpu, in);
	case M_LDMXCSR:
		EMU_TRY(emu_sse_check(cpu));
		EMU_TRY(emu_mem_read_buf(cpu, in, 0, &v, 4, 1));
		if (v & ~EMU_MXCSR_MASK)
			return emu_gp(cpu, 0);
		cpu->fpu.mxcsr = v;
		return EMU_OK;
	case M_STMXCSR:
		EMU_TRY(emu_sse_check(cpu));
		v = cpu->fpu.mxcsr;
		return emu_mem_write_buf(cpu, in, 0, &v, 4, 1);
	default:
		return emu_ud(cpu);
	}
}
