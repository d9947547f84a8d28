/* Local APIC (SDM vol. 3 chapter 10): ID, TPR/PPR, IRR/ISR/EOI,
 * spurious-vector register, LVT registers, the timer (one-shot and
 * periodic, from the host monotonic clock at a 100 MHz bus clock, and
 * TSC-deadline, §10.5.4.1) and the ICR: fixed and lowest-priority IPIs,
 * INIT and STARTUP (SDM §8.4.4 MP initialization). xAPIC mode is memory-
 * mapped; x2APIC mode (§10.12) has the same registers as MSRs, a 64-bit
 * ICR, SELF IPI, 32-bit IDs (= the vCPU index) and a derived LDR. All vCPUs
 * run on one thread (emu_engine.c), so an IPI may write straight into the
 * target's state. */
#include <time.h>

#include "emu.h"
#include "util/log.h"

#define LAPIC_NS_PER_TICK 10 /* 100 MHz */

enum {
	APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0, APIC_EOI = 0xb0,
	APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0, APIC_ISR = 0x100, APIC_TMR = 0x180,
	APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310,
	APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330, APIC_LVT_PERF = 0x340, APIC_LVT_LINT0 = 0x350,
	APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370, APIC_TIMER_INIT = 0x380, APIC_TIMER_CUR = 0x390,
	APIC_TIMER_DIV = 0x3e0,
};

#define LVT_MASKED (1u << 16)
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3) /* 0 one-shot, 1 periodic, 2 TSC-deadline */
#define TIMER_DEADLINE 2

#define BASE_BSP (1u << 8)
#define BASE_EXTD (1u << 10) /* x2APIC mode */
#define BASE_EN (1u << 11)

static bool x2apic(const struct emu_cpu *cpu)
{
	return cpu->apic_base & BASE_EXTD;
}

/* The logical x2APIC ID: cluster in 31:16, one bit of 15:0 (§10.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

void emu_lapic_reset(struct emu_cpu *cpu)
{
	struct emu_lapic *l = &cpu->lapic;
	*l = (struct emu_lapic){ .id = cpu->index, .dfr = 0xffffffff, .svr = 0xff };
	l->lvt_timer = l->lvt_thermal = l->lvt_perf = l->lvt_lint0 = l->lvt_lint1 = l->lvt_error = LVT_MASKED;
}

bool emu_lapic_claims(const struct emu_cpu *cpu, uint64_t gpa)
{
	/* x2APIC mode has no memory-mapped interface (§10.12.1.2) */
	return (cpu->apic_base & (BASE_EN | BASE_EXTD)) == BASE_EN &&
	       (gpa & ~0xfffULL) == (cpu->apic_base & 0xffffff000ULL);
}

