#include "boot/raw.h"

#include <errno.h>
#include <string.h>

#include "boot/image_file.h"
#include "boot/layout.h"
#include "boot/x86_setup.h"
#include "util/log.h"
#include "vm.h"

int raw_load(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct image_file img;
	int r = image_file_read("--raw", cfg->raw, vm->mem.size, &img);
	if (r < 0)
		return r;

	/* Outside real mode vmon's GDT, page tables and stack sit below 64 KiB;
	 * in real mode vmon writes nothing but the guest owns that area too. */
	uint64_t lowest = cfg->mode == BOOT_MODE_REAL ? BOOT_INFO_ADDR : BOOT_RESERVED_END;
	if (cfg->addr < lowest) {
		log_error("--addr 0x%llx: overlaps vmon's boot structures below 0x%llx",
			  (unsigned long long)cfg->addr, (unsigned long long)lowest);
		r = -EINVAL;
	} else if (!guest_mem_ptr(&vm->mem, cfg->addr, img.size)) {
		log_error("--raw %s: %zu bytes at 0x%llx do not fit in guest RAM (%llu MiB)", cfg->raw,
			  img.size, (unsigned long long)cfg->addr,
			  (unsigned long long)(vm->mem.size >> 20));
		r = -EFBIG;
	} else if (cfg->mode == BOOT_MODE_REAL && cfg->addr + img.size > 0x100000) {
		log_error("--raw %s: a real-mode image must lie below 1 MiB", cfg->raw);
		r = -EINVAL;
	}
	if (r == 0) {
		guest_mem_write(&vm->mem, cfg->addr, img.data, img.size);
		const char *why = NULL;
		r = x86_setup_mode(&vm->mem, cfg->mode, cfg->entry, &vm->boot_state, &why);
		if (r < 0)
			log_error("--mode %s: %s", boot_mode_name(cfg->mode), why);
	}
	image_file_free(&img);
	return r;
}
