/* The PC's two cascaded 8259A programmable interrupt controllers (master at
 * 0x20, slave at 0xa0 on the master's IR2) plus the edge/level control
 * registers at 0x4d0/0x4d1. Used by the software CPU; under KVM the kernel
 * has its own. */
#ifndef VMON_DEV_PIC8259_H
#define VMON_DEV_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"

struct pic8259;

/* intr(opaque, level) is called (with the PIC's lock held: it must not call
 * back into the PIC) whenever the INTR output to the CPU changes. */
typedef void pic_intr_fn(void *opaque, int level);

int pic8259_create(struct io_bus *bus, pic_intr_fn *intr, void *opaque, struct pic8259 **out)
	__attribute__((warn_unused_result));
void pic8259_destroy(struct pic8259 *p);

/* Drives ISA interrupt line irq (0-15) to level. */
void pic8259_set_irq(struct pic8259 *p, unsigned irq, int level);

/* The CPU's interrupt-acknowledge cycle: the vector to deliver (a spurious
 * IRQ 7/15 vector when nothing is pending any more). */
uint8_t pic8259_ack(struct pic8259 *p);

/* INTR output level (something unmasked waits with enough priority). */
bool pic8259_intr(struct pic8259 *p);

/* Port access, for unit tests (the bus calls the same). */
void pic8259_io(struct pic8259 *p, uint16_t port, bool is_write, uint8_t *value);

#endif
