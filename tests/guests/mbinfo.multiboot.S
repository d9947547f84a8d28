/* A Multiboot (v1) kernel: prints what the boot loader handed it — the magic,
 * the memory sizes, the command line (its argv[0] first), the memory map, the
 * modules with their place, size, string and first and last bytes (Multiboot
 * 0.6.96 §3.3), and the BIOS data area words. */
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
	mov $info_fields, %edi
	call put_fields
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
3:
	testl $8, 0(%ebp)              /* modules present */
	jz 5f
	mov %ebp, %ebx
	mov $count_fields, %edi
	call put_fields
	mov $s_nl, %esi
	call puts
	mov 24(%ebp), %ebx             /* mods_addr */
	mov 20(%ebp), %edi             /* mods_count */
4:	test %edi, %edi
	jz 5f
	push %edi
	mov $mod_fields, %edi
	call put_fields
	pop %edi
	mov $s_size, %esi
	call puts
	mov 4(%ebx), %eax
	sub 0(%ebx), %eax
	call puthex
	mov $s_str, %esi
	call puts
	mov 8(%ebx), %esi
	call puts
	mov $s_first, %esi
	call puts
	mov 0(%ebx), %esi              /* up to 8 bytes from the start */
	mov $8, %ecx
	call putbytes
	mov $s_last, %esi
	call puts
	mov 4(%ebx), %esi              /* up to 4 bytes before the end */
	sub $4, %esi
	mov $4, %ecx
	cmp 0(%ebx), %esi
	jae 6f
	mov 4(%ebx), %ecx
	sub 0(%ebx), %ecx
	mov 0(%ebx), %esi
6:	call putbytes
	mov $s_nl, %esi
	call puts
	add $16, %ebx
	dec %edi
	jmp 4b
5:	call put_bda
	EXIT 0x10
bad:
	mov $s_bad, %esi
	call puts
	EXIT 0x01

/* putbytes: prints min(ecx, module end - esi) bytes from esi, each as " xx"
 * (the module being printed is at ebx). */
putbytes:
	mov 4(%ebx), %eax
	sub %esi, %eax
	cmp %eax, %ecx
	jbe 1f
	mov %eax, %ecx
1:	test %ecx, %ecx
	jz 2f
	mov $' ', %al
	call putc
	lodsb
	call puthex2
	dec %ecx
	jmp 1b
2:	ret

	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32
	DEFINE_PUTHEX32 puthex2, 2
	DEFINE_PUT_FIELDS32
	DEFINE_PUT_BDA32
	.data
info_fields: .long s_flags, 0, 4, s_lower, 4, 4, s_upper, 8, 4, 0
count_fields: .long s_count, 20, 4, 0
mod_fields:  .long s_mod, 0, 4, s_end, 4, 4, 0
s_flags:    .asciz "multiboot: flags="
s_lower:    .asciz " mem_lower="
s_upper:    .asciz " mem_upper="
s_cmdline:  .asciz "cmdline: \""
s_quote_nl: .asciz "\"\n"
s_mmap:     .asciz "mmap: base="
s_len:      .asciz " len="
s_type:     .asciz " type="
s_count:    .asciz "mods_count="
s_mod:      .asciz "mod: start="
s_end:      .asciz " end="
s_size:     .asciz " size="
s_str:      .asciz " string=\""
s_first:    .asciz "\" bytes:"
s_last:     .asciz " last:"
s_nl:       .asciz "\n"
s_bad:      .asciz "multiboot: bad magic in eax\n"
	.bss
	.balign 16
	.space 4096
stack_top:
