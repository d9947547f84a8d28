/* The HPET at 0xfed00000 from a bare-metal guest (IA-PC HPET 1.0a): the
 * capabilities register, the main counter halted and running, the level
 * status bit and its write-1-to-clear, and timer 0 in legacy replacement
 * mode interrupting on IRQ 0 through the 8259 (vector 0x20), one-shot and
 * then periodic. Timers are programmed while the counter is halted: an
 * access can take longer than the distance to the comparator (kvm-pvm
 * emulates ring 0), and a 64-bit comparator behind the counter never
 * matches. */
#include <stdint.h>

#include "lib/guestlib.h"

#define HPET 0xfed00000ULL
#define CAP 0x000
#define CONFIG 0x010
#define ISR 0x020
#define COUNTER 0x0f0
#define T_CONFIG(n) (0x100 + 0x20 * (n))
#define T_CMP(n) (0x108 + 0x20 * (n))

#define TN_LEVEL (1u << 1)
#define TN_ENABLE (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_SETVAL (1u << 6)

static uint64_t rd64(unsigned off) { return *(volatile uint64_t *)(HPET + off); }
static uint32_t rd32(unsigned off) { return *(volatile uint32_t *)(HPET + off); }
static void wr64(unsigned off, uint64_t v) { *(volatile uint64_t *)(HPET + off) = v; }

/* Waits until the counter has advanced by n ticks (or a bound of reads). */
static int wait_ticks(uint64_t n)
{
	uint64_t start = rd64(COUNTER);
	for (unsigned i = 0; i < 50000000; i++)
		if (rd64(COUNTER) - start >= n)
			return 1;
	return 0;
}

void guest_main(void)
{
	uint64_t cap = rd64(CAP);
	/* REV_ID 1, three timers, 64-bit counter, legacy capable; the period
	 * in femtoseconds is at most 100 ns (§2.3.4). */
	print("hpet: rev %2x, timers %d, 64-bit %s, legacy %s, period %s\n", cap & 0xff, (unsigned)((cap >> 8) & 0x1f) + 1,
	      (cap >> 13) & 1 ? "yes" : "no", (cap >> 15) & 1 ? "yes" : "no",
	      (cap >> 32) && (cap >> 32) <= 100000000 ? "valid" : "INVALID");
	print("hpet: 32-bit reads agree: %s\n", rd32(CAP) == (uint32_t)cap && rd32(CAP + 4) == cap >> 32 ? "yes" : "no");

	uint64_t a = rd64(COUNTER);
	uint64_t b = rd64(COUNTER);
	print("counter halted: %s\n", a == b ? "holds" : "MOVES");
	wr64(COUNTER, 0x100000000ULL);
	print("counter written while halted: %s\n", rd64(COUNTER) == 0x100000000ULL ? "yes" : "NO");
	wr64(CONFIG, 1);
	print("counter enabled: %s\n", wait_ticks(1000) ? "runs" : "STUCK");
	print("counter above 2^32: %s\n", rd32(COUNTER + 4) == 1 ? "yes" : "NO");

	/* Level mode with the interrupt off still sets the status bit (§2.3.8
	 * Tn_INT_ENB_CNF); writing 1 clears it. */
	wr64(CONFIG, 0);
	wr64(T_CONFIG(2), TN_LEVEL);
	wr64(T_CMP(2), rd64(COUNTER) + 1000);
	wr64(CONFIG, 1);
	wait_ticks(2000);
	print("timer 2 level status: %s", rd64(ISR) == 4 ? "set" : "NOT SET");
	wr64(ISR, 4);
	print(", %s\n", rd64(ISR) == 0 ? "cleared" : "NOT CLEARED");
	wr64(T_CONFIG(2), 0);

	irq0_setup(); /* the 8259 pair, only IRQ 0 unmasked, vector 0x20 */

	/* Legacy replacement: timer 0 drives IRQ 0. One-shot 1 ms ahead (the
	 * 64-bit comparator matches once). */
	uint64_t hz = 1000000000000000ULL / (cap >> 32);
	wr64(CONFIG, 2);
	wr64(T_CONFIG(0), TN_ENABLE);
	wr64(T_CMP(0), rd64(COUNTER) + hz / 1000);
	wr64(CONFIG, 3);
	/* "sti; hlt": the STI shadow keeps the interrupt from slipping in
	 * between the test and the HLT (there is no later one to wake it). */
	for (unsigned i = 0; i < 10000000 && irq0_ticks == 0; i++)
		__asm__ volatile("sti; hlt; cli");
	__asm__ volatile("sti");
	wait_ticks(hz / 100); /* 10 ms more: no second match */
	__asm__ volatile("cli");
	print("one-shot: %d interrupt(s) on IRQ 0\n", irq0_ticks);

	/* Periodic, 1 kHz: the first match with Tn_VAL_SET_CNF, then the period. */
	irq0_ticks = 0;
	wr64(CONFIG, 2);
	wr64(T_CONFIG(0), TN_ENABLE | TN_PERIODIC | TN_SETVAL);
	uint64_t first = rd64(COUNTER) + hz / 1000;
	wr64(T_CMP(0), first);
	wr64(T_CMP(0), hz / 1000);
	wr64(CONFIG, 3);
	for (unsigned i = 0; i < 10000000 && irq0_ticks < 10; i++)
		__asm__ volatile("sti; hlt; cli");
	uint64_t cmp = rd64(T_CMP(0));
	print("periodic: %d interrupts, comparator advanced by whole periods: %s\n", irq0_ticks >= 10 ? 10u : irq0_ticks,
	      cmp > first && (cmp - first) % (hz / 1000) == 0 ? "yes" : "NO");

	/* Halted, nothing fires (an IRQ 0 latched before the halt is taken
	 * first). */
	wr64(CONFIG, 2);
	irq0_during(1000);
	print("halted: %s\n", irq0_during(200000) == 0 ? "no interrupts" : "STILL INTERRUPTED");
	guest_exit(0x10);
}
