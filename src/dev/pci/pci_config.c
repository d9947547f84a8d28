#include "dev/pci/pci_config.h"

#include <string.h>

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint8_t revision,
		     uint32_t class_code, uint8_t header_type)
{
	memset(c, 0, sizeof(*c));
	put_le(c->data + PCI_VENDOR_ID, 2, vendor);
	put_le(c->data + PCI_DEVICE_ID, 2, device);
	c->data[PCI_REVISION_ID] = revision;
	put_le(c->data + PCI_CLASS_PROG, 3, class_code); /* prog-if, subclass, base class */
	c->data[PCI_HEADER_TYPE] = header_type;
}

void pci_config_set_wmask(struct pci_config *c, unsigned off, unsigned size, uint32_t mask, uint32_t w1c)
{
	if (size > 4 || off >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - off)
		return;
	put_le(c->wmask + off, size, mask);
	put_le(c->w1cmask + off, size, w1c);
}

uint32_t pci_config_read(const struct pci_config *c, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned o = off + i;
		uint8_t b = o < PCI_CONFIG_SIZE ? c->data[o] : 0xff;
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

void pci_config_write(struct pci_config *c, unsigned off, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size && i < 4; i++) {
		unsigned o = off + i;
		if (o >= PCI_CONFIG_SIZE)
			break;
		uint8_t b = (uint8_t)(value >> (8 * i));
		uint8_t w = c->wmask[o], w1c = c->w1cmask[o];
		c->data[o] = (uint8_t)((c->data[o] & ~w) | (b & w));
		c->data[o] &= (uint8_t)~(b & w1c);
	}
}
