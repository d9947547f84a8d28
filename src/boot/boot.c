#include "boot/boot.h"

#include <errno.h>

#include "boot/acpi.h"
#include "boot/raw.h"
#include "boot/kernel.h"
#include "dev/hpet.h"
#include "dev/pci/pci_host.h"
#include "dev/uart16550.h"
#include "util/log.h"
#include "vm.h"

static bool claimed(const struct vm *vm, enum io_space space, uint64_t addr)
{
	return io_bus_find(&vm->bus, space, addr) != NULL;
}

/* The ACPI tables in the BIOS area, where an OS scans for the RSDP (ACPI
 * 6.5 §5.2.5.1). They describe the devices the machine has, so they are
 * built after the devices and before the loader, which may pass the RSDP
 * on (Linux: boot_params.acpi_rsdp_addr). */
static int install_acpi(struct vm *vm)
{
	struct acpi_config cfg = {
		.ncpus = vm->cfg->cpus,
		.has_com1 = claimed(vm, IO_SPACE_PIO, UART_COM1_BASE),
		.has_i8042 = claimed(vm, IO_SPACE_PIO, ACPI_I8042_DATA_PORT) &&
			     claimed(vm, IO_SPACE_PIO, ACPI_I8042_CMD_PORT),
		.has_rtc = claimed(vm, IO_SPACE_PIO, ACPI_RTC_PORT),
		.has_fw_cfg = claimed(vm, IO_SPACE_PIO, ACPI_FW_CFG_PORT),
		.has_pci = claimed(vm, IO_SPACE_PIO, PCI_CONFIG_DATA_PORT),
		.hpet_base = HPET_BASE,
	};
	if (claimed(vm, IO_SPACE_MMIO, HPET_BASE)) {
		/* The table's Event Timer Block ID is the device's own register. */
		uint64_t cap = 0;
		io_bus_access(&vm->bus, IO_SPACE_MMIO, HPET_BASE + HPET_REG_CAP, 4, false, &cap);
		cfg.hpet_id = (uint32_t)cap;
	}
	uint8_t *area = guest_mem_ptr(&vm->mem, ACPI_BASE, ACPI_AREA_SIZE);
	size_t rsdp_off;
	if (!area || !acpi_build(area, ACPI_AREA_SIZE, ACPI_BASE, &cfg, &rsdp_off)) {
		log_error("ACPI: the tables do not fit in the BIOS area");
		return -ENOSPC;
	}
	vm->acpi_rsdp = ACPI_BASE + rsdp_off;
	return 0;
}

int boot_load(struct vm *vm)
{
	int r;
	if (vm->cfg->raw) {
		r = raw_load(vm); /* a raw guest gets exactly its image: no tables */
	} else {
		r = install_acpi(vm);
		if (r == 0)
			r = kernel_load(vm);
	}
	if (r == 0)
		vm->boot_needs_paging_outside_long_mode =
			(vm->boot_state.cr0 & X86_CR0_PG) && !(vm->boot_state.efer & X86_EFER_LMA);
	return r;
}
