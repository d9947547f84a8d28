/* --kernel: reads the image, tells its format by content and loads it.
 * Order: a Linux bzImage ("HdrS" at 0x202, boot/linux.c), then a Multiboot
 * header (a Multiboot kernel is usually also an ELF file), then the ELF
 * magic. */
#include "boot/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bda.h"
#include "boot/e820.h"
#include "boot/elf.h"
#include "boot/image_file.h"
#include "boot/layout.h"
#include "boot/linux.h"
#include "boot/multiboot.h"
#include "boot/x86_setup.h"
#include "util/log.h"
#include "vm.h"

/* Linux x86 boot protocol: the setup header's "HdrS" signature at 0x202. */
#define BZIMAGE_MAGIC_OFFSET 0x202
#define BZIMAGE_MAGIC        "HdrS"

static bool is_bzimage(const struct image_file *img)
{
	return img->size >= BZIMAGE_MAGIC_OFFSET + 4 &&
	       memcmp(img->data + BZIMAGE_MAGIC_OFFSET, BZIMAGE_MAGIC, 4) == 0;
}

/* "[0, 0x10000000)" or "[0, 0xc0000000) and [0x100000000, 0x140000000)". */
static void describe_ram(const struct guest_mem *mem, char *buf, size_t len)
{
	int n = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < mem->nregions && n >= 0 && (size_t)n < len; i++) {
		const struct guest_mem_region *r = &mem->region[i];
		n += snprintf(buf + n, len - (size_t)n, "%s[0x%llx, 0x%llx)", i ? " and " : "",
			      (unsigned long long)r->gpa, (unsigned long long)(r->gpa + r->size));
	}
}

static void segment_name(char *buf, size_t len, const struct elf_segment *s, bool from_elf)
{
	if (from_elf)
		snprintf(buf, len, "ELF program header %u", s->index);
	else
		snprintf(buf, len, "the Multiboot load range");
}

static bool overlaps(const struct elf_segment *s, uint64_t start, uint64_t end)
{
	return s->paddr < end && start < s->paddr + s->memsz;
}

/* Where vmon's 64 KiB block of boot structures goes (boot/layout.h): at 0
 * when the image leaves [0x500, 0x10000) alone, else at the lowest 4 KiB-
 * aligned base in conventional memory that no segment touches. The BDA and
 * EBDA have fixed places: a segment over them is a collision. The parsers
 * guarantee that paddr + memsz does not wrap. */
static int place_boot_area(const char *path, const struct elf_segment *seg, unsigned n,
			   bool from_elf, uint64_t *base)
{
	static const struct { uint64_t start, end; const char *what; } fixed[] = {
		{ BDA_BASE, BDA_BASE + BDA_SIZE, "the BIOS data area" },
		{ E820_EBDA_START, E820_EBDA_START + E820_EBDA_SIZE, "the extended BIOS data area" },
	};
	char what[64];
	const struct elf_segment *low = NULL;
	for (unsigned i = 0; i < n; i++) {
		segment_name(what, sizeof(what), &seg[i], from_elf);
		for (unsigned f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
			if (overlaps(&seg[i], fixed[f].start, fixed[f].end)) {
				log_error("--kernel %s: %s at [0x%llx, 0x%llx) overlaps %s at [0x%llx, 0x%llx)",
					  path, what, (unsigned long long)seg[i].paddr,
					  (unsigned long long)(seg[i].paddr + seg[i].memsz), fixed[f].what,
					  (unsigned long long)fixed[f].start, (unsigned long long)fixed[f].end);
				return -EINVAL;
			}
		}
		if (!low && overlaps(&seg[i], BOOT_INFO_ADDR, BOOT_RESERVED_END))
			low = &seg[i];
	}
	*base = 0;
	if (!low)
		return 0;
	for (uint64_t b = BOOT_RESERVED_END; b + BOOT_AREA_SIZE <= E820_EBDA_START; b += 0x1000) {
		unsigned i = 0;
		while (i < n && !overlaps(&seg[i], b, b + BOOT_AREA_SIZE))
			i++;
		if (i == n) {
			*base = b;
			return 0;
		}
	}
	segment_name(what, sizeof(what), low, from_elf);
	log_error("--kernel %s: %s at [0x%llx, 0x%llx) overlaps vmon's boot structures at "
		  "[0x%llx, 0x%llx), and no other 64 KiB below 0x%llx is free for them", path, what,
		  (unsigned long long)low->paddr, (unsigned long long)(low->paddr + low->memsz),
		  (unsigned long long)BOOT_INFO_ADDR, (unsigned long long)BOOT_RESERVED_END,
		  (unsigned long long)E820_EBDA_START);
	return -EINVAL;
}

