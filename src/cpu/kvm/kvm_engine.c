/* Placeholder until the interpreter lands. */
#include <errno.h>

#include "cpu/engine.h"
#include "util/log.h"
#include "vm.h"

static int kvm_create(struct vm *vm)
{
	(void)vm;
	log_error("--accel kvm: not built yet");
	return -ENOSYS;
}
static int kvm_start(struct vm *vm) { (void)vm; return -ENOSYS; }
static void kvm_stop(struct vm *vm) { (void)vm; }
static void kvm_destroy(struct vm *vm) { (void)vm; }

const struct cpu_engine kvm_engine = {
	.name = "kvm", .create = kvm_create, .start = kvm_start, .stop = kvm_stop, .destroy = kvm_destroy,
};
