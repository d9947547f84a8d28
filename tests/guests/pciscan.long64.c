/* A guest that finds the PCI bus as firmware does with configuration
 * mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2): CONFIG_ADDRESS read-back,
 * then bus 0 scanned (32 devices; functions 1-7 only where function 0's
 * header type says multifunction, §6.2.1), printing vendor, device, class
 * and header type of each function present; then the byte and word
 * windows of CONFIG_DATA, the enable bit clear, and bus 1. Then the same
 * configuration space through ECAM (PCIe Base 4.0 §7.2.2) at 0xe0000000,
 * the MCFG's base: 00:00.0's 64 dwords equal mechanism #1's, byte and
 * word reads, a write seen by the other mechanism, the extended space of
 * a conventional function (0), an absent function (all ones); and the
 * empty 32-bit BAR window (all ones). */
#include <stdint.h>

#include "lib/guestlib.h"

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define ECAM 0xe0000000ULL
static volatile uint8_t *ecam(unsigned dev, unsigned fn, unsigned reg)
{
	return (volatile uint8_t *)(ECAM + ((uint64_t)dev << 15 | fn << 12 | reg));
}
static uint32_t ecam_read32(unsigned dev, unsigned fn, unsigned reg) { return *(volatile uint32_t *)ecam(dev, fn, reg); }

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}
static uint32_t cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xcf8, cfg_addr(bus, dev, fn, reg));
	return inl(0xcfc);
}

void guest_main(void)
{
	outl(0xcf8, 0x80000000);
	print("config address: %8x", (uint64_t)inl(0xcf8));
	outl(0xcf8, 0xffffffff);
	print(", all ones written: %8x\n", (uint64_t)inl(0xcf8));
	outb(0xcf8, 0x00); /* a byte access does not latch */
	print("after a byte write: %8x\n", (uint64_t)inl(0xcf8));

	unsigned found = 0;
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = cfg_read32(0, dev, fn, 0x00);
			if ((id & 0xffff) == 0xffff) {
				if (fn == 0)
					break; /* no function 0: no device */
				continue;
			}
			uint32_t class = cfg_read32(0, dev, fn, 0x08) >> 8;
			uint8_t hdr = (uint8_t)(cfg_read32(0, dev, fn, 0x0c) >> 16);
			print("00:%2x.%d %4x:%4x class %6x header %2x\n", (uint64_t)dev, fn, (uint64_t)(id & 0xffff),
			      (uint64_t)(id >> 16), (uint64_t)class, (uint64_t)hdr);
			found++;
			if (fn == 0 && !(hdr & 0x80))
				break;
		}
	}
	print("functions: %d\n", found);

	outl(0xcf8, cfg_addr(0, 0, 0, 0x00));
	print("bytes: %2x %2x %2x %2x", (uint64_t)inb(0xcfc), (uint64_t)inb(0xcfd), (uint64_t)inb(0xcfe),
	      (uint64_t)inb(0xcff));
	print(", words: %4x %4x\n", (uint64_t)inw(0xcfc), (uint64_t)inw(0xcfe));
	outl(0xcf8, 0x00000000);
	print("enable clear: %8x\n", (uint64_t)inl(0xcfc));
	print("bus 1: %8x\n", (uint64_t)cfg_read32(1, 0, 0, 0x00));

	unsigned same = 0;
	for (unsigned reg = 0; reg < 256; reg += 4)
		same += ecam_read32(0, 0, reg) == cfg_read32(0, 0, 0, reg);
	print("ecam 00:00.0: %d of 64 dwords as mechanism #1, id %8x\n", (uint64_t)same,
	      (uint64_t)ecam_read32(0, 0, 0));
	print("ecam bytes: %2x %2x, word at 2: %4x\n", (uint64_t)*ecam(0, 0, 0), (uint64_t)*ecam(0, 0, 1),
	      (uint64_t)*(volatile uint16_t *)ecam(0, 0, 2));
	*ecam(0, 0, 0x3c) = 0x5a; /* Interrupt Line: read/write */
	print("ecam write 5a to 0x3c, mechanism #1 reads %2x\n", (uint64_t)(cfg_read32(0, 0, 0, 0x3c) & 0xff));
	print("ecam 00:00.0 0x100: %8x, 0xffc: %8x\n", (uint64_t)ecam_read32(0, 0, 0x100),
	      (uint64_t)ecam_read32(0, 0, 0xffc));
	print("ecam 00:01.0: %8x, 00:1f.7: %8x\n", (uint64_t)ecam_read32(1, 0, 0), (uint64_t)ecam_read32(31, 7, 0));
	print("bar window c0000000: %8x\n", (uint64_t)*(volatile uint32_t *)0xc0000000ULL);
	guest_exit(0x10);
}
