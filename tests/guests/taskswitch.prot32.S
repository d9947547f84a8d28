/* Hardware task switching in 32-bit protected mode (SDM vol. 3A chapter 8):
 * CALL to a TSS and IRET back along the link (§8.4), JMP to a TSS and back,
 * #DE and #NP through IDT task gates (the #NP error code on the new task's
 * stack, §6.12.2), INT n through a task gate, #TS for a TSS whose limit is
 * below 0x67 and #GP for a CALL to a busy TSS (vol. 2 CALL). Each step
 * prints what the SDM fixes: back links, NT, the busy bits of the TSS
 * descriptors (type 9 available, 0xb busy), the EFLAGS and EIP saved in
 * the old TSS, CR0.TS. Addresses are printed relative to labels, so the
 * same source also runs as a Multiboot kernel under another emulator
 * (assembled with -DMULTIBOOT, linked at 1 MiB). */
#include "guest.h"
/* SHOWLN str, val: the string, val in hex, a newline. */
.macro SHOWLN str, val
	mov \val, %eax
	mov $\str, %esi
	call shown
.endm
/* SHOWNT: EFLAGS.NT. */
.macro SHOWNT
	pushf
	pop %eax
	and $0x4000, %eax
	SHOWLN s_nt, %eax
.endm
/* TYPE str, sel: the type field of GDT descriptor sel. */
.macro TYPE str, sel
	movzbl gdt + \sel + 5, %eax
	and $0xf, %eax
	mov $\str, %esi
	call shown
.endm
	.code32
	.text
	.globl _start
#ifdef MULTIBOOT
	.balign 4
	.long 0x1badb002, 0, -0x1badb002
#endif
_start:
	cld
	mov $stack0_top, %esp
	/* the descriptors hold link-time addresses: built at run time */
	mov $gdt + 0x18, %edi; mov $tss0, %eax; mov $0x67, %ecx; call set_tss
	mov $gdt + 0x20, %edi; mov $tss1, %eax; call set_tss
	mov $gdt + 0x28, %edi; mov $tss2, %eax; call set_tss
	mov $gdt + 0x30, %edi; mov $tss1, %eax; mov $0x50, %ecx; call set_tss /* too short */
	mov $gdt + 0x38, %edi; mov $tss3, %eax; mov $0x67, %ecx; call set_tss
	mov $gdt + 0x40, %edi; mov $tss4, %eax; call set_tss
	mov $gdt + 0x50, %edi; mov $tss5, %eax; call set_tss
	mov $gdt + 0x60, %edi; mov $tss6, %eax; call set_tss
	mov $gdt, %eax
	mov %eax, gdtr + 2
	lgdt gdtr
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $idt + 8 * 10, %edi; mov $ts_handler, %eax; call set_intgate
	mov $idt + 8 * 13, %edi; mov $gp_handler, %eax; call set_intgate
	mov $idt, %eax
	mov %eax, idtr + 2
	lidt idtr
	mov $0x18, %ax
	ltr %ax
	mov %cr0, %eax
	and $~8, %eax           /* CR0.TS clear before the first switch */
	mov %eax, %cr0

	/* 1. CALL to the TSS at 0x20; task1 IRETs back */
	mov $0x12345678, %ebx
	lcall $0x20, $0
	mov %ebx, %ecx
	SHOWLN s_iret_ebx, %ecx
	SHOWNT
	TYPE s_tss0, 0x18
	TYPE s_tss1, 0x20
	mov tss1 + 32, %eax     /* task1's EIP, saved by its IRET: just past it */
	sub $task1_resume, %eax
	SHOWLN s_t1eip, %eax
	mov tss1 + 36, %eax     /* its EFLAGS: NT cleared in the image (§8.3 step 6) */
	SHOWLN s_t1fl, %eax

	/* 2. JMP to the TSS at 0x38; task3 JMPs back to TSS 0x18 */
	lcall $0x08, $jmp_test
	mov $s_jback, %esi
	call puts
	TYPE s_tss0, 0x18
	TYPE s_tss3, 0x38
	str %ax
	movzwl %ax, %eax
	SHOWLN s_tr, %eax

	/* 2b. JMP through the task gate 0x58 (to TSS 0x38 again) */
	lcall $0x08, $jmp_gate_test
	mov $s_jback, %esi
	call puts
	TYPE s_tss3, 0x38

	/* 3. #DE through a task gate (IDT vector 0, TSS 0x28) */
	mov $100, %eax
	mov $0, %edx
	mov $0, %ecx
	push $0x2
	popf                    /* EFLAGS known: the image saved in TSS 0x18 */
