/* Message-signalled interrupts for the software CPU: the address/data pair
 * a PCI function writes (PCI 3.0 §6.8) decoded into an interrupt message
 * (SDM vol. 3 §10.11.1-2), and a queue that carries messages from the
 * thread that sends them (the I/O thread, a device) to the vCPU thread,
 * which alone writes LAPIC state. */
#ifndef VMON_CPU_EMU_MSI_H
#define VMON_CPU_EMU_MSI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lapic.h"

/* Pure. false for an address outside the 0xfeexxxxx interrupt window (the
 * write would go to memory on a real bus: no interrupt). */
bool emu_msi_decode(uint64_t addr, uint32_t data, struct emu_apic_msg *out);

/* Distinct messages waiting; identical ones merge (below). */
#define EMU_MSI_QUEUE 64

struct emu_msi_queue {
	pthread_mutex_t lock;
	struct emu_apic_msg msg[EMU_MSI_QUEUE];
	unsigned n;
	atomic_bool pending;   /* n != 0, read without the lock */
	bool warned_full;
};

void emu_msi_queue_init(struct emu_msi_queue *q);
void emu_msi_queue_destroy(struct emu_msi_queue *q);
/* Any thread. Returns 0, or -ENOSPC when EMU_MSI_QUEUE distinct messages
 * are already waiting (the message is lost; logged once). A message equal
 * to one waiting merges with it: an edge-triggered interrupt pending twice
 * is one IRR bit, as on hardware. */
int emu_msi_queue_push(struct emu_msi_queue *q, const struct emu_apic_msg *msg);
/* vCPU thread: delivers every waiting message in arrival order. Cheap when
 * none waits. */
void emu_msi_queue_service(struct emu_msi_queue *q, struct emu_cpu *cpus, unsigned n);

#endif
