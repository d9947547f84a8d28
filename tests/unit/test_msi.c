/* Interrupt messages: on the software CPU, MSI address/data decode (SDM
 * vol. 3 §10.11.1-2), delivery into LAPIC state shared with the I/O APIC,
 * the MSI queue (identical messages merge, order kept, full refused),
 * send_msi through the engine, an active-low level-triggered I/O APIC pin
 * (set_irq level 1 = asserted, engine.h). On both engines, a guest halted
 * with interrupts on: a pin edge and an MSI from this thread reach its
 * handler (with the wake-up time printed), and its MMIO store signals an
 * ioeventfd (KVM) or reaches the io bus (emu). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cpu/emu/emu.h"
#include "cpu/emu/msi.h"
#include "boot/acpi.h"
#include "boot/layout.h"
#include "unit.h"
#include "unit_vm.h"

#define EN (1ULL << 11)
#define APIC_BASE 0xfee00000ULL

static bool irr(const struct emu_cpu *c, unsigned v)
{
	return (c->lapic.irr[v / 32] >> (v % 32)) & 1;
}

static bool tmr(const struct emu_cpu *c, unsigned v)
{
	return (c->lapic.tmr[v / 32] >> (v % 32)) & 1;
}

static void test_decode(void)
{
	struct emu_apic_msg m;
	/* dest 0x12 physical, vector 0x41 fixed edge */
	CHECK(emu_msi_decode(0xfee12000, 0x0041, &m));
	CHECK_EQ(m.dest, 0x12);
	CHECK_EQ(m.vector, 0x41);
	CHECK_EQ(m.mode, 0);
	CHECK(!m.logical && !m.level);
	/* RH 0, DM 1: logical all the same (Linux's flat mode: 0xfee01004) */
	CHECK(emu_msi_decode(0xfee01004, 0x0026, &m));
	CHECK_EQ(m.dest, 0x01);
	CHECK(m.logical);
	/* RH 1, DM 1: logical; lowest priority (mode 1) */
	CHECK(emu_msi_decode(0xfee0300c, 0x0155, &m));
	CHECK_EQ(m.dest, 0x03);
	CHECK(m.logical);
	CHECK_EQ(m.mode, 1);
	/* RH 1, DM 0: physical */
	CHECK(emu_msi_decode(0xfee05008, 0x0060, &m));
	CHECK(!m.logical);
	/* NMI (mode 4), level-triggered assert: trigger bit 15, level bit 14 */
	CHECK(emu_msi_decode(0xfee00000, 0xc400 | 0x02, &m));
	CHECK_EQ(m.mode, 4);
	CHECK(m.level);
	/* a level de-assert carries no interrupt */
	CHECK(!emu_msi_decode(0xfee00000, 0x8030, &m));
	/* outside 0xfeexxxxx: no interrupt (a plain memory write) */
	CHECK(!emu_msi_decode(0xfed00000, 0x30, &m));
	CHECK(!emu_msi_decode(0x1fee00000ULL, 0x30, &m));
}

static struct vm vm0;

static void cpus_reset(struct emu_cpu *c, unsigned n)
{
	memset(c, 0, n * sizeof(*c));
	for (unsigned i = 0; i < n; i++) {
		c[i].vm = &vm0;
		c[i].index = i;
		c[i].apic_base = APIC_BASE | EN;
		c[i].state = EMU_RUNNING;
		emu_lapic_reset(&c[i]);
		c[i].lapic.svr = 0x1ff;
	}
}

