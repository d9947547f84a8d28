/* ELF executables: a pure parser that checks everything vmon relies on and
 * lists what to load. References: System V gABI ("ELF Header", "Program
 * Header"), the i386 and x86-64 psABI supplements (EM_386, EM_X86_64). */
#ifndef VMON_BOOT_ELF_H
#define VMON_BOOT_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* More PT_LOAD segments than this is refused; kernels have a handful. */
#define ELF_MAX_SEGMENTS 64u

/* A loadable range: file bytes [offset, offset + filesz) go to guest-physical
 * paddr, and [paddr + filesz, paddr + memsz) is zeroed. The Multiboot a.out
 * kludge produces the same thing. */
struct elf_segment {
	unsigned index;  /* program header number, for messages */
	uint64_t paddr;
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

struct elf_image {
	unsigned elf_class;  /* 32 or 64 */
	uint64_t e_entry;    /* the entry as the header gives it */
	uint64_t entry;      /* the same, made physical (see elf_parse) */
	unsigned nsegs;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/* True when buf starts with the ELF magic (\x7f 'E' 'L' 'F'). */
bool elf_has_magic(const uint8_t *buf, size_t len);

/* Parses a little-endian ET_EXEC image: ELF32 for EM_386 or ELF64 for
 * EM_X86_64. Every offset and size is checked against len, with overflow
 * checks; each PT_LOAD must have its file bytes inside the image, filesz <=
 * memsz and paddr + memsz not wrapping (at 4 GiB for ELF32). PT_LOAD segments
 * with memsz 0 are dropped; at least one must remain.
 * Since vmon identity-maps memory, an e_entry inside a segment's [vaddr,
 * vaddr + memsz) is translated to paddr + (e_entry - vaddr); otherwise entry
 * is e_entry. Returns 0, or -EINVAL (-ENOEXEC for a missing magic) with
 * *why set to a static message. */
int elf_parse(const uint8_t *buf, size_t len, struct elf_image *out, const char **why);

#endif
