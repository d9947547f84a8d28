/* 64-bit long mode with vmon's 4-level identity map (2 MiB pages). */
#include "guest.h"
	.code64
	.text
	.globl _start
_start:
	cld
	lea msg(%rip), %rsi
	call puts
	mov $0xc0000080, %ecx  /* IA32_EFER */
	rdmsr
	test $0x400, %eax      /* LMA */
	jz bad
	mov %cr4, %rax
	test $0x20, %eax       /* PAE */
	jz bad
	/* A 64-bit register really is 64 bits wide. */
	mov $0x123456789abcdef0, %rax
	mov %rax, %rbx
	shr $32, %rbx
	cmp $0x12345678, %ebx
	jne bad
	/* Memory above 1 GiB is mapped when RAM is there: run with --mem 2G. */
	VERDICT ok, fail, rsi
	DEFINE_PUTS
msg:	.asciz "hello from 64-bit long mode\n"
ok:	.asciz "long64: LMA=1 PAE=1, 64-bit registers\n"
fail:	.asciz "long64: unexpected start state\n"
