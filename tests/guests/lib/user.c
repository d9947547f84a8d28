/* Ring 3 for the C test guests: a GDT with user segments and a 64-bit TSS,
 * page tables that ring 3 may use, and exception stubs that bring ring 3
 * back to the kernel. Why guests run code at ring 3 at all: it is the level
 * a host CPU runs natively under every KVM, including a software-assisted
 * one that emulates guest ring 0 (and lacks SSE and x87 there), so the
 * results printed from ring 3 are the real CPU's.
 *
 * Ring 3 calls the kernel with INT3, the one software interrupt that every
 * host passes on (kvm-pvm turns INT 0x80 from ring 3 into #UD): EDI = 0
 * ends run_user (USER_RETURNED), EDI = 1 writes the character in ESI to
 * COM1 and resumes ring 3. Any other exception from ring 3 also ends
 * run_user, with its vector (SDM vol. 3 §6.12, §7.7). */
#include "guestlib.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS   0x28

/* SDM vol. 3 §3.4.5 / §7.2.3 descriptors, accessed bit already set: whether
 * a CPU sets it on IRET is not what these guests are about (QEMU's TCG does
 * not; hardware and vmon's emu do), and popek's LAR reports it. */
static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffffULL, /* 0x08 kernel code, 64-bit */
	0x00cf93000000ffffULL, /* 0x10 kernel data */
	0x00cff3000000ffffULL, /* 0x18 user data, DPL 3 */
	0x00affb000000ffffULL, /* 0x20 user code, 64-bit, DPL 3 */
	0, 0,                  /* 0x28 TSS (16 bytes), filled at run time */
};

struct tss64 { /* SDM vol. 3 §8.7 */
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss64 tss __attribute__((aligned(16)));

/* vmon's boot page tables are supervisor-only: 1 GiB of 2 MiB pages with
 * the U/S bit set. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[16384] __attribute__((aligned(16)));

volatile struct user_trap user_last;

extern void *const user_stubs[32];
uint64_t user_enter(void (*fn)(void), uint64_t user_rsp);

__asm__(
	/* user_enter(fn, user_rsp): save the kernel context, IRETQ to fn at
	 * ring 3 with IF 0 and IOPL 0; returns when ring 3 ends (INT3 with
	 * EDI 0, or an exception). A return from fn lands on user_exit. */
	"	.text\n"
	"user_enter:\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov %rsp, user_kernel_rsp(%rip)\n"
	"	lea user_exit(%rip), %rax\n"
	"	mov %rax, -8(%rsi)\n"   /* fn's return address */
	"	sub $8, %rsi\n"
	"	pushq $0x1b\n"          /* SS */
	"	push %rsi\n"            /* RSP */
	"	pushq $0x002\n"         /* RFLAGS */
	"	pushq $0x23\n"          /* CS */
	"	push %rdi\n"            /* RIP */
	"	xor %edi, %edi\n"
	"	iretq\n"
	"user_exit:\n"
	"	xor %edi, %edi\n"
	"	int3\n"
	/* INT3 from ring 3: EDI 1 is putc(ESI) (COM1, polling LSR). */
	"user_int3:\n"
	"	cmp $1, %edi\n"
	"	jne user_int3_end\n"
	"	push %rax; push %rdx\n"
	"	mov $0x3fd, %dx\n"
	"1:	inb %dx, %al\n"
	"	test $0x20, %al\n"
	"	jz 1b\n"
	"	mov %esi, %eax\n"
	"	mov $0x3f8, %dx\n"
	"	outb %al, %dx\n"
	"	pop %rdx; pop %rax\n"
	"	iretq\n"
	"user_int3_end:\n"
	"	pushq $0\n"
	"	pushq $3\n"
	/* Common trap entry: the stub pushed (error code), vector. Record
	 * them with ring 3's rax/rdx, then resume the kernel context. */
	"user_trap:\n"
	"	mov %rax, user_last+16(%rip)\n"
	"	mov %rdx, user_last+24(%rip)\n"
	"	pop %rax\n"
	"	mov %rax, user_last+0(%rip)\n"
	"	pop %rax\n"
	"	mov %rax, user_last+8(%rip)\n"
	"	mov $0x10, %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	mov user_kernel_rsp(%rip), %rsp\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	mov user_last(%rip), %rax\n"
	"	ret\n"
	"	.data\n"
	"user_kernel_rsp: .quad 0\n"
	"	.text\n"
	/* Exception stubs 0-31; those with a CPU error code skip the dummy
	 * push: 8, 10-14, 17, 21, 29, 30. */
	".macro USER_STUB n\n"
	"user_stub\\n:\n"
	"	.if \\n == 3\n"
	"	jmp user_int3\n"
	"	.else\n"
	"	.if (\\n == 8) || (\\n >= 10 && \\n <= 14) || (\\n == 17) || (\\n == 21) || (\\n == 29) || (\\n == 30)\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $\\n\n"
	"	jmp user_trap\n"
	"	.endif\n"
	".endm\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	USER_STUB \\n\n"
	".endr\n"
	"	.section .rodata\n"
	"user_stubs:\n"
	".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	.quad user_stub\\n\n"
	".endr\n"
	"	.text\n");

void user_init(void)
{
	for (unsigned i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x87; /* present, writable, user, 2 MiB */
	pdpt[0] = (uint64_t)pd | 0x7;
	pml4[0] = (uint64_t)pdpt | 0x7;
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");

	tss.rsp0 = (uint64_t)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: every port traps at CPL 3 */
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) | ((limit >> 16) << 48) |
		 (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;

	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS));
	/* Reload CS and the data segments from our GDT. */
	__asm__ volatile("pushq %0\n\tlea 1f(%%rip), %%rax\n\tpush %%rax\n\tlretq\n1:\n\t"
			 "mov %1, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss"
			 : : "i"(SEL_KCODE), "i"(SEL_KDATA) : "rax", "memory");
	for (unsigned v = 0; v < 32; v++)
		idt_set_gate(v, (uint64_t)user_stubs[v], SEL_KCODE, v == 3 ? 3 : 0);
	idt_load();
}

uint64_t user_gdt_base(void)
{
	return (uint64_t)gdt;
}

uint64_t run_user(void (*fn)(void))
{
	return user_enter(fn, (uint64_t)(ustack + sizeof(ustack)));
}

void run_user_or_exit(void (*fn)(void))
{
	uint64_t v = run_user(fn);
	if (v != USER_RETURNED) {
		print("ring 3 ended by vector %d, error code %x\n", (unsigned)v, user_last.error);
		guest_exit(2);
	}
}

int user_mode(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return (cs & 3) == 3;
}
