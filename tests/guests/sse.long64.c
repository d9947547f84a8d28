/* x87 control and SSE2 integer code as an OS and libc use it: FNINIT and
 * the status/control words, FXSAVE/FXRSTOR of XMM registers, LDMXCSR, and
 * the moves, compares and shuffles of SSE2 string functions (a strlen and a
 * memchr in the glibc style). Every result is printed, so the output under
 * --accel emu can be compared line by line with KVM's; they run at ring 3,
 * which every KVM runs on the host CPU itself. The build compiles
 * guests with -mgeneral-regs-only: all SSE is inline assembly. */
#include <stdint.h>

#include "lib/guestlib.h"

static uint8_t area[512] __attribute__((aligned(16)));
static uint8_t buf[64] __attribute__((aligned(16)));

static void enable_sse(void)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 &= ~((1ULL << 2) | (1ULL << 3)); /* EM, TS */
	cr0 |= 1ULL << 1;                    /* MP */
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1ULL << 9) | (1ULL << 10); /* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
}

/* strlen the SSE2 way: aligned 16-byte loads, PCMPEQB against zero, PMOVMSKB. */
static uint64_t sse_strlen(const char *s)
{
	uint64_t p = (uint64_t)s & ~15ULL, n;
	uint32_t mask;
	__asm__ volatile("pxor %%xmm0, %%xmm0\n"
			 "movdqa (%1), %%xmm1\n"
			 "pcmpeqb %%xmm0, %%xmm1\n"
			 "pmovmskb %%xmm1, %0\n"
			 : "=r"(mask) : "r"(p) : "memory");
	mask >>= (uint64_t)s & 15;
	n = 0;
	while (!mask) {
		n += 16 - (((uint64_t)s + n) & 15);
		p = (uint64_t)s + n;
		__asm__ volatile("pxor %%xmm0, %%xmm0\n"
				 "movdqa (%1), %%xmm1\n"
				 "pcmpeqb %%xmm0, %%xmm1\n"
				 "pmovmskb %%xmm1, %0\n"
				 : "=r"(mask) : "r"(p) : "memory");
	}
	return n + (uint64_t)__builtin_ctz(mask);
}

/* Broadcasts c with MOVD/PUNPCKLBW/PUNPCKLWD/PSHUFD, compares 16 bytes. */
static uint32_t sse_match16(const void *p, uint8_t c)
{
	uint32_t mask;
	__asm__ volatile("movd %1, %%xmm2\n"
			 "punpcklbw %%xmm2, %%xmm2\n"
			 "punpcklwd %%xmm2, %%xmm2\n"
			 "pshufd $0, %%xmm2, %%xmm2\n"
			 "movdqu (%2), %%xmm3\n"
			 "pcmpeqb %%xmm2, %%xmm3\n"
			 "pmovmskb %%xmm3, %0\n"
			 : "=r"(mask) : "r"((uint32_t)c), "r"(p) : "memory");
	return mask;
}

static void show_xmm(const char *what, const uint64_t v[2])
{
	print("%s %x %x\n", what, v[1], v[0]);
}

/* At ring 3, where every KVM runs the host CPU's own SSE. */
static void sse_tests(void)
{
	uint16_t sw = 0xffff, cw = 0;
	uint32_t mx = 0;
	uint64_t v[2] __attribute__((aligned(16)));

	__asm__ volatile("fninit\n fnstsw %0\n fnstcw %1" : "=a"(sw), "=m"(cw));
	print("fninit: fsw=%4x fcw=%4x\n", (uint64_t)sw, (uint64_t)cw);
	cw = 0x27f;
	__asm__ volatile("fldcw %1\n fnstcw %0\n fwait" : "=m"(cw) : "m"(cw));
	print("fldcw/fnstcw: %4x\n", (uint64_t)cw);

	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	print("mxcsr: %8x\n", (uint64_t)mx);
	mx = 0x9fc0;
	__asm__ volatile("ldmxcsr %1\n stmxcsr %0" : "=m"(mx) : "m"(mx));
	print("ldmxcsr/stmxcsr: %8x\n", (uint64_t)mx);

	/* FXSAVE/FXRSTOR keep an XMM value across a clobber */
	v[0] = 0x0123456789abcdefULL;
	v[1] = 0xfedcba9876543210ULL;
	__asm__ volatile("movdqa %1, %%xmm5\n"
			 "fxsave64 %0\n"
			 "pxor %%xmm5, %%xmm5\n"
			 "fxrstor64 %0\n"
			 "movdqa %%xmm5, %1\n"
			 : "+m"(area), "+m"(v));
	show_xmm("fxrstor xmm5", v);
	print("fxsave fcw=%4x mxcsr=%8x\n", (uint64_t)(area[0] | area[1] << 8),
	      (uint64_t)(area[24] | area[25] << 8 | area[26] << 16 | (uint64_t)area[27] << 24));

	/* (no XMM clobbers listed: -mgeneral-regs-only leaves them to the asm) */
	/* arithmetic and shuffles on fixed data */
	v[0] = 0x8070605040302010ULL;
	v[1] = 0x00ff7f01fe02fd03ULL;
	__asm__ volatile("movdqa %0, %%xmm0\n"
			 "movdqa %%xmm0, %%xmm1\n"
			 "paddb %%xmm0, %%xmm1\n"
			 "psubw %%xmm0, %%xmm1\n"
			 "pshufd $0x1b, %%xmm1, %%xmm2\n"
			 "paddq %%xmm1, %%xmm2\n"
			 "psrlq $3, %%xmm2\n"
			 "pslldq $5, %%xmm2\n"
			 "punpckhbw %%xmm0, %%xmm2\n"
			 "pminub %%xmm0, %%xmm2\n"
			 "movdqa %%xmm2, %0\n"
			 : "+m"(v));
	show_xmm("mix", v);
	v[0] = 0x8070605040302010ULL;
	v[1] = 0x00ff7f01fe02fd03ULL;
	__asm__ volatile("movdqa %0, %%xmm0\n"
			 "pcmpgtb %%xmm0, %%xmm0\n"
			 "movdqa %0, %%xmm1\n"
			 "psraw $4, %%xmm1\n"
			 "pshuflw $0x39, %%xmm1, %%xmm1\n"
			 "pshufhw $0x93, %%xmm1, %%xmm1\n"
			 "shufps $0x4e, %%xmm1, %%xmm1\n"
			 "psadbw %%xmm0, %%xmm1\n"
			 "movdqa %%xmm1, %0\n"
			 : "+m"(v));
	show_xmm("shuf", v);

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)('a' + i % 26);
	buf[37] = 0;
	print("strlen: %d %d %d\n", (int)sse_strlen((const char *)buf), (int)sse_strlen((const char *)buf + 5),
	      (int)sse_strlen((const char *)buf + 36));
	print("match 'c' at +1: %4x\n", (uint64_t)sse_match16(buf + 1, 'c'));
}

void guest_main(void)
{
	enable_sse();
	user_init();
	run_user_or_exit(sse_tests);
	guest_exit(0x10);
}
