#include "boot/bda.h"

#include <errno.h>
#include <string.h>

#include "boot/e820.h"

#define COM1_BASE 0x3f8u

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void bda_build(uint8_t bda[BDA_SIZE])
{
	memset(bda, 0, BDA_SIZE);
	wr16(bda + BDA_COM1, COM1_BASE);
	wr16(bda + BDA_EBDA_SEG, (uint16_t)(E820_EBDA_START >> 4));
	wr16(bda + BDA_EQUIPMENT, BDA_EQUIPMENT_WORD);
	/* Base memory ends where the EBDA starts: the e820 map says the same. */
	wr16(bda + BDA_BASE_KIB, (uint16_t)(E820_EBDA_START >> 10));
}

int bda_install(const struct guest_mem *mem)
{
	uint8_t *bda = guest_mem_ptr(mem, BDA_BASE, BDA_SIZE);
	uint8_t *ebda = guest_mem_ptr(mem, E820_EBDA_START, E820_EBDA_SIZE);
	if (!bda || !ebda)
		return -EFAULT;
	bda_build(bda);
	memset(ebda, 0, E820_EBDA_SIZE);
	/* EBDA offset 0: its size in KiB, as BIOSes keep it. */
	ebda[0] = (uint8_t)(E820_EBDA_SIZE >> 10);
	return 0;
}