de_insn:
	div %ecx                /* task2 sets the saved ECX to 5 */
	SHOWLN s_quot, %eax
	TYPE s_tss2, 0x28

	/* 4. #NP through a task gate (vector 11, TSS 0x40): error code on
	 * task4's stack */
	mov $0x48, %eax
np_insn:
	mov %ax, %ds            /* task4 sets the saved EAX to 0x10 */
	mov %ds, %ax
	movzwl %ax, %eax
	SHOWLN s_ds, %eax

	/* 5. INT 0x40 through a task gate (TSS 0x50) */
	mov $0xcafe, %eax       /* task5 clobbers its own EAX, not this one */
	push $0x2
	popf
	int $0x40
int_next:
	SHOWLN s_int_back, %eax

	/* 5b. CALL to TSS 0x60, whose DS is not present: the #NP comes after
	 * the switch, in the new task (§8.3 step 12), through the task gate */
	movl $0x48, tss6 + 84
	lcall $0x60, $0
	mov $s_t6back, %esi
	call puts
	TYPE s_tss6, 0x60

	/* 6. CALL to a TSS with limit 0x50: #TS(0x30), nothing switched */
	lcall $0x30, $0
ts_resume:
	/* 7. CALL to the busy TSS 0x18: #GP(0x18) */
	lcall $0x18, $0
gp_resume:
	VERDICT s_ok, s_fail, esi

jmp_test:
	ljmp $0x38, $0
jmp_back:
	lret
jmp_gate_test:
	ljmp $0x58, $0
	lret

/* task1: entered by the CALL; back to the caller with IRET (NT set) */
task1:
	mov %ebx, %ecx
	SHOWLN s_t1ebx, %ecx
	movzwl tss1, %eax
	SHOWLN s_link, %eax
	SHOWNT
	TYPE s_tss0, 0x18
	TYPE s_tss1, 0x20
	mov %cr0, %eax
	and $8, %eax
	SHOWLN s_ts, %eax
	clts
	mov $0xbeef, %ebx
	push $0x4002            /* NT (still set) and nothing else: the image IRET saves */
	popf
	iret
task1_resume:
	jmp bad

/* task3: entered by JMP (no link, NT clear, the old task not busy) */
task3:
	mov $s_t3, %esi
	call puts
	movzwl tss3, %eax
	SHOWLN s_link, %eax
	SHOWNT
	TYPE s_tss0, 0x18
	TYPE s_tss3, 0x38
	mov tss0 + 32, %eax     /* the main task's EIP: after its JMP (2b: 8, past the ljmp of jmp_gate_test) */
	sub $jmp_back, %eax
	SHOWLN s_t0eip, %eax
	ljmp $0x18, $0
	jmp task3               /* the next JMP here starts over */

/* task2: #DE */
task2:
	mov $s_de, %esi
	call puts
	movzwl tss2, %eax
	SHOWLN s_link, %eax
	mov tss0 + 36, %eax     /* a fault: RF set in the saved EFLAGS (vol. 3 §17.3.1.1) */
	SHOWLN s_t0fl, %eax
	mov tss0 + 32, %eax
	sub $de_insn, %eax      /* a fault: the EIP of the divide */
	SHOWLN s_t0eip, %eax
	TYPE s_tss0, 0x18
	TYPE s_tss2, 0x28
	movl $5, tss0 + 44      /* the main task's ECX */
	iret
	jmp task2

