/* The same case as a long-mode vmon guest, run at ring 3 (tests/guests/
 * lib/user.c): there every KVM, a software-assisted one included, runs it
 * on the host CPU itself, so the case is compared host vs KVM vs emu.
 * Results go out through COM1 (via the kernel), the run ends through the
 * debug-exit port (status 1 = value 0). The planned faults (#DE, #UD, #GP)
 * come to fault_common at ring 0, which resumes ring 3 where the case says;
 * any other fault ends the run with status 5. */
#include "diff.h"
#include "lib/guestlib.h"

extern void fault_de(void), fault_ud(void), fault_gp(void);
void diff_guest_fault(uint64_t *frame);

__asm__(".text\n"
	"fault_de: pushq $0; pushq $0; jmp fault_common\n"  /* no error code: push a dummy */
	"fault_ud: pushq $0; pushq $6; jmp fault_common\n"
	"fault_gp: pushq $13; jmp fault_common\n"
	/* frame: vector, error code, rip, cs, rflags, rsp, ss; every register
	 * kept, since ring 3 goes on with them */
	"fault_common:\n"
	"	push %rax; push %rcx; push %rdx; push %rsi; push %rdi\n"
	"	push %r8; push %r9; push %r10; push %r11; push %rbx\n"
	"	mov %rsp, %rbx\n"
	"	lea 80(%rsp), %rdi\n"
	"	and $-16, %rsp\n"
	"	cld\n" /* the C code's assumption; IRETQ restores ring 3's DF */
	"	call diff_guest_fault\n"
	"	mov %rbx, %rsp\n"
	"	pop %rbx; pop %r11; pop %r10; pop %r9; pop %r8\n"
	"	pop %rdi; pop %rsi; pop %rdx; pop %rcx; pop %rax\n"
	"	add $16, %rsp\n"
	"	iretq\n");

void diff_guest_fault(uint64_t *frame)
{
	uint64_t resume;
	if (!diff_fault_resume(frame[2], (unsigned)frame[0], &resume)) {
		print("unplanned fault: vector %d at %x\n", (unsigned)frame[0], frame[2]);
		guest_exit(2);
	}
	frame[2] = resume;
}

static void run_case(void)
{
	diff_main(puts_);
}

void guest_main(void)
{
	user_init();
	idt_set_gate(0, (uint64_t)fault_de, 0, 0);
	idt_set_gate(6, (uint64_t)fault_ud, 0, 0);
	idt_set_gate(13, (uint64_t)fault_gp, 0, 0);
	run_user_or_exit(run_case);
	outb(0xf4, 0);
}
