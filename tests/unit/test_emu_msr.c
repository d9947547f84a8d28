/* The software CPU's MSRs (src/cpu/emu/msr.c): every MSR the CPUID model
 * implies read, written, and refused with #GP(0) where the SDM (vol. 4
 * table 2-2, vol. 3 §12.11, §12.12, §16.3, §17.17) says a write is
 * reserved or the register read-only; an MSR outside the model is #GP too.
 * And the TSC: one clock for all vCPUs, counting at the announced 1 GHz,
 * moved per vCPU only by WRMSR to the TSC or to IA32_TSC_ADJUST. */
#include <stdlib.h>
#include <time.h>

#include "cpu/emu/emu.h"
#include "cpu/engine.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"
#include "vm_config.h"

static struct vm vm;
static struct vm_config cfg;

static int rd(struct emu_cpu *c, uint32_t idx, uint64_t *v)
{
	struct emu_insn in = { .mnem = M_RDMSR };
	c->gpr[RCX] = idx;
	c->gpr[RAX] = c->gpr[RDX] = 0xdeadbeefdeadbeefULL;
	c->exc.vector = 0xff;
	int r = emu_x_msr(c, &in);
	*v = (c->gpr[RAX] & 0xffffffffULL) | (c->gpr[RDX] << 32);
	return r;
}

static int wr(struct emu_cpu *c, uint32_t idx, uint64_t v)
{
	struct emu_insn in = { .mnem = M_WRMSR };
	c->gpr[RCX] = idx;
	c->gpr[RAX] = (v & 0xffffffffULL) | 0xabcd000000000000ULL; /* upper halves ignored */
	c->gpr[RDX] = (v >> 32) | 0x1234000000000000ULL;
	c->exc.vector = 0xff;
	return emu_x_msr(c, &in);
}

static uint64_t rdv(struct emu_cpu *c, uint32_t idx)
{
	uint64_t v = 0;
	CHECK_EQ(rd(c, idx, &v), EMU_OK);
	return v;
}

#define GP(expr, c)                                    \
	do {                                           \
		CHECK_EQ((expr), EMU_EXC);             \
		CHECK_EQ((c)->exc.vector, EXC_GP);     \
		CHECK_EQ((c)->exc.error, 0);           \
	} while (0)

/* A read-write MSR: what is written reads back; each bit of `reserved`
 * alone makes the write #GP and leaves the value. */
static void rw(struct emu_cpu *c, uint32_t idx, uint64_t good, uint64_t reserved)
{
	uint64_t v;
	CHECK_EQ(wr(c, idx, good), EMU_OK);
	CHECK_EQ(rdv(c, idx), good);
	for (unsigned b = 0; b < 64; b++) {
		if (!(reserved >> b & 1))
			continue;
		GP(wr(c, idx, good ^ (1ULL << b)), c);
		CHECK_EQ(rd(c, idx, &v), EMU_OK);
		CHECK_EQ(v, good);
	}
}

/* A read-only MSR: reads `value`; any write is #GP and changes nothing. */
static void ro(struct emu_cpu *c, uint32_t idx, uint64_t value)
{
	CHECK_EQ(rdv(c, idx), value);
	GP(wr(c, idx, value), c);
	GP(wr(c, idx, 0), c);
	CHECK_EQ(rdv(c, idx), value);
}

