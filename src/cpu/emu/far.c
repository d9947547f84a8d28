/* Far control transfers: JMP/CALL far (direct and through call gates) and
 * RETF, in real, protected and long mode (SDM vol. 2 JMP, CALL, RET; vol. 3
 * §5.8 privilege-level changes). A fault half-way restores the state saved
 * at entry, so no far transfer is ever half done. */
#include <string.h>

#include "emu.h"

struct far_save {
	struct x86_segment seg[SEG_COUNT];
	uint64_t rsp;
	uint8_t cpl;
};

static void save(const struct emu_cpu *cpu, struct far_save *s)
{
	memcpy(s->seg, cpu->seg, sizeof(s->seg));
	s->rsp = cpu->gpr[RSP];
	s->cpl = cpu->cpl;
}

static int restore(struct emu_cpu *cpu, const struct far_save *s, int r)
{
	memcpy(cpu->seg, s->seg, sizeof(s->seg));
	cpu->gpr[RSP] = s->rsp;
	cpu->cpl = s->cpl;
	emu_cpu_update_mode(cpu);
	return r;
}

/* Is off a valid RIP in the code segment s (in long mode s->l matters)? */
static bool target_ok(const struct emu_cpu *cpu, const struct x86_segment *s, uint64_t off)
{
	if (emu_long_mode(cpu) && s->l)
		return emu_canonical(off);
	return off <= s->limit;
}

void emu_null_outer_data_segs(struct emu_cpu *cpu)
{
	/* SDM vol. 2 RET/IRET: data segments the new CPL may not use are nulled:
	 * only the selector ("SegmentSelector <- 0"); the hidden base stays,
	 * and 64-bit mode still adds FS's and GS's (a kernel's per-CPU GS
	 * base survives a trip to CPL 3 and back) */
	static const unsigned segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < 4; i++) {
		struct x86_segment *s = &cpu->seg[segs[i]];
		bool conforming_code = (s->type & 0xc) == 0xc;
		if (!s->unusable && !conforming_code && s->dpl < cpu->cpl)
			*s = (struct x86_segment){ .unusable = 1, .base = s->base };
	}
}

/* Loads SS:RSP for an inner privilege level dpl from the TSS and switches
 * to it (CPL becomes dpl). 64-bit mode: null SS with RPL = dpl. */
int emu_switch_stack(struct emu_cpu *cpu, unsigned dpl, unsigned ist)
{
	uint16_t ss;
	uint64_t sp;
	EMU_TRY(emu_tss_stack(cpu, dpl, ist, &ss, &sp));
	cpu->cpl = (uint8_t)dpl;
	if (emu_long_mode(cpu)) {
		cpu->seg[SEG_SS] = (struct x86_segment){ .selector = (uint16_t)dpl, .unusable = 1,
							 .dpl = (uint8_t)dpl, .db = 1 };
		cpu->gpr[RSP] = sp;
		return EMU_OK;
	}
	if ((ss & 3) != dpl)
		return emu_raise(cpu, EXC_TS, true, ss & 0xfffc);
	struct emu_desc d;
	if ((ss & ~3u) == 0)
		return emu_raise(cpu, EXC_TS, true, 0);
	EMU_TRY(emu_desc_read(cpu, ss, &d, EXC_TS));
	if (!d.seg.s || (d.seg.type & 8) || !(d.seg.type & 2) || d.seg.dpl != dpl)
		return emu_raise(cpu, EXC_TS, true, ss & 0xfffc);
	if (!d.seg.present)
		return emu_raise(cpu, EXC_SS, true, ss & 0xfffc);
	EMU_TRY(emu_desc_set_accessed(cpu, ss, &d));
	cpu->seg[SEG_SS] = d.seg;
	cpu->gpr[RSP] = d.seg.db ? (sp & 0xffffffffULL) : (sp & 0xffff);
	return EMU_OK;
}

static int far_real(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t sel, uint64_t off, bool call)
{
	unsigned s = in->opsize;
	if (call) {
		EMU_TRY(emu_push(cpu, s, cpu->seg[SEG_CS].selector));
		EMU_TRY(emu_push(cpu, s, cpu->next_rip));
	}
	emu_seg_real(cpu, SEG_CS, sel);
	emu_cpu_update_mode(cpu);
	cpu->next_rip = off & emu_mask(s);
	return EMU_OK;
}

