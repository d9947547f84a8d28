/* The firmware's MSR state on every vCPU, not only the bootstrap processor:
 * the BSP sums its MTRRs and PAT (the 29 MSRs of cpu/x86_fw_msrs.c, each
 * added with a rotate, low and high halves apart), wakes the application
 * processors with INIT-SIPI-SIPI (SDM vol. 3 §8.4.4), each of which sums the
 * same MSRs in real mode (RDMSR is allowed there: CPL 0) and stores the sum
 * by APIC id; the BSP then says, per CPU, whether the sum equals its own.
 * INIT leaves the MTRRs and PAT alone (SDM vol. 3 table 9-1), so an AP has
 * them as the firmware set them. The BSP's MTRRdefType is printed too: equal
 * sums of registers never set would show as MTRRdefType 0. */
#include "guest.h"
#define MAX_CPUS   16
#define BASE       0x10000
#define AP_VECTOR  0x11        /* ap_start = 0x11000 (.org below) */
#define NMSRS      29

/* sum the NMSRS MSRs at table (addressed through \base) into edi:ebp;
 * clobbers eax, ecx, edx, esi. Assembles in 16- and 32-bit code. */
.macro SUM_MSRS table
	xor %edi, %edi
	xor %ebp, %ebp
	xor %esi, %esi
1:	mov \table(,%esi,4), %ecx
	rdmsr
	rol $5, %edi
	add %eax, %edi
	rol $7, %ebp
	add %edx, %ebp
	inc %esi
	cmp $NMSRS, %esi
	jb 1b
.endm

	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg_def, %esi
	call puts
	mov $0x2ff, %ecx
	rdmsr
	call puthex
	mov $msg_nl, %esi
	call puts
	SUM_MSRS msrs
	mov %edi, bsp_sum
	mov %ebp, bsp_sum + 4

	WAKE_APS AP_VECTOR, ap_count

	mov $1, %ebx
3:	cmpb $0, seen(%ebx)
	je 5f
	mov $msg_cpu, %esi
	call puts
	mov %ebx, %eax
	call puthex
	mov sums(,%ebx,8), %eax
	mov sums + 4(,%ebx,8), %edx
	mov $msg_same, %esi
	cmp bsp_sum, %eax
	jne 4f
	cmp bsp_sum + 4, %edx
	je 6f
4:	mov $msg_differ, %esi
6:	call puts
5:	inc %ebx
	cmp $MAX_CPUS, %ebx
	jb 3b
	mov $msg_count, %esi
	call puts
	mov ap_count, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	EXIT 0x10

	DEFINE_DELAY32
	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32

	.balign 4
/* MTRRdefType, the 8 variable pairs, the 11 fixed ranges, PAT */
msrs:	.long 0x2ff
	.long 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207
	.long 0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f
	.long 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f
	.long 0x277
ap_count: .long 0
bsp_sum: .long 0, 0
sums:	.fill 2 * MAX_CPUS, 4, 0
seen:	.fill MAX_CPUS, 1, 0
msg_def:    .asciz "cpu 00000000: MTRRdefType "
msg_cpu:    .asciz "cpu "
msg_same:   .asciz ": MTRRs and PAT as on the BSP\n"
msg_differ: .asciz ": MTRRs or PAT DIFFER from the BSP's\n"
msg_count:  .asciz "application processors: "
msg_nl:     .asciz "\n"

/* The AP entry: SIPI vector V starts an AP at CS = V << 8, IP = 0, in real
 * mode; this page must be below 1 MiB and 4 KiB aligned: 0x11000. */
	.org AP_VECTOR * 0x1000 - BASE  /* _start is at BASE: labels below are BASE + (label - _start) */
	.code16
ap_start:
	cli
	mov $(BASE >> 4), %ax
	mov %ax, %ds
	SUM_MSRS (msrs - _start)
	mov $1, %eax
	cpuid
	shr $24, %ebx
	and $(MAX_CPUS - 1), %ebx
	mov %edi, (sums - _start)(,%ebx,8)
	mov %ebp, (sums - _start + 4)(,%ebx,8)
	movb $1, (seen - _start)(%bx)
	lock incl (ap_count - _start)
5:	hlt
	jmp 5b
