#include "dev/debug_exit.h"

#include <errno.h>
#include <stdlib.h>

#include "vm.h"

struct debug_exit {
	struct vm *vm;
};

static void debug_exit_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct debug_exit *d = opaque;
	(void)offset;
	if (!is_write) {
		*value = 0; /* as QEMU's device: reads are harmless */
		return;
	}
	uint64_t mask = size >= 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
	vm_request_stop(d->vm, VM_OUTCOME_DEBUG_EXIT, (int)(*value & mask));
}

int debug_exit_create(struct io_bus *bus, uint16_t port, struct vm *vm, struct debug_exit **out)
{
	struct debug_exit *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	int r = io_bus_register(bus, IO_SPACE_PIO, port, 1, debug_exit_io, d, "debug-exit");
	if (r < 0) {
		free(d);
		return r;
	}
	*out = d;
	return 0;
}

void debug_exit_destroy(struct debug_exit *d) { free(d); }
