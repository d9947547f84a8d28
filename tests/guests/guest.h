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

/* puthex32: prints eax as 8 hex digits (32-bit code; needs putc); with
 * digits=N, its low N digits. */
.macro DEFINE_PUTHEX32 name=puthex, digits=8
\name:
	push %ecx
	push %eax
	.if \digits < 8
	shl $(32 - 4 * \digits), %eax
	.endif
	mov $\digits, %ecx
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

/* put_fields: for each (string, offset, size) triple of the table at edi,
 * ended by a zero string, prints the string and the 2- or 4-byte value at
 * ebx + offset in hex (32-bit code; needs puts, puthex). Clobbers eax, edx,
 * esi, edi. */
.macro DEFINE_PUT_FIELDS32
put_fields:
1:	mov (%edi), %esi
	test %esi, %esi
	jz 4f
	call puts
	mov 4(%edi), %eax
	add %ebx, %eax
	cmpl $2, 8(%edi)
	jne 2f
	movzwl (%eax), %eax
	jmp 3f
2:	mov (%eax), %eax
3:	call puthex
	add $12, %edi
	jmp 1b
4:	ret
.endm

/* put_bda: prints the BIOS data area words a BIOS leaves for the OS (0x400
 * COM1 base, 0x40e EBDA segment, 0x410 equipment, 0x413 base memory in KiB)
 * as one line (32-bit code; needs puts, puthex, put_fields). Clobbers eax,
 * edx, esi, edi. */
.macro DEFINE_PUT_BDA32
put_bda:
	push %ebx
	xor %ebx, %ebx
	mov $bda_fields, %edi
	call put_fields
	mov $bda_nl, %esi
	call puts
	pop %ebx
	ret
	.pushsection .data
bda_fields: .long bda_s0, 0x400, 2, bda_s1, 0x40e, 2, bda_s2, 0x410, 2, bda_s3, 0x413, 2, 0
bda_s0:     .asciz "bda: com1="
bda_s1:     .asciz " ebda_seg="
bda_s2:     .asciz " equipment="
bda_s3:     .asciz " base_kib="
bda_nl:     .asciz "\n"
	.popsection
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

/* SMP start-up (32-bit code): WAKE_APS software-enables the local APIC,
 * sends INIT then SIPI twice to all but self with the start page `vector`
 * (SDM vol. 3 §8.4.4, "MP initialization example"), and waits until the
 * dword at `count`, which each AP increments, stops changing. Needs
 * DEFINE_DELAY32. Clobbers eax, ebx, ecx. */
#define LAPIC_SVR  0xfee000f0
#define LAPIC_ICRL 0xfee00300
#define LAPIC_ICRH 0xfee00310
.macro WAKE_APS vector, count
	movl $0x1ff, LAPIC_SVR          /* software-enable, spurious vector 0xff */
	movl $0, LAPIC_ICRH
	movl $0x000c4500, LAPIC_ICRL    /* INIT, assert, all excluding self */
	call delay
	movl $(0x000c4600 | \vector), LAPIC_ICRL  /* SIPI */
	call delay
	movl $(0x000c4600 | \vector), LAPIC_ICRL  /* SIPI again */
	xor %ebx, %ebx                  /* last count */
	mov $2000000, %ecx
98:	pause
	mov \count, %eax
	cmp %eax, %ebx
	je 97f
	mov %eax, %ebx
	mov $2000000, %ecx
97:	loop 98b
.endm

/* delay: about 100000 PAUSEs (32-bit code). */
.macro DEFINE_DELAY32
delay:
	push %ecx
	mov $100000, %ecx
1:	pause
	loop 1b
	pop %ecx
	ret
.endm
