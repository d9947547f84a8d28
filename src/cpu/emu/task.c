/* Hardware task switching in protected mode (SDM vol. 3A chapter 8): JMP
 * and CALL to a TSS descriptor or a task gate, interrupts and exceptions
 * through an IDT task gate, and IRET with EFLAGS.NT back along the link.
 * 32-bit TSSes (figure 8-2) and 16-bit ones (figure 8-11). In IA-32e mode
 * there is no task switching: the callers raise #GP there (§8.7).
 *
 * Every check that can fail before the switch commits (§8.3 steps 1-4)
 * leaves the CPU untouched, so the caller's own roll-back holds. Faults
 * while loading the new task's segments (steps 12-13) happen in the new
 * task's context, with its state already loaded: they are delivered from
 * here and the instruction counts as completed. */
#include <string.h>

#include "emu.h"

/* Field offsets of the two TSS formats. */
static const struct {
	unsigned eip, eflags, gpr, sel, ldt, cr3, trap, min_limit, w;
} fmt[2] = {
	/* 16-bit: IP 14, FLAGS 16, AX..DI 18-32, ES CS SS DS 34-40, LDT 42 */
	{ 14, 16, 18, 34, 42, 0, 0, 0x2b, 2 },
	/* 32-bit: CR3 28, EIP 32, EFLAGS 36, EAX..EDI 40-68, ES..GS 72-92, LDT 96, T 100 */
	{ 32, 36, 40, 72, 96, 28, 100, 0x67, 4 },
};

static const unsigned tss_sreg[6] = { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

static uint32_t get_le(const uint8_t *p, unsigned w)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned w, uint32_t v)
{
	for (unsigned i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void emu_tss_decode(const uint8_t *buf, bool tss32, struct emu_tss_image *t)
{
	const unsigned f = tss32;
	unsigned w = fmt[f].w, nsel = tss32 ? 6 : 4;
	memset(t, 0, sizeof(*t));
	t->link = (uint16_t)get_le(buf, 2);
	t->eip = get_le(buf + fmt[f].eip, w);
	t->eflags = get_le(buf + fmt[f].eflags, w);
	for (unsigned i = 0; i < 8; i++)
		t->gpr[i] = get_le(buf + fmt[f].gpr + i * w, w);
	for (unsigned i = 0; i < nsel; i++)
		t->sel[i] = (uint16_t)get_le(buf + fmt[f].sel + i * w, 2);
	t->ldt = (uint16_t)get_le(buf + fmt[f].ldt, 2);
	if (tss32) {
		t->cr3 = get_le(buf + fmt[f].cr3, 4);
		t->trap = buf[fmt[f].trap] & 1;
	}
}

void emu_tss_encode_dynamic(uint8_t *buf, bool tss32, const struct emu_tss_image *t)
{
	const unsigned f = tss32;
	unsigned w = fmt[f].w, nsel = tss32 ? 6 : 4;
	put_le(buf + fmt[f].eip, w, t->eip);
	put_le(buf + fmt[f].eflags, w, t->eflags);
	for (unsigned i = 0; i < 8; i++)
		put_le(buf + fmt[f].gpr + i * w, w, t->gpr[i]);
	for (unsigned i = 0; i < nsel; i++)
		put_le(buf + fmt[f].sel + i * w, 4 * tss32 + 2 * !tss32, t->sel[i]); /* 32-bit: high word 0 */
}

unsigned emu_tss_dynamic_range(bool tss32, unsigned *end)
{
	/* §8.2.1: the dynamic fields, the ones a task switch saves */
	*end = tss32 ? 96 : 42;
	return fmt[tss32].eip;
}

static bool is_tss(unsigned type)
{
	return (type & 5) == 1; /* 1, 3 (16-bit), 9, 0xb (32-bit) */
}

/* Sets or clears the busy bit (type bit 1) of the TSS descriptor sel in
 * the GDT (§8.2.2). */
static int set_busy(struct emu_cpu *cpu, uint16_t sel, bool busy)
{
	uint64_t a = cpu->gdt.base + (sel & ~7u) + 5, v;
	EMU_TRY(emu_read_sys(cpu, a, 1, &v));
	v = busy ? (v | 2) : (v & ~2ULL);
	return emu_write_sys(cpu, a, 1, v);
}

static int read_bytes(struct emu_cpu *cpu, uint64_t lin, uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i += 4) {
		uint64_t v;
		unsigned k = n - i < 4 ? n - i : 4;
		EMU_TRY(emu_read_sys(cpu, lin + i, k, &v));
		put_le(buf + i, k, (uint32_t)v);
	}
	return EMU_OK;
}

static int write_bytes(struct emu_cpu *cpu, uint64_t lin, const uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i += 2)
		EMU_TRY(emu_write_sys(cpu, lin + i, 2, get_le(buf + i, 2)));
	return EMU_OK;
}

