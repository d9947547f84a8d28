/* 8254 PIT. Modes, latching and read-back follow the Intel 82C54 datasheet;
 * port 0x61 (gate 2, speaker, OUT2) follows the PC/AT system control port B.
 * Counters are not stepped: a channel remembers when its count was loaded
 * and derives its value and output from the clock when read. */
#include "dev/pit8254.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pit_channel {
	uint32_t count;       /* reload value, 1..65536 */
	uint64_t load_ns;     /* when counting started (count loaded, gate raised) */
	uint8_t mode;         /* 0-5 */
	uint8_t rw;           /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	bool counting;        /* a count has been written since the mode */
	bool write_msb_next;  /* rw 3: the next data write is the MSB */
	uint8_t write_lsb;
	bool read_msb_next;
	bool latched;         /* counter latch command pending */
	uint16_t latch;
	bool latched_msb_next;
	bool status_latched;
	uint8_t status;
};

struct pit8254 {
	pthread_mutex_t lock;
	struct pit_channel ch[3];
	struct irq_line irq0;
	bool has_irq;
	pit_clock_fn *clock;
	void *clock_opaque;
	uint64_t next_irq_ns;   /* channel 0's next interrupt, UINT64_MAX if none */
	bool speaker;           /* port 0x61 bit 1 */
};

static uint64_t host_clock(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t ticks_since(const struct pit_channel *c, uint64_t now)
{
	if (now <= c->load_ns)
		return 0;
	/* 128-bit product: hours of uptime do not overflow. */
	return (uint64_t)((unsigned __int128)(now - c->load_ns) * PIT_HZ / 1000000000ULL);
}

static uint64_t ns_of_ticks(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ);
}

/* The counting element now (datasheet, "mode definitions"). */
static uint16_t counter_value(const struct pit_channel *c, uint64_t now)
{
	if (!c->counting)
		return 0;
	uint64_t d = ticks_since(c, now);
	switch (c->mode) {
	case 0: case 1: case 4: case 5:
		return (uint16_t)(c->count - d); /* wraps through 0xffff after terminal count */
	case 2:
		return (uint16_t)(c->count - d % c->count);
	default: { /* mode 3 counts down by two, twice per period */
		uint64_t half = (c->count + 1) / 2;
		uint64_t phase = d % c->count;
		uint64_t in_half = phase < half ? phase : phase - half;
		return (uint16_t)((c->count - 2 * in_half) & 0xfffe);
	}
	}
}

static bool output(const struct pit_channel *c, uint64_t now)
{
	if (!c->counting)
		return c->mode != 0;
	uint64_t d = ticks_since(c, now);
	switch (c->mode) {
	case 0: return d >= c->count;                /* high at terminal count */
	case 1: return d >= c->count;
	case 2: return c->count < 2 || d % c->count != c->count - 1; /* low for one tick */
	case 3: return d % c->count < (c->count + 1) / 2;  /* high for the first half */
	case 4: case 5: return d != c->count;        /* low for one tick at terminal count */
	}
	return true;
}

static bool counts_while_gate_low(const struct pit_channel *c)
{
	/* Gate low stops modes 0, 2, 3, 4; modes 1 and 5 are triggered by it. */
	return c->mode == 1 || c->mode == 5;
}

/* Channel 0's next interrupt edge after `after`. */
static uint64_t next_irq(const struct pit_channel *c, uint64_t after)
{
	if (!c->counting || (!c->gate && !counts_while_gate_low(c)))
		return UINT64_MAX;
	uint64_t d = ticks_since(c, after);
	switch (c->mode) {
	case 0:
	case 4:
		return d < c->count ? c->load_ns + ns_of_ticks(c->count) : UINT64_MAX;
	case 2:
	case 3: {
		uint64_t next = (d / c->count + 1) * c->count;
		return c->load_ns + ns_of_ticks(next);
	}
	default:
		return UINT64_MAX;
	}
}

static void reschedule(struct pit8254 *p, uint64_t now)
{
	p->next_irq_ns = next_irq(&p->ch[0], now);
}

static void load_count(struct pit8254 *p, unsigned n, uint32_t v, uint64_t now)
{
	struct pit_channel *c = &p->ch[n];
	c->count = v ? v : 0x10000;
	c->load_ns = now;
	c->counting = true;
	if (n == 0)
		reschedule(p, now);
}

static void write_data(struct pit8254 *p, unsigned n, uint8_t v, uint64_t now)
{
	struct pit_channel *c = &p->ch[n];
	switch (c->rw) {
	case 1: load_count(p, n, v, now); break;
	case 2: load_count(p, n, (uint32_t)v << 8, now); break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
		} else {
			c->write_msb_next = false;
			load_count(p, n, c->write_lsb | ((uint32_t)v << 8), now);
		}
	}
}

