/* ACPI fixed hardware (ACPI 6.5 §4.8): the PM1a event and control blocks,
 * the PM timer, and the reset register at 0xcf9. A guest powers off by
 * writing SLP_TYP = 5 (vmon's \_S5) with SLP_EN, and resets through 0xcf9. */
#ifndef VMON_DEV_ACPI_PM_H
#define VMON_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"

#define ACPI_PM_TIMER_HZ 3579545ULL

enum acpi_pm_event { ACPI_PM_POWEROFF, ACPI_PM_RESET };
typedef void acpi_pm_event_fn(void *opaque, enum acpi_pm_event ev);
typedef uint64_t acpi_pm_clock_fn(void *opaque);

struct acpi_pm;

/* clock NULL: CLOCK_MONOTONIC. event() is called on poweroff and reset. */
int acpi_pm_create(struct io_bus *bus, acpi_pm_event_fn *event, void *opaque, acpi_pm_clock_fn *clock,
		   void *clock_opaque, struct acpi_pm **out) __attribute__((warn_unused_result));
void acpi_pm_destroy(struct acpi_pm *pm);

/* Port access for unit tests (the bus calls the same). */
void acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, bool is_write, uint64_t *value);

#endif
