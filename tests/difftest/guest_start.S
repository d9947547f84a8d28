/* Entry of the differential-test guest: vmon's long64 start state already
 * has a stack at 0xf000; call the C side, then stop. */
	.section .entry, "ax"
	.globl _start
_start:
	cld
	call guest_main
1:	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
