/* x87 arithmetic of the software CPU against the host's x87 unit.
 *
 * Every register and memory form of D8-DF that x87.c executes runs on a
 * random x87 state (TOP, tags with empty and full registers so that stack
 * underflow and overflow happen, C0-C3, masked sticky flags, all precision
 * and rounding controls, sometimes unmasked exceptions) and random special
 * operands (zeros, denormals, pseudo-denormals, unnormals, infinities,
 * QNaN/SNaN, indefinite, huge and tiny exponents, integer boundaries, BCD).
 * The same instruction then runs natively: the test writes its own code
 * (push/popfq, FRSTOR, the instruction with its memory operand at (%rsi),
 * FNSAVE, pushfq) into an executable page, independent of x87.c's stubs. The
 * registers, FSW, full tag word, EFLAGS and the stored memory must agree bit
 * for bit; FOP/FIP/FDP are checked against the values the SDM defines.
 * Both run on the same CPU, so no "undefined" condition code needs masking.
 * Fixed anchors (1 + 2, sqrt 2, FCOMI, FISTP overflow...) guard against an
 * error the oracle and the emulator could share, and the exception paths
 * (#MF, faulting memory operands leave the state unchanged, #UD) are
 * checked directly. Reproducible: a fixed seed; a failing case prints its
 * inputs, the emulator's and the host's results. */
#include <stdlib.h>
#include <sys/mman.h>

#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

#define CODE 0x10000
#define DATA 0x20000

static void *gp(uint64_t gpa, uint64_t len)
{
	return unit_vm_ptr(&vm, gpa, len);
}

static void start_mode(enum boot_mode mode)
{
	unit_emu_start(&vm, &cpu, mode, CODE);
	cpu.cr0 |= X86_CR0_NE;
	cpu.cr0 &= ~(uint64_t)(X86_CR0_EM | X86_CR0_TS);
}

static void start(void) { start_mode(BOOT_MODE_LONG64); }

/* Decodes and executes the instruction bytes at RIP = CODE. */
static int exec(const uint8_t *bytes, unsigned n)
{
	struct emu_insn in;
	cpu.rip = CODE;
	memcpy(gp(CODE, 16), bytes, n);
	if (emu_decode(gp(CODE, 16), 15, cpu.code_size, &in) != EMU_DEC_OK || in.len != n) {
		fprintf(stderr, "decode of %02x %02x failed\n", bytes[0], bytes[1]);
		unit_failed++;
		return -1;
	}
	cpu.next_rip = cpu.rip + in.len;
	int r = emu_x_fpu(&cpu, &in);
	if (r == EMU_OK)
		cpu.rip = cpu.next_rip;
	return r;
}

static int exec_hex(const char *hex)
{
	uint8_t b[16];
	unsigned n = 0;
	while (*hex && n < 15) {
		while (*hex == ' ')
			hex++;
		if (!*hex)
			break;
		char t[3] = { hex[0], hex[1], 0 };
		b[n++] = (uint8_t)strtoul(t, NULL, 16);
		hex += 2;
	}
	return exec(b, n);
}

/* --- the native oracle --------------------------------------------------- */

/* One 16-byte slot per form: push %rdx; popfq; frstor (%rdi); the
 * instruction; fnsave (%rdi); pushfq; pop %rax; ret. Register forms at
 * esc * 64 + (modrm - 0xc0), memory forms ((reg << 3) | 6: (%rsi)) at
 * 512 + esc * 8 + reg. */
static uint8_t *native_code;
typedef uint64_t native_fn(uint8_t *image, uint8_t *mem, uint64_t rflags);

static void native_init(void)
{
	size_t size = 576 * 16;
	native_code = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (native_code == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (unsigned i = 0; i < 576; i++) {
		uint8_t *p = native_code + 16 * i;
		unsigned esc = i < 512 ? i / 64 : (i - 512) / 8;
		unsigned modrm = i < 512 ? 0xc0 + i % 64 : ((i - 512) % 8) << 3 | 6;
		const uint8_t code[] = { 0x52, 0x9d, 0xdd, 0x27, (uint8_t)(0xd8 + esc), (uint8_t)modrm,
					 0xdd, 0x37, 0x9c, 0x58, 0xc3 };
		memset(p, 0xcc, 16);
		memcpy(p, code, sizeof(code));
	}
	if (mprotect(native_code, size, PROT_READ | PROT_EXEC) < 0) {
		perror("mprotect");
		exit(1);
	}
}

static uint64_t native(unsigned slot, uint8_t *image, uint8_t *mem, uint64_t rflags)
{
	uint16_t cw;
	native_fn *fn = (native_fn *)(uintptr_t)(native_code + 16 * slot);
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	uint64_t r = fn(image, mem, rflags);
	__asm__ volatile("fldcw %0" : : "m"(cw));
	return r;
}

/* --- random operands ----------------------------------------------------- */

static uint64_t seed = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed * 0x2545f4914f6cdd1dULL;
}

static void put80(uint8_t *p, unsigned sign, unsigned exp, uint64_t mant)
{
	uint16_t se = (uint16_t)(sign << 15 | exp);
	memcpy(p, &mant, 8);
	memcpy(p + 8, &se, 2);
}

static void int_to80(uint8_t *p, int64_t v)
{
	if (!v) {
		put80(p, 0, 0, 0);
		return;
	}
	uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
	unsigned msb = 63 - (unsigned)__builtin_clzll(a);
	put80(p, v < 0, 16383 + msb, a << (63 - msb));
}