static int highest(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static uint32_t ppr(const struct emu_lapic *l)
{
	int isr = highest(l->isr);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr & 0xf0;
	return (l->tpr & 0xf0) >= isrv ? l->tpr : isrv;
}

static uint64_t timer_period_ns(const struct emu_lapic *l)
{
	unsigned d = (l->timer_divide & 3) | ((l->timer_divide >> 1) & 4);
	unsigned div = d == 7 ? 1 : 2u << d;
	return (uint64_t)l->timer_initial * div * LAPIC_NS_PER_TICK;
}

static uint32_t timer_current(const struct emu_lapic *l)
{
	if (!l->timer_armed || l->timer_initial == 0 || LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE)
		return 0;
	uint64_t period = timer_period_ns(l);
	uint64_t el = emu_host_ns() - l->timer_start;
	if (el >= period)
		return 0;
	return (uint32_t)((period - el) * l->timer_initial / period);
}

void emu_lapic_set_irr(struct emu_cpu *cpu, unsigned vector)
{
	vector &= 0xff;
	if (vector < 16) {
		cpu->lapic.esr |= 1u << 6; /* received illegal vector */
		return;
	}
	cpu->lapic.irr[vector / 32] |= 1u << (vector % 32);
}

int emu_lapic_pending(const struct emu_cpu *cpu)
{
	const struct emu_lapic *l = &cpu->lapic;
	if (!(cpu->apic_base & (1u << 11)) || !(l->svr & 0x100))
		return -1;
	int v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

void emu_lapic_accept(struct emu_cpu *cpu, unsigned vector)
{
	cpu->lapic.irr[vector / 32] &= ~(1u << (vector % 32));
	cpu->lapic.isr[vector / 32] |= 1u << (vector % 32);
}

uint64_t emu_lapic_poll_timer(struct emu_cpu *cpu, uint64_t now)
{
	struct emu_lapic *l = &cpu->lapic;
	if (LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE) {
		/* fires once the TSC reaches the deadline, then disarms; the TSC
		 * counts host nanoseconds (emu_tsc), so the wait is the difference */
		if (!l->tsc_deadline)
			return UINT64_MAX;
		uint64_t tsc = emu_tsc(cpu);
		if (tsc < l->tsc_deadline)
			return l->tsc_deadline - tsc;
		if (!(l->lvt_timer & LVT_MASKED))
			emu_lapic_set_irr(cpu, l->lvt_timer & 0xff);
		l->tsc_deadline = 0;
		return UINT64_MAX;
	}
	if (!l->timer_armed || l->timer_initial == 0)
		return UINT64_MAX;
	uint64_t period = timer_period_ns(l);
	if (now - l->timer_start < period)
		return period - (now - l->timer_start);
	if (!(l->lvt_timer & LVT_MASKED))
		emu_lapic_set_irr(cpu, l->lvt_timer & 0xff);
	if (((l->lvt_timer >> 17) & 3) == 1) { /* periodic */
		l->timer_start = now;
		return period;
	}
	l->timer_armed = false;
	return UINT64_MAX;
}

bool emu_lapic_match_xapic_msg(const struct emu_cpu *t, uint8_t dest, bool logical)
{
	return emu_lapic_match(t, dest == 0xff && x2apic(t) ? 0xffffffff : dest, logical);
}

bool emu_lapic_match(const struct emu_cpu *t, uint32_t dest, bool logical)
{
	if (x2apic(t)) { /* §10.12.9, §10.12.10.2: 0xffffffff broadcasts */
		if (dest == 0xffffffff)
			return true;
		if (!logical)
			return dest == t->lapic.id;
		uint32_t ldr = x2apic_ldr(t->lapic.id);
		return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff);
	}
	if (!logical)
		return dest == 0xff || dest == t->lapic.id;
	if (dest == 0xff)
		return true;
	uint32_t ldr = t->lapic.ldr >> 24;
	if ((t->lapic.dfr >> 28) == 0xf) /* flat model */
		return (ldr & dest) != 0;
	/* cluster model: high nibble cluster, low nibble member bits */
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);
}

void emu_lapic_deliver(struct emu_cpu *cpus, unsigned n, const struct emu_apic_msg *msg)
{
	unsigned vector = msg->vector;
	for (unsigned i = 0; i < n; i++) {
		struct emu_cpu *t = &cpus[i];
		if (t->state == EMU_WAIT_SIPI || !emu_lapic_match_xapic_msg(t, msg->dest, msg->logical))
			continue;
		switch (msg->mode) {
		case 0: /* fixed */
		case 1: /* lowest priority: the first match takes it */
			emu_lapic_set_irr(t, vector);
			if (msg->level)
				t->lapic.tmr[vector / 32] |= 1u << (vector % 32);
			else
				t->lapic.tmr[vector / 32] &= ~(1u << (vector % 32));
			if (msg->mode == 1)
				return;
			break;
		case 4:
			t->nmi_pending = true;
			break;
		default:
			log_warn("emu: interrupt message delivery mode %u is not emulated (vector %#x)", msg->mode,
				 vector);
			return;
		}
	}
}

static void ipi_one(struct emu_cpu *t, unsigned mode, unsigned vector, bool level_assert)
{
	switch (mode) {
	case 0: /* fixed */
	case 1: /* lowest priority: delivered to every match (no arbitration) */
		emu_lapic_set_irr(t, vector);
		break;
	case 4: /* NMI */
		t->nmi_pending = true;
		break;
	case 5: /* INIT; the level de-assert form does nothing on modern CPUs */
		if (level_assert) {
			emu_cpu_reset_wait_sipi(t);
			emu_lapic_reset(t);
		}
		break;
	case 6: /* STARTUP: real mode at vector << 12 (SDM vol. 3 §8.4.4.1) */
		if (t->state == EMU_WAIT_SIPI) {
			emu_seg_real(t, SEG_CS, (uint16_t)(vector << 8));
			t->rip = t->next_rip = 0;
			t->state = EMU_RUNNING;
			emu_cpu_update_mode(t);
		}
		break;
	default:
		log_warn("emu: IPI delivery mode %u is not emulated (vector %#x)", mode, vector);
		break;
	}
}

static void send_ipi(struct emu_cpu *cpu)
{
	struct emu_lapic *l = &cpu->lapic;
	unsigned vector = l->icr_lo & 0xff, mode = (l->icr_lo >> 8) & 7;
	bool logical = l->icr_lo & (1u << 11), assert_ = l->icr_lo & (1u << 14);
	unsigned shorthand = (l->icr_lo >> 18) & 3;
	uint32_t dest = x2apic(cpu) ? l->icr_hi : l->icr_hi >> 24;
	unsigned n = emu_machine_ncpus(cpu->mach);
	for (unsigned i = 0; i < n; i++) {
		struct emu_cpu *t = emu_machine_cpu(cpu->mach, i);
		bool self = t == cpu, hit;
		switch (shorthand) {
		case 1: hit = self; break;
		case 2: hit = true; break;
		case 3: hit = !self; break;
		default: hit = emu_lapic_match(t, dest, logical); break;
		}
		if (hit)
			ipi_one(t, mode, vector, assert_ || mode != 5);
	}
}

uint32_t emu_lapic_read(struct emu_cpu *cpu, uint32_t off)
{
	const struct emu_lapic *l = &cpu->lapic;
	if (off >= APIC_ISR && off < APIC_ISR + 0x80)
		return l->isr[(off - APIC_ISR) / 16];
	if (off >= APIC_TMR && off < APIC_TMR + 0x80)
		return l->tmr[(off - APIC_TMR) / 16];
	if (off >= APIC_IRR && off < APIC_IRR + 0x80)
		return l->irr[(off - APIC_IRR) / 16];
	switch (off) {
	case APIC_ID: return x2apic(cpu) ? l->id : l->id << 24;
	case APIC_VER: return 0x00050014; /* version 0x14, 6 LVT entries */
	case APIC_TPR: return l->tpr;
	case APIC_PPR: return ppr(l);
	case APIC_LDR: return x2apic(cpu) ? x2apic_ldr(l->id) : l->ldr;
	case APIC_DFR: return l->dfr;
	case APIC_SVR: return l->svr;
	case APIC_ESR: return l->esr;
	case APIC_ICR_LO: return l->icr_lo & ~(1u << 12); /* delivery always complete */
	case APIC_ICR_HI: return l->icr_hi;
	case APIC_LVT_TIMER: return l->lvt_timer;
	case APIC_LVT_THERMAL: return l->lvt_thermal;
	case APIC_LVT_PERF: return l->lvt_perf;
	case APIC_LVT_LINT0: return l->lvt_lint0;
	case APIC_LVT_LINT1: return l->lvt_lint1;
	case APIC_LVT_ERROR: return l->lvt_error;
	case APIC_TIMER_INIT: return l->timer_initial;
	case APIC_TIMER_CUR: return timer_current(l);
	case APIC_TIMER_DIV: return l->timer_divide;
	default: return 0;
	}
}

