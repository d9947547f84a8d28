/* The Linux boot protocol: setup-header checks, placement, the zero page. */
#include <errno.h>
#include <stdlib.h>

#include "boot/image_file.h"
#include "boot/layout.h"
#include "boot/linux.h"
#include "unit.h"
#include "unit_vm.h"

#define LEN 0x10000
static uint8_t img[LEN];

static void w16(size_t o, uint16_t v) { img[o] = (uint8_t)v; img[o + 1] = (uint8_t)(v >> 8); }
static void w32(size_t o, uint32_t v) { w16(o, (uint16_t)v); w16(o + 2, (uint16_t)(v >> 16)); }
static void w64(size_t o, uint64_t v) { w32(o, (uint32_t)v); w32(o + 4, (uint32_t)(v >> 32)); }
static uint32_t r32(const uint8_t *p, size_t o) { return (uint32_t)(p[o] | p[o + 1] << 8 | p[o + 2] << 16 | (uint32_t)p[o + 3] << 24); }

static void make_image(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 4;                        /* setup_sects: pm kernel at 0xa00 */
	w32(0x1f4, (LEN - 0xa00) / 16);        /* syssize */
	w16(0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;                     /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	w16(0x206, 0x20f);
	img[0x211] = 0x01;                     /* LOADED_HIGH */
	w32(0x22c, 0x7fffffff);                /* initrd_addr_max */
	w32(0x230, 0x200000);                  /* kernel_alignment */
	img[0x234] = 1;                        /* relocatable */
	w16(0x236, 0x7f);                      /* xloadflags */
	w32(0x238, 2047);                      /* cmdline_size */
	w64(0x258, 0x1000000);                 /* pref_address */
	w32(0x260, 0x3000000);                 /* init_size: 48 MiB */
	img[0xa00] = 0xcc;
}

/* The image at protocol `version` with its header ending at `end`. */
static void make_version(uint16_t version, size_t end)
{
	make_image();
	w16(0x206, version);
	img[0x201] = (uint8_t)(end - 0x202);
}

/* The image at `version`, `end`, parsed: it must be taken. */
static void parse_version(uint16_t version, size_t end, struct linux_image *li)
{
	const char *why = NULL;
	make_version(version, end);
	CHECK_EQ(linux_parse(img, LEN, li, &why), 0);
}

/* Protocol versions 2.02 to 2.14: each field is read from the version that
 * has it, and its boot.rst default is used before; a header shorter than
 * its version's last field is refused. */
static void test_versions(void)
{
	struct linux_image li;
	const char *why = NULL;
	make_version(0x201, 0x228);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);
	CHECK(strstr(why, "no cmd_line_ptr") != NULL);
	CHECK_EQ(li.version, 0x201); /* kept for the caller's message */

	/* Each version's header must reach its last field: one byte short is
	 * refused (a header ending at 0x202 + the byte at 0x201). */
	static const struct { uint16_t version; size_t end; } floor[] = {
		{ 0x202, 0x22c }, { 0x203, 0x230 }, { 0x205, 0x235 }, { 0x206, 0x23c }, { 0x20a, 0x264 },
	};
	for (unsigned i = 0; i < sizeof(floor) / sizeof(floor[0]); i++) {
		make_version(floor[i].version, floor[i].end);
		CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
		make_version(floor[i].version, floor[i].end - 1);
		CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);
		CHECK(strstr(why, "header length") != NULL);
	}

	/* 2.02: cmd_line_ptr; nothing else vmon reads. */
	parse_version(0x202, 0x22c, &li);
	CHECK_EQ(li.initrd_addr_max, 0x37ffffff);
	CHECK(!li.relocatable);
	CHECK_EQ(li.cmdline_size, 255);
	CHECK_EQ(li.pref_address, 0x100000);
	CHECK_EQ(li.init_size, LEN - 0xa00);
	CHECK_EQ(li.xloadflags, 0);
	CHECK(!linux_use_entry64(&li, false));

	/* 2.03: initrd_addr_max. */
	parse_version(0x203, 0x230, &li);
	CHECK_EQ(li.initrd_addr_max, 0x7fffffff);

	/* 2.04: syssize is 32 bits and checked; before, 16 bits and not
	 * trusted (boot.rst), so the file's length counts. */
	make_version(0x203, 0x230);
	w16(0x1f4, 0xffff);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	CHECK_EQ(li.pm_mem_size, LEN - 0xa00);
	make_version(0x204, 0x230);
	w16(0x1f4, 0xffff);
	w16(0x1f6, 0);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);
	CHECK(strstr(why, "truncated") != NULL);
	parse_version(0x204, 0x230, &li);
	CHECK(!li.relocatable);

	/* 2.05: relocatable_kernel and kernel_alignment (checked only when
	 * relocatable: the alignment of a kernel vmon does not move is moot). */
	parse_version(0x205, 0x235, &li);
	CHECK(li.relocatable);
	CHECK_EQ(li.kernel_alignment, 0x200000);
	CHECK_EQ(li.cmdline_size, 255);
	make_version(0x205, 0x235);
	img[0x234] = 0;
	w32(0x230, 0x3000);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);

	/* 2.06: cmdline_size. */
	parse_version(0x206, 0x23c, &li);
	CHECK_EQ(li.cmdline_size, 2047);
	CHECK_EQ(li.pref_address, 0x100000);

	/* 2.10: pref_address and init_size. */
	parse_version(0x209, 0x23c, &li);
	CHECK_EQ(li.pref_address, 0x100000);
	CHECK_EQ(li.init_size, LEN - 0xa00);
	parse_version(0x20a, 0x264, &li);
	CHECK_EQ(li.pref_address, 0x1000000);
	CHECK_EQ(li.init_size, 0x3000000);
	/* init_size smaller than the kernel: the kernel's size counts. */
	make_version(0x20a, 0x264);
	w32(0x260, 0x100);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	CHECK_EQ(li.init_size, LEN - 0xa00);

	/* 2.12: xloadflags, and with XLF_KERNEL_64 the 64-bit entry unless
	 * --boot32 asks for the 32-bit one. */
	parse_version(0x20b, 0x264, &li);
	CHECK_EQ(li.xloadflags, 0);
	CHECK(!linux_use_entry64(&li, false));
	parse_version(0x20c, 0x264, &li);
	CHECK_EQ(li.xloadflags, 0x7f);
	CHECK(linux_use_entry64(&li, false));
	CHECK(!linux_use_entry64(&li, true));
	w16(0x236, 0x7e);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	CHECK(!linux_use_entry64(&li, false));

	/* 2.14: acpi_rsdp_addr in the zero page, not before. */
	static uint8_t bp[4096];
	struct linux_layout lay = { .kernel_addr = 0x100000 };
	parse_version(0x20d, 0x264, &li);
	linux_build_boot_params(bp, img, &li, &lay, 0xa000, 64ULL << 20, 0xe0000);
	CHECK_EQ(r32(bp, 0x070), 0);
	parse_version(0x20e, 0x264, &li);
	linux_build_boot_params(bp, img, &li, &lay, 0xa000, 64ULL << 20, 0xe0000);
	CHECK_EQ(r32(bp, 0x070), 0xe0000);
	CHECK_EQ(r32(bp, 0x228), 0xa000);
	/* The header as long as the zero page allows is copied, no further. */
	make_version(0x20f, 0x290);
	memset(img + 0x26c, 0x5a, 0x290 - 0x26c);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	linux_build_boot_params(bp, img, &li, &lay, 0xa000, 64ULL << 20, 0xe0000);
	CHECK_EQ(bp[0x28f], 0x5a);
	CHECK_EQ(bp[0x290], 0);
	make_version(0x20f, 0x291);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);
}

