/* 32-bit protected mode, flat segments, paging off. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	mov %cr0, %eax
	test $1, %eax          /* PE set */
	jz bad
	test $0x80000000, %eax /* PG clear */
	jnz bad
	mov %cs, %ax
	cmp $0x08, %ax
	jne bad
	VERDICT ok, fail, esi
	DEFINE_PUTS
msg:	.asciz "hello from 32-bit protected mode\n"
ok:	.asciz "prot32: PE=1 PG=0 CS=0x08\n"
fail:	.asciz "prot32: unexpected start state\n"