/* An 80-bit value of a random class (SDM vol. 1 §8.2.2, table 8-3). */
static void gen80(uint8_t *p)
{
	uint64_t m = rnd(), J = 1ULL << 63;
	unsigned s = rnd() & 1, e;
	switch (rnd() % 18) {
	case 0: put80(p, s, 0, 0); return;                                   /* zero */
	case 1: put80(p, s, 0, (m & ~J) >> (rnd() % 63)); return;           /* denormal */
	case 2: put80(p, s, 0, m | J); return;                              /* pseudo-denormal */
	case 3: put80(p, s, 0x7fff, J); return;                             /* infinity */
	case 4: put80(p, s, 0x7fff, m | J | J >> 1); return;                /* QNaN */
	case 5: put80(p, s, 0x7fff, ((m & ~(J >> 1)) | J) | 1); return;     /* SNaN */
	case 6: put80(p, 1, 0x7fff, J | J >> 1); return;                    /* indefinite */
	case 7: put80(p, s, 1 + (unsigned)(rnd() % 0x7ffe), m & ~J); return; /* unnormal */
	case 8: put80(p, s, 0x7fff, m & ~J); return;                        /* pseudo-NaN/-infinity */
	case 9: int_to80(p, (int64_t)(rnd() % 2001) - 1000); return;        /* small integer */
	case 10:                                                            /* exponent extremes */
		e = rnd() & 1 ? 1 + (unsigned)(rnd() % 64) : 0x7ffe - (unsigned)(rnd() % 64);
		put80(p, s, e, m | J);
		return;
	case 11:                                                            /* integers and halves */
		put80(p, s, 16383 + (unsigned)(rnd() % 70) - 4, (m | J) & (~0ULL << (rnd() % 64)));
		return;
	case 12: put80(p, s, 16383 - (unsigned)(rnd() % 2), J); return;    /* ±1, ±0.5 */
	case 13:                                                            /* the full range */
		put80(p, s, 1 + (unsigned)(rnd() % 0x7ffe), m | J);
		return;
	default:                                                            /* around 1 */
		put80(p, s, 16383 - 40 + (unsigned)(rnd() % 80), m | J);
		return;
	}
}

/* A binary32/64 value of a random class: ebits exponent bits, mbits fraction bits. */
static uint64_t genbin(unsigned ebits, unsigned mbits)
{
	uint64_t m = rnd() & ((1ULL << mbits) - 1), emax = (1ULL << ebits) - 1, e;
	uint64_t s = rnd() & 1, q = 1ULL << (mbits - 1);
	switch (rnd() % 12) {
	case 0: e = 0; m = 0; break;
	case 1: e = 0; m = (m >> (rnd() % mbits)) | 1; break;
	case 2: e = emax; m = 0; break;
	case 3: e = emax; m |= q; break;
	case 4: e = emax; m = (m & ~q) | 1; break;
	case 5: e = rnd() & 1 ? 1 + rnd() % 8 : emax - 1 - rnd() % 8; break;
	case 6: e = emax / 2; m = 0; break;
	default: e = emax / 2 - 30 + rnd() % 60; break;
	}
	return s << (ebits + mbits) | e << mbits | m;
}

static int64_t genint(unsigned bits)
{
	int64_t min = bits == 64 ? INT64_MIN : -(1LL << (bits - 1)), max = bits == 64 ? INT64_MAX : (1LL << (bits - 1)) - 1;
	switch (rnd() % 6) {
	case 0: return (int64_t)(rnd() % 5) - 2;
	case 1: return rnd() & 1 ? min : max;
	case 2: return (int64_t)(rnd() % 2001) - 1000;
	case 3: return (int64_t)((rnd() & 1 ? -1 : 1) * (int64_t)(1ULL << (rnd() % (bits - 1))));
	default: return bits == 64 ? (int64_t)rnd() : (int64_t)(rnd() % (uint64_t)(max - min + 1)) + min;
	}
}

