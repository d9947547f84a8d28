/* Guest memory as the instructions see it: segmentation (SDM vol. 3 §3.4,
 * §5.3 limit checks), then the TLB fast path (a tag compare and an add), and
 * a slow path for TLB misses, MMIO and page-straddling accesses. */
#include <string.h>

#include "emu.h"
#include "vm.h"

static uint64_t lin_mask(const struct emu_cpu *cpu)
{
	return emu_long_mode(cpu) ? ~0ULL : 0xffffffffULL;
}

/* Translates the page of lin for acc and, when it is ordinary RAM, caches
 * it. *host is NULL for MMIO pages. */
static int page_lookup(struct emu_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *gpa, uint8_t **host)
{
	unsigned kind = acc & ACC_KIND;
	unsigned idx = (unsigned)(lin >> 12) & (EMU_TLB_SIZE - 1);
	struct emu_tlb_entry *e = &cpu->tlb.e[kind][idx];
	uint64_t tag = emu_tlb_tag(cpu, lin, acc);
	if (e->tag == tag) {
		*host = (uint8_t *)(uintptr_t)(lin + e->addend);
		*gpa = 0;
		return EMU_OK;
	}
	EMU_TRY(emu_translate(cpu, lin, acc, gpa));
	uint64_t page = *gpa & ~0xfffULL;
	uint8_t *p = emu_lapic_claims(cpu, page) ? NULL : guest_mem_ptr(&cpu->vm->mem, page, 4096);
	if (p) {
		e->tag = tag;
		e->addend = (uintptr_t)p - (uintptr_t)(lin & ~0xfffULL);
		*host = p + (lin & 0xfff);
	} else {
		*host = NULL;
	}
	return EMU_OK;
}

static void phys_read_bytes(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint8_t *out)
{
	uint64_t v;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		(void)emu_phys_read(cpu, gpa, size, &v);
		memcpy(out, &v, size);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		(void)emu_phys_read(cpu, gpa + i, 1, &v);
		out[i] = (uint8_t)v;
	}
}

static void phys_write_bytes(struct emu_cpu *cpu, uint64_t gpa, unsigned size, const uint8_t *in)
{
	uint64_t v = 0;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		memcpy(&v, in, size);
		(void)emu_phys_write(cpu, gpa, size, v);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		(void)emu_phys_write(cpu, gpa + i, 1, in[i]);
}

/* One piece of an access that stays inside a page: RAM through its host
 * pointer, anything else through the physical (MMIO) path. */
static void chunk_read(struct emu_cpu *cpu, const uint8_t *host, uint64_t gpa, unsigned n, void *out)
{
	if (host)
		memcpy(out, host, n);
	else
		phys_read_bytes(cpu, gpa, n, out);
}

static void chunk_write(struct emu_cpu *cpu, uint8_t *host, uint64_t gpa, unsigned n, const void *in)
{
	if (host) {
		emu_smc_note(cpu, (uintptr_t)host, n);
		memcpy(host, in, n);
	} else
		phys_write_bytes(cpu, gpa, n, in);
}

int emu_lin_read(struct emu_cpu *cpu, uint64_t lin, unsigned size, void *out, unsigned acc)
{
	if (__builtin_expect(cpu->dbg & EMU_DBG_DATA, 0))
		emu_dbg_access(cpu, lin, size, acc); /* data breakpoints (debug.c) */
	unsigned idx = (unsigned)(lin >> 12) & (EMU_TLB_SIZE - 1);
	unsigned off = (unsigned)(lin & 0xfff);
	const struct emu_tlb_entry *e = &cpu->tlb.e[acc & ACC_KIND][idx];
	if (off + size <= 4096) {
		if (e->tag == emu_tlb_tag(cpu, lin, acc)) {
			memcpy(out, (const void *)(uintptr_t)(lin + e->addend), size);
			return EMU_OK;
		}
		uint64_t gpa;
		uint8_t *host;
		EMU_TRY(page_lookup(cpu, lin, acc, &gpa, &host));
		chunk_read(cpu, host, gpa, size, out);
		return EMU_OK;
	}
	/* Straddles two pages: translate both before touching either. */
	unsigned n1 = 4096 - off;
	uint64_t lin2 = (lin + n1) & lin_mask(cpu);
	uint64_t gpa1, gpa2;
	uint8_t *h1, *h2;
	EMU_TRY(page_lookup(cpu, lin, acc, &gpa1, &h1));
	EMU_TRY(page_lookup(cpu, lin2, acc, &gpa2, &h2));
	/* The second lookup may have evicted the first entry; h1 stays valid
	 * because RAM mappings never move. */
	chunk_read(cpu, h1, gpa1, n1, out);
	chunk_read(cpu, h2, gpa2, size - n1, (uint8_t *)out + n1);
	return EMU_OK;
}

int emu_lin_write(struct emu_cpu *cpu, uint64_t lin, unsigned size, const void *in, unsigned acc)
{
	acc = (acc & ~ACC_KIND) | ACC_WRITE;
	if (__builtin_expect(cpu->dbg & EMU_DBG_DATA, 0))
		emu_dbg_access(cpu, lin, size, acc);
	unsigned idx = (unsigned)(lin >> 12) & (EMU_TLB_SIZE - 1);
	unsigned off = (unsigned)(lin & 0xfff);
	const struct emu_tlb_entry *e = &cpu->tlb.e[ACC_WRITE][idx];
	if (off + size <= 4096) {
		if (e->tag == emu_tlb_tag(cpu, lin, acc)) {
			uintptr_t h = (uintptr_t)(lin + e->addend);
			emu_smc_note(cpu, h, size);
			memcpy((void *)h, in, size);
			return EMU_OK;
		}
		uint64_t gpa;
		uint8_t *host;
		EMU_TRY(page_lookup(cpu, lin, acc, &gpa, &host));
		chunk_write(cpu, host, gpa, size, in);
		return EMU_OK;
	}
	unsigned n1 = 4096 - off;
	uint64_t lin2 = (lin + n1) & lin_mask(cpu);
	uint64_t gpa1, gpa2;
	uint8_t *h1, *h2;
	EMU_TRY(page_lookup(cpu, lin, acc, &gpa1, &h1));
	EMU_TRY(page_lookup(cpu, lin2, acc, &gpa2, &h2));
	chunk_write(cpu, h1, gpa1, n1, in);
	chunk_write(cpu, h2, gpa2, size - n1, (const uint8_t *)in + n1);
	return EMU_OK;
}

static int seg_fault(struct emu_cpu *cpu, unsigned seg)
{
	return emu_raise(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, true, 0);
}

int emu_seg_linear(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, unsigned acc,
		   uint64_t *lin)
{
	const struct x86_segment *s = &cpu->seg[seg];
	if (emu_code64(cpu)) {
		uint64_t base = (seg == SEG_FS || seg == SEG_GS) ? s->base : 0;
		uint64_t a = base + off;
		if (!emu_canonical(a) || !emu_canonical(a + size - 1))
			return seg_fault(cpu, seg);
		*lin = a;
		return EMU_OK;
	}
	unsigned kind = acc & ACC_KIND;
	if (emu_prot_mode(cpu) && !emu_vm86(cpu)) {
		if (s->unusable || !s->present)
			return seg_fault(cpu, seg);
		bool code = s->type & 8;
		if (kind == ACC_WRITE && (code || !(s->type & 2)))
			return seg_fault(cpu, seg);
		if (kind == ACC_READ && code && !(s->type & 2))
			return seg_fault(cpu, seg);
	}
	uint64_t last = off + size - 1;
	if (!(s->type & 8) && (s->type & 4) && s->s) {
		/* expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff */
		uint64_t upper = s->db ? 0xffffffffULL : 0xffffULL;
		if (off <= s->limit || last > upper)
			return seg_fault(cpu, seg);
	} else if (last > s->limit || last < off) {
		return seg_fault(cpu, seg);
	}
	*lin = (s->base + off) & 0xffffffffULL;
	return EMU_OK;
}

int emu_read(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t *val)
{
	uint64_t lin;
	EMU_TRY(emu_seg_linear(cpu, seg, off, size, ACC_READ, &lin));
	*val = 0;
	return emu_lin_read(cpu, lin, size, val, ACC_READ);
}

int emu_write(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t lin;
	EMU_TRY(emu_seg_linear(cpu, seg, off, size, ACC_WRITE, &lin));
	return emu_lin_write(cpu, lin, size, &val, ACC_WRITE);
}

int emu_read_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t *val)
{
	*val = 0;
	return emu_lin_read(cpu, lin & lin_mask(cpu), size, val, ACC_READ | ACC_SUPER);
}

int emu_write_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val)
{
	return emu_lin_write(cpu, lin & lin_mask(cpu), size, &val, ACC_WRITE | ACC_SUPER);
}

const uint8_t *emu_fetch_peek(struct emu_cpu *cpu, uint64_t off)
{
	const struct x86_segment *cs = &cpu->seg[SEG_CS];
	uint64_t lin;
	if (emu_code64(cpu)) {
		lin = off;
	} else {
		if (off > cs->limit || cs->limit - off < 15)
			return NULL;
		lin = (cs->base + off) & 0xffffffffULL;
	}
	if ((lin & 0xfff) > 4096 - 16)
		return NULL;
	const struct emu_tlb_entry *e = &cpu->tlb.e[ACC_FETCH][(lin >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->tag != emu_tlb_tag(cpu, lin, ACC_FETCH))
		return NULL;
	return (const uint8_t *)(uintptr_t)(lin + e->addend);
}

const uint8_t *emu_fetch_host(struct emu_cpu *cpu, uint64_t lin)
{
	const struct emu_tlb_entry *e = &cpu->tlb.e[ACC_FETCH][(lin >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->tag == emu_tlb_tag(cpu, lin, ACC_FETCH))
		return (const uint8_t *)(uintptr_t)(lin + e->addend);
	if (emu_code64(cpu) && !emu_canonical(lin))
		return NULL;
	/* A failed walk must leave no trace: the slow path repeats it and
	 * raises the fault itself. */
	uint64_t cr2 = cpu->cr2, gpa;
	uint8_t *host;
	if (page_lookup(cpu, lin, ACC_FETCH, &gpa, &host) != EMU_OK) {
		cpu->cr2 = cr2;
		return NULL;
	}
	return host;
}

int emu_fetch(struct emu_cpu *cpu, uint64_t off, uint8_t *buf, unsigned max, unsigned *got)
{
	const struct x86_segment *cs = &cpu->seg[SEG_CS];
	uint64_t lin;
	*got = 0;
	if (emu_code64(cpu)) {
		lin = off;
		if (!emu_canonical(lin))
			return emu_gp(cpu, 0);
	} else {
		off &= 0xffffffffULL;
		if (off > cs->limit)
			return emu_gp(cpu, 0);
		if (cs->limit - off + 1 < max)
			max = (unsigned)(cs->limit - off + 1);
		lin = (cs->base + off) & 0xffffffffULL;
	}
	unsigned room = 4096 - (unsigned)(lin & 0xfff);
	unsigned n = max < room ? max : room;
	EMU_TRY(emu_lin_read(cpu, lin, n, buf, ACC_FETCH));
	*got = n;
	return EMU_OK;
}
