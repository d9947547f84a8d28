/* Timer interrupts the PC way: the guest programs the 8259 PICs (vectors
 * 0x20-0x2f) and channel 0 of the 8254 PIT (mode 2, about 1 kHz), enables
 * interrupts and sleeps in HLT until IRQ 0 has arrived 20 times. Each
 * interrupt ends with an EOI to the PIC. It also checks that a latched PIT
 * count moves, and that a masked IRQ 0 stops the ticks. */
#include <stdint.h>

#include "lib/guestlib.h"

volatile uint32_t ticks;

extern void irq0_entry(void);
__asm__(".text\n"
	"irq0_entry:\n"
	"	push %rax\n"
	"	lock incl ticks(%rip)\n"
	"	mov $0x20, %al\n"
	"	outb %al, $0x20\n"     /* non-specific EOI */
	"	pop %rax\n"
	"	iretq\n");

static uint16_t pit_read_count0(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint16_t lo = inb(0x40);
	return (uint16_t)(lo | (inb(0x40) << 8));
}

void guest_main(void)
{
	idt_set_gate(0x20, (uint64_t)irq0_entry, 0, 0);
	idt_load();

	/* ICW1-ICW4: edge-triggered, cascade, vectors 0x20/0x28, 8086 mode. */
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xfe); outb(0xa1, 0xff); /* only IRQ 0 */

	/* PIT channel 0: mode 2, LSB then MSB, 1193 -> 1000.15 Hz. */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);

	uint16_t a = pit_read_count0();
	for (volatile int i = 0; i < 2000; i++)
		;
	uint16_t b = pit_read_count0();
	print("pit: latched count %s\n", a != b ? "moves" : "STUCK");

	__asm__ volatile("sti");
	while (ticks < 20)
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
	print("timer: %d interrupts from IRQ 0 at vector 0x20\n", ticks >= 20 ? 20u : ticks);

	/* Masked at the PIC, the ticks stop reaching the CPU. */
	outb(0x21, 0xff);
	uint32_t before = ticks;
	__asm__ volatile("sti");
	for (volatile int i = 0; i < 200000; i++)
		;
	__asm__ volatile("cli");
	print("masked: %s\n", ticks == before ? "no interrupts" : "STILL INTERRUPTED");
	guest_exit(0x10);
}
