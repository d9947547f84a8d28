/* One PCI function's 256-byte configuration space (PCI Local Bus 3.0
 * §6.1): the bytes, which bits software may write, and which bits clear
 * when written with 1 (the status register's error bits, §6.2.3). Pure
 * data: the caller (the PCI host) serialises accesses. Devices fill the
 * header with pci_config_init() and open up their writable fields with
 * pci_config_set_wmask(). */
#ifndef VMON_DEV_PCI_PCI_CONFIG_H
#define VMON_DEV_PCI_PCI_CONFIG_H

#include <stdint.h>

#define PCI_CONFIG_SIZE 256

/* Type 0/1 header offsets (§6.1, figure 6-1) */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a /* subclass at 0x0a, base class at 0x0b */
#define PCI_HEADER_TYPE    0x0e
#define PCI_INTERRUPT_LINE 0x3c

#define PCI_HEADER_TYPE_MULTIFUNCTION 0x80

struct pci_config {
	uint8_t data[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];   /* 1: software may write this bit */
	uint8_t w1cmask[PCI_CONFIG_SIZE]; /* 1: writing 1 clears this bit */
};

/* Everything read-only and zero except the identification fields. */
void pci_config_init(struct pci_config *c, uint16_t vendor, uint16_t device, uint8_t revision,
		     uint32_t class_code, uint8_t header_type);

/* Marks size bytes (1, 2 or 4) at off writable (bits in mask) and
 * write-1-to-clear (bits in w1c). Out-of-range fields are ignored. */
void pci_config_set_wmask(struct pci_config *c, unsigned off, unsigned size, uint32_t mask, uint32_t w1c);

/* size bytes at off, little-endian; the parts beyond 256 bytes read as
 * ones. Writes change only writable bits; the rest are ignored. */
uint32_t pci_config_read(const struct pci_config *c, unsigned off, unsigned size);
void pci_config_write(struct pci_config *c, unsigned off, unsigned size, uint32_t value);

#endif
