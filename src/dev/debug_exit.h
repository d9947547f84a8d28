/* The debug-exit port (QEMU isa-debug-exit semantics): a guest write of v
 * ends the run with exit status (v << 1) | 1. */
#ifndef VMON_DEV_DEBUG_EXIT_H
#define VMON_DEV_DEBUG_EXIT_H

#include <stdint.h>

#include "bus/io_bus.h"

#define DEBUG_EXIT_PORT 0xf4

struct vm;
struct debug_exit;

int debug_exit_create(struct io_bus *bus, uint16_t port, struct vm *vm, struct debug_exit **out);
void debug_exit_destroy(struct debug_exit *d);

#endif
