/* The Linux boot protocol: setup-header checks, placement, the zero page. */
#include <errno.h>
#include <stdlib.h>

#include "boot/linux.h"
#include "unit.h"

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
		{ 0x202, 'X', "HdrS" }, { 0x1fe, 0x00, "0xAA55" }, { 0x206, 0x05, "older than 2.06" },
		{ 0x236, 0x00, "64-bit entry" }, { 0x211, 0x00, "high-loaded" }, { 0x1f4 + 2, 0x10, "truncated" },
		{ 0x230 + 2, 0x30, "power of two" },
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
	/* Every truncation of a valid image is refused, never read past. */
	make_image();
	for (size_t n = 0; n < LEN; n += (n < 0x1000 ? 1 : 0x100)) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		CHECK_EQ(linux_parse(copy, n, &li, &why), -EINVAL);
		free(copy);
	}

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
	li.relocatable = true;

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
	CHECK_EQ(bp[0x1e8], 4);                  /* e820: low, hole, RAM, MMIO hole */
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2), 0x100000);
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2 + 8), (256 << 20) - 0x100000);
	CHECK_EQ(r32(bp, 0x2d0 + 20 * 2 + 16), 1);
	CHECK_EQ(bp[0x26c], 0);                  /* nothing copied past the header */
	return unit_report("linux");
}
