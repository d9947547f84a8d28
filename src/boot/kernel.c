#include "boot/kernel.h"

#include <errno.h>

#include "util/log.h"
#include "vm.h"

int kernel_load(struct vm *vm)
{
	log_error("--kernel %s: not implemented yet", vm->cfg->kernel);
	return -ENOSYS;
}
