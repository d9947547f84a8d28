/* x87 arithmetic, loads, stores, compares and transcendentals (SDM vol. 1
 * chapter 8; vol. 2 instruction pages; opcode map appendix A.4, tables
 *
 *
 * The host is an x86-64 CPU with an x87 unit, like the guest. Each guest
 * instruction runs as the very same host instruction on the guest's whole
 * x87 state: FRSTOR loads the guest's FCW (precision and rounding control,
 * exception masks as the guest set them), its FSW (TOP, C0-C3; the
 * exception flags cleared), its tag word and its eight registers; the
 * instruction executes; FNSAVE stores the new state back. Results, C0-C3,
 * TOP, the tags (recomputed by the host from the register contents, SDM
 * vol. 1 §8.1.7), stack overflow and underflow (IE|SF, C1, the QNaN
 * indefinite as the masked response), NaN propagation, denormals,
 * unsupported formats and the exact results of FPREM/FSCALE/FXTRACT/FSIN/
 * FPTAN/FPATAN/F2XM1/FYL2X... are the host's, bit for bit, without
 * re-deriving IEEE 754 in C and without libm (which vmon does not link).
 * x87 exceptions are delayed until the next waiting instruction (vol. 1
 * §8.6), and FNSAVE is a no-wait instruction that reinitialises the FPU, so
 * an unmasked exception the guest asked for is recorded by the host (ES,
 * B, the unchanged destination, the scaled result of an unmasked overflow
 * or underflow) and never signalled to vmon. The stubs keep the host's FCW
 * (callee-saved in the SysV ABI) and leave the host stack empty, as the ABI
 * requires at a call boundary.
 *
 * Memory operands: a load reads guest memory into a host buffer first and
 * the host instruction reads it from there; a store writes the host buffer,
 * then guest memory; the new x87 state is committed only after the guest
 * access succeeded, so a #PF/#GP leaves the FPU (and EFLAGS) unchanged and
 * the instruction restartable. Whether the host stored at all (an unmasked
 * IE, OE or UE suppresses the store, vol. 1 §8.5) is found by running the
 * instruction twice over different buffer contents, only when an unmasked
 * exception occurred. FCOMI/FUCOMI(P) and FCMOVcc run on the host with the
 * guest's arithmetic EFLAGS loaded, and the result flags are taken back.
 *
 * Bookkeeping: FOP, FIP/FCS and (for memory forms) FDP/FDS are set for each
 * instruction executed here, as on processors before the FOP/FDP
 * "exception only" modes (vol. 1 §8.1.8, §8.1.9). The guest's sticky
 * exception flags are ORed back after the host ran, and ES/B are
 * recomputed from the flags and masks.
 *
 * Cost: one FRSTOR and one FNSAVE per instruction, about 200 ns on the
 * development host (an x87 register add; an integer ALU handler is ~25 ns).
 * x86-64 code uses x87 only for long double, so a fast path that loads
 * just the operands (fldt) is left for when a workload needs it.
 *
 * Simplifications, honestly: with CR0.NE clear a pending exception is
 * ignored (no FERR#/IGNNE#/IRQ 13); FISTTP (SSE3) is #UD because CPUID does
 * not advertise SSE3; the undocumented aliases (FSTP1, FCOM2, FCOMP3,
 * FXCH4, FCOMP5, FXCH7, FSTP8, FSTP9) are #UD, FFREEP (DF C0+i) is kept;
 * results are those of the host CPU model (AMD and Intel differ in the last
 * bits of transcendental results and in some undefined condition codes). */
#include <string.h>

#include "emu.h"
#include "x87.h"

#if !defined(__x86_64__)
#error "x87.c executes the guest's x87 arithmetic on an x86-64 host"
#endif

/* One stub per encoding: 512 register forms (index esc * 64 + modrm - 0xc0)
 * then 64 memory forms (512 + esc * 8 + reg, operand at (%rsi)). Called as
 * uint64_t stub(void *image, void *mem, uint64_t rflags): loads the arithmetic
 * flags from rflags (FCMOVcc reads them), FRSTORs the 108-byte image at
 * (%rdi), executes, FNSAVEs into the image, restores the host FCW and
 * returns the host's RFLAGS (FCOMI writes them). endbr64 for hosts that
 * enforce indirect-branch tracking. */
