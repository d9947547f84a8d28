/* fw_cfg (QEMU docs/specs/fw_cfg.rst): the items, the selector/data port
 * semantics, the DMA interface, and DMA with addresses a hostile guest picks.
 * Expected bytes are written out from the spec, not read back from vmon. */
#include "dev/fw_cfg.h"
#include "mem/guest_mem.h"
#include "unit.h"

#define RAM (16ULL << 20)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void sel(struct fw_cfg *fc, uint16_t key)
{
	uint64_t v = key;
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR, 2, true, &v);
}

static uint8_t rd8(struct fw_cfg *fc)
{
	uint64_t v = 0x1234;
	fw_cfg_io(fc, FW_CFG_PORT_DATA, 1, false, &v);
	return (uint8_t)v;
}

static void rdn(struct fw_cfg *fc, uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		buf[i] = rd8(fc);
}

/* n bytes of the selected item as a little-endian number */
static uint64_t rd_le(struct fw_cfg *fc, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)rd8(fc) << (8 * i);
	return v;
}

static uint32_t be32_at(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint64_t le_at(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }

/* What a driver does: OUT the two halves of the big-endian address,
 * high first, each byte-swapped (the register is big-endian). */
static void dma_go(struct fw_cfg *fc, uint64_t gpa)
{
	uint64_t hi = bswap32((uint32_t)(gpa >> 32)), lo = bswap32((uint32_t)gpa);
	fw_cfg_io(fc, FW_CFG_PORT_DMA, 4, true, &hi);
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 4, 4, true, &lo);
}

/* FWCfgDmaAccess at gpa: control, length, address, all big-endian */
static void put_desc(struct guest_mem *m, uint64_t gpa, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t d[16];
	put_be(d, control, 4);
	put_be(d + 4, len, 4);
	put_be(d + 8, addr, 8);
	CHECK_EQ(guest_mem_write(m, gpa, d, 16), 0);
}

static uint32_t desc_control(struct guest_mem *m, uint64_t gpa)
{
	uint8_t c[4];
	CHECK_EQ(guest_mem_read(m, gpa, c, 4), 0);
	return be32_at(c);
}

#define DESC 0x1000ULL
#define BUF  0x2000ULL

static void test_items(struct fw_cfg *fc)
{
	/* Signature: "QEMU", then zeros past the end; the offset stays there. */
	sel(fc, FW_CFG_SIGNATURE);
	uint8_t b[8];
	rdn(fc, b, 8);
	CHECK(memcmp(b, "QEMU\0\0\0\0", 8) == 0);
	/* The selector resets the offset, whatever was read before. */
	sel(fc, FW_CFG_SIGNATURE);
	CHECK_EQ(rd8(fc), 'Q');
	CHECK_EQ(rd8(fc), 'E');
	sel(fc, FW_CFG_SIGNATURE);
	CHECK_EQ(rd8(fc), 'Q');
	/* A byte read of 0x510 is a data read too (the ports overlap); data
	 * port writes are ignored and do not move the offset. */
	uint64_t v = 0;
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR, 1, false, &v);
	CHECK_EQ(v, 'E');
	v = 0x55;
	fw_cfg_io(fc, FW_CFG_PORT_DATA, 1, true, &v);
	CHECK_EQ(rd8(fc), 'M');
	/* A byte write to the selector does not select. */
	v = FW_CFG_ID;
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR, 1, true, &v);
	CHECK_EQ(rd8(fc), 'U');
	/* Bit 14 (the write channel) names the same item. */
	sel(fc, FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL);
	CHECK_EQ(rd8(fc), 'Q');

	/* FW_CFG_ID: 32-bit LE, bit 0 traditional interface, bit 1 DMA. */
	sel(fc, FW_CFG_ID);
	CHECK_EQ(rd_le(fc, 4), 3);
	CHECK_EQ(rd8(fc), 0);

	/* Unknown keys read as zero: UUID is not provided, nor any arch key,
	 * nor 0x8000 + 0 (arch bit 15 is not masked away), nor 0xffff. */
	const uint16_t unknown[] = { 0x0002, 0x0004, 0x0021, 0x1234, 0x8000, 0xc000, 0xffff };
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		sel(fc, unknown[i]);
		CHECK_EQ(rd_le(fc, 8), 0);
	}

	/* Other widths at the selector and the unused 0x512-0x513: all ones. */
	v = 0;
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR, 2, false, &v);
	CHECK_EQ(v, 0xffff);
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR + 2, 1, false, &v);
	CHECK_EQ(v, 0xff);
	fw_cfg_io(fc, FW_CFG_PORT_SELECTOR, 4, false, &v);
	CHECK_EQ(v, 0xffffffff);
}

