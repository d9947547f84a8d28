/* Multiboot v1: the header search, the a.out-kludge address fields and the
 * bytes of the information structure. */
#include <errno.h>
#include <stdlib.h>

#include "boot/e820.h"
#include "boot/multiboot.h"
#include "unit.h"

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#define BUF 16384
static uint8_t buf[BUF];

/* A header at off: magic, flags, checksum (+ address fields when given). */
static void put_header(size_t off, uint32_t flags, const uint32_t *addr)
{
	wr32(buf + off, MULTIBOOT_HEADER_MAGIC);
	wr32(buf + off + 4, flags);
	wr32(buf + off + 8, 0u - (MULTIBOOT_HEADER_MAGIC + flags));
	for (int i = 0; addr && i < 5; i++)
		wr32(buf + off + 12 + 4 * i, addr[i]);
}

/* multiboot_find on the first len bytes, from an exact-size heap copy. */
static int find(size_t len, struct multiboot_header *h, const char **why)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	*why = NULL;
	int r = multiboot_find(copy, len, h, why);
	free(copy);
	return r;
}

static void test_find(void)
{
	struct multiboot_header h;
	const char *why;

	memset(buf, 0, BUF);
	CHECK_EQ(find(BUF, &h, &why), 0);
	put_header(0x40, MULTIBOOT_FLAG_PAGE_ALIGN | MULTIBOOT_FLAG_MEMORY_INFO, NULL);
	CHECK_EQ(find(BUF, &h, &why), 1);
	CHECK_EQ(h.offset, 0x40);
	CHECK_EQ(h.flags, 3);
	CHECK_EQ(find(0x4c, &h, &why), 1);  /* ends exactly at EOF */
	for (size_t len = 0; len < 0x4c; len++)
		CHECK_EQ(find(len, &h, &why), 0);

	/* Misaligned: not a header. */
	memset(buf, 0, BUF);
	put_header(0x42, 0, NULL);
	CHECK_EQ(find(BUF, &h, &why), 0);

	/* A bad checksum is passed over; a later good header is found. */
	memset(buf, 0, BUF);
	put_header(0x20, 0, NULL);
	wr32(buf + 0x28, rd32(buf + 0x28) + 1);
	CHECK_EQ(find(BUF, &h, &why), 0);
	put_header(0x100, 2, NULL);
	CHECK_EQ(find(BUF, &h, &why), 1);
	CHECK_EQ(h.offset, 0x100);

	/* Within the first 8192 bytes: the last slot is 8180, 8184 crosses. */
	memset(buf, 0, BUF);
	put_header(8180, 0, NULL);
	CHECK_EQ(find(BUF, &h, &why), 1);
	CHECK_EQ(h.offset, 8180);
	memset(buf, 0, BUF);
	put_header(8184, 0, NULL);
	CHECK_EQ(find(BUF, &h, &why), 0);
	memset(buf, 0, BUF);
	put_header(8192, 0, NULL);
	CHECK_EQ(find(BUF, &h, &why), 0);

	/* Requirements vmon cannot meet. */
	memset(buf, 0, BUF);
	put_header(0, MULTIBOOT_FLAG_VIDEO_MODE, NULL);
	CHECK_EQ(find(BUF, &h, &why), -EINVAL);
	CHECK(why && strstr(why, "video"));
	for (int bit = 3; bit < 16; bit++) {
		memset(buf, 0, BUF);
		put_header(0, 1u << bit, NULL);
		CHECK_EQ(find(BUF, &h, &why), -EINVAL);
		CHECK(why && strstr(why, "3-15"));
	}
	/* Optional bits other than 16 are ignored. */
	memset(buf, 0, BUF);
	put_header(0, (1u << 20) | (1u << 31) | 3, NULL);
	CHECK_EQ(find(BUF, &h, &why), 1);

	/* Flag 16: the address fields are read, and must be in the file and the
	 * first 8 KiB. */
	memset(buf, 0, BUF);
	const uint32_t addr[5] = { 0x100010, 0x100000, 0x100400, 0x102000, 0x100020 };
	put_header(0x10, MULTIBOOT_FLAG_AOUT_KLUDGE, addr);
	CHECK_EQ(find(BUF, &h, &why), 1);
	CHECK_EQ(h.header_addr, 0x100010);
	CHECK_EQ(h.load_addr, 0x100000);
	CHECK_EQ(h.load_end_addr, 0x100400);
	CHECK_EQ(h.bss_end_addr, 0x102000);
	CHECK_EQ(h.entry_addr, 0x100020);
	CHECK_EQ(find(0x30, &h, &why), 1);
	for (size_t len = 0x1c; len < 0x30; len++)
		CHECK_EQ(find(len, &h, &why), -EINVAL);
	memset(buf, 0, BUF);
	put_header(8176, MULTIBOOT_FLAG_AOUT_KLUDGE, NULL);
	CHECK_EQ(find(BUF, &h, &why), -EINVAL);
}

static struct multiboot_header aout(size_t off, uint32_t header_addr, uint32_t load_addr,
				    uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	return (struct multiboot_header){ .offset = off, .flags = MULTIBOOT_FLAG_AOUT_KLUDGE,
					  .header_addr = header_addr, .load_addr = load_addr,
					  .load_end_addr = load_end, .bss_end_addr = bss_end,
					  .entry_addr = entry };
}

static void test_aout(void)
{
	struct elf_segment s;
	uint64_t entry = 0;
	const char *why;

	/* Header at file offset 0x1040 lands at 0x100040: the file from 0x1000
	 * goes to 0x100000. */
	struct multiboot_header h = aout(0x1040, 0x100040, 0x100000, 0x100800, 0x104000, 0x10000c);
	CHECK_EQ(multiboot_aout_segment(&h, 0x3000, &s, &entry, &why), 0);
	CHECK_EQ(s.paddr, 0x100000);
	CHECK_EQ(s.offset, 0x1000);
	CHECK_EQ(s.filesz, 0x800);
	CHECK_EQ(s.memsz, 0x4000);
	CHECK_EQ(entry, 0x10000c);

	/* load_end_addr 0: to the end of the file; bss_end_addr 0: no bss. */
	h = aout(0x1040, 0x100040, 0x100000, 0, 0, 0x100000);
	CHECK_EQ(multiboot_aout_segment(&h, 0x3000, &s, &entry, &why), 0);
	CHECK_EQ(s.filesz, 0x2000);
	CHECK_EQ(s.memsz, 0x2000);

	/* Inconsistent or out-of-file fields. */
	const struct { struct multiboot_header h; size_t len; } bad[] = {
		{ aout(0x40, 0x100040, 0x100080, 0, 0, 0), 0x1000 },           /* load above header */
		{ aout(0x40, 0x100040, 0xff000, 0, 0, 0), 0x1000 },            /* before file start */
		{ aout(0x40, 0x100040, 0x100000, 0xfffff, 0, 0), 0x1000 },     /* load_end < load */
		{ aout(0x40, 0x100040, 0x100000, 0x101001, 0, 0), 0x1000 },    /* past EOF */
		{ aout(0x40, 0x100040, 0x100000, 0x100800, 0x1007ff, 0), 0x1000 }, /* bss < load_end */
		{ aout(0x40, 0x100040, 0x100000, 0, 0x100800, 0), 0x1000 },    /* bss < EOF-derived end */
		{ aout(0x40, 0xfffff040, 0xfffff000, 0, 0, 0), 0x2000 },       /* past 4 GiB */
		{ aout(0x40, 0x100040, 0x100000, 0x100000, 0, 0), 0x1000 },    /* empty */
		{ aout(0x40, 0x40, 0, 0, 0, 0), 0x30 },                        /* header past EOF */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK_EQ(multiboot_aout_segment(&bad[i].h, bad[i].len, &s, &entry, &why), -EINVAL);
		CHECK(why != NULL);
	}
	/* The load range may end exactly at EOF and at 4 GiB. */
	h = aout(0x40, 0xfffff040, 0xfffff000, 0, 0, 0xfffff000);
	CHECK_EQ(multiboot_aout_segment(&h, 0x1000, &s, &entry, &why), 0);
	CHECK_EQ(s.paddr + s.memsz, 0x100000000ULL);
}

#define AREA_ADDR 0x500u
#define AREA_SIZE 0xb00u

static uint8_t area[AREA_SIZE];

/* multiboot_info_build without modules. */
static int build(size_t size, uint64_t ram, const char *cmd, const char **why)
{
	struct multiboot_params p = { .ram_size = ram, .cmdline = cmd };
	*why = NULL;
	return multiboot_info_build(area, size, AREA_ADDR, &p, why);
}

