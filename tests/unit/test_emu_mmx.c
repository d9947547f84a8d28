/* MMX against the host CPU, bit for bit.
 *
 * Every two-operand MMX row (0F 60-6B, 74-76, D1-FE without prefix:
 * mm0 op= mm1) runs natively and under the emulator on the same random
 * inputs (shift counts small half of the time); so do the immediate forms
 * (PSHUFW, the 0F 71-73 shifts), the 32-bit memory operand of PUNPCKL*,
 * PMOVMSKB/PEXTRW/PINSRW and MOVD/MOVQ to and from general registers and
 * memory. The x87 side of the aliasing is checked against the host too: the
 * FNSAVE image after an MMX write (the register's bits 79:64 all ones, TOP
 * 0, every tag valid) and after EMMS (every tag empty). Then the exception
 * rules of SDM vol. 3 §2.5 table 2-2: #UD with CR0.EM, #NM with CR0.TS, #MF
 * for a pending unmasked x87 exception with CR0.NE, and #UD for the 66-only
 * byte shifts of 0F 73. */
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

static void start(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	cpu.cr0 |= X86_CR0_NE;
	cpu.cr0 &= ~(uint64_t)(X86_CR0_EM | X86_CR0_TS);
}

/* Runs one instruction (bytes b, n of them) through its handler; returns
 * EMU_OK or the vector it raised (not delivered: there is no IDT). */
static int run(const uint8_t *b, unsigned n)
{
	struct emu_insn in;
	memcpy(gp(CODE, n), b, n);
	CHECK_EQ(emu_decode(gp(CODE, 16), 15, cpu.code_size, &in), EMU_DEC_OK);
	CHECK_EQ(in.len, n);
	emu_handler h = emu_insn_handler(in.mnem);
	CHECK(h != NULL);
	if (!h)
		return -1;
	cpu.rip = CODE;
	cpu.next_rip = CODE + in.len;
	if (h(&cpu, &in) != EMU_OK)
		return cpu.exc.vector;
	return EMU_OK;
}

static uint64_t mm(unsigned r)
{
	uint64_t v;
	memcpy(&v, cpu.fpu.st[r], 8);
	return v;
}

static void set_mm(unsigned r, uint64_t v)
{
	memcpy(cpu.fpu.st[r], &v, 8);
}

