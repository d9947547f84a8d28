/* The 8259A pair programmed as a PC BIOS or Linux does. */
#include "dev/pic8259.h"
#include "unit.h"

static int intr_level, intr_changes;
static void on_intr(void *opaque, int level)
{
	(void)opaque;
	intr_level = level;
	intr_changes++;
}

static struct pic8259 *p;
static void out(uint16_t port, uint8_t v) { pic8259_io(p, port, true, &v); }
static uint8_t in(uint16_t port)
{
	uint8_t v = 0;
	pic8259_io(p, port, false, &v);
	return v;
}

int main(void)
{
	CHECK_EQ(pic8259_create(NULL, on_intr, NULL, &p), 0);
	/* Everything masked at power-on. */
	pic8259_set_irq(p, 0, 1);
	CHECK_EQ(intr_level, 0);
	pic8259_set_irq(p, 0, 0);

	/* ICW1-4 for both chips: vectors 0x20 and 0x28, cascade on IR2, 8086 mode. */
	out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, 0x01);
	out(0xa0, 0x11); out(0xa1, 0x28); out(0xa1, 0x02); out(0xa1, 0x01);
	out(0x21, 0x00); out(0xa1, 0x00);
	CHECK_EQ(in(0x21), 0x00);
	CHECK_EQ(intr_level, 0);

	/* An edge on IRQ0: INTR, vector 0x20, in service until EOI. */
	pic8259_set_irq(p, 0, 1);
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x20);
	CHECK_EQ(intr_level, 0);
	out(0x20, 0x0b); /* OCW3: read ISR */
	CHECK_EQ(in(0x20), 0x01);
	/* IRQ1 has lower priority: it waits for the EOI. */
	pic8259_set_irq(p, 1, 1);
	CHECK_EQ(intr_level, 0);
	out(0x20, 0x20); /* non-specific EOI */
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x21);
	out(0x20, 0x20);
	CHECK_EQ(intr_level, 0);
	/* Holding the edge line high does not re-trigger; a new edge does. */
	pic8259_set_irq(p, 1, 1);
	CHECK_EQ(intr_level, 0);
	pic8259_set_irq(p, 1, 0);
	pic8259_set_irq(p, 1, 1);
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x21);
	out(0x20, 0x61); /* specific EOI for IR1 */
	pic8259_set_irq(p, 0, 0);
	pic8259_set_irq(p, 1, 0);

	/* Masking: a masked request waits in IRR and fires when unmasked. */
	out(0x21, 0x10);
	pic8259_set_irq(p, 4, 1);
	CHECK_EQ(intr_level, 0);
	out(0x20, 0x0a); /* read IRR */
	CHECK_EQ(in(0x20) & 0x10, 0x10);
	out(0x21, 0x00);
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x24);
	out(0x20, 0x20);
	pic8259_set_irq(p, 4, 0);

	/* The slave: IRQ 12 arrives through IR2, vector 0x2c, EOI to both. */
	pic8259_set_irq(p, 12, 1);
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x2c);
	out(0xa0, 0x0b);
	CHECK_EQ(in(0xa0), 0x10);
	out(0x20, 0x0b);
	CHECK_EQ(in(0x20), 0x04);
	/* IRQ 8 (higher priority on the slave) still gets through: fully nested. */
	pic8259_set_irq(p, 8, 1);
	CHECK_EQ(intr_level, 1);
	CHECK_EQ(pic8259_ack(p), 0x28);
	out(0xa0, 0x20); out(0xa0, 0x20); out(0x20, 0x20);
	pic8259_set_irq(p, 8, 0);
	pic8259_set_irq(p, 12, 0);
	CHECK_EQ(intr_level, 0);

	/* Level-triggered (ELCR) IRQ 10: stays requested while the line is high. */
	out(0x4d1, 0x04);
	CHECK_EQ(in(0x4d1), 0x04);
	pic8259_set_irq(p, 10, 1);
	CHECK_EQ(pic8259_ack(p), 0x2a);
	out(0xa0, 0x20); out(0x20, 0x20);
	CHECK_EQ(intr_level, 1); /* still asserted */
	pic8259_set_irq(p, 10, 0);
	CHECK_EQ(intr_level, 0);
	/* IRQ 0, 1, 2 cannot be made level-triggered. */
	out(0x4d0, 0xff);
	CHECK_EQ(in(0x4d0), 0xf8);
	out(0x4d0, 0x00);

	/* Nothing pending at INTA: the spurious vector (IR7), nothing in service. */
	CHECK_EQ(pic8259_ack(p), 0x27);
	out(0x20, 0x0b);
	CHECK_EQ(in(0x20), 0x00);

	/* Auto-EOI mode (ICW4 bit 1): no ISR bit is left behind. */
	out(0x20, 0x11); out(0x21, 0x40); out(0x21, 0x04); out(0x21, 0x03);
	out(0x21, 0x00);
	pic8259_set_irq(p, 3, 1);
	CHECK_EQ(pic8259_ack(p), 0x43);
	out(0x20, 0x0b);
	CHECK_EQ(in(0x20), 0x00);
	pic8259_set_irq(p, 3, 0);

	/* Poll command: the read acknowledges. */
	pic8259_set_irq(p, 5, 1);
	out(0x20, 0x0c);
	CHECK_EQ(in(0x20), 0x85);
	CHECK(intr_changes > 0);
	pic8259_destroy(p);
	return unit_report("pic8259");
}