static void test_info(void)
{
	const char *why;
	const char *cmd = "console=ttyS0 loglevel=7";
	memset(area, 0xcc, sizeof(area));
	CHECK_EQ(build(AREA_SIZE, 256ULL << 20, cmd, &why), 0);

	/* §3.3 fields. */
	CHECK_EQ(rd32(area + 0), 0x245);              /* mem, cmdline, mmap, loader name */
	CHECK_EQ(rd32(area + 4), 639);                /* mem_lower, KiB: below the EBDA */
	CHECK_EQ(rd32(area + 8), (255u << 20) >> 10); /* mem_upper: 1 MiB .. 256 MiB */
	CHECK_EQ(rd32(area + 12), 0);                 /* boot_device: not given */
	uint32_t cmd_addr = rd32(area + 16);
	CHECK_EQ(cmd_addr, AREA_ADDR + 272);
	CHECK(strcmp((const char *)area + (cmd_addr - AREA_ADDR), cmd) == 0);
	CHECK_EQ(rd32(area + 20), 0);                 /* mods_count */
	CHECK_EQ(rd32(area + 44), 5 * 24);            /* mmap_length */
	uint32_t mmap_addr = rd32(area + 48);
	CHECK_EQ(mmap_addr, AREA_ADDR + 120);
	uint32_t name_addr = rd32(area + 64);
	CHECK_EQ(name_addr, AREA_ADDR + 264);
	CHECK(strcmp((const char *)area + (name_addr - AREA_ADDR), "vmon") == 0);
	for (unsigned off = 68; off < 116; off++) /* apm, vbe, framebuffer: zero */
		CHECK_EQ(area[off], 0);

	/* The memory map, entry by entry: size 20, base, length, type. */
	const uint64_t want[5][3] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 },
				      { 0x100000, 255ULL << 20, 1 }, { 0xe0000000, 1ULL << 20, 2 },
				      { 0xfec00000, 0x1400000, 2 } };
	const uint8_t *e = area + (mmap_addr - AREA_ADDR);
	for (int i = 0; i < 5; i++, e += 24) {
		CHECK_EQ(rd32(e), 20);
		CHECK_EQ(rd64(e + 4), want[i][0]);
		CHECK_EQ(rd64(e + 12), want[i][1]);
		CHECK_EQ(rd32(e + 20), want[i][2]);
	}
	/* Everything past the command line is zeroed. */
	int dirty = 0;
	for (size_t i = cmd_addr - AREA_ADDR + strlen(cmd); i < AREA_SIZE; i++)
		dirty += area[i] != 0;
	CHECK_EQ(dirty, 0);

	/* No command line: an empty string, flag 2 still set. 5 GiB of RAM:
	 * six map entries; mem_upper stops at the 3 GiB hole. */
	CHECK_EQ(build(AREA_SIZE, 5ULL << 30, NULL, &why), 0);
	CHECK_EQ(rd32(area + 0), 0x245);
	CHECK_EQ(area[rd32(area + 16) - AREA_ADDR], 0);
	CHECK_EQ(rd32(area + 8), ((3ULL << 30) - (1 << 20)) >> 10);
	CHECK_EQ(rd32(area + 44), 6 * 24);
	e = area + (rd32(area + 48) - AREA_ADDR) + 5 * 24;
	CHECK_EQ(rd64(e + 4), 1ULL << 32);
	CHECK_EQ(rd64(e + 12), 2ULL << 30);

	/* Less than 640 KiB of RAM. */
	CHECK_EQ(build(AREA_SIZE, 512 << 10, "", &why), 0);
	CHECK_EQ(rd32(area + 4), 512);
	CHECK_EQ(rd32(area + 8), 0);
	CHECK_EQ(rd32(area + 44), 4 * 24);

	/* The longest command line fits, one more byte does not. */
	size_t max = AREA_SIZE - 272 - 1;
	char *long_cmd = malloc(max + 2);
	memset(long_cmd, 'x', max + 1);
	long_cmd[max] = 0;
	struct multiboot_params lp = { .ram_size = 1 << 20, .cmdline = long_cmd };
	CHECK_EQ(multiboot_info_size(&lp), AREA_SIZE);
	CHECK_EQ(build(AREA_SIZE, 256ULL << 20, long_cmd, &why), 0);
	CHECK_EQ(area[AREA_SIZE - 1], 0);
	CHECK_EQ(area[AREA_SIZE - 2], 'x');
	long_cmd[max] = 'x';
	long_cmd[max + 1] = 0;
	why = NULL;
	CHECK_EQ(build(AREA_SIZE, 256ULL << 20, long_cmd, &why), -E2BIG);
	CHECK(why != NULL);
	free(long_cmd);

	/* An area too small for the fixed part. */
	CHECK_EQ(build(100, 256ULL << 20, "", &why), -E2BIG);
}

/* Random headers with flag 16: whatever is accepted stays inside the file
 * and below 4 GiB. */