static uint8_t read_data(struct pit8254 *p, unsigned n, uint64_t now)
{
	struct pit_channel *c = &p->ch[n];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v;
	bool msb;
	if (c->latched) {
		v = c->latch;
		msb = c->latched_msb_next;
		if (c->rw == 3 && !msb)
			c->latched_msb_next = true;
		else
			c->latched = false, c->latched_msb_next = false;
	} else {
		v = counter_value(c, now);
		if (c->rw == 3) {
			msb = c->read_msb_next;
			c->read_msb_next = !msb;
		} else {
			msb = c->rw == 2;
		}
	}
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->latched)
		return; /* a second latch before the read is ignored */
	c->latch = counter_value(c, now);
	c->latched = true;
	c->latched_msb_next = c->rw == 2;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((output(c, now) << 7) | (!c->counting << 6) | (c->rw << 4) | (c->mode << 1) | c->bcd);
	c->status_latched = true;
}

static void write_control(struct pit8254 *p, uint8_t v, uint64_t now)
{
	unsigned sc = v >> 6;
	if (sc == 3) { /* read-back: bit 5 = 0 latches counts, bit 4 = 0 latches status */
		for (unsigned n = 0; n < 3; n++) {
			if (!(v & (2u << n)))
				continue;
			if (!(v & 0x20))
				latch_count(&p->ch[n], now);
			if (!(v & 0x10))
				latch_status(&p->ch[n], now);
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	unsigned rw = (v >> 4) & 3;
	if (rw == 0) {
		latch_count(c, now);
		return;
	}
	unsigned mode = (v >> 1) & 7;
	c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode); /* 6, 7 alias 2, 3 */
	c->rw = (uint8_t)rw;
	c->bcd = v & 1;
	c->counting = false;
	c->write_msb_next = c->read_msb_next = false;
	c->latched = c->status_latched = false;
	if (sc == 0)
		reschedule(p, now);
}

void pit8254_io(struct pit8254 *p, uint16_t port, bool is_write, uint8_t *value)
{
	pthread_mutex_lock(&p->lock);
	uint64_t now = p->clock(p->clock_opaque);
	if (port == 0x61) {
		struct pit_channel *c2 = &p->ch[2];
		if (is_write) {
			bool gate = *value & 1;
			if (gate && !c2->gate && c2->counting)
				c2->load_ns = now; /* a rising gate (re)starts the count */
			c2->gate = gate;
			p->speaker = *value & 2;
		} else {
			/* Bit 4 toggles with DRAM refresh (every 15 us); bit 5 is OUT2. */
			bool refresh = (now / 15085) & 1;
			*value = (uint8_t)(c2->gate | (p->speaker << 1) | (refresh << 4) |
					   ((c2->gate && output(c2, now)) << 5));
		}
	} else if (port == 0x43) {
		if (is_write)
			write_control(p, *value, now);
		else
			*value = 0xff; /* the control word is write-only */
	} else if (port >= 0x40 && port <= 0x42) {
		if (is_write)
			write_data(p, port - 0x40, *value, now);
		else
			*value = read_data(p, port - 0x40, now);
	}
	pthread_mutex_unlock(&p->lock);
}

uint64_t pit8254_poll(struct pit8254 *p)
{
	pthread_mutex_lock(&p->lock);
	uint64_t now = p->clock(p->clock_opaque);
	bool fire = p->next_irq_ns <= now;
	if (fire)
		reschedule(p, now);
	uint64_t next = p->next_irq_ns;
	pthread_mutex_unlock(&p->lock);
	if (fire && p->has_irq) {
		/* An edge on IRQ 0 (the PIC latches it). */
		irq_line_set(&p->irq0, 1);
		irq_line_set(&p->irq0, 0);
	}
	return next;
}

static void bus_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value, uint16_t base)
{
	uint8_t b = (uint8_t)*value;
	(void)size; /* byte registers */
	pit8254_io(opaque, (uint16_t)(base + offset), is_write, &b);
	if (!is_write)
		*value = b;
}
static void io_pit(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x40); }
static void io_61(void *o, uint64_t off, unsigned size, bool w, uint64_t *v) { bus_io(o, off, size, w, v, 0x61); }

int pit8254_create(struct io_bus *bus, const struct irq_line *irq0, pit_clock_fn *clock, void *clock_opaque,
		   struct pit8254 **out)
{
	struct pit8254 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->clock = clock ? clock : host_clock;
	p->clock_opaque = clock_opaque;
	if (irq0) {
		p->irq0 = *irq0;
		p->has_irq = true;
	}
	for (int i = 0; i < 3; i++)
		p->ch[i].rw = 3;
	p->ch[0].gate = p->ch[1].gate = true; /* wired high on a PC; gate 2 is port 0x61 bit 0 */
	p->next_irq_ns = UINT64_MAX;
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, 0x40, 4, io_pit, p, "pit");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, 0x61, 1, io_61, p, "port61");
	}
	if (r < 0) {
		pit8254_destroy(p);
		return r;
	}
	*out = p;
	return 0;
}

void pit8254_destroy(struct pit8254 *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}
