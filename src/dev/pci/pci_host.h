/* The PCI host: bus 0's configuration space through configuration
 * mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2), CONFIG_ADDRESS at 0xcf8
 * and CONFIG_DATA at 0xcfc-0xcff, with the host bridge at 00:00.0.
 * Any vCPU thread may access it: one lock guards the address latch and
 * every function's configuration space. */
#ifndef VMON_DEV_PCI_PCI_HOST_H
#define VMON_DEV_PCI_PCI_HOST_H

#include <stdint.h>

#include "bus/io_bus.h"
#include "dev/pci/pci_config.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_SLOTS     32
#define PCI_FUNCTIONS 8

struct pci_host;

/* Claims 0xcf8 (one byte: 0xcf9 is the reset register) and 0xcfc-0xcff. */
int pci_host_create(struct io_bus *bus, struct pci_host **out);
void pci_host_destroy(struct pci_host *h);

/* Puts a function's configuration space at bus 0, slot:func. cfg stays
 * the caller's and must outlive the host. Returns 0, -EINVAL (out of
 * range) or -EBUSY. */
int pci_host_add(struct pci_host *h, unsigned slot, unsigned func, struct pci_config *cfg);

/* The port handlers, for tests: offset is from 0xcf8 / 0xcfc. */
void pci_host_address_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value);
void pci_host_data_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value);

#endif
