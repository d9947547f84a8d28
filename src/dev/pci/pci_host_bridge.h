/* Device 00:00.0, the host bridge (PCI Local Bus 3.0 §6.1, base class
 * 0x06 subclass 0x00): the function that stands for the CPU side of the
 * bus. It has no BARs and raises no interrupt. */
#ifndef VMON_DEV_PCI_PCI_HOST_BRIDGE_H
#define VMON_DEV_PCI_PCI_HOST_BRIDGE_H

#include "dev/pci/pci_config.h"

/* QEMU's ids for its generic PCIe host bridge (vendor Red Hat 0x1b36,
 * device 0x0008): Linux knows them and has no quirks for them, so the
 * kernel treats the bridge as plain hardware. */
#define PCI_HOST_BRIDGE_VENDOR 0x1b36
#define PCI_HOST_BRIDGE_DEVICE 0x0008
#define PCI_HOST_BRIDGE_CLASS  0x060000

void pci_host_bridge_init(struct pci_config *c);

#endif
