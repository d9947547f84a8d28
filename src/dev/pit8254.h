/* The 8254 programmable interval timer (ports 0x40-0x43) and the port 0x61
 * bits that gate and read channel 2, for the software CPU (KVM has its own).
 * Time comes from a clock the caller supplies (nanoseconds), so the engine
 * decides what "now" means and tests can drive it. */
#ifndef VMON_DEV_PIT8254_H
#define VMON_DEV_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"
#include "dev/irq.h"

#define PIT_HZ 1193182ULL

typedef uint64_t pit_clock_fn(void *opaque);

struct pit8254;

/* clock NULL: the host's CLOCK_MONOTONIC. irq0 is channel 0's output line. */
int pit8254_create(struct io_bus *bus, const struct irq_line *irq0, pit_clock_fn *clock, void *clock_opaque,
		   struct pit8254 **out) __attribute__((warn_unused_result));
void pit8254_destroy(struct pit8254 *p);

/* Raises IRQ 0 if channel 0 has fired since the last call (ticks missed
 * while nobody polled are coalesced into one). Returns the clock time of
 * channel 0's next interrupt, or UINT64_MAX if none is due. */
uint64_t pit8254_poll(struct pit8254 *p);

/* Port access (0x40-0x43, 0x61), for unit tests; the bus calls the same. */
void pit8254_io(struct pit8254 *p, uint16_t port, bool is_write, uint8_t *value);

#endif
