/* elf_parse(): valid ELF32/ELF64 executables built here, and every hostile
 * header we can think of. Each input sits in a heap block of exactly its
 * length, so ASan sees any read past the end. */
#include <errno.h>
#include <stdlib.h>

#include "boot/elf.h"
#include "unit.h"

#define PT_LOAD 1
#define PT_NOTE 4

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* Header field offsets per class (gABI "ELF Header"). */
struct layout {
	size_t ehsize, phentsize, entry, phoff, o_phentsize, o_phnum;
	/* program header fields */
	size_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz;
};
static const struct layout L32 = { 52, 32, 24, 28, 42, 44, 4, 8, 12, 16, 20 };
static const struct layout L64 = { 64, 56, 24, 32, 54, 56, 8, 16, 24, 32, 40 };

static void wr_word(uint8_t *p, int cls, uint64_t v)
{
	if (cls == 64)
		wr64(p, v);
	else
		wr32(p, (uint32_t)v);
}

#define IMG_MAX 8192
struct img {
	uint8_t b[IMG_MAX];
	size_t len;
	int cls;
	const struct layout *l;
};

/* An ET_EXEC image: header, program headers right after it, then whatever
 * the segments' file ranges cover (filled with a pattern). */
static void build(struct img *im, int cls, uint64_t entry, const struct seg *s, unsigned n)
{
	memset(im, 0, sizeof(*im));
	im->cls = cls;
	im->l = cls == 64 ? &L64 : &L32;
	const struct layout *l = im->l;
	uint8_t *b = im->b;
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = cls == 64 ? 2 : 1; /* EI_CLASS */
	b[5] = 1;                 /* ELFDATA2LSB */
	b[6] = 1;                 /* EV_CURRENT */
	wr16(b + 16, 2);          /* ET_EXEC */
	wr16(b + 18, cls == 64 ? 62 : 3);
	wr32(b + 20, 1);
	wr_word(b + l->entry, cls, entry);
	wr_word(b + l->phoff, cls, l->ehsize);
	wr16(b + (cls == 64 ? 52 : 40), (uint16_t)l->ehsize);
	wr16(b + l->o_phentsize, (uint16_t)l->phentsize);
	wr16(b + l->o_phnum, (uint16_t)n);
	size_t len = l->ehsize + n * l->phentsize;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = b + l->ehsize + i * l->phentsize;
		wr32(p, s[i].type);
		wr_word(p + l->p_offset, cls, s[i].offset);
		wr_word(p + l->p_vaddr, cls, s[i].vaddr);
		wr_word(p + l->p_paddr, cls, s[i].paddr);
		wr_word(p + l->p_filesz, cls, s[i].filesz);
		wr_word(p + l->p_memsz, cls, s[i].memsz);
		if (s[i].offset + s[i].filesz > len && s[i].offset + s[i].filesz <= IMG_MAX)
			len = s[i].offset + s[i].filesz;
	}
	for (size_t i = l->ehsize + n * l->phentsize; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	im->len = len;
}

static uint8_t *phdr(struct img *im, unsigned i)
{
	return im->b + im->l->ehsize + i * im->l->phentsize;
}

/* Parses the first len bytes of im from an exact-size heap copy. */
static int parse_len(const struct img *im, size_t len, struct elf_image *out, const char **why)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, im->b, len);
	*why = NULL;
	int r = elf_parse(copy, len, out, why);
	free(copy);
	return r;
}

static struct elf_image out; /* large; shared by the checks below */

/* Parses im and expects a refusal with a message. */
static int refused(const struct img *im)
{
	const char *why;
	int r = parse_len(im, im->len, &out, &why);
	if (getenv("UNIT_VERBOSE"))
		printf("  refused: %d %s\n", r, why ? why : "(no message)");
	return r < 0 && why != NULL && why[0] != 0;
}

static const struct seg segs32[] = {
	{ PT_NOTE, 0x100, 0, 0, 0x10, 0x10 },
	{ PT_LOAD, 0x200, 0x100000, 0x100000, 0x80, 0x1000 },  /* text + bss */
	{ PT_LOAD, 0x280, 0x200000, 0x200000, 0x40, 0x40 },    /* data */
};
static const struct seg segs64[] = {
	{ PT_LOAD, 0x200, 0xffffffff80100000ULL, 0x100000, 0x100, 0x2000 },
	{ PT_LOAD, 0x300, 0xffffffff80300000ULL, 0x300000, 0, 0 }, /* empty: dropped */
	{ PT_NOTE, 0x300, 0, 0, 0x20, 0x20 },
	{ PT_LOAD, 0x300, 0xffffffff80400000ULL, 0x400000, 0x40, 0x80 },
};

