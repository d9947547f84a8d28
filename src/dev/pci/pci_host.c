#include "dev/pci/pci_host.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/pci/pci_host_bridge.h"

/* CONFIG_ADDRESS (§3.2.2.3.2, figure 3-2): enable 31, reserved 30:24
 * (read-only 0), bus 23:16, device 15:11, function 10:8, register 7:2,
 * 1:0 read-only 0. */
#define ADDR_ENABLE   (1u << 31)
#define ADDR_WRITABLE 0x80fffffcu

struct pci_host {
	pthread_mutex_t lock;
	uint32_t address;
	struct pci_config *fn[PCI_SLOTS][PCI_FUNCTIONS];
	struct pci_config bridge;
};

static uint64_t ones(unsigned size) { return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1; }

void pci_host_address_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct pci_host *h = opaque;
	/* Only a dword access at 0xcf8 is CONFIG_ADDRESS; narrower ones are
	 * ordinary I/O cycles that nothing here decodes. */
	if (offset != 0 || size != 4) {
		if (!is_write)
			*value = ones(size);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (is_write)
		h->address = (uint32_t)*value & ADDR_WRITABLE;
	else
		*value = h->address;
	pthread_mutex_unlock(&h->lock);
}

void pci_host_data_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct pci_host *h = opaque;
	/* An access of 1, 2 or 4 bytes that stays inside the dword at 0xcfc
	 * is one configuration cycle with those byte enables; anything else
	 * (odd widths, a dword at 0xcfd) is ignored. */
	bool valid = (size == 1 || size == 2 || size == 4) && offset < 4 && offset + size <= 4;
	uint64_t result = ones(size);
	pthread_mutex_lock(&h->lock);
	uint32_t a = h->address;
	struct pci_config *c = NULL;
	/* Enable clear: 0xcfc is plain I/O space, nothing answers. Only bus 0
	 * exists; a cycle to any other bus or to an absent function ends in
	 * master abort: reads all ones, writes dropped (§6.1). */
	if (valid && (a & ADDR_ENABLE) && ((a >> 16) & 0xff) == 0)
		c = h->fn[(a >> 11) & 0x1f][(a >> 8) & 7];
	if (c) {
		unsigned reg = (a & 0xfc) + (unsigned)offset;
		if (is_write)
			pci_config_write(c, reg, size, (uint32_t)*value);
		else
			result = pci_config_read(c, reg, size);
	}
	pthread_mutex_unlock(&h->lock);
	if (!is_write)
		*value = result;
}

int pci_host_add(struct pci_host *h, unsigned slot, unsigned func, struct pci_config *cfg)
{
	if (slot >= PCI_SLOTS || func >= PCI_FUNCTIONS || !cfg)
		return -EINVAL;
	int r = 0;
	pthread_mutex_lock(&h->lock);
	if (h->fn[slot][func])
		r = -EBUSY;
	else
		h->fn[slot][func] = cfg;
	pthread_mutex_unlock(&h->lock);
	return r;
}

int pci_host_create(struct io_bus *bus, struct pci_host **out)
{
	struct pci_host *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pci_host_bridge_init(&h->bridge);
	h->fn[0][0] = &h->bridge;
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, PCI_CONFIG_ADDRESS_PORT, 1, pci_host_address_io, h,
				    "pci-config-address");
		if (r == 0)
			r = io_bus_register(bus, IO_SPACE_PIO, PCI_CONFIG_DATA_PORT, 4, pci_host_data_io, h,
					    "pci-config-data");
	}
	if (r < 0) {
		pci_host_destroy(h);
		return r;
	}
	*out = h;
	return 0;
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}