static void test_machine(struct fw_cfg *fc, uint64_t ram, unsigned cpus, unsigned n,
			 const uint64_t (*map)[3])
{
	sel(fc, FW_CFG_RAM_SIZE);
	CHECK_EQ(rd_le(fc, 8), ram);
	sel(fc, FW_CFG_NB_CPUS);
	CHECK_EQ(rd_le(fc, 2), cpus);
	CHECK_EQ(rd8(fc), 0);
	sel(fc, FW_CFG_MAX_CPUS);
	CHECK_EQ(rd_le(fc, 2), cpus);

	/* The directory: BE count 1; etc/e820 of n 20-byte entries at 0x0020. */
	uint8_t d[4 + 64 + 4];
	sel(fc, FW_CFG_FILE_DIR);
	rdn(fc, d, sizeof(d));
	CHECK_EQ(be32_at(d), 1);
	CHECK_EQ(be32_at(d + 4), n * 20);
	CHECK_EQ(d[8], 0x00);
	CHECK_EQ(d[9], 0x20);
	CHECK_EQ(d[10] | d[11], 0);
	char name[56] = "etc/e820";
	CHECK(memcmp(d + 12, name, 56) == 0);
	CHECK_EQ(le_at(d + 68, 4), 0); /* past the end */

	uint8_t e[6 * 20 + 4];
	sel(fc, FW_CFG_FILE_FIRST);
	rdn(fc, e, n * 20 + 4);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(le_at(e + 20 * i, 8), map[i][0]);
		CHECK_EQ(le_at(e + 20 * i + 8, 8), map[i][1]);
		CHECK_EQ(le_at(e + 20 * i + 16, 4), map[i][2]);
	}
	CHECK_EQ(le_at(e + 20 * n, 4), 0);
}

