/* Multiboot (v1, specification 0.6.96): the header search, the a.out-kludge
 * address fields, and the boot information structure. Pure: works on byte
 * buffers; boot/kernel.c puts the results into guest memory. */
#ifndef VMON_BOOT_MULTIBOOT_H
#define VMON_BOOT_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "boot/elf.h"

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u /* §3.1.2 */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u /* EAX at entry, §3.2 */
#define MULTIBOOT_SEARCH_LIMIT     8192u       /* §3.1: header within the first 8 KiB */

/* Header flags, §3.1.2. Bits 0-15 are requirements, 16-31 optional. */
#define MULTIBOOT_FLAG_PAGE_ALIGN  (1u << 0)  /* modules on 4 KiB boundaries */
#define MULTIBOOT_FLAG_MEMORY_INFO (1u << 1)  /* mem_* fields wanted */
#define MULTIBOOT_FLAG_VIDEO_MODE  (1u << 2)  /* a graphics mode wanted */
#define MULTIBOOT_FLAG_AOUT_KLUDGE (1u << 16) /* address fields are valid */

/* Information flags, §3.3. */
#define MULTIBOOT_INFO_MEMORY      (1u << 0)
#define MULTIBOOT_INFO_CMDLINE     (1u << 2)
#define MULTIBOOT_INFO_MODS        (1u << 3)
#define MULTIBOOT_INFO_MEM_MAP     (1u << 6)
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9)

/* Size of the information structure up to and including the framebuffer
 * fields (§3.3, offsets 0-115); vmon zeroes it all. */
#define MULTIBOOT_INFO_SIZE 116u

struct multiboot_header {
	size_t offset;  /* file offset of the magic field */
	uint32_t flags;
	/* §3.1.3, valid with MULTIBOOT_FLAG_AOUT_KLUDGE. */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Looks for a header: the magic at a 4-byte aligned offset, the 12-byte
 * magic/flags/checksum part within the first 8192 bytes and the file, and
 * magic + flags + checksum == 0 (mod 2^32); a magic with a wrong checksum is
 * passed over. Returns 1 with *out filled, 0 when there is none, or -EINVAL
 * with *why set when the header asks for something vmon cannot do (a video
 * mode, unknown required flags) or its address fields are cut off. */
int multiboot_find(const uint8_t *buf, size_t len, struct multiboot_header *out, const char **why);

/* The a.out kludge (§3.1.3): turns the address fields of h into one segment
 * to load from an image of file_len bytes, and the entry address. Returns 0,
 * or -EINVAL with *why set when the fields are inconsistent or point outside
 * the file. */
int multiboot_aout_segment(const struct multiboot_header *h, size_t file_len,
			   struct elf_segment *seg, uint64_t *entry, const char **why);

/* The most modules vmon loads (its own limit: the list is 16 bytes each). */
#define MULTIBOOT_MAX_MODULES 256u

/* Splits an --initrd list the way QEMU's -initrd does for a Multiboot
 * kernel: modules separated by ",", each "FILE[ ARGS]", where ",," stands
 * for one literal comma (in a file name or in the arguments). The module
 * strings are written NUL-terminated into buf (at least strlen(spec) + 1
 * bytes) and mods[i] points at each. Returns the number of modules, or
 * -EINVAL with *why set for an empty module (or one starting with a space:
 * no file name), -E2BIG for more than max modules. */
int multiboot_split_modules(const char *spec, char *buf, size_t buflen, const char **mods,
			    unsigned max, const char **why);

/* The file name of a module string: its length up to the first space. */
size_t multiboot_module_name_len(const char *mod);

struct multiboot_module {
	uint32_t start, end;  /* guest-physical, end exclusive (§3.3 mod_end) */
	const char *string;   /* "FILE ARGS" as given */
};

struct multiboot_params {
	uint64_t ram_size;
	const char *cmdline;  /* NULL: an empty string */
	const struct multiboot_module *mods;
	unsigned nmods;
};

/* The bytes multiboot_info_build() needs for p. */
size_t multiboot_info_size(const struct multiboot_params *p);

/* Writes the information structure (§3.3) at the start of area, which the
 * guest sees at physical area_addr (4-byte aligned): mem_lower/mem_upper,
 * cmdline, the modules (flag 3, only when there are any), the memory map
 * from e820_build() and boot_loader_name "vmon". Layout: the structure, the
 * memory map, the name, the command line, the module list (4-byte aligned),
 * the module strings; the rest of area is zeroed. Returns 0, or -E2BIG with
 * *why set when that does not fit in area_size bytes below 4 GiB. */
int multiboot_info_build(uint8_t *area, size_t area_size, uint32_t area_addr,
			 const struct multiboot_params *p, const char **why);

#endif
