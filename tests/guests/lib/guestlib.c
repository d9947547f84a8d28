#include "guestlib.h"

#include <stdarg.h>

void putc_(char c)
{
	if (user_mode()) { /* port I/O is the kernel's (lib/user.c) */
		__asm__ volatile("int3" : : "D"(1), "S"((unsigned)(uint8_t)c) : "memory");
		return;
	}
	while (!(inb(0x3fd) & 0x20))
		;
	outb(0x3f8, (uint8_t)c);
}

void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

void puthex(uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		putc_("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
}

void print(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_(*fmt);
			continue;
		}
		fmt++;
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = 0;
			while (s[n])
				n++;
			puts_(s);
			for (; n < width; n++)
				putc_(' ');
			break;
		}
		case 'c': putc_((char)va_arg(ap, int)); break;
		case 'd': {
			unsigned v = va_arg(ap, unsigned);
			char buf[12];
			int n = 0;
			do {
				buf[n++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			while (n)
				putc_(buf[--n]);
			break;
		}
		case 'x': puthex(va_arg(ap, uint64_t), width ? width : 16); break;
		case '%': putc_('%'); break;
		default: putc_('?'); break;
		}
	}
	va_end(ap);
}

void guest_exit(uint8_t code)
{
	outb(0xf4, code);
	for (;;)
		__asm__ volatile("hlt");
}

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type_attr;
	uint16_t off1;
	uint32_t off2, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));

void idt_set_gate(unsigned vec, uint64_t handler, uint16_t sel, unsigned dpl)
{
	if (!sel)
		__asm__ volatile("mov %%cs, %0" : "=r"(sel));
	idt[vec & 255] = (struct idt_entry){ .off0 = (uint16_t)handler, .sel = sel,
					     .type_attr = (uint8_t)(0x8e | (dpl & 3) << 5),
					     .off1 = (uint16_t)(handler >> 16), .off2 = (uint32_t)(handler >> 32) };
}

void idt_load(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

uint64_t idt_base(void)
{
	return (uint64_t)idt;
}

/* IRQ 0 counted at vector 0x20, each ended with a non-specific EOI. */
volatile uint32_t irq0_ticks;
extern void irq0_entry(void);
__asm__(".text\n"
	"irq0_entry:\n"
	"	push %rax\n"
	"	lock incl irq0_ticks(%rip)\n"
	"	mov $0x20, %al\n"
	"	outb %al, $0x20\n"
	"	pop %rax\n"
	"	iretq\n");

void irq0_setup(void)
{
	idt_set_gate(0x20, (uint64_t)irq0_entry, 0, 0);
	idt_load();
	/* ICW1-ICW4: edge-triggered, cascade, vectors 0x20/0x28, 8086 mode. */
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xfe); outb(0xa1, 0xff); /* only IRQ 0 */
}

uint32_t irq0_during(unsigned loops)
{
	uint32_t before = irq0_ticks;
	__asm__ volatile("sti");
	for (volatile unsigned i = 0; i < loops; i++)
		;
	__asm__ volatile("cli");
	return irq0_ticks - before;
}

/* Catching faults at ring 0: the stubs record the vector, error code and
 * CR2, then make their IRETQ land in trap_probe's recovery path with
 * trap_probe's stack (a 64-bit frame always holds SS:RSP, SDM vol. 3
 * §6.14.2), so whatever the probed code was doing is abandoned. */
volatile struct trap_info trap_last;
uint64_t trap_rsp;

extern void trap_recover(void), trap_stub6(void), trap_stub13(void), trap_stub14(void);
__asm__(".text\n"
	"	.globl trap_probe\n"
	"trap_probe:\n" /* trap_probe(fn, arg) */
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	movq $0, trap_last(%rip)\n"
	"	mov %rsp, trap_rsp(%rip)\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	call *%rax\n"
	"trap_recover:\n"
	"	mov trap_rsp(%rip), %rsp\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	mov trap_last(%rip), %rax\n"
	"	ret\n"
	"trap_stub6:  pushq $0; pushq $6; jmp trap_common\n"
	"trap_stub13: pushq $13; jmp trap_common\n"
	"trap_stub14: pushq $14; jmp trap_common\n"
	"trap_common:\n"
	"	push %rax\n"
	"	mov 8(%rsp), %rax\n"
	"	mov %rax, trap_last(%rip)\n"
	"	mov 16(%rsp), %rax\n"
	"	mov %rax, trap_last+8(%rip)\n"
	"	mov %cr2, %rax\n"
	"	mov %rax, trap_last+16(%rip)\n"
	"	lea trap_recover(%rip), %rax\n"
	"	mov %rax, 24(%rsp)\n"     /* RIP */
	"	mov trap_rsp(%rip), %rax\n"
	"	mov %rax, 48(%rsp)\n"     /* RSP */
	"	pop %rax\n"
	"	add $16, %rsp\n"
	"	iretq\n");

void trap_catch(unsigned vec)
{
	void (*stub)(void) = vec == 6 ? trap_stub6 : vec == 13 ? trap_stub13 : trap_stub14;
	idt_set_gate(vec, (uint64_t)stub, 0, 0);
	idt_load();
}
