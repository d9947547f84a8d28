/* Debug registers and debug exceptions (SDM vol. 3B chapter 17): MOV
 * to/from DR0-DR7 with the CR4.DE aliasing of DR4/DR5 and DR7.GD general
 * detection, instruction breakpoints (faults, suppressed by RF), data
 * write and read/write breakpoints of 1, 2, 4 or 8 bytes and I/O
 * breakpoints (RW = 10, with CR4.DE) on IN/OUT/INS/OUTS (traps after the
 * access's instruction), and the DR6 bits of single-step and task-switch
 * traps.
 *
 * Where the checks run: while DR7 enables any breakpoint (cpu->dbg), the
 * run loop takes the single-step path (exec.c) instead of decoded blocks,
 * so the instruction check runs once per instruction there and every data
 * access goes through the one memory path (mem.c's emu_lin_read/write),
 * which calls emu_dbg_access (and io.c's port path emu_dbg_port). fast.c's
 * inline TLB accesses never see a breakpoint, and code without breakpoints
 * pays one test per block. */
#include "emu.h"

#define DR7_GD (1u << 13)
#define CR4_DE (1u << 3)

struct emu_bp emu_dr7_bp(uint64_t dr7, unsigned n)
{
	/* §17.2.4: L/G pairs in bits 0-7, R/W and LEN nibbles from bit 16;
	 * LEN 10 is 8 bytes (defined in 64-bit mode, and so taken anywhere) */
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	struct emu_bp b = {
		.on = (dr7 >> (2 * n)) & 3,
		.rw = (uint8_t)((dr7 >> (16 + 4 * n)) & 3),
		.len = len[(dr7 >> (18 + 4 * n)) & 3],
	};
	return b;
}

unsigned emu_dr7_kinds(uint64_t dr7)
{
	unsigned k = 0;
	for (unsigned n = 0; n < 4; n++) {
		struct emu_bp b = emu_dr7_bp(dr7, n);
		if (b.on)
			k |= b.rw == 0 ? EMU_DBG_EXEC : b.rw == 2 ? EMU_DBG_IO : EMU_DBG_DATA;
	}
	return k;
}

unsigned emu_bp_match(const uint64_t *dr, uint64_t dr7, uint64_t lin, unsigned size, unsigned kind)
{
	unsigned hit = 0;
	for (unsigned n = 0; n < 4; n++) {
		struct emu_bp b = emu_dr7_bp(dr7, n);
		if (!b.on)
			continue;
		if (kind == 0) { /* instruction: the address of its first byte (§17.2.5) */
			if (b.rw == 0 && dr[n] == lin)
				hit |= 1u << n;
			continue;
		}
		/* RW 01 writes, 11 reads and writes, 10 ports */
		bool want = kind == 2 ? b.rw == 2 : (b.rw == 3 || (b.rw == 1 && kind == 1));
		if (!want)
			continue;
		/* §17.2.5: the breakpoint covers len bytes from its address
		 * rounded down to len; any overlap with the access hits */
		uint64_t a = dr[n] & ~(uint64_t)(b.len - 1);
		if (lin < a + b.len && a < lin + size)
			hit |= 1u << n;
	}
	return hit;
}

void emu_dbg_enter(struct emu_cpu *cpu, uint32_t bits)
{
	/* §17.2.3: B0-B3 report this exception's breakpoints; BD, BS and BT
	 * stay set until software clears them. Entering the handler clears
	 * DR7.GD (§17.2.4) so that it may use the debug registers. */
	uint64_t dr6 = cpu->dr[6];
	if (bits & 0xf)
		dr6 &= ~0xfULL;
	cpu->dr[6] = dr6 | bits | EMU_DR6_FIXED;
	cpu->dr[7] &= ~(uint64_t)DR7_GD;
}

int emu_dbg_raise(struct emu_cpu *cpu, uint32_t bits)
{
	emu_dbg_enter(cpu, bits);
	return emu_raise(cpu, EXC_DB, false, 0);
}

int emu_mov_dr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	/* SDM vol. 2 MOV (Move to/from Debug Registers): #GP(0) above CPL 0
	 * (and in virtual-8086 mode), #UD for DR4/DR5 with CR4.DE, then the
	 * general-detect #DB fault */
	if (emu_prot_mode(cpu) && cpu->cpl != 0)
		return emu_gp(cpu, 0);
	unsigned dr = in->reg;
	if (dr > 7)
		return emu_ud(cpu);
	if (dr == 4 || dr == 5) {
		if (cpu->cr4 & CR4_DE)
			return emu_ud(cpu);
		dr += 2;
	}
	if (cpu->dr[7] & DR7_GD) {
		cpu->db_gd = true; /* a fault other than an instruction breakpoint: RF set in the image */
		return emu_dbg_raise(cpu, EMU_DR6_BD);
	}
	if (in->op[0].kind != OK_D) {
		emu_reg_set(cpu, in, in->rm, in->opw[0], cpu->dr[dr]);
		return EMU_OK;
	}
	uint64_t v = emu_reg_get(cpu, in, in->rm, in->opw[1]);
	if ((dr == 6 || dr == 7) && (v >> 32))
		return emu_gp(cpu, 0); /* 64-bit mode: the upper half is reserved */
	if (dr == 6)
		v = (v & 0xe00f) | EMU_DR6_FIXED;
	else if (dr == 7)
		v = (v & 0xffff2fffULL) | EMU_DR7_FIXED;
	cpu->dr[dr] = v;
	cpu->dbg = (uint8_t)emu_dr7_kinds(cpu->dr[7]);
	return EMU_OK;
}

void emu_dbg_access(struct emu_cpu *cpu, uint64_t lin, unsigned size, unsigned acc)
{
	unsigned kind = acc & ACC_KIND;
	if (kind == ACC_FETCH)
		return;
	cpu->db_pending |= emu_bp_match(cpu->dr, cpu->dr[7], lin, size, kind == ACC_WRITE ? 1 : 3);
}

void emu_dbg_port(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	if (cpu->cr4 & CR4_DE) /* RW 10 without CR4.DE is undefined: ignored */
		cpu->db_pending |= emu_bp_match(cpu->dr, cpu->dr[7], port, size, 2);
}

int emu_dbg_insn_check(struct emu_cpu *cpu)
{
	if (!(cpu->dbg & EMU_DBG_EXEC) || (cpu->rflags & FL_RF))
		return EMU_OK;
	uint64_t lin = cpu->rip;
	if (!emu_code64(cpu))
		lin = (cpu->seg[SEG_CS].base + cpu->rip) & 0xffffffffULL;
	unsigned hit = emu_bp_match(cpu->dr, cpu->dr[7], lin, 1, 0);
	return hit ? emu_dbg_raise(cpu, hit) : EMU_OK;
}

uint32_t emu_dbg_trap_bits(struct emu_cpu *cpu, bool bs, bool ss_shadow)
{
	uint32_t bits = cpu->db_pending | (bs ? EMU_DR6_BS : 0);
	if (ss_shadow) {
		/* §6.8.3: MOV SS / POP SS inhibit debug exceptions to the boundary
		 * after the next instruction: data breakpoints wait there; the
		 * single-step trap of MOV SS itself is dropped (the next
		 * instruction's own comes if TF is still set then; none comes
		 * when that is ICEBP or INT n, as on hardware) */
		bits &= ~(uint32_t)EMU_DR6_BS;
		cpu->db_pending = bits;
		cpu->db_hold = bits != 0;
		return 0;
	}
	cpu->db_pending = 0;
	cpu->db_hold = false;
	return bits;
}
