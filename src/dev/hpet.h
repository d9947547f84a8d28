/* The High Precision Event Timer (IA-PC HPET specification 1.0a): one timer
 * block at 0xfed00000 with a 64-bit main counter at 100 MHz and three
 * comparators, each one-shot or periodic, 64- or 32-bit, edge or level,
 * routed to an I/O APIC input or, in legacy replacement mode, timer 0 to
 * IRQ 0 and timer 1 to IRQ 8. No FSB (MSI) delivery.
 *
 * Like the PIT (pit8254.h) the counter is not stepped: it is derived from a
 * clock when read, and hpet_poll() raises the interrupts that fell due and
 * says when the next one is. With the host clock, a thread of the device
 * sleeps until that time and polls, so the HPET fires the same way under
 * every CPU engine (KVM's vCPU threads sit in KVM_RUN and poll nothing). */
#ifndef VMON_DEV_HPET_H
#define VMON_DEV_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"
#include "dev/irq.h"

#define HPET_BASE       0xfed00000ULL
#define HPET_SIZE       0x400u          /* 1 KiB register block (§2.3.1) */
#define HPET_TIMERS     3u
#define HPET_PERIOD_FS  10000000u       /* COUNTER_CLK_PERIOD: 10 ns, 100 MHz */
#define HPET_TICK_NS    10u
#define HPET_VENDOR_ID  0x8086u         /* the ICH layout this block follows */
#define HPET_ROUTE_CAP  0x00f00000u     /* Tn_INT_ROUTE_CAP: I/O APIC inputs 20-23 */
/* Main Counter Minimum Clock_tick in Periodic Mode (HPET description
 * table): 100 us; host timer wake-ups make shorter periods coalesce. */
#define HPET_MIN_TICK   10000u

/* Register offsets (§2.3.1, table 2). */
#define HPET_REG_CAP     0x000
#define HPET_REG_CONFIG  0x010
#define HPET_REG_ISR     0x020
#define HPET_REG_COUNTER 0x0f0
#define HPET_REG_TIMER(n) (0x100u + 0x20u * (n))
#define HPET_TIMER_CONFIG 0x00
#define HPET_TIMER_CMP    0x08
#define HPET_TIMER_FSB    0x10

/* General configuration (§2.3.5). */
#define HPET_CFG_ENABLE  0x1u
#define HPET_CFG_LEGACY  0x2u
/* Timer n configuration and capabilities (§2.3.8). */
#define HPET_TN_LEVEL    (1u << 1)
#define HPET_TN_ENABLE   (1u << 2)
#define HPET_TN_PERIODIC (1u << 3)
#define HPET_TN_PER_CAP  (1u << 4)
#define HPET_TN_64_CAP   (1u << 5)
#define HPET_TN_SETVAL   (1u << 6)
#define HPET_TN_32MODE   (1u << 8)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_TN_ROUTE_MASK  (0x1fu << HPET_TN_ROUTE_SHIFT)
#define HPET_TN_FSB_EN   (1u << 14)
#define HPET_TN_FSB_CAP  (1u << 15)

typedef uint64_t hpet_clock_fn(void *opaque);

struct hpet;

/* irq is a template: the device drives irq->set_level with the GSI of each
 * timer's route (ISA IRQ n = GSI n for the legacy routes). clock NULL: the
 * host's CLOCK_MONOTONIC, and a thread that fires the timers; with a test
 * clock there is no thread and the caller polls. bus NULL: no claim. */
int hpet_create(struct io_bus *bus, uint64_t base, const struct irq_line *irq, hpet_clock_fn *clock,
		void *clock_opaque, struct hpet **out) __attribute__((warn_unused_result));
void hpet_destroy(struct hpet *h);

/* Ends the timer thread: no interrupt is raised afterwards. Before the
 * engine that receives the interrupts goes away. Idempotent. */
void hpet_stop(struct hpet *h);

/* Raises the interrupts whose comparator matched since the last call
 * (periods missed are coalesced into one). Returns the clock time of the
 * next match, or UINT64_MAX if none can come. */
uint64_t hpet_poll(struct hpet *h);

/* Register access (offset inside the block); the bus calls the same. */
void hpet_mmio(struct hpet *h, uint64_t offset, unsigned size, bool is_write, uint64_t *value);

#endif
