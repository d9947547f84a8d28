/* x87 arithmetic as gcc's long double code and libm use it: the four
 * operations under the three precision controls, rounding modes, FSQRT,
 * FCOMI/FCMOV, FPREM, FXTRACT/FSCALE, FBSTP/FBLD, FXAM, stack overflow,
 * conversions to and from float, double and integers, a few transcendental
 * results rounded to double (so that they do not depend on the CPU model),
 * and an unmasked exception reported as #MF at the next FWAIT. Every result
 * is printed, so the output under --accel emu is compared line by line with
 * KVM's (the host CPU); the tests run at ring 3, which every KVM runs on
 * the host CPU itself. The build compiles guests with -mgeneral-regs-only:
 * all x87 code is inline assembly on memory operands. */
#include <stdint.h>

#include "lib/guestlib.h"

struct f80 {
	uint64_t m;
	uint16_t se;
} __attribute__((packed));

static struct f80 t80;
static uint16_t cw, sw;

static void show80(const char *what, const struct f80 *v) { print("%s %4x:%x\n", what, (uint64_t)v->se, v->m); }

static void setcw(uint16_t v)
{
	cw = v;
	__asm__ volatile("fldcw %0" : : "m"(cw));
}

static uint16_t getsw(void)
{
	uint16_t v;
	__asm__ volatile("fnstsw %0" : "=a"(v));
	return v;
}

/* The status word after an instruction that leaves C0, C2 and C3
 * undefined (SDM vol. 2, "FPU Flags Affected"): those bits masked, so the
 * output does not depend on the CPU model. */
static uint16_t getsw_c1(void)
{
	return getsw() & (uint16_t)~0x4500u;
}

/* #MF: the handler runs at ring 0, where a software-assisted KVM has no
 * x87, so it only sends ring 3 to mf_fixup, which records the status word,
 * clears the exception and goes back to the FWAIT, which then completes. */
volatile uint64_t mf_count, mf_resume;
volatile uint16_t mf_sw;
extern void mf_handler(void);
__asm__(".text\n"
	"mf_handler:\n"
	"	push %rax\n"
	"	mov 8(%rsp), %rax\n"            /* the FWAIT's address */
	"	mov %rax, mf_resume(%rip)\n"
	"	lea mf_fixup(%rip), %rax\n"
	"	mov %rax, 8(%rsp)\n"
	"	pop %rax\n"
	"	iretq\n"
	"mf_fixup:\n"
	"	pushfq\n"
	"	fnstsw mf_sw(%rip)\n"
	"	fnclex\n"
	"	incq mf_count(%rip)\n"
	"	popfq\n"
	"	jmp *mf_resume(%rip)\n");

static void setup_fpu(void)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 &= ~((1ULL << 2) | (1ULL << 3)); /* EM, TS */
	cr0 |= (1ULL << 1) | (1ULL << 5);   /* MP, NE: #MF rather than FERR# */
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
}

static void divide(const char *what, uint16_t control)
{
	int32_t three = 3;
	setcw(control);
	__asm__ volatile("fld1\n fidivl %1\n fstpt %0" : "=m"(t80) : "m"(three));
	show80(what, &t80);
}

static void rounding(void)
{
	static const char *const rc[4] = { "nearest", "down", "up", "zero" };
	static const struct f80 vals[3] = { { 0xa000000000000000ULL, 0x4000 }, /* 2.5 */
					    { 0xa000000000000000ULL, 0xc000 }, /* -2.5 */
					    { 0xe000000000000000ULL, 0x3ffe } }; /* 0.875 */
	for (unsigned r = 0; r < 4; r++) {
		int32_t out[3];
		setcw((uint16_t)(0x37f | r << 10));
		for (unsigned i = 0; i < 3; i++)
			__asm__ volatile("fldt %1\n fistpl %0" : "=m"(out[i]) : "m"(vals[i]));
		print("fistp %s: %x %x %x\n", rc[r], (uint64_t)(uint32_t)out[0], (uint64_t)(uint32_t)out[1],
		      (uint64_t)(uint32_t)out[2]);
	}
	setcw(0x37f);
}

static uint64_t fcomi(const struct f80 *a, const struct f80 *b)
{
	uint64_t fl;
	__asm__ volatile("fldt %2\n fldt %1\n fucomip %%st(1), %%st\n fstp %%st(0)\n pushfq\n pop %0"
			 : "=r"(fl) : "m"(*a), "m"(*b) : "cc");
	return fl & 0x8d5;
}

