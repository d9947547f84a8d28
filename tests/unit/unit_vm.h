/* The bare machine the emu unit tests run instructions in: guest RAM and an
 * io bus, no devices, no engine. */
#ifndef VMON_TESTS_UNIT_VM_H
#define VMON_TESTS_UNIT_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
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

/* A vCPU as vmon's loader leaves it in boot mode `mode` with code at
 * `code`, the low 8 MiB zeroed first; LAPIC and x87/SSE in reset state. */
static inline void unit_emu_start(struct vm *vm, struct emu_cpu *cpu, enum boot_mode mode, uint64_t code)
{
	struct x86_state st;
	const char *why = NULL;
	memset(unit_vm_ptr(vm, 0, 8 << 20), 0, 8 << 20);
	if (x86_setup_mode(&vm->mem, mode, code, &st, &why) != 0) {
		fprintf(stderr, "x86_setup_mode: %s\n", why ? why : "failed");
		exit(1);
	}
	memset(cpu, 0, sizeof(*cpu));
	cpu->vm = vm;
	emu_cpu_load(cpu, &st);
	emu_lapic_reset(cpu);
	emu_fpu_reset(&cpu->fpu);
}

static inline void unit_vm_destroy(struct vm *vm)
{
	guest_mem_destroy(&vm->mem);
	io_bus_destroy(&vm->bus);
}

#endif
