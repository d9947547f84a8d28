/* Console input: reads COM1 (polling LSR.DR) and echoes each byte in upper
 * case until it has seen two newlines, then exits. With no input at all it
 * waits, like a shell at its prompt. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	xor %ebx, %ebx                 /* newlines seen */
1:	mov $COM1_LSR, %dx
	inb %dx, %al
	test $0x01, %al                /* data ready */
	jz 1b
	mov $COM1, %dx
	inb %dx, %al
	cmp $'a', %al
	jb 2f
	cmp $'z', %al
	ja 2f
	sub $0x20, %al
2:	mov %al, %cl
	mov $COM1_LSR, %dx
3:	inb %dx, %al
	test $0x20, %al
	jz 3b
	mov $COM1, %dx
	mov %cl, %al
	outb %al, %dx
	cmp $'\n', %cl
	jne 1b
	inc %ebx
	cmp $2, %ebx
	jb 1b
	EXIT 0x10
	DEFINE_PUTS
msg:	.asciz "echo: ready\n"
