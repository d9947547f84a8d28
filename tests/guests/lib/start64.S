/* Entry of the C test guests (long64): vmon starts us at 0x10000 in long
 * mode with a stack at 0xf000; clear .bss, call guest_main, then stop. */
	.section .entry, "ax"
	.globl _start
_start:
	cld
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	call guest_main
	mov $0x01, %al
	outb %al, $0xf4        /* guest_main returned: status 3 */
1:	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
