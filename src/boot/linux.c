/* Linux x86 boot protocol 2.02+ with the 32-bit or 64-bit entry
 * (Documentation/arch/x86/boot.rst and zero-page.rst). */
#include "boot/linux.h"

#include <errno.h>
#include <string.h>

#include "boot/e820.h"
#include "boot/image_file.h"
#include "boot/layout.h"
#include "boot/x86_setup.h"
#include "util/log.h"
#include "vm.h"

/* Offsets in the file and in boot_params (boot.rst, "The real-mode kernel
 * header"; zero-page.rst). */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_SYSSIZE         0x1f4
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_HEAP_END_PTR    0x224
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGN    0x230
#define HDR_RELOCATABLE     0x234
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define BP_E820_MAX         128
#define BP_HDR_END          0x290 /* the zero page's setup-header area ends here */

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

/* The setup-header field each protocol version adds that vmon reads, and
 * where it ends: a header (0x202 + the byte at 0x201) must reach it. */
static const struct {
	uint16_t version;
	size_t end;
} hdr_fields[] = {
	{ 0x20a, HDR_INIT_SIZE + 4 },       /* pref_address, init_size */
	{ 0x206, HDR_CMDLINE_SIZE + 4 },    /* cmdline_size */
	{ 0x205, HDR_RELOCATABLE + 1 },     /* kernel_alignment, relocatable_kernel */
	{ 0x203, HDR_INITRD_ADDR_MAX + 4 }, /* initrd_addr_max */
	{ 0x202, HDR_CMD_LINE_PTR + 4 },    /* cmd_line_ptr */
};

int linux_parse(const uint8_t *img, size_t len, struct linux_image *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (len < HDR_VERSION + 2) {
		*why = "file too short for a setup header";
		return -EINVAL;
	}
	if (memcmp(img + HDR_MAGIC, "HdrS", 4) != 0) {
		*why = "no \"HdrS\" setup-header signature at 0x202";
		return -EINVAL;
	}
	if (rd16(img + HDR_BOOT_FLAG) != 0xaa55) {
		*why = "boot flag at 0x1fe is not 0xAA55";
		return -EINVAL;
	}
	/* Kept on every later failure, so that the caller can name it. */
	out->version = rd16(img + HDR_VERSION);
	if (out->version < LINUX_MIN_PROTOCOL) {
		/* 2.00/2.01 pass the command line through the real-mode kernel's
		 * segment (cmd_line_magic), which only the real-mode entry reads. */
		*why = "no cmd_line_ptr (protocol 2.02+), the only command line the 32- and 64-bit entries read";
		return -EINVAL;
	}
	out->header_end = HDR_MAGIC + img[HDR_JUMP + 1];
	size_t needed = 0;
	for (unsigned i = 0; i < sizeof(hdr_fields) / sizeof(hdr_fields[0]) && !needed; i++)
		if (out->version >= hdr_fields[i].version)
			needed = hdr_fields[i].end;
	if (out->header_end > len) {
		*why = "file is truncated inside the setup header";
		return -EINVAL;
	}
	/* The header goes to boot_params at the same offsets, up to the
	 * zero page's next field (zero-page.rst: edd_mbr_sig_buffer, 0x290). */
	if (out->header_end < needed || out->header_end > BP_HDR_END) {
		*why = "setup header length (0x202 + the byte at 0x201) out of range for its protocol version";
		return -EINVAL;
	}
	out->setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	out->loadflags = img[HDR_LOADFLAGS];
	if (!(out->loadflags & LOADFLAG_LOADED_HIGH)) {
		*why = "not a high-loaded (bzImage) kernel: a zImage loads at 0x10000, inside vmon's boot area";
		return -EINVAL;
	}
	out->pm_offset = ((size_t)out->setup_sects + 1) * 512;
	if (out->pm_offset >= len) {
		*why = "file is truncated (no protected-mode kernel after the setup sectors)";
		return -EINVAL;
	}
	/* Boot loaders load the rest of the file. syssize (paragraphs) is 32
	 * bits from 2.04 and checked against it, rounded up to the paragraph:
	 * memtest86+ 6.10's syssize ends up to 15 bytes past the file. Before
	 * 2.04 it is 16 bits, which boot.rst says cannot be trusted. */
	out->pm_size = len - out->pm_offset;
	out->pm_mem_size = out->pm_size;
	if (out->version >= 0x204) {
		uint64_t syssize = (uint64_t)rd32(img + HDR_SYSSIZE) * 16;
		if (syssize == 0 || syssize > (uint64_t)out->pm_size + 15) {
			*why = "file is truncated (shorter than setup + syssize)";
			return -EINVAL;
		}
		if (syssize > out->pm_mem_size)
			out->pm_mem_size = syssize;
	}
	out->cmdline_size = out->version >= 0x206 ? rd32(img + HDR_CMDLINE_SIZE) : 255;
	out->initrd_addr_max = out->version >= 0x203 ? rd32(img + HDR_INITRD_ADDR_MAX) : 0x37ffffff;
	if (out->version >= 0x205) {
		out->kernel_alignment = rd32(img + HDR_KERNEL_ALIGN);
		out->relocatable = img[HDR_RELOCATABLE] != 0;
	}
	out->xloadflags = out->version >= 0x20c ? rd16(img + HDR_XLOADFLAGS) : 0;
	out->pref_address = out->version >= 0x20a ? rd64(img + HDR_PREF_ADDRESS) : 0x100000;
	out->init_size = out->version >= 0x20a ? rd32(img + HDR_INIT_SIZE) : 0;
	if (out->init_size < out->pm_mem_size)
		out->init_size = out->pm_mem_size;
	/* Only a kernel vmon may move needs an alignment. */
	if (out->relocatable &&
	    (out->kernel_alignment == 0 || (out->kernel_alignment & (out->kernel_alignment - 1)))) {
		*why = "kernel_alignment is not a power of two";
		return -EINVAL;
	}
	return 0;
}

