/* The software CPU engine (--accel emu): vCPU creation from the boot state,
 * the run loop, idle detection and crash reports.
 *
 * Threading: one thread runs every vCPU, round-robin, EMU_SLICE
 * instructions at a time. This is deliberate: runs are deterministic for a
 * given input, LOCKed instructions and page-table A/D updates are atomic for
 * free, IPIs and TLB state need no locks, and the interpreter stays free of
 * memory-ordering questions. The price is no parallel speed-up, which an
 * interpreter would hardly get anyway; the JIT issue may revisit it. PAUSE
 * ends a vCPU's slice early so that spin-waits let the lock holder run.
 *
 * Tracing: --trace FILE writes one line per instruction (exec.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/engine.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "boot/acpi.h"
#include "emu.h"
#include "machine/pc.h"
#include "ioapic.h"
#include "msi.h"
#include "util/log.h"
#include "vm.h"

#define EMU_SLICE 20000

struct emu_machine {
	struct vm *vm;
	unsigned ncpus;
	struct emu_cpu *cpus;
	pthread_t thread;
	bool started;
	atomic_bool quit;
	atomic_bool msi_window_warned;
	/* The legacy PIC pair; its INTR output reaches vCPU 0 through LINT0
	 * (virtual-wire mode, MP spec §3.6.2.2). Devices drive it from any thread. */
	struct pic8259 *pic;
	atomic_bool pic_intr;
	/* The 8254 PIT, polled by the run loop; channel 0 drives IRQ 0. */
	struct pit8254 *pit;
	FILE *trace;            /* --trace, shared by all vCPUs (one thread) */
	struct irq_line pit_irq;
	struct emu_ioapic *ioapic;
	struct emu_msi_queue msi;
	/* The run loop's idle wait: a device interrupt from another thread
	 * (set_irq, send_msi) or a stop ends it at once, else the next timer
	 * event does. kicked: something happened since the loop last looked. */
	pthread_mutex_t idle_lock;
	pthread_cond_t idle_cond; /* on CLOCK_MONOTONIC */
	bool kicked;
};

/* The longest idle wait: only a safety net, every wake-up source kicks. */
#define EMU_IDLE_MAX_NS 100000000ULL

static void wake(struct emu_machine *m)
{
	pthread_mutex_lock(&m->idle_lock);
	m->kicked = true;
	pthread_cond_signal(&m->idle_cond);
	pthread_mutex_unlock(&m->idle_lock);
}

static void idle_wait(struct emu_machine *m, uint64_t ns)
{
	pthread_mutex_lock(&m->idle_lock);
	if (!m->kicked) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t t = (uint64_t)ts.tv_nsec + ns;
		ts.tv_sec += (time_t)(t / 1000000000);
		ts.tv_nsec = (long)(t % 1000000000);
		pthread_cond_timedwait(&m->idle_cond, &m->idle_lock, &ts);
	}
	m->kicked = false;
	pthread_mutex_unlock(&m->idle_lock);
}

/* What other threads sent: I/O APIC pins and MSIs, into the LAPICs. */
static void service_irqs(struct emu_machine *m)
{
	emu_ioapic_service(m->ioapic);
	emu_msi_queue_service(&m->msi, m->cpus, m->ncpus);
}

/* ISA IRQ n reaches PIC input n and I/O APIC pin n, except IRQ 0 (the PIT)
 * which the MADT overrides to pin 2 (boot/acpi.c), as KVM routes it. */
static void route_irq(struct emu_machine *m, unsigned line, int level)
{
	int pic = pc_line_pic_pin(line), pin = pc_line_ioapic_pin(line);
	if (m->pic && pic >= 0)
		pic8259_set_irq(m->pic, (unsigned)pic, level);
	if (pin >= 0)
		emu_ioapic_set_pin(m->ioapic, (unsigned)pin, level);
}

void emu_machine_eoi(struct emu_machine *m, unsigned vector)
{
	if (m)
		emu_ioapic_eoi(m->ioapic, vector);
}

static void machine_irq(void *opaque, unsigned gsi, int level)
{
	route_irq(opaque, gsi, level);
}

static void pic_intr(void *opaque, int level)
{
	struct emu_machine *m = opaque;
	atomic_store(&m->pic_intr, level != 0);
}

void emu_machine_poll_irqs(struct emu_cpu *cpu)
{
	service_irqs(cpu->mach);
}

int emu_machine_ext_intr(struct emu_cpu *cpu)
{
	struct emu_machine *m = cpu->mach;
	if (cpu->index != 0 || !m->pic || !atomic_load(&m->pic_intr))
		return -1;
	/* LINT0 explicitly masked by an enabled APIC: the PIC is cut off */
	if ((cpu->apic_base & (1u << 11)) && (cpu->lapic.svr & 0x100) && (cpu->lapic.lvt_lint0 & (1u << 16)))
		return -1;
	return pic8259_ack(m->pic);
}