/* Packed BCD: 18 digits and a sign byte; sometimes invalid digits. */
static void genbcd(uint8_t *p)
{
	bool bad = rnd() % 8 == 0;
	unsigned digits = (unsigned)(rnd() % 19);
	memset(p, 0, 10);
	for (unsigned i = 0; i < 9; i++) {
		unsigned lo = (unsigned)(rnd() % (bad ? 16 : 10)), hi = (unsigned)(rnd() % (bad ? 16 : 10));
		if (2 * i >= digits)
			lo = 0;
		if (2 * i + 1 >= digits)
			hi = 0;
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	p[9] = rnd() & 1 ? 0x80 : 0;
	if (bad && (rnd() & 1))
		p[9] |= (uint8_t)(rnd() & 0x7f);
}

/* --- one case -------------------------------------------------------------- */

enum { T_NONE, T_F32, T_F64, T_F80, T_I16, T_I32, T_I64, T_BCD, T_STORE };

struct form {
	uint8_t esc, modrm; /* modrm: the register form's byte, or the memory form's reg field */
	uint8_t mem;        /* operand bytes (0: register form) */
	uint8_t type;
	const char *name;
};

static unsigned reported;
static unsigned cases;

static void fill_mem(uint8_t *m, unsigned type)
{
	uint64_t v;
	for (unsigned i = 0; i < 16; i++)
		m[i] = (uint8_t)rnd();
	switch (type) {
	case T_F32: v = genbin(8, 23); memcpy(m, &v, 4); break;
	case T_F64: v = genbin(11, 52); memcpy(m, &v, 8); break;
	case T_F80: gen80(m); break;
	case T_I16: v = (uint64_t)genint(16); memcpy(m, &v, 2); break;
	case T_I32: v = (uint64_t)genint(32); memcpy(m, &v, 4); break;
	case T_I64: v = (uint64_t)genint(64); memcpy(m, &v, 8); break;
	case T_BCD: genbcd(m); break;
	default: break; /* stores: random bytes that must stay when nothing is stored */
	}
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static unsigned long long rd64(const uint8_t *p) { unsigned long long v; memcpy(&v, p, 8); return v; }

static void one_case(const struct form *fm)
{
	static const unsigned pcs[4] = { 0, 2, 3, 3 };
	uint8_t image[108] __attribute__((aligned(16))), mem[16], hostmem[16];
	uint16_t fcw, fsw, ftw = 0;
	unsigned masks = rnd() % 6 == 0 ? (unsigned)(rnd() & 0x3f) : 0x3f;
	fcw = (uint16_t)(0x40 | masks | (rnd() % 11 == 0 ? 1u : pcs[rnd() % 4]) << 8 | (rnd() % 4) << 10);
	/* TOP, C0-C3 random; sticky flags only where masked, so nothing is pending */
	fsw = (uint16_t)((rnd() & 0x4700) | (rnd() % 8) << 11 | (rnd() % 3 == 0 ? (rnd() & masks & 0x3f) : 0));
	unsigned tagmode = (unsigned)(rnd() % 4);
	for (unsigned i = 0; i < 8; i++) {
		bool empty = tagmode == 1 || (tagmode == 2 && (rnd() & 1)) || (tagmode == 3 && rnd() % 8 == 0);
		ftw |= (uint16_t)((empty ? 3u : 0u) << (2 * i));
	}
	uint8_t regs[8][10];
	for (unsigned i = 0; i < 8; i++)
		gen80(regs[i]);
	uint64_t flags = 2 | (rnd() & FL_ARITH);
	fill_mem(mem, fm->type);

	/* emulator */
	cpu.fpu.fcw = fcw;
	cpu.fpu.fsw = fsw;
	cpu.fpu.ftw = ftw;
	memcpy(cpu.fpu.st, regs, sizeof(regs));
	cpu.fpu.fdp = 0x1234;
	emu_flags_set(&cpu, flags);
	memcpy(gp(DATA, 16), mem, 16);
	uint8_t bytes[4] = { (uint8_t)(0xd8 + fm->esc), fm->modrm };
	unsigned n = 2;
	cpu.gpr[RBX] = DATA;
	if (fm->mem)
		bytes[1] = (uint8_t)(fm->modrm << 3 | 3); /* [rbx] */
	int r = exec(bytes, n);

	/* host */
	unsigned top = (fsw >> 11) & 7;
	memset(image, 0, sizeof(image));
	memcpy(image + 0, &fcw, 2);
	memcpy(image + 4, &fsw, 2);
	memcpy(image + 8, &ftw, 2);
	for (unsigned i = 0; i < 8; i++)
		memcpy(image + 28 + 10 * i, regs[(top + i) & 7], 10);
	memcpy(hostmem, mem, 16);
	uint64_t hflags = native(fm->mem ? 512u + fm->esc * 8u + fm->modrm : fm->esc * 64u + fm->modrm - 0xc0u, image,
				 hostmem, flags);
	unsigned ntop = (rd16(image + 4) >> 11) & 7;

	bool ok = r == EMU_OK && cpu.rip == CODE + n && cpu.fpu.fcw == fcw && cpu.fpu.fsw == rd16(image + 4) &&
		  cpu.fpu.ftw == rd16(image + 8) && (emu_flags_get(&cpu) & FL_ARITH) == (hflags & FL_ARITH) &&
		  !memcmp(gp(DATA, 16), hostmem, 16);
	for (unsigned i = 0; i < 8; i++)
		ok = ok && !memcmp(cpu.fpu.st[(ntop + i) & 7], image + 28 + 10 * i, 10);
	/* FOP = low 3 bits of the opcode and the ModRM byte; FIP its address;
	 * FDP the operand's offset, unchanged by register forms */
	ok = ok && cpu.fpu.fop == ((unsigned)fm->esc << 8 | bytes[1]) && cpu.fpu.fip == CODE &&
	     cpu.fpu.fdp == (fm->mem ? DATA : 0x1234);
	cases++;
	if (ok) {
		unit_passed++;
		return;
	}
	unit_failed++;
	if (reported++ >= 12)
		return;
	fprintf(stderr, "x87 %s (%02x %02x) case %u: r=%d fcw=%04x fsw=%04x ftw=%04x flags=%llx\n", fm->name,
		bytes[0], bytes[1], cases, r, fcw, fsw, ftw, (unsigned long long)flags);
	fprintf(stderr, "  emu:  fsw=%04x ftw=%04x flags=%llx fop=%03x fip=%llx fdp=%llx\n", cpu.fpu.fsw,
		cpu.fpu.ftw, (unsigned long long)(emu_flags_get(&cpu) & FL_ARITH), cpu.fpu.fop,
		(unsigned long long)cpu.fpu.fip, (unsigned long long)cpu.fpu.fdp);
	fprintf(stderr, "  host: fsw=%04x ftw=%04x flags=%llx\n", rd16(image + 4), rd16(image + 8),
		(unsigned long long)(hflags & FL_ARITH));
	for (unsigned i = 0; i < 8; i++) {
		const uint8_t *a = cpu.fpu.st[(ntop + i) & 7], *b = image + 28 + 10 * i;
		fprintf(stderr, "  st%u in %04x:%016llx emu %04x:%016llx host %04x:%016llx%s\n", i,
			rd16(regs[(top + i) & 7] + 8), rd64(regs[(top + i) & 7]), rd16(a + 8), rd64(a),
			rd16(b + 8), rd64(b), memcmp(a, b, 10) ? "  <--" : "");
	}
	if (fm->mem)
		fprintf(stderr, "  mem in %016llx emu %016llx host %016llx\n", rd64(mem), rd64(gp(DATA, 8)),
			rd64(hostmem));
}

/* Register forms, SDM vol. 2 tables A-8 ... A-22 (control forms excluded). */
static const struct {
	uint8_t esc, lo, hi;
	const char *name;
} reg_rows[] = {
	{ 0, 0xc0, 0xc7, "fadd st,st(i)" }, { 0, 0xc8, 0xcf, "fmul st,st(i)" }, { 0, 0xd0, 0xd7, "fcom" },
	{ 0, 0xd8, 0xdf, "fcomp" }, { 0, 0xe0, 0xe7, "fsub st,st(i)" }, { 0, 0xe8, 0xef, "fsubr st,st(i)" },
	{ 0, 0xf0, 0xf7, "fdiv st,st(i)" }, { 0, 0xf8, 0xff, "fdivr st,st(i)" },
	{ 1, 0xc0, 0xc7, "fld st(i)" }, { 1, 0xc8, 0xcf, "fxch" }, { 1, 0xe0, 0xe0, "fchs" },
	{ 1, 0xe1, 0xe1, "fabs" }, { 1, 0xe4, 0xe4, "ftst" }, { 1, 0xe5, 0xe5, "fxam" },
	{ 1, 0xe8, 0xe8, "fld1" }, { 1, 0xe9, 0xe9, "fldl2t" }, { 1, 0xea, 0xea, "fldl2e" },
	{ 1, 0xeb, 0xeb, "fldpi" }, { 1, 0xec, 0xec, "fldlg2" }, { 1, 0xed, 0xed, "fldln2" },
	{ 1, 0xee, 0xee, "fldz" }, { 1, 0xf0, 0xf0, "f2xm1" }, { 1, 0xf1, 0xf1, "fyl2x" },
	{ 1, 0xf2, 0xf2, "fptan" }, { 1, 0xf3, 0xf3, "fpatan" }, { 1, 0xf4, 0xf4, "fxtract" },
	{ 1, 0xf5, 0xf5, "fprem1" }, { 1, 0xf6, 0xf6, "fdecstp" }, { 1, 0xf7, 0xf7, "fincstp" },
	{ 1, 0xf8, 0xf8, "fprem" }, { 1, 0xf9, 0xf9, "fyl2xp1" }, { 1, 0xfa, 0xfa, "fsqrt" },
	{ 1, 0xfb, 0xfb, "fsincos" }, { 1, 0xfc, 0xfc, "frndint" }, { 1, 0xfd, 0xfd, "fscale" },
	{ 1, 0xfe, 0xfe, "fsin" }, { 1, 0xff, 0xff, "fcos" },
	{ 2, 0xc0, 0xc7, "fcmovb" }, { 2, 0xc8, 0xcf, "fcmove" }, { 2, 0xd0, 0xd7, "fcmovbe" },
	{ 2, 0xd8, 0xdf, "fcmovu" }, { 2, 0xe9, 0xe9, "fucompp" },
	{ 3, 0xc0, 0xc7, "fcmovnb" }, { 3, 0xc8, 0xcf, "fcmovne" }, { 3, 0xd0, 0xd7, "fcmovnbe" },
	{ 3, 0xd8, 0xdf, "fcmovnu" }, { 3, 0xe8, 0xef, "fucomi" }, { 3, 0xf0, 0xf7, "fcomi" },
	{ 4, 0xc0, 0xc7, "fadd st(i),st" }, { 4, 0xc8, 0xcf, "fmul st(i),st" },
	{ 4, 0xe0, 0xe7, "fsubr st(i),st" }, { 4, 0xe8, 0xef, "fsub st(i),st" },
	{ 4, 0xf0, 0xf7, "fdivr st(i),st" }, { 4, 0xf8, 0xff, "fdiv st(i),st" },
	{ 5, 0xc0, 0xc7, "ffree" }, { 5, 0xd0, 0xd7, "fst st(i)" }, { 5, 0xd8, 0xdf, "fstp st(i)" },
	{ 5, 0xe0, 0xe7, "fucom" }, { 5, 0xe8, 0xef, "fucomp" },
	{ 6, 0xc0, 0xc7, "faddp" }, { 6, 0xc8, 0xcf, "fmulp" }, { 6, 0xd9, 0xd9, "fcompp" },
	{ 6, 0xe0, 0xe7, "fsubrp" }, { 6, 0xe8, 0xef, "fsubp" }, { 6, 0xf0, 0xf7, "fdivrp" },
	{ 6, 0xf8, 0xff, "fdivp" },
	{ 7, 0xc0, 0xc7, "ffreep" }, { 7, 0xe8, 0xef, "fucomip" }, { 7, 0xf0, 0xf7, "fcomip" },
};

/* Memory forms, SDM vol. 2 tables A-7 ... A-21 (control forms excluded). */
static const struct form mem_forms[] = {
	{ 0, 0, 4, T_F32, "fadd m32" }, { 0, 1, 4, T_F32, "fmul m32" }, { 0, 2, 4, T_F32, "fcom m32" },
	{ 0, 3, 4, T_F32, "fcomp m32" }, { 0, 4, 4, T_F32, "fsub m32" }, { 0, 5, 4, T_F32, "fsubr m32" },
	{ 0, 6, 4, T_F32, "fdiv m32" }, { 0, 7, 4, T_F32, "fdivr m32" },
	{ 1, 0, 4, T_F32, "fld m32" }, { 1, 2, 4, T_STORE, "fst m32" }, { 1, 3, 4, T_STORE, "fstp m32" },
	{ 2, 0, 4, T_I32, "fiadd m32" }, { 2, 1, 4, T_I32, "fimul m32" }, { 2, 2, 4, T_I32, "ficom m32" },
	{ 2, 3, 4, T_I32, "ficomp m32" }, { 2, 4, 4, T_I32, "fisub m32" }, { 2, 5, 4, T_I32, "fisubr m32" },
	{ 2, 6, 4, T_I32, "fidiv m32" }, { 2, 7, 4, T_I32, "fidivr m32" },
	{ 3, 0, 4, T_I32, "fild m32" }, { 3, 2, 4, T_STORE, "fist m32" }, { 3, 3, 4, T_STORE, "fistp m32" },
	{ 3, 5, 10, T_F80, "fld m80" }, { 3, 7, 10, T_STORE, "fstp m80" },
	{ 4, 0, 8, T_F64, "fadd m64" }, { 4, 1, 8, T_F64, "fmul m64" }, { 4, 2, 8, T_F64, "fcom m64" },
	{ 4, 3, 8, T_F64, "fcomp m64" }, { 4, 4, 8, T_F64, "fsub m64" }, { 4, 5, 8, T_F64, "fsubr m64" },
	{ 4, 6, 8, T_F64, "fdiv m64" }, { 4, 7, 8, T_F64, "fdivr m64" },
	{ 5, 0, 8, T_F64, "fld m64" }, { 5, 2, 8, T_STORE, "fst m64" }, { 5, 3, 8, T_STORE, "fstp m64" },
	{ 6, 0, 2, T_I16, "fiadd m16" }, { 6, 1, 2, T_I16, "fimul m16" }, { 6, 2, 2, T_I16, "ficom m16" },
	{ 6, 3, 2, T_I16, "ficomp m16" }, { 6, 4, 2, T_I16, "fisub m16" }, { 6, 5, 2, T_I16, "fisubr m16" },
	{ 6, 6, 2, T_I16, "fidiv m16" }, { 6, 7, 2, T_I16, "fidivr m16" },
	{ 7, 0, 2, T_I16, "fild m16" }, { 7, 2, 2, T_STORE, "fist m16" }, { 7, 3, 2, T_STORE, "fistp m16" },
	{ 7, 4, 10, T_BCD, "fbld" }, { 7, 5, 8, T_I64, "fild m64" }, { 7, 6, 10, T_STORE, "fbstp" },
	{ 7, 7, 8, T_STORE, "fistp m64" },
};

static void test_native(void)
{
	unsigned nforms = 0, start_cases = cases;
	start();
	for (unsigned k = 0; k < sizeof(reg_rows) / sizeof(reg_rows[0]); k++)
		for (unsigned m = reg_rows[k].lo; m <= reg_rows[k].hi; m++) {
			struct form fm = { reg_rows[k].esc, (uint8_t)m, 0, T_NONE, reg_rows[k].name };
			/* the one-register rows see more cases: they have no i to vary */
			unsigned n = reg_rows[k].lo == reg_rows[k].hi ? 1500 : 200;
			for (unsigned t = 0; t < n; t++)
				one_case(&fm);
			nforms++;
		}
	for (unsigned k = 0; k < sizeof(mem_forms) / sizeof(mem_forms[0]); k++) {
		for (unsigned t = 0; t < 1500; t++)
			one_case(&mem_forms[k]);
		nforms++;
	}
	printf("x87: %u forms, %u native comparisons\n", nforms, cases - start_cases);
}

static void st_get(unsigned i, uint16_t *se, uint64_t *mant)
{
	const uint8_t *p = cpu.fpu.st[(((cpu.fpu.fsw >> 11) & 7) + i) & 7];
	memcpy(mant, p, 8);
	memcpy(se, p + 8, 2);
}

#define CHECK_ST(i, want_se, want_mant)              \
	do {                                         \
		uint16_t se_;                        \
		uint64_t m_;                         \
		st_get(i, &se_, &m_);                \
		CHECK_EQ(se_, want_se);              \
		CHECK_EQ(m_, want_mant);             \
	} while (0)

/* Results known from the SDM and IEEE 754, not from the host: a mistake the
 * emulator and the native oracle could share (say, in the image layout)
 * would show here. */
static void test_anchors(void)
{
	start();
	cpu.gpr[RBX] = DATA;
	CHECK_EQ(exec_hex("db e3"), EMU_OK);                 /* fninit */
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);                 /* fld1 */
	CHECK_EQ(cpu.fpu.fsw, 7 << 11);                      /* TOP = 7 */
	CHECK_EQ(cpu.fpu.ftw, 0x3fff);                       /* R7 valid */
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);                 /* fld1 */
	CHECK_EQ(exec_hex("de c1"), EMU_OK);                 /* faddp: 2.0 */
	CHECK_ST(0, 0x4000, 0x8000000000000000ULL);
	CHECK_EQ(cpu.fpu.fsw, 7 << 11);
	CHECK_EQ(cpu.fpu.ftw, 0x3fff);
	CHECK_EQ(exec_hex("d9 fa"), EMU_OK);                 /* fsqrt: sqrt 2, inexact */
	CHECK_ST(0, 0x3fff, 0xb504f333f9de6484ULL);
	CHECK_EQ(cpu.fpu.fsw & 0x3f, 0x20);                  /* PE */
	CHECK_EQ(exec_hex("d9 eb"), EMU_OK);                 /* fldpi */
	CHECK_ST(0, 0x4000, 0xc90fdaa22168c235ULL);
	CHECK_EQ(cpu.fpu.fop, 0x1eb);
	CHECK_EQ(cpu.fpu.fip, CODE);
	/* FCOMI pi, sqrt 2: pi > sqrt 2, ZF PF CF clear; OF SF AF cleared */
	emu_flags_set(&cpu, 2 | FL_CF | FL_ZF | FL_PF | FL_OF | FL_SF | FL_AF);
	CHECK_EQ(exec_hex("db f1"), EMU_OK);
	CHECK_EQ(emu_flags_get(&cpu) & FL_ARITH, 0);
	CHECK_EQ(exec_hex("d9 c9"), EMU_OK);                 /* fxch */
	CHECK_EQ(exec_hex("db f1"), EMU_OK);                 /* sqrt 2 < pi: CF */
	CHECK_EQ(emu_flags_get(&cpu) & FL_ARITH, FL_CF);
	/* FCMOVB copies when CF is set, FCMOVNB does not */
	CHECK_EQ(exec_hex("db c1"), EMU_OK);                 /* fcmovnb st, st(1): no */
	CHECK_ST(0, 0x3fff, 0xb504f333f9de6484ULL);
	CHECK_EQ(exec_hex("da c1"), EMU_OK);                 /* fcmovb st, st(1): yes */
	CHECK_ST(0, 0x4000, 0xc90fdaa22168c235ULL);

	/* FILD m32 -5; FIST m16 round to nearest; FISTP m16 of 40000: the
	 * integer indefinite 0x8000 and IE (masked) */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	int32_t i32 = -5;
	memcpy(gp(DATA, 4), &i32, 4);
	CHECK_EQ(exec_hex("db 03"), EMU_OK);                 /* fild dword [rbx] */
	CHECK_ST(0, 0xc001, 0xa000000000000000ULL);
	CHECK_EQ(cpu.fpu.fdp, DATA);
	CHECK_EQ(cpu.fpu.fop, 0x303);
	i32 = 40000;
	memcpy(gp(DATA, 4), &i32, 4);
	CHECK_EQ(exec_hex("db 03"), EMU_OK);
	CHECK_EQ(exec_hex("df 1b"), EMU_OK);                 /* fistp word [rbx] */
	CHECK_EQ(*(uint16_t *)gp(DATA, 2), 0x8000);
	CHECK_EQ(cpu.fpu.fsw & 0x3f, 0x01);
	CHECK_ST(0, 0xc001, 0xa000000000000000ULL);         /* popped: -5 again */
	/* FLD m64 1.5, FSTP m32: 1.5f */
	double d = 1.5;
	memcpy(gp(DATA + 8, 8), &d, 8);
	CHECK_EQ(exec_hex("dd 43 08"), EMU_OK);              /* fld qword [rbx+8] */
	CHECK_EQ(cpu.fpu.fdp, DATA + 8);
	CHECK_EQ(exec_hex("d9 5b 10"), EMU_OK);              /* fstp dword [rbx+16] */
	CHECK_EQ(*(uint32_t *)gp(DATA + 16, 4), 0x3fc00000);

	/* division by zero, masked: infinity and ZE */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(exec_hex("d9 ee"), EMU_OK);                 /* fldz */
	CHECK_EQ(exec_hex("de f9"), EMU_OK);                 /* fdivp: 1 / 0 */
	CHECK_ST(0, 0x7fff, 0x8000000000000000ULL);
	CHECK_EQ(cpu.fpu.fsw & 0xff, 0x04);

	/* stack underflow: FADD with ST(1) empty -> IE SF, C1 = 0, indefinite */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(exec_hex("d8 c1"), EMU_OK);
	CHECK_EQ(cpu.fpu.fsw & 0x2ff, 0x41);
	CHECK_ST(0, 0xffff, 0xc000000000000000ULL);
	/* stack overflow: a ninth push -> IE SF C1, ST(0) indefinite */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(cpu.fpu.ftw, 0);
	CHECK_EQ(cpu.fpu.fsw & 0xff, 0);
	CHECK_EQ(exec_hex("d9 eb"), EMU_OK);
	CHECK_EQ(cpu.fpu.fsw & 0x2ff, 0x241);
	CHECK_ST(0, 0xffff, 0xc000000000000000ULL);         /* pushed over R7's 1.0 */
	CHECK_EQ((cpu.fpu.fsw >> 11) & 7, 7);
}