/* Loads one segment register of the new task with the checks of §8.3
 * table 8-2 (#TS with the selector; #NP, or #SS for the stack, when not
 * present). CPL is already the new CS's RPL. */
static int load_task_seg(struct emu_cpu *cpu, unsigned sreg, uint16_t sel)
{
	uint32_t err = sel & 0xfffc;
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	if ((sel & ~3u) == 0) {
		if (sreg == SEG_CS || sreg == SEG_SS)
			return emu_raise(cpu, EXC_TS, true, err);
		cpu->seg[sreg] = (struct x86_segment){ .selector = sel, .unusable = 1 };
		return EMU_OK;
	}
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_TS));
	bool code = d.seg.type & 8, conforming = code && (d.seg.type & 4);
	if (!d.seg.s)
		return emu_raise(cpu, EXC_TS, true, err);
	if (sreg == SEG_CS) {
		if (!code || (conforming ? d.seg.dpl > rpl : d.seg.dpl != rpl))
			return emu_raise(cpu, EXC_TS, true, err);
	} else if (sreg == SEG_SS) {
		if (code || !(d.seg.type & 2) || d.seg.dpl != cpl || rpl != cpl)
			return emu_raise(cpu, EXC_TS, true, err);
	} else {
		if ((code && !(d.seg.type & 2)) || (!conforming && (d.seg.dpl < cpl || d.seg.dpl < rpl)))
			return emu_raise(cpu, EXC_TS, true, err);
	}
	if (!d.seg.present)
		return emu_raise(cpu, sreg == SEG_SS ? EXC_SS : EXC_NP, true, err);
	EMU_TRY(emu_desc_set_accessed(cpu, sel, &d));
	cpu->seg[sreg] = d.seg;
	return EMU_OK;
}

/* §8.3 steps 12-13: the new task's LDTR and segment registers. The
 * selectors are all loaded first (marked unusable), as a fault part-way
 * leaves the new task with its selectors and no descriptors. */
static int load_task_state(struct emu_cpu *cpu, const struct emu_tss_image *t, bool tss32)
{
	unsigned nsel = tss32 ? 6 : 4;
	for (unsigned i = 0; i < 6; i++)
		cpu->seg[tss_sreg[i]] = (struct x86_segment){ .selector = i < nsel ? t->sel[i] : 0, .unusable = 1 };
	cpu->seg[SEG_LDTR] = (struct x86_segment){ .selector = t->ldt, .unusable = 1 };
	if (t->ldt & ~3u) {
		struct emu_desc d;
		if (t->ldt & 4)
			return emu_raise(cpu, EXC_TS, true, t->ldt & 0xfffc);
		EMU_TRY(emu_desc_read(cpu, t->ldt, &d, EXC_TS));
		if (d.seg.s || d.seg.type != 2)
			return emu_raise(cpu, EXC_TS, true, t->ldt & 0xfffc);
		if (!d.seg.present)
			return emu_raise(cpu, EXC_NP, true, t->ldt & 0xfffc);
		cpu->seg[SEG_LDTR] = d.seg;
	}
	if (emu_vm86(cpu)) { /* a virtual-8086 task: real-mode style segments, CPL 3 */
		for (unsigned i = 0; i < 6; i++)
			emu_seg_real(cpu, tss_sreg[i], t->sel[i]);
		cpu->cpl = 3;
		emu_cpu_update_mode(cpu);
		return EMU_OK;
	}
	cpu->cpl = t->sel[1] & 3;
	EMU_TRY(load_task_seg(cpu, SEG_CS, t->sel[1]));
	emu_cpu_update_mode(cpu);
	EMU_TRY(load_task_seg(cpu, SEG_SS, t->sel[2]));
	static const unsigned data[4] = { 0, 3, 4, 5 }; /* ES DS FS GS */
	for (unsigned i = 0; i < 4; i++)
		if (data[i] < nsel)
			EMU_TRY(load_task_seg(cpu, tss_sreg[data[i]], t->sel[data[i]]));
	if (t->eip > cpu->seg[SEG_CS].limit)
		return emu_gp(cpu, 0);
	return EMU_OK;
}

