/* The CPU engine interface. An engine only executes: it loads the boot state
 * into its vCPUs, runs them, and turns every port or MMIO access it cannot
 * complete itself into io_bus_access(). It reports how the run ended with
 * vm_request_stop(). Devices never know which engine runs. */
#ifndef VMON_CPU_ENGINE_H
#define VMON_CPU_ENGINE_H

#include <stdint.h>

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
	/* Drives interrupt line gsi (ISA IRQ n = GSI n) to level (1: asserted,
	 * whatever the pin's polarity). Called by devices from any thread
	 * through vm_irq_set(); optional until the engine has interrupt
	 * controllers. */
	void (*set_irq)(struct vm *vm, unsigned gsi, int level);
	/* Delivers one message-signalled interrupt, the address/data pair a PCI
	 * function writes (PCI 3.0 §6.8; SDM vol. 3 §10.11: address 0xfeeXXXXX,
	 * destination in bits 19:12; data: vector, delivery mode, trigger).
	 * Any thread, after create(). */
	void (*send_msi)(struct vm *vm, uint64_t addr, uint32_t data);
	/* Asks the engine to signal eventfd fd itself when the guest writes len
	 * bytes (any value) at guest-physical MMIO address gpa, with no exit
	 * served by vmon (KVM_IOEVENTFD). Returns 0, or -ENOTSUP where the
	 * engine cannot (the write then reaches the io bus as usual), or
	 * -errno. Any thread, after create(). */
	int (*add_ioeventfd)(struct vm *vm, uint64_t gpa, unsigned len, int fd);
	/* Undoes add_ioeventfd (same arguments); a no-op if it was not added. */
	void (*del_ioeventfd)(struct vm *vm, uint64_t gpa, unsigned len, int fd);
};

extern const struct cpu_engine kvm_engine;
extern const struct cpu_engine emu_engine;

#endif
