/* The PC's interrupt wiring, one description for both engines (design.md:
 * src/machine/pc.h): devices raise line n; line n < 16 is ISA IRQ n on the
 * 8259 pair, and on the I/O APIC line 0 arrives at pin 2 (the MADT's
 * interrupt source override IRQ 0 -> GSI 2, boot/acpi.c), line 2 (the PIC
 * cascade) at no pin, every other line n at pin n. */
#ifndef VMON_MACHINE_PC_H
#define VMON_MACHINE_PC_H

#define PC_IOAPIC_PINS 24
#define PC_PIC_LINES 16

/* The 8259 input of line, or -1 for none. */
static inline int pc_line_pic_pin(unsigned line)
{
	return line < PC_PIC_LINES ? (int)line : -1;
}

/* The I/O APIC pin of line, or -1 for none. */
static inline int pc_line_ioapic_pin(unsigned line)
{
	if (line == 2 || line >= PC_IOAPIC_PINS)
		return -1;
	return line == 0 ? 2 : (int)line;
}

#endif
