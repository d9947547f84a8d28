/* ACPI tables built by vmon (ACPI 6.5 §5.2): RSDP, RSDT, XSDT, FADT, FACS,
 * MADT and a DSDT with \_S5. Linux (Debian's kernel parses no MP tables)
 * finds the CPUs, the IOAPIC, the ISA interrupt overrides, the PM timer,
 * the poweroff and reset registers here. Pure: builds into a buffer that
 * the caller copies to guest memory at base. */
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

struct acpi_config {
	unsigned ncpus;
	int has_i8042;   /* IAPC_BOOT_ARCH: an 8042 keyboard controller is present */
};

/* Builds every table into buf (placed at guest-physical base). Returns the
 * bytes used, or 0 if cap is too small. *rsdp_off is the RSDP's offset. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg, size_t *rsdp_off);

/* The 8-bit checksum rule: all bytes of a table sum to zero (§5.2.6). */
uint8_t acpi_checksum(const uint8_t *p, size_t n);

#endif