/* task4: #NP, error code pushed on this task's stack */
task4:
	mov $s_np, %esi
	call puts
	pop %eax
	SHOWLN s_err, %eax
	movzwl tss4, %eax
	SHOWLN s_link, %eax
	cmpw $0x60, tss4
	je 1f
	mov tss0 + 32, %eax
	sub $np_insn, %eax
	SHOWLN s_t0eip, %eax
	movl $0x10, tss0 + 40   /* the main task's EAX */
	iret
	jmp task4
1:	mov tss6 + 32, %eax     /* task6 has not run: its first instruction */
	sub $task6, %eax
	SHOWLN s_t6eip, %eax
	movzwl tss6 + 84, %eax  /* its DS selector, saved as it was loaded */
	SHOWLN s_t6ds, %eax
	movl $0x10, tss6 + 84
	iret
	jmp task4

/* task6: CALLed with DS = 0x48 in its TSS */
task6:
	mov $s_t6, %esi
	call puts
	mov %ds, %ax
	movzwl %ax, %eax
	SHOWLN s_ds6, %eax
	movzwl tss6, %eax
	SHOWLN s_link, %eax
	iret
	jmp task6

/* task5: INT 0x40, a software interrupt: the EIP after it, RF clear */
task5:
	mov $s_int, %esi
	call puts
	movzwl tss5, %eax
	SHOWLN s_link, %eax
	mov tss0 + 36, %eax
	SHOWLN s_t0fl, %eax
	mov tss0 + 32, %eax
	sub $int_next, %eax
	SHOWLN s_t0eip, %eax
	iret
	jmp task5

ts_handler:                     /* interrupt gate: error code, EIP, CS, EFLAGS */
	mov $s_tsx, %esi
	call puts
	pop %eax
	SHOWLN s_err, %eax
	str %ax
	movzwl %ax, %eax
	SHOWLN s_tr, %eax
	TYPE s_tss0, 0x18
	TYPE s_tss1, 0x20
	movl $ts_resume, (%esp)
	iret

gp_handler:
	mov $s_gp, %esi
	call puts
	pop %eax
	SHOWLN s_err, %eax
	movl $gp_resume, (%esp)
	iret

/* set_tss: edi = the GDT slot, eax = base, ecx = limit: an available
 * 32-bit TSS (type 9), DPL 0, byte granular. Clobbers eax. */
set_tss:
	mov %cx, (%edi)
	mov %ax, 2(%edi)
	shr $16, %eax
	mov %al, 4(%edi)
	movb $0x89, 5(%edi)
	movb $0, 6(%edi)
	mov %ah, 7(%edi)
	ret

/* set_intgate: edi = the IDT slot, eax = handler: a 32-bit interrupt gate. */
set_intgate:
	mov %ax, (%edi)
	movw $0x08, 2(%edi)
	movw $0x8e00, 4(%edi)
	shr $16, %eax
	mov %ax, 6(%edi)
	ret

/* shown: prints the string at esi, eax in hex and a newline. */
shown:
	push %eax
	call puts
	pop %eax
	call puthex
	mov $s_nl, %esi
	jmp puts

	DEFINE_PUTS
	DEFINE_PUTC32
	DEFINE_PUTHEX32

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x08 code, flat */
	.quad 0x00cf92000000ffff        /* 0x10 data, flat */
	.quad 0, 0, 0, 0, 0, 0          /* 0x18-0x40 TSSes, set at run time */
	.quad 0x00cf12000000ffff        /* 0x48 data, not present */
	.quad 0                         /* 0x50 TSS */
	.word 0, 0x38, 0x8500, 0        /* 0x58 task gate to TSS 0x38 */
	.quad 0                         /* 0x60 TSS */
gdt_end:
gdtr:	.word gdt_end - gdt - 1
	.long 0
	.balign 8