void emu_lapic_write(struct emu_cpu *cpu, uint32_t off, uint32_t v)
{
	struct emu_lapic *l = &cpu->lapic;
	bool software_off = !(l->svr & 0x100);
	/* EOI, TPR or a self-IPI may let an interrupt in; a self-INIT changes
	 * everything: the block stops here */
	cpu->irq_poll = true;
	cpu->block_stop = true;
	switch (off) {
	case APIC_ID: l->id = v >> 24; break;
	case APIC_TPR: l->tpr = v & 0xff; break;
	case APIC_EOI: {
		int h = highest(l->isr);
		if (h < 0)
			break;
		l->isr[h / 32] &= ~(1u << (h % 32));
		if (l->tmr[h / 32] & (1u << (h % 32))) {
			/* level-triggered: broadcast the EOI to the I/O APIC (SDM vol. 3 §10.8.5) */
			l->tmr[h / 32] &= ~(1u << (h % 32));
			emu_machine_eoi(cpu->mach, (unsigned)h);
		}
		break;
	}
	case APIC_LDR: l->ldr = v & 0xff000000; break;
	case APIC_DFR: l->dfr = v | 0x0fffffff; break;
	case APIC_SVR: l->svr = v & 0x13ff; break;
	case APIC_ESR: l->esr = 0; break;
	case APIC_ICR_LO: l->icr_lo = v; send_ipi(cpu); break;
	case APIC_ICR_HI: l->icr_hi = v & 0xff000000; break;
	case APIC_LVT_TIMER: {
		uint32_t old = l->lvt_timer;
		l->lvt_timer = (v & 0x700ff) | (software_off ? LVT_MASKED : 0);
		/* entering or leaving TSC-deadline mode disarms the timer (§10.5.4.1) */
		if ((LVT_TIMER_MODE(old) == TIMER_DEADLINE) != (LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE)) {
			l->tsc_deadline = 0;
			l->timer_armed = false;
		}
		break;
	}
	case APIC_LVT_THERMAL: l->lvt_thermal = v & 0x107ff; break;
	case APIC_LVT_PERF: l->lvt_perf = v & 0x107ff; break;
	case APIC_LVT_LINT0: l->lvt_lint0 = v & 0x1a7ff; break;
	case APIC_LVT_LINT1: l->lvt_lint1 = v & 0x1a7ff; break;
	case APIC_LVT_ERROR: l->lvt_error = v & 0x100ff; break;
	case APIC_TIMER_INIT:
		if (LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE)
			break; /* ignored in TSC-deadline mode */
		l->timer_initial = v;
		l->timer_start = emu_host_ns();
		l->timer_armed = v != 0;
		break;
	case APIC_TIMER_DIV: l->timer_divide = v & 0xb; break;
	default: break;
	}
}

int emu_lapic_set_base(struct emu_cpu *cpu, uint64_t v)
{
	/* base (MAXPHYADDR 40), EN, EXTD; BSP is read-only */
	if (v & ~(0xfffffff000ULL | BASE_EN | BASE_EXTD | BASE_BSP))
		return emu_gp(cpu, 0);
	/* §10.12.5 figure 10-27: EXTD without EN is invalid; x2APIC is left
	 * only to disabled, and entered only from xAPIC */
	bool en = v & BASE_EN, ex = v & BASE_EXTD;
	bool was_en = cpu->apic_base & BASE_EN, was_ex = cpu->apic_base & BASE_EXTD;
	if ((ex && !en) || (was_ex && en && !ex) || (!was_en && en && ex))
		return emu_gp(cpu, 0);
	cpu->apic_base = (v & ~(uint64_t)BASE_BSP) | (cpu->apic_base & BASE_BSP);
	if (ex && !was_ex)
		cpu->lapic.id = cpu->index; /* the x2APIC ID is the initial APIC ID */
	if (was_en && !en)
		emu_lapic_reset(cpu); /* disabled: the APIC returns to its reset state (§10.4.3) */
	emu_tlb_flush(cpu);   /* the APIC page may have moved or gone */
	return EMU_OK;
}

