/* Linux x86 boot protocol (Documentation/arch/x86/boot.rst): a bzImage's
 * setup header, where the kernel and initrd go, the boot_params ("zero
 * page"), and the 64-bit entry. The parsing and placement are pure. */
#ifndef VMON_BOOT_LINUX_H
#define VMON_BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct image_file;

#define LINUX_MIN_PROTOCOL 0x206   /* 2.06: cmdline_size; the floor */
#define LINUX_XLF_KERNEL_64 0x1    /* xloadflags: has the 64-bit entry at +0x200 */

struct linux_image {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint32_t cmdline_size;      /* without the NUL */
	uint64_t pref_address;
	uint32_t init_size;         /* memory the kernel needs from its load address */
	size_t header_end;          /* file offset just past the setup header */
	size_t pm_offset, pm_size;  /* the protected-mode kernel in the file */
};

struct linux_layout {
	uint64_t kernel_addr;
	uint64_t initrd_addr, initrd_size;
};

/* Checks the setup header: boot flag 0xAA55, "HdrS", protocol >= 2.06,
 * the 64-bit entry, a file long enough for setup + syssize. */
int linux_parse(const uint8_t *img, size_t len, struct linux_image *out, const char **why);

/* Where the kernel goes (pref_address when it fits, else the lowest aligned
 * address above 1 MiB for a relocatable kernel) and the initrd (as high as
 * initrd_addr_max and low RAM allow, clear of kernel + init_size). */
int linux_place(const struct linux_image *li, uint64_t low_ram_top, uint64_t initrd_size,
		struct linux_layout *out, const char **why);

/* Fills the 4 KiB zero page: the setup header copied from the image, then
 * what the boot loader sets (type_of_loader, heap, command line, initrd,
 * e820 map, ACPI RSDP address when non-zero). */
void linux_build_boot_params(uint8_t *bp, const uint8_t *img, const struct linux_image *li,
			     const struct linux_layout *lay, uint64_t cmdline_addr, uint64_t ram_size,
			     uint64_t rsdp_addr);

/* --kernel with a bzImage: loads kernel, initrd, command line, boot_params,
 * and sets the 64-bit entry state. */
int linux_load(struct vm *vm, const struct image_file *img);

#endif