static void test_power_on(struct emu_cpu *c)
{
	/* PAT's power-on value (SDM vol. 3 table 12-11) */
	CHECK_EQ(rdv(c, 0x277), 0x0007040600070406ULL);
	/* MISC_ENABLE: fast strings, BTS and PEBS unavailable */
	CHECK_EQ(rdv(c, 0x1a0), 0x1801);
	/* MTRRs as firmware leaves them: enabled (E, FE), default WB; variable
	 * range 0 = [3 GiB, 4 GiB) UC; fixed: WB except 0xa0000-0xbffff UC */
	CHECK_EQ(rdv(c, 0x2ff), 0xc06);
	CHECK_EQ(rdv(c, 0x200), 0xc0000000);
	CHECK_EQ(rdv(c, 0x201), 0xffc0000800ULL);
	for (uint32_t i = 0x202; i <= 0x20f; i++)
		CHECK_EQ(rdv(c, i), 0);
	CHECK_EQ(rdv(c, 0x250), 0x0606060606060606ULL);
	CHECK_EQ(rdv(c, 0x258), 0x0606060606060606ULL);
	CHECK_EQ(rdv(c, 0x259), 0);
	for (uint32_t i = 0x268; i <= 0x26f; i++)
		CHECK_EQ(rdv(c, i), 0x0606060606060606ULL);
	CHECK_EQ(rdv(c, 0x3b), 0);  /* TSC_ADJUST */
	CHECK_EQ(rdv(c, 0x17a), 0); /* MCG_STATUS */
}

