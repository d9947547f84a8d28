/* The 8042 keyboard controller at 0x60/0x64: enough of it for a driver's
 * self-tests and for the reset line (command 0xFE, or output-port bit 0),
 * which ends the run like a reboot. No keyboard input is modelled: the
 * console is the serial port. */
#ifndef VMON_DEV_I8042_H
#define VMON_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/io_bus.h"

typedef void i8042_reset_fn(void *opaque);

struct i8042;

int i8042_create(struct io_bus *bus, i8042_reset_fn *reset, void *opaque, struct i8042 **out)
	__attribute__((warn_unused_result));
void i8042_destroy(struct i8042 *k);

void i8042_io(struct i8042 *k, uint16_t port, bool is_write, uint8_t *value);

#endif
