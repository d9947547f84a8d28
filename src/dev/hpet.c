/* HPET timer block, IA-PC HPET specification 1.0a (October 2004): register
 * map §2.3.1, capabilities §2.3.4, configuration §2.3.5, interrupt status
 * §2.3.6, main counter §2.3.7, timer registers §2.3.8-2.3.10, timer modes
 * §2.3.9.2 (non-periodic .1, periodic .2), legacy replacement in LEG_RT_CNF.
 *
 * The main counter is counter_base + (now - base_ns) / 10 while enabled and
 * counter_base while halted. Each timer keeps next_fire: the first counter
 * value at which its comparator matches; a poll that finds the counter at
 * or beyond it fires the timer and advances it. */
#include "dev/hpet.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define NEVER UINT64_MAX

struct hpet_timer {
	uint64_t config;    /* Tn_CONF_CAP, writable bits only (capabilities added on read) */
	uint64_t cmp;       /* Tn_COMPARATOR_VAL */
	uint64_t period;    /* periodic mode: what each match adds to cmp */
	uint64_t fsb;       /* Tn_FSB_INT_ROUTE: stored, unused (no FSB capability) */
	uint64_t next_fire; /* counter value of the next match, NEVER if none */
	uint64_t matched;   /* the last match served, NEVER since (re)programming */
	unsigned line;      /* the GSI the line is driven on */
	bool level;         /* the line is held high (level-triggered) */
};

struct hpet {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool has_thread, quit;
	hpet_clock_fn *clock;
	void *clock_opaque;
	struct irq_line irq;
	bool has_irq;
	uint64_t config;        /* ENABLE_CNF, LEG_RT_CNF */
	uint64_t isr;           /* Tn_INT_STS */
	uint64_t counter_base;  /* the main counter at base_ns (or frozen) */
	uint64_t base_ns;
	struct hpet_timer t[HPET_TIMERS];
};

