#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "dev/acpi_pm.h"
#include "dev/debug_exit.h"
#include "dev/fw_cfg.h"
#include "dev/hpet.h"
#include "dev/i8042.h"
#include "dev/pci/pci_host.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"
#include "util/event_loop.h"
#include "util/log.h"
#include "vm_virtio.h"

/* Devices drive interrupt lines through here; the engine routes them.
 * Device threads (the UART's writer, disk completions, the HPET) may call
 * it up to the end: the gate, closed by vm_stop() before the engine is
 * destroyed, keeps them out of a freed engine. */
static void vm_irq_set(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	pthread_rwlock_rdlock(&vm->irq_gate);
	if (!vm->irq_closed && vm->engine && vm->engine->set_irq && vm->engine_data)
		vm->engine->set_irq(vm, gsi, level);
	pthread_rwlock_unlock(&vm->irq_gate);
}

void vm_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	pthread_rwlock_rdlock(&vm->irq_gate);
	if (!vm->irq_closed && vm->engine->send_msi && vm->engine_data)
		vm->engine->send_msi(vm, addr, data);
	pthread_rwlock_unlock(&vm->irq_gate);
}

int vm_add_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	int r = -ENOTSUP;
	pthread_rwlock_rdlock(&vm->irq_gate);
	if (!vm->irq_closed && vm->engine->add_ioeventfd && vm->engine_data)
		r = vm->engine->add_ioeventfd(vm, gpa, len, fd);
	pthread_rwlock_unlock(&vm->irq_gate);
	return r;
}

void vm_del_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	pthread_rwlock_rdlock(&vm->irq_gate);
	if (!vm->irq_closed && vm->engine->del_ioeventfd && vm->engine_data)
		vm->engine->del_ioeventfd(vm, gpa, len, fd);
	pthread_rwlock_unlock(&vm->irq_gate);
}

/* A guest reboot ends the run with a status of its own, so that whoever
 * started vmon can tell it from a poweroff and start it again (issue 10). */
static void on_reset(void *opaque)
{
	log_info("guest reset");
	vm_request_stop(opaque, VM_OUTCOME_RESET, 0);
}

static void on_acpi_event(void *opaque, enum acpi_pm_event ev)
{
	if (ev == ACPI_PM_RESET) {
		on_reset(opaque);
		return;
	}
	log_info("guest powered off (ACPI S5)");
	vm_request_stop(opaque, VM_OUTCOME_POWEROFF, 0);
}

int vm_add_device(struct vm *vm, const char *name, void *dev, void (*stop)(void *), void (*destroy)(void *))
{
	if (vm->ndevices == VM_MAX_DEVICES) {
		log_error("%s: more than %d devices", name, VM_MAX_DEVICES);
		destroy(dev);
		return -ENOSPC;
	}
	vm->devices[vm->ndevices++] = (struct vm_device){ name, dev, stop, destroy };
	return 0;
}

/* The device list's typed-to-untyped adapters (calling a function through
 * a pointer of another type is undefined). */
static void uart_destroy(void *d) { uart16550_destroy(d); }
static void debug_exit_free(void *d) { debug_exit_destroy(d); }
static void rtc_destroy(void *d) { rtc_cmos_destroy(d); }
static void i8042_free(void *d) { i8042_destroy(d); }
static void acpi_pm_free(void *d) { acpi_pm_destroy(d); }
static void fw_cfg_free(void *d) { fw_cfg_destroy(d); }
static void pci_free(void *d) { pci_host_destroy(d); }
static void hpet_halt(void *d) { hpet_stop(d); }
static void hpet_free(void *d) { hpet_destroy(d); }

