/* The PCI host: bus 0's configuration space through configuration
 * mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2), CONFIG_ADDRESS at 0xcf8
 * and CONFIG_DATA at 0xcfc-0xcff, and through ECAM (PCIe Base 4.0
 * §7.2.2) at PC_PCI_ECAM_BASE, with the host bridge at 00:00.0; and the
 * BAR windows of machine/pc.h, decoded by the functions' BARs. Any vCPU
 * thread may access it: one lock guards the address latch, every
 * function's configuration space and the BAR decode table. */
#ifndef VMON_DEV_PCI_PCI_HOST_H
#define VMON_DEV_PCI_PCI_HOST_H

#include <stdint.h>

#include <stdbool.h>

#include "bus/io_bus.h"
#include "dev/irq.h"
#include "dev/pci/pci_config.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc
#define PCI_SLOTS     32
#define PCI_FUNCTIONS 8

struct pci_host;

/* A function with Base Address Registers (PCI 3.0 §6.2.5.1) and an
 * interrupt pin. vmon places its BARs as firmware would (pci_host_add_
 * function); the guest may move them, and the host decodes accesses by
 * the BARs' current values and the command register's I/O and memory
 * enables. */
#define PCI_BARS 6
#define PCI_BAR_0 0x10
enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_kind kind;    /* a MEM64 BAR uses slots i and i+1 */
	bool prefetchable;
	uint64_t size;             /* a power of 2; I/O >= 4, memory >= 4096 */
	io_handler_fn *fn;         /* accesses, offset from the BAR's base */
	void *opaque;
};

struct pci_function {
	struct pci_config cfg;     /* header filled by the device (pci_config_init) */
	struct pci_bar bar[PCI_BARS];
	uint8_t intx_pin;          /* 0: none, 1 = INTA .. 4 = INTD */
	void *opaque;              /* for the hooks */
	/* Optional: the guest wrote [off, off+size) of the configuration
	 * space (after the write took effect). Host lock held: the hook may
	 * read f->cfg but must not call back into the host. */
	void (*config_written)(void *opaque, unsigned off, unsigned size);
	/* Optional: the guest is about to read [off, off+size): the hook may
	 * refresh those bytes of f->cfg first (a register whose value is
	 * computed on access, e.g. virtio's PCI configuration access window).
	 * Host lock held, as above. */
	void (*config_read)(void *opaque, unsigned off, unsigned size);
	/* Optional: BAR i now decodes at addr (enabled) or not at all
	 * (!enabled: moved away, outside the host's windows, or decoding
	 * turned off). Called by pci_host_add_function for the first
	 * placement too, then on every change. Host lock held. */
	void (*bar_changed)(void *opaque, unsigned i, uint64_t addr, bool enabled);
	/* Set by pci_host_add_function: the INTx line (its GSI from
	 * pc_pci_intx_gsi). Drive it with irq_line_set. */
	struct irq_line intx;
};

/* Claims 0xcf8 (one byte: 0xcf9 is the reset register), 0xcfc-0xcff, the
 * ECAM area and the three BAR windows (machine/pc.h). */
int pci_host_create(struct io_bus *bus, struct pci_host **out);
void pci_host_destroy(struct pci_host *h);

/* Puts a function's configuration space at bus 0, slot:func. cfg stays
 * the caller's and must outlive the host. Returns 0, -EINVAL (out of
 * range) or -EBUSY. */
int pci_host_add(struct pci_host *h, unsigned slot, unsigned func, struct pci_config *cfg);

/* The line template INTx interrupts are raised through (its gsi is
 * replaced per function). Call before pci_host_add_function. */
void pci_host_set_irq(struct pci_host *h, const struct irq_line *line);

/* Puts a device function at bus 0, slot:0 and places its BARs in the
 * machine's windows (machine/pc.h) with decoding enabled, as firmware
 * leaves them; fills Interrupt Pin/Line and f->intx. f stays the caller's
 * and must outlive the host. Returns 0, -EINVAL, -EBUSY or -ENOSPC (no
 * room left in a window). */
int pci_host_add_function(struct pci_host *h, unsigned slot, struct pci_function *f);

/* size bytes of f's configuration space at off, under the host's lock
 * (for a device thread that reads its own capability registers). */
uint32_t pci_host_config_read(struct pci_host *h, const struct pci_function *f, unsigned off, unsigned size);

/* The port handlers, for tests: offset is from 0xcf8 / 0xcfc. */
void pci_host_address_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value);
void pci_host_data_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value);
/* offset is from PC_PCI_ECAM_BASE. */
void pci_host_ecam_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value);

#endif