bool linux_use_entry64(const struct linux_image *li, bool boot32)
{
	return !boot32 && (li->xloadflags & LINUX_XLF_KERNEL_64);
}

int linux_place(const struct linux_image *li, uint64_t low_ram_top, uint64_t initrd_size,
		struct linux_layout *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	uint64_t addr = li->pref_address;
	/* [addr, addr + init_size) must lie in [1 MiB, low_ram_top); written
	 * without the sum, which a hostile pref_address would wrap. */
	if (addr < 0x100000 || addr > low_ram_top || li->init_size > low_ram_top - addr) {
		if (!li->relocatable) {
			*why = "the kernel must load at its preferred address, which does not fit in RAM";
			return -ENOMEM;
		}
		/* The lowest aligned address at or above 1 MiB. */
		addr = (0x100000 + li->kernel_alignment - 1) & ~((uint64_t)li->kernel_alignment - 1);
	}
	if (addr > low_ram_top || li->init_size > low_ram_top - addr) {
		*why = "guest RAM is too small for this kernel (it needs init_size bytes above its load address)";
		return -ENOMEM;
	}
	out->kernel_addr = addr;
	if (initrd_size) {
		uint64_t top = low_ram_top;
		if ((uint64_t)li->initrd_addr_max + 1 < top)
			top = (uint64_t)li->initrd_addr_max + 1;
		uint64_t floor = addr + li->init_size;
		if (initrd_size > top || ((top - initrd_size) & ~0xfffULL) < floor) {
			*why = "the initrd does not fit in RAM between the kernel and initrd_addr_max";
			return -ENOMEM;
		}
		out->initrd_addr = (top - initrd_size) & ~0xfffULL;
		out->initrd_size = initrd_size;
	}
	return 0;
}

void linux_build_boot_params(uint8_t *bp, const uint8_t *img, const struct linux_image *li,
			     const struct linux_layout *lay, uint64_t cmdline_addr, uint64_t ram_size,
			     uint64_t rsdp_addr)
{
	memset(bp, 0, 4096);
	memcpy(bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, li->header_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff; /* "undefined" boot loader id */
	bp[HDR_LOADFLAGS] = (uint8_t)(li->loadflags | LOADFLAG_CAN_USE_HEAP);
	wr16(bp + HDR_HEAP_END_PTR, 0xfe00 - 0x200);
	/* boot.rst, code32_start: a loader that moves a relocatable kernel
	 * points it at the load address; the 32-bit entry jumps there. */
	wr32(bp + HDR_CODE32_START, (uint32_t)lay->kernel_addr);
	wr32(bp + HDR_CMD_LINE_PTR, (uint32_t)cmdline_addr);
	wr32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline_addr >> 32));
	wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)lay->initrd_addr);
	wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)lay->initrd_size);
	wr32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(lay->initrd_addr >> 32));
	wr32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(lay->initrd_size >> 32));
	if (rsdp_addr && li->version >= 0x20e)
		wr64(bp + BP_ACPI_RSDP_ADDR, rsdp_addr);

	bp[BP_E820_ENTRIES] = (uint8_t)e820_build_packed(ram_size, bp + BP_E820_TABLE, BP_E820_MAX);
}