/* Legacy devices at their PC addresses (design.md, machine model). */
static int create_legacy(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct irq_line com1_irq = { vm_irq_set, vm, UART_COM1_IRQ };
	struct debug_exit *dx;
	struct rtc_cmos *rtc;
	struct i8042 *kbd;
	struct acpi_pm *pm;
	struct fw_cfg *fc;
	struct hpet *hpet;
	int r = uart16550_create(&vm->bus, UART_COM1_BASE, cfg->console == CONSOLE_SERIAL ? STDOUT_FILENO : -1,
				 &com1_irq, &vm->uart);
	if (r == 0)
		r = vm_add_device(vm, "uart16550", vm->uart, NULL, uart_destroy);
	if (r == 0 && (r = debug_exit_create(&vm->bus, DEBUG_EXIT_PORT, vm, &dx)) == 0)
		r = vm_add_device(vm, "debug-exit", dx, NULL, debug_exit_free);
	if (r == 0 && (r = rtc_cmos_create(&vm->bus, NULL, NULL, &rtc)) == 0)
		r = vm_add_device(vm, "rtc", rtc, NULL, rtc_destroy);
	if (r == 0 && (r = i8042_create(&vm->bus, on_reset, vm, &kbd)) == 0)
		r = vm_add_device(vm, "i8042", kbd, NULL, i8042_free);
	if (r == 0 && (r = acpi_pm_create(&vm->bus, on_acpi_event, vm, NULL, NULL, &pm)) == 0)
		r = vm_add_device(vm, "acpi-pm", pm, NULL, acpi_pm_free);
	if (r == 0 && (r = fw_cfg_create(&vm->bus, &vm->mem, cfg->mem_size, cfg->cpus, &fc)) == 0)
		r = vm_add_device(vm, "fw_cfg", fc, NULL, fw_cfg_free);
	if (r == 0 && (r = pci_host_create(&vm->bus, &vm->pci)) == 0) {
		/* INTx of PCI functions: GSI 16-19 on the I/O APIC (machine/pc.h). */
		pci_host_set_irq(vm->pci, &(struct irq_line){ vm_irq_set, vm, 0 });
		r = vm_add_device(vm, "pci-host", vm->pci, NULL, pci_free);
	}
	if (r == 0) {
		struct irq_line hpet_irq = { vm_irq_set, vm, 0 }; /* the HPET picks the GSI per timer */
		if ((r = hpet_create(&vm->bus, HPET_BASE, &hpet_irq, NULL, NULL, &hpet)) == 0)
			r = vm_add_device(vm, "hpet", hpet, hpet_halt, hpet_free);
	}
	if (r < 0)
		log_error("devices: %s", strerror(-r));
	return r;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->main_thread = pthread_self();
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_rwlock_init(&vm->irq_gate, NULL);
	io_bus_init(&vm->bus);
	vm->engine = cfg->accel == ACCEL_KVM ? &kvm_engine : &emu_engine;

	int r = guest_mem_init(&vm->mem, cfg->mem_size);
	if (r < 0) {
		log_error("guest RAM: cannot map %llu MiB: %s",
			  (unsigned long long)(cfg->mem_size >> 20), strerror(-r));
		return r;
	}

	r = event_loop_create(&vm->io);
	if (r < 0) {
		log_error("I/O thread: %s", strerror(-r));
		return r;
	}
	r = create_legacy(vm);
	if (r == 0)
		r = vm_create_virtio(vm);
	if (r < 0)
		return r;
	return boot_load(vm);
}

int vm_start_io(struct vm *vm)
{
	int r = event_loop_start(vm->io);
	if (r < 0)
		log_error("I/O thread: cannot start it: %s", strerror(-r));
	return r;
}

void vm_stop(struct vm *vm)
{
	/* A vCPU waiting for room in COM1's output buffer lets go, so that the
	 * engine can join it; the I/O thread still runs while the vCPUs stop
	 * (a vCPU inside a device reset waits for completions served there). */
	uart16550_release(vm->uart);
	vm->engine->stop(vm);
	vm_stop_devices(vm);
	/* From here no thread reaches the engine: it may be destroyed. */
	pthread_rwlock_wrlock(&vm->irq_gate);
	vm->irq_closed = true;
	pthread_rwlock_unlock(&vm->irq_gate);
}

void vm_stop_devices(struct vm *vm)
{
	for (unsigned i = vm->ndevices; i-- > 0;)
		if (vm->devices[i].stop)
			vm->devices[i].stop(vm->devices[i].dev);
	event_loop_stop(vm->io);
	uart16550_release(vm->uart); /* a vCPU waiting on a stalled stdout lets go */
}

void vm_destroy(struct vm *vm)
{
	vm_stop_devices(vm);
	for (unsigned i = vm->ndevices; i-- > 0;)
		vm->devices[i].destroy(vm->devices[i].dev);
	vm->ndevices = 0;
	event_loop_destroy(vm->io);
	vm->io = NULL;
	io_bus_destroy(&vm->bus);
	guest_mem_destroy(&vm->mem);
	pthread_rwlock_destroy(&vm->irq_gate);
	pthread_mutex_destroy(&vm->stop_lock);
}

void vm_request_stop(struct vm *vm, enum vm_outcome outcome, int code)
{
	pthread_mutex_lock(&vm->stop_lock);
	bool first = vm->outcome == VM_OUTCOME_RUNNING;
	if (first) {
		vm->outcome = outcome;
		vm->outcome_code = code;
		atomic_store_explicit(&vm->stopping, true, memory_order_release);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (first)
		pthread_kill(vm->main_thread, VM_STOP_SIGNAL);
}

int vm_exit_status(const struct vm *vm)
{
	switch (vm->outcome) {
	case VM_OUTCOME_POWEROFF: return 0;
	/* The kernel keeps only the low 8 bits of an exit status. */
	case VM_OUTCOME_DEBUG_EXIT: return ((vm->outcome_code << 1) | 1) & 0xff;
	case VM_OUTCOME_CRASH: return 4;
	case VM_OUTCOME_SETUP: return 2;
	case VM_OUTCOME_SIGNAL: return 128 + vm->outcome_code;
	case VM_OUTCOME_RESET: return VM_EXIT_RESET;
	case VM_OUTCOME_RUNNING: break;
	}
	return 4;
}
