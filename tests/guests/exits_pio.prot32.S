/* Benchmark guest: 200,000 port writes to an idle port (0x80, unclaimed), so
 * each one is a full exit to the VMM and back. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	mov $200000, %ecx
1:	outb %al, $0x80
	loop 1b
	EXIT 0x00
