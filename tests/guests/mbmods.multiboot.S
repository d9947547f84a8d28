/* A Multiboot (v1) kernel with modules: prints the information flags, its
 * command line (argv[0] first), each module's place, size, string and first
 * bytes (Multiboot 0.6.96 §3.3), and the BIOS data area words a BIOS leaves
 * (0x400 COM1, 0x40e EBDA segment, 0x410 equipment, 0x413 base memory). */
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
	mov $s_nl, %esi
	call puts

	testl $4, 0(%ebp)              /* cmdline */
	jz 1f
	mov $s_cmdline, %esi
	call puts
	mov 16(%ebp), %esi
	call puts
	mov $s_quote_nl, %esi
	call puts
1:
	testl $8, 0(%ebp)              /* modules */
	jz 5f
	mov $s_count, %esi
	call puts
	mov 20(%ebp), %eax
	call puthex
	mov $s_nl, %esi
	call puts
	mov 24(%ebp), %ebx             /* mods_addr */
	mov 20(%ebp), %edi             /* mods_count */
2:	test %edi, %edi
	jz 5f
	mov $s_mod, %esi
	call puts
	mov 0(%ebx), %eax
	call puthex
	mov $s_end, %esi
	call puts
	mov 4(%ebx), %eax
	call puthex
	mov $s_size, %esi
	call puts
	mov 4(%ebx), %eax
	sub 0(%ebx), %eax
	call puthex
	mov $s_str, %esi
	call puts
	mov 8(%ebx), %esi
	call puts
	mov $s_bytes, %esi
	call puts
	mov 0(%ebx), %esi              /* up to 8 bytes of the module */
	mov 4(%ebx), %ecx
	sub %esi, %ecx
	cmp $8, %ecx
	jbe 3f
	mov $8, %ecx
3:	test %ecx, %ecx
	jz 4f
	mov $' ', %al
	call putc
	lodsb
	call puthex2
	dec %ecx
	jmp 3b
4:	mov $s_tail, %esi              /* and the last (up to) 4 */
	call puts
	mov 4(%ebx), %esi
	mov %esi, %ecx
	sub 0(%ebx), %ecx
	cmp $4, %ecx
	jbe 6f
	mov $4, %ecx
6:	sub %ecx, %esi
7:	test %ecx, %ecx
	jz 8f
	mov $' ', %al
	call putc
	lodsb
	call puthex2
	dec %ecx
	jmp 7b
8:	mov $s_nl, %esi
	call puts
	add $16, %ebx
	dec %edi
	jmp 2b
5:
	mov $s_bda, %esi
	call puts
	movzwl 0x400, %eax
	call puthex
	mov $s_ebda, %esi
	call puts
	movzwl 0x40e, %eax
	call puthex
	mov $s_equip, %esi
	call puts
	movzwl 0x410, %eax
	call puthex
	mov $s_basemem, %esi
	call puts
	movzwl 0x413, %eax
	call puthex
	mov $s_nl, %esi
	call puts
	EXIT 0x10
bad:
	mov $s_bad, %esi
	call puts
	EXIT 0x01

/* puthex2: prints al as two hex digits. */
puthex2:
	push %eax
	push %ecx
	shl $24, %eax
	mov $2, %ecx
1:	rol $4, %eax
	push %eax
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	call putc
	pop %eax
	loop 1b
	pop %ecx
	pop %eax
	ret

	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32
	.data
s_flags:    .asciz "multiboot: flags="
s_lower:    .asciz " mem_lower="
s_cmdline:  .asciz "cmdline: \""
s_quote_nl: .asciz "\"\n"
s_count:    .asciz "mods_count="
s_mod:      .asciz "mod: start="
s_end:      .asciz " end="
s_size:     .asciz " size="
s_str:      .asciz " string=\""
s_bytes:    .asciz "\" bytes:"
s_tail:     .asciz " last:"
s_bda:      .asciz "bda: com1="
s_ebda:     .asciz " ebda_seg="
s_equip:    .asciz " equipment="
s_basemem:  .asciz " base_kib="
s_nl:       .asciz "\n"
s_bad:      .asciz "multiboot: bad magic in eax\n"
	.bss
	.balign 16
	.space 4096
stack_top:
