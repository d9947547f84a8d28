/* String instructions MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP,
 * REPE and REPNE (SDM vol. 1 §7.3.9, vol. 2 REP prefix). A long REP runs in
 * slices: after EMU_REP_SLICE iterations the instruction is left to restart
 * with the updated registers, so interrupts and a VM stop are noticed. */
#include "emu.h"

#define EMU_REP_SLICE 4096

static void advance(struct emu_cpu *cpu, unsigned r, unsigned a, int64_t d)
{
	emu_reg_set(cpu, NULL, r, a, cpu->gpr[r] + (uint64_t)d);
}

int emu_x_string(struct emu_cpu *cpu, const struct emu_insn *in)
{
	unsigned m = in->mnem;
	unsigned w = m == M_OUTS ? in->opw[1] : in->opw[0];
	unsigned a = in->addrsize;
	uint64_t am = emu_addr_mask(a);
	unsigned src_seg = in->segovr != EMU_NO_REG ? in->segovr : SEG_DS;
	int64_t d = (emu_flags_get(cpu) & FL_DF) ? -(int64_t)w : (int64_t)w;
	bool rep = in->rep != EMU_REP_NONE;
	bool cond = m == M_CMPS || m == M_SCAS;
	uint16_t port = (uint16_t)cpu->gpr[RDX];
	uint64_t v, t;

	if (m == M_INS || m == M_OUTS)
		EMU_TRY(emu_io_check(cpu, port, w));
	for (unsigned n = 0;; n++) {
		if (rep && emu_reg_get(cpu, in, RCX, a) == 0)
			return EMU_OK;
		if (n == EMU_REP_SLICE) {
			cpu->next_rip = cpu->rip; /* resume later */
			return EMU_OK;
		}
		switch (m) {
		case M_MOVS:
			EMU_TRY(emu_read(cpu, src_seg, cpu->gpr[RSI] & am, w, &v));
			EMU_TRY(emu_write(cpu, SEG_ES, cpu->gpr[RDI] & am, w, v));
			advance(cpu, RSI, a, d);
			advance(cpu, RDI, a, d);
			break;
		case M_STOS:
			EMU_TRY(emu_write(cpu, SEG_ES, cpu->gpr[RDI] & am, w, cpu->gpr[RAX] & emu_mask(w)));
			advance(cpu, RDI, a, d);
			break;
		case M_LODS:
			EMU_TRY(emu_read(cpu, src_seg, cpu->gpr[RSI] & am, w, &v));
			emu_reg_set(cpu, in, RAX, w, v);
			advance(cpu, RSI, a, d);
			break;
		case M_CMPS:
			EMU_TRY(emu_read(cpu, src_seg, cpu->gpr[RSI] & am, w, &v));
			EMU_TRY(emu_read(cpu, SEG_ES, cpu->gpr[RDI] & am, w, &t));
			emu_lf_set(cpu, LF_SUB, w, (v - t) & emu_mask(w), v, t, 0);
			advance(cpu, RSI, a, d);
			advance(cpu, RDI, a, d);
			break;
		case M_SCAS:
			EMU_TRY(emu_read(cpu, SEG_ES, cpu->gpr[RDI] & am, w, &t));
			v = cpu->gpr[RAX] & emu_mask(w);
			emu_lf_set(cpu, LF_SUB, w, (v - t) & emu_mask(w), v, t, 0);
			advance(cpu, RDI, a, d);
			break;
		case M_INS: {
			/* check the destination before the port is read: reads can have side effects */
			uint64_t lin;
			EMU_TRY(emu_seg_linear(cpu, SEG_ES, cpu->gpr[RDI] & am, w, ACC_WRITE, &lin));
			EMU_TRY(emu_lin_write(cpu, lin, w, &(uint64_t){ 0 }, ACC_WRITE));
			v = emu_port_in(cpu, port, w);
			EMU_TRY(emu_write(cpu, SEG_ES, cpu->gpr[RDI] & am, w, v));
			advance(cpu, RDI, a, d);
			break;
		}
		case M_OUTS:
			EMU_TRY(emu_read(cpu, src_seg, cpu->gpr[RSI] & am, w, &v));
			emu_port_out(cpu, port, w, v);
			advance(cpu, RSI, a, d);
			break;
		default:
			return emu_ud(cpu);
		}
		if (!rep)
			return EMU_OK;
		uint64_t c = (emu_reg_get(cpu, in, RCX, a) - 1) & emu_mask(a);
		emu_reg_set(cpu, in, RCX, a, c);
		if (cond) {
			bool zf = emu_cond(cpu, 4);
			if ((in->rep == EMU_REP_F3 && !zf) || (in->rep == EMU_REP_F2 && zf))
				return EMU_OK;
		}
		if (c == 0)
			return EMU_OK;
		/* a data or I/O breakpoint traps after its iteration; the
		 * instruction resumes with the next one, RF set in the image
		 * (SDM vol. 3 §17.3.1.1, §17.3.1.2) */
		if (cpu->db_pending && !cpu->db_hold) {
			cpu->rflags |= FL_RF;
			cpu->next_rip = cpu->rip;
			return EMU_OK;
		}
	}
}
