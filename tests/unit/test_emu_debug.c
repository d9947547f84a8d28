/* Debug registers (src/cpu/emu/debug.c): DR7 decoding (SDM vol. 3B
 * §17.2.4: L/G enables, R/W and LEN fields), breakpoint matching (§17.2.5:
 * instruction addresses, write versus read/write, the length mask, I/O),
 * the DR6 update of a #DB, and the trap bits held over MOV SS (vol. 3A
 * §6.8.3). */
#include "cpu/emu/emu.h"
#include "unit.h"

static void test_dr7_decode(void)
{
	/* DR0 exec L0; DR1 write 4 bytes G1; DR2 I/O 2 bytes; DR3 rw 8 bytes L3 */
	uint64_t dr7 = 0x1 | 0x8 | 0x10 | 0x40 | (0x0ULL << 16) | (0x1ULL << 20) | (0x3ULL << 22) |
		       (0x2ULL << 24) | (0x1ULL << 26) | (0x3ULL << 28) | (0x2ULL << 30);
	struct emu_bp b = emu_dr7_bp(dr7, 0);
	CHECK(b.on);
	CHECK_EQ(b.rw, 0);
	CHECK_EQ(b.len, 1);
	b = emu_dr7_bp(dr7, 1);
	CHECK(b.on); /* G1 alone enables it */
	CHECK_EQ(b.rw, 1);
	CHECK_EQ(b.len, 4);
	b = emu_dr7_bp(dr7, 2);
	CHECK_EQ(b.rw, 2);
	CHECK_EQ(b.len, 2);
	b = emu_dr7_bp(dr7, 3);
	CHECK_EQ(b.rw, 3);
	CHECK_EQ(b.len, 8); /* LEN 10 */
	CHECK_EQ(emu_dr7_kinds(dr7), EMU_DBG_EXEC | EMU_DBG_DATA | EMU_DBG_IO);
	CHECK_EQ(emu_dr7_kinds(0x400), 0);                 /* nothing enabled */
	CHECK_EQ(emu_dr7_kinds(0x2000 | (0x3ULL << 16)), 0); /* GD and fields without L/G */
	CHECK_EQ(emu_dr7_kinds(0x2 | (0x3ULL << 16)), EMU_DBG_DATA);
}

static void test_bp_match(void)
{
	uint64_t dr[4] = { 0x1000, 0x2004, 0x3000, 0x80 };
	/* DR0 exec; DR1 write 4; DR2 read/write 8; DR3 I/O 1 */
	uint64_t dr7 = 0x55 | (0x1ULL << 20) | (0x3ULL << 22) | (0x3ULL << 24) | (0x2ULL << 26) | (0x2ULL << 28);
	CHECK_EQ(emu_bp_match(dr, dr7, 0x1000, 1, 0), 1);
	CHECK_EQ(emu_bp_match(dr, dr7, 0x1001, 1, 0), 0);   /* exec: exact address */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x1000, 1, 3), 0);   /* reading the exec address */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2004, 4, 1), 2);
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2007, 1, 1), 2);   /* last byte */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2008, 1, 1), 0);   /* one past */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2000, 4, 1), 0);   /* just before */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2003, 2, 1), 2);   /* straddles the start */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2004, 4, 3), 0);   /* RW 01: reads do not hit */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x3007, 1, 3), 4);   /* RW 11: reads */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x2ff8, 16, 1), 4);  /* and writes, overlapping */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x3008, 8, 3), 0);
	CHECK_EQ(emu_bp_match(dr, dr7, 0x80, 1, 2), 8);     /* a port */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x80, 1, 3), 0);     /* memory at the port's number */
	CHECK_EQ(emu_bp_match(dr, dr7, 0x7f, 2, 2), 8);     /* a word port access over it */
	CHECK_EQ(emu_bp_match(dr, dr7 & ~0x4ULL, 0x2004, 4, 1), 0); /* L1 off */
	/* the LEN mask: an unaligned address is taken as rounded down */
	uint64_t dr_u[4] = { 0, 0x2006, 0, 0 };
	CHECK_EQ(emu_bp_match(dr_u, 0x4 | (0x1ULL << 20) | (0x3ULL << 22), 0x2004, 1, 1), 2);
	/* two breakpoints on one access */
	uint64_t dr_2[4] = { 0, 0x5000, 0x5000, 0 };
	CHECK_EQ(emu_bp_match(dr_2, 0x14 | (0x1ULL << 20) | (0x3ULL << 24), 0x5000, 1, 1), 6);
}

static void test_dr6_and_hold(void)
{
	struct emu_cpu cpu;
	memset(&cpu, 0, sizeof(cpu));
	cpu.dr[6] = EMU_DR6_FIXED | 0x3;
	cpu.dr[7] = EMU_DR7_FIXED | 0x2000;
	CHECK_EQ(emu_dbg_raise(&cpu, EMU_DR6_BS), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_DB);
	CHECK_EQ(cpu.dr[6], 0xffff4ff3);     /* BS added, B0-B3 untouched */
	CHECK_EQ(cpu.dr[7], 0x400);          /* GD cleared on the way in */
	CHECK_EQ(emu_dbg_raise(&cpu, 0x4), EMU_EXC);
	CHECK_EQ(cpu.dr[6], 0xffff4ff4);     /* B0-B3 replaced */

	/* MOV SS: its data breakpoints wait for the next instruction; its
	 * single-step trap is dropped (the next one brings its own) */
	cpu.db_pending = 0x2;
	CHECK_EQ(emu_dbg_trap_bits(&cpu, true, true), 0);
	CHECK(cpu.db_hold);
	CHECK_EQ(cpu.db_pending, 0x2);
	CHECK_EQ(emu_dbg_trap_bits(&cpu, true, false), EMU_DR6_BS | 0x2);
	CHECK(!cpu.db_hold);
	CHECK_EQ(cpu.db_pending, 0);
	CHECK_EQ(emu_dbg_trap_bits(&cpu, false, false), 0);
}

int main(void)
{
	test_dr7_decode();
	test_bp_match();
	test_dr6_and_hold();
	return unit_report("emu_debug");
}
