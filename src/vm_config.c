#include "vm_config.h"

#include <string.h>

void vm_config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->accel = ACCEL_KVM;
	cfg->cpus = 1;
	cfg->mem_size = VM_CONFIG_DEFAULT_MEM;
	cfg->console = CONSOLE_SERIAL;
	cfg->log_level = LOG_WARN;
	cfg->addr = VM_CONFIG_DEFAULT_RAW_ADDR;
}

const char *boot_mode_name(enum boot_mode mode)
{
	switch (mode) {
	case BOOT_MODE_REAL: return "real";
	case BOOT_MODE_PROT32: return "prot32";
	case BOOT_MODE_PAGED32: return "paged32";
	case BOOT_MODE_LONG64: return "long64";
	}
	return "?";
}

const char *accel_name(enum accel_kind accel)
{
	return accel == ACCEL_KVM ? "kvm" : "emu";
}
