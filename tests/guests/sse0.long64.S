/* An SSE instruction at ring 0. Hardware and vmon's emu run it; a KVM that
 * emulates guest ring 0 in software (kvm-pvm) cannot, and vmon must then
 * end the run naming the instruction (status 4), not hang or abort. */
#include "guest.h"
	.code64
	.text
	.globl _start
_start:
	cld
	mov %cr0, %rax
	and $~0xc, %eax        /* EM, TS */
	or $0x2, %eax          /* MP */
	mov %rax, %cr0
	mov %cr4, %rax
	or $0x600, %eax        /* OSFXSR, OSXMMEXCPT */
	mov %rax, %cr4
	mov $0x1234, %eax
	movd %eax, %xmm1
	pxor %xmm0, %xmm0
	paddd %xmm1, %xmm0
	movd %xmm0, %ebx
	cmp $0x1234, %ebx
	jne bad
	VERDICT ok, fail, rsi
	DEFINE_PUTS
ok:	.asciz "sse at ring 0: ran\n"
fail:	.asciz "sse at ring 0: wrong result\n"
