/* The local APIC model of one vCPU (SDM vol. 3 chapter 10), xAPIC mode,
 * memory-mapped at IA32_APIC_BASE (default 0xfee00000). */
#ifndef VMON_CPU_EMU_LAPIC_H
#define VMON_CPU_EMU_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct emu_cpu;

struct emu_lapic {
	uint32_t id;
	uint32_t tpr, ldr, dfr, svr, esr;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error;
	uint32_t timer_initial, timer_divide;
	uint64_t timer_start;   /* host ns when the count was loaded */
	bool timer_armed;
	uint32_t irr[8], isr[8], tmr[8];
};

#define EMU_LAPIC_SIZE 0x1000

void emu_lapic_reset(struct emu_cpu *cpu);
/* Is gpa inside this vCPU's enabled APIC page? */
bool emu_lapic_claims(const struct emu_cpu *cpu, uint64_t gpa);
uint32_t emu_lapic_read(struct emu_cpu *cpu, uint32_t offset);
void emu_lapic_write(struct emu_cpu *cpu, uint32_t offset, uint32_t value);
/* Fires the timer if due. Returns host ns until the next timer event, or
 * UINT64_MAX when the timer is idle. */
uint64_t emu_lapic_poll_timer(struct emu_cpu *cpu, uint64_t now_ns);
/* The vector to deliver now if IF allows (-1: none); accept moves it to ISR. */
int emu_lapic_pending(const struct emu_cpu *cpu);
void emu_lapic_accept(struct emu_cpu *cpu, unsigned vector);
void emu_lapic_set_irr(struct emu_cpu *cpu, unsigned vector);
/* Does this local APIC accept destination dest (physical or logical)? */
bool emu_lapic_match(const struct emu_cpu *t, uint32_t dest, bool logical);

#endif
