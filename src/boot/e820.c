#include "boot/e820.h"

#include "machine/pc.h"
#include "mem/guest_mem.h"

static void add(struct e820_entry *out, unsigned max, unsigned *n, uint64_t start, uint64_t end,
		uint32_t type)
{
	if (end <= start)
		return;
	if (*n < max)
		out[*n] = (struct e820_entry){ .addr = start, .size = end - start, .type = type };
	(*n)++;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

unsigned e820_build(uint64_t ram_size, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;
	/* Low RAM is backed up to min(RAM, 3G) (guest_mem.h); the EBDA and the
	 * legacy hole take what lies between 639 KiB and 1 MiB (as a PC BIOS
	 * reports it: the EBDA is reserved, INT 15h E820h in ACPI 6.5 §15). */
	uint64_t low_top = min_u64(ram_size, GUEST_MEM_HOLE_START);

	add(out, max, &n, 0, min_u64(low_top, E820_EBDA_START), E820_USABLE);
	add(out, max, &n, E820_EBDA_START, E820_LEGACY_HOLE_END, E820_RESERVED);
	add(out, max, &n, E820_LEGACY_HOLE_END, low_top, E820_USABLE);
	/* The 3-4 GiB hole: what lies there is reserved, except the BAR
	 * window, which the map leaves out. Linux (arch/x86/pci/acpi.c, up to
	 * BIOS dates before 2023, and vmon has no DMI) clips every e820 range
	 * out of the host bridge's _CRS windows; a window inside "reserved"
	 * would be left empty and the BARs firmware put there refused. */
	add(out, max, &n, PC_PCI_ECAM_BASE, PC_PCI_ECAM_BASE + PC_PCI_ECAM_SIZE, E820_RESERVED);
	add(out, max, &n, E820_SYSTEM_MMIO_START, GUEST_MEM_HIGH_START, E820_RESERVED);
	if (ram_size > GUEST_MEM_HOLE_START) {
		/* Clamped so that no size can wrap the end address. */
		uint64_t high = min_u64(ram_size - GUEST_MEM_HOLE_START, UINT64_MAX - GUEST_MEM_HIGH_START);
		add(out, max, &n, GUEST_MEM_HIGH_START, GUEST_MEM_HIGH_START + high, E820_USABLE);
	}
	return n;
}

unsigned e820_build_packed(uint64_t ram_size, uint8_t *out, unsigned max)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned n = e820_build(ram_size, map, E820_MAX_ENTRIES);
	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES; /* cannot happen: it is the maximum */
	if (n > max)
		n = max;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = out + i * E820_PACKED_ENTRY;
		for (unsigned b = 0; b < 8; b++) {
			e[b] = (uint8_t)(map[i].addr >> (8 * b));
			e[8 + b] = (uint8_t)(map[i].size >> (8 * b));
		}
		for (unsigned b = 0; b < 4; b++)
			e[16 + b] = (uint8_t)(map[i].type >> (8 * b));
	}
	return n;
}
