/* The io bus: port-I/O and MMIO address ranges claimed by devices.
 *
 * A CPU engine turns every port or MMIO access it cannot complete itself
 * into io_bus_access(); the bus finds the claiming device by binary search
 * and calls its handler with the offset inside the range. Devices never see
 * which engine (or which vCPU) made the access.
 *
 * Ranges are registered while the machine is built, before any vCPU runs;
 * afterwards the bus is read-only and needs no lock. */
#ifndef VMON_BUS_IO_BUS_H
#define VMON_BUS_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum io_space { IO_SPACE_PIO = 0, IO_SPACE_MMIO = 1 };

/* size is 1, 2, 4 or 8. For a write *value holds the data (zero-extended);
 * for a read the handler stores the result in *value. */
typedef void io_handler_fn(void *opaque, uint64_t offset, unsigned size,
			   bool is_write, uint64_t *value);

struct io_range {
	uint64_t base, len;
	io_handler_fn *fn;
	void *opaque;
	const char *name;
};

struct io_space_map {
	struct io_range *ranges; /* sorted by base, never overlapping */
	unsigned count, cap;
};

struct io_bus {
	struct io_space_map space[2];
};

void io_bus_init(struct io_bus *bus);
void io_bus_destroy(struct io_bus *bus);

/* Claims [base, base+len). Returns 0, -EINVAL (empty or wrapping range),
 * -EBUSY (overlaps a claimed range) or -ENOMEM. */
int io_bus_register(struct io_bus *bus, enum io_space space, uint64_t base,
		    uint64_t len, io_handler_fn *fn, void *opaque, const char *name)
	__attribute__((warn_unused_result));

/* Dispatches one access. Unclaimed reads return all ones (of the access
 * width); unclaimed writes are dropped. Both are logged at debug level.
 * Returns true when a device claimed the address. */
bool io_bus_access(const struct io_bus *bus, enum io_space space, uint64_t addr,
		   unsigned size, bool is_write, uint64_t *value);

/* The range containing addr, or NULL. */
const struct io_range *io_bus_find(const struct io_bus *bus, enum io_space space, uint64_t addr);

#endif
