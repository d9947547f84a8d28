/* The debug-exit port carries a value: 0x7f -> exit status 255. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	EXIT 0x7f
