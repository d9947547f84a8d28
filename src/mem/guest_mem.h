/* Guest-physical memory: the one place that turns a guest-physical address
 * into a host pointer. Every access goes through guest_mem_ptr(), which
 * checks (address, length) against the RAM map, overflow included.
 *
 * Machine model (design.md): RAM starts at 0; whatever does not fit below the
 * 3 GiB MMIO hole continues at 4 GiB. One host mapping backs both pieces. */
#ifndef VMON_MEM_GUEST_MEM_H
#define VMON_MEM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_HOLE_START 0xC0000000ULL  /* 3 GiB: PCI, IOAPIC, LAPIC */
#define GUEST_MEM_HIGH_START 0x100000000ULL /* 4 GiB */
#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;   /* guest-physical start */
	uint64_t size;
	uint8_t *host;  /* host address of gpa */
};

struct guest_mem {
	uint8_t *base;  /* the host mapping, size bytes */
	uint64_t size;  /* total RAM */
	unsigned nregions;
	struct guest_mem_region region[GUEST_MEM_MAX_REGIONS];
};

/* Maps size bytes of anonymous memory (MAP_NORESERVE: host pages are only
 * touched where the guest touches them). Returns 0 or -errno. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len) if that whole range is RAM, else NULL. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Highest guest-physical address + 1 backed by RAM. */
uint64_t guest_mem_top(const struct guest_mem *mem);

/* Copy helpers; return 0 or -EFAULT when the range is not all RAM. */
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);

#endif