int linux_load(struct vm *vm, const struct image_file *img)
{
	const struct vm_config *cfg = vm->cfg;
	const char *path = cfg->kernel, *why = NULL;
	struct linux_image li;
	int r = linux_parse(img->data, img->size, &li, &why);
	if (r < 0) {
		if (li.version)
			log_error("--kernel %s: bzImage protocol %u.%02u: %s", path, li.version >> 8,
				  li.version & 0xff, why);
		else
			log_error("--kernel %s: bzImage: %s", path, why);
		return r;
	}
	const char *cmdline = cfg->append ? cfg->append : "";
	size_t cmdlen = strlen(cmdline);
	uint32_t cmdmax = li.cmdline_size < BOOT_LINUX_CMDLINE_MAX - 1 ? li.cmdline_size : BOOT_LINUX_CMDLINE_MAX - 1;
	if (cmdlen > cmdmax) {
		log_error("--append: the command line is %zu bytes; this kernel takes at most %u", cmdlen, cmdmax);
		return -E2BIG;
	}

	struct image_file initrd = { 0 };
	if (cfg->initrd) {
		r = image_file_read("--initrd", cfg->initrd, vm->mem.size, &initrd);
		if (r < 0)
			return r;
	}
	/* The kernel and initrd go below the 3 GiB hole (initrd_addr_max is
	 * below 4 GiB anyway). */
	uint64_t low_top = vm->mem.region[0].size;
	struct linux_layout lay;
	r = linux_place(&li, low_top, initrd.size, &lay, &why);
	if (r < 0) {
		log_error("%s %s: %s (--mem %llu MiB)", initrd.size && strstr(why, "initrd") ? "--initrd" : "--kernel",
			  initrd.size && strstr(why, "initrd") ? cfg->initrd : path, why,
			  (unsigned long long)(vm->mem.size >> 20));
		image_file_free(&initrd);
		return r;
	}
	/* linux_place checked [kernel_addr, + init_size), which holds pm_mem_size. */
	uint8_t *kernel = guest_mem_ptr(&vm->mem, lay.kernel_addr, li.pm_mem_size);
	if (!kernel) {
		log_error("--kernel %s: the kernel's %llu bytes at 0x%llx are not in guest RAM", path,
			  (unsigned long long)li.pm_mem_size, (unsigned long long)lay.kernel_addr);
		return -EFAULT;
	}
	memcpy(kernel, img->data + li.pm_offset, li.pm_size);
	memset(kernel + li.pm_size, 0, li.pm_mem_size - li.pm_size);
	if (initrd.size)
		guest_mem_write(&vm->mem, lay.initrd_addr, initrd.data, initrd.size);
	image_file_free(&initrd);
	guest_mem_write(&vm->mem, BOOT_LINUX_CMDLINE, cmdline, cmdlen + 1);

	uint8_t *bp = guest_mem_ptr(&vm->mem, BOOT_LINUX_PARAMS, 4096);
	if (!bp) {
		log_error("--kernel %s: guest RAM does not hold boot_params at 0x%llx", path,
			  (unsigned long long)BOOT_LINUX_PARAMS);
		return -EFAULT;
	}
	linux_build_boot_params(bp, img->data, &li, &lay, BOOT_LINUX_CMDLINE, vm->mem.size, vm->acpi_rsdp);
	bool entry64 = linux_use_entry64(&li, cfg->boot32);
	if (entry64)
		r = x86_setup_linux64(&vm->mem, lay.kernel_addr + 0x200, BOOT_LINUX_PARAMS, &vm->boot_state, &why);
	else
		r = x86_setup_linux32(&vm->mem, lay.kernel_addr, BOOT_LINUX_PARAMS, &vm->boot_state, &why);
	if (r < 0) {
		log_error("--kernel %s: %s", path, why);
		return r;
	}
	log_info("linux: protocol %u.%02u, %d-bit entry, kernel at 0x%llx (init_size %llu KiB), initrd at 0x%llx "
		 "(%llu bytes)", li.version >> 8, li.version & 0xff, entry64 ? 64 : 32,
		 (unsigned long long)lay.kernel_addr, (unsigned long long)(li.init_size >> 10),
		 (unsigned long long)lay.initrd_addr, (unsigned long long)lay.initrd_size);
	return 0;
}
