/* The I/O APIC of the emulated machine (Intel 82093AA datasheet, version
 * 0x20 with the EOI register of the ICH I/O APIC): 24 pins, each with a
 * redirection entry that sends an interrupt message to local APICs.
 *
 * Devices drive pins from any thread; that only records the level under the
 * I/O APIC's lock and flags the change. Messages are delivered into local
 * APICs by the vCPU thread (emu_ioapic_service), so LAPIC state stays owned
 * by that one thread. */
#ifndef VMON_CPU_EMU_IOAPIC_H
#define VMON_CPU_EMU_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct emu_machine;
struct emu_ioapic;

#define EMU_IOAPIC_PINS 24

int emu_ioapic_create(struct vm *vm, struct emu_machine *m, uint8_t id, uint64_t base, struct emu_ioapic **out)
	__attribute__((warn_unused_result));
void emu_ioapic_destroy(struct emu_ioapic *io);
/* Any thread. */
void emu_ioapic_set_pin(struct emu_ioapic *io, unsigned pin, int level);
/* vCPU thread: deliver what the pins ask for. Cheap when nothing changed. */
void emu_ioapic_service(struct emu_ioapic *io);
/* vCPU thread: a local APIC EOI for a level-triggered vector. */
void emu_ioapic_eoi(struct emu_ioapic *io, unsigned vector);

#endif
