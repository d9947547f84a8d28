/* Prints a line, then spins forever: for the signal tests (SIGINT/SIGTERM
 * must stop vmon cleanly with status 128+n). */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
1:	jmp 1b
	DEFINE_PUTS
msg:	.asciz "spinning\n"
