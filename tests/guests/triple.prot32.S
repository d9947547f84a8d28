/* Faults on purpose: with an empty IDT, int3 cannot be delivered (#GP),
 * neither can the #GP (double fault), nor the double fault: a triple fault,
 * which vmon reports as a crash (status 4). */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	lidt idtr
	int3
	mov $fail, %esi        /* never reached */
	call puts
	EXIT 0x01
	DEFINE_PUTS
	.balign 8
idtr:	.word 0
	.long 0
msg:	.asciz "about to triple fault\n"
fail:	.asciz "still running after the fault\n"
