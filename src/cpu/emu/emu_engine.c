/* Placeholder until the interpreter lands. */
#include <errno.h>

#include "cpu/engine.h"
#include "util/log.h"
#include "vm.h"

static int emu_create(struct vm *vm)
{
	(void)vm;
	log_error("--accel emu: the software CPU is not built yet");
	return -ENOSYS;
}
static int emu_start(struct vm *vm) { (void)vm; return -ENOSYS; }
static void emu_stop(struct vm *vm) { (void)vm; }
static void emu_destroy(struct vm *vm) { (void)vm; }

const struct cpu_engine emu_engine = {
	.name = "emu", .create = emu_create, .start = emu_start, .stop = emu_stop, .destroy = emu_destroy,
};
