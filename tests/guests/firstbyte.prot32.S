/* Benchmark guest: one byte to COM1 as early as possible, then exit. Also the
 * zero-loop baseline of bench/exits. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	mov $'x', %al
	mov $COM1, %dx
	outb %al, %dx
	EXIT 0x00
