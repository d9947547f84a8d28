/* The machine's memory map as a BIOS e820 table would report it (design.md,
 * "Machine model"). Pure: no guest memory is touched. Multiboot and the Linux
 * boot protocol both describe RAM to the guest from this one table. */
#ifndef VMON_BOOT_E820_H
#define VMON_BOOT_E820_H

#include <stdint.h>

/* Entry types (ACPI 6.x §15 "System Address Map Interfaces", AddressRangeMemory
 * and AddressRangeReserved); Multiboot's mmap uses the same numbers. */
#define E820_USABLE   1u
#define E820_RESERVED 2u

/* The most entries e820_build() ever produces. */
#define E820_MAX_ENTRIES 6u

#define E820_LEGACY_HOLE_START 0xA0000ULL  /* 640 KiB: VGA and BIOS area */
#define E820_LEGACY_HOLE_END   0x100000ULL /* 1 MiB */
/* The extended BIOS data area vmon puts in the last KiB of conventional
 * memory (boot/bda.c); reserved in the map like the hole above it. */
#define E820_EBDA_START        0x9FC00ULL
#define E820_EBDA_SIZE         0x400ULL
/* The top of the 3-4 GiB hole: IOAPIC (0xfec00000), HPET, LAPIC up to
 * 4 GiB. */
#define E820_SYSTEM_MMIO_START 0xFEC00000ULL

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Fills out[] with the map for ram_size bytes of guest RAM, in address order,
 * without empty ranges:
 *   [0, 639K)            usable (less if RAM is smaller)
 *   [639K, 1M)           reserved: the EBDA, then the legacy hole
 *   [1M, min(RAM, 3G))   usable
 *   [3G, 3.5G)           absent: the PCI BAR window (PC_PCI_MMIO32)
 *   [3.5G, 3.5G + 1M)    reserved: the PCIe ECAM area (PC_PCI_ECAM_*)
 *   [0xfec00000, 4G)     reserved: IOAPIC, HPET, LAPIC
 *   [4G, 4G + RAM - 3G)  usable, when RAM is larger than 3 GiB
 * Writes at most max entries and returns how many the map has (like
 * snprintf: a return above max means out[] was too small). */
unsigned e820_build(uint64_t ram_size, struct e820_entry *out, unsigned max);

/* The same map as packed 20-byte little-endian entries (address, size: 64
 * bits; type: 32), the layout of Linux's boot_params e820_table and of
 * QEMU's fw_cfg etc/e820. Writes at most max entries to out and returns
 * how many it wrote. */
#define E820_PACKED_ENTRY 20u
unsigned e820_build_packed(uint64_t ram_size, uint8_t *out, unsigned max);

#endif
