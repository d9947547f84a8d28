/* An ELF32 executable linked at 0x8000, below vmon's usual boot area: vmon
 * must load it there and move its GDT and stack out of the way. Prints where
 * it runs, the entry ESP and GDTR base vmon gave it, and the BIOS data area
 * words. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov %esp, entry_esp
	sgdt gdtr
	mov $stack_top, %esp
	mov $s_hello, %esi
	call puts
	call 1f
1:	pop %eax
	sub $(1b - _start), %eax       /* where _start really is */
	call puthex
	mov $s_esp, %esi
	call puts
	mov entry_esp, %eax
	call puthex
	mov $s_gdt, %esi
	call puts
	mov gdtr + 2, %eax
	call puthex
	mov $s_nl, %esi
	call puts
	call put_bda
	cmpl $0, bss_word              /* .bss zeroed by the loader */
	jne bad
	VERDICT ok, fail, esi
	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32
	DEFINE_PUT_FIELDS32
	DEFINE_PUT_BDA32
	.data
s_hello:   .asciz "low ELF: _start="
s_esp:     .asciz " entry esp="
s_gdt:     .asciz " gdt base="
s_nl:      .asciz "\n"
ok:        .asciz "low ELF: bss is zero\n"
fail:      .asciz "low ELF: bss not zeroed\n"
	.bss
	.balign 16
entry_esp: .long 0
gdtr:      .space 8
bss_word:  .long 0
	.space 4096
stack_top:
