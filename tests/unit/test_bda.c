/* The BIOS data area and EBDA vmon fills for --kernel boots. */
#include "boot/bda.h"
#include "boot/e820.h"
#include "unit.h"

static unsigned rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

int main(void)
{
	uint8_t bda[BDA_SIZE];
	memset(bda, 0xcc, sizeof(bda));
	bda_build(bda);
	CHECK_EQ(rd16(bda + 0x00), 0x3f8);  /* 0x400: COM1 */
	CHECK_EQ(rd16(bda + 0x02), 0);      /* COM2-4, LPT1-3: none */
	CHECK_EQ(rd16(bda + 0x08), 0);
	CHECK_EQ(rd16(bda + 0x0e), 0x9fc0); /* 0x40e: EBDA segment */
	CHECK_EQ(rd16(bda + 0x10), 0x0202); /* 0x410: x87, one serial port */
	CHECK_EQ(rd16(bda + 0x13), 639);    /* 0x413: KiB below the EBDA */
	int dirty = 0;
	for (unsigned i = 0; i < BDA_SIZE; i++)
		if (i != 0 && i != 1 && i != 0x0e && i != 0x0f && i != 0x10 && i != 0x11 &&
		    i != 0x13 && i != 0x14)
			dirty += bda[i] != 0;
	CHECK_EQ(dirty, 0);

	/* The e820 map agrees: usable RAM ends where the EBDA starts. */
	struct e820_entry map[E820_MAX_ENTRIES];
	CHECK_EQ(e820_build(64ULL << 20, map, E820_MAX_ENTRIES), 5);
	CHECK_EQ(map[0].addr + map[0].size, (uint64_t)rd16(bda + 0x13) << 10);
	CHECK_EQ(map[1].addr, (uint64_t)rd16(bda + 0x0e) << 4);
	CHECK_EQ(map[1].type, E820_RESERVED);

	/* In guest memory: the BDA at 0x400, the EBDA zeroed but its size. */
	struct guest_mem m;
	CHECK_EQ(guest_mem_init(&m, 1ULL << 20), 0);
	memset(guest_mem_ptr(&m, 0, 1 << 20), 0xee, 1 << 20);
	CHECK_EQ(bda_install(&m), 0);
	const uint8_t *low = guest_mem_ptr(&m, 0, 1 << 20);
	CHECK_EQ(rd16(low + 0x40e), 0x9fc0);
	CHECK_EQ(rd16(low + 0x413), 639);
	CHECK_EQ(low[0x3ff], 0xee);         /* the IVT is not touched */
	CHECK_EQ(low[0x9fc00], 1);
	dirty = 0;
	for (unsigned i = 0x9fc01; i < 0xa0000; i++)
		dirty += low[i] != 0;
	CHECK_EQ(dirty, 0);
	CHECK_EQ(low[0xa0000], 0xee);
	guest_mem_destroy(&m);
	return unit_report("bda");
}
