/* The HPET driven by a test clock: register file and writable bits, the
 * main counter running and halted, comparator matches (one-shot, periodic,
 * 32-bit mode), edge and level interrupts, routing, legacy replacement,
 * and accesses the spec does not allow. Expected values: IA-PC HPET 1.0a. */
#include "dev/hpet.h"
#include "unit.h"

static uint64_t now_ns;
static uint64_t test_clock(void *o) { (void)o; return now_ns; }

/* Per-GSI edge counts and current levels. */
static int edges[32], level[32];
static void on_irq(void *o, unsigned gsi, int lvl)
{
	(void)o;
	if (gsi >= 32)
		return;
	if (lvl && !level[gsi])
		edges[gsi]++;
	level[gsi] = lvl;
}

static struct hpet *h;
static uint64_t rd(unsigned off, unsigned size)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;
	hpet_mmio(h, off, size, false, &v);
	return v;
}
static void wr(unsigned off, unsigned size, uint64_t v) { hpet_mmio(h, off, size, true, &v); }
static uint64_t rd64(unsigned off) { return rd(off, 8); }
static void wr64(unsigned off, uint64_t v) { wr(off, 8, v); }
#define T(n, r) (HPET_REG_TIMER(n) + (r))

static void reset(void)
{
	hpet_destroy(h);
	struct irq_line irq = { on_irq, NULL, 0 };
	CHECK_EQ(hpet_create(NULL, HPET_BASE, &irq, test_clock, NULL, &h), 0);
	memset(edges, 0, sizeof(edges));
	memset(level, 0, sizeof(level));
	now_ns = 1000000000;
}

static void test_registers(void)
{
	reset();
	/* §2.3.4: REV_ID 1, NUM_TIM_CAP 2 (three timers), COUNT_SIZE_CAP,
	 * LEG_RT_CAP, vendor 0x8086; period 10 ns = 10^7 fs. */
	CHECK_EQ(rd64(HPET_REG_CAP), 0x00989680 * (1ULL << 32) | 0x8086a201);
	CHECK_EQ(rd(HPET_REG_CAP, 4), 0x8086a201);
	CHECK_EQ(rd(HPET_REG_CAP + 4, 4), 0x00989680);
	wr64(HPET_REG_CAP, 0);
	CHECK_EQ(rd(HPET_REG_CAP, 4), 0x8086a201); /* read-only */
	/* General configuration: only ENABLE_CNF and LEG_RT_CNF are writable. */
	CHECK_EQ(rd64(HPET_REG_CONFIG), 0);
	wr64(HPET_REG_CONFIG, ~0ULL & ~1ULL);
	CHECK_EQ(rd64(HPET_REG_CONFIG), HPET_CFG_LEGACY);
	wr64(HPET_REG_CONFIG, 0);
	/* Timer n: capabilities periodic + 64-bit, route cap 20-23, comparator
	 * all ones at reset. */
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		CHECK_EQ(rd64(T(n, HPET_TIMER_CONFIG)), (uint64_t)HPET_ROUTE_CAP << 32 | 0x30);
		CHECK_EQ(rd64(T(n, HPET_TIMER_CMP)), ~0ULL);
	}
	/* Writable bits: 1, 2, 3, 6, 8, 13:9 (a supported route); not 0, 4, 5,
	 * 7, 14 (no FSB capability), 15, 63:16. Route 21 = 0x15 << 9. */
	wr64(T(1, HPET_TIMER_CONFIG), ~0ULL & ~(uint64_t)HPET_TN_ROUTE_MASK & ~(uint64_t)HPET_TN_SETVAL);
	CHECK_EQ(rd64(T(1, HPET_TIMER_CONFIG)), (uint64_t)HPET_ROUTE_CAP << 32 | 0x13e);
	wr64(T(1, HPET_TIMER_CONFIG), 21u << 9);
	CHECK_EQ(rd(T(1, HPET_TIMER_CONFIG), 4), (21u << 9) | 0x30);
	/* An unsupported route (5) reads back the old one. */
	wr64(T(1, HPET_TIMER_CONFIG), 5u << 9);
	CHECK_EQ(rd(T(1, HPET_TIMER_CONFIG), 4), (21u << 9) | 0x30);
	/* FSB route register: 64 bits of storage. */
	wr64(T(2, HPET_TIMER_FSB), 0xfee00000ULL << 32 | 0x41);
	CHECK_EQ(rd64(T(2, HPET_TIMER_FSB)), 0xfee00000ULL << 32 | 0x41);
	/* Reserved registers read 0 and ignore writes. */
	wr64(0x008, ~0ULL);
	CHECK_EQ(rd64(0x008), 0);
	CHECK_EQ(rd64(0x0f8), 0);
	CHECK_EQ(rd64(HPET_REG_TIMER(3)), 0);
	CHECK_EQ(rd64(0x3f8), 0);
}

static void test_bad_accesses(void)
{
	reset();
	/* Only naturally aligned 4- and 8-byte accesses (§2.3.1). */
	CHECK_EQ(rd(HPET_REG_CAP, 1), 0xff);
	CHECK_EQ(rd(HPET_REG_CAP, 2), 0xffff);
	CHECK_EQ(rd(HPET_REG_CAP + 2, 4), 0xffffffff);
	CHECK_EQ(rd(HPET_REG_CAP + 4, 8), ~0ULL);
	CHECK_EQ(rd(HPET_SIZE, 4), 0xffffffff);
	CHECK_EQ(rd(~0u & ~7u, 8), ~0ULL);
	wr(HPET_REG_CONFIG, 1, 1);
	wr(HPET_REG_CONFIG, 2, 1);
	wr(HPET_REG_CONFIG + 2, 4, 1);
	CHECK_EQ(rd64(HPET_REG_CONFIG), 0);
	/* A 32-bit write to the high half of the configuration changes nothing
	 * in the low half. */
	wr(HPET_REG_CONFIG + 4, 4, 3);
	CHECK_EQ(rd64(HPET_REG_CONFIG), 0);
}

static void test_counter(void)
{
	reset();
	CHECK_EQ(rd64(HPET_REG_COUNTER), 0);
	now_ns += 1000;
	CHECK_EQ(rd64(HPET_REG_COUNTER), 0); /* halted */
	/* Halted: writable, both halves. */
	wr(HPET_REG_COUNTER, 4, 0x11223344);
	wr(HPET_REG_COUNTER + 4, 4, 0x55);
	CHECK_EQ(rd64(HPET_REG_COUNTER), 0x5511223344ULL);
	wr64(HPET_REG_COUNTER, 1000);
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000);
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000);
	now_ns += 1234567; /* 123456 ticks of 10 ns, and 7 ns */
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000 + 123456);
	CHECK_EQ(rd(HPET_REG_COUNTER, 4), 1000 + 123456);
	CHECK_EQ(rd(HPET_REG_COUNTER + 4, 4), 0);
	/* Running: writes are ignored. */
	wr64(HPET_REG_COUNTER, 5);
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000 + 123456);
	/* Halting freezes the value; re-enabling continues from it. */
	wr64(HPET_REG_CONFIG, 0);
	now_ns += 1000000;
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000 + 123456);
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	now_ns += 100;
	CHECK_EQ(rd64(HPET_REG_COUNTER), 1000 + 123456 + 10);
	/* Nothing armed: no interrupts, no next event. */
	CHECK_EQ(hpet_poll(h), UINT64_MAX);
}

static void test_oneshot(void)
{
	reset();
	/* Timer 2, edge, route 20, comparator at 500 ticks. */
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_ENABLE | 20u << 9);
	wr64(T(2, HPET_TIMER_CMP), 500);
	CHECK_EQ(hpet_poll(h), UINT64_MAX); /* halted: nothing can match */
	uint64_t t0 = now_ns;
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	CHECK_EQ(hpet_poll(h), t0 + 5000);
	now_ns = t0 + 4990;
	hpet_poll(h);
	CHECK_EQ(edges[20], 0);
	now_ns = t0 + 5000;
	CHECK_EQ(hpet_poll(h), UINT64_MAX); /* 64-bit one-shot: never again */
	CHECK_EQ(edges[20], 1);
	CHECK_EQ(level[20], 0);
	CHECK_EQ(rd64(HPET_REG_ISR), 0); /* edge: no status */
	now_ns += 1000000;
	hpet_poll(h);
	CHECK_EQ(edges[20], 1);
	/* A comparator behind the counter does not match (64-bit). */
	wr64(T(2, HPET_TIMER_CMP), 10);
	CHECK_EQ(hpet_poll(h), UINT64_MAX);
	/* One equal to the counter matches at once. */
	uint64_t c = rd64(HPET_REG_COUNTER);
	wr64(T(2, HPET_TIMER_CMP), c);
	hpet_poll(h);
	CHECK_EQ(edges[20], 2);
	/* Interrupt disabled: the comparator matches silently. */
	wr64(T(2, HPET_TIMER_CONFIG), 20u << 9);
	wr64(T(2, HPET_TIMER_CMP), c + 10);
	now_ns += 100;
	hpet_poll(h);
	CHECK_EQ(edges[20], 2);
}

