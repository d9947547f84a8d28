/* A guest reset through the i8042's reset line: controller command 0xFE
 * pulses output-port bit 0, which is wired to the CPU's RESET on a PC
 * (IBM PC AT Technical Reference, "Keyboard controller", command FE).
 * vmon ends with the reset status, 6; a guest still running after the
 * pulse prints so and fails with status 3. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	mov $0xfe, %al
	outb %al, $0x64
	mov $0x100000, %ecx            /* give the reset time to land */
1:	loop 1b
	mov $late, %esi
	call puts
	EXIT 0x01
	DEFINE_PUTS
msg:	.asciz "reset: i8042 command 0xfe\n"
late:	.asciz "reset: still running\n"
