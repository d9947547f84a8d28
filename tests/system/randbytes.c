/* randbytes SEED N: N reproducible pseudo-random bytes on stdout (xorshift64*),
 * the random guests of tests/system/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: randbytes SEED N\n");
		return 2;
	}
	uint64_t s = strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ULL + 1;
	unsigned long n = strtoul(argv[2], NULL, 0);
	for (unsigned long i = 0; i < n; i++) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		putchar((int)((s * 0x2545F4914F6CDD1DULL) >> 56));
	}
	return 0;
}
