/* Popek and Goldberg, shown on x86.
 *
 * A machine is virtualizable by trap-and-emulate when every *sensitive*
 * instruction (one that reads or changes privileged machine state) is also
 * *privileged* (traps when run outside the most privileged mode). This guest
 * drops to ring 3 and runs each classic x86 troublemaker there, printing one
 * line per instruction: "trapped" (the CPU raised #GP/#UD, so a VMM would get
 * control) or "silent" (it ran, and what it observed). The silent ones are the
 * instructions that made classic x86 non-virtualizable (docs/popek-goldberg.md).
 * With CR4.UMIP (user-mode instruction prevention), SGDT/SIDT/SLDT/SMSW/STR
 * trap too.
 *
 * Ring 3 runs with IOPL 0 and IF 0. Each test is a tiny asm routine that
 * ends with `int $0x80` (a DPL-3 gate) to report back; any exception taken
 * from ring 3 is recorded the same way. */
#include <stdint.h>

#include "lib/guestlib.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS   0x28

/* SDM vol. 3 §3.4.5 / §7.2.3 descriptors, accessed bit already set: whether
 * a CPU sets it on IRET is not what this guest is about (QEMU's TCG does
 * not; hardware and vmon's emu do), and LAR below reports it. */
static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffffULL, /* 0x08 kernel code, 64-bit */
	0x00cf93000000ffffULL, /* 0x10 kernel data */
	0x00cff3000000ffffULL, /* 0x18 user data, DPL 3 */
	0x00affb000000ffffULL, /* 0x20 user code, 64-bit, DPL 3 */
	0, 0,                  /* 0x28 TSS (16 bytes), filled at run time */
};

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss64 tss __attribute__((aligned(16)));


/* Page tables of our own with the U/S bit set: ring 3 must reach its code
 * and stack (vmon's boot tables are supervisor-only). 1 GiB of 2 MiB pages. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[8192] __attribute__((aligned(16)));

/* Filled by the trap path (trap.S part below). */
struct trap_result {
	uint64_t vector, error, rax, rdx;
};
volatile struct trap_result last;

/* From the asm below. */
extern void *const vector_stubs[33];
uint64_t run_user(void (*fn)(void), uint64_t user_rsp);

__asm__(
	/* run_user(fn, user_rsp): save the kernel context, iretq to fn at
	 * ring 3; returns when ring 3 traps or reports with int $0x80. */
	"	.text\n"
	"	.globl run_user\n"
	"run_user:\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov %rsp, kernel_rsp(%rip)\n"
	"	pushq $0x1b\n"        /* SS */
	"	push %rsi\n"          /* RSP */
	"	pushq $0x002\n"       /* RFLAGS: IF 0, IOPL 0 */
	"	pushq $0x23\n"        /* CS */
	"	push %rdi\n"          /* RIP */
	"	iretq\n"
	/* Common trap entry: the stub pushed (error code), vector. Record
	 * them with the user's rax/rdx, then resume the kernel context. */
	"trap_common:\n"
	"	mov %rax, last+16(%rip)\n"
	"	mov %rdx, last+24(%rip)\n"
	"	pop %rax\n"
	"	mov %rax, last+0(%rip)\n"
	"	pop %rax\n"
	"	mov %rax, last+8(%rip)\n"
	"	mov $0x10, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	mov kernel_rsp(%rip), %rsp\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	mov last(%rip), %rax\n"
	"	ret\n"
	"	.data\n"
	"kernel_rsp: .quad 0\n"
	"	.text\n"
	/* Exception stubs 0-31 (those with a CPU error code skip the dummy
	 * push: 8, 10-14, 17, 21, 29, 30) and the report gate 0x80. */
	".macro STUB n\n"
	"stub\\n:\n"
	"	.if (\\n == 8) || (\\n >= 10 && \\n <= 14) || (\\n == 17) || (\\n == 21) || (\\n == 29) || (\\n == 30)\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $\\n\n"
	"	jmp trap_common\n"
	".endm\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128\n"
	"	STUB \\n\n"
	".endr\n"
	"	.section .rodata\n"
	"	.globl vector_stubs\n"
	"vector_stubs:\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128\n"
	"	.quad stub\\n\n"
	".endr\n"
	"	.text\n"

	/* The ring-3 tests. Each leaves what it observed in rax (and rdx)
	 * and reports with int $0x80. */
	"u_sgdt:  sub $16, %rsp; sgdt (%rsp); movzwl (%rsp), %eax; mov 2(%rsp), %rdx; add $16, %rsp; int $0x80\n"
	"u_sidt:  sub $16, %rsp; sidt (%rsp); movzwl (%rsp), %eax; mov 2(%rsp), %rdx; add $16, %rsp; int $0x80\n"
	"u_sldt:  xor %eax, %eax; sldt %ax; int $0x80\n"
	"u_str:   xor %eax, %eax; str %ax; int $0x80\n"
	"u_smsw:  xor %eax, %eax; smsw %ax; int $0x80\n"
	"u_popf:  pushfq; pop %rax; or $0x3200, %rax; push %rax; popfq; pushfq; pop %rax; int $0x80\n"
	"u_lar:   mov $0x23, %ecx; xor %eax, %eax; lar %cx, %eax; setz %dl; movzbl %dl, %edx; int $0x80\n"
	"u_lsl:   mov $0x1b, %ecx; xor %eax, %eax; lsl %cx, %eax; setz %dl; movzbl %dl, %edx; int $0x80\n"
	"u_verr:  mov $0x08, %ecx; verr %cx; setz %al; mov $0x23, %ecx; verr %cx; setz %dl; movzbl %al, %eax; movzbl %dl, %edx; int $0x80\n"
	"u_verw:  mov $0x10, %ecx; verw %cx; setz %al; mov $0x1b, %ecx; verw %cx; setz %dl; movzbl %al, %eax; movzbl %dl, %edx; int $0x80\n"
	"u_movcs: xor %eax, %eax; mov %cs, %ax; int $0x80\n"
	"u_cli:   cli; int $0x80\n"
	"u_sti:   sti; int $0x80\n"
	"u_hlt:   hlt; int $0x80\n"
	"u_movcr0: xor %eax, %eax; mov %rax, %cr0; int $0x80\n"
	"u_lgdt:  sub $16, %rsp; movw $0, (%rsp); movq $0, 2(%rsp); lgdt (%rsp); add $16, %rsp; int $0x80\n"
	"u_in:    inb $0x80, %al; int $0x80\n"
	"u_out:   outb %al, $0x80; int $0x80\n"
);

extern void u_sgdt(void), u_sidt(void), u_sldt(void), u_str(void), u_smsw(void), u_popf(void),
	u_lar(void), u_lsl(void), u_verr(void), u_verw(void), u_movcs(void), u_cli(void), u_sti(void),
	u_hlt(void), u_movcr0(void), u_lgdt(void), u_in(void), u_out(void);

enum observe { OBS_TABLE, OBS_SEL, OBS_MSW, OBS_FLAGS, OBS_LAR, OBS_LSL, OBS_VER, OBS_CS, OBS_NONE };

struct test {
	const char *name;
	void (*fn)(void);
	enum observe obs;
	const char *what; /* what executing it silently reveals or does */
};