/* Pending unmasked exceptions (#MF), FLDCW, unmasked responses. */
static void test_exceptions(void)
{
	start();
	cpu.gpr[RBX] = DATA;
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	*(uint16_t *)gp(DATA, 2) = 0x37b;                  /* ZE unmasked */
	CHECK_EQ(exec_hex("d9 2b"), EMU_OK);                 /* fldcw [rbx] */
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(exec_hex("d9 ee"), EMU_OK);
	CHECK_EQ(exec_hex("de f9"), EMU_OK);                 /* fdivp 1/0: unmasked ZE */
	CHECK_EQ(cpu.fpu.fsw & 0x80ff, 0x8084);              /* ZE ES B */
	CHECK_ST(0, 0, 0);                                   /* destination unchanged */
	CHECK_ST(1, 0x3fff, 0x8000000000000000ULL);
	CHECK_EQ(cpu.fpu.fop, 0x6f9);                        /* the faulting instruction */
	struct emu_fpu saved = cpu.fpu;
	cpu.exc.vector = 0;
	CHECK_EQ(exec_hex("d9 e8"), EMU_EXC);                /* the next waiting one: #MF */
	CHECK_EQ(cpu.exc.vector, EXC_MF);
	CHECK(!memcmp(&cpu.fpu, &saved, sizeof(saved)));
	CHECK_EQ(exec_hex("9b"), EMU_EXC);                   /* fwait */
	CHECK_EQ(exec_hex("d9 2b"), EMU_EXC);                /* fldcw waits too */
	CHECK_EQ(exec_hex("df e0"), EMU_OK);                 /* fnstsw ax: no-wait */
	CHECK_EQ(cpu.gpr[RAX] & 0xffff, cpu.fpu.fsw);
	CHECK_EQ(exec_hex("d9 3b"), EMU_OK);                 /* fnstcw: no-wait */
	CHECK_EQ(exec_hex("d9 73 10"), EMU_OK);              /* fnstenv: no-wait */
	cpu.fpu.fcw = 0x37b;
	/* without CR0.NE the pending exception is not reported here */
	cpu.cr0 &= ~(uint64_t)X86_CR0_NE;
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	cpu.cr0 |= X86_CR0_NE;
	CHECK_EQ(exec_hex("db e2"), EMU_OK);                 /* fnclex */
	CHECK_EQ(cpu.fpu.fsw & 0x80ff, 0);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);

	/* a masked flag becomes pending when FLDCW unmasks it */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(exec_hex("d9 ee"), EMU_OK);
	CHECK_EQ(exec_hex("de f9"), EMU_OK);                 /* masked ZE */
	CHECK_EQ(cpu.fpu.fsw & 0x80ff, 0x04);
	CHECK_EQ(exec_hex("d9 2b"), EMU_OK);                 /* fldcw 0x37b */
	CHECK_EQ(cpu.fpu.fsw & 0x80ff, 0x8084);
	CHECK_EQ(exec_hex("d9 e1"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_MF);

	/* unmasked IE on FISTP m16: nothing stored, nothing popped */
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	*(uint16_t *)gp(DATA, 2) = 0x37e;
	CHECK_EQ(exec_hex("d9 2b"), EMU_OK);
	int32_t big = 100000;
	memcpy(gp(DATA + 4, 4), &big, 4);
	CHECK_EQ(exec_hex("db 43 04"), EMU_OK);              /* fild dword [rbx+4] */
	*(uint16_t *)gp(DATA + 8, 2) = 0x1234;
	CHECK_EQ(exec_hex("df 5b 08"), EMU_OK);              /* fistp word [rbx+8] */
	CHECK_EQ(*(uint16_t *)gp(DATA + 8, 2), 0x1234);
	CHECK_EQ(cpu.fpu.fsw & 0xb8ff, 0x8081 | 7 << 11);    /* IE ES B, TOP still 7 */
	/* unmasked PE only: the rounded result is stored (a post-computation exception) */
	CHECK_EQ(exec_hex("db e2"), EMU_OK);
	*(uint16_t *)gp(DATA, 2) = 0x35f;
	CHECK_EQ(exec_hex("d9 2b"), EMU_OK);
	CHECK_EQ(exec_hex("d9 eb"), EMU_OK);                 /* fldpi: PE */
	CHECK_EQ(exec_hex("db e2"), EMU_OK);
	CHECK_EQ(exec_hex("db 5b 08"), EMU_OK);              /* fistp dword [rbx+8]: 3, PE */
	CHECK_EQ(*(uint32_t *)gp(DATA + 8, 4), 3);
	CHECK_EQ(cpu.fpu.fsw & 0x80ff, 0x80a0);
}

