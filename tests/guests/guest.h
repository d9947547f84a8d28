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

/* From 32-bit protected mode with paging off: build 4-level page tables at
 * pml4 (PDPT at pml4 + 0x1000, one page directory at pml4 + 0x2000) that
 * identity-map the first GiB with 2 MiB pages, then CR3, CR4.PAE, EFER.LME
 * and CR0.PG: long mode is active (compatibility mode until the caller's far
 * jump to a 64-bit code segment). SDM vol. 3 §9.8.5. Clobbers eax, ecx, edx, edi. */
.macro ENABLE_LONG_MODE pml4
	mov $\pml4, %edi
	xor %eax, %eax
	mov $(3 * 1024), %ecx
	rep stosl
	movl $((\pml4 + 0x1000) | 3), \pml4
	movl $((\pml4 + 0x2000) | 3), \pml4 + 0x1000
	mov $(\pml4 + 0x2000), %edi
	mov $0x83, %eax
	mov $512, %ecx
98:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 98b
	mov $\pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax                   /* CR4.PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx            /* IA32_EFER */
	rdmsr
	or $0x100, %eax                  /* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax             /* CR0.PG: long mode becomes active */
	mov %eax, %cr0
.endm
