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
		{ 0, 512 * K, 1 }, { 0x9FC00, 0x60400, 2 }, { 3 * G, G, 2 } };
	check_map(512 * K, m512k, 3);

	const struct want m1m[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { 3 * G, G, R } };
	check_map(M, m1m, 3);

	const struct want m256m[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { M, 255 * M, U }, { 3 * G, G, R } };
	check_map(256 * M, m256m, 4);

	const struct want m3g[] = {
		{ 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R }, { M, 3 * G - M, U }, { 3 * G, G, R } };
	check_map(3 * G, m3g, 4);

	const struct want m5g[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				    { M, 3 * G - M, U }, { 3 * G, G, R }, { 4 * G, 2 * G, U } };
	check_map(5 * G, m5g, 5);

	const struct want m8g[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				    { M, 3 * G - M, U }, { 3 * G, G, R }, { 4 * G, 5 * G, U } };
	check_map(8 * G, m8g, 5);

	/* A RAM size just past 3 GiB gets a small high range. */
	const struct want m3g4k[] = { { 0, 0x9FC00, U }, { 0x9FC00, 0x60400, R },
				      { M, 3 * G - M, U }, { 3 * G, G, R }, { 4 * G, 4 * K, U } };
	check_map(3 * G + 4 * K, m3g4k, 5);

	/* No RAM at all still describes the holes. */
	const struct want m0[] = { { 0x9FC00, 0x60400, R }, { 3 * G, G, R } };
	check_map(0, m0, 2);

	/* An absurd size does not wrap the high range's end. */
	struct e820_entry big[E820_MAX_ENTRIES];
	CHECK_EQ(e820_build(UINT64_MAX, big, E820_MAX_ENTRIES), 5);
	CHECK(big[4].addr + big[4].size >= big[4].addr);

	/* Too small an array: at most max entries written, the full count returned. */
	struct e820_entry two[3];
	memset(two, 0x55, sizeof(two));
	CHECK_EQ(e820_build(8 * G, two, 2), 5);
	CHECK_EQ(two[1].addr, 0x9FC00);
	CHECK_EQ(two[2].addr, 0x5555555555555555ULL);
	CHECK_EQ(e820_build(8 * G, NULL, 0), 5);

	/* Packed: 20 little-endian bytes an entry (boot_params, fw_cfg), at most
	 * max of them. 8 GiB: the third entry is [1M, 3G) usable. */
	uint8_t packed[E820_MAX_ENTRIES * E820_PACKED_ENTRY + 1];
	memset(packed, 0xee, sizeof(packed));
	CHECK_EQ(e820_build_packed(8 * G, packed, E820_MAX_ENTRIES), 5);
	const uint8_t third[20] = { 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf, 0, 0, 0, 0, 1, 0, 0, 0 };
	CHECK(memcmp(packed + 2 * E820_PACKED_ENTRY, third, 20) == 0);
	CHECK_EQ(packed[5 * E820_PACKED_ENTRY], 0xee);
	memset(packed, 0xee, sizeof(packed));
	CHECK_EQ(e820_build_packed(8 * G, packed, 2), 2);
	CHECK_EQ(packed[2 * E820_PACKED_ENTRY], 0xee);

	return unit_report("e820");
}