int emu_task_switch(struct emu_cpu *cpu, uint16_t sel, enum emu_task_src src, uint32_t ext, uint64_t ret_eip,
		    bool has_error, uint32_t error)
{
	uint32_t err = (sel & 0xfffc) | ext;
	struct emu_desc nd;
	if (emu_long_mode(cpu))
		return emu_gp(cpu, err);
	/* §8.3 steps 1-3: the new TSS descriptor (GDT only), its type, busy
	 * state, presence and limit */
	if (sel & 4)
		return emu_raise(cpu, src == TASK_IRET ? EXC_TS : EXC_GP, true, err);
	EMU_TRY(emu_desc_read(cpu, sel, &nd, src == TASK_IRET ? EXC_TS : EXC_GP));
	bool busy = nd.seg.type & 2;
	if (nd.seg.s || !is_tss(nd.seg.type) || (src == TASK_IRET) != busy)
		return emu_raise(cpu, src == TASK_IRET ? EXC_TS : EXC_GP, true, err);
	if (!nd.seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	bool new32 = nd.seg.type & 8;
	if (nd.seg.limit < fmt[new32].min_limit)
		return emu_raise(cpu, EXC_TS, true, err);
	const struct x86_segment *tr = &cpu->seg[SEG_TR];
	bool old32 = tr->type & 8;
	if (tr->unusable || tr->limit < fmt[old32].min_limit)
		return emu_raise(cpu, EXC_TS, true, (tr->selector & 0xfffc) | ext);

	/* step 4: read the new task's TSS before anything changes */
	uint8_t nbuf[104], obuf[104];
	EMU_TRY(read_bytes(cpu, nd.seg.base, nbuf, fmt[new32].min_limit + 1));
	struct emu_tss_image nt, ot;
	emu_tss_decode(nbuf, new32, &nt);

	/* steps 6-7: the outgoing task's dynamic state, NT cleared in it on
	 * IRET (step 6), written into its TSS (step 7) */
	uint16_t old_sel = tr->selector;
	uint64_t flags = emu_flags_get(cpu);
	if (src == TASK_IRET)
		flags &= ~(uint64_t)FL_NT;
	memset(&ot, 0, sizeof(ot));
	ot.eip = (uint32_t)ret_eip;
	ot.eflags = (uint32_t)flags;
	for (unsigned i = 0; i < 8; i++)
		ot.gpr[i] = (uint32_t)cpu->gpr[i];
	for (unsigned i = 0; i < 6; i++)
		ot.sel[i] = cpu->seg[tss_sreg[i]].selector;
	unsigned end, beg = emu_tss_dynamic_range(old32, &end);
	memset(obuf, 0, sizeof(obuf));
	emu_tss_encode_dynamic(obuf, old32, &ot);
	EMU_TRY(write_bytes(cpu, tr->base + beg, obuf + beg, end - beg));
	/* step 5: JMP and IRET leave the old task not busy */
	if (src == TASK_JMP || src == TASK_IRET)
		EMU_TRY(set_busy(cpu, old_sel, false));
	/* §8.4: CALL and interrupts link the new task back; step 10: busy */
	if (src == TASK_CALL || src == TASK_INT) {
		EMU_TRY(emu_write_sys(cpu, nd.seg.base, 2, old_sel));
		nt.eflags |= FL_NT; /* step 8 */
	}
	if (src != TASK_IRET) {
		EMU_TRY(set_busy(cpu, sel, true));
		nd.seg.type |= 2;
	}

	/* The switch is committed: steps 11-12 load TR, CR0.TS, CR3, EFLAGS,
	 * EIP and the registers; faults from here on are the new task's. */
	cpu->seg[SEG_TR] = nd.seg;
	cpu->seg[SEG_TR].selector = sel;
	cpu->cr0 |= X86_CR0_TS;
	/* a 16-bit TSS has FLAGS only: the upper half (VM, RF, AC, ID) is 0 */
	emu_flags_set(cpu, new32 ? nt.eflags : nt.eflags & 0xffff);
	for (unsigned i = 0; i < 8; i++)
		cpu->gpr[i] = new32 ? nt.gpr[i] : (cpu->gpr[i] & ~0xffffULL) | (nt.gpr[i] & 0xffff);
	cpu->rip = cpu->next_rip = nt.eip;
	cpu->irq_shadow = 0;
	/* CR3 with its TLB flush (never faults outside IA-32e mode) */
	int r = new32 && (cpu->cr0 & X86_CR0_PG) ? emu_set_cr(cpu, 3, nt.cr3) : EMU_OK;
	if (r == EMU_OK)
		r = load_task_state(cpu, &nt, new32);
	/* an exception that caused the switch pushes its error code on the new
	 * task's stack (§6.12.2) */
	if (r == EMU_OK && has_error)
		r = emu_push(cpu, new32 ? 4 : 2, error);
	if (r == EMU_OK && nt.trap)
		cpu->db_pending |= EMU_DR6_BT; /* §8.2.1: T flag, #DB after the switch */
	if (r == EMU_OK)
		return EMU_OK;
	/* §8.3 step 13: a fault here belongs to the new task; it is raised
	 * before the new task's first instruction, delivered from here */
	if (cpu->task_depth >= 3)
		return r; /* a loop of failing task switches: the caller's #DF / shutdown */
	cpu->task_depth++;
	bool ok = emu_deliver_exception(cpu);
	cpu->task_depth--;
	return ok ? EMU_OK : emu_raise(cpu, EXC_DF, true, 0);
}

/* JMP/CALL far to a TSS descriptor, or to a task gate naming one (SDM vol.
 * 2 JMP/CALL "TASK-GATE" and "TASK-STATE-SEGMENT"). */
int emu_task_far(struct emu_cpu *cpu, const struct emu_desc *d, uint16_t sel, bool call, uint64_t ret_eip)
{
	uint32_t err = sel & 0xfffc;
	enum emu_task_src src = call ? TASK_CALL : TASK_JMP;
	if (d->seg.dpl < cpu->cpl || d->seg.dpl < (sel & 3))
		return emu_gp(cpu, err);
	if (d->seg.type == 5) { /* task gate: the TSS selector is in bits 16-31 */
		if (!d->seg.present)
			return emu_raise(cpu, EXC_NP, true, err);
		return emu_task_switch(cpu, (uint16_t)(d->raw[0] >> 16), src, 0, ret_eip, false, 0);
	}
	if (d->seg.type & 2) /* busy TSS */
		return emu_gp(cpu, err);
	return emu_task_switch(cpu, sel, src, 0, ret_eip, false, 0);
}
