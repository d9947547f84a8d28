#include "dev/fw_cfg.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "boot/e820.h"
#include "util/log.h"

#define FW_CFG_MAX_ITEMS 8
#define FW_CFG_MAX_FILES 2

struct fw_cfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;
};

struct fw_cfg {
	pthread_mutex_t lock; /* every vCPU thread may reach the ports */
	const struct guest_mem *mem;
	struct fw_cfg_item item[FW_CFG_MAX_ITEMS];
	unsigned nitems;
	const char *file_name[FW_CFG_MAX_FILES]; /* file i has key FW_CFG_FILE_FIRST + i */
	unsigned nfiles;
	const struct fw_cfg_item *cur; /* the selected item; NULL when the key has none */
	uint32_t offset;               /* into cur */
	uint64_t dma_addr;
};

static int add_item(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	if (fc->nitems == FW_CFG_MAX_ITEMS)
		return -ENOSPC;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	fc->item[fc->nitems++] = (struct fw_cfg_item){ key, len, copy };
	return 0;
}

static int add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len)
{
	if (fc->nfiles == FW_CFG_MAX_FILES || strlen(name) >= FW_CFG_FILE_NAME_MAX)
		return -ENOSPC;
	int r = add_item(fc, (uint16_t)(FW_CFG_FILE_FIRST + fc->nfiles), data, len);
	if (r == 0)
		fc->file_name[fc->nfiles++] = name;
	return r;
}

static const struct fw_cfg_item *find(const struct fw_cfg *fc, uint16_t key)
{
	for (unsigned i = 0; i < fc->nitems; i++)
		if (fc->item[i].key == key)
			return &fc->item[i];
	return NULL;
}

/* The file directory (fw_cfg.rst "File Directory"): a big-endian count,
 * then per file its size (BE 32), selector (BE 16), 2 reserved bytes and
 * a NUL-padded name of 56 bytes. */
static int add_file_dir(struct fw_cfg *fc)
{
	uint8_t dir[4 + FW_CFG_MAX_FILES * FW_CFG_FILE_ENTRY_SIZE];
	memset(dir, 0, sizeof(dir));
	uint32_t count = htobe32(fc->nfiles);
	memcpy(dir, &count, 4);
	for (unsigned i = 0; i < fc->nfiles; i++) {
		uint8_t *e = dir + 4 + i * FW_CFG_FILE_ENTRY_SIZE;
		const struct fw_cfg_item *it = find(fc, (uint16_t)(FW_CFG_FILE_FIRST + i));
		uint32_t size = htobe32(it->len);
		uint16_t sel = htobe16(it->key);
		memcpy(e, &size, 4);
		memcpy(e + 4, &sel, 2);
		memcpy(e + 8, fc->file_name[i], strlen(fc->file_name[i]));
	}
	return add_item(fc, FW_CFG_FILE_DIR, dir, 4 + fc->nfiles * FW_CFG_FILE_ENTRY_SIZE);
}

/* etc/e820: the same map every other boot path gives the guest, in QEMU's
 * layout (hw/i386/e820_memory_layout.h: 20 packed little-endian bytes). */
static int add_e820(struct fw_cfg *fc, uint64_t ram_size)
{
	uint8_t buf[E820_MAX_ENTRIES * E820_PACKED_ENTRY];
	unsigned n = e820_build_packed(ram_size, buf, E820_MAX_ENTRIES);
	return add_file(fc, "etc/e820", buf, n * E820_PACKED_ENTRY);
}

static int add_items(struct fw_cfg *fc, uint64_t ram_size, unsigned cpus)
{
	/* The integers are little-endian (fw_cfg.rst for FW_CFG_ID; QEMU's
	 * fw_cfg_add_i16/i64 for the rest). APIC ids are the vCPU indexes, so
	 * the APIC-id limit that MAX_CPUS means on x86 is the vCPU count. */
	uint32_t id = htole32(FW_CFG_VERSION | FW_CFG_VERSION_DMA);
	uint64_t ram = htole64(ram_size);
	uint16_t ncpus = htole16((uint16_t)cpus);
	int r = add_item(fc, FW_CFG_SIGNATURE, "QEMU", 4);
	if (r == 0)
		r = add_item(fc, FW_CFG_ID, &id, 4);
	if (r == 0)
		r = add_item(fc, FW_CFG_RAM_SIZE, &ram, 8);
	if (r == 0)
		r = add_item(fc, FW_CFG_NB_CPUS, &ncpus, 2);
	if (r == 0)
		r = add_item(fc, FW_CFG_MAX_CPUS, &ncpus, 2);
	if (r == 0)
		r = add_e820(fc, ram_size);
	if (r == 0)
		r = add_file_dir(fc);
	return r;
}

/* fw_cfg.rst "Selector (Control) Register": selecting resets the offset.
 * Bit 14 (the old write channel) names the same item; bit 15 is kept, so
 * arch-specific keys (none here) stay apart. */
static void select_key(struct fw_cfg *fc, uint16_t key)
{
	fc->cur = find(fc, key & (uint16_t)~FW_CFG_WRITE_CHANNEL);
	fc->offset = 0;
}

static uint32_t remaining(const struct fw_cfg *fc)
{
	return fc->cur ? fc->cur->len - fc->offset : 0;
}

/* fw_cfg.rst "Data Register": past the item's end (or with no item) a
 * read returns 0 and the offset stays. */
static uint8_t read_data(struct fw_cfg *fc)
{
	return remaining(fc) ? fc->cur->data[fc->offset++] : 0;
}

/* fw_cfg.rst "Guest-side DMA Interface": FWCfgDmaAccess at gpa, big-endian
 * control, length and address. Every guest address and length goes through
 * the guest memory door; anything outside RAM sets the error bit. */
