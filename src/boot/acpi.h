/* ACPI tables built by vmon (ACPI 6.5 §5.2): RSDP, RSDT, XSDT, FADT, FACS,
 * MADT, HPET, MCFG and a DSDT with \_S5, the PCI root bridge and the
 * legacy devices. Linux (Debian's
 * kernel parses no MP tables) finds the CPUs, the IOAPIC, the ISA interrupt
 * overrides, the PM timer, the HPET, the poweroff and reset registers, and
 * (through PNP) the serial port, the 8042, the RTC and fw_cfg here. Pure:
 * builds into a buffer that the caller copies to guest memory at base. */
#ifndef VMON_BOOT_ACPI_H
#define VMON_BOOT_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* The BIOS read-only area where an OS scans for "RSD PTR " (ACPI §5.2.5.1). */
#define ACPI_BASE 0xe0000ULL
#define ACPI_AREA_SIZE 0x10000u

/* Fixed-hardware ports of the ACPI PM block (dev/acpi_pm.c serves them). */
#define ACPI_PM1A_EVT_PORT 0x600
#define ACPI_PM1A_CNT_PORT 0x604
#define ACPI_PM_TMR_PORT   0x608
#define ACPI_RESET_PORT    0xcf9
#define ACPI_RESET_VALUE   0x06
#define ACPI_SCI_IRQ       9
#define ACPI_S5_SLP_TYP    5      /* \_S5 value written to SLP_TYPa */

#define IOAPIC_BASE 0xfec00000ULL
#define LAPIC_BASE  0xfee00000ULL

/* Legacy devices the DSDT describes (their _CRS). */
#define ACPI_I8042_DATA_PORT 0x60
#define ACPI_I8042_CMD_PORT  0x64
#define ACPI_I8042_KBD_IRQ   1
#define ACPI_I8042_AUX_IRQ   12
#define ACPI_RTC_PORT        0x70
#define ACPI_RTC_PORTS       2
#define ACPI_RTC_IRQ         8
#define ACPI_FW_CFG_PORT     0x510
#define ACPI_FW_CFG_PORTS    0x0c   /* selector, data, DMA address */

/* What the machine has: each present device gets its DSDT entry (and the
 * HPET its table), so the tables describe exactly the machine built. */
struct acpi_config {
	unsigned ncpus;
	int has_com1;    /* 16550 at UART_COM1_BASE, IRQ 4 */
	int has_i8042;   /* IAPC_BOOT_ARCH 8042 flag; keyboard and mouse devices */
	int has_rtc;
	int has_fw_cfg;
	uint32_t hpet_id; /* HPET capabilities bits 31:0 (Event Timer Block ID), 0: none */
	uint64_t hpet_base;
	int has_pci;     /* the PCI host (dev/pci/pci_host.c): \_SB.PCI0 and the MCFG */
};

/* Builds every table into buf (placed at guest-physical base). Returns the
 * bytes used, or 0 if cap is too small. *rsdp_off is the RSDP's offset. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg, size_t *rsdp_off);

/* The 8-bit checksum rule: all bytes of a table sum to zero (§5.2.6). */
uint8_t acpi_checksum(const uint8_t *p, size_t n);

#endif
