/* Real mode: vmon enters at CS:IP = 0x1000:0000 with DS = ES = CS. */
#include "guest.h"
	.code16
	.text
	.globl _start
_start:
	cld
	mov $msg, %si
	call puts
	/* Check the environment vmon promises: CR0.PE clear, stack at 0:0xf000. */
	smsw %ax
	test $1, %ax
	jnz bad
	mov %ss, %ax
	test %ax, %ax
	jnz bad
	VERDICT ok, fail, si
	DEFINE_PUTS
msg:	.asciz "hello from real mode\n"
ok:	.asciz "real mode: PE=0, SS=0\n"
fail:	.asciz "real mode: unexpected start state\n"
