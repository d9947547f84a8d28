/* The CPU engine interface. An engine only executes: it loads the boot state
 * into its vCPUs, runs them, and turns every port or MMIO access it cannot
 * complete itself into io_bus_access(). It reports how the run ended with
 * vm_request_stop(). Devices never know which engine runs. */
#ifndef VMON_CPU_ENGINE_H
#define VMON_CPU_ENGINE_H

struct vm;

struct cpu_engine {
	const char *name;
	/* Builds the vCPUs and loads vm->boot_state into the first one. An error
	 * has been logged with its cause; the run ends with status 2. */
	int (*create)(struct vm *vm);
	/* Starts every vCPU (one thread each for kvm). */
	int (*start)(struct vm *vm);
	/* Makes every vCPU leave its loop and waits for it. Idempotent. */
	void (*stop)(struct vm *vm);
	void (*destroy)(struct vm *vm);
	/* Drives interrupt line gsi (ISA IRQ n = GSI n) to level. Called by
	 * devices from any thread through vm_irq_set(); optional until the
	 * engine has interrupt controllers. */
	void (*set_irq)(struct vm *vm, unsigned gsi, int level);
};

extern const struct cpu_engine kvm_engine;
extern const struct cpu_engine emu_engine;

#endif