enum { MSR_TSC_DEADLINE = 0x6e0, X2APIC_ICR = 0x830, X2APIC_SELF_IPI = 0x83f };

/* x2APIC MSR idx names the xAPIC register at offset (idx - 0x800) << 4
 * (§10.12.1.2 table 10-6). Is it one that RDMSR may read? */
static bool x2apic_readable(uint32_t idx)
{
	switch (idx) {
	case 0x802: case 0x803: case 0x808: case 0x80a: case 0x80d: case 0x80f: case 0x828:
	case 0x830: case 0x832: case 0x833: case 0x834: case 0x835: case 0x836: case 0x837:
	case 0x838: case 0x839: case 0x83e:
		return true;
	default:
		return idx >= 0x810 && idx <= 0x827; /* ISR, TMR, IRR */
	}
}

int emu_lapic_rdmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t *v)
{
	struct emu_lapic *l = &cpu->lapic;
	if (idx == MSR_TSC_DEADLINE) { /* reads 0 outside TSC-deadline mode */
		*v = LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE ? l->tsc_deadline : 0;
		return EMU_OK;
	}
	if (!x2apic(cpu) || !x2apic_readable(idx))
		return emu_gp(cpu, 0);
	if (idx == X2APIC_ICR)
		*v = (uint64_t)l->icr_hi << 32 | l->icr_lo;
	else
		*v = emu_lapic_read(cpu, (idx - 0x800) << 4);
	return EMU_OK;
}

int emu_lapic_wrmsr(struct emu_cpu *cpu, uint32_t idx, uint64_t v)
{
	struct emu_lapic *l = &cpu->lapic;
	if (idx == MSR_TSC_DEADLINE) { /* ignored outside TSC-deadline mode */
		if (LVT_TIMER_MODE(l->lvt_timer) == TIMER_DEADLINE) {
			/* 0 disarms; a deadline the TSC has reached fires now, so the
			 * interrupt is taken at the next instruction boundary (SDM
			 * vol. 3 §10.5.4.1), not at the engine's next timer poll */
			l->tsc_deadline = v;
			emu_lapic_poll_timer(cpu, emu_host_ns());
			cpu->irq_poll = true;
			cpu->block_stop = true;
		}
		return EMU_OK;
	}
	if (!x2apic(cpu))
		return emu_gp(cpu, 0);
	if (idx == X2APIC_ICR) {
		l->icr_hi = (uint32_t)(v >> 32);
		emu_lapic_write(cpu, APIC_ICR_LO, (uint32_t)v);
		return EMU_OK;
	}
	if (v >> 32)
		return emu_gp(cpu, 0); /* reserved bits */
	uint32_t off = (idx - 0x800) << 4;
	switch (idx) {
	case 0x808: /* TPR */
		if (v & ~0xffULL)
			return emu_gp(cpu, 0);
		break;
	case 0x80b: /* EOI and ESR take only 0 */
	case 0x828:
		if (v)
			return emu_gp(cpu, 0);
		break;
	case 0x80f: case 0x832: case 0x833: case 0x834: case 0x835: case 0x836: case 0x837:
	case 0x838: case 0x83e:
		break;
	case X2APIC_SELF_IPI: /* a fixed, edge-triggered IPI to this APIC */
		if (v & ~0xffULL)
			return emu_gp(cpu, 0);
		emu_lapic_set_irr(cpu, (unsigned)v);
		cpu->irq_poll = true;
		cpu->block_stop = true;
		return EMU_OK;
	default: /* read-only (ID, VER, LDR, PPR, ISR, TMR, IRR, current count) or reserved */
		return emu_gp(cpu, 0);
	}
	emu_lapic_write(cpu, off, (uint32_t)v);
	return EMU_OK;
}
