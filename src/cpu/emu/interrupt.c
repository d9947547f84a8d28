/* Interrupt and exception delivery (SDM vol. 3 chapter 6): the real-mode
 * IVT, protected-mode interrupt/trap gates with stack switching through the
 * TSS, 64-bit gates with IST; double-fault and triple-fault rules; INT n,
 * INT3, INTO, INT1 and IRET, including entry to and exits from virtual-8086
 * mode. Task gates switch tasks (task.c); in IA-32e mode there are none. */
#include <string.h>

#include "emu.h"

struct saved {
	struct x86_segment seg[SEG_COUNT];
	uint64_t rsp, rflags;
	uint8_t cpl;
};

static void save(struct emu_cpu *cpu, struct saved *s)
{
	memcpy(s->seg, cpu->seg, sizeof(s->seg));
	s->rsp = cpu->gpr[RSP];
	s->rflags = emu_flags_get(cpu);
	s->cpl = cpu->cpl;
}

static int restore(struct emu_cpu *cpu, const struct saved *s, int r)
{
	memcpy(cpu->seg, s->seg, sizeof(s->seg));
	cpu->gpr[RSP] = s->rsp;
	emu_flags_set(cpu, s->rflags);
	cpu->cpl = s->cpl;
	emu_cpu_update_mode(cpu);
	return r;
}

int emu_tss_stack(struct emu_cpu *cpu, unsigned dpl, unsigned ist, uint16_t *ss, uint64_t *sp)
{
	const struct x86_segment *tr = &cpu->seg[SEG_TR];
	uint32_t err = tr->selector & 0xfffc;
	uint64_t v;
	if (tr->unusable || !tr->present)
		return emu_raise(cpu, EXC_TS, true, err);
	if (emu_long_mode(cpu)) {
		/* 64-bit TSS: RSP0-2 at 4, IST1-7 at 0x24 (SDM vol. 3 §7.7) */
		uint64_t off = ist ? 0x1c + 8 * (uint64_t)ist : 4 + 8 * (uint64_t)dpl;
		if (off + 7 > tr->limit)
			return emu_raise(cpu, EXC_TS, true, err);
		EMU_TRY(emu_read_sys(cpu, tr->base + off, 8, &v));
		*sp = v;
		*ss = (uint16_t)dpl;
		return EMU_OK;
	}
	bool tss32 = tr->type & 8;
	uint64_t off = tss32 ? 4 + 8 * (uint64_t)dpl : 2 + 4 * (uint64_t)dpl;
	unsigned w = tss32 ? 4 : 2;
	if (off + w + 1 > tr->limit)
		return emu_raise(cpu, EXC_TS, true, err);
	EMU_TRY(emu_read_sys(cpu, tr->base + off, w, &v));
	*sp = v;
	EMU_TRY(emu_read_sys(cpu, tr->base + off + w, 2, &v));
	*ss = (uint16_t)v;
	return EMU_OK;
}

static int deliver_real(struct emu_cpu *cpu, unsigned vector, uint64_t ret_rip)
{
	uint64_t ent;
	if ((uint64_t)vector * 4 + 3 > cpu->idt.limit)
		return emu_gp(cpu, 0);
	EMU_TRY(emu_read_sys(cpu, cpu->idt.base + vector * 4, 4, &ent));
	uint64_t f = emu_flags_get(cpu);
	EMU_TRY(emu_push(cpu, 2, f));
	EMU_TRY(emu_push(cpu, 2, cpu->seg[SEG_CS].selector));
	EMU_TRY(emu_push(cpu, 2, ret_rip));
	cpu->rflags = f & ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
	emu_seg_real(cpu, SEG_CS, (uint16_t)(ent >> 16));
	emu_cpu_update_mode(cpu);
	cpu->rip = cpu->next_rip = ent & 0xffff;
	return EMU_OK;
}

/* An interrupt or exception in virtual-8086 mode goes to a CPL-0 handler
 * through a 32-bit gate; the frame also holds the VM86 data segments, which
 * are then nulled (SDM vol. 3 §20.3.1.1, figure 20-5). */
static int deliver_from_vm86(struct emu_cpu *cpu, struct emu_desc *cs, uint16_t sel, uint32_t serr, bool gate32,
			     bool trap, bool has_error, uint32_t error, uint64_t ret_rip, uint64_t off)
{
	if (!gate32 || (cs->seg.type & 4) || cs->seg.dpl != 0)
		return emu_gp(cpu, serr);
	uint64_t flags = emu_flags_get(cpu);
	uint64_t old[6] = { cpu->seg[SEG_GS].selector, cpu->seg[SEG_FS].selector, cpu->seg[SEG_DS].selector,
			    cpu->seg[SEG_ES].selector, cpu->seg[SEG_SS].selector, cpu->gpr[RSP] & 0xffffffffULL };
	uint64_t old_cs = cpu->seg[SEG_CS].selector;
	emu_flags_set(cpu, flags & ~(uint64_t)FL_VM); /* leave VM86 before touching descriptors */
	EMU_TRY(emu_switch_stack(cpu, 0, 0));
	for (int i = 0; i < 6; i++)
		EMU_TRY(emu_push(cpu, 4, old[i]));
	EMU_TRY(emu_push(cpu, 4, flags));
	EMU_TRY(emu_push(cpu, 4, old_cs));
	EMU_TRY(emu_push(cpu, 4, ret_rip & 0xffff));
	if (has_error)
		EMU_TRY(emu_push(cpu, 4, error));
	EMU_TRY(emu_desc_set_accessed(cpu, sel, cs));
	static const unsigned data[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (int i = 0; i < 4; i++)
		cpu->seg[data[i]] = (struct x86_segment){ .unusable = 1 };
	emu_set_cs(cpu, sel, &cs->seg, 0);
	flags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!trap)
		flags &= ~(uint64_t)FL_IF;
	emu_flags_set(cpu, flags);
	cpu->rip = cpu->next_rip = off;
	return EMU_OK;
}

