/* The body of the rsdp guests (assembly, included). Scans the BIOS area
 * 0xe0000-0xfffff on 16-byte boundaries for the ACPI RSDP ("RSD PTR ",
 * ACPI 6.5 §5.2.5.1), checks its 20-byte checksum and prints the
 * signatures of the tables its XSDT lists, or "rsdp: none". Included by
 * rsdp.elf64.S (a --kernel boot: vmon installs the tables) and
 * rsdp.long64.S (--raw: the guest gets its image and nothing else). */
#include "guest.h"
	.code64
	.text
	.globl _start
_start:
	cld
	lea stack_top(%rip), %rsp
	mov $0xe0000, %rbx
	movabs $0x2052545020445352, %rax /* "RSD PTR " */
1:	cmp %rax, (%rbx)
	je found
	add $16, %rbx
	cmp $0x100000, %rbx
	jb 1b
	lea none(%rip), %rsi
	call puts
	EXIT 0x10
found:
	xor %ecx, %ecx
	xor %edi, %edi
2:	movzbl (%rbx,%rcx), %eax
	add %eax, %edi
	inc %ecx
	cmp $20, %ecx
	jb 2b
	lea sumok(%rip), %rsi
	test $0xff, %edi
	jz 3f
	lea sumbad(%rip), %rsi
3:	call puts
	mov 24(%rbx), %r12       /* XsdtAddress */
	mov 4(%r12), %r13d       /* its Length */
	add %r12, %r13
	lea 36(%r12), %r14       /* the first entry */
4:	cmp %r13, %r14
	jae 5f
	mov (%r14), %r15
	mov (%r15), %eax         /* the table's Signature */
	mov %eax, sig+1(%rip)
	lea sig(%rip), %rsi
	call puts
	add $8, %r14
	jmp 4b
5:	lea nl(%rip), %rsi
	call puts
	EXIT 0x10
	DEFINE_PUTS
	.data
none:	.asciz "rsdp: none\n"
sumok:	.asciz "rsdp: found, checksum ok\ntables:"
sumbad:	.asciz "rsdp: found, BAD CHECKSUM\ntables:"
sig:	.asciz " XXXX"
nl:	.asciz "\n"
	.bss
	.balign 16
	.space 4096
stack_top:
