/* Segment descriptors and segment-register loads with the protection
 * checks of SDM vol. 3 §5.5-5.8 (and the MOV/POP/LDS reference pages). */
#include "emu.h"

void emu_desc_decode(uint64_t lo, uint64_t hi, struct x86_segment *seg)
{
	uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
	seg->g = (lo >> 55) & 1;
	seg->limit = seg->g ? (limit << 12) | 0xfff : limit;
	seg->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24);
	seg->type = (lo >> 40) & 0xf;
	seg->s = (lo >> 44) & 1;
	seg->dpl = (lo >> 45) & 3;
	seg->present = (lo >> 47) & 1;
	seg->avl = (lo >> 52) & 1;
	seg->l = (lo >> 53) & 1;
	seg->db = (lo >> 54) & 1;
	seg->unusable = 0;
	if (!seg->s)
		seg->base |= (hi & 0xffffffffULL) << 32; /* 16-byte system descriptors (long mode) */
}

int emu_desc_read(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d, unsigned vec)
{
	uint64_t base, limit;
	uint32_t err = sel & 0xfffc;
	if (sel & 4) {
		const struct x86_segment *ldt = &cpu->seg[SEG_LDTR];
		if (ldt->unusable || !ldt->present)
			return emu_raise(cpu, vec, true, err);
		base = ldt->base;
		limit = ldt->limit;
	} else {
		base = cpu->gdt.base;
		limit = cpu->gdt.limit;
	}
	uint64_t off = (uint64_t)(sel & ~7u);
	if (off + 7 > limit)
		return emu_raise(cpu, vec, true, err);
	EMU_TRY(emu_read_sys(cpu, base + off, 8, &d->raw[0]));
	d->raw[1] = 0;
	bool system = !((d->raw[0] >> 44) & 1);
	if (system && emu_long_mode(cpu)) {
		if (off + 15 > limit)
			return emu_raise(cpu, vec, true, err);
		EMU_TRY(emu_read_sys(cpu, base + off + 8, 8, &d->raw[1]));
	}
	emu_desc_decode(d->raw[0], d->raw[1], &d->seg);
	d->seg.selector = sel;
	return EMU_OK;
}

/* Sets the accessed bit in the descriptor table, as the CPU does on a
 * segment load (SDM vol. 3 §3.4.5.1). */
int emu_desc_set_accessed(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d)
{
	if (!d->seg.s || (d->seg.type & 1))
		return EMU_OK;
	uint64_t base = (sel & 4) ? cpu->seg[SEG_LDTR].base : cpu->gdt.base;
	d->raw[0] |= 1ULL << 40;
	d->seg.type |= 1;
	return emu_write_sys(cpu, base + (sel & ~7u) + 5, 1, (d->raw[0] >> 40) & 0xff);
}

void emu_seg_real(struct emu_cpu *cpu, unsigned sreg, uint16_t sel)
{
	struct x86_segment *s = &cpu->seg[sreg];
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	s->unusable = 0;
	s->present = 1;
	if (emu_vm86(cpu)) {
		s->limit = 0xffff;
		s->type = sreg == SEG_CS ? 0xb : 3;
		s->s = 1;
		s->dpl = 3;
		s->db = 0;
		s->l = 0;
		s->g = 0;
	}
}

int emu_load_seg(struct emu_cpu *cpu, unsigned sreg, uint16_t sel)
{
	if (!emu_prot_mode(cpu) || emu_vm86(cpu)) {
		emu_seg_real(cpu, sreg, sel);
		if (sreg == SEG_CS)
			emu_cpu_update_mode(cpu);
		if (sreg == SEG_SS)
			cpu->irq_shadow = 1; /* MOV/POP SS hold interrupts for one instruction */
		return EMU_OK;
	}
	struct x86_segment *s = &cpu->seg[sreg];
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	if ((sel & ~3u) == 0) {
		/* A null selector: fine for data segments; for SS only in 64-bit
		 * mode below CPL 3 (SDM vol. 3 §5.4.1.1). */
		if (sreg == SEG_SS && !(emu_code64(cpu) && cpl != 3 && rpl == cpl))
			return emu_gp(cpu, 0);
		*s = (struct x86_segment){ .selector = sel, .unusable = 1, .dpl = (uint8_t)cpl };
		return EMU_OK;
	}
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_GP));
	uint32_t err = sel & 0xfffc;
	bool code = d.seg.type & 8;
	if (!d.seg.s)
		return emu_gp(cpu, err);
	if (sreg == SEG_SS) {
		if (rpl != cpl || code || !(d.seg.type & 2) || d.seg.dpl != cpl)
			return emu_gp(cpu, err);
		if (!d.seg.present)
			return emu_raise(cpu, EXC_SS, true, err);
	} else {
		if (code && !(d.seg.type & 2))
			return emu_gp(cpu, err);
		bool conforming = code && (d.seg.type & 4);
		if (!conforming && (rpl > d.seg.dpl || cpl > d.seg.dpl))
			return emu_gp(cpu, err);
		if (!d.seg.present)
			return emu_raise(cpu, EXC_NP, true, err);
	}
	EMU_TRY(emu_desc_set_accessed(cpu, sel, &d));
	*s = d.seg;
	if (sreg == SEG_SS)
		cpu->irq_shadow = 1;
	return EMU_OK;
}

void emu_set_cs(struct emu_cpu *cpu, uint16_t sel, const struct x86_segment *s, unsigned cpl)
{
	cpu->seg[SEG_CS] = *s;
	cpu->seg[SEG_CS].selector = (uint16_t)((sel & ~3u) | cpl);
	cpu->cpl = (uint8_t)cpl;
	emu_cpu_update_mode(cpu);
}

/* The checks for a far JMP/CALL straight to a code segment (SDM vol. 2,
 * JMP "Far jumps in protected mode"). Gates are handled by the caller. */
int emu_load_cs_far(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d, unsigned cpl)
{
	uint32_t err = sel & 0xfffc;
	unsigned rpl = sel & 3;
	if (!d->seg.s || !(d->seg.type & 8))
		return emu_gp(cpu, err);
	if (d->seg.type & 4) {
		if (d->seg.dpl > cpl)
			return emu_gp(cpu, err);
	} else if (rpl > cpl || d->seg.dpl != cpl) {
		return emu_gp(cpu, err);
	}
	if (!d->seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	if (emu_long_mode(cpu) && d->seg.l && d->seg.db)
		return emu_gp(cpu, err);
	EMU_TRY(emu_desc_set_accessed(cpu, sel, d));
	return EMU_OK;
}
