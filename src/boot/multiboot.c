#include "boot/multiboot.h"

#include <errno.h>
#include <string.h>

#include "boot/e820.h"

/* Required flags vmon does not know (§3.1.2: bits 0-15 must be honoured). */
#define UNKNOWN_REQUIRED_FLAGS 0x0000fff8u

/* Header field offsets, §3.1.1. */
#define HDR_FLAGS     4
#define HDR_CHECKSUM  8
#define HDR_BASE_SIZE 12  /* magic, flags, checksum */
#define HDR_AOUT_SIZE 32  /* ... through entry_addr */

/* Information structure field offsets, §3.3. */
#define INFO_FLAGS            0
#define INFO_MEM_LOWER        4
#define INFO_MEM_UPPER        8
#define INFO_CMDLINE          16
#define INFO_MODS_COUNT       20
#define INFO_MODS_ADDR        24
#define INFO_MMAP_LENGTH      44
#define INFO_MMAP_ADDR        48
#define INFO_BOOT_LOADER_NAME 64

/* One memory map entry, §3.3: u32 size (of the rest, 20), u64 base_addr,
 * u64 length, u32 type. */
#define MMAP_ENTRY_SIZE 24u
/* One module, §3.3: u32 mod_start, mod_end, string, reserved (0). */
#define MOD_ENTRY_SIZE 16u

/* vmon's layout of the area: the structure, room for the largest memory map,
 * the loader name, then the command line up to the end. Fixed offsets keep
 * the command-line maximum the same for every RAM size. */
#define AREA_MMAP   120u /* MULTIBOOT_INFO_SIZE rounded up to 8 */
#define AREA_NAME   (AREA_MMAP + E820_MAX_ENTRIES * MMAP_ENTRY_SIZE)
#define AREA_CMD    (AREA_NAME + 8u)
#define LOADER_NAME "vmon"

_Static_assert(AREA_MMAP >= MULTIBOOT_INFO_SIZE, "info structure overlaps the memory map");
_Static_assert(sizeof(LOADER_NAME) <= AREA_CMD - AREA_NAME, "loader name too long");

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

int multiboot_find(const uint8_t *buf, size_t len, struct multiboot_header *out, const char **why)
{
	size_t limit = len < MULTIBOOT_SEARCH_LIMIT ? len : MULTIBOOT_SEARCH_LIMIT;
	for (size_t off = 0; limit >= HDR_BASE_SIZE && off <= limit - HDR_BASE_SIZE; off += 4) {
		const uint8_t *p = buf + off;
		uint32_t magic = rd32(p), flags = rd32(p + HDR_FLAGS);
		if (magic != MULTIBOOT_HEADER_MAGIC)
			continue;
		/* §3.1.2: magic + flags + checksum is zero, unsigned 32-bit. */
		if ((uint32_t)(magic + flags + rd32(p + HDR_CHECKSUM)) != 0)
			continue;

		if (flags & MULTIBOOT_FLAG_VIDEO_MODE) {
			*why = "Multiboot header requires a video mode (flag 2), which vmon does not set up";
			return -EINVAL;
		}
		if (flags & UNKNOWN_REQUIRED_FLAGS) {
			*why = "Multiboot header requires features vmon does not know (flags bits 3-15)";
			return -EINVAL;
		}
		memset(out, 0, sizeof(*out));
		out->offset = off;
		out->flags = flags;
		if (flags & MULTIBOOT_FLAG_AOUT_KLUDGE) {
			if (HDR_AOUT_SIZE > limit - off) {
				*why = "Multiboot header's address fields (flag 16) lie past the end of "
				       "the file or the first 8192 bytes";
				return -EINVAL;
			}
			out->header_addr = rd32(p + 12);
			out->load_addr = rd32(p + 16);
			out->load_end_addr = rd32(p + 20);
			out->bss_end_addr = rd32(p + 24);
			out->entry_addr = rd32(p + 28);
		}
		return 1;
	}
	return 0;
}

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

/* §3.1.3: header_addr is where the magic lands, load_addr where the file
 * offset (header offset - (header_addr - load_addr)) lands; load_end_addr 0
 * means "to the end of the file"; bss_end_addr 0 means no bss. */
int multiboot_aout_segment(const struct multiboot_header *h, size_t file_len,
			   struct elf_segment *seg, uint64_t *entry, const char **why)
{
	if (file_len < HDR_AOUT_SIZE || h->offset > file_len - HDR_AOUT_SIZE)
		return fail(why, "Multiboot: the header lies past the end of the file");
	if (h->load_addr > h->header_addr)
		return fail(why, "Multiboot: load_addr is above header_addr");
	uint64_t delta = h->header_addr - h->load_addr;
	if (delta > h->offset)
		return fail(why, "Multiboot: load_addr lies before the start of the file "
				 "(header_addr - load_addr exceeds the header's file offset)");
	uint64_t offset = h->offset - delta;

	uint64_t filesz;
	if (h->load_end_addr == 0) {
		filesz = file_len - offset;
	} else {
		if (h->load_end_addr < h->load_addr)
			return fail(why, "Multiboot: load_end_addr is below load_addr");
		filesz = h->load_end_addr - h->load_addr;
		if (filesz > file_len - offset)
			return fail(why, "Multiboot: load_end_addr lies past the end of the file");
	}
	if (filesz > 0x100000000ULL - h->load_addr)
		return fail(why, "Multiboot: the loaded image extends past 4 GiB");

