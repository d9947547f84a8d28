/* The 8254 driven by a test clock: modes, latches, read-back, IRQ 0. */
#include "dev/pit8254.h"
#include "unit.h"

static uint64_t now_ns;
static uint64_t test_clock(void *o) { (void)o; return now_ns; }
static int edges;
static void on_irq(void *o, unsigned gsi, int level) { (void)o; if (gsi == 0 && level) edges++; }

static struct pit8254 *p;
static void out(uint16_t port, uint8_t v) { pit8254_io(p, port, true, &v); }
static uint8_t in(uint16_t port)
{
	uint8_t v = 0;
	pit8254_io(p, port, false, &v);
	return v;
}
static uint64_t ns(uint64_t ticks) { return ticks * 1000000000ULL / PIT_HZ; }

int main(void)
{
	struct irq_line irq = { on_irq, NULL, 0 };
	CHECK_EQ(pit8254_create(NULL, &irq, test_clock, NULL, &p), 0);
	now_ns = 1000000;
	CHECK_EQ(pit8254_poll(p), UINT64_MAX); /* nothing programmed: no interrupts */

	/* Channel 0, mode 2 (rate generator), LSB then MSB, 11932 -> 100 Hz. */
	out(0x43, 0x34);
	out(0x40, 11932 & 0xff);
	out(0x40, 11932 >> 8);
	uint64_t t0 = now_ns;
	CHECK_EQ(edges, 0);
	uint64_t next = pit8254_poll(p);
	CHECK(next > t0 + ns(11931) && next <= t0 + ns(11932) + 1);
	now_ns = next;
	pit8254_poll(p);
	CHECK_EQ(edges, 1);
	/* Ten periods later, missed ticks coalesce into one edge. */
	now_ns = t0 + ns(11932 * 10) + 5000;
	pit8254_poll(p);
	CHECK_EQ(edges, 2);
	CHECK(pit8254_poll(p) > now_ns);

	/* Counter latch: the value counts down from the reload value. */
	now_ns = t0 + ns(100) + 10;
	out(0x43, 0x00);
	uint16_t v = in(0x40);
	v |= (uint16_t)(in(0x40) << 8);
	CHECK(v <= 11932 - 99 && v >= 11932 - 101);

	/* Mode 0 on channel 0: one interrupt at terminal count, then none. */
	out(0x43, 0x30);
	out(0x40, 0x00);
	out(0x40, 0x10); /* 0x1000 */
	uint64_t t1 = now_ns;
	now_ns = t1 + ns(0x1000) + 1000;
	int before = edges;
	pit8254_poll(p);
	CHECK_EQ(edges, before + 1);
	now_ns += ns(0x10000) * 3;
	CHECK_EQ(pit8254_poll(p), UINT64_MAX);
	CHECK_EQ(edges, before + 1);

	/* Read-back status of channel 0: OUT high after terminal count, mode 0,
	 * rw 3, count loaded. */
	out(0x43, 0xe2);
	CHECK_EQ(in(0x40), 0x80 | 0x30 | 0x00);

	/* Channel 2 through port 0x61, as Linux calibrates the TSC: gate on,
	 * mode 0, OUT2 (bit 5) goes high at terminal count. */
	out(0x61, 0x00);
	out(0x43, 0xb0);
	out(0x42, 0xff);
	out(0x42, 0xff);
	out(0x61, 0x01);
	uint64_t t2 = now_ns;
	CHECK_EQ(in(0x61) & 0x21, 0x01);
	now_ns = t2 + ns(0xffff) + 1000;
	CHECK_EQ(in(0x61) & 0x20, 0x20);
	/* The refresh bit toggles with time. */
	uint8_t a = in(0x61) & 0x10;
	now_ns += 15085;
	CHECK(((in(0x61) & 0x10) ^ a) == 0x10);

	/* LSB-only access mode on channel 1. */
	out(0x43, 0x54); /* channel 1, LSB only, mode 2 */
	out(0x41, 200);
	CHECK(in(0x41) <= 200);
	pit8254_destroy(p);
	return unit_report("pit8254");
}