static void test_dma(struct fw_cfg *fc, struct guest_mem *m)
{
	uint8_t *ram = guest_mem_ptr(m, 0, RAM);

	/* The address register reads "QEMU CFG" in big-endian order. */
	uint64_t v = 0;
	fw_cfg_io(fc, FW_CFG_PORT_DMA, 4, false, &v);
	CHECK_EQ(v, 0x554d4551); /* bytes 'Q' 'E' 'M' 'U' */
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 4, 4, false, &v);
	CHECK_EQ(v, 0x47464320); /* ' ' 'C' 'F' 'G' */
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 7, 1, false, &v);
	CHECK_EQ(v, 'G');
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 6, 2, false, &v);
	CHECK_EQ(v, 'F' | 'G' << 8);

	/* Select + read the directory: its 68 bytes, control back to 0. */
	memset(ram + BUF, 0xaa, 256);
	put_desc(m, DESC, FW_CFG_FILE_DIR << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 68, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK_EQ(be32_at(ram + BUF), 1);
	CHECK_EQ(ram[BUF + 9], 0x20);
	CHECK(memcmp(ram + BUF + 12, "etc/e820", 9) == 0);
	CHECK_EQ(ram[BUF + 68], 0xaa); /* nothing past length */
	/* The offset moved: a port read continues after the directory. */
	CHECK_EQ(rd8(fc), 0);

	/* A read past the item's end: its bytes, then zeros. */
	memset(ram + BUF, 0xaa, 256);
	put_desc(m, DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 100, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK(memcmp(ram + BUF, "QEMU", 4) == 0);
	int zeros = 1;
	for (int i = 4; i < 100; i++)
		zeros &= ram[BUF + i] == 0;
	CHECK(zeros);
	CHECK_EQ(ram[BUF + 100], 0xaa);

	/* Skip 2 bytes of the signature, then the port and DMA go on from there. */
	put_desc(m, DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, 0);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK_EQ(rd8(fc), 'M');
	put_desc(m, DESC, FW_CFG_DMA_CTL_READ, 1, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK_EQ(ram[BUF], 'U');
	/* A skip past the end stops there: the next read is zero. */
	put_desc(m, DESC, FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 1000, 0);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK_EQ(rd8(fc), 0);

	/* Select alone: like the selector port, offset 0. */
	put_desc(m, DESC, FW_CFG_ID << 16 | FW_CFG_DMA_CTL_SELECT, 50, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK_EQ(rd_le(fc, 4), 3);

	/* Writes: every item is read-only, so a write is an error (length 0
	 * does nothing and is no error). */
	put_desc(m, DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), FW_CFG_DMA_CTL_ERROR);
	sel(fc, FW_CFG_SIGNATURE);
	CHECK_EQ(rd8(fc), 'Q');
	put_desc(m, DESC, FW_CFG_DMA_CTL_WRITE, 0, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);

	/* A 32-bit address needs only the low half: the register is 0 after
	 * each operation, so a high half left from before does not linger. */
	uint64_t hi = bswap32(1);
	fw_cfg_io(fc, FW_CFG_PORT_DMA, 4, true, &hi);
	put_desc(m, DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF);
	memset(ram + BUF, 0, 4);
	uint64_t lo = bswap32((uint32_t)DESC);
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 4, 4, true, &lo); /* 0x1_0000_1000: not RAM */
	CHECK_EQ(desc_control(m, DESC), FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ); /* untouched */
	CHECK_EQ(ram[BUF], 0);
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 4, 4, true, &lo); /* now 0x1000 */
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK(memcmp(ram + BUF, "QEMU", 4) == 0);
	/* Other widths and offsets of writes do not start anything. */
	put_desc(m, DESC, FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 4, BUF);
	v = DESC;
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 7, 1, true, &v);
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 6, 2, true, &v);
	fw_cfg_io(fc, FW_CFG_PORT_DMA + 2, 4, true, &v);
	CHECK_EQ(desc_control(m, DESC), FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
}

/* Addresses and lengths a hostile guest picks: each ends in the error bit
 * (where the descriptor itself is in RAM) and nothing outside RAM is touched. */