static void emu_set_irq(struct vm *vm, unsigned gsi, int level)
{
	struct emu_machine *m = vm->engine_data;
	if (!m)
		return;
	route_irq(m, gsi, level);
	wake(m);
}

static void emu_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct emu_machine *m = vm->engine_data;
	struct emu_apic_msg msg;
	if (!m)
		return;
	if (!emu_msi_decode(addr, data, &msg)) {
		/* a guest's own programming: said once, not per interrupt */
		if (!atomic_exchange(&m->msi_window_warned, true))
			log_info("emu: MSI to %#llx (data %#x) is outside the interrupt window: ignored",
				 (unsigned long long)addr, data);
		return;
	}
	if (emu_msi_queue_push(&m->msi, &msg) == 0)
		wake(m);
}

/* The write reaches the io bus instead, where the device serves it. */
static int emu_add_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	(void)vm, (void)gpa, (void)len, (void)fd;
	return -ENOTSUP;
}

static void emu_del_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	(void)vm, (void)gpa, (void)len, (void)fd;
}

struct emu_cpu *emu_machine_cpu(struct emu_machine *m, unsigned index)
{
	return &m->cpus[index];
}

unsigned emu_machine_ncpus(const struct emu_machine *m)
{
	return m->ncpus;
}

void emu_report_crash(struct emu_cpu *cpu, const char *reason)
{
	struct x86_state st;
	emu_cpu_save(cpu, &st);
	/* the same shape as the kvm engine's report */
	log_error("guest crashed: vCPU %u: %s at %04x:%016llx", cpu->index, reason, cpu->seg[SEG_CS].selector,
		  (unsigned long long)cpu->rip);
	x86_state_dump(stderr, &st);
	vm_request_stop(cpu->vm, VM_OUTCOME_CRASH, 0);
}

/* Idle means nothing can ever run again: every vCPU waits for a SIPI or is
 * halted with interrupts off and nothing pending that could wake it. */
static bool all_idle_forever(struct emu_machine *m)
{
	for (unsigned i = 0; i < m->ncpus; i++) {
		struct emu_cpu *c = &m->cpus[i];
		if (c->state == EMU_RUNNING)
			return false;
		if (c->state == EMU_HALTED && ((c->rflags & FL_IF) || c->nmi_pending))
			return false;
	}
	return true;
}

static void *run_thread(void *arg)
{
	struct emu_machine *m = arg;
	struct vm *vm = m->vm;
	while (!vm_stopping(vm) && !atomic_load(&m->quit)) {
		bool ran = false;
		uint64_t now = emu_host_ns(), next_event = UINT64_MAX;
		service_irqs(m);
		if (m->pit) {
			uint64_t due = pit8254_poll(m->pit);
			if (due != UINT64_MAX)
				next_event = due > now ? due - now : 0;
		}
		for (unsigned i = 0; i < m->ncpus; i++) {
			struct emu_cpu *c = &m->cpus[i];
			uint64_t t = emu_lapic_poll_timer(c, now);
			if (t < next_event)
				next_event = t;
			if (c->state == EMU_HALTED &&
			    ((c->nmi_pending && !c->nmi_blocked) ||
			     ((c->rflags & FL_IF) && (emu_lapic_pending(c) >= 0 || (i == 0 && atomic_load(&m->pic_intr))))))
				c->state = EMU_RUNNING;
			if (c->state != EMU_RUNNING)
				continue;
			ran = true;
			c->yield = false; /* PAUSE sets it: the slice ends, others run */
			if (emu_run(c, EMU_SLICE) < 0)
				return NULL; /* crash reported, stop requested */
		}
		if (ran)
			continue;
		if (all_idle_forever(m)) {
			log_info("emu: every vCPU is halted with interrupts disabled: the guest stopped");
			vm_request_stop(vm, VM_OUTCOME_POWEROFF, 0);
			break;
		}
		/* halted with interrupts on: wait for the next timer event or a
		 * device interrupt */
		idle_wait(m, next_event < EMU_IDLE_MAX_NS ? next_event : EMU_IDLE_MAX_NS);
	}
	return NULL;
}

