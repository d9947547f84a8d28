/* The local APIC's x2APIC mode and TSC-deadline timer without a machine
 * (SDM vol. 3 §10.12, §10.5.4.1): every IA32_APIC_BASE transition of figure
 * 10-27 from every state, the x2APIC ID and derived LDR of a vCPU with a
 * large index, physical, broadcast and logical (cluster) destination
 * matching for x2APIC and xAPIC targets, the MSR access rules, the MMIO page
 * vanishing in x2APIC mode, and the deadline timer (fires once when the TSC
 * passes it, then disarms; masked: disarms without an interrupt). */
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

#define EN (1ULL << 11)
#define EXTD (1ULL << 10)
#define BASE 0xfee00000ULL

static void reset(unsigned index, uint64_t apic_base)
{
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	cpu.index = index;
	cpu.apic_base = apic_base;
	emu_lapic_reset(&cpu);
}

/* 0: the write took; else the vector it raised. */
static unsigned set_base(uint64_t v)
{
	cpu.exc.vector = 0;
	return emu_lapic_set_base(&cpu, v) == EMU_OK ? 0 : cpu.exc.vector;
}

static void test_transitions(void)
{
	/* from \ to: disabled, xAPIC, x2APIC, invalid (EXTD without EN) */
	static const uint64_t state[4] = { BASE, BASE | EN, BASE | EN | EXTD, BASE | EXTD };
	static const unsigned want[3][4] = {
		{ 0, 0, EXC_GP, EXC_GP },     /* disabled: only to xAPIC */
		{ 0, 0, 0, EXC_GP },          /* xAPIC: anywhere valid */
		{ 0, EXC_GP, 0, EXC_GP },     /* x2APIC: not back to xAPIC directly */
	};
	for (unsigned from = 0; from < 3; from++) {
		for (unsigned to = 0; to < 4; to++) {
			reset(0, state[from]);
			unsigned r = set_base(state[to]);
			CHECK_EQ(r, want[from][to]);
			CHECK_EQ(cpu.apic_base, r ? state[from] : state[to]);
		}
	}
	reset(0, BASE | EN | (1u << 8));
	CHECK_EQ(set_base(BASE | EN), 0);
	CHECK_EQ(cpu.apic_base, BASE | EN | (1u << 8)); /* BSP is read-only */
	CHECK_EQ(set_base(BASE | EN | (1u << 9)), EXC_GP); /* reserved bit */
	CHECK_EQ(set_base((1ULL << 40) | EN), EXC_GP);     /* beyond MAXPHYADDR */
}

static uint64_t rd(uint32_t idx, unsigned *vec)
{
	uint64_t v = 0;
	cpu.exc.vector = 0;
	*vec = emu_lapic_rdmsr(&cpu, idx, &v) == EMU_OK ? 0 : cpu.exc.vector;
	return v;
}

static unsigned wr(uint32_t idx, uint64_t v)
{
	cpu.exc.vector = 0;
	return emu_lapic_wrmsr(&cpu, idx, v) == EMU_OK ? 0 : cpu.exc.vector;
}

static void test_x2apic(void)
{
	unsigned vec;
	reset(0x13, BASE | EN);
	CHECK(emu_lapic_claims(&cpu, BASE + 0x20));
	rd(0x802, &vec);
	CHECK_EQ(vec, EXC_GP); /* no x2APIC MSRs in xAPIC mode */
	CHECK_EQ(wr(0x808, 0), EXC_GP);
	cpu.lapic.id = 7; /* an xAPIC ID the guest wrote: x2APIC mode starts from the initial one */
	CHECK_EQ(set_base(BASE | EN | EXTD), 0);
	CHECK(!emu_lapic_claims(&cpu, BASE + 0x20));
	CHECK_EQ(rd(0x802, &vec), 0x13);
	CHECK_EQ(vec, 0);
	CHECK_EQ(rd(0x80d, &vec), (1u << 16) | (1u << 3)); /* cluster 1, bit 3 */
	CHECK_EQ(rd(0x803, &vec), 0x00050014);
	/* read-only, write-only, reserved */
	CHECK_EQ(wr(0x802, 0), EXC_GP);
	CHECK_EQ(wr(0x80d, 0), EXC_GP);
	CHECK_EQ(wr(0x80a, 0), EXC_GP);
	CHECK_EQ(wr(0x839, 0), EXC_GP);
	CHECK_EQ(wr(0x810, 0), EXC_GP);
	rd(0x80b, &vec);
	CHECK_EQ(vec, EXC_GP);
	rd(0x83f, &vec);
	CHECK_EQ(vec, EXC_GP);
	rd(0x80e, &vec); /* DFR: none in x2APIC mode */
	CHECK_EQ(vec, EXC_GP);
	rd(0x831, &vec);
	CHECK_EQ(vec, EXC_GP);
	CHECK_EQ(wr(0x80b, 1), EXC_GP);
	CHECK_EQ(wr(0x808, 0x100), EXC_GP);          /* TPR bits 31:8 */
	CHECK_EQ(wr(0x80f, 1ULL << 32), EXC_GP);     /* upper half of a 32-bit register */
	CHECK_EQ(wr(0x808, 0x20), 0);
	CHECK_EQ(rd(0x808, &vec), 0x20);
	CHECK_EQ(wr(0x80f, 0x1ff), 0);
	CHECK_EQ(wr(0x83f, 0x45), 0);                /* SELF IPI */
	CHECK(cpu.lapic.irr[0x45 / 32] & (1u << (0x45 % 32)));
	CHECK_EQ(emu_lapic_pending(&cpu), 0x45);
	CHECK_EQ(wr(0x83f, 0x145), EXC_GP);
	CHECK_EQ(rd(0x820 + 2, &vec), 1u << (0x45 % 32)); /* IRR bits 95:64 */
}

