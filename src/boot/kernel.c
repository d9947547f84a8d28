/* --kernel: reads the image, tells its format by content and loads it.
 * Order: a Linux bzImage ("HdrS" at 0x202, boot/linux.c), then a Multiboot
 * header (a Multiboot kernel is usually also an ELF file), then the ELF
 * magic. */
#include "boot/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* Every segment must lie in RAM and above vmon's own structures; all are
 * checked before anything is copied. The parsers guarantee the file ranges
 * and that paddr + memsz does not wrap. */
static int load_segments(struct vm *vm, const char *path, const struct image_file *img,
			 const struct elf_segment *seg, unsigned n, bool from_elf)
{
	for (unsigned i = 0; i < n; i++) {
		const struct elf_segment *s = &seg[i];
		char what[64];
		if (from_elf)
			snprintf(what, sizeof(what), "ELF program header %u", s->index);
		else
			snprintf(what, sizeof(what), "the Multiboot load range");
		unsigned long long start = s->paddr, end = s->paddr + s->memsz;
		if (s->paddr < BOOT_RESERVED_END) {
			log_error("--kernel %s: %s at [0x%llx, 0x%llx) overlaps vmon's boot "
				  "structures below 0x%llx", path, what, start, end,
				  (unsigned long long)BOOT_RESERVED_END);
			return -EINVAL;
		}
		if (!guest_mem_ptr(&vm->mem, s->paddr, s->memsz)) {
			char ram[96];
			describe_ram(&vm->mem, ram, sizeof(ram));
			log_error("--kernel %s: %s at [0x%llx, 0x%llx) is not in guest RAM (%s)",
				  path, what, start, end, ram);
			return -EFBIG;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const struct elf_segment *s = &seg[i];
		uint8_t *dst = guest_mem_ptr(&vm->mem, s->paddr, s->memsz);
		if (s->filesz > 0)
			memcpy(dst, img->data + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

static int enter_mode(struct vm *vm, const char *path, enum boot_mode mode, uint64_t entry)
{
	const char *why = NULL;
	int r = x86_setup_mode(&vm->mem, mode, entry, &vm->boot_state, &why);
	if (r < 0)
		log_error("--kernel %s: %s (entry 0x%llx)", path, why, (unsigned long long)entry);
	return r;
}

static int refuse_initrd(const struct vm_config *cfg, const char *kind)
{
	if (!cfg->initrd)
		return 0;
	log_error("--initrd %s: only a Linux bzImage takes an initrd, and --kernel %s is %s",
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
	r = load_segments(vm, path, img, elf.seg, elf.nsegs, true);
	if (r == 0)
		r = enter_mode(vm, path, elf.elf_class == 64 ? BOOT_MODE_LONG64 : BOOT_MODE_PROT32,
			       elf.entry);
	/* Warned only on success, so that an error stays the one line on stderr. */
	if (r == 0 && vm->cfg->append)
		log_warn("--append: ignored, a plain ELF kernel has no command line "
			 "(only Multiboot and Linux images do)");
	return r;
}

/* Multiboot 0.6.96 §3: load by the a.out address fields (flag 16) or by the
 * ELF program headers, build the information structure at BOOT_INFO_ADDR and
 * enter in 32-bit protected mode with EAX = 0x2BADB002, EBX = its address
 * (§3.2). */
static int boot_multiboot(struct vm *vm, const char *path, const struct image_file *img,
			  const struct multiboot_header *hdr)
{
	const struct vm_config *cfg = vm->cfg;
	int r = refuse_initrd(cfg, "a Multiboot image");
	if (r < 0)
		return r;

	size_t area_size = BOOT_INFO_END - BOOT_INFO_ADDR;
	size_t cmd_max = multiboot_cmdline_max(area_size);
	if (cfg->append && strlen(cfg->append) > cmd_max) {
		log_error("--append: the command line is %zu bytes; a Multiboot boot takes at most %zu",
			  strlen(cfg->append), cmd_max);
		return -E2BIG;
	}

	struct elf_image elf = { .nsegs = 0 };
	const char *why = NULL;
	uint64_t entry = 0;
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
	r = load_segments(vm, path, img, elf.seg, elf.nsegs,
			  !(hdr->flags & MULTIBOOT_FLAG_AOUT_KLUDGE));
	if (r == 0)
		r = enter_mode(vm, path, BOOT_MODE_PROT32, entry);
	if (r < 0)
		return r;

	uint8_t *area = guest_mem_ptr(&vm->mem, BOOT_INFO_ADDR, area_size);
	if (!area) {
		log_error("--kernel %s: guest RAM does not hold the Multiboot information area", path);
		return -EFAULT;
	}
	r = multiboot_info_build(area, area_size, (uint32_t)BOOT_INFO_ADDR, vm->mem.size,
				 cfg->append, &why);
	if (r < 0) {
		log_error("--kernel %s: %s", path, why);
		return r;
	}
	vm->boot_state.gpr[RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	vm->boot_state.gpr[RBX] = BOOT_INFO_ADDR;
	return 0;
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
	return r;
}