/* At ring 3, where every KVM runs the host CPU's own x87. */
static void x87_tests(void)
{
	static const struct f80 one = { 0x8000000000000000ULL, 0x3fff }, two = { 0x8000000000000000ULL, 0x4000 },
				qnan = { 0xc000000000000000ULL, 0x7fff };
	static const float one32 = 1.0f;
	uint64_t q;
	uint32_t d;
	int64_t i64;

	__asm__ volatile("fninit");
	divide("1/3 extended", 0x37f);
	divide("1/3 double", 0x27f);
	divide("1/3 single", 0x07f);
	divide("1/3 single down", 0x47f);
	rounding();

	__asm__ volatile("fld1\n fadd %%st(0), %%st\n fsqrt\n fstpt %0" : "=m"(t80));
	show80("sqrt 2", &t80);
	__asm__ volatile("fnclex\n fld1\n fchs\n fsqrt\n fstpt %0" : "=m"(t80));
	show80("sqrt -1", &t80);
	print("  fsw %4x\n", (uint64_t)getsw_c1());

	print("fucomi 1,2 %x 2,1 %x 1,1 %x 1,nan %x\n", fcomi(&one, &two), fcomi(&two, &one), fcomi(&one, &one),
	      fcomi(&one, &qnan));
	/* FCMOVB after a compare: the smaller of two */
	__asm__ volatile("fldt %1\n fldt %2\n fcomi %%st(1), %%st\n fcmovnb %%st(1), %%st\n fstpt %0\n fstp %%st(0)"
			 : "=m"(t80) : "m"(one), "m"(two) : "cc");
	show80("fcmovnb min", &t80);

	/* FPREM: 10^10 mod 7, the loop libm's fmodl runs */
	i64 = 10000000000LL;
	d = 7;
	__asm__ volatile("fildl %2\n fildq %1\n"
			 "1: fprem\n fnstsw %%ax\n testb $4, %%ah\n jnz 1b\n"
			 "fstpt %0\n fstp %%st(0)"
			 : "=m"(t80) : "m"(i64), "m"(d) : "ax", "cc");
	show80("fprem 1e10 mod 7", &t80);
	print("  fsw %4x\n", (uint64_t)getsw());

	/* FXTRACT and FSCALE */
	{
		static struct f80 sig, ex;
		int32_t ten = 10;
		__asm__ volatile("fildl %2\n fxtract\n fstpt %0\n fstpt %1" : "=m"(sig), "=m"(ex) : "m"(ten));
		show80("fxtract 10: significand", &sig);
		show80("  exponent", &ex);
		__asm__ volatile("fldt %1\n fldt %2\n fscale\n fstpt %0\n fstp %%st(0)"
				 : "=m"(t80) : "m"(ex), "m"(sig));
		show80("fscale back", &t80);
	}

	/* BCD */
	{
		static uint8_t bcd[10];
		i64 = -1234567890123LL;
		__asm__ volatile("fildq %1\n fbstp %0" : "=m"(bcd) : "m"(i64));
		print("fbstp");
		for (unsigned i = 0; i < 10; i++)
			print(" %2x", (uint64_t)bcd[9 - i]);
		print("\n");
		__asm__ volatile("fbld %1\n fistpq %0" : "=m"(i64) : "m"(bcd));
		print("fbld/fistp %x\n", (uint64_t)i64);
	}

	/* float -> double */
	{
		float f = 0.1f;
		double x;
		__asm__ volatile("flds %1\n fstpl %0" : "=m"(x) : "m"(f));
		__builtin_memcpy(&q, &x, 8);
		print("0.1f as double %x\n", q);
	}

	/* transcendentals, rounded to double */
	{
		double s, a, e, l;
		__asm__ volatile("fld1\n fsin\n fstpl %0" : "=m"(s));
		__asm__ volatile("fld1\n fld1\n fpatan\n fstpl %0" : "=m"(a));
		__asm__ volatile("fld1\n fchs\n fld1\n fscale\n fstp %%st(1)\n f2xm1\n fstpl %0" : "=m"(e));
		i64 = 8;
		__asm__ volatile("fld1\n fildq %1\n fyl2x\n fstpl %0" : "=m"(l) : "m"(i64));
		uint64_t bs, ba, be, bl;
		__builtin_memcpy(&bs, &s, 8);
		__builtin_memcpy(&ba, &a, 8);
		__builtin_memcpy(&be, &e, 8);
		__builtin_memcpy(&bl, &l, 8);
		print("sin 1 %x atan 1 %x 2^0.5-1 %x log2 8 %x\n", bs, ba, be, bl);
	}

	/* From here on: exception details (FXAM's empty class, stack faults, C1,
	 * the denormal flag, unmasked responses). Silicon and vmon agree on them;
	 * QEMU's TCG x87 does not, so tests/system/run.sh compares only the lines
	 * above when KVM runs on QEMU's emulated CPU (tests/nested). */
	/* FXAM: class codes C3 C2 C0 and the sign C1 */
	{
		static const struct f80 cls[] = {
			{ 0, 0 }, { 0, 0x8000 }, { 0x8000000000000000ULL, 0xffff }, { 0xc000000000000000ULL, 0x7fff },
			{ 0x0000000000001234ULL, 0 }, { 0x8000000000000000ULL, 0x3fff }, { 0x1234, 0x4000 },
		};
		print("fxam");
		for (unsigned i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
			uint16_t v;
			__asm__ volatile("fldt %1\n fxam\n fnstsw %%ax\n fstp %%st(0)" : "=a"(v) : "m"(cls[i]));
			print(" %4x", (uint64_t)(v & 0x4700));
		}
		__asm__ volatile("ffree %st(7)\n fdecstp\n fxam\n fincstp"); /* an empty register */
		print(" %4x\n", (uint64_t)(getsw() & 0x4700));
	}

	/* stack overflow: the ninth push; underflow: an add with ST(1) empty */
	__asm__ volatile("fninit\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fldpi\n fstpt %0" : "=m"(t80));
	print("overflow fsw %4x ", (uint64_t)getsw_c1());
	show80("st0", &t80);
	__asm__ volatile("fninit\n fld1\n fadd %%st(1), %%st\n fstpt %0" : "=m"(t80));
	print("underflow fsw %4x ", (uint64_t)getsw_c1());
	show80("st0", &t80);
	__asm__ volatile("fninit");

	/* conversions: double overflow (C1: rounded up), a denormal double (DE) */
	{
		double x;
		q = 0x7e37e43c8800759cULL; /* 1e300 */
		__asm__ volatile("fnclex\n fldl %1\n fmul %%st(0), %%st\n fstpl %0" : "=m"(x) : "m"(q));
		__builtin_memcpy(&q, &x, 8);
		print("1e300^2 as double %x fsw %4x\n", q, (uint64_t)getsw_c1());
		q = 0x0000b8157268fdafULL; /* 1e-309, denormal */
		__asm__ volatile("fnclex\n fldl %1\n fstpt %0" : "=m"(t80) : "m"(q));
		print("denormal double fsw %4x ", (uint64_t)getsw_c1());
		show80("as extended", &t80);
		__asm__ volatile("fnclex\n fldl %1\n fstps %0" : "=m"(d) : "m"(q));
		print("  as float %x fsw %4x\n", (uint64_t)d, (uint64_t)getsw_c1());
	}

	/* an unmasked division by zero: ES set, #MF at the next FWAIT */
	__asm__ volatile("fninit");
	setcw(0x37b);
	q = 0;
	__asm__ volatile("fldz\n fdivs %0\n fstp %%st(0)" : : "m"(one32) : "memory"); /* 0 / 1: nothing */
	print("0/1 fsw %4x mf %d\n", (uint64_t)getsw_c1(), mf_count);
	__asm__ volatile("fld1\n fdivl %0" : : "m"(q) : "memory"); /* 1 / 0 */
	sw = getsw_c1();
	print("1/0 fsw %4x mf %d\n", (uint64_t)sw, mf_count);
	__asm__ volatile("fwait" : : : "memory");
	print("after fwait: mf %d with fsw %4x, now %4x\n", mf_count, (uint64_t)mf_sw, (uint64_t)getsw());
	__asm__ volatile("fstpt %0\n fninit" : "=m"(t80));
	show80("st0 kept", &t80);
}

void guest_main(void)
{
	setup_fpu();
	user_init();
	idt_set_gate(16, (uint64_t)mf_handler, 0, 0);
	run_user_or_exit(x87_tests);
	guest_exit(16);
}
