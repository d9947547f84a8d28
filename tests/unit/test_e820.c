/* e820_build(): the machine's memory map for several RAM sizes. */
#include "boot/e820.h"
#include "unit.h"

#define K (1ULL << 10)
#define M (1ULL << 20)
#define G (1ULL << 30)

struct want {
	uint64_t addr, size;
	uint32_t type;
};

static void check_map(uint64_t ram, const struct want *w, unsigned nw)
{
	struct e820_entry map[E820_MAX_ENTRIES + 2];
	memset(map, 0xaa, sizeof(map));
	unsigned n = e820_build(ram, map, E820_MAX_ENTRIES + 2);
	CHECK_EQ(n, nw);
	for (unsigned i = 0; i < nw && i < n; i++) {
		CHECK_EQ(map[i].addr, w[i].addr);
		CHECK_EQ(map[i].size, w[i].size);
		CHECK_EQ(map[i].type, w[i].type);
	}
	/* Entries are in order, never empty, never overlapping. */
	for (unsigned i = 0; i < n; i++) {
		CHECK(map[i].size > 0);
		if (i > 0)
			CHECK(map[i].addr >= map[i - 1].addr + map[i - 1].size);
	}
}

int main(void)
{
	const uint32_t U = E820_USABLE, R = E820_RESERVED;

	static const struct want m512k[] = {
		{ 0, 512 * K, 1 }, { 0x9FC00, 0x60400, 2 }, { 0xE0000000, M, 2 }, { 0xFEC00000, 0x1400000, 2 } };
	check_map(512 * K, m512k, 4);

	const struct want m1m[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R } };
	check_map(M, m1m, 4);

	const struct want m256m[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { M, 255 * M, U }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R } };
	check_map(256 * M, m256m, 5);

	const struct want m3g[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { M, 3 * G - M, U }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R } };
	check_map(3 * G, m3g, 5);

	const struct want m5g[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				    { M, 3 * G - M, U }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R }, { 4 * G, 2 * G, U } };
	check_map(5 * G, m5g, 6);

	const struct want m8g[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				    { M, 3 * G - M, U }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R }, { 4 * G, 5 * G, U } };
	check_map(8 * G, m8g, 6);

	/* A RAM size just past 3 GiB gets a small high range. */
	const struct want m3g4k[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				      { M, 3 * G - M, U }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R }, { 4 * G, 4 * K, U } };
	check_map(3 * G + 4 * K, m3g4k, 6);

	/* The PCI BAR window [3G, 3.5G) is in no entry: Linux clips e820
	 * ranges out of the host bridge windows (e820.c). */
	for (uint64_t ram = 0; ram <= 8 * G; ram += G) {
		struct e820_entry map[E820_MAX_ENTRIES];
		unsigned n = e820_build(ram, map, E820_MAX_ENTRIES);
		for (unsigned i = 0; i < n && i < E820_MAX_ENTRIES; i++)
			CHECK(map[i].addr >= 0xE0000000ULL || map[i].addr + map[i].size <= 3 * G);
	}

	/* No RAM at all still describes the holes. */
	const struct want m0[] = { { 0x9FC00, 0x60400, R }, { 0xE0000000, M, R }, { 0xFEC00000, 0x1400000, R } };
	check_map(0, m0, 3);

	/* An absurd size does not wrap the high range's end. */
	struct e820_entry big[E820_MAX_ENTRIES];
	CHECK_EQ(e820_build(UINT64_MAX, big, E820_MAX_ENTRIES), 6);
	CHECK(big[5].addr + big[5].size >= big[5].addr);

	/* Too small an array: at most max entries written, the full count returned. */
	struct e820_entry two[3];
	memset(two, 0x55, sizeof(two));
	CHECK_EQ(e820_build(8 * G, two, 2), 6);
	CHECK_EQ(two[1].addr, 0x9FC00);
	CHECK_EQ(two[2].addr, 0x5555555555555555ULL);
	CHECK_EQ(e820_build(8 * G, NULL, 0), 6);

	/* Packed: 20 little-endian bytes an entry (boot_params, fw_cfg), at most
	 * max of them. 8 GiB: the third entry is [1M, 3G) usable. */
	uint8_t packed[E820_MAX_ENTRIES * E820_PACKED_ENTRY + 1];
	memset(packed, 0xee, sizeof(packed));
	CHECK_EQ(e820_build_packed(8 * G, packed, E820_MAX_ENTRIES), 6);
	const uint8_t third[20] = { 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf, 0, 0, 0, 0, 1, 0, 0, 0 };
	CHECK(memcmp(packed + 2 * E820_PACKED_ENTRY, third, 20) == 0);
	CHECK_EQ(packed[6 * E820_PACKED_ENTRY], 0xee);
	memset(packed, 0xee, sizeof(packed));
	CHECK_EQ(e820_build_packed(8 * G, packed, 2), 2);
	CHECK_EQ(packed[2 * E820_PACKED_ENTRY], 0xee);

	return unit_report("e820");
}
