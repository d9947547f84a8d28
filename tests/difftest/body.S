/* diff_run(struct diff_state *st, uint8_t *scratch): loads the 14 general
 * registers and RFLAGS from st, runs the generated DIFF_BODY with %rbp =
 * scratch, and stores the registers and RFLAGS back. The same bytes run on
 * the host (tests/difftest/host_main.c) and in a vmon guest (guest_main.c).
 * State layout: rax rbx rcx rdx rsi rdi r8..r15 (14 quads), then rflags. */
#include DIFF_CASE
	.text
	.globl diff_run
diff_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi                /* the state block, for the way out */
	mov %rsi, %rbp
	pushq 112(%rdi)
	popfq
	mov 0(%rdi), %rax
	mov 8(%rdi), %rbx
	mov 16(%rdi), %rcx
	mov 24(%rdi), %rdx
	mov 32(%rdi), %rsi
	mov 48(%rdi), %r8
	mov 56(%rdi), %r9
	mov 64(%rdi), %r10
	mov 72(%rdi), %r11
	mov 80(%rdi), %r12
	mov 88(%rdi), %r13
	mov 96(%rdi), %r14
	mov 104(%rdi), %r15
	mov 40(%rdi), %rdi

	DIFF_BODY

	pushfq
	push %rdi
	mov 16(%rsp), %rdi       /* the state block */
	popq 40(%rdi)
	popq 112(%rdi)
	mov %rax, 0(%rdi)
	mov %rbx, 8(%rdi)
	mov %rcx, 16(%rdi)
	mov %rdx, 24(%rdi)
	mov %rsi, 32(%rdi)
	mov %r8, 48(%rdi)
	mov %r9, 56(%rdi)
	mov %r10, 64(%rdi)
	mov %r11, 72(%rdi)
	mov %r12, 80(%rdi)
	mov %r13, 88(%rdi)
	mov %r14, 96(%rdi)
	mov %r15, 104(%rdi)
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	/* the end of the fault table DIFF_BODY filled (gen.c, e_fault) */
	.section .rodata.difffaults
	.globl diff_faults_end
diff_faults_end:

	.section .rodata
	.balign 8
	.globl diff_flags_mask
diff_flags_mask:
	.quad DIFF_FLAGS_MASK_VALUE
	.section .note.GNU-stack, "", @progbits
