/* x2APIC mode (SDM vol. 3 §10.12) and the TSC-deadline timer (§10.5.4.1).
 *
 * IA32_APIC_BASE: EXTD without EN, x2APIC -> xAPIC and disabled -> x2APIC
 * are #GP; xAPIC -> x2APIC and x2APIC -> disabled -> xAPIC work. In x2APIC
 * mode the registers are MSRs 0x800-0x8ff (before it they are #GP): the ID
 * is the 32-bit x2APIC ID (0 for the BSP), the LDR is derived from it
 * (cluster 0, bit 0 = 1), read-only registers are #GP on WRMSR, write-only
 * ones (EOI, SELF IPI) on RDMSR, reserved ones (0x831, the old ICR high
 * half) on both, EOI and ESR take only 0; the memory-mapped page is gone
 * (its ID register does not read the APIC). Interrupts: a SELF IPI (MSR
 * 0x83f) and a fixed IPI to ID 0 through the 64-bit ICR (MSR 0x830) each
 * arrive once. TSC-deadline mode (LVT timer bits 18:17 = 10b): the MSR
 * reads 0 while disarmed and outside the mode (where writes are ignored),
 * a deadline in the future fires once, at or after that TSC value, and
 * disarms itself (reads 0 again); writing 0 disarms; a deadline in the
 * past fires at once. */
#include <stdint.h>

#include "lib/guestlib.h"

#define APIC_BASE_MSR 0x1b
#define EN (1ULL << 11)
#define EXTD (1ULL << 10)

static uint64_t msr_val;
static void do_rdmsr(uint64_t idx) { msr_val = rdmsr((uint32_t)idx); }
static void do_wrmsr(uint64_t idx) { wrmsr((uint32_t)idx, msr_val); }

/* RDMSR: prints the value, or #GP. */
static void rd(const char *what, uint32_t idx)
{
	if (trap_probe(do_rdmsr, idx))
		print("rdmsr %x %s: #GP\n", (uint64_t)idx, what);
	else
		print("rdmsr %x %s: %x\n", (uint64_t)idx, what, msr_val);
}

static void wr(const char *what, uint32_t idx, uint64_t v)
{
	msr_val = v;
	print("wrmsr %x %s: %s\n", (uint64_t)idx, what, trap_probe(do_wrmsr, idx) ? "#GP" : "ok");
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

volatile uint32_t hits[3];
volatile uint64_t fired_tsc;
extern void v40(void), v41(void), v42(void);
/* Each handler counts, notes the TSC and sends an x2APIC EOI (MSR 0x80b = 0). */
__asm__(".text\n"
	".macro VEC n, i\n"
	"v\\n:\n"
	"	push %rax; push %rcx; push %rdx\n"
	"	lock incl hits+4*\\i(%rip)\n"
	"	rdtsc\n"
	"	shl $32, %rdx; or %rdx, %rax\n"
	"	mov %rax, fired_tsc(%rip)\n"
	"	mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n"
	"	pop %rdx; pop %rcx; pop %rax\n"
	"	iretq\n"
	".endm\n"
	"VEC 40, 0\n"
	"VEC 41, 1\n"
	"VEC 42, 2\n");

static void settle(void)
{
	__asm__ volatile("sti");
	for (volatile int i = 0; i < 20000; i++)
		;
	__asm__ volatile("cli");
}

void guest_main(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	print("cpuid: x2apic %d tsc-deadline %d\n", (c >> 21) & 1, (c >> 24) & 1);
	if (!((c >> 21) & 1) || !((c >> 24) & 1))
		guest_exit(0x10);
	trap_catch(13);
	idt_set_gate(0x40, (uint64_t)v40, 0, 0);
	idt_set_gate(0x41, (uint64_t)v41, 0, 0);
	idt_set_gate(0x42, (uint64_t)v42, 0, 0);
	idt_load();

	uint64_t base = rdmsr(APIC_BASE_MSR);
	print("apic base: en %d extd %d\n", (unsigned)(base >> 11) & 1, (unsigned)(base >> 10) & 1);
	rd("(ID, xAPIC mode)", 0x802);
	wr("EXTD without EN", APIC_BASE_MSR, (base & ~EN) | EXTD);
	wr("xAPIC -> x2APIC", APIC_BASE_MSR, base | EXTD);
	base = rdmsr(APIC_BASE_MSR);
	print("apic base: en %d extd %d\n", (unsigned)(base >> 11) & 1, (unsigned)(base >> 10) & 1);
	rd("ID", 0x802);
	rd("LDR", 0x80d);
	rd("EOI (write-only)", 0x80b);
	rd("SELF IPI (write-only)", 0x83f);
	rd("0x831 (reserved)", 0x831);
	wr("ID (read-only)", 0x802, 5);
	wr("LDR (read-only)", 0x80d, 1);
	wr("0x831 (reserved)", 0x831, 0);
	wr("EOI = 1", 0x80b, 1);
	wr("ESR = 1", 0x828, 1);
	wr("x2APIC -> xAPIC", APIC_BASE_MSR, base & ~EXTD);
	print("MMIO ID register reads the APIC: %s\n",
	      *(volatile uint32_t *)0xfee00020 == 0 ? "yes" : "no");

	wrmsr(0x80f, 0x1ff); /* SVR: APIC on, spurious vector 0xff */
	wrmsr(0x808, 0);     /* TPR */
	wrmsr(0x83f, 0x40);
	settle();
	print("self IPI: %d interrupt(s) at vector 0x40\n", hits[0]);
	wrmsr(0x830, 0x41); /* fixed, physical, destination x2APIC ID 0 */
	settle();
	print("ICR IPI to ID 0: %d interrupt(s) at vector 0x41\n", hits[1]);
	rd("ICR", 0x830);

	/* TSC deadline */
	wrmsr(0x832, 0x42); /* one-shot: the deadline MSR is inert */
	wrmsr(0x6e0, rdtsc() + 1000);
	rd("TSC deadline, one-shot mode", 0x6e0);
	wrmsr(0x832, 0x42 | (2u << 17));
	rd("LVT timer", 0x832);
	rd("TSC deadline, disarmed", 0x6e0);
	uint64_t dl = rdtsc() + 2000000;
	wrmsr(0x6e0, dl);
	print("TSC deadline armed: %s\n", rdmsr(0x6e0) == dl ? "reads back" : "WRONG");
	__asm__ volatile("sti");
	while (!hits[2])
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
	print("deadline: %d interrupt at vector 0x42, at or after the deadline: %s\n", hits[2],
	      fired_tsc >= dl ? "yes" : "NO");
	rd("TSC deadline, after it fired", 0x6e0);
	settle();
	print("deadline: still %d interrupt\n", hits[2]);
	wrmsr(0x6e0, rdtsc() + 2000000);
	wrmsr(0x6e0, 0);
	for (int i = 0; i < 20; i++)
		settle();
	print("deadline written 0: disarmed, still %d interrupt\n", hits[2]);
	wrmsr(0x6e0, 1);
	settle();
	print("deadline in the past: %d interrupts\n", hits[2]);

	wr("x2APIC -> disabled", APIC_BASE_MSR, base & ~(EN | EXTD));
	rd("(ID, APIC disabled)", 0x802);
	wr("disabled -> x2APIC", APIC_BASE_MSR, base | EN | EXTD);
	wr("disabled -> xAPIC", APIC_BASE_MSR, (base | EN) & ~EXTD);
	print("MMIO ID register reads the APIC: %s\n",
	      *(volatile uint32_t *)0xfee00020 == 0 ? "yes" : "no");
	guest_exit(0x10);
}
