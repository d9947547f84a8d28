/* bench/emu's guest: one bootable image for every full-system runner.
 * - A BIOS (QEMU, Bochs) loads sector 1 at 0x7c00 from a floppy; this code
 *   then reads the rest with INT 13h.
 * - vmon loads the whole image at 0x7c00 itself (--raw --mode real --addr
 *   0x7c00): the loader sees the second sector already in place and skips
 *   the BIOS call.
 * Then: real mode -> 32-bit protected mode -> long mode (identity-mapped 1 GiB),
 * run workload(), print "checksum XXXXXXXX" on COM1 and port 0xe9, and stop
 * through 0xf4 (isa-debug-exit: QEMU, vmon), "Shutdown" on 0x8900 (Bochs). */
#define SECTORS_PER_TRACK 18
#include "guest.h"
#define PML4 0x1000
/* The stack and the data live in pages of their own: a write to a page that
 * holds code makes a translating emulator (QEMU TCG, a JIT) throw away its
 * translations, which would measure that instead of the CPU. */
#define STACK_TOP 0x90000

	.code16
	.section .boot, "ax"
	.globl _start
_start:
	cli
	ljmp $0, $1f
1:	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7c00, %sp
	cld
	cmpl $0x4e4f4d56, stage2_magic     /* "VMON": already loaded (vmon) */
	je stage2
	/* Read sectors 2.. one at a time (CHS, 1.44 MB floppy geometry). */
	mov $1, %si                        /* LBA */
	mov $0x7e00, %bx                   /* es:bx = 0:7e00, then segment steps */
2:	cmp $image_sectors, %si
	jae stage2_check
	mov %si, %ax
	xor %dx, %dx
	mov $SECTORS_PER_TRACK, %cx
	div %cx                            /* ax = track index, dx = sector - 1 */
	mov %dl, %cl
	inc %cl                            /* sector (1-based) */
	mov %al, %dh
	and $1, %dh                        /* head */
	shr $1, %ax
	mov %al, %ch                       /* cylinder */
	mov boot_drive, %dl
	push %bx
	mov %bx, %ax
	shr $4, %ax
	mov %ax, %es                       /* es = linear >> 4, bx = 0 */
	xor %bx, %bx
	mov $0x0201, %ax                   /* read 1 sector */
	int $0x13
	pop %bx
	jc disk_error
	add $512, %bx
	inc %si
	jmp 2b
stage2_check:
	xor %ax, %ax
	mov %ax, %es
	cmpl $0x4e4f4d56, stage2_magic
	je stage2
disk_error:
	mov $'E', %al
	outb %al, $0xe9
	hlt
	jmp disk_error
boot_drive: .byte 0
	.org 510
	.byte 0x55, 0xaa

	/* Sector 2 onwards. */
stage2_magic: .long 0x4e4f4d56
stage2:
	lgdtl gdtr
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $STACK_TOP, %esp
	ENABLE_LONG_MODE PML4
	ljmp $0x18, $lm64

	.code64
lm64:
	mov $STACK_TOP, %rsp
	/* Clear .bss (the BIOS path leaves RAM as it was). */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	call workload
	mov %eax, %ebx
	lea msg(%rip), %rsi
	call puts
	mov $8, %ecx
2:	rol $4, %ebx
	mov %ebx, %eax
	and $0xf, %eax
	lea hexdig(%rip), %rdx
	movb (%rdx,%rax), %al
	call putc
	loop 2b
	mov $'\n', %al
	call putc
	xor %eax, %eax
	outb %al, $0xf4                   /* QEMU isa-debug-exit, vmon: status 1 */
	mov $0x8900, %dx                  /* Bochs: "Shutdown" */
	lea shutdown(%rip), %rsi
3:	lodsb
	test %al, %al
	jz 4f
	outb %al, %dx
	jmp 3b
4:	cli
	hlt
	jmp 4b

putc:	/* al -> COM1 (polling LSR) and port 0xe9 */
	push %rdx
	push %rax
	mov $0x3fd, %dx
5:	inb %dx, %al
	test $0x20, %al
	jz 5b
	pop %rax
	mov $0x3f8, %dx
	outb %al, %dx
	outb %al, $0xe9
	pop %rdx
	ret
puts:
6:	lodsb
	test %al, %al
	jz 7f
	call putc
	jmp 6b
7:	ret

	.section .rodata
	.balign 8
gdt:	.quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
gdtr:	.word 4 * 8 - 1
	.long gdt
msg:	.asciz "checksum "
hexdig:	.ascii "0123456789abcdef"
shutdown: .asciz "Shutdown"
	.section .note.GNU-stack, "", @progbits
