#include "boot/boot.h"

#include "boot/raw.h"
#include "boot/kernel.h"
#include "vm.h"

int boot_load(struct vm *vm)
{
	int r = vm->cfg->raw ? raw_load(vm) : kernel_load(vm);
	if (r == 0)
		vm->boot_needs_paging_outside_long_mode =
			(vm->boot_state.cr0 & X86_CR0_PG) && !(vm->boot_state.efer & X86_EFER_LMA);
	return r;
}
