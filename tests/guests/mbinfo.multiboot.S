/* A Multiboot (v1) kernel: prints what the boot loader handed it — the magic,
 * the memory sizes, the command line and the memory map (Multiboot 0.6.96
 * §3.3). */
#include "guest.h"
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-align modules, give memory information */
	.code32
	.text
	.balign 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.globl _start
_start:
	cld
	mov $stack_top, %esp
	cmp $0x2badb002, %eax
	jne bad
	mov %ebx, %ebp                 /* the info structure */
	mov $s_flags, %esi
	call puts
	mov 0(%ebp), %eax
	call puthex
	mov $s_lower, %esi
	call puts
	mov 4(%ebp), %eax
	call puthex
	mov $s_upper, %esi
	call puts
	mov 8(%ebp), %eax
	call puthex
	mov $s_nl, %esi
	call puts

	testl $4, 0(%ebp)             /* cmdline present */
	jz 1f
	mov $s_cmdline, %esi
	call puts
	mov 16(%ebp), %esi
	call puts
	mov $s_quote_nl, %esi
	call puts
1:
	testl $0x40, 0(%ebp)          /* memory map present */
	jz 3f
	mov 48(%ebp), %ebx             /* mmap_addr */
	mov 44(%ebp), %edi             /* mmap_length */
	add %ebx, %edi
2:	cmp %edi, %ebx
	jae 3f
	mov $s_mmap, %esi
	call puts
	mov 8(%ebx), %eax              /* base high */
	call puthex
	mov 4(%ebx), %eax              /* base low */
	call puthex
	mov $s_len, %esi
	call puts
	mov 16(%ebx), %eax
	call puthex
	mov 12(%ebx), %eax
	call puthex
	mov $s_type, %esi
	call puts
	mov 20(%ebx), %eax
	call puthex
	mov $s_nl, %esi
	call puts
	add 0(%ebx), %ebx              /* size field excludes itself */
	add $4, %ebx
	jmp 2b
3:	EXIT 0x10
bad:
	mov $s_bad, %esi
	call puts
	EXIT 0x01

	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32
	.data
s_flags:    .asciz "multiboot: flags="
s_lower:    .asciz " mem_lower="
s_upper:    .asciz " mem_upper="
s_cmdline:  .asciz "cmdline: \""
s_quote_nl: .asciz "\"\n"
s_mmap:     .asciz "mmap: base="
s_len:      .asciz " len="
s_type:     .asciz " type="
s_nl:       .asciz "\n"
s_bad:      .asciz "multiboot: bad magic in eax\n"
	.bss
	.balign 16
	.space 4096
stack_top:
