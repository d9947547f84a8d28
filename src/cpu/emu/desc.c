/* Descriptor-table and segment-register instructions: LGDT/LIDT/SGDT/SIDT,
 * LLDT/LTR/SLDT/STR, MOV to/from segment registers, LDS/LES/LSS/LFS/LGS,
 * LAR/LSL/VERR/VERW and ARPL (SDM vol. 2, vol. 3 §2.4 and §5.10). */
#include "emu.h"

static int need_cpl0(struct emu_cpu *cpu)
{
	if (emu_prot_mode(cpu) && cpu->cpl != 0)
		return emu_gp(cpu, 0);
	return EMU_OK;
}

/* CR4.UMIP: SGDT/SIDT/SLDT/SMSW/STR raise #GP(0) at CPL > 0 (SDM vol. 3
 * §2.5; vol. 2 SGDT "Protected Mode Exceptions"). */
static int umip_check(struct emu_cpu *cpu)
{
	if ((cpu->cr4 & X86_CR4_UMIP) && cpu->cpl > 0)
		return emu_gp(cpu, 0);
	return EMU_OK;
}

static int dtable_load(struct emu_cpu *cpu, const struct emu_insn *in, struct x86_dtable *t)
{
	uint64_t off = emu_ea(cpu, in), limit, base;
	EMU_TRY(need_cpl0(cpu));
	EMU_TRY(emu_read(cpu, in->seg, off, 2, &limit));
	EMU_TRY(emu_read(cpu, in->seg, (off + 2) & emu_addr_mask(in->addrsize), emu_code64(cpu) ? 8 : 4, &base));
	if (emu_code64(cpu)) {
		if ((uint64_t)(((int64_t)(base << 16)) >> 16) != base)
			return emu_gp(cpu, 0);
	} else if (in->opsize == 2) {
		base &= 0xffffff; /* 16-bit operand size: a 24-bit base */
	}
	t->limit = (uint16_t)limit;
	t->base = base;
	return EMU_OK;
}

static int dtable_store(struct emu_cpu *cpu, const struct emu_insn *in, const struct x86_dtable *t)
{
	uint64_t off = emu_ea(cpu, in);
	EMU_TRY(emu_write(cpu, in->seg, off, 2, t->limit));
	return emu_write(cpu, in->seg, (off + 2) & emu_addr_mask(in->addrsize), emu_code64(cpu) ? 8 : 4,
			 emu_code64(cpu) ? t->base : (t->base & 0xffffffffULL));
}

/* LLDT and LTR: system descriptors from the GDT (SDM vol. 2 LLDT, LTR). */
static int load_system(struct emu_cpu *cpu, const struct emu_insn *in, bool tr)
{
	uint64_t v;
	if (!emu_prot_mode(cpu) || emu_vm86(cpu))
		return emu_ud(cpu);
	EMU_TRY(need_cpl0(cpu));
	EMU_TRY(emu_op_read(cpu, in, 0, &v));
	uint16_t sel = (uint16_t)v;
	uint32_t err = sel & 0xfffc;
	if ((sel & ~3u) == 0) {
		if (tr)
			return emu_gp(cpu, 0);
		cpu->seg[SEG_LDTR] = (struct x86_segment){ .selector = sel, .unusable = 1 };
		return EMU_OK;
	}
	if (sel & 4)
		return emu_gp(cpu, err);
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_GP));
	if (d.seg.s)
		return emu_gp(cpu, err);
	if (tr) {
		bool ok = emu_long_mode(cpu) ? d.seg.type == 9 : (d.seg.type == 1 || d.seg.type == 9);
		if (!ok)
			return emu_gp(cpu, err);
	} else if (d.seg.type != 2) {
		return emu_gp(cpu, err);
	}
	/* long mode: the 16-byte descriptor's upper type field must be 0 and
	 * the base canonical (SDM vol. 2 LLDT, LTR: 64-bit mode exceptions) */
	if (emu_long_mode(cpu) && (((d.raw[1] >> 40) & 0x1f) || !emu_canonical(d.seg.base)))
		return emu_gp(cpu, err);
	if (!d.seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	if (tr) {
		/* mark the TSS busy in the GDT */
		d.seg.type |= 2;
		EMU_TRY(emu_write_sys(cpu, cpu->gdt.base + (sel & ~7u) + 5, 1, (d.raw[0] >> 40 & 0xff) | 2));
		cpu->seg[SEG_TR] = d.seg;
	} else {
		cpu->seg[SEG_LDTR] = d.seg;
	}
	return EMU_OK;
}

static int store_sel(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t sel)
{
	if (in->has_mem)
		return emu_write(cpu, in->seg, emu_ea(cpu, in), 2, sel);
	emu_reg_set(cpu, in, in->rm, in->opsize, sel);
	return EMU_OK;
}

/* LAR/LSL/VERR/VERW: is the selector visible at this CPL/RPL? */
static bool desc_visible(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d, int *r)
{
	*r = EMU_OK;
	if ((sel & ~3u) == 0)
		return false;
	uint64_t base = (sel & 4) ? cpu->seg[SEG_LDTR].base : cpu->gdt.base;
	uint64_t limit = (sel & 4) ? cpu->seg[SEG_LDTR].limit : cpu->gdt.limit;
	if ((sel & 4) && cpu->seg[SEG_LDTR].unusable)
		return false;
	if ((uint64_t)(sel & ~7u) + 7 > limit)
		return false;
	*r = emu_read_sys(cpu, base + (sel & ~7u), 8, &d->raw[0]);
	if (*r)
		return false;
	emu_desc_decode(d->raw[0], 0, &d->seg);
	bool conforming = d->seg.s && (d->seg.type & 0xc) == 0xc;
	if (!conforming && (d->seg.dpl < cpu->cpl || d->seg.dpl < (sel & 3)))
		return false;
	return true;
}