static void test_periodic(void)
{
	reset();
	/* Timer 0 periodic the way Linux programs it: config with SETVAL, then
	 * the first match with SETVAL, then the period. */
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	uint64_t t0 = now_ns;
	wr64(T(0, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | 22u << 9);
	CHECK(rd64(T(0, HPET_TIMER_CONFIG)) & HPET_TN_SETVAL);
	wr64(T(0, HPET_TIMER_CMP), 1000);
	CHECK(!(rd64(T(0, HPET_TIMER_CONFIG)) & HPET_TN_SETVAL)); /* clears itself */
	wr64(T(0, HPET_TIMER_CMP), 400);                         /* the period */
	CHECK_EQ(rd64(T(0, HPET_TIMER_CMP)), 1000);
	CHECK_EQ(hpet_poll(h), t0 + 10000);
	now_ns = t0 + 10000;
	CHECK_EQ(hpet_poll(h), t0 + 14000);
	CHECK_EQ(edges[22], 1);
	CHECK_EQ(rd64(T(0, HPET_TIMER_CMP)), 1400); /* grows by the period */
	now_ns = t0 + 14000;
	hpet_poll(h);
	CHECK_EQ(edges[22], 2);
	/* Five periods missed: one interrupt, comparator past the counter. */
	now_ns = t0 + 14000 + 5 * 4000 + 10;
	CHECK_EQ(hpet_poll(h), t0 + 14000 + 6 * 4000);
	CHECK_EQ(edges[22], 3);
	CHECK_EQ(rd64(T(0, HPET_TIMER_CMP)), 1400 + 6 * 400);
	/* Back to one-shot: no more reloads. */
	wr64(T(0, HPET_TIMER_CONFIG), HPET_TN_ENABLE | 22u << 9);
	now_ns = t0 + 14000 + 6 * 4000;
	CHECK_EQ(hpet_poll(h), UINT64_MAX);
	CHECK_EQ(edges[22], 4);
}

static void test_32bit(void)
{
	reset();
	/* Counter near 2^32: a 32-bit comparator matches on the low half. */
	wr64(HPET_REG_COUNTER, 0x1fffffff0ULL);
	wr64(T(1, HPET_TIMER_CMP), 0x123400000005ULL);
	wr64(T(1, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_32MODE | 23u << 9);
	CHECK_EQ(rd64(T(1, HPET_TIMER_CMP)), 5); /* upper half cleared */
	wr(T(1, HPET_TIMER_CMP) + 4, 4, 0x77);   /* and not writable */
	CHECK_EQ(rd64(T(1, HPET_TIMER_CMP)), 5);
	uint64_t t0 = now_ns;
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	/* 0x1fffffff0 -> 0x200000005 is 0x15 ticks. */
	CHECK_EQ(hpet_poll(h), t0 + 0x15 * 10);
	now_ns = t0 + 0x15 * 10;
	/* A 32-bit one-shot matches again when the low half wraps. */
	CHECK_EQ(hpet_poll(h), t0 + (0x15 + (1ULL << 32)) * 10);
	CHECK_EQ(edges[23], 1);
	/* Periodic in 32-bit mode: the period is 32 bits, the comparator wraps. */
	wr64(T(1, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_32MODE | HPET_TN_PERIODIC | HPET_TN_SETVAL | 23u << 9);
	wr64(T(1, HPET_TIMER_CMP), 0xfffffff0);
	wr64(T(1, HPET_TIMER_CMP), 0x100000020ULL); /* the high half is dropped */
	/* Counter now 0x200000005: low half 5, next match at 0x2fffffff0. */
	uint64_t c = rd64(HPET_REG_COUNTER);
	CHECK_EQ(c, 0x200000005ULL);
	CHECK_EQ(hpet_poll(h), now_ns + (0x2fffffff0ULL - c) * 10);
	now_ns += (0x2fffffff0ULL - c) * 10;
	hpet_poll(h);
	CHECK_EQ(edges[23], 2);
	CHECK_EQ(rd64(T(1, HPET_TIMER_CMP)), 0x10); /* 0xfffffff0 + 0x20 wrapped */
	CHECK_EQ(hpet_poll(h), now_ns + 0x20 * 10);
}

static void test_level_and_legacy(void)
{
	reset();
	/* Level-triggered timer 2 on route 21: status bit and held line until
	 * the guest writes 1 to the status bit. */
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_LEVEL | 21u << 9);
	wr64(T(2, HPET_TIMER_CMP), 10);
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	now_ns += 100;
	hpet_poll(h);
	CHECK_EQ(rd64(HPET_REG_ISR), 4);
	CHECK_EQ(level[21], 1);
	wr64(HPET_REG_ISR, 0); /* writing 0 does nothing */
	CHECK_EQ(rd64(HPET_REG_ISR), 4);
	CHECK_EQ(level[21], 1);
	wr64(HPET_REG_ISR, 4);
	CHECK_EQ(rd64(HPET_REG_ISR), 0);
	CHECK_EQ(level[21], 0);
	/* Halting the block disables the interrupt; the status stays. */
	wr64(T(2, HPET_TIMER_CMP), rd64(HPET_REG_COUNTER));
	hpet_poll(h);
	CHECK_EQ(level[21], 1);
	wr64(HPET_REG_CONFIG, 0);
	CHECK_EQ(level[21], 0);
	CHECK_EQ(rd64(HPET_REG_ISR), 4);
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	CHECK_EQ(level[21], 1);
	/* Changing the route moves the held level. */
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_LEVEL | 22u << 9);
	CHECK_EQ(level[21], 0);
	CHECK_EQ(level[22], 1);
	/* A match that fell due shows in the status register at once, even
	 * before anyone polls (the timer thread may wake late). */
	wr64(HPET_REG_ISR, 4);
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_LEVEL | 21u << 9); /* interrupt off: status only */
	wr64(T(2, HPET_TIMER_CMP), rd64(HPET_REG_COUNTER) + 50);
	CHECK_EQ(rd64(HPET_REG_ISR), 0);
	now_ns += 500;
	CHECK_EQ(rd64(HPET_REG_ISR), 4);
	CHECK_EQ(level[21], 0);
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_ENABLE | HPET_TN_LEVEL | 22u << 9);
	/* Back to edge: the status bit goes. */
	wr64(T(2, HPET_TIMER_CONFIG), HPET_TN_ENABLE | 22u << 9);
	CHECK_EQ(rd64(HPET_REG_ISR), 0);
	CHECK_EQ(level[22], 0);

	/* Legacy replacement: timer 0 -> IRQ 0, timer 1 -> IRQ 8, whatever
	 * their route fields say; timer 2 keeps its route. */
	reset();
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY);
	for (unsigned n = 0; n < 3; n++) {
		wr64(T(n, HPET_TIMER_CONFIG), HPET_TN_ENABLE | 20u << 9);
		wr64(T(n, HPET_TIMER_CMP), 100 + n);
	}
	now_ns += 10000;
	hpet_poll(h);
	CHECK_EQ(edges[0], 1);
	CHECK_EQ(edges[8], 1);
	CHECK_EQ(edges[20], 1);
	/* Legacy off: timers 0 and 1 use their routes. */
	wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
	uint64_t c = rd64(HPET_REG_COUNTER);
	wr64(T(0, HPET_TIMER_CMP), c);
	wr64(T(1, HPET_TIMER_CMP), c);
	hpet_poll(h);
	CHECK_EQ(edges[0], 1);
	CHECK_EQ(edges[8], 1);
	CHECK_EQ(edges[20], 3);
	hpet_destroy(h);
	h = NULL;
}

int main(void)
{
	test_registers();
	test_bad_accesses();
	test_counter();
	test_oneshot();
	test_periodic();
	test_32bit();
	test_level_and_legacy();
	return unit_report("hpet");
}