static void test_dma_hostile(struct fw_cfg *fc, struct guest_mem *m)
{
	uint8_t *ram = guest_mem_ptr(m, 0, RAM);
	const uint32_t rd_sig = FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ;
	const struct {
		uint32_t control, len;
		uint64_t addr;
	} bad[] = {
		{ rd_sig, 4, 0xc0000000ULL },               /* the MMIO hole */
		{ rd_sig, 4, RAM },                         /* just past RAM */
		{ rd_sig, 4, RAM - 2 },                     /* straddles RAM's end */
		{ rd_sig, 4, 0xfffffffffffffffeULL },       /* wraps */
		{ rd_sig, 0xffffffffu, 0 },                 /* longer than RAM */
		{ rd_sig, 0xffffffffu, 0xfffffffffffff000ULL },
		{ FW_CFG_DMA_CTL_READ, 0x1000, RAM - 0x800 }, /* zero fill past RAM (offset at end) */
		{ FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE, 8, 0xffffffffffffffffULL },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_desc(m, DESC, bad[i].control, bad[i].len, bad[i].addr);
		dma_go(fc, DESC);
		CHECK_EQ(desc_control(m, DESC), FW_CFG_DMA_CTL_ERROR);
	}
	/* The item's bytes fit, the zeros past its end do not: the bytes are
	 * there, and the error bit. */
	memset(ram + RAM - 4, 0xaa, 4);
	put_desc(m, DESC, rd_sig, 8, RAM - 4);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), FW_CFG_DMA_CTL_ERROR);
	CHECK(memcmp(ram + RAM - 4, "QEMU", 4) == 0);

	/* A descriptor straddling RAM's end cannot be read: only its control
	 * word, which is in RAM, gets the error bit (QEMU does the same). */
	put_desc(m, RAM - 16, rd_sig, 4, BUF);
	memmove(ram + RAM - 8, ram + RAM - 16, 8);
	dma_go(fc, RAM - 8);
	CHECK_EQ(desc_control(m, RAM - 8), FW_CFG_DMA_CTL_ERROR);
	/* Descriptors outside RAM: nothing to write, no crash. */
	const uint64_t nowhere[] = { RAM, 0xc0000000ULL, 0xfee00000ULL, 0xfffffffffffffff8ULL, ~0ULL };
	for (unsigned i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++)
		dma_go(fc, nowhere[i]);
	/* After all that, the device still works. */
	put_desc(m, DESC, rd_sig, 4, BUF);
	dma_go(fc, DESC);
	CHECK_EQ(desc_control(m, DESC), 0);
	CHECK(memcmp(ram + BUF, "QEMU", 4) == 0);
}

int main(void)
{
	struct guest_mem m;
	CHECK_EQ(guest_mem_init(&m, RAM), 0);

	/* 256 MiB, 4 vCPUs: e820.h's map, four entries. */
	struct fw_cfg *fc;
	CHECK_EQ(fw_cfg_create(NULL, &m, 256 * MiB, 4, &fc), 0);
	/* After create the signature is selected (QEMU's reset state). */
	CHECK_EQ(rd8(fc), 'Q');
	test_items(fc);
	const uint64_t map256[][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x60400, 2 },
		{ 0x100000, 256 * MiB - 0x100000, 1 },
		{ 0xe0000000, MiB, 2 },
		{ 0xfec00000, 0x1400000, 2 },
	};
	test_machine(fc, 256 * MiB, 4, 5, map256);
	test_dma(fc, &m);
	test_dma_hostile(fc, &m);
	fw_cfg_destroy(fc);

	/* 5 GiB, 1 vCPU: RAM above 3 GiB continues at 4 GiB. */
	CHECK_EQ(fw_cfg_create(NULL, &m, 5 * GiB, 1, &fc), 0);
	const uint64_t map5g[][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x60400, 2 },
		{ 0x100000, 3 * GiB - 0x100000, 1 },
		{ 0xe0000000, MiB, 2 },
		{ 0xfec00000, 0x1400000, 2 },
		{ 4 * GiB, 2 * GiB, 1 },
	};
	test_machine(fc, 5 * GiB, 1, 6, map5g);
	fw_cfg_destroy(fc);

	/* On a bus: one claim, 0x510-0x51b, reached through io_bus_access. */
	struct io_bus bus;
	io_bus_init(&bus);
	CHECK_EQ(fw_cfg_create(&bus, &m, 64 * MiB, 2, &fc), 0);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x50f) == NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x510) != NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x51b) != NULL);
	CHECK(io_bus_find(&bus, IO_SPACE_PIO, 0x51c) == NULL);
	uint64_t v = FW_CFG_NB_CPUS;
	io_bus_access(&bus, IO_SPACE_PIO, 0x510, 2, true, &v);
	io_bus_access(&bus, IO_SPACE_PIO, 0x511, 1, false, &v);
	CHECK_EQ(v, 2);
	io_bus_access(&bus, IO_SPACE_PIO, 0x51b, 1, false, &v);
	CHECK_EQ(v, 'G');
	fw_cfg_destroy(fc);
	io_bus_destroy(&bus);

	guest_mem_destroy(&m);
	return unit_report("fw_cfg");
}