/* Every segment must lie in RAM and clear of what vmon places (see
 * place_boot_area, which sets *base); all are checked before anything is
 * copied. */
static int load_segments(struct vm *vm, const char *path, const struct image_file *img,
			 const struct elf_segment *seg, unsigned n, bool from_elf, uint64_t *base)
{
	for (unsigned i = 0; i < n; i++) {
		const struct elf_segment *s = &seg[i];
		if (!guest_mem_ptr(&vm->mem, s->paddr, s->memsz)) {
			char what[64], ram[96];
			segment_name(what, sizeof(what), s, from_elf);
			describe_ram(&vm->mem, ram, sizeof(ram));
			log_error("--kernel %s: %s at [0x%llx, 0x%llx) is not in guest RAM (%s)",
				  path, what, (unsigned long long)s->paddr,
				  (unsigned long long)(s->paddr + s->memsz), ram);
			return -EFBIG;
		}
	}
	int r = place_boot_area(path, seg, n, from_elf, base);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < n; i++) {
		const struct elf_segment *s = &seg[i];
		uint8_t *dst = guest_mem_ptr(&vm->mem, s->paddr, s->memsz);
		if (s->filesz > 0)
			memcpy(dst, img->data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	if (*base)
		log_info("--kernel %s: the image uses low memory; vmon's boot structures moved to "
			 "0x%llx", path, (unsigned long long)*base);
	return 0;
}

static int enter_mode(struct vm *vm, const char *path, enum boot_mode mode, uint64_t entry,
		      uint64_t base)
{
	const char *why = NULL;
	int r = x86_setup_mode_at(&vm->mem, mode, entry, base, &vm->boot_state, &why);
	if (r < 0)
		log_error("--kernel %s: %s (entry 0x%llx)", path, why, (unsigned long long)entry);
	return r;
}

static int refuse_initrd(const struct vm_config *cfg, const char *kind)
{
	if (!cfg->initrd)
		return 0;
	log_error("--initrd %s: only a Linux bzImage or a Multiboot kernel takes --initrd, and "
		  "--kernel %s is %s",
		  cfg->initrd, cfg->kernel, kind);
	return -EINVAL;
}

/* A plain ELF executable: ELF32 starts in 32-bit protected mode, ELF64 in
 * long mode, at the physical entry (design.md, command-line contract). */
static int boot_elf(struct vm *vm, const char *path, const struct image_file *img)
{
	struct elf_image elf;
	const char *why = NULL;
	int r = elf_parse(img->data, img->size, &elf, &why);
	if (r < 0) {
		log_error("--kernel %s: %s", path, why);
		return r;
	}
	r = refuse_initrd(vm->cfg, elf.elf_class == 64 ? "an ELF64 image" : "an ELF32 image");
	if (r < 0)
		return r;
	uint64_t base = 0;
	r = load_segments(vm, path, img, elf.seg, elf.nsegs, true, &base);
	if (r == 0)
		r = enter_mode(vm, path, elf.elf_class == 64 ? BOOT_MODE_LONG64 : BOOT_MODE_PROT32,
			       elf.entry, base);
	/* Warned only on success, so that an error stays the one line on stderr. */
	if (r == 0 && vm->cfg->append)
		log_warn("--append: ignored, a plain ELF kernel has no command line "
			 "(only Multiboot and Linux images do)");
	return r;
}

static uint64_t page_up(uint64_t a)
{
	return (a + 0xfff) & ~0xfffULL;
}

/* The modules of an --initrd list (§3.3): each file page-aligned (header
 * flag 0 is thereby always met), the first at the page after the highest
 * segment and at least at 1 MiB, all in RAM below the 3 GiB hole. Fills
 * mods[i].start/end; mods[i].string is already set. */
static int load_modules(struct vm *vm, const struct elf_segment *seg, unsigned nseg,
			struct multiboot_module *mods, unsigned nmods)
{
	uint64_t next = E820_LEGACY_HOLE_END;
	for (unsigned i = 0; i < nseg; i++)
		if (seg[i].paddr + seg[i].memsz > next)
			next = seg[i].paddr + seg[i].memsz;
	next = page_up(next);
	uint64_t top = vm->mem.region[0].size; /* low RAM: min(RAM, 3 GiB) */
	for (unsigned i = 0; i < nmods; i++) {
		size_t name_len = multiboot_module_name_len(mods[i].string);
		char *name = strndup(mods[i].string, name_len);
		if (!name) {
			log_error("--initrd: out of memory");
			return -ENOMEM;
		}
		struct image_file f;
		int r = image_file_read("--initrd", name, vm->mem.size, &f);
		if (r == 0 && (next > top || f.size > top - next)) {
			log_error("--initrd %s: the module's %zu bytes at 0x%llx do not fit in RAM below "
				  "0x%llx (--mem %llu MiB)", name, f.size, (unsigned long long)next,
				  (unsigned long long)top, (unsigned long long)(vm->mem.size >> 20));
			r = -EFBIG;
		}
		if (r == 0) {
			guest_mem_write(&vm->mem, next, f.data, f.size);
			mods[i].start = (uint32_t)next;
			mods[i].end = (uint32_t)(next + f.size);
			next = page_up(next + f.size);
		}
		image_file_free(&f);
		free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The parts of a Multiboot boot that are not loaded from the image: the
 * command line "KERNEL ARGS" (the --kernel argument as given, then --append,
 * as GRUB and QEMU pass it: the kernel's argv[0]) and the module list. */
struct mb_extra {
	char *cmdline;
	char *mod_buf;
	const char *mod_str[MULTIBOOT_MAX_MODULES];
	struct multiboot_module mods[MULTIBOOT_MAX_MODULES];
	unsigned nmods;
};

static int mb_extra_init(const struct vm_config *cfg, struct mb_extra *x)
{
	memset(x, 0, sizeof(*x));
	size_t len = strlen(cfg->kernel) + (cfg->append ? 1 + strlen(cfg->append) : 0) + 1;
	x->cmdline = malloc(len);
	x->mod_buf = cfg->initrd ? malloc(strlen(cfg->initrd) + 1) : NULL;
	if (!x->cmdline || (cfg->initrd && !x->mod_buf)) {
		log_error("--kernel %s: out of memory for the command line", cfg->kernel);
		return -ENOMEM;
	}
	snprintf(x->cmdline, len, "%s%s%s", cfg->kernel, cfg->append ? " " : "",
		 cfg->append ? cfg->append : "");
	if (!cfg->initrd)
		return 0;
	const char *why = NULL;
	int n = multiboot_split_modules(cfg->initrd, x->mod_buf, strlen(cfg->initrd) + 1, x->mod_str,
					MULTIBOOT_MAX_MODULES, &why);
	if (n < 0) {
		log_error("--initrd %s: %s (a Multiboot module list is FILE[ ARGS][,FILE[ ARGS]]..., "
			  "\",,\" for a comma; at most %u)", cfg->initrd, why, MULTIBOOT_MAX_MODULES);
		return n;
	}
	x->nmods = (unsigned)n;
	for (unsigned i = 0; i < x->nmods; i++)
		x->mods[i].string = x->mod_str[i];
	return 0;
}

static void mb_extra_free(struct mb_extra *x)
{
	free(x->cmdline);
	free(x->mod_buf);
}

/* Multiboot 0.6.96 §3: load by the a.out address fields (flag 16) or by the
 * ELF program headers, then the modules, build the information structure in
 * vmon's boot area and enter in 32-bit protected mode with EAX = 0x2BADB002,
 * EBX = its address (§3.2). */
static int boot_multiboot_with(struct vm *vm, const char *path, const struct image_file *img,
			       const struct multiboot_header *hdr, struct mb_extra *x)
{
	struct multiboot_params mp = { .ram_size = vm->mem.size, .cmdline = x->cmdline,
				       .mods = x->mods, .nmods = x->nmods };
	size_t area_size = BOOT_MB_INFO_END - BOOT_MB_INFO_ADDR, need = multiboot_info_size(&mp);
	if (need > area_size) {
		log_error("--kernel %s: the Multiboot command line and module strings need %zu bytes "
			  "of information; vmon's area holds %zu", path, need, area_size);
		return -E2BIG;
	}

	struct elf_image elf = { .nsegs = 0 };
	const char *why = NULL;
	uint64_t entry = 0;
	int r;
	if (hdr->flags & MULTIBOOT_FLAG_AOUT_KLUDGE) {
		r = multiboot_aout_segment(hdr, img->size, &elf.seg[0], &entry, &why);
		elf.nsegs = 1;
	} else if (elf_has_magic(img->data, img->size)) {
		r = elf_parse(img->data, img->size, &elf, &why);
		entry = elf.entry;
	} else {
		why = "Multiboot header without address fields (flag 16) in an image that is not ELF";
		r = -EINVAL;
	}
	if (r < 0) {
		log_error("--kernel %s: %s", path, why);
		return r;
	}
	uint64_t base = 0;
	r = load_segments(vm, path, img, elf.seg, elf.nsegs,
			  !(hdr->flags & MULTIBOOT_FLAG_AOUT_KLUDGE), &base);
	if (r == 0)
		r = load_modules(vm, elf.seg, elf.nsegs, x->mods, x->nmods);
	if (r == 0)
		r = enter_mode(vm, path, BOOT_MODE_PROT32, entry, base);
	if (r < 0)
		return r;

	uint64_t info = base + BOOT_MB_INFO_ADDR;
	uint8_t *area = guest_mem_ptr(&vm->mem, info, area_size);
	if (!area) {
		log_error("--kernel %s: guest RAM does not hold the Multiboot information area", path);
		return -EFAULT;
	}
	r = multiboot_info_build(area, area_size, (uint32_t)info, &mp, &why);
	if (r < 0) {
		log_error("--kernel %s: %s", path, why);
		return r;
	}
	vm->boot_state.gpr[RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	vm->boot_state.gpr[RBX] = info;
	return 0;
}

static int boot_multiboot(struct vm *vm, const char *path, const struct image_file *img,
			  const struct multiboot_header *hdr)
{
	struct mb_extra *x = malloc(sizeof(*x));
	if (!x) {
		log_error("--kernel %s: out of memory", path);
		return -ENOMEM;
	}
	int r = mb_extra_init(vm->cfg, x);
	if (r == 0)
		r = boot_multiboot_with(vm, path, img, hdr, x);
	mb_extra_free(x);
	free(x);
	return r;
}

int kernel_load(struct vm *vm)
{
	const char *path = vm->cfg->kernel;
	struct image_file img;
	int r = image_file_read("--kernel", path, vm->mem.size, &img);
	if (r < 0)
		return r;

	struct multiboot_header mb;
	const char *why = NULL;
	int found = is_bzimage(&img) ? 0 : multiboot_find(img.data, img.size, &mb, &why);
	if (is_bzimage(&img)) {
		r = linux_load(vm, &img);
		vm->boot_linux = r == 0;
	} else if (found < 0) {
		log_error("--kernel %s: %s", path, why);
		r = found;
	} else if (found) {
		r = boot_multiboot(vm, path, &img, &mb);
	} else if (elf_has_magic(img.data, img.size)) {
		r = boot_elf(vm, path, &img);
	} else {
		log_error("--kernel %s: not an ELF, Multiboot or bzImage image", path);
		r = -ENOEXEC;
	}
	image_file_free(&img);
	/* Every --kernel boot gets the BIOS data area (boot/bda.h); segments
	 * were kept off it above, and the Linux loader places nothing there. */
	if (r == 0 && (r = bda_install(&vm->mem)) < 0)
		log_error("--kernel %s: guest RAM does not hold the BIOS data area", path);
	return r;
}
