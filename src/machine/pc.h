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

/* PCI (design.md, machine model). The memory windows are where vmon
 * places BARs; they are the host bridge's _CRS windows in the DSDT. The
 * 32-bit one lies in the 3-4 GiB hole below the ECAM area, the IOAPIC
 * (0xfec00000), the HPET (0xfed00000) and the LAPIC (0xfee00000); the
 * 64-bit one above any RAM (--mem is at most 64 GiB) and below the
 * 40-bit physical address width the software CPU reports. */
#define PC_PCI_IO_BASE     0xc000ULL        /* I/O BARs: 0xc000-0xffff */
#define PC_PCI_IO_SIZE     0x4000ULL
#define PC_PCI_MMIO32_BASE 0xc0000000ULL    /* 32-bit memory BARs: 512 MiB */
#define PC_PCI_MMIO32_SIZE 0x20000000ULL
#define PC_PCI_ECAM_BASE   0xe0000000ULL    /* PCIe ECAM (MCFG), bus 0 only: 1 MiB */
#define PC_PCI_ECAM_SIZE   0x100000ULL
#define PC_PCI_MMIO64_BASE 0x4000000000ULL  /* 64-bit memory BARs: 256 GiB at 256 GiB */
#define PC_PCI_MMIO64_SIZE 0x4000000000ULL

/* INTx routing (the DSDT's _PRT and the PCI host agree through this):
 * slot s, pin p (1 = INTA .. 4 = INTD) reaches I/O APIC pin 16-19 by the
 * usual rotation, level-triggered and active-low as PCI interrupts are
 * (PCI 3.0 §2.2.6; ACPI 6.5 §6.2.13). */
#define PC_PCI_INTX_GSI_BASE 16
static inline unsigned pc_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PC_PCI_INTX_GSI_BASE + (slot + pin - 1) % 4;
}

#endif
