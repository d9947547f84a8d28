/* ISA IRQ 0 arrives on I/O APIC pin 2, as the MADT's interrupt source
 * override says (boot/acpi.c), under both engines: from the 8254 PIT (the
 * in-kernel PIT under KVM, vmon's own under emu) and from the HPET's timer 0
 * in legacy replacement mode (IA-PC HPET 1.0a §2.3.9: timer 0 -> IRQ 0).
 * The 8259s are masked; pin 0 and pin 2 are unmasked with vectors of their
 * own, so the handler that counts tells which pin the line reached. Each
 * wait ends after five interrupts on either pin. */
#include <stdint.h>

#include "lib/guestlib.h"

#define IOAPIC 0xfec00000ULL
#define LAPIC 0xfee00000ULL
#define HPET 0xfed00000ULL
#define VEC_PIN0 0x30
#define VEC_PIN2 0x32

volatile uint32_t pin_ticks[3];

/* Counts the interrupt of its pin, then EOI to the LAPIC (offset 0xb0). */
extern void pin0_entry(void), pin2_entry(void);
__asm__(".text\n"
	"pin0_entry:\n"
	"	lock incl pin_ticks(%rip)\n"
	"	jmp eoi\n"
	"pin2_entry:\n"
	"	lock incl pin_ticks+8(%rip)\n"
	"eoi:\n"
	"	push %rax\n"
	"	movabs $0xfee000b0, %rax\n"
	"	movl $0, (%rax)\n"
	"	pop %rax\n"
	"	iretq\n");

static void ioapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

/* Redirection entry of pin: fixed delivery, physical destination APIC 0,
 * edge-triggered, active high, unmasked (82093AA datasheet §3.2.4). */
static void route_pin(unsigned pin, unsigned vector)
{
	ioapic_write(0x10 + 2 * pin + 1, 0);
	ioapic_write(0x10 + 2 * pin, vector);
}

static void mask_pin(unsigned pin)
{
	ioapic_write(0x10 + 2 * pin, 1u << 16);
}

static void wait_for_five(void)
{
	pin_ticks[0] = pin_ticks[2] = 0;
	while (pin_ticks[0] + pin_ticks[2] < 5)
		__asm__ volatile("sti; hlt; cli");
}

static void report(const char *source)
{
	print("%s: pin 0 %s, pin 2 %s\n", source, pin_ticks[0] ? "INTERRUPTED" : "quiet",
	      pin_ticks[2] ? "interrupted" : "QUIET");
}

void guest_main(void)
{
	outb(0x21, 0xff); /* both 8259s masked: the I/O APIC only */
	outb(0xa1, 0xff);
	idt_set_gate(VEC_PIN0, (uint64_t)pin0_entry, 0, 0);
	idt_set_gate(VEC_PIN2, (uint64_t)pin2_entry, 0, 0);
	idt_load();
	*(volatile uint32_t *)(LAPIC + 0xf0) = 0x1ff; /* SVR: APIC on, spurious 0xff */
	route_pin(0, VEC_PIN0);
	route_pin(2, VEC_PIN2);

	/* PIT channel 0, mode 2 (rate generator), 1193 counts: about 1 ms. */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	wait_for_five();
	outb(0x43, 0x30); /* mode 0 with no count written: channel 0 stops */
	report("pit irq 0");

	/* The PIT's last edge may still be in flight: both pins off and on
	 * again, then the HPET's timer 0, periodic every 100000 ticks (1 ms at
	 * its 100 MHz), set while the counter is halted. */
	mask_pin(0);
	mask_pin(2);
	route_pin(0, VEC_PIN0);
	route_pin(2, VEC_PIN2);
	volatile uint64_t *hpet = (volatile uint64_t *)HPET;
	hpet[0x10 / 8] = 2;                                   /* LEG_RT_CNF, halted */
	hpet[0x100 / 8] = (1u << 2) | (1u << 3) | (1u << 6); /* enable, periodic, set value */
	hpet[0x108 / 8] = hpet[0xf0 / 8] + 100000;
	hpet[0x108 / 8] = 100000;
	hpet[0x10 / 8] = 3;                                   /* ENABLE_CNF | LEG_RT_CNF */
	wait_for_five();
	hpet[0x10 / 8] = 0;
	report("hpet timer 0 (legacy replacement)");
	guest_exit(0x10);
}