static void test_match(void)
{
	reset(0x13, BASE | EN | EXTD);
	CHECK(emu_lapic_match(&cpu, 0x13, false));
	CHECK(!emu_lapic_match(&cpu, 0x12, false));
	CHECK(emu_lapic_match(&cpu, 0xffffffff, false));
	CHECK(emu_lapic_match(&cpu, 0xffffffff, true));
	CHECK(emu_lapic_match(&cpu, (1u << 16) | (1u << 3) | 1u, true));
	CHECK(!emu_lapic_match(&cpu, (1u << 16) | (1u << 2), true));
	CHECK(!emu_lapic_match(&cpu, (2u << 16) | (1u << 3), true));
	CHECK(!emu_lapic_match(&cpu, 0xff, false)); /* not a broadcast in x2APIC mode */
	/* ...but from the I/O APIC's 8-bit destination it is */
	CHECK(emu_lapic_match_xapic_msg(&cpu, 0xff, false));
	CHECK(emu_lapic_match_xapic_msg(&cpu, 0xff, true));
	CHECK(emu_lapic_match_xapic_msg(&cpu, 0x13, false));
	CHECK(!emu_lapic_match_xapic_msg(&cpu, 0x12, false));
	/* xAPIC: 8-bit IDs, 0xff broadcasts, flat logical model */
	reset(3, BASE | EN);
	cpu.lapic.ldr = 0x08u << 24;
	CHECK(emu_lapic_match(&cpu, 3, false));
	CHECK(emu_lapic_match(&cpu, 0xff, false));
	CHECK(emu_lapic_match(&cpu, 0x0c, true));
	CHECK(!emu_lapic_match(&cpu, 0x04, true));
	CHECK(emu_lapic_match_xapic_msg(&cpu, 0xff, false));
	CHECK(emu_lapic_match_xapic_msg(&cpu, 3, false));
}

static void test_deadline(void)
{
	unsigned vec;
	reset(0, BASE | EN | EXTD);
	CHECK_EQ(wr(0x80f, 0x1ff), 0);
	CHECK_EQ(wr(0x6e0, emu_tsc(&cpu) - 1), 0); /* one-shot mode: ignored */
	CHECK_EQ(rd(0x6e0, &vec), 0);
	CHECK_EQ(emu_lapic_poll_timer(&cpu, 0), UINT64_MAX);
	CHECK_EQ(wr(0x832, 0x50 | (2u << 17)), 0);
	CHECK_EQ(rd(0x6e0, &vec), 0);
	uint64_t far = emu_tsc(&cpu) + 1000000000000ULL;
	CHECK_EQ(wr(0x6e0, far), 0);
	CHECK_EQ(rd(0x6e0, &vec), far);
	uint64_t wait = emu_lapic_poll_timer(&cpu, 0);
	CHECK(wait > 900000000000ULL && wait <= 1000000000000ULL);
	CHECK_EQ(emu_lapic_pending(&cpu), -1);
	CHECK_EQ(wr(0x838, 5), 0); /* TMICT: ignored in TSC-deadline mode */
	CHECK_EQ(cpu.lapic.timer_initial, 0);
	CHECK_EQ(wr(0x6e0, emu_tsc(&cpu) - 1), 0); /* in the past: pending at once, no poll needed */
	CHECK_EQ(emu_lapic_pending(&cpu), 0x50);
	CHECK_EQ(rd(0x6e0, &vec), 0);
	CHECK_EQ(emu_lapic_poll_timer(&cpu, 0), UINT64_MAX);
	CHECK_EQ(emu_lapic_pending(&cpu), 0x50);
	CHECK_EQ(rd(0x6e0, &vec), 0); /* disarmed */
	emu_lapic_accept(&cpu, 0x50);
	CHECK_EQ(wr(0x80b, 0), 0); /* EOI */
	CHECK_EQ(emu_lapic_poll_timer(&cpu, 0), UINT64_MAX);
	CHECK_EQ(emu_lapic_pending(&cpu), -1); /* once */
	/* masked: disarms without an interrupt */
	CHECK_EQ(wr(0x832, 0x50 | (2u << 17) | (1u << 16)), 0);
	CHECK_EQ(wr(0x6e0, 1), 0);
	CHECK_EQ(emu_lapic_poll_timer(&cpu, 0), UINT64_MAX);
	CHECK_EQ(rd(0x6e0, &vec), 0);
	CHECK_EQ(emu_lapic_pending(&cpu), -1);
	/* leaving TSC-deadline mode disarms */
	CHECK_EQ(wr(0x832, 0x50 | (2u << 17)), 0);
	CHECK_EQ(wr(0x6e0, far), 0);
	CHECK_EQ(wr(0x832, 0x50), 0);
	CHECK_EQ(wr(0x832, 0x50 | (2u << 17)), 0);
	CHECK_EQ(rd(0x6e0, &vec), 0);
}

int main(void)
{
	if (unit_vm_init(&vm, 1 << 20) < 0)
		return 1;
	test_transitions();
	test_x2apic();
	test_match();
	test_deadline();
	unit_vm_destroy(&vm);
	return unit_report("emu_lapic");
}