__asm__(".pushsection .text\n"
	".globl vmon_x87_stubs\n"
	".hidden vmon_x87_stubs\n"
	".type vmon_x87_stubs, @function\n"
	".balign 32\n"
	"vmon_x87_stubs:\n"
	".set vmon_x87_i, 0\n"
	".rept 576\n"
	"endbr64\n"
	"fnstcw -16(%rsp)\n"
	"push %rdx\n"
	"popfq\n"
	".byte 0xdd, 0x27\n" /* frstor (%rdi) */
	".if vmon_x87_i < 512\n"
	".byte 0xd8 + (vmon_x87_i >> 6), 0xc0 + (vmon_x87_i & 63)\n"
	".else\n"
	".byte 0xd8 + ((vmon_x87_i - 512) >> 3), (((vmon_x87_i - 512) & 7) << 3) | 6\n"
	".endif\n"
	".byte 0xdd, 0x37\n" /* fnsave (%rdi) */
	"fldcw -16(%rsp)\n"
	"pushfq\n"
	"pop %rax\n"
	"ret\n"
	/* next slot; "moves .org backwards" if a stub outgrew 32 bytes */
	".org vmon_x87_stubs + 32 * (vmon_x87_i + 1), 0xcc\n"
	".set vmon_x87_i, vmon_x87_i + 1\n"
	".endr\n"
	".size vmon_x87_stubs, . - vmon_x87_stubs\n"
	".popsection\n");

void vmon_x87_stubs(void);
typedef uint64_t x87_stub(void *image, void *mem, uint64_t rflags);

/* The FNSAVE/FRSTOR image in 32-bit protected-mode format (SDM vol. 1
 * figures 8-9 and 8-13): FCW at 0, FSW at 4, FTW at 8, ST(0)..ST(7) from 28. */
enum { IMG_FCW = 0, IMG_FSW = 4, IMG_FTW = 8, IMG_ST = 28, IMG_SIZE = 108 };

struct x87_image {
	uint8_t b[IMG_SIZE];
} __attribute__((aligned(16)));

