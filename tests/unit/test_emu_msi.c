/* Interrupt messages on the software CPU: MSI address/data decode (SDM
 * vol. 3 §10.11.1-2), delivery into LAPIC state shared with the I/O APIC,
 * the MSI queue (identical messages merge, order kept, full refused),
 * send_msi through the engine, an active-low level-triggered I/O APIC pin
 * (set_irq level 1 = asserted, engine.h), and how fast a device interrupt
 * from another thread wakes a halted vCPU. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

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
	/* dest 0x12 physical (RH 0: DM ignored), vector 0x41 fixed edge */
	CHECK(emu_msi_decode(0xfee12004, 0x0041, &m));
	CHECK_EQ(m.dest, 0x12);
	CHECK_EQ(m.vector, 0x41);
	CHECK_EQ(m.mode, 0);
	CHECK(!m.logical && !m.level);
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
	/* the same destination with RH 0: physical ID 5, nobody */
	CHECK(emu_msi_decode(0xfee05004, 0x44, &m));
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

/* --- through the engine --- */

static struct vm vm;
static struct vm_config cfg;
static atomic_int handler_calls;
static _Atomic uint64_t handler_ns;

static void port_hook(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	(void)opaque, (void)off, (void)size;
	if (is_write) {
		atomic_store(&handler_ns, emu_host_ns());
		atomic_fetch_add(&handler_calls, 1);
	} else {
		*value = 0;
	}
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

/* The guest: sti; hlt; jmp back to the hlt. Vectors 0x30-0x3f: a handler
 * that writes port 0x510 and EOIs its LAPIC (xAPIC MMIO), then iretq. */
#define CODE 0x100000ULL
#define HANDLER 0x100100ULL
#define IDT 0x200000ULL

static void load_guest(struct x86_state *st)
{
	memset(unit_vm_ptr(&vm, 0, 8 << 20), 0, 8 << 20);
	const char *why = NULL;
	CHECK_EQ(x86_setup_mode(&vm.mem, BOOT_MODE_LONG64, CODE, st, &why), 0);
	static const uint8_t code[] = { 0xfb, 0xf4, 0xeb, 0xfd };
	static const uint8_t handler[] = {
		0x66, 0xba, 0x10, 0x05,             /* mov dx, 0x510 */
		0xee,                               /* out dx, al */
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
	}
	return atomic_load(&handler_ns) - t0;
}

static void test_engine(void)
{
	CHECK_EQ(unit_vm_init(&vm, 64 << 20), 0);
	cfg.accel = ACCEL_EMU;
	cfg.cpus = 1;
	cfg.mem_size = 64 << 20;
	vm.cfg = &cfg;
	vm.engine = &emu_engine;
	load_guest(&vm.boot_state);
	CHECK_EQ(io_bus_register(&vm.bus, IO_SPACE_PIO, 0x510, 1, port_hook, NULL, "test"), 0);
	CHECK_EQ(emu_engine.create(&vm), 0);
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
	memset(c->lapic.irr, 0, sizeof(c->lapic.irr));
	memset(c->lapic.isr, 0, sizeof(c->lapic.isr));
	memset(c->lapic.tmr, 0, sizeof(c->lapic.tmr));

	/* Wake-up: the guest halts with IF set; an edge on pin 5 from this
	 * thread, then an MSI, must bring its handler in well before the idle
	 * wait's 100 ms limit. */
	ioapic_write(0x10 + 2 * 5 + 1, 0);
	ioapic_write(0x10 + 2 * 5, 0x30);
	CHECK_EQ(emu_engine.start(&vm), 0);
	enum { N = 40 };
	uint64_t lat[2][N];
	for (int kind = 0; kind < 2; kind++)
		for (int i = 0; i < N; i++)
			lat[kind][i] = one_wakeup(kind == 1);
	emu_engine.stop(&vm);
	CHECK_EQ(atomic_load(&handler_calls), 2 * N);
	for (int kind = 0; kind < 2; kind++) {
		qsort(lat[kind], N, sizeof(lat[kind][0]), cmp_u64);
		printf("emu wake-up by %s: median %llu us, max %llu us (%d samples)\n", kind ? "MSI" : "I/O APIC pin",
		       (unsigned long long)lat[kind][N / 2] / 1000, (unsigned long long)lat[kind][N - 1] / 1000, N);
		CHECK(lat[kind][N / 2] < 20000000ULL);
	}
	emu_engine.destroy(&vm);
	unit_vm_destroy(&vm);
}

int main(void)
{
	test_decode();
	test_deliver();
	test_queue();
	test_engine();
	return unit_report("emu_msi");
}
