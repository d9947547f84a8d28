/* An ELF64 executable: vmon loads it and enters e_entry in long mode. */
#include "guest.h"
	.code64
	.text
	.globl _start
_start:
	cld
	lea stack_top(%rip), %rsp
	lea msg(%rip), %rsi
	call puts
	cmpq $0, bss_word(%rip)
	jne bad
	VERDICT ok, fail, rsi
	DEFINE_PUTS
	.data
msg:	.asciz "hello from an ELF64 kernel\n"
ok:	.asciz "elf64: bss is zero\n"
fail:	.asciz "elf64: bss not zeroed\n"
	.bss
	.balign 16
bss_word: .quad 0
	.space 4096
stack_top:
