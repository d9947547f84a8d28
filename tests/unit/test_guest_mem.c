/* Guest memory: the RAM map around the 3-4 GiB hole and bounds checks. */
#include "mem/guest_mem.h"
#include "unit.h"

int main(void)
{
	struct guest_mem m;
	CHECK_EQ(guest_mem_init(&m, 64ULL << 20), 0);
	CHECK_EQ(m.nregions, 1);
	CHECK(guest_mem_ptr(&m, 0, 64ULL << 20) == m.base);
	CHECK(guest_mem_ptr(&m, (64ULL << 20) - 1, 1) != NULL);
	CHECK(guest_mem_ptr(&m, (64ULL << 20) - 1, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 64ULL << 20, 1) == NULL);
	CHECK(guest_mem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 1, UINT64_MAX) == NULL);
	CHECK_EQ(guest_mem_top(&m), 64ULL << 20);
	uint32_t w = 0xfeedf00d, r = 0;
	CHECK_EQ(guest_mem_write(&m, 0x1000, &w, 4), 0);
	CHECK_EQ(guest_mem_read(&m, 0x1000, &r, 4), 0);
	CHECK_EQ(r, 0xfeedf00d);
	CHECK(guest_mem_write(&m, (64ULL << 20) - 2, &w, 4) < 0);
	guest_mem_destroy(&m);

	/* 5 GiB: 3 GiB below the hole, 2 GiB from 4 GiB (never touched). */
	CHECK_EQ(guest_mem_init(&m, 5ULL << 30), 0);
	CHECK_EQ(m.nregions, 2);
	CHECK(guest_mem_ptr(&m, (3ULL << 30) - 8, 8) != NULL);
	CHECK(guest_mem_ptr(&m, (3ULL << 30) - 8, 9) == NULL); /* runs into the hole */
	CHECK(guest_mem_ptr(&m, 0xfee00000, 4) == NULL);        /* LAPIC: not RAM */
	CHECK(guest_mem_ptr(&m, 4ULL << 30, 4) == m.base + (3ULL << 30));
	CHECK(guest_mem_ptr(&m, (6ULL << 30) - 4, 4) != NULL);
	CHECK(guest_mem_ptr(&m, (6ULL << 30) - 4, 5) == NULL);
	CHECK_EQ(guest_mem_top(&m), 6ULL << 30);
	guest_mem_destroy(&m);

	CHECK(guest_mem_init(&m, 0) < 0);
	return unit_report("guest_mem");
}
