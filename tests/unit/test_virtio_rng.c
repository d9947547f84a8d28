/* virtio-rng's pure parts: the bytes one request gets (bounded per chain
 * and per turn) and the getrandom() fill. */
#include <errno.h>

#include "dev/virtio/virtio_rng.h"
#include "unit.h"

int main(void)
{
	/* a request gets what it asks, at most 64 KiB, at most what the turn has left */
	CHECK_EQ(virtio_rng_request_len(32, RNG_TURN_MAX), 32);
	CHECK_EQ(virtio_rng_request_len(0, RNG_TURN_MAX), 0);
	CHECK_EQ(virtio_rng_request_len(65536, RNG_TURN_MAX), 65536);
	CHECK_EQ(virtio_rng_request_len(65537, RNG_TURN_MAX), 65536);
	CHECK_EQ(virtio_rng_request_len(UINT64_MAX, RNG_TURN_MAX), 65536);
	CHECK_EQ(virtio_rng_request_len(4096, 100), 100);
	CHECK_EQ(virtio_rng_request_len(4096, 0), 0);
	CHECK_EQ(RNG_CHAIN_MAX, 65536);
	CHECK(RNG_TURN_MAX >= RNG_CHAIN_MAX);

	/* getrandom fills the buffer: two 4 KiB draws are not all zero and
	 * differ (a 2^-32768 chance of a false failure) */
	static uint8_t a[4096], b[4096];
	CHECK_EQ(virtio_rng_fill(a, sizeof(a)), sizeof(a));
	CHECK_EQ(virtio_rng_fill(b, sizeof(b)), sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	unsigned nz = 0;
	for (unsigned i = 0; i < sizeof(a); i++)
		nz += a[i] != 0;
	CHECK(nz > 3500);  /* about 4080 expected */
	CHECK_EQ(virtio_rng_fill(a, 0), 0);
	/* one chain's maximum in one call (getrandom returns up to 32 MiB at once) */
	static uint8_t big[RNG_CHAIN_MAX];
	CHECK_EQ(virtio_rng_fill(big, sizeof(big)), sizeof(big));
	return unit_report("virtio_rng");
}