static void test_aout_mutations(void)
{
	uint32_t x = 777;
	int broken = 0, accepted = 0;
	for (int iter = 0; iter < 50000; iter++) {
		uint32_t f[5];
		for (int i = 0; i < 5; i++) {
			x = x * 1103515245 + 12345;
			/* Mostly small, sometimes anything. */
			f[i] = (x >> 28) < 3 ? x : 0x100000 + ((x >> 8) & 0x3fff);
		}
		x = x * 1103515245 + 12345;
		size_t off = 4 * ((x >> 8) % 64), len = off + 32 + ((x >> 16) % 0x4000);
		if (x & 1) /* header_addr close to a sensible value */
			f[0] = f[1] + (uint32_t)((x >> 4) % (off + 8));
		struct multiboot_header h = aout(off, f[0], f[1], f[2], f[3], f[4]);
		struct elf_segment s;
		uint64_t entry;
		const char *why;
		if (multiboot_aout_segment(&h, len, &s, &entry, &why) < 0)
			continue;
		accepted++;
		if (s.filesz > s.memsz || s.memsz == 0 || s.offset > len || s.filesz > len - s.offset ||
		    s.paddr + s.memsz > 0x100000000ULL || entry != f[4])
			broken++;
	}
	CHECK_EQ(broken, 0);
	CHECK(accepted > 100);
}

/* --initrd lists as QEMU reads them: "," between modules, ",," a comma. */
static void test_split(void)
{
	char b[256];
	const char *m[4], *why;
	CHECK_EQ(multiboot_split_modules("a x,b", b, sizeof(b), m, 4, &why), 2);
	CHECK(strcmp(m[0], "a x") == 0 && strcmp(m[1], "b") == 0);
	CHECK_EQ(multiboot_split_modules("a,,b", b, sizeof(b), m, 4, &why), 1);
	CHECK(strcmp(m[0], "a,b") == 0);
	CHECK_EQ(multiboot_split_modules("f a,,b,g root=/dev/x y", b, sizeof(b), m, 4, &why), 2);
	CHECK(strcmp(m[0], "f a,b") == 0 && strcmp(m[1], "g root=/dev/x y") == 0);
	CHECK_EQ(multiboot_split_modules("a,,,b", b, sizeof(b), m, 4, &why), 2);
	CHECK(strcmp(m[0], "a,") == 0 && strcmp(m[1], "b") == 0);
	CHECK_EQ(multiboot_split_modules("a,,", b, sizeof(b), m, 4, &why), 1);
	CHECK(strcmp(m[0], "a,") == 0);
	CHECK_EQ(multiboot_split_modules("a,b,c,d", b, sizeof(b), m, 4, &why), 4);
	CHECK(strcmp(m[3], "d") == 0);
	/* Hostile lists: empty modules, no file name, too many, no room. */
	/* Pairs are taken from the left: ",,,,," is two commas, then the end. */
	CHECK_EQ(multiboot_split_modules("a,,,,b,,c,,,,,d", b, sizeof(b), m, 4, &why), 2);
	CHECK(strcmp(m[0], "a,,b,c,,") == 0 && strcmp(m[1], "d") == 0);
	const char *bad[] = { "", ",", ",a", "a,", "a,,,", "a,,b,", "a, b", " a", "a,,,,,,," };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		int r = multiboot_split_modules(bad[i], b, sizeof(b), m, 4, &why);
		CHECK_EQ(r, -EINVAL);
		CHECK(why != NULL);
	}
	CHECK_EQ(multiboot_split_modules("a,b,c,d,e", b, sizeof(b), m, 4, &why), -E2BIG);
	CHECK_EQ(multiboot_split_modules("abc", b, 3, m, 4, &why), -E2BIG);
	CHECK_EQ(multiboot_split_modules("abc", b, 4, m, 4, &why), 1);

	CHECK_EQ(multiboot_module_name_len("mod.bin arg1 arg2"), 7);
	CHECK_EQ(multiboot_module_name_len("mod.bin"), 7);
}

/* The information structure with modules (§3.3: mods_count, mods_addr,
 * 16-byte entries mod_start, mod_end, string, reserved). */