static uint64_t host_run(unsigned idx, struct x87_image *img, uint8_t *mem, uint64_t rflags)
{
	x87_stub *fn = (x87_stub *)((uintptr_t)vmon_x87_stubs + 32u * idx);
	return fn(img->b, mem, rflags);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Memory forms, SDM vol. 2 tables,
 * operand bytes, and whether the instruction stores. 0 bytes: not
 * here (fpu.c's control forms) or not implemented. */
struct memform {
	uint8_t size, store;
};

static const struct memform memforms[8][8] = {
	/* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
	{ { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 } },
	/* D9: FLD m32fp, -, FST m32fp, FSTP m32fp; /4-/7 control */
	{ { 4, 0 }, { 0, 0 }, { 4, 1 }, { 4, 1 } },
	/* DA: FIADD FIMUL FICOM FICOMP FISUB FISUBR FIDIV FIDIVR m32int */
	{ { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 } },
	/* DB: FILD m32int, FISTTP (SSE3: #UD), FIST, FISTP m32int, -, FLD m80fp, -, FSTP m80fp */
	{ { 4, 0 }, { 0, 0 }, { 4, 1 }, { 4, 1 }, { 0, 0 }, { 10, 0 }, { 0, 0 }, { 10, 1 } },
	/* DC: the D8 operations on m64fp */
	{ { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 } },
	/* DD: FLD m64fp, FISTTP (#UD), FST, FSTP m64fp; /4, /6, /7 control */
	{ { 8, 0 }, { 0, 0 }, { 8, 1 }, { 8, 1 } },
	/* DE: the DA operations on m16int */
	{ { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 } },
	/* DF: FILD m16int, FISTTP (#UD), FIST, FISTP m16int, FBLD m80bcd, FILD m64int,
	 * FBSTP m80bcd, FISTP m64int */
	{ { 2, 0 }, { 0, 0 }, { 2, 1 }, { 2, 1 }, { 10, 0 }, { 8, 0 }, { 10, 1 }, { 8, 1 } },
};

/* Register forms (mod = 3), m = ModRM - 0xc0, SDM vol. 2 tables,
 * The control forms (FNOP, FNCLEX,
 * FNINIT, FNSTSW AX, FENI/FDISI/FSETPM) never get here. */
static bool reg_form_valid(unsigned esc, unsigned m)
{
	switch (esc) {
	case 0: /* FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR st(0), st(i) */
	case 4: /* FADD FMUL FCOM2 FCOMP3 FSUBR FSUB FDIVR FDIV st(i), st(0) */
		return esc == 0 || m < 0x10 || m >= 0x20;
	case 1:
		/* FLD st(i), FXCH st(i); E0 FCHS, E1 FABS, E4 FTST, E5 FXAM; E8-EE
		 * the constants; F0-FF F2XM1 ... FCOS */
		return m < 0x10 || m == 0x20 || m == 0x21 || m == 0x24 || m == 0x25 ||
		       (m >= 0x28 && m <= 0x2e) || m >= 0x30;
	case 2: /* FCMOVB/E/BE/U; E9 FUCOMPP */
		return m < 0x20 || m == 0x29;
	case 3: /* FCMOVNB/NE/NBE/NU; E8-EF FUCOMI, F0-F7 FCOMI */
		return m < 0x20 || (m >= 0x28 && m < 0x38);
	case 5: /* FFREE, -, FST, FSTP, FUCOM, FUCOMP st(i) */
		return m < 0x08 || (m >= 0x10 && m < 0x30);
	case 6: /* FADDP FMULP, D9 FCOMPP, FSUBRP FSUBP FDIVRP FDIVP st(i), st(0) */
		return m < 0x10 || m == 0x19 || m >= 0x20;
	default: /* DF: C0-C7 FFREEP (AMD-documented), E8 FUCOMIP, F0 FCOMIP */
		return m < 0x08 || (m >= 0x28 && m < 0x38);
	}
}

/* The forms that read or write EFLAGS: FCMOVcc, FCOMI/FUCOMI(P). */
static bool uses_eflags(unsigned esc, unsigned m)
{
	return ((esc == 2 || esc == 3) && m < 0x20) || ((esc == 3 || esc == 7) && m >= 0x28 && m < 0x38);
}

int emu_x87_exec(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct emu_fpu *f = &cpu->fpu;
	unsigned esc = in->opcode & 7, reg = (in->modrm >> 3) & 7, m = in->modrm & 63;
	struct memform mf = { 0, 0 };
	unsigned idx;
	uint8_t mem[16] = { 0 };
	bool flags = false;

	if (in->has_mem) {
		mf = memforms[esc][reg];
		if (!mf.size)
			goto undefined;
		idx = 512 + esc * 8 + reg;
		if (!mf.store)
			EMU_TRY(emu_mem_read_buf(cpu, in, 0, mem, mf.size, 1));
	} else {
		if (!reg_form_valid(esc, m))
			goto undefined;
		idx = esc * 64 + m;
		flags = uses_eflags(esc, m);
	}

	/* the guest state as a host FRSTOR image: exception flags, ES and B
	 * cleared so that the host does not signal the guest's old ones */
	struct x87_image img, before;
	unsigned top = (f->fsw >> 11) & 7;
	memset(img.b, 0, sizeof(img.b));
	put16(img.b + IMG_FCW, f->fcw);
	put16(img.b + IMG_FSW, f->fsw & 0x7f00);
	put16(img.b + IMG_FTW, f->ftw);
	for (unsigned i = 0; i < 8; i++)
		memcpy(img.b + IMG_ST + 10 * i, f->st[(top + i) & 7], 10);
	uint64_t fl_in = 2, fl_out;
	if (flags)
		fl_in |= emu_flags_get(cpu) & FL_ARITH;
	if (mf.store)
		before = img;

	fl_out = host_run(idx, &img, mem, fl_in);
	uint16_t hsw = get16(img.b + IMG_FSW);

	if (mf.store) {
		/* an unmasked exception may have suppressed the store: run again
		 * over a buffer of other contents (the first one was zeroed) and
		 * see whether the bytes agree */
		bool stored = true;
		if (hsw & 0x80) {
			struct x87_image again = before;
			uint8_t probe[16];
			memset(probe, 0xa5, sizeof(probe));
			host_run(idx, &again, probe, fl_in);
			stored = !memcmp(mem, probe, mf.size);
		}
		if (stored)
			EMU_TRY(emu_mem_write_buf(cpu, in, 0, mem, mf.size, 1));
	}

	/* commit */
	f->fsw = emu_x87_summary((uint16_t)(hsw | (f->fsw & 0x7f)), f->fcw);
	f->ftw = get16(img.b + IMG_FTW);
	top = (hsw >> 11) & 7;
	for (unsigned i = 0; i < 8; i++)
		memcpy(f->st[(top + i) & 7], img.b + IMG_ST + 10 * i, 10);
	if (flags)
		emu_flags_set_arith(cpu, fl_out & FL_ARITH);
	/* the last-instruction pointers (SDM vol. 1 §8.1.8, §8.1.9): offsets
	 * and selectors in protected mode; linear addresses in real and
	 * virtual-8086 mode, where the images hold no selectors (figures 8-11,
	 * 8-12) */
	bool real = !emu_prot_mode(cpu) || emu_vm86(cpu);
	f->fop = (uint16_t)(esc << 8 | in->modrm);
	f->fip = cpu->rip + (real ? cpu->seg[SEG_CS].base : 0);
	f->fcs = cpu->seg[SEG_CS].selector;
	if (in->has_mem) {
		f->fdp = (emu_ea(cpu, in) & emu_addr_mask(in->addrsize)) + (real ? cpu->seg[in->seg].base : 0);
		f->fds = cpu->seg[in->seg].selector;
	}
	return EMU_OK;

undefined:
	cpu->iundef = true;
	return emu_ud(cpu);
}
