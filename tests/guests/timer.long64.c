/* Timer interrupts the PC way: the guest programs the 8259 PICs (vectors
 * 0x20-0x2f) and channel 0 of the 8254 PIT (mode 2, about 1 kHz), enables
 * interrupts and sleeps in HLT until IRQ 0 has arrived 20 times. Each
 * interrupt ends with an EOI to the PIC. It also checks that a latched PIT
 * count moves, and that a masked IRQ 0 stops the ticks. */
#include <stdint.h>

#include "lib/guestlib.h"

static uint16_t pit_read_count0(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint16_t lo = inb(0x40);
	return (uint16_t)(lo | (inb(0x40) << 8));
}

void guest_main(void)
{
	irq0_setup();

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
	while (irq0_ticks < 20)
		__asm__ volatile("hlt");
	__asm__ volatile("cli");
	print("timer: %d interrupts from IRQ 0 at vector 0x20\n", irq0_ticks >= 20 ? 20u : irq0_ticks);

	/* Masked at the PIC, the ticks stop reaching the CPU. */
	outb(0x21, 0xff);
	print("masked: %s\n", irq0_during(200000) == 0 ? "no interrupts" : "STILL INTERRUPTED");
	guest_exit(0x10);
}
