/* 8259A PIC pair. Register semantics: Intel 8259A datasheet (ICW1-4, OCW1-3,
 * fully nested mode, automatic EOI, poll command); ELCR from the PIIX/ICH
 * datasheets (one bit per IRQ: 1 = level-triggered). */
#include "dev/pic8259.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t last_level;     /* input lines as last driven, for edge detection */
	uint8_t elcr;           /* level-triggered inputs */
	uint8_t elcr_mask;      /* ELCR bits that exist */
	uint8_t vector_base;
	uint8_t priority_add;   /* the lowest-priority IR is priority_add - 1 */
	uint8_t init_state;     /* 0: ready; 1-3: expecting ICW2-ICW4 */
	bool icw4_needed, single, auto_eoi, rotate_on_auto_eoi;
	bool read_isr, poll;
	bool special_mask;
};

struct pic8259 {
	pthread_mutex_t lock;
	struct pic_chip chip[2]; /* master, slave */
	pic_intr_fn *intr;
	void *opaque;
	int intr_level;
};

/* The highest-priority set bit of mask, as 0-7 relative to IR0, or 8. */
static unsigned highest(const struct pic_chip *c, uint8_t mask)
{
	if (!mask)
		return 8;
	for (unsigned p = 0; p < 8; p++) {
		unsigned irq = (p + c->priority_add) & 7;
		if (mask & (1u << irq))
			return irq;
	}
	return 8;
}

/* The IR the chip would present now, or 8 (datasheet: "priority resolver"). */
static unsigned chip_pending(const struct pic_chip *c, bool is_master)
{
	unsigned irq = highest(c, c->irr & ~c->imr);
	if (irq == 8)
		return 8;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;
	/* Fully nested: a cascaded slave may interrupt its own in-service IR2. */
	if (is_master && (c->isr & (1u << 2)))
		in_service &= ~(1u << 2);
	unsigned cur = highest(c, in_service);
	/* Compare by rotated priority: smaller distance from priority_add wins. */
	if (cur != 8 && ((irq - c->priority_add) & 7) >= ((cur - c->priority_add) & 7))
		return 8;
	return irq;
}

static void chip_set_input(struct pic_chip *c, unsigned irq, int level)
{
	uint8_t bit = (uint8_t)(1u << irq);
	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->last_level & bit)) {
		c->irr |= bit; /* rising edge */
	}
	if (level)
		c->last_level |= bit;
	else
		c->last_level &= (uint8_t)~bit;
}

/* Propagates the slave's output into master IR2, then the master's output to
 * the CPU. */
static void update(struct pic8259 *p)
{
	/* The slave's INT output drives master IR2. A request the slave has
	 * withdrawn is withdrawn at the master too: a latched stale IR2 would
	 * only produce a spurious slave vector. */
	bool slave = chip_pending(&p->chip[1], false) != 8;
	chip_set_input(&p->chip[0], 2, slave);
	if (!slave)
		p->chip[0].irr &= (uint8_t)~(1u << 2);
	int level = chip_pending(&p->chip[0], true) != 8;
	if (level != p->intr_level) {
		p->intr_level = level;
		if (p->intr)
			p->intr(p->opaque, level);
	}
}

static void chip_eoi(struct pic_chip *c, unsigned irq)
{
	c->isr &= (uint8_t)~(1u << irq);
}

/* INTA on one chip: returns the IR it acknowledged (7 if spurious). */
static unsigned chip_ack(struct pic_chip *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);
	if (!(c->elcr & bit))
		c->irr &= (uint8_t)~bit; /* an edge is consumed; a level stays while asserted */
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (uint8_t)((irq + 1) & 7);
	} else {
		c->isr |= bit;
	}
	return irq;
}