static void test_registers(struct emu_cpu *c)
{
	/* read-only: MTRRcap = 8 variable ranges, FIX (8), WC (10), no SMRR */
	ro(c, 0xfe, 0x508);
	ro(c, 0x179, 0);        /* MCG_CAP: no banks, no MCG_CTL */
	ro(c, 0x3a, 1);         /* FEATURE_CONTROL: locked, nothing enabled */
	ro(c, 0x17, 0);         /* PLATFORM_ID */
	ro(c, 0x10a, (1ULL << 0) | (1ULL << 4) | (1ULL << 5) | (1ULL << 6) | (1ULL << 8) | (1ULL << 13) |
			     (1ULL << 14) | (1ULL << 15) | (1ULL << 20) | (1ULL << 24) | (1ULL << 26) |
			     (1ULL << 27) | (1ULL << 62)); /* ARCH_CAPABILITIES: the *_NO bits */
	/* not offered: MCG_CTL (no MCG_CTL_P), MC0_CTL (no banks), PLATFORM_INFO,
	 * SPEC_CTRL, PRED_CMD, x2APIC's ID while in xAPIC mode, MTRR range 8,
	 * PERF_GLOBAL_CTRL, AMD's PERF_CTL0 and HWCR, MISC_FEATURES_ENABLES,
	 * BIOS_UPDT_TRIG (TSC_DEADLINE is lapic.c's, tested in test_emu_lapic) */
	uint32_t absent[] = { 0x17b, 0x400, 0xce, 0x48, 0x49, 0x802, 0x210, 0x38f,
			      0xc0010000, 0xc0010015, 0x140, 0x79, 0x12345678 };
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		uint64_t v;
		GP(rd(c, absent[i], &v), c);
		GP(wr(c, absent[i], 0), c);
	}

	/* variable MTRRs: base = type 7:0, address 39:12 (MAXPHYADDR 40);
	 * mask = valid 11, mask 39:12 */
	for (uint32_t i = 0; i < 8; i++) {
		rw(c, 0x200 + 2 * i, 0x12345000ULL | 6, 0xf00 | ~0xffffffffffULL);
		rw(c, 0x201 + 2 * i, 0xfff0000800ULL, 0x7ff | ~0xffffffffffULL);
	}
	/* memory types 2, 3 and 7 and above are undefined in an MTRR */
	uint64_t types_ok[] = { 0, 1, 4, 5, 6 }, types_bad[] = { 2, 3, 7, 8, 0x80 };
	for (unsigned t = 0; t < 5; t++) {
		CHECK_EQ(wr(c, 0x200, 0x1000 | types_ok[t]), EMU_OK);
		GP(wr(c, 0x200, 0x1000 | types_bad[t]), c);
		CHECK_EQ(wr(c, 0x2ff, 0xc00 | types_ok[t]), EMU_OK);
		GP(wr(c, 0x2ff, 0xc00 | types_bad[t]), c);
	}
	CHECK_EQ(rdv(c, 0x200), 0x1006);
	/* MTRRdefType: type 7:0, FE 10, E 11; the rest reserved */
	rw(c, 0x2ff, 0xc06, 0x300 | ~0xfffULL);
	rw(c, 0x2ff, 0, 0x300 | ~0xfffULL);
	/* fixed ranges: eight type bytes, each checked */
	uint32_t fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f };
	for (unsigned i = 0; i < 11; i++) {
		rw(c, fixed[i], 0x0605040100060500ULL | types_ok[i % 5], 0);
		for (unsigned byte = 0; byte < 8; byte++)
			GP(wr(c, fixed[i], 0x0606060606060606ULL ^ (0x04ULL << (8 * byte))), c); /* 6 ^ 4 = 2 */
	}
	/* fixed MTRRs outside the architectural set */
	uint64_t v;
	GP(rd(c, 0x251, &v), c);
	GP(rd(c, 0x25a, &v), c);
	GP(rd(c, 0x267, &v), c);
	GP(rd(c, 0x270, &v), c);

	/* PAT: entries 0 1 4 5 6 7; 2 and 3 and anything above bit 2 are #GP */
	rw(c, 0x277, 0x0007040600070406ULL, 0);
	rw(c, 0x277, 0x0706050401000706ULL, 0xf8f8f8f8f8f8f8f8ULL);
	GP(wr(c, 0x277, 0x0007040600070402ULL), c);
	GP(wr(c, 0x277, 0x0307040600070406ULL), c);

	/* MCG_STATUS: RIPV EIPV MCIP writable, the rest (LMCE_S too) reserved */
	rw(c, 0x17a, 7, ~7ULL);
	rw(c, 0x17a, 0, ~7ULL);

	/* MISC_ENABLE (SDM vol. 4 table 2-2): 0 3 16 18 22 23 34 writable;
	 * 7 11 12 read-only; the reserved bits #GP */
	uint64_t misc_rw = (1ULL << 0) | (1ULL << 3) | (1ULL << 16) | (1ULL << 18) | (1ULL << 22) |
			   (1ULL << 23) | (1ULL << 34);
	CHECK_EQ(wr(c, 0x1a0, 0x1800 | misc_rw), EMU_OK);
	CHECK_EQ(rdv(c, 0x1a0), 0x1800 | misc_rw);
	CHECK_EQ(wr(c, 0x1a0, (1ULL << 7)), EMU_OK); /* read-only bits ignored, the R/W ones cleared */
	CHECK_EQ(rdv(c, 0x1a0), 0x1800);
	/* kvm-unit-tests x86/msr.c writes 0x400c50809 with 7 11 12 kept */
	CHECK_EQ(wr(c, 0x1a0, 0x400c51809ULL), EMU_OK);
	CHECK_EQ(rdv(c, 0x1a0), 0x400c51809ULL);
	/* XD disable (34): CPUID.80000001H:EDX.NX clear, EFER.NXE reserved */
	uint32_t id[4];
	emu_cpuid(c, 0x80000001, 0, id);
	CHECK_EQ(id[3] & (1u << 20), 0);
	GP(wr(c, 0xc0000080, c->efer | (1ULL << 11)), c);
	CHECK_EQ(wr(c, 0x1a0, 0x1801), EMU_OK);
	emu_cpuid(c, 0x80000001, 0, id);
	CHECK_EQ(id[3] & (1u << 20), 1u << 20);
	uint32_t misc_reserved[] = { 1, 2, 4, 5, 6, 8, 9, 10, 13, 14, 15, 17, 19, 20, 21, 24, 33, 35, 63 };
	for (unsigned i = 0; i < sizeof misc_reserved / sizeof misc_reserved[0]; i++)
		GP(wr(c, 0x1a0, 0x1801 | (1ULL << misc_reserved[i])), c);
	CHECK_EQ(rdv(c, 0x1a0), 0x1801);

	/* no PMU (CPUID leaf 0xa = 0): counters and selectors read 0 */
	uint32_t pmu[] = { 0xc1, 0xc2, 0x186, 0x187 };
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(wr(c, pmu[i], 0x430076), EMU_OK);
		CHECK_EQ(rdv(c, pmu[i]), 0);
	}
	/* BIOS_SIGN_ID: the write-0-then-CPUID protocol; revision 0 */
	CHECK_EQ(wr(c, 0x8b, 0), EMU_OK);
	CHECK_EQ(rdv(c, 0x8b), 0);
}

static uint64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_tsc(struct emu_cpu *a, struct emu_cpu *b)
{
	/* power-on: the TSC counts from 0 at machine creation */
	uint64_t t = rdv(a, 0x10);
	CHECK(t < 60ULL * 1000000000ULL);
	/* one clock: b's TSC read after a's is never behind it */
	for (int i = 0; i < 1000; i++) {
		uint64_t ta = rdv(a, 0x10), tb = rdv(b, 0x10);
		CHECK(tb >= ta);
		CHECK(tb - ta < 50000000); /* 50 ms: a preempted test, not a skew */
		if (tb < ta)
			break;
	}
	/* 1 GHz: 20 ms of host time are 20,000,000 ticks */
	uint64_t h0 = ns_now(), t0 = rdv(a, 0x10);
	struct timespec d = { 0, 20000000 };
	nanosleep(&d, NULL);
	uint64_t t1 = rdv(a, 0x10), h1 = ns_now();
	CHECK(t1 - t0 >= 20000000);
	CHECK(t1 - t0 <= h1 - h0 + 1000000);

	/* WRMSR to the TSC moves IA32_TSC_ADJUST by the same amount (SDM vol. 3
	 * §17.17.3), on that vCPU only */
	uint64_t before = rdv(a, 0x10);
	CHECK_EQ(wr(a, 0x10, before + 1000000000000ULL), EMU_OK);
	uint64_t adj = rdv(a, 0x3b);
	CHECK(adj >= 1000000000000ULL - 50000000 && adj <= 1000000000000ULL);
	CHECK(rdv(a, 0x10) >= before + 1000000000000ULL);
	CHECK_EQ(rdv(b, 0x3b), 0);
	CHECK(rdv(b, 0x10) < before + 50000000);
	/* WRMSR to TSC_ADJUST moves the TSC: back to b's clock */
	CHECK_EQ(wr(a, 0x3b, 0), EMU_OK);
	CHECK_EQ(rdv(a, 0x3b), 0);
	uint64_t ta = rdv(a, 0x10), tb = rdv(b, 0x10);
	CHECK(tb >= ta && tb - ta < 50000000);
	/* a negative adjustment (two's complement) */
	CHECK_EQ(wr(b, 0x3b, (uint64_t)-5000000000LL), EMU_OK);
	CHECK_EQ(rdv(b, 0x3b), (uint64_t)-5000000000LL);
	ta = rdv(a, 0x10);
	tb = rdv(b, 0x10);
	CHECK(ta - tb >= 5000000000ULL - 50000000 && ta - tb <= 5000000000ULL);
	CHECK_EQ(wr(b, 0x3b, 0), EMU_OK);
}

int main(void)
{
	if (unit_vm_init(&vm, 16 << 20) < 0)
		return 1;
	cfg.cpus = 2;
	vm.cfg = &cfg;
	vm.boot_state.apic_base = 0xfee00900;
	CHECK_EQ(emu_engine.create(&vm), 0);
	struct emu_machine *m = vm.engine_data;
	struct emu_cpu *bsp = emu_machine_cpu(m, 0), *ap = emu_machine_cpu(m, 1);

	test_power_on(bsp);
	test_power_on(ap); /* the same on an application processor */
	test_tsc(bsp, ap);
	test_registers(bsp);

	/* RDMSR and WRMSR are privileged: CPL 3 in protected mode is #GP(0) */
	bsp->cr0 |= X86_CR0_PE;
	bsp->cpl = 3;
	uint64_t v;
	GP(rd(bsp, 0x10, &v), bsp);
	GP(wr(bsp, 0x3b, 1), bsp);
	bsp->cpl = 0;
	CHECK_EQ(rdv(bsp, 0x3b), 0);

	emu_engine.destroy(&vm);
	unit_vm_destroy(&vm);
	return unit_report("emu_msr");
}
