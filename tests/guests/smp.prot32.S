/* SMP: the bootstrap processor wakes the application processors with
 * INIT-SIPI-SIPI through its local APIC (SDM vol. 3 §8.4.4, "MP
 * initialization example"). Each AP starts in real mode at the SIPI vector's
 * page, reads its APIC id with CPUID and records it; the BSP then lists the
 * CPUs that reported, in APIC-id order, so the output is deterministic. */
#include "guest.h"
#define LAPIC      0xfee00000
#define LAPIC_ID   (LAPIC + 0x20)
#define MAX_CPUS   16
#define BASE       0x10000
#define AP_VECTOR  0x11        /* ap_start = 0x11000 (.org below) */

	.code32
	.text
	.globl _start
_start:
	cld
	mov $msg_start, %esi
	call puts
	mov LAPIC_ID, %eax
	shr $24, %eax
	and $(MAX_CPUS - 1), %eax
	movb $1, seen(%eax)             /* the BSP reports itself */
	WAKE_APS AP_VECTOR, ap_count

	xor %ebx, %ebx
3:	cmpb $0, seen(%ebx)
	je 4f
	mov $msg_cpu, %esi
	call puts
	mov %ebx, %eax
	call puthex
	mov $msg_online, %esi
	call puts
4:	inc %ebx
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
ap_count: .long 0
seen:	.fill MAX_CPUS, 1, 0
msg_start:  .asciz "smp: BSP sends INIT-SIPI-SIPI\n"
msg_cpu:    .asciz "cpu "
msg_online: .asciz " online\n"
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
	mov $1, %eax
	cpuid
	shr $24, %ebx
	and $(MAX_CPUS - 1), %bx
	movb $1, (seen - _start)(%bx)
	lock incl (ap_count - _start)
5:	hlt
	jmp 5b