uint8_t pic8259_ack(struct pic8259 *p)
{
	pthread_mutex_lock(&p->lock);
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	unsigned irq = chip_pending(m, true);
	uint8_t vector;
	if (irq == 8) {
		vector = m->vector_base + 7; /* spurious */
	} else if (irq == 2 && !m->single) {
		chip_ack(m, 2);
		unsigned sirq = chip_pending(s, false);
		if (sirq == 8)
			vector = s->vector_base + 7; /* spurious on the slave */
		else
			vector = (uint8_t)(s->vector_base + chip_ack(s, sirq));
		/* INTA drops the slave's INT; a further request raises a new edge. */
		m->last_level &= (uint8_t)~(1u << 2);
	} else {
		vector = (uint8_t)(m->vector_base + chip_ack(m, irq));
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
	return vector;
}

bool pic8259_intr(struct pic8259 *p)
{
	pthread_mutex_lock(&p->lock);
	bool level = p->intr_level;
	pthread_mutex_unlock(&p->lock);
	return level;
}

void pic8259_set_irq(struct pic8259 *p, unsigned irq, int level)
{
	if (irq >= 16)
		return;
	pthread_mutex_lock(&p->lock);
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static void chip_reset_for_icw1(struct pic_chip *c, uint8_t v)
{
	uint8_t elcr = c->elcr, elcr_mask = c->elcr_mask;
	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = elcr_mask;
	c->icw4_needed = v & 1;
	c->single = v & 2;
	c->init_state = 1;
}

static void chip_write_cmd(struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) { /* ICW1 */
		chip_reset_for_icw1(c, v);
		return;
	}
	if (v & 0x08) { /* OCW3 */
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 0x01;
		if (v & 0x40)
			c->special_mask = (v >> 5) & 1;
		return;
	}
	/* OCW2: R, SL, EOI in bits 7-5, level in 2-0. */
	unsigned cmd = v >> 5, level = v & 7;
	switch (cmd) {
	case 0: c->rotate_on_auto_eoi = false; break;
	case 4: c->rotate_on_auto_eoi = true; break;
	case 1:   /* non-specific EOI */
	case 5: { /* rotate on non-specific EOI */
		unsigned irq = highest(c, c->isr);
		if (irq != 8) {
			chip_eoi(c, irq);
			if (cmd == 5)
				c->priority_add = (uint8_t)((irq + 1) & 7);
		}
		break;
	}
	case 3: chip_eoi(c, level); break;                     /* specific EOI */
	case 7: chip_eoi(c, level); c->priority_add = (uint8_t)((level + 1) & 7); break;
	case 6: c->priority_add = (uint8_t)((level + 1) & 7); break; /* set priority */
	default: break;                                        /* 2: no operation */
	}
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_state) {
	case 1: /* ICW2 */
		c->vector_base = v & 0xf8;
		c->init_state = !c->single ? 2 : c->icw4_needed ? 3 : 0;
		break;
	case 2: /* ICW3: cascade wiring, fixed on a PC */
		c->init_state = c->icw4_needed ? 3 : 0;
		break;
	case 3: /* ICW4 */
		c->auto_eoi = v & 0x02;
		c->init_state = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint8_t chip_read(struct pic_chip *c, bool is_master, bool data_port)
{
	if (data_port)
		return c->imr;
	if (c->poll) {
		/* Poll command: the read acts as INTA; bit 7 says an IR was found. */
		c->poll = false;
		unsigned irq = chip_pending(c, is_master);
		if (irq == 8)
			return 0;
		chip_ack(c, irq);
		return (uint8_t)(0x80 | irq);
	}
	return c->read_isr ? c->isr : c->irr;
}

void pic8259_io(struct pic8259 *p, uint16_t port, bool is_write, uint8_t *value)
{
	pthread_mutex_lock(&p->lock);
	if (port == 0x4d0 || port == 0x4d1) {
		struct pic_chip *c = &p->chip[port & 1];
		if (is_write)
			c->elcr = *value & c->elcr_mask;
		else
			*value = c->elcr;
	} else {
		struct pic_chip *c = &p->chip[(port & 0x80) ? 1 : 0];
		bool data = port & 1;
		if (is_write) {
			if (data)
				chip_write_data(c, *value);
			else
				chip_write_cmd(c, *value);
		} else {
			*value = chip_read(c, c == &p->chip[0], data);
		}
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static void bus_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value, uint16_t base)
{
	/* Byte registers; a wider access touches consecutive ports. */
	for (unsigned i = 0; i < size && i < 2; i++) {
		uint8_t b = (uint8_t)(*value >> (8 * i));
		pic8259_io(opaque, (uint16_t)(base + offset + i), is_write, &b);
		if (!is_write) {
			*value &= ~(0xffULL << (8 * i));
			*value |= (uint64_t)b << (8 * i);
		}
	}
}
static void io_master(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x20); }
static void io_slave(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0xa0); }
static void io_elcr(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x4d0); }

int pic8259_create(struct io_bus *bus, pic_intr_fn *intr, void *opaque, struct pic8259 **out)
{
	struct pic8259 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->intr = intr;
	p->opaque = opaque;
	/* IRQ 0, 1, 2, 8 and 13 are always edge-triggered on a PC. */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
	p->chip[0].imr = p->chip[1].imr = 0xff; /* masked until the guest programs them */
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, 0x20, 2, io_master, p, "pic-master");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, 0xa0, 2, io_slave, p, "pic-slave");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, 0x4d0, 2, io_elcr, p, "pic-elcr");
	}
	if (r < 0) {
		pic8259_destroy(p);
		return r;
	}
	*out = p;
	return 0;
}

void pic8259_destroy(struct pic8259 *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}