static void test_valid(void)
{
	struct img im;
	const char *why;

	build(&im, 32, 0x100010, segs32, 3);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.elf_class, 32);
	CHECK_EQ(out.e_entry, 0x100010);
	CHECK_EQ(out.entry, 0x100010);
	CHECK_EQ(out.nsegs, 2);
	CHECK_EQ(out.seg[0].index, 1);
	CHECK_EQ(out.seg[0].paddr, 0x100000);
	CHECK_EQ(out.seg[0].vaddr, 0x100000);
	CHECK_EQ(out.seg[0].offset, 0x200);
	CHECK_EQ(out.seg[0].filesz, 0x80);
	CHECK_EQ(out.seg[0].memsz, 0x1000);
	CHECK_EQ(out.seg[1].index, 2);
	CHECK_EQ(out.seg[1].paddr, 0x200000);

	/* ELF64 with higher-half virtual addresses: the entry is made physical. */
	build(&im, 64, 0xffffffff80100020ULL, segs64, 4);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.elf_class, 64);
	CHECK_EQ(out.e_entry, 0xffffffff80100020ULL);
	CHECK_EQ(out.entry, 0x100020);
	CHECK_EQ(out.nsegs, 2);
	CHECK_EQ(out.seg[0].index, 0);
	CHECK_EQ(out.seg[0].vaddr, 0xffffffff80100000ULL);
	CHECK_EQ(out.seg[0].memsz, 0x2000);
	CHECK_EQ(out.seg[1].index, 3);
	CHECK_EQ(out.seg[1].paddr, 0x400000);

	/* An entry in the second segment's bss, and one in no segment. */
	build(&im, 64, 0xffffffff80400070ULL, segs64, 4);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.entry, 0x400070);
	build(&im, 64, 0xffffffff80400080ULL, segs64, 4);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.entry, 0xffffffff80400080ULL);

	/* paddr != vaddr in ELF32 too. */
	const struct seg hi32[] = { { PT_LOAD, 0x100, 0xc0100000, 0x100000, 0x10, 0x10 } };
	build(&im, 32, 0xc0100004, hi32, 1);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.entry, 0x100004);

	/* An ELF32 segment ending exactly at 4 GiB does not wrap. */
	const struct seg top32[] = { { PT_LOAD, 0x100, 0xfffff000, 0xfffff000, 0x10, 0x1000 } };
	build(&im, 32, 0xfffff000, top32, 1);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);

	/* A bss-only segment may name any file offset. */
	const struct seg bss[] = { { PT_LOAD, 0x100, 0x100000, 0x100000, 0x10, 0x10 },
				   { PT_LOAD, 0xffffffff, 0x200000, 0x200000, 0, 0x1000 } };
	build(&im, 32, 0x100000, bss, 2);
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.nsegs, 2);
}

/* Every proper prefix of a valid image is refused: the header, the program
 * header table or a segment's bytes are cut. */
static void test_truncated(void)
{
	struct img im;
	const char *why;
	int cls[] = { 32, 64 };
	for (int c = 0; c < 2; c++) {
		if (cls[c] == 32)
			build(&im, 32, 0x100010, segs32, 3);
		else
			build(&im, 64, 0xffffffff80100020ULL, segs64, 4);
		int bad = 0;
		for (size_t len = 0; len < im.len; len++)
			if (parse_len(&im, len, &out, &why) >= 0 || !why)
				bad++;
		CHECK_EQ(bad, 0);
		CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	}
	/* Short non-ELF input is "no magic" (-ENOEXEC), not a crash. */
	build(&im, 32, 0x100010, segs32, 3);
	CHECK_EQ(parse_len(&im, 3, &out, &why), -ENOEXEC);
	CHECK_EQ(parse_len(&im, 0, &out, &why), -ENOEXEC);
	CHECK_EQ(parse_len(&im, 4, &out, &why), -EINVAL);
}

static void test_bad_ident(void)
{
	struct img im;
	for (int i = 0; i < 4; i++) {
		build(&im, 32, 0x100010, segs32, 3);
		im.b[i] ^= 0x20;
		const char *why;
		CHECK_EQ(parse_len(&im, im.len, &out, &why), -ENOEXEC);
	}
	uint8_t bad_class[] = { 0, 3, 0xff };
	for (unsigned i = 0; i < sizeof(bad_class); i++) {
		build(&im, 32, 0x100010, segs32, 3);
		im.b[4] = bad_class[i];
		CHECK(refused(&im));
	}
	build(&im, 64, 0x100000, segs64, 4);
	im.b[5] = 2; /* big-endian */
	CHECK(refused(&im));
	build(&im, 64, 0x100000, segs64, 4);
	im.b[5] = 0;
	CHECK(refused(&im));
	build(&im, 32, 0x100010, segs32, 3);
	im.b[6] = 0; /* EI_VERSION */
	CHECK(refused(&im));
	build(&im, 32, 0x100010, segs32, 3);
	wr32(im.b + 20, 2); /* e_version */
	CHECK(refused(&im));
}

static void test_bad_header(void)
{
	struct img im;
	uint16_t bad_types[] = { 0, 1, 3, 4, 0xfe00 }; /* NONE, REL, DYN, CORE, OS */
	for (unsigned i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		build(&im, 64, 0x100000, segs64, 4);
		wr16(im.b + 16, bad_types[i]);
		CHECK(refused(&im));
	}
	/* ELF32 must be EM_386, ELF64 must be EM_X86_64. */
	build(&im, 32, 0x100010, segs32, 3);
	wr16(im.b + 18, 62);
	CHECK(refused(&im));
	build(&im, 64, 0x100000, segs64, 4);
	wr16(im.b + 18, 3);
	CHECK(refused(&im));
	build(&im, 64, 0x100000, segs64, 4);
	wr16(im.b + 18, 40); /* ARM */
	CHECK(refused(&im));

	/* phoff past the end, at the end, and huge. */
	uint64_t offs[] = { 0, 0, 0xffffffff, 0xffffffffffffffffULL, 0xfffffffffffffff0ULL };
	for (int c = 32; c <= 64; c += 32) {
		build(&im, c, 0x100000, c == 32 ? segs32 : segs64, c == 32 ? 3 : 4);
		offs[0] = im.len;
		offs[1] = im.len - 1;
		for (unsigned i = 0; i < 5; i++) {
			if (c == 32 && offs[i] > 0xffffffff)
				continue;
			build(&im, c, 0x100000, c == 32 ? segs32 : segs64, c == 32 ? 3 : 4);
			wr_word(im.b + im.l->phoff, c, offs[i]);
			CHECK(refused(&im));
		}
	}
	/* phnum * phentsize larger than the file, wrong phentsize, no or
	 * extended-numbered program headers. */
	for (int c = 32; c <= 64; c += 32) {
		uint16_t phnums[] = { 0, 0xffff, 0xfffe, 200 };
		for (unsigned i = 0; i < 4; i++) {
			build(&im, c, 0x100000, c == 32 ? segs32 : segs64, c == 32 ? 3 : 4);
			wr16(im.b + im.l->o_phnum, phnums[i]);
			CHECK(refused(&im));
		}
		uint16_t sizes[] = { 0, 1, 32, 56, 64, 0xffff };
		for (unsigned i = 0; i < 6; i++) {
			if (sizes[i] == im.l->phentsize)
				continue;
			build(&im, c, 0x100000, c == 32 ? segs32 : segs64, c == 32 ? 3 : 4);
			wr16(im.b + im.l->o_phentsize, sizes[i]);
			CHECK(refused(&im));
		}
		/* Table ends just past EOF: phoff moved up by one byte. */
		build(&im, c, 0x100000, c == 32 ? segs32 : segs64, c == 32 ? 3 : 4);
		uint16_t n = (uint16_t)((im.len - im.l->ehsize) / im.l->phentsize + 1);
		wr16(im.b + im.l->o_phnum, n);
		CHECK(refused(&im));
	}
	/* A table whose end wraps a 64-bit sum: phoff + phnum * phentsize
	 * = 2^64 + 8, which would look like "8" if computed naively. */
	build(&im, 64, 0x100000, segs64, 4);
	wr16(im.b + 56, 0xfffe);
	wr64(im.b + 32, 0 - (uint64_t)0xfffe * 56 + 8);
	CHECK(refused(&im));
	/* The largest phnum with an oversized phentsize is refused too. */
	build(&im, 32, 0x100000, segs32, 3);
	wr16(im.b + 42, 0xffff);
	wr16(im.b + 44, 0xfffe);
	CHECK(refused(&im));
}