static int emu_create(struct vm *vm)
{
	struct emu_machine *m = calloc(1, sizeof(*m));
	if (!m) {
		log_error("--accel emu: out of memory");
		return -ENOMEM;
	}
	m->vm = vm;
	emu_msi_queue_init(&m->msi);
	pthread_mutex_init(&m->idle_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->idle_cond, &ca);
	pthread_condattr_destroy(&ca);
	vm->engine_data = m;
	if (io_bus_find(&vm->bus, IO_SPACE_PIO, 0x20)) {
		log_warn("--accel emu: ports 0x20-0x21 are taken: no legacy PIC for this guest");
	} else {
		int r = pic8259_create(&vm->bus, pic_intr, m, &m->pic);
		if (r < 0) {
			log_error("--accel emu: cannot create the legacy PIC: %s", strerror(-r));
			return r;
		}
	}
	/* Before the I/O APIC: its ID is the vCPU count, as the MADT says. */
	m->ncpus = vm->cfg->cpus ? vm->cfg->cpus : 1;
	if (io_bus_find(&vm->bus, IO_SPACE_MMIO, IOAPIC_BASE)) {
		log_warn("--accel emu: %#llx is taken: no I/O APIC for this guest", IOAPIC_BASE);
	} else {
		int r = emu_ioapic_create(vm, m, (uint8_t)m->ncpus, IOAPIC_BASE, &m->ioapic);
		if (r < 0) {
			log_error("--accel emu: cannot create the I/O APIC: %s", strerror(-r));
			return r;
		}
	}
	m->pit_irq = (struct irq_line){ machine_irq, m, 0 };
	if (io_bus_find(&vm->bus, IO_SPACE_PIO, 0x40)) {
		log_warn("--accel emu: ports 0x40-0x43 are taken: no PIT for this guest");
	} else {
		int r = pit8254_create(&vm->bus, &m->pit_irq, NULL, NULL, &m->pit);
		if (r < 0) {
			log_error("--accel emu: cannot create the PIT: %s", strerror(-r));
			return r;
		}
	}
	m->cpus = calloc(m->ncpus, sizeof(*m->cpus));
	if (!m->cpus) {
		log_error("--accel emu: out of memory for %u vCPUs", m->ncpus);
		return -ENOMEM;
	}
	if (vm->cfg->trace) {
		m->trace = fopen(vm->cfg->trace, "w");
		if (!m->trace) {
			int e = errno;
			log_error("--trace %s: %s", vm->cfg->trace, strerror(e));
			return -e;
		}
	}
	uint64_t tsc_epoch = emu_host_ns(); /* power-on: every TSC reads 0 (msr.c) */
	for (unsigned i = 0; i < m->ncpus; i++) {
		struct emu_cpu *c = &m->cpus[i];
		c->msr.tsc_epoch = tsc_epoch;
		c->index = i;
		c->vm = vm;
		c->mach = m;
		c->trace = m->trace;
		/* optional: NULL only slows down */
		c->icache = calloc(EMU_ICACHE_SIZE, sizeof(*c->icache));
		c->bcache = emu_bcache_new();
		if (i == 0) {
			emu_cpu_load(c, &vm->boot_state);
		} else {
			/* application processors wait for INIT/SIPI (SDM vol. 3 §8.4) */
			emu_cpu_reset_wait_sipi(c);
			emu_msr_reset(c);
			c->apic_base = (vm->boot_state.apic_base & ~0x100ULL) | (1u << 11);
		}
		emu_lapic_reset(c);
	}
	return 0;
}

static int emu_start(struct vm *vm)
{
	struct emu_machine *m = vm->engine_data;
	int r = pthread_create(&m->thread, NULL, run_thread, m);
	if (r) {
		log_error("--accel emu: cannot start the vCPU thread: %s", strerror(r));
		return -r;
	}
	m->started = true;
	return 0;
}

static void emu_stop(struct vm *vm)
{
	struct emu_machine *m = vm->engine_data;
	if (!m || !m->started)
		return;
	atomic_store(&m->quit, true);
	wake(m);
	pthread_join(m->thread, NULL);
	m->started = false;
}

static void emu_destroy(struct vm *vm)
{
	struct emu_machine *m = vm->engine_data;
	if (!m)
		return;
	emu_stop(vm);
	vm->engine_data = NULL;
	pit8254_destroy(m->pit);
	if (m->trace)
		fclose(m->trace);
	emu_ioapic_destroy(m->ioapic);
	pic8259_destroy(m->pic);
	for (unsigned i = 0; m->cpus && i < m->ncpus; i++) {
		free(m->cpus[i].icache);
		emu_bcache_free(m->cpus[i].bcache);
	}
	free(m->cpus);
	emu_msi_queue_destroy(&m->msi);
	pthread_cond_destroy(&m->idle_cond);
	pthread_mutex_destroy(&m->idle_lock);
	free(m);
}

const struct cpu_engine emu_engine = {
	.name = "emu", .create = emu_create, .start = emu_start, .stop = emu_stop, .destroy = emu_destroy,
	.set_irq = emu_set_irq, .send_msi = emu_send_msi, .add_ioeventfd = emu_add_ioeventfd,
	.del_ioeventfd = emu_del_ioeventfd,
};
