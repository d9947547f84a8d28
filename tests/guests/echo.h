/* Console input: reads COM1 (polling LSR.DR) and echoes each byte in upper
 * case until it has seen two newlines, then exits. With no input at all it
 * waits, like a shell at its prompt.
 * Included by echo.prot32.S. With FIFO_RESET_FIRST (echo_reset.prot32.S)
 * it first sets the UART up as Linux's 8250 driver does when a program
 * opens ttyS0: it waits (input
 * piped to vmon is there by now), resets the receive FIFO, reads RBR once,
 * then enables the received-data interrupt with OUT2 (PC16550D datasheet:
 * FCR bit 1, IER bit 0, MCR bit 3). Interrupts stay off in the CPU. Input
 * held by vmon until then arrives whole; input given to the UART at once
 * would lose its first 16 bytes to the FIFO reset. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
#ifdef FIFO_RESET_FIRST
	mov $2000000, %ecx             /* long enough for the input to be there */
1:	loop 1b
	mov $COM1 + 2, %dx             /* FCR: FIFO on, both FIFOs reset */
	mov $0x07, %al
	outb %al, %dx
	mov $COM1, %dx                 /* RBR: read once, as the driver does */
	inb %dx, %al
	mov $COM1 + 4, %dx             /* MCR: DTR, RTS, OUT2 */
	mov $0x0b, %al
	outb %al, %dx
	mov $COM1 + 1, %dx             /* IER: received data available */
	mov $0x01, %al
	outb %al, %dx
#endif
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
#ifdef FIFO_RESET_FIRST
msg:	.asciz "echo after a FIFO reset: ready\n"
#else
msg:	.asciz "echo: ready\n"
#endif
