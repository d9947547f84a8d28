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
 * ends with USER_RET (lib/user.c) to report back; any exception taken from
 * ring 3 is recorded the same way. */
#include <stdint.h>

#include "lib/guestlib.h"

/* From the asm below. */
extern void u_sgdt(void), u_sidt(void), u_sldt(void), u_str(void), u_smsw(void), u_popf(void),
	u_lar(void), u_lsl(void), u_verr(void), u_verw(void), u_movcs(void), u_cli(void), u_sti(void),
	u_hlt(void), u_movcr0(void), u_lgdt(void), u_in(void), u_out(void);

__asm__(
	"	.text\n"
	/* The ring-3 tests. Each leaves what it observed in rax (and rdx)
	 * and reports with USER_RET. */
	"u_sgdt:  sub $16, %rsp; sgdt (%rsp); movzwl (%rsp), %eax; mov 2(%rsp), %rdx; add $16, %rsp; " USER_RET
	"u_sidt:  sub $16, %rsp; sidt (%rsp); movzwl (%rsp), %eax; mov 2(%rsp), %rdx; add $16, %rsp; " USER_RET
	"u_sldt:  xor %eax, %eax; sldt %ax; " USER_RET
	"u_str:   xor %eax, %eax; str %ax; " USER_RET
	"u_smsw:  xor %eax, %eax; smsw %ax; " USER_RET
	"u_popf:  pushfq; pop %rax; or $0x3200, %rax; push %rax; popfq; pushfq; pop %rax; " USER_RET
	"u_lar:   mov $0x23, %ecx; xor %eax, %eax; lar %cx, %eax; setz %dl; movzbl %dl, %edx; " USER_RET
	"u_lsl:   mov $0x1b, %ecx; xor %eax, %eax; lsl %cx, %eax; setz %dl; movzbl %dl, %edx; " USER_RET
	"u_verr:  mov $0x08, %ecx; verr %cx; setz %al; mov $0x23, %ecx; verr %cx; setz %dl; movzbl %al, %eax; movzbl %dl, %edx; " USER_RET
	"u_verw:  mov $0x10, %ecx; verw %cx; setz %al; mov $0x1b, %ecx; verw %cx; setz %dl; movzbl %al, %eax; movzbl %dl, %edx; " USER_RET
	"u_movcs: xor %eax, %eax; mov %cs, %ax; " USER_RET
	"u_cli:   cli; " USER_RET
	"u_sti:   sti; " USER_RET
	"u_hlt:   hlt; " USER_RET
	"u_movcr0: xor %eax, %eax; mov %rax, %cr0; " USER_RET
	"u_lgdt:  sub $16, %rsp; movw $0, (%rsp); movq $0, 2(%rsp); lgdt (%rsp); add $16, %rsp; " USER_RET
	"u_in:    inb $0x80, %al; " USER_RET
	"u_out:   outb %al, $0x80; " USER_RET
);

enum observe { OBS_GDT, OBS_IDT, OBS_SEL, OBS_MSW, OBS_FLAGS, OBS_LAR, OBS_LSL, OBS_VER, OBS_CS, OBS_NONE };

struct test {
	const char *name;
	void (*fn)(void);
	enum observe obs;
	const char *what; /* what executing it silently reveals or does */
};

static const struct test tests[] = {
	{ "SGDT", u_sgdt, OBS_GDT, "reads GDTR" },
	{ "SIDT", u_sidt, OBS_IDT, "reads IDTR" },
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
	uint64_t v = run_user(t->fn);
	print("%10s ", t->name);
	if (v != USER_RETURNED) {
		print("trapped  %s(%4x)\n", exception_name(v), (uint64_t)user_last.error);
		return 1;
	}
	uint64_t a = user_last.rax, d = user_last.rdx;
	print("silent   %s: ", t->what);
	switch (t->obs) {
	case OBS_GDT: /* named rather than printed: it moves as the guest's code changes */
	case OBS_IDT:
		print("limit=%4x ", a);
		if (d == (t->obs == OBS_GDT ? user_gdt_base() : idt_base()))
			print("base=the guest's %s\n", t->obs == OBS_GDT ? "GDT" : "IDT");
		else
			print("base=%16x\n", d);
		break;
	case OBS_SEL: print("%4x\n", a); break;
	case OBS_MSW: print("PE=%1x\n", a & 1); break;
	case OBS_FLAGS: /* ring 3 runs with IF 0: a 1 read back is not the guest's flag */
		print("IF=%1x IOPL=%1x (%s)\n", (a >> 9) & 1, (a >> 12) & 3,
		      (a & 0x3200) == 0 ? "both writes ignored" : (a & 0x3000) == 0 ? "IOPL write ignored; IF is the host's" : "written");
		break;
	case OBS_LAR: print("ZF=%1x rights=%8x\n", d, a & 0x00f0ff00) /* bits 19:16 undefined */; break;
	case OBS_LSL: print("ZF=%1x limit=%8x\n", d, a); break;
	case OBS_VER: print("%1x, %1x\n", a, d); break;
	case OBS_CS: print("%4x (RPL %1x: not ring 0)\n", a, a & 3); break;
	case OBS_NONE: print("ran\n"); break;
	}
	return 0;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

void guest_main(void)
{
	user_init();
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