static int lar_lsl(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v;
	int r;
	if (!emu_prot_mode(cpu) || emu_vm86(cpu))
		return emu_ud(cpu);
	EMU_TRY(emu_op_read(cpu, in, 1, &v));
	struct emu_desc d;
	uint16_t sel = (uint16_t)v;
	bool ok = desc_visible(cpu, sel, &d, &r);
	EMU_TRY(r);
	if (ok && !d.seg.s) {
		/* system types LAR/LSL accept (SDM vol. 2 LAR table 3-61) */
		static const uint16_t lar_ok = 0x1e | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 14) | (1 << 15);
		static const uint16_t lsl_ok = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);
		uint16_t okset = in->mnem == M_LAR ? lar_ok : lsl_ok;
		if (emu_long_mode(cpu))
			okset &= (1 << 2) | (1 << 9) | (1 << 11) | (in->mnem == M_LAR ? (1 << 12) : 0);
		ok = (okset >> d.seg.type) & 1;
	}
	uint64_t f = emu_flags_get(cpu) & ~(uint64_t)FL_ZF;
	if (ok) {
		f |= FL_ZF;
		uint64_t res = in->mnem == M_LAR ? (d.raw[0] >> 32) & 0x00f0ff00ULL : d.seg.limit;
		emu_reg_set(cpu, in, in->reg, in->opsize, res);
	}
	cpu->rflags = f;
	return EMU_OK;
}

static int verr_verw(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v;
	int r;
	if (!emu_prot_mode(cpu) || emu_vm86(cpu))
		return emu_ud(cpu);
	EMU_TRY(emu_op_read(cpu, in, 0, &v));
	struct emu_desc d;
	bool ok = desc_visible(cpu, (uint16_t)v, &d, &r);
	EMU_TRY(r);
	if (ok) {
		bool code = d.seg.type & 8;
		if (!d.seg.s)
			ok = false;
		else if (in->mnem == M_VERR)
			ok = !code || (d.seg.type & 2);
		else
			ok = !code && (d.seg.type & 2);
	}
	uint64_t f = emu_flags_get(cpu) & ~(uint64_t)FL_ZF;
	cpu->rflags = f | (ok ? FL_ZF : 0);
	return EMU_OK;
}

int emu_x_desc(struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t v, off, sel;
	switch (in->mnem) {
	case M_LGDT: return dtable_load(cpu, in, &cpu->gdt);
	case M_LIDT: return dtable_load(cpu, in, &cpu->idt);
	case M_SGDT:
		EMU_TRY(umip_check(cpu));
		return dtable_store(cpu, in, &cpu->gdt);
	case M_SIDT:
		EMU_TRY(umip_check(cpu));
		return dtable_store(cpu, in, &cpu->idt);
	case M_LLDT: return load_system(cpu, in, false);
	case M_LTR: return load_system(cpu, in, true);
	case M_SLDT:
	case M_STR:
		if (!emu_prot_mode(cpu) || emu_vm86(cpu))
			return emu_ud(cpu);
		EMU_TRY(umip_check(cpu));
		return store_sel(cpu, in, cpu->seg[in->mnem == M_STR ? SEG_TR : SEG_LDTR].selector);
	case M_LAR:
	case M_LSL:
		return lar_lsl(cpu, in);
	case M_VERR:
	case M_VERW:
		return verr_verw(cpu, in);
	case M_ARPL: {
		if (!emu_prot_mode(cpu) || emu_vm86(cpu))
			return emu_ud(cpu);
		uint64_t src;
		EMU_TRY(emu_op_read(cpu, in, 0, &v));
		EMU_TRY(emu_op_read(cpu, in, 1, &src));
		uint64_t f = emu_flags_get(cpu) & ~(uint64_t)FL_ZF;
		if ((v & 3) < (src & 3)) {
			EMU_TRY(emu_op_write(cpu, in, 0, (v & ~3ULL) | (src & 3)));
			f |= FL_ZF;
		}
		cpu->rflags = f;
		return EMU_OK;
	}
	case M_MOVSEG: {
		if (in->op[0].kind == OK_S) {
			unsigned s = in->reg & 7;
			if (s == SEG_CS || s > SEG_GS)
				return emu_ud(cpu);
			EMU_TRY(emu_op_read(cpu, in, 1, &v));
			return emu_load_seg(cpu, s, (uint16_t)v);
		}
		unsigned s = in->reg & 7;
		if (s > SEG_GS)
			return emu_ud(cpu);
		return store_sel(cpu, in, cpu->seg[s].selector);
	}
	case M_LSEG: {
		unsigned w = in->opw[0];
		off = emu_ea(cpu, in);
		EMU_TRY(emu_read(cpu, in->seg, off, w, &v));
		EMU_TRY(emu_read(cpu, in->seg, (off + w) & emu_addr_mask(in->addrsize), 2, &sel));
		EMU_TRY(emu_load_seg(cpu, in->op[2].reg, (uint16_t)sel));
		emu_reg_set(cpu, in, in->reg, w, v);
		return EMU_OK;
	}
	default:
		return emu_ud(cpu);
	}
}
