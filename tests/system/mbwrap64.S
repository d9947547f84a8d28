/* Runs a long64 test guest (a flat binary for 0x10000) on another monitor
 * that boots Multiboot v1 kernels, such as `qemu-system-x86_64 -kernel`:
 * copies the binary, built in with .incbin PAYLOAD, to 0x10000 and enters it
 * as vmon's --mode long64 does (README, Boot contract): long mode, the first
 * 4 GiB identity-mapped with 2 MiB pages, RSP = 0xf000, interrupts off.
 * Multiboot spec 0.6.96 §3.1 (header), §3.2 (machine state: 32-bit
 * protected mode, paging off); SDM vol. 3A §10.8.5 (entering IA-32e mode). */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000003       /* page-aligned modules, memory info */
	.set PT, 0x80000                /* PML4, PDPT, 4 PDs: free low RAM */

	.text
	.code32
	.globl _start
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
_start:
	cli
	cld
	mov $payload, %esi
	mov $0x10000, %edi
	mov $(payload_end - payload), %ecx
	rep movsb
	mov $PT, %edi
	xor %eax, %eax
	mov $(6 * 4096 / 4), %ecx
	rep stosl
	movl $(PT + 0x1003), PT                 /* PML4[0] -> PDPT */
	movl $(PT + 0x2003), PT + 0x1000        /* PDPT[0..3] -> PD 0..3 */
	movl $(PT + 0x3003), PT + 0x1008
	movl $(PT + 0x4003), PT + 0x1010
	movl $(PT + 0x5003), PT + 0x1018
	mov $(PT + 0x2000), %edi
	mov $0x83, %eax                         /* present, writable, 2 MiB */
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b
	mov $PT, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x30, %eax                          /* PAE | PSE */
	mov %eax, %cr4
	mov $0xC0000080, %ecx                   /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	lgdt gdtr
	mov %cr0, %eax
	or $0x80000001, %eax                    /* PG | PE */
	mov %eax, %cr0
	ljmp $0x18, $long64
	.code64
long64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0xf000, %rsp
	mov $0x10000, %eax
	jmp *%rax

	.align 8
gdt:    /* vmon's selectors: 0x08 code32, 0x10 data, 0x18 code64 */
	.quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
gdtr:
	.word 4 * 8 - 1
	.long gdt
	.align 16
payload:
	.incbin PAYLOAD
payload_end:
	.section .note.GNU-stack, "", @progbits
