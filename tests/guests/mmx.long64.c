/* MMX from ring 3 (SDM vol. 1 chapter 9, vol. 2 instruction pages): a few
 * packed operations on fixed inputs (wrap-around, signed and unsigned
 * saturation, unpacking, packing, multiply-add, shifts, a shuffle, the byte
 * mask), the x87 state MMX leaves (TOP 0; after EMMS every tag empty), and
 * from ring 3 the faults ring 0 selects with CR0 (SDM vol. 3 §2.5 table
 * 2-2): #NM with CR0.TS, #UD with CR0.EM. Ring 3 because every KVM runs it
 * on the host CPU, whose answers the expected output must match. */
#include <stdint.h>

#include "lib/guestlib.h"

volatile uint64_t in_a = 0x00ff7f8001020304ULL, in_b = 0x010101018080ff7fULL;

/* Each: mm0 = in_a, mm1 = in_b, the operation, rax = the result. */
#define OP(name, insn)                                                                       \
	"u_" #name ": movq in_a(%rip), %mm0; movq in_b(%rip), %mm1; " insn "; movq %mm0, %rax; " \
	USER_RET
extern void u_paddb(void), u_paddsb(void), u_paddusb(void), u_psubusb(void), u_punpckhbw(void),
	u_punpcklwd(void), u_packsswb(void), u_packuswb(void), u_pmaddwd(void), u_pmulhw(void), u_psrlq(void),
	u_psraw(void), u_pshufw(void), u_pcmpgtb(void), u_pmovmskb(void), u_top(void), u_emms_tags(void),
	u_fault(void);
__asm__(".text\n"
	OP(paddb, "paddb %mm1, %mm0")
	OP(paddsb, "paddsb %mm1, %mm0")
	OP(paddusb, "paddusb %mm1, %mm0")
	OP(psubusb, "psubusb %mm1, %mm0")
	OP(punpckhbw, "punpckhbw %mm1, %mm0")
	OP(punpcklwd, "punpcklwd %mm1, %mm0")
	OP(packsswb, "packsswb %mm1, %mm0")
	OP(packuswb, "packuswb %mm1, %mm0")
	OP(pmaddwd, "pmaddwd %mm1, %mm0")
	OP(pmulhw, "pmulhw %mm1, %mm0")
	OP(psrlq, "psrlq $12, %mm0")
	OP(psraw, "psraw $4, %mm0")
	OP(pshufw, "pshufw $0x1b, %mm1, %mm0")
	OP(pcmpgtb, "pcmpgtb %mm1, %mm0")
	"u_pmovmskb: movq in_a(%rip), %mm0; pmovmskb %mm0, %eax; " USER_RET
	/* FNSTSW after an MMX instruction: TOP (bits 13:11) is 0 */
	"u_top: fninit; fld1; fld1; movq in_a(%rip), %mm2; fnstsw %ax; movzwl %ax, %eax; emms; " USER_RET
	/* FNSTENV after EMMS: the tag word (offset 8) is all empty */
	"u_emms_tags: sub $32, %rsp; movq in_a(%rip), %mm2; emms; fnstenv (%rsp); movzwl 8(%rsp), %eax; "
	"add $32, %rsp; " USER_RET
	"u_fault: paddb %mm1, %mm0; " USER_RET);

static void show(const char *what, void (*fn)(void))
{
	uint64_t v = run_user(fn);
	if (v == USER_RETURNED && fn == u_fault)
		print("%s: ran\n", what);
	else if (v == USER_RETURNED)
		print("%s: %x\n", what, user_last.rax);
	else
		print("%s: vector %d\n", what, (unsigned)v);
}

void guest_main(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	print("cpuid: mmx %d\n", (d >> 23) & 1);
	if (!((d >> 23) & 1))
		guest_exit(0x10);
	user_init();
	print("a %x  b %x\n", in_a, in_b);
	show("paddb", u_paddb);
	show("paddsb", u_paddsb);
	show("paddusb", u_paddusb);
	show("psubusb", u_psubusb);
	show("punpckhbw", u_punpckhbw);
	show("punpcklwd", u_punpcklwd);
	show("packsswb", u_packsswb);
	show("packuswb", u_packuswb);
	show("pmaddwd", u_pmaddwd);
	show("pmulhw", u_pmulhw);
	show("psrlq 12", u_psrlq);
	show("psraw 4", u_psraw);
	show("pshufw 0x1b", u_pshufw);
	show("pcmpgtb", u_pcmpgtb);
	show("pmovmskb", u_pmovmskb);
	show("fsw after fld1, fld1, movq", u_top);
	show("tag word after emms", u_emms_tags);
	uint64_t cr0 = read_cr0();
	write_cr0(cr0 | (1u << 3)); /* TS */
	show("paddb with CR0.TS", u_fault);
	write_cr0((cr0 & ~(1ULL << 3)) | (1u << 2)); /* EM */
	show("paddb with CR0.EM", u_fault);
	write_cr0(cr0);
	show("paddb with both clear", u_fault);
	guest_exit(0x10);
}