/* linux_load into guest RAM: the kernel's bytes, the zeroed rest of
 * syssize, code32_start, and the entry state of each protocol. */
static void test_load(void)
{
	struct vm vm = { 0 };
	struct vm_config cfg;
	vm_config_defaults(&cfg);
	cfg.kernel = "test.bzImage";
	vm.cfg = &cfg;
	CHECK_EQ(unit_vm_init(&vm, 128ULL << 20), 0);
	make_image();
	for (size_t i = 0xa00; i < LEN; i++)
		img[i] = (uint8_t)(i * 7 + 1);
	const size_t file_len = LEN - 9; /* syssize 9 bytes past the end */
	struct image_file f = { .data = img, .size = file_len };
	const uint64_t k = 0x1000000, pm = LEN - 0xa00;
	uint8_t *ram = guest_mem_ptr(&vm.mem, k, pm);
	CHECK(ram != NULL);

	/* 64-bit: long mode at load address + 0x200. */
	memset(ram, 0xee, pm);
	CHECK_EQ(linux_load(&vm, &f), 0);
	CHECK(memcmp(ram, img + 0xa00, pm - 9) == 0);
	for (size_t i = pm - 9; i < pm; i++)
		CHECK_EQ(ram[i], 0);
	const struct x86_state *st = &vm.boot_state;
	CHECK_EQ(st->rip, k + 0x200);
	CHECK_EQ(st->seg[SEG_CS].selector, 0x10);
	CHECK_EQ(st->seg[SEG_CS].l, 1);
	CHECK(st->efer & X86_EFER_LMA);
	CHECK(st->cr0 & X86_CR0_PG);
	CHECK_EQ(st->gpr[RSI], BOOT_LINUX_PARAMS);
	uint8_t *bp = guest_mem_ptr(&vm.mem, BOOT_LINUX_PARAMS, 4096);
	CHECK_EQ(r32(bp, 0x214), k); /* code32_start */

	/* --boot32 on the same kernel, and a kernel without XLF_KERNEL_64:
	 * protected mode without paging at code32_start, the 32-bit protocol's
	 * GDT and registers. */
	for (int round = 0; round < 2; round++) {
		cfg.boot32 = round == 0;
		w16(0x236, round == 0 ? 0x7f : 0x7e);
		memset(&vm.boot_state, 0xff, sizeof(vm.boot_state));
		CHECK_EQ(linux_load(&vm, &f), 0);
		CHECK_EQ(st->rip, k);
		CHECK_EQ(r32(bp, 0x214), k);
		CHECK_EQ(st->seg[SEG_CS].selector, 0x10);
		CHECK_EQ(st->seg[SEG_CS].db, 1);
		CHECK_EQ(st->seg[SEG_CS].l, 0);
		CHECK_EQ(st->seg[SEG_CS].type, 0xb);
		CHECK_EQ(st->seg[SEG_CS].limit, 0xffffffff);
		for (int i = SEG_ES; i <= SEG_GS; i++)
			if (i != SEG_CS)
				CHECK_EQ(st->seg[i].selector, 0x18);
		CHECK_EQ(st->seg[SEG_DS].type, 3);
		CHECK(st->cr0 & X86_CR0_PE);
		CHECK_EQ(st->cr0 & X86_CR0_PG, 0);
		CHECK_EQ(st->efer, 0);
		CHECK_EQ(st->rflags, 0x2);
		CHECK_EQ(st->gpr[RSI], BOOT_LINUX_PARAMS);
		CHECK_EQ(st->gpr[RBX], 0);
		CHECK_EQ(st->gpr[RBP], 0);
		CHECK_EQ(st->gpr[RDI], 0);
		/* The GDT's __BOOT_CS and __BOOT_DS: flat 32-bit code (execute/
		 * read) and data (read/write), SDM vol. 3A §3.4.5. */
		uint64_t gdt[4];
		CHECK_EQ(guest_mem_read(&vm.mem, st->gdt.base, gdt, sizeof(gdt)), 0);
		CHECK(st->gdt.limit >= 0x1f);
		CHECK_EQ(gdt[2], 0x00cf9b000000ffffULL);
		CHECK_EQ(gdt[3], 0x00cf93000000ffffULL);
	}
	cfg.boot32 = false;

	/* A relocated kernel (pref_address does not fit): code32_start follows. */
	w64(0x258, 0x6000000);
	w16(0x236, 0x7e);
	CHECK_EQ(linux_load(&vm, &f), 0);
	CHECK_EQ(r32(bp, 0x214), 0x200000);
	CHECK_EQ(st->rip, 0x200000);
	unit_vm_destroy(&vm);
}

