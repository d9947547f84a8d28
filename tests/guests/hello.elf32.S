/* An ELF32 executable: vmon loads its program headers and enters e_entry in
 * 32-bit protected mode. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $stack_top, %esp
	mov $msg, %esi
	call puts
	/* .bss must have been zeroed by the loader. */
	cmpl $0, bss_word
	jne bad
	VERDICT ok, fail, esi
	DEFINE_PUTS
	.data
msg:	.asciz "hello from an ELF32 kernel\n"
ok:	.asciz "elf32: bss is zero\n"
fail:	.asciz "elf32: bss not zeroed\n"
	.bss
	.balign 16
bss_word: .long 0
	.space 4096
stack_top:
