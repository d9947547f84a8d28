/* Debug registers in long mode (SDM vol. 3B chapter 17): an instruction
 * breakpoint (a fault before the instruction, RF clear in the pushed
 * RFLAGS, resumed by the handler setting RF, §17.3.1.1), data write and
 * read/write breakpoints of 1, 2, 4 and 8 bytes (traps after the access,
 * DR6.Bn, §17.2.5), an I/O breakpoint with CR4.DE, DR7.GD general detection (a fault with DR6.BD, GD
 * cleared on entry, RF set in the image), single-step with TF counted
 * instruction by instruction (DR6.BS), MOV SS holding the single-step
 * trap over one instruction (vol. 3A §6.8.3), DR4 as DR6 with CR4.DE
 * clear and #UD with it set, and IRET with NT in IA-32e mode (#GP(0): no
 * task switching there, vol. 3A §8.7). CPUID.1:EDX.DE is printed too. */
#include <stdint.h>

#include "lib/guestlib.h"

/* What the #DB handler saw: up to 8 events. */
volatile uint64_t db_count, db_rip[8], db_rflags[8], db_dr6[8];
volatile uint64_t db_set_rf;  /* the handler sets RF in the frame */
volatile uint64_t exc_count, exc_vec, exc_err, exc_resume, exc_rflags; /* #UD/#GP: resume there */

extern void db_entry(void), ud_entry(void), gp_entry(void);
__asm__(".text\n"
	"db_entry:\n"
	"	push %rax\n"
	"	push %rcx\n"
	"	mov db_count(%rip), %rcx\n"
	"	and $7, %rcx\n"
	"	lea db_rip(%rip), %rax\n"
	"	push %rdx\n"
	"	mov 24(%rsp), %rdx\n"          /* RIP */
	"	mov %rdx, (%rax,%rcx,8)\n"
	"	lea db_rflags(%rip), %rax\n"
	"	mov 40(%rsp), %rdx\n"          /* RFLAGS */
	"	mov %rdx, (%rax,%rcx,8)\n"
	"	lea db_dr6(%rip), %rax\n"
	"	mov %dr6, %rdx\n"
	"	mov %rdx, (%rax,%rcx,8)\n"
	"	mov %edx, %ecx\n"
	"	and $0xf, %ecx\n"              /* B0-B3: a breakpoint */
	"	xor %edx, %edx\n"
	"	mov %rdx, %dr6\n"              /* software clears DR6 (§17.2.3) */
	"	incq db_count(%rip)\n"
	"	cmpq $0, db_set_rf(%rip)\n"
	"	je 1f\n"
	"	test %ecx, %ecx\n"
	"	jz 1f\n"
	"	orq $0x10000, 40(%rsp)\n"      /* RF: resume past the instruction breakpoint */
	"1:	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rax\n"
	"	iretq\n"
	"ud_entry:\n"
	"	movq $6, exc_vec(%rip)\n"
	"	movq $0, exc_err(%rip)\n"
	"	jmp 2f\n"
	"gp_entry:\n"
	"	movq $13, exc_vec(%rip)\n"
	"	popq exc_err(%rip)\n"
	"2:	incq exc_count(%rip)\n"
	"	push %rax\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, exc_rflags(%rip)\n"
	"	mov exc_resume(%rip), %rax\n"
	"	mov %rax, 8(%rsp)\n"
	"	andq $~0x4000, 24(%rsp)\n"     /* NT off in the image */
	"	pop %rax\n"
	"	iretq\n");

static void set_dr7(uint64_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }
static void set_dr(unsigned n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
	}
}
static uint64_t get_dr7(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static void reset(void)
{
	db_count = 0;
	db_set_rf = 0;
	for (int i = 0; i < 8; i++)
		db_rip[i] = db_rflags[i] = db_dr6[i] = 0;
}

/* The code the tests run, with labels for the addresses they expect. */
extern char bp_target[], wr_after1[], rw_after1[], rw_after2[], w2_after[], gd_insn[], ss_mov[], ss_nop_after[],
	ss_popf_after[], step_begin[], step_end[], io_after[], rep_insn[], rep_after[], iret_resume[];
extern volatile uint8_t var4[16], var8[16], var2[16];
extern void call_bp_target(void), data_tests(void), rw_tests(void), w2_tests(void), gd_test(void),
	step_test(void), ss_test(void), io_tests(void), rep_test(void), iret_nt_test(void);
__asm__(".data\n"
	".balign 16\n"
	"var4: .fill 16, 1, 0\n"
	"var8: .fill 16, 1, 0\n"
	"var2: .fill 16, 1, 0\n"
	".text\n"
	"bp_target:\n"
	"	nop\n"
	"	ret\n"
	"call_bp_target:\n"
	"	call bp_target\n"
	"	ret\n"
	/* DR1: a 4-byte write breakpoint on var4 */
	"data_tests:\n"
	"	movb $1, var4+2(%rip)\n"       /* inside: a trap after it */
	"wr_after1:\n"
	"	mov var4(%rip), %eax\n"        /* a read: no trap */
	"	movb $1, var4+4(%rip)\n"       /* past the 4 bytes: none */
	"	movl $1, var4+8(%rip)\n"       /* further on: none */
	"	ret\n"
	/* DR2: an 8-byte read/write breakpoint on var8 */
	"rw_tests:\n"
	"	mov var8+7(%rip), %al\n"       /* a read of the last byte */
	"rw_after1:\n"
	"	movq $2, var8(%rip)\n"         /* a write */
	"rw_after2:\n"
	"	mov var8+8(%rip), %al\n"       /* the next quadword: none */
	"	ret\n"
	/* DR3: a 2-byte write breakpoint on var2 */
	"w2_tests:\n"
	"	movb $1, var2+2(%rip)\n"       /* past it: none */
	"	movw $1, var2-1(%rip)\n"       /* overlaps its first byte */
	"w2_after:\n"
	"	ret\n"
	"io_tests:\n"
	"	mov $0x80, %dx\n"
	"	mov $0, %al\n"
	"	outb %al, %dx\n"              /* port 0x80: a trap after it */
	"io_after:\n"
	"	outb %al, $0x81\n"            /* 0x81: none */
	"	ret\n"
	/* REP STOSB across var4 and var8: the 8-byte write breakpoint on var8
	 * traps after each of the 8 iterations that write into it */
	"rep_test:\n"
	"	lea var4(%rip), %rdi\n"
	"	mov $32, %ecx\n"
	"	xor %eax, %eax\n"
	"rep_insn:\n"
	"	rep stosb\n"
	"rep_after:\n"
	"	ret\n"
	"gd_test:\n"
	"gd_insn:\n"
	"	mov %dr0, %rax\n"              /* GD: #DB before it; then it runs */
	"	ret\n"
	/* TF from POPF: the first trap follows the next instruction; the
	 * POPF that clears TF still traps (it began with TF set) */
	"step_test:\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"step_begin:\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	"	pushfq\n"
	"	andq $~0x100, (%rsp)\n"
	"	popfq\n"
	"step_end:\n"
	"	ret\n"
	/* MOV SS: the trap it would take waits for the next instruction */
	"ss_test:\n"
	"	mov %ss, %eax\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	nop\n"                         /* trap 1: after it */
	"ss_mov:\n"
	"	mov %eax, %ss\n"               /* no trap here */
	"	nop\n"                         /* trap 2: after this one */
	"ss_nop_after:\n"
	"	pushfq\n"                      /* trap 3 */
	"	andq $~0x100, (%rsp)\n"        /* trap 4 */
	"	popfq\n"                       /* trap 5 */
	"ss_popf_after:\n"
	"	ret\n"
	/* IRETQ with NT set in IA-32e mode: #GP(0) */
	"iret_nt_test:\n"
	"	mov %ss, %eax\n"
	"	mov %rsp, %rdx\n"
	"	push %rax\n"
	"	push %rdx\n"
	"	pushfq\n"
	"	mov %cs, %eax\n"
	"	push %rax\n"
	"	lea iret_resume(%rip), %rax\n"
	"	push %rax\n"
	"	pushfq\n"
	"	orq $0x4000, (%rsp)\n"
	"	popfq\n"
	"	iretq\n"
	"iret_resume:\n"
	"	mov %rdx, %rsp\n"
	"	ret\n");

static uint64_t off(uint64_t a, const char *label)
{
	return a - (uint64_t)label;
}

static void show(const char *what, unsigned i, const char *label)
{
	if (i >= db_count) {
		print("  %s: no #DB %d\n", what, i + 1);
		return;
	}
	int64_t o = (int64_t)off(db_rip[i], label);
	print("  %s: #DB %d at label%c%d, RF %d, DR6 %8x\n", what, i + 1, o < 0 ? '-' : '+',
	      (unsigned)(o < 0 ? -o : o), (unsigned)((db_rflags[i] >> 16) & 1), db_dr6[i]);
}

void guest_main(void)
{
	idt_set_gate(1, (uint64_t)db_entry, 0, 0);
	idt_set_gate(6, (uint64_t)ud_entry, 0, 0);
	idt_set_gate(13, (uint64_t)gp_entry, 0, 0);
	idt_load();
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	print("CPUID.1:EDX.DE %d\n", (d >> 2) & 1);
	print("DR7 at start %8x\n", get_dr7());

	/* 1. instruction breakpoint, DR0, L0, RW 00, LEN 00 */
	reset();
	db_set_rf = 1;
	set_dr(0, (uint64_t)bp_target);
	set_dr7(0x1);
	call_bp_target();
	call_bp_target();
	set_dr7(0);
	print("instruction breakpoint: %d #DB for two calls\n", (unsigned)db_count);
	show("exec", 0, bp_target);
	show("exec", 1, bp_target);

	/* 2. 4-byte write breakpoint, DR1: L1, RW1 01, LEN1 11 */
	reset();
	set_dr(1, (uint64_t)var4);
	set_dr7(0x4 | (0x1ULL << 20) | (0x3ULL << 22));
	data_tests();
	set_dr7(0);
	print("write breakpoint (4 bytes): %d #DB\n", (unsigned)db_count);
	show("write", 0, wr_after1);

	/* 3. 8-byte read/write breakpoint, DR2: L2, RW2 11, LEN2 10 */
	reset();
	set_dr(2, (uint64_t)var8);
	set_dr7(0x10 | (0x3ULL << 24) | (0x2ULL << 26));
	rw_tests();
	set_dr7(0);
	print("read/write breakpoint (8 bytes): %d #DB\n", (unsigned)db_count);
	show("read", 0, rw_after1);
	show("write", 1, rw_after2);

	/* 4. 2-byte write breakpoint, DR3 with G3: RW3 01, LEN3 01 */
	reset();
	set_dr(3, (uint64_t)var2);
	set_dr7(0x80 | (0x1ULL << 28) | (0x1ULL << 30));
	w2_tests();
	set_dr7(0);
	print("write breakpoint (2 bytes): %d #DB\n", (unsigned)db_count);
	show("write", 0, w2_after);

	/* I/O breakpoint, CR4.DE set: DR0 = port 0x80, RW0 10, LEN0 00 */
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 8));
	reset();
	set_dr(0, 0x80);
	set_dr7(0x1 | (0x2ULL << 16));
	io_tests();
	set_dr7(0);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	print("I/O breakpoint (port 0x80): %d #DB\n", (unsigned)db_count);
	show("out", 0, io_after);

	/* 6. single-step */
	reset();
	step_test();
	print("single-step: %d #DB\n", (unsigned)db_count);
	show("step", 0, step_begin);
	show("step", 5, step_end);

	/* 7. MOV SS */
	reset();
	ss_test();
	print("single-step over MOV SS: %d #DB\n", (unsigned)db_count);
	show("step", 0, ss_mov);
	show("step", 1, ss_nop_after);
	show("step", 4, ss_popf_after);

	/* 8. DR4 is DR6 while CR4.DE is clear; #UD once it is set */
	uint64_t v;
	__asm__ volatile("mov %%dr4, %0" : "=r"(v));
	print("DR4 with CR4.DE=0: %8x\n", v);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 8));
	exc_count = 0;
	__asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, exc_resume(%%rip)\n\tmov %%dr4, %%rax\n1:"
			 : : : "rax", "memory");
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	print("DR4 with CR4.DE=1: %d exception, vector %d\n", (unsigned)exc_count, (unsigned)exc_vec);
	uint64_t ud_rflags = exc_rflags;

	/* 9. IRET with NT in IA-32e mode */
	exc_count = 0;
	exc_resume = (uint64_t)iret_resume;
	iret_nt_test();
	print("IRETQ with NT: %d exception, vector %d, error code %8x\n", (unsigned)exc_count, (unsigned)exc_vec,
	      exc_err);
	/* Below: what QEMU's TCG does not model (tests/system/qemu_xcheck.sh) */
	/* 3b. the same breakpoint (write only) under REP STOSB: one trap per
	 * iteration inside it, the last with the instruction still repeating
	 * (RIP at it, RF set: §17.3.1.1) */
	reset();
	set_dr(2, (uint64_t)var8);
	set_dr7(0x10 | (0x1ULL << 24) | (0x2ULL << 26));
	rep_test();
	set_dr7(0);
	print("REP STOSB over an 8-byte write breakpoint: %d #DB\n", (unsigned)db_count);
	show("iteration", 0, rep_insn);
	show("iteration", 7, rep_insn);

	/* 5. general detect */
	reset();
	set_dr7(0x2000);
	gd_test();
	print("general detect: %d #DB, DR7 after %8x\n", (unsigned)db_count, get_dr7());
	show("mov dr", 0, gd_insn);

	/* 6b. single-step onto an instruction breakpoint: the fault first,
	 * then, resumed with RF, the step trap after that instruction */
	reset();
	db_set_rf = 1;
	set_dr(0, (uint64_t)step_begin + 1);
	set_dr7(0x1);
	step_test();
	set_dr7(0);
	print("single-step with a breakpoint on the 2nd nop: %d #DB\n", (unsigned)db_count);
	show("step", 0, step_begin);
	show("exec", 1, step_begin);
	show("step", 2, step_begin);

	print("RF in the #UD image (a fault): %d\n", (unsigned)((ud_rflags >> 16) & 1));
	print("debugreg: done\n");
	guest_exit(0x10);
}