/* CALL through a call gate to a more privileged level: switch stacks, copy
 * parameters (legacy gates), push the caller's SS:SP and CS:IP. */
static int call_gate_inner(struct emu_cpu *cpu, const struct emu_desc *gate, struct emu_desc *cs, uint16_t cs_sel,
			   uint64_t off, unsigned gsize)
{
	uint64_t old_ss = cpu->seg[SEG_SS].selector, old_sp = cpu->gpr[RSP];
	uint64_t old_cs = cpu->seg[SEG_CS].selector, ret = cpu->next_rip;
	struct x86_segment old_ss_seg = cpu->seg[SEG_SS];
	unsigned nparams = emu_long_mode(cpu) ? 0 : (unsigned)((gate->raw[0] >> 32) & 31);
	uint64_t params[31];
	for (unsigned i = 0; i < nparams; i++) {
		uint64_t a = (old_sp + (nparams - 1 - i) * gsize) & emu_mask(old_ss_seg.db ? 4 : 2);
		EMU_TRY(emu_read(cpu, SEG_SS, a, gsize, &params[i]));
	}
	EMU_TRY(emu_switch_stack(cpu, cs->seg.dpl, 0));
	emu_set_cs(cpu, cs_sel, &cs->seg, cs->seg.dpl);
	EMU_TRY(emu_push(cpu, gsize, old_ss));
	EMU_TRY(emu_push(cpu, gsize, old_sp));
	for (unsigned i = 0; i < nparams; i++)
		EMU_TRY(emu_push(cpu, gsize, params[i]));
	EMU_TRY(emu_push(cpu, gsize, old_cs));
	EMU_TRY(emu_push(cpu, gsize, ret));
	cpu->next_rip = off;
	return EMU_OK;
}

static int far_gate(struct emu_cpu *cpu, struct emu_desc *gate, uint16_t sel, bool call)
{
	uint32_t err = sel & 0xfffc;
	unsigned type = gate->seg.type;
	bool lm = emu_long_mode(cpu);
	if (!lm && (type == 5 || (type & 5) == 1)) /* a task gate or a TSS: a task switch */
		return emu_task_far(cpu, gate, sel, call, cpu->next_rip);
	if ((lm && type != 0xc) || (!lm && type != 0xc && type != 0x4))
		return emu_gp(cpu, err);
	if (gate->seg.dpl < cpu->cpl || gate->seg.dpl < (sel & 3))
		return emu_gp(cpu, err);
	if (!gate->seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	uint16_t cs_sel = (uint16_t)(gate->raw[0] >> 16);
	uint64_t off = (gate->raw[0] & 0xffff) | ((gate->raw[0] >> 32) & 0xffff0000ULL);
	if (lm)
		off |= (gate->raw[1] & 0xffffffffULL) << 32;
	unsigned gsize = lm ? 8 : type == 0xc ? 4 : 2;
	if (type == 0x4)
		off &= 0xffff;
	if ((cs_sel & ~3u) == 0)
		return emu_gp(cpu, 0);
	struct emu_desc cs;
	EMU_TRY(emu_desc_read(cpu, cs_sel, &cs, EXC_GP));
	if (!cs.seg.s || !(cs.seg.type & 8) || cs.seg.dpl > cpu->cpl || (lm && !(cs.seg.l && !cs.seg.db)))
		return emu_gp(cpu, cs_sel & 0xfffc);
	if (!cs.seg.present)
		return emu_raise(cpu, EXC_NP, true, cs_sel & 0xfffc);
	bool conforming = cs.seg.type & 4;
	if (!call && !conforming && cs.seg.dpl != cpu->cpl)
		return emu_gp(cpu, cs_sel & 0xfffc);
	if (!target_ok(cpu, &cs.seg, off))
		return emu_gp(cpu, 0);
	EMU_TRY(emu_desc_set_accessed(cpu, cs_sel, &cs));
	if (call && !conforming && cs.seg.dpl < cpu->cpl)
		return call_gate_inner(cpu, gate, &cs, cs_sel, off, gsize);
	if (call) {
		EMU_TRY(emu_push(cpu, gsize, cpu->seg[SEG_CS].selector));
		EMU_TRY(emu_push(cpu, gsize, cpu->next_rip));
	}
	emu_set_cs(cpu, cs_sel, &cs.seg, cpu->cpl);
	cpu->next_rip = off;
	return EMU_OK;
}

static int far_transfer(struct emu_cpu *cpu, const struct emu_insn *in, uint16_t sel, uint64_t off, bool call)
{
	if (!emu_prot_mode(cpu) || emu_vm86(cpu))
		return far_real(cpu, in, sel, off, call);
	if ((sel & ~3u) == 0)
		return emu_gp(cpu, 0);
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_GP));
	if (!d.seg.s)
		return far_gate(cpu, &d, sel, call);
	unsigned s = in->opsize;
	off &= emu_mask(s);
	EMU_TRY(emu_load_cs_far(cpu, sel, &d, cpu->cpl));
	if (!target_ok(cpu, &d.seg, off))
		return emu_gp(cpu, 0);
	if (call) {
		EMU_TRY(emu_push(cpu, s, cpu->seg[SEG_CS].selector));
		EMU_TRY(emu_push(cpu, s, cpu->next_rip));
	}
	emu_set_cs(cpu, sel, &d.seg, cpu->cpl);
	cpu->next_rip = off;
	return EMU_OK;
}