static int deliver_prot(struct emu_cpu *cpu, unsigned vector, bool soft, bool has_error, uint32_t error,
			uint64_t ret_rip)
{
	bool lm = emu_long_mode(cpu);
	unsigned esz = lm ? 16 : 8;
	uint32_t ext = soft ? 0 : 1;
	uint32_t gerr = vector * 8 + 2 + ext; /* error code naming the IDT entry */
	uint64_t g[2] = { 0, 0 };
	if ((uint64_t)vector * esz + esz - 1 > cpu->idt.limit)
		return emu_gp(cpu, gerr);
	EMU_TRY(emu_read_sys(cpu, cpu->idt.base + vector * esz, 8, &g[0]));
	if (lm)
		EMU_TRY(emu_read_sys(cpu, cpu->idt.base + vector * esz + 8, 8, &g[1]));
	unsigned type = (g[0] >> 40) & 0xf, gdpl = (g[0] >> 45) & 3;
	bool present = (g[0] >> 47) & 1;
	bool ok_type = lm ? (type == 0xe || type == 0xf) : (type == 0x6 || type == 0x7 || type == 0xe || type == 0xf);
	bool task_gate = !lm && type == 5;
	if (!ok_type && !task_gate)
		return emu_gp(cpu, gerr);
	if (soft && gdpl < cpu->cpl)
		return emu_gp(cpu, gerr);
	if (!present)
		return emu_raise(cpu, EXC_NP, true, gerr);
	if (task_gate) /* SDM vol. 3 §6.12.2: the handler is a task */
		return emu_task_switch(cpu, (uint16_t)(g[0] >> 16), TASK_INT, ext, ret_rip, has_error, error);
	uint16_t sel = (uint16_t)(g[0] >> 16);
	uint64_t off = (g[0] & 0xffff) | ((g[0] >> 32) & 0xffff0000ULL);
	if (lm)
		off |= (g[1] & 0xffffffffULL) << 32;
	unsigned ist = lm ? (unsigned)((g[0] >> 32) & 7) : 0;
	bool gate32 = lm || (type & 8);
	bool trap = type & 1;
	if ((sel & ~3u) == 0)
		return emu_gp(cpu, ext);
	struct emu_desc cs;
	EMU_TRY(emu_desc_read(cpu, sel, &cs, EXC_GP));
	uint32_t serr = (sel & 0xfffc) | ext;
	if (!cs.seg.s || !(cs.seg.type & 8) || cs.seg.dpl > cpu->cpl)
		return emu_gp(cpu, serr);
	if (lm && !(cs.seg.l && !cs.seg.db))
		return emu_gp(cpu, serr);
	if (!cs.seg.present)
		return emu_raise(cpu, EXC_NP, true, serr);
	if (emu_vm86(cpu))
		return deliver_from_vm86(cpu, &cs, sel, serr, gate32, trap, has_error, error, ret_rip, off);
	bool conforming = cs.seg.type & 4;
	unsigned new_cpl = conforming ? cpu->cpl : cs.seg.dpl;
	uint64_t old_ss = cpu->seg[SEG_SS].selector, old_sp = cpu->gpr[RSP];
	uint64_t old_cs = cpu->seg[SEG_CS].selector;
	uint64_t flags = emu_flags_get(cpu);
	bool inner = new_cpl < cpu->cpl;
	unsigned w = lm ? 8 : gate32 ? 4 : 2;

	if (inner || ist) {
		struct x86_segment keep_ss = cpu->seg[SEG_SS];
		EMU_TRY(emu_switch_stack(cpu, new_cpl, ist));
		if (!inner) /* IST without a privilege change keeps SS */
			cpu->seg[SEG_SS] = keep_ss;
	}
	if (lm)
		cpu->gpr[RSP] &= ~0xfULL; /* SDM vol. 3 §6.14.2: the frame is 16-byte aligned */
	cpu->cpl = (uint8_t)new_cpl;
	/* the handler's CS first: from compatibility mode the frame is pushed
	 * in 64-bit mode (with a NULL SS), not through the 32-bit SS */
	EMU_TRY(emu_desc_set_accessed(cpu, sel, &cs));
	emu_set_cs(cpu, sel, &cs.seg, new_cpl);
	if (lm || inner) {
		EMU_TRY(emu_push(cpu, w, old_ss));
		EMU_TRY(emu_push(cpu, w, old_sp));
	}
	EMU_TRY(emu_push(cpu, w, flags));
	EMU_TRY(emu_push(cpu, w, old_cs));
	EMU_TRY(emu_push(cpu, w, ret_rip));
	if (has_error)
		EMU_TRY(emu_push(cpu, w, error));
	flags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!trap)
		flags &= ~(uint64_t)FL_IF;
	emu_flags_set(cpu, flags);
	if (!gate32)
		off &= 0xffff;
	cpu->rip = cpu->next_rip = off;
	return EMU_OK;
}

int emu_deliver(struct emu_cpu *cpu, unsigned vector, bool soft, bool has_error, uint32_t error, uint64_t ret_rip)
{
	struct saved sv;
	save(cpu, &sv);
	int r;
	if (!emu_prot_mode(cpu))
		r = deliver_real(cpu, vector, ret_rip);
	else
		r = deliver_prot(cpu, vector, soft, has_error, error, ret_rip);
	if (r)
		return restore(cpu, &sv, r);
	return EMU_OK;
}

/* SDM vol. 3 table 6-4/6-5: exception classes for double-fault detection. */
static int exc_class(unsigned v)
{
	if (v == EXC_PF)
		return 2;
	if (v == EXC_DE || (v >= EXC_TS && v <= EXC_GP))
		return 1;
	return 0;
}

static bool has_error_code(unsigned v)
{
	return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC;
}

/* Fault-class exceptions (SDM vol. 3 table 6-1); #DB only as a general-
 * detect fault. */
static bool fault_class(const struct emu_cpu *cpu, unsigned v)
{
	switch (v) {
	case EXC_DE: case EXC_BR: case EXC_UD: case EXC_NM: case EXC_TS: case EXC_NP: case EXC_SS:
	case EXC_GP: case EXC_PF: case EXC_MF: case EXC_AC: case EXC_XM:
		return true;
	case EXC_DB:
		return cpu->db_gd;
	default:
		return false;
	}
}

bool emu_deliver_exception(struct emu_cpu *cpu)
{
	for (int depth = 0; depth < 4; depth++) {
		unsigned vec = cpu->exc.vector;
		bool he = cpu->exc.has_error && has_error_code(vec);
		if (cpu->trace)
			fprintf(cpu->trace, "cpu%u %04x:%016llx  exception %u, error code %#x\n", cpu->index,
				cpu->seg[SEG_CS].selector, (unsigned long long)cpu->rip, vec, cpu->exc.error);
		/* SDM vol. 3 §17.3.1.1: the EFLAGS image of a fault has RF set (not
		 * for an instruction breakpoint), so that the handler's IRET
		 * resumes past any instruction breakpoint on the faulting one */
		uint64_t rf = cpu->rflags & FL_RF;
		if (fault_class(cpu, vec))
			cpu->rflags |= FL_RF;
		cpu->db_gd = false;
		if (emu_deliver(cpu, vec, false, he, cpu->exc.error, cpu->rip) == EMU_OK)
			return true;
		cpu->rflags = (cpu->rflags & ~(uint64_t)FL_RF) | rf;
		unsigned nvec = cpu->exc.vector;
		if (vec == EXC_DF)
			return false; /* a fault while delivering #DF: shutdown */
		int a = exc_class(vec), b = exc_class(nvec);
		if ((a == 1 && b == 1) || (a == 2 && b != 0)) {
			cpu->exc.vector = EXC_DF;
			cpu->exc.has_error = 1;
			cpu->exc.error = 0;
		}
	}
	return false;
}

int emu_x_int(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned vec;
	bool soft = true;
	switch (in->mnem) {
	case M_INT:
		vec = in->imm & 0xff;
		if (emu_vm86(cpu) && ((emu_flags_get(cpu) >> 12) & 3) < 3)
			return emu_gp(cpu, 0);
		break;
	case M_INT3:
		vec = EXC_BP;
		break;
	case M_INTO:
		if (!emu_cond(cpu, 0))
			return EMU_OK;
		vec = EXC_OF;
		break;
	default: /* INT1 (ICEBP) behaves like a hardware #DB: no gate DPL check */
		vec = EXC_DB;
		soft = false;
		break;
	}
	return emu_deliver(cpu, vec, soft, false, 0, cpu->next_rip);
}

/* IRET from CPL 0 to virtual-8086 mode (SDM vol. 2 IRET, "RETURN-TO-
 * VIRTUAL-8086-MODE"): ESP, SS, ES, DS, FS, GS follow on the stack. */
static int iret_to_vm86(struct emu_cpu *cpu, uint64_t ip, uint64_t csv, uint64_t fl)
{
	uint64_t v[6]; /* esp ss es ds fs gs */
	for (int i = 0; i < 6; i++)
		EMU_TRY(emu_pop(cpu, 4, &v[i]));
	emu_flags_set(cpu, fl);           /* VM is set from here on */
	cpu->cpl = 3;
	emu_seg_real(cpu, SEG_CS, (uint16_t)csv);
	emu_seg_real(cpu, SEG_SS, (uint16_t)v[1]);
	emu_seg_real(cpu, SEG_ES, (uint16_t)v[2]);
	emu_seg_real(cpu, SEG_DS, (uint16_t)v[3]);
	emu_seg_real(cpu, SEG_FS, (uint16_t)v[4]);
	emu_seg_real(cpu, SEG_GS, (uint16_t)v[5]);
	cpu->gpr[RSP] = v[0] & 0xffffffffULL;
	emu_cpu_update_mode(cpu);
	cpu->next_rip = ip & 0xffff;
	return EMU_OK;
}

