/* A guest that climbs every step itself: it starts in real mode, loads a GDT,
 * enters 32-bit protected mode, builds 4-level page tables, enables PAE and
 * EFER.LME, turns paging on and far-jumps into 64-bit code (SDM vol. 3
 * §9.9.1, "Switching to protected mode", and §9.8.5, "Initializing IA-32e
 * mode"). Linked at 0 in the 0x1000 segment, so linear = 0x10000 + label. */
#include "guest.h"
#define BASE 0x10000
#define PML4 0x20000

	.code16
	.text
	.globl _start
_start:
	cli
	cld
	mov $msg_real, %si
	call puts16
	lgdtl gdt_ptr
	mov %cr0, %eax
	or $1, %eax                      /* CR0.PE */
	mov %eax, %cr0
	ljmpl $0x08, $(BASE + pm32)

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0xf000, %esp
	mov $(BASE + msg_prot), %esi
	call puts32

	ENABLE_LONG_MODE PML4
	ljmp $0x18, $(BASE + lm64)

	.code64
lm64:
	lea msg_long(%rip), %rsi
	call puts64
	mov $0xc0000080, %ecx
	rdmsr
	test $0x400, %eax                /* EFER.LMA */
	jz 2f
	lea msg_lma(%rip), %rsi
	call puts64
	EXIT 0x10
2:	EXIT 0x01

	.code16
	DEFINE_PUTS puts16
	.code32
	DEFINE_PUTS puts32
	.code64
	DEFINE_PUTS puts64

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff         /* 0x08 code32 */
	.quad 0x00cf92000000ffff         /* 0x10 data */
	.quad 0x00af9a000000ffff         /* 0x18 code64 */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long BASE + gdt
msg_real: .asciz "modeswitch: real mode\n"
msg_prot: .asciz "modeswitch: 32-bit protected mode\n"
msg_long: .asciz "modeswitch: 64-bit long mode\n"
msg_lma:  .asciz "modeswitch: EFER.LMA=1\n"