idt:
	.word 0, 0x28, 0x8500, 0        /* 0 #DE: task gate, TSS 0x28 */
	.fill 10, 8, 0
	.word 0, 0x40, 0x8500, 0        /* 11 #NP: task gate, TSS 0x40 */
	.fill 52, 8, 0
	.word 0, 0x50, 0x8500, 0        /* 0x40: task gate, TSS 0x50 */
idt_end:
idtr:	.word idt_end - idt - 1
	.long 0

/* A 32-bit TSS (figure 8-2): CS 0x08, the data selectors 0x10, EFLAGS 2. */
.macro TSS32 eip, esp
	.long 0                         /* link */
	.long 0, 0, 0, 0, 0, 0          /* ESP0 SS0 ESP1 SS1 ESP2 SS2 */
	.long 0                         /* CR3 (paging is off) */
	.long \eip, 2                   /* EIP EFLAGS */
	.long 0, 0, 0, 0, \esp, 0, 0, 0 /* EAX ECX EDX EBX ESP EBP ESI EDI */
	.long 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 /* ES CS SS DS FS GS */
	.long 0                         /* LDT */
	.word 0, 104                    /* T, I/O map base */
.endm
	.balign 16
tss0:	TSS32 0, 0
tss1:	TSS32 task1, stack1_top
tss2:	TSS32 task2, stack2_top
tss3:	TSS32 task3, stack3_top
tss4:	TSS32 task4, stack4_top
tss5:	TSS32 task5, stack5_top
tss6:	TSS32 task6, stack6_top

s_nl:	.asciz "\n"
s_link:	.asciz "  back link    "
s_nt:	.asciz "  EFLAGS.NT    "
s_ts:	.asciz "  CR0.TS       "
s_tss0:	.asciz "  TSS 0x18 type "
s_tss1:	.asciz "  TSS 0x20 type "
s_tss2:	.asciz "  TSS 0x28 type "
s_tss3:	.asciz "  TSS 0x38 type "
s_t1ebx: .asciz "task1 (CALL): EBX from its TSS "
s_iret_ebx: .asciz "main after IRET: EBX "
s_t1eip: .asciz "  task1 saved EIP - after its IRET "
s_t1fl:	.asciz "  task1 saved EFLAGS "
s_tr:	.asciz "  TR           "
s_t0eip: .asciz "  main saved EIP - label "
s_t0fl:	.asciz "  main saved EFLAGS "
s_t3:	.asciz "task3 (JMP)\n"
s_jback: .asciz "main after JMP back\n"
s_de:	.asciz "task2 (#DE through a task gate)\n"
s_quot:	.asciz "main after #DE: 100 / ECX = "
s_np:	.asciz "task4 (#NP through a task gate)\n"
s_err:	.asciz "  error code   "
s_ds:	.asciz "main after #NP: DS "
s_int:	.asciz "task5 (INT 0x40 through a task gate)\n"
s_int_back: .asciz "main after INT 0x40: EAX "
s_tsx:	.asciz "#TS (CALL to a TSS with limit 0x50)\n"
s_gp:	.asciz "#GP (CALL to the busy TSS 0x18)\n"
s_tss6:	.asciz "  TSS 0x60 type "
s_t6:	.asciz "task6 (CALL, DS fixed by task4)\n"
s_ds6:	.asciz "  DS           "
s_t6eip: .asciz "  task6 saved EIP - task6 "
s_t6ds:	.asciz "  task6 saved DS "
s_t6back: .asciz "main after task6\n"
s_ok:	.asciz "taskswitch: done\n"
s_fail:	.asciz "taskswitch: unexpected return\n"

	.bss
	.balign 16
	.space 1024
stack0_top:
	.space 512
stack1_top:
	.space 512
stack2_top:
	.space 512
stack3_top:
	.space 512
stack4_top:
	.space 512
stack5_top:
	.space 512
stack6_top:
