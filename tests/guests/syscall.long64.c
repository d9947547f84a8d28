/* SYSCALL/SYSRET and SYSENTER/SYSEXIT from compatibility mode follow the
 * CPU vendor (AMD APM vol. 3; SDM vol. 2); the guest reads it from CPUID.
 *
 * Ring 3 in 64-bit mode: SYSCALL enters ring 0 at LSTAR with RCX = the
 * return RIP, R11 = RFLAGS, CS = STAR[47:32], RFLAGS masked by FMASK;
 * SYSRETQ returns to CS = STAR[63:48] + 16. Ring 3 in compatibility mode
 * (a 32-bit code segment, reached by a far return), AMD: SYSCALL enters at
 * CSTAR in 64-bit mode, SYSRETL returns to compatibility mode with CS =
 * STAR[63:48], and SYSENTER is #UD (legacy mode only). Intel (any other
 * vendor here): SYSCALL is #UD there, and SYSENTER enters SYSENTER_EIP in
 * 64-bit mode, SYSEXIT (32-bit) returns to CS = SYSENTER_CS + 16. Ring 3
 * sets DF before each SYSCALL: R11 holds it, FMASK clears it at ring 0. */
#include <stdbool.h>
#include <stdint.h>

#include "lib/guestlib.h"

#define EFER 0xc0000080
#define STAR 0xc0000081
#define LSTAR 0xc0000082
#define CSTAR 0xc0000083
#define FMASK 0xc0000084

/* lib/user.c's GDT (7 entries) plus: 0x38 32-bit user code, 0x40 user
 * data, 0x48 64-bit user code: the SYSRET layout for STAR[63:48] = 0x3b. */
static uint64_t gdt[10] __attribute__((aligned(16)));
static uint8_t sysenter_stack[256] __attribute__((aligned(16)));

/* What the ring-0 entries saw: which entry, RCX, R11, CS, RFLAGS. */
volatile uint64_t seen_entry, seen_rcx, seen_r11, seen_cs, seen_flags, compat_cs;

extern void u_syscall64(void), u_compat(void), u_compat_sysenter(void), entry_lstar(void), entry_cstar(void),
	entry_sysenter(void);
extern char u_syscall64_ret[], u_compat_ret[];
__asm__(".text\n"
	"entry_lstar:\n"
	"	movq $1, seen_entry(%rip)\n"
	"	jmp entry_common\n"
	"entry_cstar:\n"
	"	movq $2, seen_entry(%rip)\n"
	"entry_common:\n"
	"	mov %rcx, seen_rcx(%rip)\n"
	"	mov %r11, seen_r11(%rip)\n"
	"	mov %cs, %eax\n"
	"	mov %rax, seen_cs(%rip)\n"
	"	pushfq\n"
	"	pop %rax\n"
	"	mov %rax, seen_flags(%rip)\n"
	"	cmpq $2, seen_entry(%rip)\n"
	"	je 1f\n"
	"	sysretq\n"
	"1:	sysretl\n"
	/* ring 3, 64-bit */
	"u_syscall64:\n"
	"	std\n" /* DF: in R11, masked by FMASK */
	"	syscall\n"
	"u_syscall64_ret:\n"
	"	cld\n"
	"	" USER_RET
	/* ring 3: to compatibility mode by a far return, SYSCALL, back, SYSENTER */
	"u_compat:\n"
	"	pushq $0x3b\n"
	"	lea 2f(%rip), %rax\n"
	"	push %rax\n"
	"	lretq\n"
	"	.code32\n"
	"2:	std\n"
	"	syscall\n"
	"u_compat_ret:\n"
	"	mov $0x43, %eax\n" /* a data segment for compatibility mode */
	"	mov %eax, %ds\n"
	"	mov %cs, %eax\n"
	"	mov %eax, compat_cs\n"
	"	sysenter\n"
	"	ud2\n"
	"	.code64\n"
	/* Intel: SYSENTER from compatibility mode, SYSEXIT back */
	"u_compat_sysenter:\n"
	"	pushq $0x3b\n"
	"	lea 3f(%rip), %rax\n"
	"	push %rax\n"
	"	lretq\n"
	"	.code32\n"
	"3:	mov %esp, %ecx\n"
	"	lea 4f, %edx\n"
	"	sysenter\n"
	"4:	mov $0x43, %eax\n"
	"	mov %eax, %ds\n"
	"	mov %cs, %eax\n"
	"	mov %eax, compat_cs\n"
	"	" USER_RET
	"	.code64\n"
	"entry_sysenter:\n"
	"	movq $3, seen_entry(%rip)\n"
	"	mov %cs, %eax\n"
	"	mov %rax, seen_cs(%rip)\n"
	"	sysexitl\n");

static void report(const char *what, uint64_t ret, uint64_t want_rcx)
{
	static const char *const entry[] = { "none", "LSTAR", "CSTAR", "SYSENTER_EIP" };
	print("%s: entered at %s, cs %2x, rcx %s, r11 %s\n", what, entry[seen_entry & 3], seen_cs,
	      seen_rcx == want_rcx ? "= return address" : "WRONG", seen_r11 == 0x402 ? "= rflags" : "WRONG");
	print("%s: ring 0 rflags %4x; back at ring 3, ended by vector %d\n", what, seen_flags & 0xffff,
	      (unsigned)ret);
}

static bool vendor_amd(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	return b == 0x68747541; /* "Auth" */
}

void guest_main(void)
{
	bool amd = vendor_amd();
	print("vendor rules: %s\n", amd ? "AMD" : "Intel");
	user_init();
	const uint64_t *ug = (const uint64_t *)user_gdt_base();
	for (unsigned i = 0; i < 7; i++)
		gdt[i] = ug[i];
	gdt[7] = 0x00cffb000000ffffULL; /* 0x38 32-bit code, DPL 3 */
	gdt[8] = 0x00cff3000000ffffULL; /* 0x40 data, DPL 3 */
	gdt[9] = 0x00affb000000ffffULL; /* 0x48 64-bit code, DPL 3 */
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");

	wrmsr(EFER, rdmsr(EFER) | 1); /* SCE */
	wrmsr(STAR, (0x3bULL << 48) | (0x08ULL << 32));
	wrmsr(LSTAR, (uint64_t)entry_lstar);
	wrmsr(CSTAR, (uint64_t)entry_cstar);
	wrmsr(FMASK, 0x400); /* DF */
	wrmsr(0x174, 0x08);  /* SYSENTER_CS: SYSEXIT to 0x18 + 3 (32-bit) */
	wrmsr(0x175, (uint64_t)sysenter_stack + sizeof(sysenter_stack));
	wrmsr(0x176, (uint64_t)entry_sysenter);

	seen_entry = 0;
	uint64_t r = run_user(u_syscall64);
	report("64-bit syscall", r, (uint64_t)u_syscall64_ret);
	seen_entry = 0;
	r = run_user(u_compat);
	__asm__ volatile("cld"); /* ring 3 left DF set */
	if (amd) {
		report("compat syscall", r, (uint64_t)u_compat_ret);
		print("after sysretl: cs %2x (compatibility mode), then sysenter: %s\n", compat_cs,
		      r == 6 ? "#UD" : "NOT #UD");
		guest_exit(0x10);
	}
	print("compat syscall: vector %d, entered: %s\n", (unsigned)r, seen_entry ? "YES" : "no");
	r = run_user(u_compat_sysenter);
	print("compat sysenter: entered at %s, cs %2x; after sysexit cs %2x, ended by vector %d\n",
	      seen_entry == 3 ? "SYSENTER_EIP" : "WRONG", seen_cs, compat_cs, (unsigned)r);
	guest_exit(0x10);
}
