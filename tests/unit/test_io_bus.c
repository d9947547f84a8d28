/* The io bus: range registration, lookup, unclaimed accesses. */
#include <errno.h>

#include "bus/io_bus.h"
#include "unit.h"

struct rec { uint64_t offset; unsigned size; bool write; uint64_t value; int calls; };

static void handler(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct rec *r = opaque;
	r->offset = offset;
	r->size = size;
	r->write = is_write;
	r->calls++;
	if (is_write)
		r->value = *value;
	else
		*value = 0x1234;
}

int main(void)
{
	struct io_bus bus;
	struct rec a = { 0 }, b = { 0 }, c = { 0 };
	io_bus_init(&bus);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x3f8, 8, handler, &a, "a"), 0);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0xf4, 1, handler, &b, "b"), 0);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_MMIO, 0xfee00000, 0x1000, handler, &c, "c"), 0);
	/* Overlaps, empty and wrapping ranges are refused. */
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x3ff, 2, handler, &a, "x"), -EBUSY);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x3f0, 9, handler, &a, "x"), -EBUSY);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x3f0, 0x100, handler, &a, "x"), -EBUSY);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x100, 0, handler, &a, "x"), -EINVAL);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_MMIO, UINT64_MAX, 2, handler, &a, "x"), -EINVAL);
	/* Adjacent is fine; the same address in the other space is fine. */
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_PIO, 0x3f0, 8, handler, &a, "adj"), 0);
	CHECK_EQ(io_bus_register(&bus, IO_SPACE_MMIO, 0x3f8, 8, handler, &c, "m"), 0);

	uint64_t v = 0x41;
	CHECK(io_bus_access(&bus, IO_SPACE_PIO, 0x3fd, 1, true, &v));
	CHECK_EQ(a.offset, 5);
	CHECK_EQ(a.value, 0x41);
	CHECK(a.write);
	CHECK(io_bus_access(&bus, IO_SPACE_MMIO, 0xfee00300, 4, false, &v));
	CHECK_EQ(c.offset, 0x300);
	CHECK_EQ(v, 0x1234);

	/* Unclaimed: reads are all ones of the access width, writes dropped. */
	CHECK(!io_bus_access(&bus, IO_SPACE_PIO, 0x80, 1, false, &v));
	CHECK_EQ(v, 0xff);
	CHECK(!io_bus_access(&bus, IO_SPACE_PIO, 0x80, 2, false, &v));
	CHECK_EQ(v, 0xffff);
	CHECK(!io_bus_access(&bus, IO_SPACE_MMIO, 0xd0000000, 4, false, &v));
	CHECK_EQ(v, 0xffffffff);
	CHECK(!io_bus_access(&bus, IO_SPACE_MMIO, 0xd0000000, 8, false, &v));
	CHECK_EQ(v, UINT64_MAX);
	int before = a.calls + b.calls + c.calls;
	CHECK(!io_bus_access(&bus, IO_SPACE_PIO, 0x400, 1, true, &v));
	CHECK_EQ(a.calls + b.calls + c.calls, before);

	/* Boundaries. */
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x3ff) != NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x400) == NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0xf4) != NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0xf3) == NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0xf5) == NULL);
	io_bus_destroy(&bus);
	return unit_report("io_bus");
}