	uint64_t memsz = filesz;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < h->load_addr + filesz)
			return fail(why, "Multiboot: bss_end_addr is below the end of the loaded data");
		memsz = h->bss_end_addr - h->load_addr;
	}
	if (memsz == 0)
		return fail(why, "Multiboot: the address fields describe an empty image");

	*seg = (struct elf_segment){ .index = 0, .paddr = h->load_addr, .vaddr = h->load_addr,
				     .offset = offset, .filesz = filesz, .memsz = memsz };
	*entry = h->entry_addr;
	return 0;
}

int multiboot_split_modules(const char *spec, char *buf, size_t buflen, const char **mods,
			    unsigned max, const char **why)
{
	if (buflen < strlen(spec) + 1) {
		*why = "Multiboot: no room to split the module list";
		return -E2BIG;
	}
	unsigned n = 0;
	char *out = buf;
	const char *p = spec;
	for (;;) {
		char *mod = out;
		/* QEMU's option syntax: ",," is a comma, a single "," ends a module. */
		while (*p && !(p[0] == ',' && p[1] != ',')) {
			if (p[0] == ',')
				p++;
			*out++ = *p++;
		}
		*out++ = 0;
		if (mod[0] == 0 || mod[0] == ' ') {
			*why = "an empty module, or one with no file name before its arguments";
			return -EINVAL;
		}
		if (n == max) {
			*why = "too many modules";
			return -E2BIG;
		}
		mods[n++] = mod;
		if (!*p)
			return (int)n;
		p++; /* the separating comma */
	}
}

size_t multiboot_module_name_len(const char *mod)
{
	return strcspn(mod, " ");
}

/* The layout of the variable part, from AREA_CMD on. */
static size_t mods_offset(const struct multiboot_params *p)
{
	size_t cmd = (p->cmdline ? strlen(p->cmdline) : 0) + 1;
	return (AREA_CMD + cmd + 3) & ~(size_t)3;
}

size_t multiboot_info_size(const struct multiboot_params *p)
{
	size_t size = mods_offset(p) + (size_t)p->nmods * MOD_ENTRY_SIZE;
	for (unsigned i = 0; i < p->nmods; i++)
		size += strlen(p->mods[i].string) + 1;
	return size;
}

int multiboot_info_build(uint8_t *area, size_t area_size, uint32_t area_addr,
			 const struct multiboot_params *p, const char **why)
{
	const char *cmdline = p->cmdline ? p->cmdline : "";
	size_t cmd_len = strlen(cmdline);
	if (p->nmods > MULTIBOOT_MAX_MODULES || multiboot_info_size(p) > area_size ||
	    (uint64_t)area_addr + area_size > 0x100000000ULL) {
		*why = "Multiboot: the command line and module strings do not fit in the "
		       "information area";
		return -E2BIG;
	}
	memset(area, 0, area_size);

	/* mem_lower: KiB from 0 (at most 640); mem_upper: KiB from 1 MiB to
	 * the first hole. Both read off the e820 map. */
	struct e820_entry map[E820_MAX_ENTRIES];
	unsigned n = e820_build(p->ram_size, map, E820_MAX_ENTRIES);
	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES; /* cannot happen: E820_MAX_ENTRIES is the maximum */
	uint64_t lower = 0, upper = 0;
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != E820_USABLE)
			continue;
		if (map[i].addr == 0)
			lower = map[i].size;
		else if (map[i].addr == E820_LEGACY_HOLE_END)
			upper = map[i].size;
	}
	/* Memory information is given whether or not the header asks for it
	 * (header flag 1); modules are always page-aligned (flag 0). */
	uint32_t flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
			 MULTIBOOT_INFO_LOADER_NAME;
	if (p->nmods)
		flags |= MULTIBOOT_INFO_MODS;
	wr32(area + INFO_FLAGS, flags);
	wr32(area + INFO_MEM_LOWER, (uint32_t)(lower >> 10));
	wr32(area + INFO_MEM_UPPER, (uint32_t)(upper >> 10));

	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = area + AREA_MMAP + i * MMAP_ENTRY_SIZE;
		wr32(e, MMAP_ENTRY_SIZE - 4);
		wr64(e + 4, map[i].addr);
		wr64(e + 12, map[i].size);
		wr32(e + 20, map[i].type);
	}
	wr32(area + INFO_MMAP_LENGTH, n * MMAP_ENTRY_SIZE);
	wr32(area + INFO_MMAP_ADDR, area_addr + AREA_MMAP);

	memcpy(area + AREA_NAME, LOADER_NAME, sizeof(LOADER_NAME));
	wr32(area + INFO_BOOT_LOADER_NAME, area_addr + AREA_NAME);
	memcpy(area + AREA_CMD, cmdline, cmd_len + 1);
	wr32(area + INFO_CMDLINE, area_addr + AREA_CMD);

	if (p->nmods) {
		size_t list = mods_offset(p), str = list + (size_t)p->nmods * MOD_ENTRY_SIZE;
		wr32(area + INFO_MODS_COUNT, p->nmods);
		wr32(area + INFO_MODS_ADDR, area_addr + (uint32_t)list);
		for (unsigned i = 0; i < p->nmods; i++) {
			uint8_t *e = area + list + i * MOD_ENTRY_SIZE;
			size_t len = strlen(p->mods[i].string) + 1;
			wr32(e, p->mods[i].start);
			wr32(e + 4, p->mods[i].end);
			wr32(e + 8, area_addr + (uint32_t)str);
			memcpy(area + str, p->mods[i].string, len);
			str += len;
		}
	}
	return 0;
}
