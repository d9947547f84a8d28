/* Shared pieces of the bare-metal test guests (GNU as, AT&T syntax).
 * Guests print through COM1 the way a driver does (poll LSR.THRE, then write
 * THR) and end by writing a value to the debug-exit port. */
#define COM1        0x3f8
#define COM1_LSR    (COM1 + 5)
#define DEBUG_EXIT  0xf4

/* Ends the run: vmon exits with status (code << 1) | 1. */
.macro EXIT code
	mov $\code, %al
	outb %al, $DEBUG_EXIT
99:	hlt
	jmp 99b
.endm

/* puts: prints the NUL-terminated string at (e/r)si. Assembles for 16-,
 * 32- and 64-bit code alike (define one per code size with another name).
 * Clobbers ax, dx, si. */
.macro DEFINE_PUTS name=puts
\name:
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %ah
	mov $COM1_LSR, %dx
2:	inb %dx, %al
	test $0x20, %al
	jz 2b
	mov $COM1, %dx
	mov %ah, %al
	outb %al, %dx
	jmp 1b
3:	ret
.endm

/* putc32: prints al (32-bit code). Clobbers dx. */
.macro DEFINE_PUTC32
putc:
	push %eax
	mov %al, %ah
	mov $COM1_LSR, %dx
1:	inb %dx, %al
	test $0x20, %al
	jz 1b
	mov $COM1, %dx
	mov %ah, %al
	outb %al, %dx
	pop %eax
	ret
.endm

/* puthex32: prints eax as 8 hex digits (32-bit code; needs putc). */
.macro DEFINE_PUTHEX32
puthex:
	push %ecx
	push %eax
	mov $8, %ecx
1:	rol $4, %eax
	push %eax
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	call putc
	pop %eax
	loop 1b
	pop %eax
	pop %ecx
	ret
.endm

/* The end of a self-checking guest: print okmsg and exit with 0x10 (status
 * 33), or, from the label `bad`, print failmsg and exit with 0x01 (status 3).
 * reg is the string register of the code size: si, esi or rsi. */
.macro VERDICT okmsg, failmsg, reg
	.ifc \reg,rsi
	lea \okmsg(%rip), %rsi
	.else
	mov $\okmsg, %\reg
	.endif
	call puts
	EXIT 0x10
bad:
	.ifc \reg,rsi
	lea \failmsg(%rip), %rsi
	.else
	mov $\failmsg, %\reg
	.endif
	call puts
	EXIT 0x01
.endm