static void dma_run(struct fw_cfg *fc, uint64_t gpa)
{
	uint8_t desc[16];
	uint32_t status;
	if (guest_mem_read(fc->mem, gpa, desc, sizeof(desc)) < 0) {
		status = htobe32(FW_CFG_DMA_CTL_ERROR);
		(void)guest_mem_write(fc->mem, gpa, &status, 4); /* fails too unless it straddles RAM's end */
		log_debug("fw_cfg: DMA descriptor at 0x%llx is not in RAM", (unsigned long long)gpa);
		return;
	}
	uint32_t control, len;
	uint64_t addr;
	memcpy(&control, desc, 4);
	memcpy(&len, desc + 4, 4);
	memcpy(&addr, desc + 8, 8);
	control = be32toh(control);
	len = be32toh(len);
	addr = be64toh(addr);

	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(fc, (uint16_t)(control >> 16));
	uint32_t n = len < remaining(fc) ? len : remaining(fc);
	bool error = false;
	if (control & FW_CFG_DMA_CTL_READ) {
		/* The item's bytes, then zeros for the part past its end. */
		if (n && guest_mem_write(fc->mem, addr, fc->cur->data + fc->offset, n) < 0)
			error = true;
		fc->offset += n;
		if (!error && len > n) {
			void *p = guest_mem_ptr(fc->mem, addr + n, len - n); /* addr + n is in RAM: no wrap */
			if (p)
				memset(p, 0, len - n);
			else
				error = true;
		}
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		error = len > 0; /* every item is read-only */
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		fc->offset += n;
	}
	if (error)
		log_debug("fw_cfg: DMA control 0x%x length 0x%x address 0x%llx failed", control, len,
			  (unsigned long long)addr);
	/* All bits clear: done; the error bit: it failed. */
	status = htobe32(error ? FW_CFG_DMA_CTL_ERROR : 0);
	(void)guest_mem_write(fc->mem, gpa, &status, 4);
}

/* The DMA address register (fw_cfg.rst "Guest-side DMA Interface"): reads
 * give "QEMU CFG" byte by byte; it is big-endian, so a 32-bit OUT carries
 * its half byte-swapped. Writing the low half at 0x518 starts the transfer;
 * the register is 0 again afterwards. */
static void dma_reg(struct fw_cfg *fc, unsigned off, unsigned size, bool is_write, uint64_t *value)
{
	if (!is_write) {
		uint64_t v = 0;
		for (unsigned i = 0; i < size; i++) {
			unsigned b = off + i;
			uint64_t byte = b < 8 ? (FW_CFG_DMA_SIGNATURE >> (56 - 8 * b)) & 0xff : 0xff;
			v |= byte << (8 * i);
		}
		*value = v;
		return;
	}
	if (size == 4 && off == 0) {
		fc->dma_addr = (uint64_t)be32toh((uint32_t)*value) << 32;
	} else if (size == 4 && off == 4) {
		uint64_t gpa = fc->dma_addr | be32toh((uint32_t)*value);
		fc->dma_addr = 0;
		dma_run(fc, gpa);
	} else if (size == 8 && off == 0) {
		fc->dma_addr = 0;
		dma_run(fc, be64toh(*value));
	}
}

void fw_cfg_io(struct fw_cfg *fc, uint16_t port, unsigned size, bool is_write, uint64_t *value)
{
	unsigned off = (unsigned)(port - FW_CFG_PORT_SELECTOR);
	uint64_t ones = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	pthread_mutex_lock(&fc->lock);
	if (port >= FW_CFG_PORT_SELECTOR && off < 2) {
		/* The data port overlaps the selector's high byte (fw_cfg.rst,
		 * "Data Register"): a 16-bit write selects, a byte read is data
		 * (at 0x510 too, as in QEMU), byte writes are ignored as in QEMU
		 * since 2.4. Other widths do nothing and read all ones. */
		if (is_write) {
			if (size == 2 && off == 0)
				select_key(fc, (uint16_t)*value);
		} else {
			*value = size == 1 ? read_data(fc) : ones;
		}
	} else if (port >= FW_CFG_PORT_DMA && off < FW_CFG_PORT_COUNT) {
		dma_reg(fc, off - 4, size, is_write, value);
	} else if (!is_write) {
		*value = ones; /* 0x512-0x513 hold nothing, as unassigned ports */
	}
	pthread_mutex_unlock(&fc->lock);
}

static void io_fw_cfg(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	fw_cfg_io(opaque, (uint16_t)(FW_CFG_PORT_SELECTOR + offset), size, is_write, value);
}

int fw_cfg_create(struct io_bus *bus, const struct guest_mem *mem, uint64_t ram_size, unsigned cpus,
		  struct fw_cfg **out)
{
	struct fw_cfg *fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	pthread_mutex_init(&fc->lock, NULL);
	fc->mem = mem;
	int r = add_items(fc, ram_size, cpus);
	if (r == 0)
		select_key(fc, FW_CFG_SIGNATURE); /* QEMU's reset state */
	if (r == 0 && bus)
		r = io_bus_register(bus, IO_SPACE_PIO, FW_CFG_PORT_SELECTOR, FW_CFG_PORT_COUNT, io_fw_cfg, fc,
				    "fw_cfg");
	if (r < 0) {
		fw_cfg_destroy(fc);
		return r;
	}
	*out = fc;
	return 0;
}

void fw_cfg_destroy(struct fw_cfg *fc)
{
	if (!fc)
		return;
	for (unsigned i = 0; i < fc->nitems; i++)
		free(fc->item[i].data);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}