static const struct test tests[] = {
	{ "SGDT", u_sgdt, OBS_TABLE, "reads GDTR" },
	{ "SIDT", u_sidt, OBS_TABLE, "reads IDTR" },
	{ "SLDT", u_sldt, OBS_SEL, "reads LDTR" },
	{ "STR", u_str, OBS_SEL, "reads TR" },
	{ "SMSW", u_smsw, OBS_MSW, "reads CR0[15:0]" },
	{ "POPF", u_popf, OBS_FLAGS, "sets IF and IOPL=3" },
	{ "LAR", u_lar, OBS_LAR, "reads access rights of 0x23" },
	{ "LSL", u_lsl, OBS_LSL, "reads the limit of 0x1b" },
	{ "VERR", u_verr, OBS_VER, "readable? 0x08, 0x23" },
	{ "VERW", u_verw, OBS_VER, "writable? 0x10, 0x1b" },
	{ "MOV r,CS", u_movcs, OBS_CS, "reads CS" },
	{ "CLI", u_cli, OBS_NONE, "" },
	{ "STI", u_sti, OBS_NONE, "" },
	{ "HLT", u_hlt, OBS_NONE, "" },
	{ "MOV CR0,r", u_movcr0, OBS_NONE, "" },
	{ "LGDT", u_lgdt, OBS_NONE, "" },
	{ "IN", u_in, OBS_NONE, "" },
	{ "OUT", u_out, OBS_NONE, "" },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

static const char *exception_name(uint64_t v)
{
	switch (v) {
	case 6: return "#UD";
	case 13: return "#GP";
	case 14: return "#PF";
	default: return "#?";
	}
}

/* Runs test t at ring 3 and prints its line; returns 1 when it trapped. */
static int run_test(const struct test *t)
{
	uint64_t v = run_user(t->fn, (uint64_t)(ustack + sizeof(ustack)));
	print("%10s ", t->name);
	if (v != 0x80) {
		print("trapped  %s(%4x)\n", exception_name(v), (uint64_t)last.error);
		return 1;
	}
	uint64_t a = last.rax, d = last.rdx;
	print("silent   %s: ", t->what);
	switch (t->obs) {
	case OBS_TABLE: print("limit=%4x base=%16x\n", a, d); break;
	case OBS_SEL: print("%4x\n", a); break;
	case OBS_MSW: print("PE=%1x\n", a & 1); break;
	case OBS_FLAGS: print("IF=%1x IOPL=%1x (both writes ignored)\n", (a >> 9) & 1, (a >> 12) & 3); break;
	case OBS_LAR: print("ZF=%1x rights=%8x\n", d, a & 0x00f0ff00) /* bits 19:16 undefined */; break;
	case OBS_LSL: print("ZF=%1x limit=%8x\n", d, a); break;
	case OBS_VER: print("%1x, %1x\n", a, d); break;
	case OBS_CS: print("%4x (RPL %1x: not ring 0)\n", a, a & 3); break;
	case OBS_NONE: print("ran\n"); break;
	}
	return 0;
}

static void setup(void)
{
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87; /* present, writable, user, 2 MiB */
	pdpt[0] = (uint64_t)pd | 0x7;
	pml4[0] = (uint64_t)pdpt | 0x7;
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");

	tss.rsp0 = (uint64_t)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: every port traps at CPL 3 */
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) | ((limit >> 16) << 48) |
		 (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;

	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	idt_load();
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
	/* Reload CS and the data segments from our GDT. */
	__asm__ volatile("pushq $0x08\n\tlea 1f(%%rip), %%rax\n\tpush %%rax\n\tlretq\n1:\n\t"
			 "mov $0x10, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss"
			 : : : "rax", "memory");
	for (unsigned v = 0; v < 32; v++)
		idt_set_gate(v, (uint64_t)vector_stubs[v], SEL_KCODE, 0);
	idt_set_gate(0x80, (uint64_t)vector_stubs[32], SEL_KCODE, 3);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

void guest_main(void)
{
	setup();
	puts_("Popek-Goldberg at ring 3 (IOPL 0):\n");
	unsigned trapped = 0;
	for (unsigned i = 0; i < NTESTS; i++)
		trapped += (unsigned)run_test(&tests[i]);
	print("%d of %d trapped; the silent ones are sensitive but not privileged\n", trapped, (unsigned)NTESTS);

	uint32_t r[4];
	cpuid(0, 0, r);
	int umip = 0;
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		umip = (r[2] >> 2) & 1;
	}
	if (!umip) {
		puts_("CR4.UMIP: not offered by this CPU (CPUID.7.0:ECX[2] = 0)\n");
	} else {
		uint64_t cr4;
		__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
		cr4 |= 1u << 11;
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
		puts_("with CR4.UMIP set:\n");
		for (unsigned i = 0; i < 5; i++)
			run_test(&tests[i]);
	}
	guest_exit(0x10);
}
