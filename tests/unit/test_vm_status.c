/* How a run's outcome becomes vmon's exit status (README "Exit status"):
 * the first stop request wins, and a guest reset has a status no other
 * outcome gives. */
#include "unit.h"
#include "unit_vm.h"

static int status_of(enum vm_outcome outcome, int code)
{
	static struct vm vm;
	memset(&vm, 0, sizeof(vm));
	CHECK_EQ(unit_vm_init(&vm, 1 << 20), 0);
	vm_request_stop(&vm, outcome, code);
	vm_request_stop(&vm, VM_OUTCOME_CRASH, 0); /* later requests change nothing */
	int st = vm_exit_status(&vm);
	unit_vm_destroy(&vm);
	pthread_mutex_destroy(&vm.stop_lock);
	return st;
}

int main(void)
{
	CHECK_EQ(status_of(VM_OUTCOME_POWEROFF, 0), 0);
	CHECK_EQ(status_of(VM_OUTCOME_RESET, 0), 6);
	CHECK_EQ(status_of(VM_OUTCOME_SETUP, 0), 2);
	CHECK_EQ(status_of(VM_OUTCOME_CRASH, 0), 4);
	CHECK_EQ(status_of(VM_OUTCOME_SIGNAL, 15), 143);
	CHECK_EQ(status_of(VM_OUTCOME_DEBUG_EXIT, 0x10), 33);
	/* No debug-exit value gives the reset status (or poweroff's 0): those
	 * are all odd. */
	for (int v = 0; v < 256; v++) {
		int st = status_of(VM_OUTCOME_DEBUG_EXIT, v);
		CHECK(st % 2 == 1);
		CHECK(st != VM_EXIT_RESET);
	}
	return unit_report("vm_status");
}