static uint64_t host_clock(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool enabled(const struct hpet *h) { return h->config & HPET_CFG_ENABLE; }

static uint64_t counter_at(const struct hpet *h, uint64_t now)
{
	if (!enabled(h) || now <= h->base_ns)
		return h->counter_base;
	return h->counter_base + (now - h->base_ns) / HPET_TICK_NS;
}

/* The clock time at which the counter reaches c (enabled block). */
static uint64_t ns_of_counter(const struct hpet *h, uint64_t c)
{
	if (c == NEVER)
		return NEVER;
	if (c <= h->counter_base)
		return h->base_ns;
	uint64_t d = c - h->counter_base;
	if (d > (NEVER - h->base_ns) / HPET_TICK_NS)
		return NEVER;
	return h->base_ns + d * HPET_TICK_NS;
}

/* General capabilities and ID (§2.3.4): REV_ID 1, NUM_TIM_CAP = timers - 1,
 * COUNT_SIZE_CAP (64-bit), LEG_RT_CAP, VENDOR_ID, COUNTER_CLK_PERIOD. */
static uint64_t capabilities(void)
{
	return 0x01 | (uint64_t)(HPET_TIMERS - 1) << 8 | 1u << 13 | 1u << 15 |
	       (uint64_t)HPET_VENDOR_ID << 16 | (uint64_t)HPET_PERIOD_FS << 32;
}

/* Every timer is 64-bit and periodic capable, none FSB capable. */
static uint64_t timer_caps(void)
{
	return HPET_TN_PER_CAP | HPET_TN_64_CAP | (uint64_t)HPET_ROUTE_CAP << 32;
}

static bool mode32(const struct hpet_timer *t) { return t->config & HPET_TN_32MODE; }

/* The first counter value >= from at which the comparator matches: in
 * 32-bit mode only the low 32 bits are compared, so a match recurs every
 * 2^32 ticks; a 64-bit comparator behind the counter never matches again
 * (the counter would have to wrap). A match already served is not served
 * again when a register write re-arms the timer at the same counter value. */
static void arm(struct hpet_timer *t, uint64_t from)
{
	uint64_t next;
	if (mode32(t)) {
		uint64_t d = (uint32_t)((uint32_t)t->cmp - (uint32_t)from);
		next = from + d < from ? NEVER : from + d;
		if (next == t->matched)
			next = next + (1ULL << 32) < next ? NEVER : next + (1ULL << 32);
	} else {
		next = t->cmp >= from && t->cmp != t->matched ? t->cmp : NEVER;
	}
	t->next_fire = next;
}

/* §2.3.5 LEG_RT_CNF: in legacy replacement mode timer 0 drives IRQ 0 (I/O APIC input
 * 2, which vmon's MADT override and engines map ISA IRQ 0 to) and timer 1
 * IRQ 8; otherwise Tn_INT_ROUTE_CNF picks the I/O APIC input. */
static unsigned route(const struct hpet *h, unsigned n)
{
	if ((h->config & HPET_CFG_LEGACY) && n < 2)
		return n == 0 ? 0 : 8;
	return (unsigned)((h->t[n].config & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
}

static void drive(struct hpet *h, unsigned gsi, int level)
{
	if (!h->has_irq)
		return;
	struct irq_line l = h->irq;
	l.gsi = gsi;
	irq_line_set(&l, level);
}

/* Level-triggered timers hold their line while their status bit is set, the
 * timer's interrupt and the block are enabled (§2.3.6, §2.3.8 Tn_INT_ENB). */
static void update_lines(struct hpet *h)
{
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		struct hpet_timer *t = &h->t[n];
		unsigned line = route(h, n);
		bool want = enabled(h) && (t->config & HPET_TN_LEVEL) && (t->config & HPET_TN_ENABLE) &&
			    (h->isr & (1u << n));
		if (t->level && (line != t->line || !want)) {
			drive(h, t->line, 0);
			t->level = false;
		}
		t->line = line;
		if (want && !t->level) {
			drive(h, line, 1);
			t->level = true;
		}
	}
}

/* A match at counter value c: status and interrupt, then the next match. */
static void fire(struct hpet *h, unsigned n, uint64_t c)
{
	struct hpet_timer *t = &h->t[n];
	t->matched = t->next_fire;
	if (t->config & HPET_TN_LEVEL) {
		h->isr |= 1u << n;
	} else if (t->config & HPET_TN_ENABLE) {
		unsigned line = route(h, n);
		drive(h, line, 1);
		drive(h, line, 0);
	}
	/* Periodic (§2.3.9.2.2): the comparator grows by the period per match;
	 * matches missed since are coalesced. */
	uint64_t p = mode32(t) ? (uint32_t)t->period : t->period;
	if ((t->config & HPET_TN_PERIODIC) && p) {
		uint64_t k = (c - t->next_fire) / p + 1;
		t->cmp += k * p;
		if (mode32(t))
			t->cmp = (uint32_t)t->cmp;
	}
	arm(t, c + 1);
}

static uint64_t poll_locked(struct hpet *h, uint64_t now)
{
	if (!enabled(h))
		return NEVER;
	uint64_t c = counter_at(h, now), next = NEVER;
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		if (h->t[n].next_fire <= c)
			fire(h, n, c);
		if (h->t[n].next_fire < next)
			next = h->t[n].next_fire;
	}
	update_lines(h);
	return ns_of_counter(h, next);
}

uint64_t hpet_poll(struct hpet *h)
{
	pthread_mutex_lock(&h->lock);
	uint64_t next = poll_locked(h, h->clock(h->clock_opaque));
	pthread_mutex_unlock(&h->lock);
	return next;
}

static uint64_t read_reg(struct hpet *h, unsigned reg, uint64_t now)
{
	if (reg == HPET_REG_CAP)
		return capabilities();
	if (reg == HPET_REG_CONFIG)
		return h->config;
	if (reg == HPET_REG_ISR)
		return h->isr;
	if (reg == HPET_REG_COUNTER)
		return counter_at(h, now);
	if (reg >= HPET_REG_TIMER(0) && reg < HPET_REG_TIMER(HPET_TIMERS)) {
		const struct hpet_timer *t = &h->t[(reg - HPET_REG_TIMER(0)) / 0x20];
		switch ((reg - HPET_REG_TIMER(0)) % 0x20) {
		case HPET_TIMER_CONFIG: return t->config | timer_caps();
		case HPET_TIMER_CMP: return mode32(t) ? (uint32_t)t->cmp : t->cmp;
		case HPET_TIMER_FSB: return t->fsb;
		}
	}
	return 0; /* reserved: reads return 0 */
}

/* Bits 63:32 of Tn_CONF_CAP are capabilities; of the low half only these
 * are writable (FSB_EN stays 0 without FSB_INT_DEL_CAP). */
#define TN_WRITABLE (HPET_TN_LEVEL | HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | HPET_TN_32MODE | \
		     HPET_TN_ROUTE_MASK)

