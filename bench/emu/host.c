/* bench/emu's native ceiling: the workload as a static Linux program. */
#include <stdint.h>
#include <stdio.h>

uint32_t workload(void);

int main(void)
{
	printf("checksum %08x\n", workload());
	return 0;
}