static void test_bad_segments(void)
{
	struct img im;
	for (int c = 32; c <= 64; c += 32) {
		const struct seg *s = c == 32 ? segs32 : segs64;
		unsigned n = c == 32 ? 3 : 4, li = c == 32 ? 1 : 0; /* a PT_LOAD */
		const struct layout *l = c == 32 ? &L32 : &L64;

		/* File bytes past EOF: by one byte, by offset, by a wrapping sum. */
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_filesz, c, im.len - 0x200 + 1);
		wr_word(phdr(&im, li) + l->p_memsz, c, 0x10000);
		CHECK(refused(&im));
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_offset, c, im.len);
		CHECK(refused(&im));
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_offset, c, c == 64 ? 0xfffffffffffffff0ULL : 0xfffffff0);
		wr_word(phdr(&im, li) + l->p_filesz, c, 0x20);
		wr_word(phdr(&im, li) + l->p_memsz, c, 0x20);
		CHECK(refused(&im));

		/* filesz > memsz */
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_memsz, c, 0x7f);
		wr_word(phdr(&im, li) + l->p_filesz, c, 0x80);
		CHECK(refused(&im));

		/* paddr + memsz wraps (at 4 GiB for ELF32). */
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_paddr, c, c == 64 ? 0xfffffffffffff000ULL : 0xfffff000);
		wr_word(phdr(&im, li) + l->p_memsz, c, 0x1001);
		CHECK(refused(&im));
		build(&im, c, 0x100000, s, n);
		wr_word(phdr(&im, li) + l->p_memsz, c, c == 64 ? 0xffffffffffffffffULL : 0xffffffff);
		CHECK(refused(&im));

		/* No PT_LOAD at all. */
		build(&im, c, 0x100000, s, n);
		for (unsigned i = 0; i < n; i++)
			wr32(phdr(&im, i), PT_NOTE);
		CHECK(refused(&im));
	}
	/* Only empty PT_LOAD segments. */
	const struct seg empty[] = { { PT_LOAD, 0x100, 0x100000, 0x100000, 0, 0 } };
	build(&im, 32, 0x100000, empty, 1);
	CHECK(refused(&im));

	/* 64 loadable segments are fine, 65 are refused. */
	struct seg many[65];
	for (unsigned i = 0; i < 65; i++)
		many[i] = (struct seg){ PT_LOAD, 0x1000, 0x100000 + i * 0x1000, 0x100000 + i * 0x1000, 4, 4 };
	build(&im, 64, 0x100000, many, 64);
	const char *why;
	CHECK_EQ(parse_len(&im, im.len, &out, &why), 0);
	CHECK_EQ(out.nsegs, 64);
	build(&im, 64, 0x100000, many, 65);
	CHECK(refused(&im));
}

/* Random byte changes in the headers never crash the parser, and whatever
 * it accepts satisfies its promises. */
static void test_mutations(void)
{
	uint32_t x = 12345;
	int broken = 0;
	for (int iter = 0; iter < 20000; iter++) {
		struct img im;
		if (iter & 1)
			build(&im, 32, 0x100010, segs32, 3);
		else
			build(&im, 64, 0xffffffff80100020ULL, segs64, 4);
		size_t hdr_end = im.l->ehsize + (iter & 1 ? 3 : 4) * im.l->phentsize;
		for (int k = 0; k < 1 + iter % 4; k++) {
			x = x * 1103515245 + 12345;
			im.b[(x >> 8) % hdr_end] = (uint8_t)(x >> 20);
		}
		const char *why;
		if (parse_len(&im, im.len, &out, &why) < 0)
			continue;
		for (unsigned i = 0; i < out.nsegs; i++) {
			const struct elf_segment *s = &out.seg[i];
			if (s->filesz > s->memsz || s->memsz == 0 ||
			    (s->filesz && (s->offset > im.len || s->filesz > im.len - s->offset)) ||
			    s->paddr + s->memsz < s->paddr)
				broken++;
		}
	}
	CHECK_EQ(broken, 0);
}

int main(void)
{
	test_valid();
	test_truncated();
	test_bad_ident();
	test_bad_header();
	test_bad_segments();
	test_mutations();
	return unit_report("elf");
}