static void test_deliver(void)
{
	struct emu_cpu c[3];
	cpus_reset(c, 3);
	struct emu_apic_msg m;

	/* physical: only APIC 1; edge: TMR clear */
	CHECK(emu_msi_decode(0xfee01000, 0x41, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(!irr(&c[0], 0x41) && irr(&c[1], 0x41) && !irr(&c[2], 0x41));
	CHECK(!tmr(&c[1], 0x41));
	CHECK_EQ(emu_lapic_pending(&c[1]), 0x41);

	/* physical 0xff: broadcast */
	CHECK(emu_msi_decode(0xfeeff000, 0x42, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(irr(&c[0], 0x42) && irr(&c[1], 0x42) && irr(&c[2], 0x42));

	/* logical, flat model: LDR bits 1 and 2 set on APICs 0 and 2 */
	c[0].lapic.ldr = 0x01u << 24;
	c[1].lapic.ldr = 0x02u << 24;
	c[2].lapic.ldr = 0x04u << 24;
	CHECK(emu_msi_decode(0xfee0500c, 0x43, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(irr(&c[0], 0x43) && !irr(&c[1], 0x43) && irr(&c[2], 0x43));
	/* the same destination with DM 0: physical ID 5, nobody */
	CHECK(emu_msi_decode(0xfee05000, 0x44, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(!irr(&c[0], 0x44) && !irr(&c[1], 0x44) && !irr(&c[2], 0x44));

	/* lowest priority, logical: one of the matches takes it */
	CHECK(emu_msi_decode(0xfee0600c, 0x145, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK_EQ(irr(&c[0], 0x45) + irr(&c[1], 0x45) + irr(&c[2], 0x45), 1);
	CHECK(!irr(&c[0], 0x45));

	/* level-triggered: TMR set, so the EOI goes to the I/O APIC */
	CHECK(emu_msi_decode(0xfee02000, 0xc046, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(irr(&c[2], 0x46) && tmr(&c[2], 0x46));

	/* NMI */
	CHECK(emu_msi_decode(0xfee00000, 0x400, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(c[0].nmi_pending && !c[1].nmi_pending);

	/* a vCPU waiting for SIPI takes nothing; an illegal vector sets ESR */
	c[1].state = EMU_WAIT_SIPI;
	CHECK(emu_msi_decode(0xfee01000, 0x47, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(!irr(&c[1], 0x47));
	CHECK(emu_msi_decode(0xfee00000, 0x05, &m));
	emu_lapic_deliver(c, 3, &m);
	CHECK(c[0].lapic.esr & (1u << 6));
}

static void test_queue(void)
{
	struct emu_cpu c[2];
	cpus_reset(c, 2);
	struct emu_msi_queue q;
	emu_msi_queue_init(&q);
	struct emu_apic_msg m;
	emu_msi_queue_service(&q, c, 2); /* empty: nothing */
	CHECK(emu_msi_decode(0xfee01000, 0x50, &m));
	CHECK_EQ(emu_msi_queue_push(&q, &m), 0);
	CHECK_EQ(emu_msi_queue_push(&q, &m), 0); /* merges */
	CHECK_EQ(q.n, 1);
	CHECK(!irr(&c[1], 0x50)); /* nothing until the vCPU thread serves it */
	emu_msi_queue_service(&q, c, 2);
	CHECK(irr(&c[1], 0x50));
	CHECK_EQ(q.n, 0);
	/* full: EMU_MSI_QUEUE distinct messages wait, the next is refused
	 * (and logged), an identical one still merges */
	for (unsigned i = 0; i < EMU_MSI_QUEUE; i++) {
		CHECK(emu_msi_decode(0xfee00000 | (i % 2) << 12, 0x60 + i, &m));
		CHECK_EQ(emu_msi_queue_push(&q, &m), 0);
	}
	CHECK(emu_msi_decode(0xfee00000, 0x60, &m));
	CHECK_EQ(emu_msi_queue_push(&q, &m), 0);
	CHECK(emu_msi_decode(0xfee00000, 0xf0, &m));
	CHECK_EQ(emu_msi_queue_push(&q, &m), -ENOSPC);
	emu_msi_queue_service(&q, c, 2);
	unsigned got = 0;
	for (unsigned i = 0; i < EMU_MSI_QUEUE; i++)
		got += irr(&c[i % 2], 0x60 + i);
	CHECK_EQ(got, EMU_MSI_QUEUE);
	emu_msi_queue_destroy(&q);
}

/* --- through the engines --- */

static struct vm vm;
static struct vm_config cfg;
static atomic_int handler_calls, ready, bus_writes;
static _Atomic uint64_t handler_ns;

/* port 0x510: the handler ran; 0x511: the guest is set up */
static void port_hook(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	(void)opaque, (void)size;
	if (!is_write) {
		*value = 0;
	} else if (off == 1) {
		atomic_store(&ready, 1);
	} else {
		atomic_store(&handler_ns, emu_host_ns());
		atomic_fetch_add(&handler_calls, 1);
	}
}

/* the handler's MMIO write where no ioeventfd catches it */
static void mmio_hook(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	(void)opaque, (void)off, (void)size;
	if (is_write)
		atomic_fetch_add(&bus_writes, 1);
	else
		*value = 0;
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	uint64_t sel = reg, val = v;
	io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE, 4, true, &sel);
	io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, true, &val);
}

static uint32_t ioapic_read(unsigned reg)
{
	uint64_t sel = reg, val = 0;
	io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE, 4, true, &sel);
	io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, false, &val);
	return (uint32_t)val;
}

/* The guest (long mode, both engines): masks the PIC, enables its LAPIC
 * (SVR), routes I/O APIC pin 5 edge to vector 0x30 and pin 16 (PCI INTA)
 * level-triggered, active low, to 0x32, as Linux does; says ready on port 0x511, then sti; hlt
 * in a loop. Vectors 0x30-0x3f: a handler that writes port 0x510, stores to
 * MMIO 0xc0000000 (the ioeventfd address), EOIs and returns. */
#define CODE 0x100000ULL
#define HANDLER 0x100100ULL
#define IDT 0x200000ULL
#define NOTIFY_GPA 0xc0000000ULL

static void load_guest(struct x86_state *st)
{
	memset(unit_vm_ptr(&vm, 0, 8 << 20), 0, 8 << 20);
	const char *why = NULL;
	CHECK_EQ(x86_setup_mode(&vm.mem, BOOT_MODE_LONG64, CODE, st, &why), 0);
	static const uint8_t code[] = {
		0xb0, 0xff, 0xe6, 0x21, 0xe6, 0xa1,       /* mask the 8259s (KVM's LINT0 is ExtINT) */
		0xbb, 0x00, 0x00, 0xe0, 0xfe,             /* mov ebx, 0xfee00000 */
		0xc7, 0x83, 0xf0, 0, 0, 0, 0xff, 1, 0, 0, /* mov dword [rbx+0xf0], 0x1ff: SVR */
		0xbb, 0x00, 0x00, 0xc0, 0xfe,             /* mov ebx, 0xfec00000 */
		0xc7, 0x03, 0x1b, 0, 0, 0,                /* mov dword [rbx], 0x1b: RTE 5 high */
		0xc7, 0x43, 0x10, 0, 0, 0, 0,             /* mov dword [rbx+0x10], 0 */
		0xc7, 0x03, 0x1a, 0, 0, 0,                /* mov dword [rbx], 0x1a: RTE 5 low */
		0xc7, 0x43, 0x10, 0x30, 0, 0, 0,          /* mov dword [rbx+0x10], 0x30 */
		0xc7, 0x03, 0x31, 0, 0, 0,                /* mov dword [rbx], 0x31: RTE 16 high */
		0xc7, 0x43, 0x10, 0, 0, 0, 0,             /* mov dword [rbx+0x10], 0 */
		0xc7, 0x03, 0x30, 0, 0, 0,                /* mov dword [rbx], 0x30: RTE 16 low */
		0xc7, 0x43, 0x10, 0x32, 0xa0, 0, 0,       /* mov dword [rbx+0x10], 0xa032: level, active low */
		0x66, 0xba, 0x11, 0x05,                   /* mov dx, 0x511 */
		0xee,                                     /* out dx, al */
		0xfb,                                     /* sti */
		0xf4,                                     /* hlt */
		0xeb, 0xfd,                               /* jmp to the hlt */
	};
	static const uint8_t handler[] = {
		0x66, 0xba, 0x10, 0x05,             /* mov dx, 0x510 */
		0xee,                               /* out dx, al */
		0xb9, 0x00, 0x00, 0x00, 0xc0,       /* mov ecx, 0xc0000000 */
		0x89, 0x01,                         /* mov [rcx], eax */
		0xb8, 0xb0, 0x00, 0xe0, 0xfe,       /* mov eax, 0xfee000b0 */
		0xc7, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov dword [rax], 0: EOI */
		0x48, 0xcf,                         /* iretq */
	};
	memcpy(unit_vm_ptr(&vm, CODE, sizeof(code)), code, sizeof(code));
	memcpy(unit_vm_ptr(&vm, HANDLER, sizeof(handler)), handler, sizeof(handler));
	uint8_t *idt = unit_vm_ptr(&vm, IDT, 256 * 16);
	for (unsigned v = 0x30; v < 0x40; v++) {
		uint8_t *g = idt + v * 16;
		g[0] = HANDLER & 0xff;
		g[1] = (HANDLER >> 8) & 0xff;
		g[2] = BOOT_SEL_CODE64;
		g[5] = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
		g[6] = (HANDLER >> 16) & 0xff;
		g[7] = (HANDLER >> 24) & 0xff;
	}
	st->idt.base = IDT;
	st->idt.limit = 256 * 16 - 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

/* One interrupt into the halted guest; ns until its handler ran (or
 * UINT64_MAX after 2 s). */
static uint64_t one_wakeup(bool msi)
{
	int before = atomic_load(&handler_calls);
	sleep_us(3000); /* the vCPU halts and the loop goes idle */
	uint64_t t0 = emu_host_ns();
	if (msi) {
		vm.engine->send_msi(&vm, 0xfee00000, 0x31);
	} else {
		vm.engine->set_irq(&vm, 5, 1); /* edge pin 5, vector 0x30 */
		vm.engine->set_irq(&vm, 5, 0);
	}
	while (atomic_load(&handler_calls) == before) {
		if (emu_host_ns() - t0 > 2000000000ULL)
			return UINT64_MAX;
		sched_yield();
	}
	return atomic_load(&handler_ns) - t0;
}

/* emu only: MSI and an active-low level pin, checked in LAPIC state. */
static void test_emu_state(void)
{
	struct emu_machine *m = vm.engine_data;
	struct emu_cpu *c = emu_machine_cpu(m, 0);
	c->lapic.svr = 0x1ff; /* software-enabled */

	/* send_msi queues; the vCPU thread's poll delivers */
	vm.engine->send_msi(&vm, 0xfee00000, 0x35);
	CHECK(!irr(c, 0x35));
	emu_machine_poll_irqs(c);
	CHECK(irr(c, 0x35) && !tmr(c, 0x35));
	c->lapic.irr[0x35 / 32] = 0;
	vm.engine->send_msi(&vm, 0xfed00000, 0x36); /* not an interrupt address */
	emu_machine_poll_irqs(c);
	CHECK(!irr(c, 0x36));

	/* Pin 16 (PCI INTA of slot 0) as Linux programs it: level, active low,
	 * vector 0x38, physical destination 0. */
	ioapic_write(0x10 + 2 * 16 + 1, 0);
	ioapic_write(0x10 + 2 * 16, 0x38 | 1u << 15 | 1u << 13);
	CHECK_EQ(ioapic_read(0x10 + 2 * 16), 0x38 | 1u << 15 | 1u << 13); /* polarity reads back */
	vm.engine->set_irq(&vm, 16, 0);
	emu_machine_poll_irqs(c);
	CHECK(!irr(c, 0x38)); /* deasserted: quiet, whatever the polarity */
	vm.engine->set_irq(&vm, 16, 1);
	emu_machine_poll_irqs(c);
	CHECK(irr(c, 0x38) && tmr(c, 0x38)); /* asserted: fires, level */
	CHECK(ioapic_read(0x10 + 2 * 16) & (1u << 14)); /* remote IRR */
	emu_lapic_accept(c, 0x38);
	emu_lapic_write(c, 0xb0, 0); /* EOI while still asserted: fires again */
	emu_machine_poll_irqs(c);
	CHECK(irr(c, 0x38));
	emu_lapic_accept(c, 0x38);
	vm.engine->set_irq(&vm, 16, 0); /* the device is served: line drops */
	emu_lapic_write(c, 0xb0, 0);
	emu_machine_poll_irqs(c);
	CHECK(!irr(c, 0x38));
	CHECK(!(ioapic_read(0x10 + 2 * 16) & (1u << 14)));
	/* active high behaves the same for the same calls */
	ioapic_write(0x10 + 2 * 16, 0x38 | 1u << 15);
	emu_machine_poll_irqs(c);
	CHECK(!irr(c, 0x38));
	vm.engine->set_irq(&vm, 16, 1);
	emu_machine_poll_irqs(c);
	CHECK(irr(c, 0x38));
	vm.engine->set_irq(&vm, 16, 0);
	ioapic_write(0x10 + 2 * 16, 1u << 16); /* masked */
	emu_lapic_reset(c);
}

/* Both engines: an active-low level pin follows set_irq's logical level;
 * the guest halts with IF set; an I/O APIC pin edge from
 * this thread, then an MSI, must bring its handler in well before emu's
 * 100 ms idle limit. The handler's store to NOTIFY_GPA signals the
 * ioeventfd under KVM (no exit: the bus never sees it) and reaches the bus
 * under emu (-ENOTSUP). */
static void test_engine(const struct cpu_engine *e)
{
	CHECK_EQ(unit_vm_init(&vm, 64 << 20), 0);
	cfg.accel = e == &kvm_engine ? ACCEL_KVM : ACCEL_EMU;
	cfg.cpus = 1;
	cfg.mem_size = 64 << 20;
	vm.cfg = &cfg;
	vm.engine = e;
	atomic_store(&vm.stopping, false);
	vm.outcome = VM_OUTCOME_RUNNING;
	atomic_store(&handler_calls, 0);
	atomic_store(&ready, 0);
	atomic_store(&bus_writes, 0);
	load_guest(&vm.boot_state);
	CHECK_EQ(io_bus_register(&vm.bus, IO_SPACE_PIO, 0x510, 2, port_hook, NULL, "test"), 0);
	CHECK_EQ(io_bus_register(&vm.bus, IO_SPACE_MMIO, NOTIFY_GPA, 4, mmio_hook, NULL, "test"), 0);
	if (e->create(&vm) < 0) {
		printf("%s engine: cannot create it here: skipped\n", e->name);
		e->destroy(&vm);
		unit_vm_destroy(&vm);
		return;
	}
	if (e == &emu_engine)
		test_emu_state();
	int efd = eventfd(0, EFD_NONBLOCK);
	int r = e->add_ioeventfd(&vm, NOTIFY_GPA, 4, efd);
	CHECK_EQ(r, e == &kvm_engine ? 0 : -ENOTSUP);

	CHECK_EQ(e->start(&vm), 0);
	for (int i = 0; i < 2000 && !atomic_load(&ready); i++)
		sleep_us(1000);
	CHECK(atomic_load(&ready));

	/* The active-low level pin 16: quiet while the line is deasserted
	 * (level 0); asserted, it fires again after each EOI; deasserted, it
	 * stops. */
	sleep_us(20000);
	CHECK_EQ(atomic_load(&handler_calls), 0);
	e->set_irq(&vm, 16, 1);
	for (int i = 0; i < 2000 && atomic_load(&handler_calls) < 3; i++)
		sleep_us(1000);
	CHECK(atomic_load(&handler_calls) >= 3);
	e->set_irq(&vm, 16, 0);
	sleep_us(100000); /* a message sent before the drop may still be taken */
	int level_calls = atomic_load(&handler_calls);
	sleep_us(20000);
	CHECK_EQ(atomic_load(&handler_calls), level_calls);

	enum { N = 40 };
	uint64_t lat[2][N];
	for (int kind = 0; kind < 2; kind++)
		for (int i = 0; i < N; i++)
			lat[kind][i] = one_wakeup(kind == 1);
	vm_request_stop(&vm, VM_OUTCOME_POWEROFF, 0);
	e->stop(&vm);
	CHECK_EQ(atomic_load(&handler_calls), level_calls + 2 * N);
	uint64_t count = 0;
	if (r == 0) {
		CHECK_EQ(read(efd, &count, sizeof(count)), sizeof(count));
		CHECK_EQ(count, (uint64_t)level_calls + 2 * N);
		CHECK_EQ(atomic_load(&bus_writes), 0);
		e->del_ioeventfd(&vm, NOTIFY_GPA, 4, efd);
		e->del_ioeventfd(&vm, NOTIFY_GPA, 4, efd); /* not added any more: a no-op */
	} else {
		CHECK_EQ(atomic_load(&bus_writes), level_calls + 2 * N);
	}
	close(efd);
	for (int kind = 0; kind < 2; kind++) {
		qsort(lat[kind], N, sizeof(lat[kind][0]), cmp_u64);
		printf("%s wake-up by %s: median %llu us, max %llu us (%d samples)\n", e->name,
		       kind ? "MSI" : "I/O APIC pin", (unsigned long long)lat[kind][N / 2] / 1000,
		       (unsigned long long)lat[kind][N - 1] / 1000, N);
		CHECK(lat[kind][N / 2] < 20000000ULL);
	}
	e->destroy(&vm);
	unit_vm_destroy(&vm);
}

int main(void)
{
	test_decode();
	test_deliver();
	test_queue();
	test_engine(&emu_engine);
	if (access("/dev/kvm", R_OK | W_OK) == 0)
		test_engine(&kvm_engine);
	else
		printf("kvm engine: no /dev/kvm: skipped\n");
	return unit_report("msi");
}
