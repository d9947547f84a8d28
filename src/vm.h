/* The machine: guest memory, the io bus, the devices and a CPU engine, and
 * how the run ended. */
#ifndef VMON_VM_H
#define VMON_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bus/io_bus.h"
#include "cpu/engine.h"
#include "cpu/x86_state.h"
#include "mem/guest_mem.h"
#include "vm_config.h"

struct uart16550;
struct pci_host;
struct virtio_console;
struct event_loop;

/* One entry of the machine's device list: what vm.c does with a device
 * over the machine's life, whatever the device (design.md: vm.c owns the
 * device list). stop (optional) ends the device's own threads and host
 * I/O before the engine goes away; destroy frees it. Later: reset,
 * save, load. */
struct vm_device {
	const char *name;
	void *dev;
	void (*stop)(void *dev);
	void (*destroy)(void *dev);
};

#define VM_MAX_DEVICES 32

enum vm_outcome {
	VM_OUTCOME_RUNNING = 0,
	VM_OUTCOME_POWEROFF,   /* the guest stopped cleanly: status 0 */
	VM_OUTCOME_DEBUG_EXIT, /* port 0xf4: status (code << 1) | 1 */
	VM_OUTCOME_CRASH,      /* triple fault, internal error: status 4 */
	VM_OUTCOME_SETUP,      /* the host cannot run this guest: status 2 */
	VM_OUTCOME_SIGNAL,     /* SIGINT/SIGTERM: status 128 + code */
	VM_OUTCOME_RESET,      /* the guest reset the machine (reboot): status 6 */
};

struct vm {
	const struct vm_config *cfg;
	struct guest_mem mem;
	struct io_bus bus;
	struct x86_state boot_state; /* the bootstrap processor's first state */
	bool boot_needs_paging_outside_long_mode;
	bool boot_linux;     /* --kernel is a Linux bzImage */
	uint64_t acpi_rsdp;  /* guest-physical address of the ACPI RSDP, 0 if none */

	/* Every device, in creation order (destroyed in reverse). */
	struct vm_device devices[VM_MAX_DEVICES];
	unsigned ndevices;
	struct uart16550 *uart;  /* COM1, for the console */
	struct pci_host *pci;    /* bus 0, for the PCI functions */
	struct virtio_console *vcon; /* --console virtio: the console's sink */
	unsigned next_pci_slot;

	const struct cpu_engine *engine;
	void *engine_data;

	/* The I/O thread (util/event_loop.h): created by vm_create before the
	 * devices, so they may add their fds; runs from vm_start_io() until
	 * vm_stop_devices(). */
	struct event_loop *io;

	/* Interrupts and ioeventfds pass this gate to reach the engine;
	 * vm_stop() closes it (irq_closed) once no vCPU runs. */
	pthread_rwlock_t irq_gate;
	bool irq_closed;

	/* The first stop request wins; the main thread is told with SIGUSR2. */
	pthread_t main_thread;
	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	enum vm_outcome outcome;
	int outcome_code;
};

#define VM_STOP_SIGNAL SIGUSR2

/* Builds memory, bus and devices, loads the image. Errors are logged; any
 * failure means status 2. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);

/* Adds a created device to the list (vm.c and vm_virtio.c); on a full
 * list it is destroyed and -ENOSPC returned. */
int vm_add_device(struct vm *vm, const char *name, void *dev, void (*stop)(void *), void (*destroy)(void *));

/* Starts the I/O thread; main calls it once the engine runs. 0 or -errno
 * (logged). */
int vm_start_io(struct vm *vm);

/* Ends the run's threads in an order that cannot hang: lets vCPUs
 * waiting on COM1 go, stops the engine's vCPUs (the I/O thread still
 * serves them), then the devices' threads and the I/O thread, and closes
 * the interrupt gate. Afterwards the engine may be destroyed. */
void vm_stop(struct vm *vm);

/* What devices send through the machine: an MSI, an ioeventfd to
 * register (engine.h semantics; -ENOTSUP once the gate is closed). Any
 * thread. */
void vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data);
int vm_add_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd);
void vm_del_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd);

/* Stops the device threads that raise interrupts (the HPET's timer), the
 * devices' host I/O and the I/O thread, so that the engine can be
 * destroyed under them. Idempotent. */
void vm_stop_devices(struct vm *vm);

/* Records how the run ends (first caller wins) and wakes the main thread.
 * Safe from any thread. */
void vm_request_stop(struct vm *vm, enum vm_outcome outcome, int code);

static inline bool vm_stopping(struct vm *vm)
{
	return atomic_load_explicit(&vm->stopping, memory_order_acquire);
}

/* The status of a guest reset: even, so no debug-exit value (odd) can
 * give it, and apart from 0 (poweroff), 2 (setup) and 4 (crash). */
#define VM_EXIT_RESET 6

/* The process exit status for the recorded outcome (design.md contract). */
int vm_exit_status(const struct vm *vm);

#endif
