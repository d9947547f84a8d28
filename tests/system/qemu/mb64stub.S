/* For tests/system/qemu_xcheck.sh: a Multiboot (v1) header with the a.out
 * kludge (Multiboot 0.6.96 §3.1.3, flag 16) and a 32-bit entry that enters
 * long mode the way vmon's `--mode long64` leaves a guest (CS 0x18, data
 * 0x10, RSP 0xf000; the first GiB identity-mapped) and jumps to the raw
 * long64 image that the script appends at 0x10000. Linked at 0xe000. */
#include "guest.h"
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010000
	.code32
	.text
	.globl _start
_start:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.long _start, _start, 0, 0, entry /* header, load, load end, bss end, entry */
entry:
	cli
	lgdt gdtr
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0xf000, %esp
	ENABLE_LONG_MODE 0x100000
	ljmp $0x18, $l64
	.code64
l64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0xf000, %rsp
	mov $0x10000, %eax
	jmp *%rax
	.balign 8
gdt:	.quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
gdtr:	.word 31
	.long gdt