static int retf(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize;
	uint64_t ip, csv, adj = in->op[0].kind == OK_I ? (in->imm & 0xffff) : 0;
	EMU_TRY(emu_pop(cpu, s, &ip));
	EMU_TRY(emu_pop(cpu, s, &csv));
	uint16_t sel = (uint16_t)csv;
	unsigned sw = emu_stack_width(cpu);
	if (!emu_prot_mode(cpu) || emu_vm86(cpu)) {
		emu_seg_real(cpu, SEG_CS, sel);
		emu_cpu_update_mode(cpu);
		cpu->next_rip = ip & emu_mask(s);
		emu_reg_set(cpu, NULL, RSP, sw, cpu->gpr[RSP] + adj);
		return EMU_OK;
	}
	unsigned rpl = sel & 3;
	uint32_t err = sel & 0xfffc;
	if ((sel & ~3u) == 0)
		return emu_gp(cpu, 0);
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_GP));
	if (rpl < cpu->cpl || !d.seg.s || !(d.seg.type & 8))
		return emu_gp(cpu, err);
	if ((d.seg.type & 4) ? d.seg.dpl > rpl : d.seg.dpl != rpl)
		return emu_gp(cpu, err);
	if (!d.seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	ip &= emu_mask(s);
	if (!target_ok(cpu, &d.seg, ip))
		return emu_gp(cpu, 0);
	EMU_TRY(emu_desc_set_accessed(cpu, sel, &d));
	emu_reg_set(cpu, NULL, RSP, sw, cpu->gpr[RSP] + adj);
	if (rpl == cpu->cpl) {
		emu_set_cs(cpu, sel, &d.seg, rpl);
		cpu->next_rip = ip;
		return EMU_OK;
	}
	/* return to an outer level: the caller's SS:SP follow */
	uint64_t sp, ssv;
	EMU_TRY(emu_pop(cpu, s, &sp));
	EMU_TRY(emu_pop(cpu, s, &ssv));
	uint8_t old_cpl = cpu->cpl;
	emu_set_cs(cpu, sel, &d.seg, rpl);
	int r = emu_load_seg(cpu, SEG_SS, (uint16_t)ssv);
	if (r) {
		cpu->cpl = old_cpl;
		return r;
	}
	emu_reg_set(cpu, NULL, RSP, emu_stack_width(cpu), sp + adj);
	emu_null_outer_data_segs(cpu);
	cpu->next_rip = ip;
	return EMU_OK;
}

int emu_x_far(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct far_save sv;
	save(cpu, &sv);
	uint64_t ret = cpu->next_rip;
	int r;
	if (in->mnem == M_RETF) {
		r = retf(cpu, in);
	} else {
		uint64_t off, sel;
		if (in->op[0].kind == OK_A) {
			off = in->imm;
			sel = in->imm2;
			r = 0;
		} else {
			uint64_t ea = emu_ea(cpu, in);
			unsigned s = in->opsize;
			r = emu_read(cpu, in->seg, ea, s, &off);
			if (!r)
				r = emu_read(cpu, in->seg, (ea + s) & emu_addr_mask(in->addrsize), 2, &sel);
		}
		if (!r)
			r = far_transfer(cpu, in, (uint16_t)sel, off, in->mnem == M_CALLF);
	}
	if (r) {
		cpu->next_rip = ret;
		return restore(cpu, &sv, r);
	}
	return EMU_OK;
}
