/* I/O APIC: register file (IOREGSEL/IOWIN indirect access, ID, version,
 * arbitration, redirection table), edge and level pins with remote IRR, and
 * message delivery to the local APICs (82093AA datasheet §3; SDM vol. 3
 * §10.11 message format). */
#include "ioapic.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "emu.h"
#include "util/log.h"
#include "vm.h"

#define RTE_MASKED (1ULL << 16)
#define RTE_LEVEL (1ULL << 15)
#define RTE_REMOTE_IRR (1ULL << 14)
#define RTE_LOW_ACTIVE (1ULL << 13)
#define RTE_LOGICAL (1ULL << 11)
/* bits the guest may write: vector, delivery mode, dest mode, polarity,
 * trigger, mask, destination */
#define RTE_WRITABLE (0xff000000000000ffULL | (7ULL << 8) | RTE_LOGICAL | RTE_LOW_ACTIVE | RTE_LEVEL | RTE_MASKED)

struct emu_ioapic {
	pthread_mutex_t lock;
	struct emu_machine *m;
	uint32_t id, ioregsel;
	uint64_t rte[EMU_IOAPIC_PINS];
	uint32_t level;       /* input lines as driven */
	uint32_t edge_seen;   /* rising edges not yet delivered */
	atomic_bool dirty;
};

/* The engine's lines are logical: set_irq(gsi, 1) means asserted whatever
 * the pin's polarity (engine.h), as KVM_IRQ_LINE treats them. The polarity
 * bit (82093AA §3.2.4, bit 13) says which electrical level of the wire is
 * the asserted one; there is no wire here, so it is kept for read-back and
 * does not invert the line (it did: an active-low PCI INTx pin then fired
 * while its device was quiet). */
static bool asserted(const struct emu_ioapic *io, unsigned pin)
{
	return (io->level >> pin) & 1;
}

/* Sends the message of one redirection entry (lock held, vCPU thread). */
static void deliver(struct emu_ioapic *io, uint64_t rte)
{
	struct emu_apic_msg msg = {
		.vector = rte & 0xff, .mode = (rte >> 8) & 7, .dest = (uint8_t)(rte >> 56),
		.logical = rte & RTE_LOGICAL, .level = rte & RTE_LEVEL,
	};
	emu_lapic_deliver(emu_machine_cpu(io->m, 0), emu_machine_ncpus(io->m), &msg);
}

void emu_ioapic_service(struct emu_ioapic *io)
{
	/* a plain load first: this runs before every interrupt check */
	if (!io || !atomic_load_explicit(&io->dirty, memory_order_relaxed) || !atomic_exchange(&io->dirty, false))
		return;
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < EMU_IOAPIC_PINS; pin++) {
		uint64_t *rte = &io->rte[pin];
		if (*rte & RTE_LEVEL) {
			io->edge_seen &= ~(1u << pin);
			if (asserted(io, pin) && !(*rte & (RTE_MASKED | RTE_REMOTE_IRR))) {
				*rte |= RTE_REMOTE_IRR;
				deliver(io, *rte);
			}
		} else if (io->edge_seen & (1u << pin)) {
			io->edge_seen &= ~(1u << pin);
			if (!(*rte & RTE_MASKED))
				deliver(io, *rte);
		}
	}
	pthread_mutex_unlock(&io->lock);
}

void emu_ioapic_set_pin(struct emu_ioapic *io, unsigned pin, int level)
{
	if (!io || pin >= EMU_IOAPIC_PINS)
		return;
	pthread_mutex_lock(&io->lock);
	bool before = asserted(io, pin);
	if (level)
		io->level |= 1u << pin;
	else
		io->level &= ~(1u << pin);
	if (!before && asserted(io, pin))
		io->edge_seen |= 1u << pin;
	pthread_mutex_unlock(&io->lock);
	atomic_store(&io->dirty, true);
}

void emu_ioapic_eoi(struct emu_ioapic *io, unsigned vector)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < EMU_IOAPIC_PINS; pin++)
		if ((io->rte[pin] & 0xff) == vector)
			io->rte[pin] &= ~RTE_REMOTE_IRR;
	pthread_mutex_unlock(&io->lock);
	atomic_store(&io->dirty, true); /* a still-asserted level pin fires again */
}

static uint32_t reg_read(struct emu_ioapic *io)
{
	unsigned r = io->ioregsel & 0xff;
	switch (r) {
	case 0x00: return io->id << 24;
	case 0x01: return ((EMU_IOAPIC_PINS - 1) << 16) | 0x20;
	case 0x02: return io->id << 24;
	default:
		if (r >= 0x10 && r < 0x10 + 2 * EMU_IOAPIC_PINS) {
			uint64_t rte = io->rte[(r - 0x10) / 2];
			return (r & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
		}
		return 0;
	}
}

static void reg_write(struct emu_ioapic *io, uint32_t v)
{
	unsigned r = io->ioregsel & 0xff;
	if (r == 0x00) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (r < 0x10 || r >= 0x10 + 2 * EMU_IOAPIC_PINS)
		return;
	uint64_t *rte = &io->rte[(r - 0x10) / 2];
	uint64_t nv = (r & 1) ? ((uint64_t)v << 32) | (*rte & 0xffffffffULL)
			      : (*rte & 0xffffffff00000000ULL) | v;
	*rte = (nv & RTE_WRITABLE) | (*rte & RTE_REMOTE_IRR);
	if (!(*rte & RTE_LEVEL))
		*rte &= ~RTE_REMOTE_IRR;
	atomic_store(&io->dirty, true); /* an unmasked, asserted level pin fires now */
}

static void ioapic_mmio(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	struct emu_ioapic *io = opaque;
	pthread_mutex_lock(&io->lock);
	uint32_t v = (uint32_t)*value;
	switch (off & ~3ULL) {
	case 0x00:
		if (is_write)
			io->ioregsel = v & 0xff;
		else
			*value = io->ioregsel;
		break;
	case 0x10:
		if (is_write)
			reg_write(io, v);
		else
			*value = reg_read(io);
		break;
	case 0x40: /* EOI register (version 0x20) */
		if (is_write) {
			pthread_mutex_unlock(&io->lock);
			emu_ioapic_eoi(io, v & 0xff);
			return;
		}
		*value = 0;
		break;
	default:
		if (!is_write)
			*value = 0;
		break;
	}
	(void)size;
	pthread_mutex_unlock(&io->lock);
}

int emu_ioapic_create(struct vm *vm, struct emu_machine *m, uint8_t id, uint64_t base, struct emu_ioapic **out)
{
	struct emu_ioapic *io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	pthread_mutex_init(&io->lock, NULL);
	io->m = m;
	io->id = id & 0xf;
	for (unsigned i = 0; i < EMU_IOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
	int r = io_bus_register(&vm->bus, IO_SPACE_MMIO, base, 0x1000, ioapic_mmio, io, "ioapic");
	if (r < 0) {
		emu_ioapic_destroy(io);
		return r;
	}
	*out = io;
	return 0;
}

void emu_ioapic_destroy(struct emu_ioapic *io)
{
	if (!io)
		return;
	pthread_mutex_destroy(&io->lock);
	free(io);
}
