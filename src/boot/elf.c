#include "boot/elf.h"

#include <errno.h>
#include <string.h>

/* gABI "ELF Identification" (e_ident) and "ELF Header" values. */
#define EI_CLASS     4
#define EI_DATA      5
#define EI_VERSION   6
#define EI_NIDENT    16
#define ELFCLASS32   1
#define ELFCLASS64   2
#define ELFDATA2LSB  1
#define EV_CURRENT   1
#define ET_EXEC      2
#define EM_386       3
#define EM_X86_64    62
#define PN_XNUM      0xffff /* gABI "Extended Program Header Numbering" */
#define PT_LOAD      1

/* Sizes of Elf32_Ehdr/Elf64_Ehdr and Elf32_Phdr/Elf64_Phdr. */
#define EHDR32_SIZE  52
#define EHDR64_SIZE  64
#define PHDR32_SIZE  32
#define PHDR64_SIZE  56

_Static_assert(ELF_MAX_SEGMENTS == 64, "the too-many-segments message says 64");

/* Little-endian reads; the caller has checked the bytes are inside buf. */
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

bool elf_has_magic(const uint8_t *buf, size_t len)
{
	return len >= 4 && buf[0] == 0x7f && buf[1] == 'E' && buf[2] == 'L' && buf[3] == 'F';
}

/* The header fields vmon uses, whatever the class. */
struct ehdr {
	uint16_t type, machine, phentsize, phnum;
	uint32_t version;
	uint64_t entry, phoff;
};

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

/* e_ident and the class-dependent header layout (gABI "ELF Header"). */
static int read_ehdr(const uint8_t *buf, size_t len, unsigned *elf_class, struct ehdr *h,
		     const char **why)
{
	if (!elf_has_magic(buf, len)) {
		*why = "not an ELF file (no \\x7fELF magic)";
		return -ENOEXEC;
	}
	if (len < EI_NIDENT)
		return fail(why, "ELF: file too short for the ELF identification");
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
		return fail(why, "ELF: unknown class (neither ELF32 nor ELF64)");
	if (buf[EI_DATA] != ELFDATA2LSB)
		return fail(why, "ELF: not little-endian, so not an x86 image");
	if (buf[EI_VERSION] != EV_CURRENT)
		return fail(why, "ELF: unknown ELF version in e_ident");

	bool is64 = buf[EI_CLASS] == ELFCLASS64;
	if (len < (is64 ? EHDR64_SIZE : EHDR32_SIZE))
		return fail(why, "ELF: file too short for the ELF header");
	h->type = rd16(buf + 16);
	h->machine = rd16(buf + 18);
	h->version = rd32(buf + 20);
	if (is64) {
		h->entry = rd64(buf + 24);
		h->phoff = rd64(buf + 32);
		h->phentsize = rd16(buf + 54);
		h->phnum = rd16(buf + 56);
	} else {
		h->entry = rd32(buf + 24);
		h->phoff = rd32(buf + 28);
		h->phentsize = rd16(buf + 42);
		h->phnum = rd16(buf + 44);
	}
	*elf_class = is64 ? 64 : 32;
	return 0;
}

static int check_ehdr(unsigned elf_class, const struct ehdr *h, size_t len, const char **why)
{
	bool is64 = elf_class == 64;
	if (h->version != EV_CURRENT)
		return fail(why, "ELF: unknown e_version");
	if (h->type != ET_EXEC)
		return fail(why, "ELF: not an executable (e_type is not ET_EXEC)");
	if (!is64 && h->machine != EM_386)
		return fail(why, "ELF: an ELF32 image must be for i386 (e_machine EM_386)");
	if (is64 && h->machine != EM_X86_64)
		return fail(why, "ELF: an ELF64 image must be for x86-64 (e_machine EM_X86_64)");
	if (h->phnum == 0)
		return fail(why, "ELF: no program headers");
	if (h->phnum == PN_XNUM)
		return fail(why, "ELF: extended program header numbering is not supported");
	if (h->phentsize != (is64 ? PHDR64_SIZE : PHDR32_SIZE))
		return fail(why, "ELF: e_phentsize is not the size of a program header of this class");
	uint64_t table;
	if (__builtin_mul_overflow((uint64_t)h->phnum, (uint64_t)h->phentsize, &table) ||
	    h->phoff > len || table > len - h->phoff)
		return fail(why, "ELF: the program header table lies past the end of the file");
	return 0;
}

/* One PT_LOAD entry (gABI "Program Header"). */
static void read_phdr(const uint8_t *p, bool is64, struct elf_segment *s)
{
	if (is64) {
		s->offset = rd64(p + 8);
		s->vaddr = rd64(p + 16);
		s->paddr = rd64(p + 24);
		s->filesz = rd64(p + 32);
		s->memsz = rd64(p + 40);
	} else {
		s->offset = rd32(p + 4);
		s->vaddr = rd32(p + 8);
		s->paddr = rd32(p + 12);
		s->filesz = rd32(p + 16);
		s->memsz = rd32(p + 20);
	}
}

static int check_segment(const struct elf_segment *s, bool is64, size_t len, const char **why)
{
	if (s->filesz > s->memsz)
		return fail(why, "ELF: a PT_LOAD segment has p_filesz larger than p_memsz");
	if (s->filesz > 0 && (s->offset > len || s->filesz > len - s->offset))
		return fail(why, "ELF: a PT_LOAD segment's file bytes lie past the end of the file");
	/* The segment's physical range must not wrap: its end is at most 2^32
	 * for ELF32 (32-bit addresses), and must fit in 64 bits for ELF64. */
	uint64_t end_limit = is64 ? UINT64_MAX : 0x100000000ULL;
	if (s->memsz > end_limit - s->paddr)
		return fail(why, "ELF: a PT_LOAD segment's physical range wraps around");
	return 0;
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_image *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	struct ehdr h;
	unsigned elf_class = 0;
	int r = read_ehdr(buf, len, &elf_class, &h, why);
	if (r == 0)
		r = check_ehdr(elf_class, &h, len, why);
	if (r < 0)
		return r;

	bool is64 = elf_class == 64;
	unsigned nload = 0;
	for (unsigned i = 0; i < h.phnum; i++) {
		const uint8_t *p = buf + h.phoff + (uint64_t)i * h.phentsize;
		if (rd32(p) != PT_LOAD)
			continue;
		nload++;
		struct elf_segment s = { .index = i };
		read_phdr(p, is64, &s);
		r = check_segment(&s, is64, len, why);
		if (r < 0)
			return r;
		if (s.memsz == 0)
			continue;
		if (out->nsegs == ELF_MAX_SEGMENTS)
			return fail(why, "ELF: too many PT_LOAD segments (vmon takes at most 64)");
		out->seg[out->nsegs++] = s;
	}
	if (nload == 0)
		return fail(why, "ELF: no PT_LOAD segment, nothing to load");
	if (out->nsegs == 0)
		return fail(why, "ELF: every PT_LOAD segment is empty (p_memsz 0)");

	out->elf_class = elf_class;
	out->e_entry = h.entry;
	out->entry = h.entry;
	for (unsigned i = 0; i < out->nsegs; i++) {
		const struct elf_segment *s = &out->seg[i];
		if (h.entry >= s->vaddr && h.entry - s->vaddr < s->memsz) {
			out->entry = s->paddr + (h.entry - s->vaddr);
			break;
		}
	}
	return 0;
}
