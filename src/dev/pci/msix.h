/* MSI-X (PCI Local Bus 3.0 §6.8.2): the capability in configuration
 * space, the vector table and the pending bit array in a memory BAR, and
 * sending a vector's message. Pure state: the owning device serialises
 * every call (its lock). */
#ifndef VMON_DEV_PCI_MSIX_H
#define VMON_DEV_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/msi.h"
#include "dev/pci/pci_config.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_CAP_ID   0x11
#define MSIX_CAP_SIZE 12
#define MSIX_ENTRY_SIZE 16
#define MSIX_NO_VECTOR 0xffff   /* virtio's "no vector" (virtio 1.2 §4.1.5.1.2) */

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct msix {
	unsigned nvec;
	unsigned cap;             /* capability offset in configuration space */
	uint32_t table_off, pba_off; /* inside the BAR */
	bool enabled, fn_masked;  /* message control bits 15 and 14 */
	struct msix_entry entry[MSIX_MAX_VECTORS];
	uint64_t pending[MSIX_MAX_VECTORS / 64];
	struct msi_sink sink;
};

/* nvec vectors (1..MSIX_MAX_VECTORS), all masked (§6.8.2.9), disabled.
 * Writes the capability at cap in c, linked to next, with the table at
 * table_off and the PBA at pba_off of BAR bir (8-byte aligned, §6.8.2.4). */
void msix_init(struct msix *m, struct pci_config *c, unsigned cap, unsigned next, unsigned nvec,
	       unsigned bir, uint32_t table_off, uint32_t pba_off, const struct msi_sink *sink);

/* The guest wrote configuration space: pick up enable and function mask;
 * a vector unmasked this way with its pending bit set is sent now. */
void msix_config_written(struct msix *m, const struct pci_config *c);

/* Is off (from the BAR's base) in the table or the PBA? */
bool msix_claims(const struct msix *m, uint64_t off);
/* An access to the table or PBA (dword or qword; others read as zero and
 * are dropped, §6.8.2). */
void msix_bar_access(struct msix *m, uint64_t off, unsigned size, bool is_write, uint64_t *value);

/* Signals vector vec: its message now, or its pending bit while masked.
 * Returns false when vec is out of range (nothing sent). */
bool msix_notify(struct msix *m, unsigned vec);

#endif
