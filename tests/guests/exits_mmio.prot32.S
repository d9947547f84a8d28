/* Benchmark guest: 200,000 MMIO writes to an unassigned address in the PCI
 * hole, each an exit to the VMM and back. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	mov $200000, %ecx
1:	movl %eax, 0xd0000000
	loop 1b
	EXIT 0x00