/* Faulting memory operands leave the x87 state and EFLAGS unchanged; #UD. */
static void test_faults(void)
{
	static const char *const faulting[] = {
		"dd 03", "d9 03", "db 2b", "de 03", "df 2b", "df 23", /* loads: fld m64/m32/m80, fiadd, fild m64, fbld */
		"dd 1b", "d9 13", "db 3b", "df 3b", "df 33", "df 1b", /* stores: fstp m64, fst m32, fstp m80, fistp, fbstp */
		"d8 03", "da 1b", "dc 33",
	};
	start();
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);
	CHECK_EQ(exec_hex("d9 eb"), EMU_OK);
	emu_flags_set(&cpu, 2 | FL_ZF);
	for (unsigned k = 0; k < sizeof(faulting) / sizeof(faulting[0]); k++) {
		/* not mapped: #PF; not canonical: #GP(0) */
		static const uint64_t addrs[] = { 0x7fffffff0000ULL, 0x0000800000000000ULL };
		for (unsigned a = 0; a < 2; a++) {
			struct emu_fpu saved = cpu.fpu;
			cpu.gpr[RBX] = addrs[a];
			cpu.exc.vector = 0;
			CHECK_EQ(exec_hex(faulting[k]), EMU_EXC);
			if (cpu.exc.vector != EXC_PF && cpu.exc.vector != EXC_GP)
				fprintf(stderr, "%s at %llx: vector %u\n", faulting[k], (unsigned long long)addrs[a], cpu.exc.vector);
			CHECK(cpu.exc.vector == EXC_PF || cpu.exc.vector == EXC_GP);
			CHECK(!memcmp(&cpu.fpu, &saved, sizeof(saved)));
			CHECK_EQ(emu_flags_get(&cpu) & FL_ARITH, FL_ZF);
		}
	}
	/* a store straddling into an unmapped page writes nothing */
	cpu.gpr[RBX] = 0x7ffffffffffcULL;
	CHECK_EQ(exec_hex("dd 13"), EMU_EXC);                /* fst qword */

	/* FISTTP is SSE3, not advertised: #UD; reserved and alias encodings: #UD */
	static const char *const undefined[] = {
		"db 0b", "dd 0b", "df 0b", "d9 0b", "db 23", "db 33", "dd 2b",
		"d9 d1", "d9 d8", "d9 e2", "d9 e3", "d9 e6", "d9 e7", "d9 ef", "da e8", "da ea", "da f0",
		"db e5", "db f8", "dc d0", "dc d8", "dd c8", "dd f0", "dd f8", "de d0", "de d8", "de da",
		"df c8", "df d0", "df d8", "df e1", "df f8",
	};
	cpu.gpr[RBX] = DATA;
	for (unsigned k = 0; k < sizeof(undefined) / sizeof(undefined[0]); k++) {
		struct emu_fpu saved = cpu.fpu;
		cpu.exc.vector = 0;
		CHECK_EQ(exec_hex(undefined[k]), EMU_EXC);
		CHECK_EQ(cpu.exc.vector, EXC_UD);
		CHECK(!memcmp(&cpu.fpu, &saved, sizeof(saved)));
	}
	/* CR0.TS / CR0.EM: #NM before anything */
	cpu.cr0 |= X86_CR0_TS;
	CHECK_EQ(exec_hex("d9 e8"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	cpu.cr0 &= ~(uint64_t)X86_CR0_TS;
}

/* A few instructions through the ordinary step loop (decoder, dispatch). */
static void test_step(void)
{
	static const uint8_t prog[] = {
		0xdb, 0xe3,             /* fninit */
		0xdd, 0x03,             /* fld qword [rbx] */
		0xdc, 0x4b, 0x08,       /* fmul qword [rbx+8] */
		0xd9, 0xfa,             /* fsqrt */
		0xdd, 0x5b, 0x10,       /* fstp qword [rbx+16] */
		0xdb, 0x2d, 0x04, 0, 0, 0, /* fld tword [rip+4]: the constant after the program */
		0xdb, 0x7b, 0x20,       /* fstp tword [rbx+32] */
		0xf4,                   /* hlt */
		0, 0, 0, 0, 0, 0, 0, 0xa0, 0x03, 0x40, /* 10.0 */
	};
	start();
	double a = 2.0, b = 8.0, r = 0;
	memcpy(gp(DATA, 8), &a, 8);
	memcpy(gp(DATA + 8, 8), &b, 8);
	memcpy(gp(CODE, sizeof(prog)), prog, sizeof(prog));
	cpu.gpr[RBX] = DATA;
	cpu.rip = CODE;
	for (unsigned i = 0; i < 7; i++)
		CHECK(emu_step(&cpu));
	memcpy(&r, gp(DATA + 16, 8), 8);
	CHECK(r == 4.0);
	CHECK(!memcmp(gp(DATA + 32, 10), prog + sizeof(prog) - 10, 10));
	CHECK_EQ(cpu.fpu.fsw, 0);
	CHECK_EQ(cpu.fpu.ftw, 0xffff);
	CHECK_EQ(cpu.fpu.fop, 0x37b);
	CHECK_EQ(cpu.fpu.fip, CODE + 18);
	CHECK_EQ(cpu.fpu.fdp, DATA + 32);
}

/* 32-bit protected mode: FCS/FDS hold the selectors, FIP/FDP offsets, as
 * the 28-byte FNSTENV image shows. */
static void test_prot32(void)
{
	start_mode(BOOT_MODE_PROT32);
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	double x = -2.0;
	memcpy(gp(DATA + 8, 8), &x, 8);
	cpu.gpr[RBX] = DATA;
	CHECK_EQ(exec_hex("dc 43 08"), EMU_OK);              /* fadd qword [ebx+8]: empty st(0), IE SF */
	CHECK_EQ(cpu.fpu.fsw & 0xff, 0x41);
	CHECK_EQ(exec_hex("db e2"), EMU_OK);
	CHECK_EQ(exec_hex("dd 43 08"), EMU_OK);              /* fld qword [ebx+8] */
	CHECK_EQ(exec_hex("d9 e1"), EMU_OK);                 /* fabs */
	CHECK_ST(0, 0x4000, 0x8000000000000000ULL);
	CHECK_EQ(exec_hex("d9 73 20"), EMU_OK);              /* fnstenv [ebx+0x20] */
	const uint8_t *env = gp(DATA + 0x20, 28);
	uint32_t fip, fdp, sel_op;
	uint16_t fds;
	memcpy(&fip, env + 12, 4);
	memcpy(&sel_op, env + 16, 4);
	memcpy(&fdp, env + 20, 4);
	memcpy(&fds, env + 24, 2);
	CHECK_EQ(fip, CODE);
	CHECK_EQ(sel_op, cpu.seg[SEG_CS].selector | 0x1e1u << 16); /* FCS, FOP of FABS */
	CHECK_EQ(fdp, DATA + 8);                             /* FDP from the FLD before */
	CHECK_EQ(fds, cpu.seg[SEG_DS].selector);
	CHECK(cpu.seg[SEG_CS].selector != 0);
}

/* Prefixes the decoder passes to x87 forms: REX does not extend st(i),
 * 66 does not change a memory operand's size, 67 truncates the address,
 * LOCK is #UD. */
static void test_prefixes(void)
{
	struct emu_insn in;
	start();
	CHECK_EQ(exec_hex("db e3"), EMU_OK);
	CHECK_EQ(exec_hex("d9 e8"), EMU_OK);                 /* fld1 */
	CHECK_EQ(exec_hex("d9 eb"), EMU_OK);                 /* fldpi */
	CHECK_EQ(exec_hex("41 d9 c1"), EMU_OK);              /* rex.b fld st(1): 1.0 */
	CHECK_ST(0, 0x3fff, 0x8000000000000000ULL);
	CHECK_EQ(cpu.fpu.fop, 0x1c1);
	double x = 3.0;
	memcpy(gp(DATA, 8), &x, 8);
	cpu.gpr[RBX] = 0xffffffff00000000ULL | DATA;
	CHECK_EQ(exec_hex("66 67 dd 03"), EMU_OK);           /* fld qword [ebx] */
	CHECK_ST(0, 0x4000, 0xc000000000000000ULL);
	CHECK_EQ(cpu.fpu.fdp, DATA);
	memcpy(gp(CODE, 3), "\xf0\xd8\x03", 3);            /* lock fadd dword [rbx] */
	CHECK_EQ(emu_decode(gp(CODE, 16), 15, cpu.code_size, &in), EMU_DEC_UD);
	memcpy(gp(CODE, 3), "\xf0\xd9\xe8", 3);            /* lock fld1 */
	CHECK_EQ(emu_decode(gp(CODE, 16), 15, cpu.code_size, &in), EMU_DEC_UD);
}

/* Real mode: FIP and FDP are linear addresses (SDM vol. 1 figures 8-11,
 * 8-12), as the 16-bit FNSTENV image shows. */
static void test_real_mode(void)
{
	static const uint8_t prog[] = {
		0xb8, 0x00, 0x20,       /* mov ax, 0x2000 */
		0x8e, 0xd8,             /* mov ds, ax */
		0xbb, 0x10, 0x00,       /* mov bx, 0x10 */
		0xdb, 0xe3,             /* fninit (the power-on state has all tags non-empty) */
		0xdd, 0x07,             /* fld qword [bx] */
		0xd9, 0x77, 0x20,       /* fnstenv [bx+0x20] (16-bit operand size: 14 bytes) */
	};
	start_mode(BOOT_MODE_REAL); /* CS = 0x1000, IP = 0 */
	double one = 1.0;
	memcpy(gp(0x20010, 8), &one, 8);
	memcpy(gp(0x10000, sizeof(prog)), prog, sizeof(prog));
	for (unsigned i = 0; i < 6; i++)
		CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.fpu.fip, 0x1000a);
	CHECK_EQ(cpu.fpu.fdp, 0x20010);
	const uint8_t *env = gp(0x20030, 14);
	CHECK_EQ(env[6] | env[7] << 8, 0x000a);              /* FIP 15:0 */
	CHECK_EQ(env[8] | env[9] << 8, 0x1000 | 0x507);      /* FIP 19:16, FOP */
	CHECK_EQ(env[10] | env[11] << 8, 0x0010);            /* FDP 15:0 */
	CHECK_EQ(env[12] | env[13] << 8, 0x2000);            /* FDP 19:16 */
	CHECK_ST(0, 0x3fff, 0x8000000000000000ULL);
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	native_init();

	test_anchors();
	test_exceptions();
	test_faults();
	test_step();
	test_real_mode();
	test_prefixes();
	test_prot32();
	test_native();

	unit_vm_destroy(&vm);
	return unit_report("emu_x87");
}
