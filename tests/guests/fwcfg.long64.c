/* A guest that asks the firmware configuration interface about its machine
 * as QEMU-minded software does (QEMU docs/specs/fw_cfg.rst): the signature,
 * the feature bits, the CPU counts and RAM size through the selector (0x510)
 * and data (0x511) ports; the file directory, each name and size; etc/e820
 * decoded; then the same through the DMA interface (0x514/0x518), and a DMA
 * aimed outside RAM, which must come back with the error bit. It prints only
 * what it read, so the same binary can be checked on QEMU. */
#include <stdint.h>

#include "lib/guestlib.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_DMA_HI   0x514
#define FW_CFG_DMA_LO   0x518

static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
/* memory: a DMA write to the low half changes RAM behind the compiler */
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void select_key(uint16_t key) { outw(FW_CFG_SELECTOR, key); }
static void read_bytes(uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[i] = inb(FW_CFG_DATA);
}
static uint64_t read_le(unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static int same(const uint8_t *a, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}
static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* FWCfgDmaAccess: big-endian control, length, address */
static volatile struct {
	uint32_t control, length;
	uint64_t address;
} __attribute__((aligned(16))) dma;
static uint8_t e820_port[20 * 16], e820_dma[20 * 16 + 16];

/* Runs one DMA operation; returns the control word it ends with. */
static uint32_t dma_op(uint32_t control, uint32_t length, uint64_t address)
{
	dma.control = __builtin_bswap32(control);
	dma.length = __builtin_bswap32(length);
	dma.address = __builtin_bswap64(address);
	uint64_t gpa = (uint64_t)(uintptr_t)&dma;
	outl(FW_CFG_DMA_HI, __builtin_bswap32((uint32_t)(gpa >> 32)));
	outl(FW_CFG_DMA_LO, __builtin_bswap32((uint32_t)gpa));
	return __builtin_bswap32(dma.control);
}

void guest_main(void)
{
	uint8_t sig[4];
	select_key(0x0000);
	read_bytes(sig, 4);
	print("fw_cfg: signature %c%c%c%c\n", sig[0], sig[1], sig[2], sig[3]);
	if (!same(sig, (const uint8_t *)"QEMU", 4))
		guest_exit(1);
	select_key(0x0001);
	uint64_t id = read_le(4);
	print("fw_cfg: id %8x:%s%s\n", id, id & 1 ? " traditional" : "", id & 2 ? " dma" : "");
	select_key(0x0005);
	unsigned ncpus = (unsigned)read_le(2);
	select_key(0x000f);
	print("fw_cfg: cpus %d, max cpus %d\n", ncpus, (unsigned)read_le(2));
	select_key(0x0003);
	print("fw_cfg: ram size %x\n", read_le(8));

	/* The directory, one 64-byte entry at a time. */
	select_key(0x0019);
	uint8_t cnt[4];
	read_bytes(cnt, 4);
	uint32_t nfiles = be32(cnt);
	print("fw_cfg: %d files\n", nfiles);
	uint16_t e820_key = 0;
	uint32_t e820_size = 0;
	for (uint32_t i = 0; i < nfiles && i < 256; i++) {
		uint8_t ent[64];
		read_bytes(ent, 64);
		ent[63] = 0;
		uint32_t size = be32(ent);
		uint16_t key = (uint16_t)(ent[4] << 8 | ent[5]);
		print("fw_cfg: file %4x size %d %s\n", (uint64_t)key, size, (const char *)ent + 8);
		if (streq((const char *)ent + 8, "etc/e820")) {
			e820_key = key;
			e820_size = size;
		}
	}
	if (!e820_key || e820_size % 20 || e820_size > sizeof(e820_port)) {
		print("fw_cfg: no usable etc/e820\n");
		guest_exit(2);
	}
	select_key(e820_key);
	read_bytes(e820_port, e820_size);
	for (uint32_t off = 0; off < e820_size; off += 20)
		print("e820: %x-%x type %d\n", le(e820_port + off, 8),
		      le(e820_port + off, 8) + le(e820_port + off + 8, 8) - 1,
		      (unsigned)le(e820_port + off + 16, 4));
	/* Past the end, and a key nobody defines, read as zero. */
	uint64_t past = read_le(4);
	select_key(0x0002);
	print("fw_cfg: past the end %8x, key 0x0002 %x\n", past, read_le(8));

	if (!(id & 2)) {
		print("fw_cfg: no DMA\n");
		guest_exit(16);
	}
	uint32_t hi = inl(FW_CFG_DMA_HI), lo = inl(FW_CFG_DMA_LO);
	uint8_t dsig[8];
	for (int i = 0; i < 4; i++) {
		dsig[i] = (uint8_t)(hi >> (8 * i));
		dsig[4 + i] = (uint8_t)(lo >> (8 * i));
	}
	print("dma: register reads %c%c%c%c%c%c%c%c\n", dsig[0], dsig[1], dsig[2], dsig[3], dsig[4], dsig[5],
	      dsig[6], dsig[7]);
	/* Select etc/e820 and read it, 16 bytes more than it has: those are
	 * zero-filled. */
	for (unsigned i = 0; i < sizeof(e820_dma); i++)
		e820_dma[i] = 0xaa;
	uint32_t ctl = dma_op((uint32_t)e820_key << 16 | 0x08 | 0x02, e820_size + 16,
			      (uint64_t)(uintptr_t)e820_dma);
	int zero = 1;
	for (unsigned i = 0; i < 16; i++)
		zero &= e820_dma[e820_size + i] == 0;
	print("dma: select+read etc/e820: control %8x, %s, %s\n", (uint64_t)ctl,
	      same(e820_port, e820_dma, e820_size) ? "same bytes as the ports" : "DIFFERS",
	      zero ? "then zeros" : "NOT ZERO-FILLED");
	/* Skip 2 bytes of the signature, read the other 2. */
	uint8_t two[2] = { 0, 0 };
	ctl = dma_op(0x0000u << 16 | 0x08 | 0x04, 2, 0);
	uint32_t ctl2 = dma_op(0x02, 2, (uint64_t)(uintptr_t)two);
	print("dma: skip 2 of the signature: control %8x, then read: control %8x, %c%c\n", (uint64_t)ctl,
	      (uint64_t)ctl2, two[0], two[1]);
	/* 64 GiB is neither RAM nor a device (vmon's RAM ends by 9 GiB in
	 * this mode): the device must answer with the error bit. */
	ctl = dma_op(0x0001u << 16 | 0x08 | 0x02, 4, 0x1000000000ULL);
	print("dma: read to 64 GiB: control %8x%s\n", (uint64_t)ctl, ctl & 1 ? ": error bit" : "");
	select_key(0x0000);
	read_bytes(sig, 4);
	print("fw_cfg: still %c%c%c%c\n", sig[0], sig[1], sig[2], sig[3]);
	guest_exit(16);
}
