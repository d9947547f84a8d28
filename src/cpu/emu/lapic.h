/* The local APIC model of one vCPU (SDM vol. 3 chapter 10): xAPIC mode,
 * memory-mapped at IA32_APIC_BASE (default 0xfee00000), and x2APIC mode
 * (§10.12), its registers as MSRs 0x800-0x8ff. */
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
	uint64_t tsc_deadline;  /* IA32_TSC_DEADLINE; 0: disarmed (§10.5.4.1) */
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
/* Does this local APIC accept destination dest (physical or logical)? An
 * APIC in x2APIC mode reads dest as a 32-bit x2APIC destination. */
bool emu_lapic_match(const struct emu_cpu *t, uint32_t dest, bool logical);
/* The same for a message with an 8-bit (xAPIC-format) destination, as the
 * I/O APIC sends: all ones is a broadcast in x2APIC mode too (x2APIC without
 * interrupt remapping, SDM vol. 3 §10.12: an xAPIC-format 0xFF reaches
 * every LAPIC). */
bool emu_lapic_match_xapic_msg(const struct emu_cpu *t, uint8_t dest, bool logical);
/* An interrupt message as the I/O APIC and MSI send it over the system
 * bus (SDM vol. 3 §10.11, 82093AA §3.2.4): an 8-bit xAPIC-format
 * destination. */
struct emu_apic_msg {
	uint8_t vector;
	uint8_t mode;  /* delivery mode: 0 fixed, 1 lowest priority, 4 NMI */
	uint8_t dest;
	bool logical;  /* logical destination mode */
	bool level;    /* level-triggered: TMR set, so the EOI reaches the I/O APIC */
};
/* Delivers msg into the local APICs of cpus[0..n) it matches (vCPU thread:
 * LAPIC state is owned by it). Lowest priority goes to the first match. */
void emu_lapic_deliver(struct emu_cpu *cpus, unsigned n, const struct emu_apic_msg *msg);
/* WRMSR IA32_APIC_BASE: the legal EN/EXTD transitions (§10.12.5), else #GP. */
int emu_lapic_set_base(struct emu_cpu *cpu, uint64_t v);
/* The MSRs of the x2APIC (0x800-0x8ff) and IA32_TSC_DEADLINE (0x6e0). */
static inline bool emu_lapic_msr(uint32_t idx)
{
	return idx == 0x6e0 || (idx >= 0x800 && idx <= 0x8ff);
}
/* RDMSR/WRMSR of one of them: EMU_OK, or #GP(0) raised. */
int emu_lapic_rdmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t *v);
int emu_lapic_wrmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t v);

#endif