static void write_timer_config(struct hpet *h, unsigned n, uint64_t v, uint64_t c)
{
	struct hpet_timer *t = &h->t[n];
	uint64_t old = t->config;
	uint64_t cfg = v & TN_WRITABLE;
	/* An unsupported route is not taken: the old value reads back (§2.3.8,
	 * Tn_INT_ROUTE_CNF). */
	unsigned r = (unsigned)((cfg & HPET_TN_ROUTE_MASK) >> HPET_TN_ROUTE_SHIFT);
	if (!(HPET_ROUTE_CAP & (1u << r)))
		cfg = (cfg & ~(uint64_t)HPET_TN_ROUTE_MASK) | (old & HPET_TN_ROUTE_MASK);
	t->config = cfg;
	if (mode32(t)) {
		t->cmp = (uint32_t)t->cmp;
		t->period = (uint32_t)t->period;
	}
	if (!(cfg & HPET_TN_LEVEL))
		h->isr &= ~(1ULL << n); /* the status bit means nothing for edges */
	arm(t, c);
}

static void write_comparator(struct hpet_timer *t, uint64_t v, uint64_t mask, uint64_t c)
{
	if (mode32(t))
		mask &= 0xffffffffULL; /* the upper half is not writable in 32-bit mode */
	/* Periodic: a write sets the period, and with Tn_VAL_SET_CNF the
	 * comparator as well (§2.3.8 bit 6; the written value sets both, as
	 * on ICH hardware). One-shot: the comparator. */
	if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_SETVAL))
		t->cmp = (t->cmp & ~mask) | (v & mask);
	if (t->config & HPET_TN_PERIODIC)
		t->period = (t->period & ~mask) | (v & mask);
	t->config &= ~(uint64_t)HPET_TN_SETVAL; /* clears itself */
	t->matched = NEVER; /* a new value may match the counter as it is */
	arm(t, c);
}

/* A write of the bytes in mask (low half, high half or all of a register). */
static void write_reg(struct hpet *h, unsigned reg, uint64_t v, uint64_t mask, uint64_t now)
{
	uint64_t c = counter_at(h, now);
	if (reg == HPET_REG_CONFIG) {
		uint64_t cfg = ((h->config & ~mask) | (v & mask)) & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
		bool was = enabled(h);
		h->config = cfg;
		if (!was && enabled(h)) {
			h->base_ns = now; /* counting resumes from the halted value */
			for (unsigned n = 0; n < HPET_TIMERS; n++)
				arm(&h->t[n], c);
		} else if (was && !enabled(h)) {
			h->counter_base = c; /* halted: the counter holds */
		}
	} else if (reg == HPET_REG_ISR) {
		/* Writing 1 clears a level-triggered timer's status bit. */
		h->isr &= ~(v & mask & ((1ULL << HPET_TIMERS) - 1));
	} else if (reg == HPET_REG_COUNTER) {
		/* Writable only while halted (§2.3.7: software halts it first). */
		if (!enabled(h)) {
			h->counter_base = (h->counter_base & ~mask) | (v & mask);
			for (unsigned n = 0; n < HPET_TIMERS; n++)
				h->t[n].matched = NEVER;
		}
	} else if (reg >= HPET_REG_TIMER(0) && reg < HPET_REG_TIMER(HPET_TIMERS)) {
		unsigned n = (reg - HPET_REG_TIMER(0)) / 0x20;
		struct hpet_timer *t = &h->t[n];
		switch ((reg - HPET_REG_TIMER(0)) % 0x20) {
		case HPET_TIMER_CONFIG:
			write_timer_config(h, n, (t->config & ~mask) | (v & mask), c);
			break;
		case HPET_TIMER_CMP:
			write_comparator(t, v, mask, c);
			break;
		case HPET_TIMER_FSB:
			t->fsb = (t->fsb & ~mask) | (v & mask);
			break;
		}
	}
	update_lines(h);
}