static uint64_t seed = 0x2545f4914f6cdd1dULL;
static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* The host: mm0 = a, mm1 = b, the instruction at code (ending in ret's
 * place: the caller's bytes run between), then mm0 and eax out. */
static uint8_t *native_page;

static uint64_t native(const uint8_t *insn, unsigned n, uint64_t a, uint64_t b, uint64_t *rax, uint64_t rcx,
		       void *mem)
{
	/* movq (%rdi), %mm0; movq 8(%rdi), %mm1; INSN; movq %mm0, (%rdi); emms; ret */
	static const uint8_t pre[] = { 0x0f, 0x6f, 0x07, 0x0f, 0x6f, 0x4f, 0x08 };
	static const uint8_t post[] = { 0x0f, 0x7f, 0x07, 0x0f, 0x77, 0xc3 };
	uint8_t *p = native_page;
	memcpy(p, pre, sizeof(pre));
	memcpy(p + sizeof(pre), insn, n);
	memcpy(p + sizeof(pre) + n, post, sizeof(post));
	uint64_t io[2] = { a, b };
	uint64_t r = *rax;
	__asm__ volatile("call *%[f]"
			 : "+a"(r), "+c"(rcx)
			 : [f] "r"(p), "D"(io), "S"(mem)
			 : "rdx", "memory", "mm0", "mm1");
	*rax = r;
	return io[0];
}

static void compare(const char *what, const uint8_t *insn, unsigned n, unsigned trials, bool small_counts)
{
	for (unsigned t = 0; t < trials; t++) {
		uint64_t a = rnd(), b = rnd(), rcx = rnd();
		if (small_counts && (t & 1))
			b %= 70;
		uint64_t mem[2] = { rnd(), rnd() };
		memcpy(gp(DATA, 16), mem, 16);
		uint64_t host_rax = 0x1234567890abcdefULL, emu_rax = host_rax;
		uint64_t want = native(insn, n, a, b, &host_rax, rcx, mem);
		emu_fpu_reset(&cpu.fpu);
		set_mm(0, a);
		set_mm(1, b);
		cpu.gpr[RAX] = emu_rax;
		cpu.gpr[RCX] = rcx;
		cpu.gpr[RSI] = DATA;
		int r = run(insn, n);
		uint64_t emu_mem[2];
		memcpy(emu_mem, gp(DATA, 16), 16);
		if (r != EMU_OK || mm(0) != want || cpu.gpr[RAX] != host_rax || memcmp(emu_mem, mem, 16) ||
		    (cpu.fpu.ftw & 0xaaaa & (cpu.fpu.ftw << 1)) || (cpu.fpu.fsw >> 11 & 7) != 0) {
			fprintf(stderr,
				"%s: a %016llx b %016llx: emu mm0 %016llx rax %016llx (r %d), host %016llx rax "
				"%016llx\n",
				what, (unsigned long long)a, (unsigned long long)b, (unsigned long long)mm(0),
				(unsigned long long)cpu.gpr[RAX], r, (unsigned long long)want,
				(unsigned long long)host_rax);
			CHECK(0);
			return;
		}
		CHECK(1);
	}
}

static void test_binops(void)
{
	start();
	static const uint8_t ops[] = { 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
				       0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb,
				       0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9,
				       0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
				       0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe };
	for (unsigned k = 0; k < sizeof(ops); k++) {
		uint8_t insn[3] = { 0x0f, ops[k], 0xc1 };
		char what[16];
		snprintf(what, sizeof(what), "0f %02x c1", ops[k]);
		compare(what, insn, 3, 64, true);
	}
}

static void test_other_forms(void)
{
	static const struct {
		const char *what;
		uint8_t b[8];
		unsigned n;
	} f[] = {
		{ "pshufw mm0, mm1, 0x1b", { 0x0f, 0x70, 0xc1, 0x1b }, 4 },
		{ "pshufw mm0, mm1, 0xe4", { 0x0f, 0x70, 0xc1, 0xe4 }, 4 },
		{ "psrlw mm0, 3", { 0x0f, 0x71, 0xd0, 0x03 }, 4 },
		{ "psraw mm0, 17", { 0x0f, 0x71, 0xe0, 0x11 }, 4 },
		{ "psllw mm0, 15", { 0x0f, 0x71, 0xf0, 0x0f }, 4 },
		{ "psrld mm0, 7", { 0x0f, 0x72, 0xd0, 0x07 }, 4 },
		{ "psrad mm0, 31", { 0x0f, 0x72, 0xe0, 0x1f }, 4 },
		{ "pslld mm0, 40", { 0x0f, 0x72, 0xf0, 0x28 }, 4 },
		{ "psrlq mm0, 9", { 0x0f, 0x73, 0xd0, 0x09 }, 4 },
		{ "psllq mm0, 63", { 0x0f, 0x73, 0xf0, 0x3f }, 4 },
		{ "punpcklbw mm0, [rsi]", { 0x0f, 0x60, 0x06 }, 3 },
		{ "punpckhwd mm0, [rsi]", { 0x0f, 0x69, 0x06 }, 3 },
		{ "paddw mm0, [rsi]", { 0x0f, 0xfd, 0x06 }, 3 },
		{ "pmovmskb eax, mm1", { 0x0f, 0xd7, 0xc1 }, 3 },
		{ "pextrw eax, mm1, 2", { 0x0f, 0xc5, 0xc1, 0x02 }, 4 },
		{ "pextrw eax, mm1, 7", { 0x0f, 0xc5, 0xc1, 0x07 }, 4 },
		{ "pinsrw mm0, ecx, 1", { 0x0f, 0xc4, 0xc1, 0x01 }, 4 },
		{ "pinsrw mm0, [rsi], 3", { 0x0f, 0xc4, 0x06, 0x03 }, 4 },
		{ "movd mm0, ecx", { 0x0f, 0x6e, 0xc1 }, 3 },
		{ "movq mm0, rcx", { 0x48, 0x0f, 0x6e, 0xc1 }, 4 },
		{ "movd eax, mm1", { 0x0f, 0x7e, 0xc8 }, 3 },
		{ "movq rax, mm1", { 0x48, 0x0f, 0x7e, 0xc8 }, 4 },
		{ "movd [rsi], mm1", { 0x0f, 0x7e, 0x0e }, 3 },
		{ "movq mm0, [rsi]", { 0x0f, 0x6f, 0x06 }, 3 },
		{ "movq [rsi], mm1", { 0x0f, 0x7f, 0x0e }, 3 },
		{ "movq mm0, mm1 (0f 7f)", { 0x0f, 0x7f, 0xc8 }, 3 },
		{ "movntq [rsi], mm1", { 0x0f, 0xe7, 0x0e }, 3 },
	};
	start();
	for (unsigned k = 0; k < sizeof(f) / sizeof(f[0]); k++)
		compare(f[k].what, f[k].b, f[k].n, 32, false);
}

/* MASKMOVQ mm0, mm1 stores to [rdi]: the host's store goes to a buffer. */
static void test_maskmovq(void)
{
	start();
	for (unsigned t = 0; t < 32; t++) {
		uint64_t a = rnd(), m = rnd();
		uint64_t host[2] = { rnd(), rnd() }, init[2] = { host[0], host[1] };
		__asm__ volatile("movq %1, %%mm0\n movq %2, %%mm1\n maskmovq %%mm1, %%mm0\n emms"
				 : : "D"(host), "m"(a), "m"(m) : "memory", "mm0", "mm1");
		emu_fpu_reset(&cpu.fpu);
		memcpy(gp(DATA, 16), init, 16);
		set_mm(0, a);
		set_mm(1, m);
		cpu.gpr[RDI] = DATA;
		static const uint8_t insn[] = { 0x0f, 0xf7, 0xc1 };
		CHECK_EQ(run(insn, 3), EMU_OK);
		CHECK(memcmp(gp(DATA, 16), host, 16) == 0);
	}
}

/* The x87 image (FNSAVE) after an MMX write and after EMMS, host and emu. */
static void test_x87_alias(void)
{
	uint8_t host[2][108];
	uint64_t v = 0x8877665544332211ULL;
	/* every register +0 first, as the emulator's after reset, so that the
	 * full tags FNSAVE derives from the contents can be compared */
	__asm__ volatile("fninit\n fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n fldz\n fninit\n"
			 "movq %2, %%mm3\n fnsave %0\n movq %2, %%mm3\n emms\n fnsave %1\n fninit"
			 : "=m"(host[0]), "=m"(host[1]) : "m"(v) : "mm3", "memory");
	start();
	static const uint8_t insn[] = { 0x0f, 0x6f, 0x1e }; /* movq mm3, [rsi] */
	memcpy(gp(DATA, 8), &v, 8);
	cpu.gpr[RSI] = DATA;
	CHECK_EQ(run(insn, 3), EMU_OK);
	/* FNSAVE (64-bit form): FSW at 4, FTW (2 bits per register) at 8, ST(i) at 28 + 10 i */
	uint16_t fsw, ftw;
	memcpy(&fsw, host[0] + 4, 2);
	memcpy(&ftw, host[0] + 8, 2);
	CHECK_EQ((cpu.fpu.fsw >> 11) & 7, (fsw >> 11) & 7);
	CHECK_EQ(cpu.fpu.ftw, ftw);
	CHECK_EQ(ftw, 0x5595); /* R3 special (exponent all ones), the others zero */
	CHECK(memcmp(cpu.fpu.st[3], host[0] + 28 + 30, 10) == 0);
	static const uint8_t emms[] = { 0x0f, 0x77 };
	CHECK_EQ(run(emms, 2), EMU_OK);
	memcpy(&ftw, host[1] + 8, 2);
	CHECK_EQ(cpu.fpu.ftw, ftw);
	CHECK_EQ(ftw, 0xffff);
	CHECK(memcmp(cpu.fpu.st[3], host[1] + 28 + 30, 10) == 0); /* EMMS keeps the values */
}

static void test_exceptions(void)
{
	static const uint8_t paddb[] = { 0x0f, 0xfc, 0xc1 }, emms[] = { 0x0f, 0x77 };
	static const uint8_t pslldq[] = { 0x0f, 0x73, 0xf8, 0x01 };
	start();
	cpu.fpu.ftw = 0xffff;
	cpu.cr0 |= X86_CR0_EM;
	CHECK_EQ(run(paddb, 3), EXC_UD);
	CHECK_EQ(run(emms, 2), EXC_UD);
	CHECK_EQ(cpu.fpu.ftw, 0xffff); /* nothing changed */
	cpu.cr0 &= ~(uint64_t)X86_CR0_EM;
	cpu.cr0 |= X86_CR0_TS;
	CHECK_EQ(run(paddb, 3), EXC_NM);
	CHECK_EQ(run(emms, 2), EXC_NM);
	cpu.cr0 &= ~(uint64_t)X86_CR0_TS;
	cpu.fpu.fsw = 0x80 | 0x1; /* ES, IE: a pending unmasked invalid operation */
	CHECK_EQ(run(paddb, 3), EXC_MF);
	cpu.cr0 &= ~(uint64_t)X86_CR0_NE; /* IGNNE#: goes on */
	CHECK_EQ(run(paddb, 3), EMU_OK);
	cpu.cr0 |= X86_CR0_NE;
	cpu.fpu.fsw = 0;
	CHECK_EQ(run(pslldq, 4), EXC_UD);
	/* the MMX forms ignore CR4.OSFXSR, unlike SSE */
	cpu.cr4 &= ~(uint64_t)X86_CR4_OSFXSR;
	CHECK_EQ(run(paddb, 3), EMU_OK);
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	native_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (native_page == MAP_FAILED)
		return 1;
	test_binops();
	test_other_forms();
	test_maskmovq();
	test_x87_alias();
	test_exceptions();
	unit_vm_destroy(&vm);
	return unit_report("emu_mmx");
}