static int iret_prot(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned s = in->opsize;
	bool lm = emu_long_mode(cpu);
	uint64_t ip, csv, fl, sp = 0, ssv = 0;
	uint64_t old = emu_flags_get(cpu);
	if (old & FL_NT) {
		/* SDM vol. 2 IRET "TASK-RETURN", vol. 3 §8.4: back to the task
		 * named by the current TSS's link; none in IA-32e mode */
		if (lm)
			return emu_gp(cpu, 0);
		uint64_t link;
		EMU_TRY(emu_read_sys(cpu, cpu->seg[SEG_TR].base, 2, &link));
		return emu_task_switch(cpu, (uint16_t)link, TASK_IRET, 0, cpu->next_rip, false, 0);
	}
	EMU_TRY(emu_pop(cpu, s, &ip));
	EMU_TRY(emu_pop(cpu, s, &csv));
	EMU_TRY(emu_pop(cpu, s, &fl));
	uint16_t sel = (uint16_t)csv;
	unsigned rpl = sel & 3;
	if ((fl & FL_VM) && cpu->cpl == 0 && !lm && s == 4)
		return iret_to_vm86(cpu, ip, csv, fl);
	if ((sel & ~3u) == 0)
		return emu_gp(cpu, 0);
	struct emu_desc d;
	EMU_TRY(emu_desc_read(cpu, sel, &d, EXC_GP));
	uint32_t err = sel & 0xfffc;
	if (rpl < cpu->cpl || !d.seg.s || !(d.seg.type & 8))
		return emu_gp(cpu, err);
	if ((d.seg.type & 4) ? d.seg.dpl > rpl : d.seg.dpl != rpl)
		return emu_gp(cpu, err);
	if (!d.seg.present)
		return emu_raise(cpu, EXC_NP, true, err);
	bool outer = rpl > cpu->cpl;
	bool pop_ss = outer || emu_code64(cpu); /* 64-bit IRET always pops SS:RSP */
	if (pop_ss) {
		EMU_TRY(emu_pop(cpu, s, &sp));
		EMU_TRY(emu_pop(cpu, s, &ssv));
	}
	ip &= emu_mask(s);
	if (lm && d.seg.l ? (uint64_t)(((int64_t)(ip << 16)) >> 16) != ip : ip > d.seg.limit)
		return emu_gp(cpu, 0);
	/* which flags may change is decided by the old CPL (SDM vol. 2 IRET) */
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
	unsigned iopl = (old >> 12) & 3;
	if (cpu->cpl == 0)
		mask |= FL_IF | FL_IOPL | FL_VIF | FL_VIP;
	else if (cpu->cpl <= iopl)
		mask |= FL_IF;
	if (s == 2)
		mask &= 0xffff;
	EMU_TRY(emu_desc_set_accessed(cpu, sel, &d));
	emu_set_cs(cpu, sel, &d.seg, rpl);
	if (pop_ss) {
		EMU_TRY(emu_load_seg(cpu, SEG_SS, (uint16_t)ssv));
		cpu->irq_shadow = 0;
		emu_reg_set(cpu, NULL, RSP, emu_stack_width(cpu), sp);
	}
	emu_flags_set(cpu, (old & ~mask) | (fl & mask));
	if (outer)
		emu_null_outer_data_segs(cpu);
	cpu->next_rip = ip;
	return EMU_OK;
}

int emu_x_iret(struct emu_cpu *cpu, const struct emu_insn *in)
{
	struct saved sv;
	save(cpu, &sv);
	cpu->nmi_blocked = false; /* any IRET ends NMI blocking, even a faulting one */
	if (!emu_prot_mode(cpu) || emu_vm86(cpu)) {
		unsigned s = in->opsize;
		uint64_t ip, csv, fl, old = emu_flags_get(cpu);
		if (emu_vm86(cpu) && ((old >> 12) & 3) < 3)
			return emu_gp(cpu, 0);
		int r = emu_pop(cpu, s, &ip);
		if (!r)
			r = emu_pop(cpu, s, &csv);
		if (!r)
			r = emu_pop(cpu, s, &fl);
		if (r)
			return restore(cpu, &sv, r);
		ip &= emu_mask(s);
		if (ip > cpu->seg[SEG_CS].limit && !emu_vm86(cpu) && ip > 0xffff)
			return restore(cpu, &sv, emu_gp(cpu, 0));
		uint64_t mask = (s == 2 ? 0xffffULL : (uint64_t)0x3f7fd7) & ~(uint64_t)(FL_VM | FL_VIF | FL_VIP);
		if (emu_vm86(cpu))
			mask &= ~(uint64_t)FL_IOPL;
		emu_seg_real(cpu, SEG_CS, (uint16_t)csv);
		emu_cpu_update_mode(cpu);
		emu_flags_set(cpu, (old & ~mask) | (fl & mask));
		cpu->next_rip = ip;
		return EMU_OK;
	}
	int r = iret_prot(cpu, in);
	if (r)
		return restore(cpu, &sv, r);
	return EMU_OK;
}
