#include "dev/pci/pci_host_bridge.h"

/* Command register bits (§6.2.2) the bridge implements: memory space,
 * bus master, parity error response, SERR# enable. The rest (I/O space:
 * no I/O BAR; special cycles, MWI, VGA snoop, fast back-to-back, INTx
 * disable: nothing to disable) are hardwired to 0. */
#define CMD_WRITABLE ((1u << 1) | (1u << 2) | (1u << 6) | (1u << 8))
/* Status (§6.2.3): the error bits are RW1C. No capabilities list, not
 * 66 MHz capable, DEVSEL fast (0): all read as 0. */
#define STATUS_W1C ((1u << 8) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15))

void pci_host_bridge_init(struct pci_config *c)
{
	pci_config_init(c, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, 0, PCI_HOST_BRIDGE_CLASS, 0x00);
	pci_config_set_wmask(c, PCI_COMMAND, 2, CMD_WRITABLE, 0);
	pci_config_set_wmask(c, PCI_STATUS, 2, 0, STATUS_W1C);
	/* Interrupt Line is a scratch register for software (§6.2.4). */
	pci_config_set_wmask(c, PCI_INTERRUPT_LINE, 1, 0xff, 0);
}
