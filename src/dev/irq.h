/* An interrupt line: a device raises or lowers a level without knowing which
 * interrupt controller (KVM's in-kernel irqchip, or the emulator's) listens. */
#ifndef VMON_DEV_IRQ_H
#define VMON_DEV_IRQ_H

struct irq_line {
	void (*set_level)(void *opaque, unsigned gsi, int level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l && l->set_level)
		l->set_level(l->opaque, l->gsi, level);
}

#endif