static void test_info_mods(void)
{
	const char *why;
	const struct multiboot_module mods[2] = {
		{ 0x102000, 0x10200b, "/tmp/a.bin x y" },
		{ 0x103000, 0x104388, "b.bin" },
	};
	/* An odd-length command line: the list is still 4-byte aligned. */
	struct multiboot_params p = { .ram_size = 64ULL << 20, .cmdline = "kern a=1",
				      .mods = mods, .nmods = 2 };
	static uint8_t big[AREA_SIZE + 64];
	memset(big, 0xcc, sizeof(big));
	size_t need = multiboot_info_size(&p);
	CHECK_EQ(need, 272 + 12 + 2 * 16 + 15 + 6); /* cmdline 9 bytes rounded to 12 */
	CHECK_EQ(multiboot_info_build(big, need, AREA_ADDR, &p, &why), 0);
	CHECK_EQ(rd32(big + 0), 0x24d);            /* + flag 3, modules */
	CHECK_EQ(rd32(big + 20), 2);               /* mods_count */
	uint32_t list = rd32(big + 24);
	CHECK_EQ(list, AREA_ADDR + 272 + 12);
	CHECK_EQ(list & 3, 0);
	CHECK(strcmp((const char *)big + rd32(big + 16) - AREA_ADDR, "kern a=1") == 0);
	const uint8_t *e = big + (list - AREA_ADDR);
	for (int i = 0; i < 2; i++, e += 16) {
		CHECK_EQ(rd32(e), mods[i].start);
		CHECK_EQ(rd32(e + 4), mods[i].end);
		uint32_t str = rd32(e + 8);
		CHECK(str >= AREA_ADDR && str < AREA_ADDR + need);
		CHECK(strcmp((const char *)big + (str - AREA_ADDR), mods[i].string) == 0);
		CHECK_EQ(rd32(e + 12), 0);
	}
	CHECK_EQ(big[need - 1], 0);                /* the last string's NUL ends the area */
	int guard = 0;
	for (size_t i = need; i < sizeof(big); i++)
		guard += big[i] != 0xcc;
	CHECK_EQ(guard, 0);

	/* One byte short: refused, nothing written. */
	memset(big, 0xcc, sizeof(big));
	why = NULL;
	CHECK_EQ(multiboot_info_build(big, need - 1, AREA_ADDR, &p, &why), -E2BIG);
	CHECK(why != NULL);
	CHECK_EQ(big[0], 0xcc);

	/* An area that would cross 4 GiB. */
	CHECK_EQ(multiboot_info_build(big, need, 0xffffffffu - 16, &p, &why), -E2BIG);

	/* Many modules with long strings overflow the area; the most that fit
	 * are accepted and stay inside it. */
	static struct multiboot_module many[MULTIBOOT_MAX_MODULES + 1];
	static char str[64];
	memset(str, 'm', sizeof(str) - 1);
	for (unsigned i = 0; i <= MULTIBOOT_MAX_MODULES; i++)
		many[i] = (struct multiboot_module){ 0x200000 + 0x1000 * i, 0x200010 + 0x1000 * i, str };
	struct multiboot_params mp = { .ram_size = 64ULL << 20, .cmdline = "k", .mods = many,
				       .nmods = MULTIBOOT_MAX_MODULES };
	CHECK(multiboot_info_size(&mp) > AREA_SIZE);
	CHECK_EQ(multiboot_info_build(big, AREA_SIZE, AREA_ADDR, &mp, &why), -E2BIG);
	unsigned fit = 0;
	for (mp.nmods = 1; mp.nmods <= MULTIBOOT_MAX_MODULES; mp.nmods++)
		if (multiboot_info_size(&mp) <= AREA_SIZE)
			fit = mp.nmods;
	CHECK_EQ(fit, (AREA_SIZE - 276) / (16 + 64));
	mp.nmods = fit;
	memset(big, 0xcc, sizeof(big));
	CHECK_EQ(multiboot_info_build(big, AREA_SIZE, AREA_ADDR, &mp, &why), 0);
	CHECK_EQ(rd32(big + 20), fit);
	guard = 0;
	for (size_t i = AREA_SIZE; i < sizeof(big); i++)
		guard += big[i] != 0xcc;
	CHECK_EQ(guard, 0);
	/* More than MULTIBOOT_MAX_MODULES is refused even in a large area. */
	static uint8_t huge[65536];
	mp.nmods = MULTIBOOT_MAX_MODULES + 1;
	CHECK_EQ(multiboot_info_build(huge, sizeof(huge), AREA_ADDR, &mp, &why), -E2BIG);
	mp.nmods = MULTIBOOT_MAX_MODULES;
	CHECK_EQ(multiboot_info_build(huge, sizeof(huge), AREA_ADDR, &mp, &why), 0);
	CHECK_EQ(rd32(huge + 20), MULTIBOOT_MAX_MODULES);
}

int main(void)
{
	test_split();
	test_info_mods();
	test_find();
	test_aout();
	test_aout_mutations();
	test_info();
	return unit_report("multiboot");
}
