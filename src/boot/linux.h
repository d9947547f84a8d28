/* Linux x86 boot protocol (Documentation/arch/x86/boot.rst): a bzImage's
 * setup header, where the kernel and initrd go, the boot_params ("zero
 * page"), and the 32-bit or 64-bit entry. The parsing and placement are
 * pure. */
#ifndef VMON_BOOT_LINUX_H
#define VMON_BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct image_file;

#define LINUX_MIN_PROTOCOL 0x202   /* 2.02: cmd_line_ptr, the only way to pass a command line */
#define LINUX_XLF_KERNEL_64 0x1    /* xloadflags: has the 64-bit entry at +0x200 */

/* The setup header with every field a protocol version lacks replaced by
 * the value boot.rst gives for older kernels. */
struct linux_image {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint16_t xloadflags;        /* 2.12+, else 0 */
	bool relocatable;           /* 2.05+, else false */
	uint32_t initrd_addr_max;   /* 2.03+, else 0x37ffffff */
	uint32_t kernel_alignment;  /* 2.05+ */
	uint32_t cmdline_size;      /* without the NUL; 2.06+, else 255 */
	uint64_t pref_address;      /* 2.10+, else 1 MiB */
	uint64_t init_size;         /* memory the kernel needs from its load address (2.10+) */
	size_t header_end;          /* file offset just past the setup header */
	size_t pm_offset;           /* the protected-mode kernel in the file ... */
	size_t pm_size;             /* ... its bytes there (the rest of the file) ... */
	uint64_t pm_mem_size;       /* ... and in memory: at least syssize * 16 */
};

struct linux_layout {
	uint64_t kernel_addr;
	uint64_t initrd_addr, initrd_size;
};

/* Checks the setup header: boot flag 0xAA55, "HdrS", protocol >= 2.02, a
 * header long enough for its version's fields, a high-loaded kernel, a file
 * long enough for setup + syssize (syssize rounded up to 16 bytes past the
 * end of the file is accepted, as boot loaders do). */
int linux_parse(const uint8_t *img, size_t len, struct linux_image *out, const char **why);

/* The 64-bit entry (load address + 0x200) when the kernel has one
 * (XLF_KERNEL_64) and 32-bit was not asked for, else the 32-bit one
 * (code32_start = the load address). */
bool linux_use_entry64(const struct linux_image *li, bool boot32);

/* Where the kernel goes (pref_address when it fits, else the lowest aligned
 * address above 1 MiB for a relocatable kernel) and the initrd (as high as
 * initrd_addr_max and low RAM allow, clear of kernel + init_size). */
int linux_place(const struct linux_image *li, uint64_t low_ram_top, uint64_t initrd_size,
		struct linux_layout *out, const char **why);

/* Fills the 4 KiB zero page: the setup header copied from the image, then
 * what the boot loader sets (type_of_loader, heap, code32_start = the load
 * address, command line, initrd, e820 map, ACPI RSDP address when non-zero
 * and the protocol has the field). */
void linux_build_boot_params(uint8_t *bp, const uint8_t *img, const struct linux_image *li,
			     const struct linux_layout *lay, uint64_t cmdline_addr, uint64_t ram_size,
			     uint64_t rsdp_addr);

/* --kernel with a bzImage: loads kernel, initrd, command line, boot_params,
 * and sets the 64-bit or 32-bit entry state (linux_use_entry64). */
int linux_load(struct vm *vm, const struct image_file *img);

#endif
