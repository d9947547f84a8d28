#include "bus/io_bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

void io_bus_init(struct io_bus *bus) { memset(bus, 0, sizeof(*bus)); }

void io_bus_destroy(struct io_bus *bus)
{
	for (int i = 0; i < 2; i++)
		free(bus->space[i].ranges);
	memset(bus, 0, sizeof(*bus));
}

int io_bus_register(struct io_bus *bus, enum io_space space, uint64_t base,
		    uint64_t len, io_handler_fn *fn, void *opaque, const char *name)
{
	struct io_space_map *m = &bus->space[space];
	if (len == 0 || base + len - 1 < base || !fn)
		return -EINVAL;
	unsigned pos = 0;
	while (pos < m->count && m->ranges[pos].base < base)
		pos++;
	/* Overlap with the neighbour below or above? */
	if (pos > 0) {
		const struct io_range *lo = &m->ranges[pos - 1];
		if (lo->base + lo->len > base)
			return -EBUSY;
	}
	if (pos < m->count && base + len > m->ranges[pos].base)
		return -EBUSY;
	if (m->count == m->cap) {
		unsigned cap = m->cap ? m->cap * 2 : 16;
		struct io_range *r = realloc(m->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		m->ranges = r;
		m->cap = cap;
	}
	memmove(&m->ranges[pos + 1], &m->ranges[pos], (m->count - pos) * sizeof(m->ranges[0]));
	m->ranges[pos] = (struct io_range){ base, len, fn, opaque, name };
	m->count++;
	return 0;
}

const struct io_range *io_bus_find(const struct io_bus *bus, enum io_space space, uint64_t addr)
{
	const struct io_space_map *m = &bus->space[space];
	unsigned lo = 0, hi = m->count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct io_range *r = &m->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool io_bus_access(const struct io_bus *bus, enum io_space space, uint64_t addr,
		   unsigned size, bool is_write, uint64_t *value)
{
	const struct io_range *r = io_bus_find(bus, space, addr);
	if (r) {
		r->fn(r->opaque, addr - r->base, size, is_write, value);
		return true;
	}
	if (!is_write)
		*value = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	log_debug("unassigned %s %s 0x%llx size %u%s", space == IO_SPACE_PIO ? "port" : "mmio",
		  is_write ? "write" : "read", (unsigned long long)addr, size,
		  is_write ? "" : " -> all ones");
	return false;
}