int main(void)
{
	struct linux_image li;
	const char *why = NULL;
	make_image();
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	CHECK_EQ(li.version, 0x20f);
	CHECK_EQ(li.pm_offset, 0xa00);
	CHECK_EQ(li.pm_size, LEN - 0xa00);
	CHECK_EQ(li.header_end, 0x26c);
	CHECK_EQ(li.cmdline_size, 2047);
	CHECK_EQ(li.init_size, 0x3000000);

	/* Each broken header is refused with a reason. */
	struct { size_t off; uint8_t val; const char *needle; } bad[] = {
		{ 0x202, 'X', "HdrS" }, { 0x1fe, 0x00, "0xAA55" }, { 0x206, 0x01, "no cmd_line_ptr" },
		{ 0x211, 0x00, "high-loaded" }, { 0x1f4 + 2, 0x10, "truncated" },
		{ 0x230 + 2, 0x30, "power of two" },
		/* Hostile headers: the setup sectors past the end of the file, a
		 * syssize of 2^32 - 1 paragraphs (64 GiB), a header length past
		 * the zero page's header area or short of its version's fields. */
		{ 0x1f1, 0xff, "truncated" }, { 0x1f4 + 3, 0xff, "truncated" },
		{ 0x201, 0xff, "header length" }, { 0x201, 0x5f, "header length" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_image();
		img[bad[i].off] = bad[i].val;
		why = NULL;
		CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);
		if (!why || !strstr(why, bad[i].needle)) {
			fprintf(stderr, "case %u: '%s' lacks '%s'\n", i, why ? why : "(null)", bad[i].needle);
			CHECK(0);
		}
	}
	/* Every truncation of a valid image by 16 bytes or more is refused,
	 * never read past (each copy is exactly n bytes, for ASan). */
	make_image();
	for (size_t n = 0; n <= LEN - 16; n += (n < 0x1000 || n > LEN - 0x200 ? 1 : 0x100)) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		CHECK_EQ(linux_parse(copy, n, &li, &why), -EINVAL);
		free(copy);
	}
	/* syssize rounded up past the end of the file by less than a paragraph
	 * (memtest86+ 6.10) is taken: the file's bytes are loaded, the rest of
	 * syssize * 16 is memory the kernel owns. */
	for (size_t short_by = 1; short_by < 16; short_by++) {
		uint8_t *copy = malloc(LEN - short_by);
		memcpy(copy, img, LEN - short_by);
		CHECK_EQ(linux_parse(copy, LEN - short_by, &li, &why), 0);
		CHECK_EQ(li.pm_size, LEN - 0xa00 - short_by);
		CHECK_EQ(li.pm_mem_size, LEN - 0xa00);
		free(copy);
	}
	/* A file longer than syssize is loaded whole, as boot loaders do. */
	make_image();
	w32(0x1f4, (LEN - 0xa00) / 16 - 4);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	CHECK_EQ(li.pm_size, LEN - 0xa00);
	CHECK_EQ(li.pm_mem_size, LEN - 0xa00);
	w32(0x1f4, 0);
	CHECK_EQ(linux_parse(img, LEN, &li, &why), -EINVAL);

	/* Placement: preferred address when it fits ... */
	make_image();
	CHECK_EQ(linux_parse(img, LEN, &li, &why), 0);
	struct linux_layout lay;
	CHECK_EQ(linux_place(&li, 256ULL << 20, 0, &lay, &why), 0);
	CHECK_EQ(lay.kernel_addr, 0x1000000);
	/* ... else, relocatable, the lowest aligned address above 1 MiB (64M RAM). */
	CHECK_EQ(linux_place(&li, 60ULL << 20, 0, &lay, &why), 0);
	CHECK_EQ(lay.kernel_addr, 0x200000);
	CHECK_EQ(linux_place(&li, 40ULL << 20, 0, &lay, &why), -ENOMEM);
	/* The initrd goes high, page-aligned, below initrd_addr_max and RAM. */
	CHECK_EQ(linux_place(&li, 256ULL << 20, 1000000, &lay, &why), 0);
	CHECK_EQ(lay.initrd_addr, ((256ULL << 20) - 1000000) & ~0xfffULL);
	CHECK_EQ(linux_place(&li, 3ULL << 30, 4096, &lay, &why), 0);
	CHECK_EQ(lay.initrd_addr, 0x80000000ULL - 4096);
	/* An initrd that would overlap the kernel's init_size is refused. */
	CHECK_EQ(linux_place(&li, 128ULL << 20, 100ULL << 20, &lay, &why), -ENOMEM);
	CHECK(strstr(why, "initrd") != NULL);
	/* A kernel that cannot move does not fit below its preferred address. */
	li.relocatable = false;
	CHECK_EQ(linux_place(&li, 60ULL << 20, 0, &lay, &why), -ENOMEM);
	/* A preferred address whose end wraps past 2^64 is not "in RAM": a
	 * fixed kernel is refused, a relocatable one moves to 1 MiB up. */
	uint64_t pref = li.pref_address;
	li.pref_address = 0ULL - li.init_size;
	CHECK_EQ(linux_place(&li, 256ULL << 20, 0, &lay, &why), -ENOMEM);
	li.relocatable = true;
	CHECK_EQ(linux_place(&li, 256ULL << 20, 0, &lay, &why), 0);
	CHECK_EQ(lay.kernel_addr, 0x200000); /* kernel_alignment 2 MiB */
	li.pref_address = pref;

	/* The zero page. */
	static uint8_t bp[4096];
	CHECK_EQ(linux_place(&li, 256ULL << 20, 8192, &lay, &why), 0);
	linux_build_boot_params(bp, img, &li, &lay, 0xa000, 256ULL << 20, 0xe0000);
	CHECK(memcmp(bp + 0x202, "HdrS", 4) == 0);
	CHECK_EQ(bp[0x210], 0xff);               /* type_of_loader */
	CHECK_EQ(bp[0x211], 0x81);               /* LOADED_HIGH | CAN_USE_HEAP */
	CHECK_EQ(r32(bp, 0x228), 0xa000);        /* cmd_line_ptr */
	CHECK_EQ(r32(bp, 0x218), lay.initrd_addr);
	CHECK_EQ(r32(bp, 0x21c), 8192);
	CHECK_EQ(r32(bp, 0x070), 0xe0000);       /* acpi_rsdp_addr */
	CHECK_EQ(bp[0x1e8], 5);                  /* e820: low, hole, RAM, ECAM, IOAPIC..4G */
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2), 0x100000);
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2 + 8), (256 << 20) - 0x100000);
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2 + 16), 1);
	CHECK_EQ(bp[0x26c], 0);                  /* nothing copied past the header */
	test_versions();
	test_load();
	return unit_report("linux");
}
