/* The BIOS data area (BDA) at 0x400 and the extended BIOS data area (EBDA)
 * in the last KiB below 640 KiB, as a PC BIOS leaves them for the operating
 * system. vmon has no BIOS, but guests read these words: Xen and Linux find
 * the EBDA through 0x40e and the top of conventional memory through 0x413.
 * Filled for every --kernel boot (ELF, Multiboot, Linux), never for --raw. */
#ifndef VMON_BOOT_BDA_H
#define VMON_BOOT_BDA_H

#include <stdint.h>

#include "mem/guest_mem.h"

#define BDA_BASE 0x400ULL
#define BDA_SIZE 0x100u

/* Word offsets inside the BDA (IBM PC/AT Technical Reference, BIOS data
 * area; the same in Ralf Brown's memory map, "MEM 0040h"). */
#define BDA_COM1      0x00 /* I/O base of the first serial port */
#define BDA_EBDA_SEG  0x0e /* segment of the EBDA */
#define BDA_EQUIPMENT 0x10 /* the INT 11h equipment word */
#define BDA_BASE_KIB  0x13 /* conventional memory in KiB (INT 12h) */

/* Equipment word bits: x87 present (bit 1), one serial port (bits 9-11);
 * no floppy, no parallel port, video bits 00 ("EGA/VGA or none"). */
#define BDA_EQUIPMENT_WORD 0x0202u

/* Fills the BDA's 256 bytes: COM1 at 0x3f8 (no COM2-4, no LPT), the EBDA
 * segment, the equipment word, 639 KiB of base memory; the rest zero. */
void bda_build(uint8_t bda[BDA_SIZE]);

/* Writes the BDA at 0x400 and a zeroed 1 KiB EBDA at E820_EBDA_START whose
 * first byte is its size in KiB. Returns 0, or -EFAULT when guest RAM does
 * not reach 640 KiB. */
int bda_install(const struct guest_mem *mem);

#endif
