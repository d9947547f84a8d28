/* 32-bit paging: vmon identity-maps 4 GiB with 4 MiB pages (CR4.PSE). The
 * guest proves paging is live by aliasing: it points the page-directory entry
 * for 0x40000000 at physical 0 and reads its own code through that alias. */
#include "guest.h"
	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg, %esi
	call puts
	mov %cr0, %eax
	test $0x80000000, %eax
	jz bad
	mov %cr3, %ebx
	cmp $0x2000, %ebx
	jne bad
	/* PDE 0x100 (0x40000000) -> physical 0, 4 MiB, present, writable. */
	movl $0x83, 0x400(%ebx)
	invlpg 0x40000000
	mov 0x40000000 + _start, %eax
	cmp _start, %eax
	jne bad
	/* A write through the alias is seen at the identity address. */
	movl $0x5a5aa5a5, 0x40000000 + scratch
	cmpl $0x5a5aa5a5, scratch
	jne bad
	VERDICT ok, fail, esi
	DEFINE_PUTS
	.balign 4
scratch: .long 0
msg:	.asciz "hello from 32-bit paged mode\n"
ok:	.asciz "paged32: PG=1, alias at 0x40000000 reads and writes RAM\n"
fail:	.asciz "paged32: paging check failed\n"
