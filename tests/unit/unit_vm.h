/* The bare machine the emu unit tests run instructions in: guest RAM and an
 * io bus, no devices, no engine. */
#ifndef VMON_TESTS_UNIT_VM_H
#define VMON_TESTS_UNIT_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "vm.h"

static inline int unit_vm_init(struct vm *vm, uint64_t ram)
{
	/* a crash report would signal the main thread: keep that signal blocked */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VM_STOP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm->main_thread = pthread_self();
	pthread_mutex_init(&vm->stop_lock, NULL);
	io_bus_init(&vm->bus);
	return guest_mem_init(&vm->mem, ram);
}

/* The host address of len bytes of guest RAM at gpa; a test that asks for
 * anything else is broken, so it ends there. */
static inline void *unit_vm_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&vm->mem, gpa, len);
	if (!p) {
		fprintf(stderr, "gpa %#llx not RAM\n", (unsigned long long)gpa);
		exit(1);
	}
	return p;
}

static inline void unit_vm_destroy(struct vm *vm)
{
	guest_mem_destroy(&vm->mem);
	io_bus_destroy(&vm->bus);
}

#endif