void hpet_mmio(struct hpet *h, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	/* §2.3.1: registers are accessed 32 or 64 bits wide, naturally aligned. */
	if ((size != 4 && size != 8) || offset % size || offset >= HPET_SIZE) {
		log_debug("hpet: %u-byte %s at offset 0x%llx ignored", size, is_write ? "write" : "read",
			  (unsigned long long)offset);
		if (!is_write)
			*value = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
		return;
	}
	unsigned reg = (unsigned)(offset & ~7ULL);
	unsigned shift = (unsigned)(offset & 4) * 8;
	uint64_t mask = size == 8 ? ~0ULL : 0xffffffffULL << shift;
	pthread_mutex_lock(&h->lock);
	uint64_t now = h->clock(h->clock_opaque);
	/* Matches due by now happen before the access, whenever the thread
	 * wakes: a status bit or a comparator read is never stale. */
	poll_locked(h, now);
	if (is_write) {
		write_reg(h, reg, *value << shift, mask, now);
		if (h->has_thread)
			pthread_cond_signal(&h->wake); /* the next match may have moved */
	} else {
		uint64_t v = read_reg(h, reg, now) >> shift;
		*value = size == 8 ? v : (uint32_t)v;
	}
	pthread_mutex_unlock(&h->lock);
}

static void bus_mmio(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	hpet_mmio(opaque, offset, size, is_write, value);
}

/* The thread polls at most this often: a guest that programs a period of a
 * few ticks gets its interrupts coalesced, not a host core spinning. */
#define MIN_WAKE_NS 10000

/* Sleeps until the next match (or a register write) and polls. */
static void *timer_thread(void *arg)
{
	struct hpet *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->quit) {
		uint64_t now = h->clock(h->clock_opaque);
		uint64_t next = poll_locked(h, now);
		if (next != NEVER && next < now + MIN_WAKE_NS)
			next = now + MIN_WAKE_NS;
		if (next == NEVER) {
			pthread_cond_wait(&h->wake, &h->lock);
		} else {
			struct timespec ts = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };
			pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int hpet_create(struct io_bus *bus, uint64_t base, const struct irq_line *irq, hpet_clock_fn *clock,
		void *clock_opaque, struct hpet **out)
{
	struct hpet *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the clock host_clock reads */
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	h->clock = clock ? clock : host_clock;
	h->clock_opaque = clock_opaque;
	if (irq) {
		h->irq = *irq;
		h->has_irq = true;
	}
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		h->t[n].cmp = ~0ULL; /* reset value: all ones */
		h->t[n].next_fire = h->t[n].matched = NEVER;
	}
	int r = bus ? io_bus_register(bus, IO_SPACE_MMIO, base, HPET_SIZE, bus_mmio, h, "hpet") : 0;
	if (r == 0 && !clock) {
		r = -pthread_create(&h->thread, NULL, timer_thread, h);
		h->has_thread = r == 0;
	}
	if (r < 0) {
		hpet_destroy(h);
		return r;
	}
	*out = h;
	return 0;
}

void hpet_stop(struct hpet *h)
{
	if (!h || !h->has_thread)
		return;
	/* has_thread changes under the lock: vCPU threads still running read
	 * it there (they signal the thread after a register write). */
	pthread_mutex_lock(&h->lock);
	h->quit = true;
	h->has_thread = false;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
}

void hpet_destroy(struct hpet *h)
{
	if (!h)
		return;
	hpet_stop(h);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
