/* MSI decode and the sender-to-vCPU queue (msi.h). */
#include "msi.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

/* SDM vol. 3 §10.11.1 (address): bits 31:20 0xfee, destination ID 19:12,
 * RH (redirection hint) bit 3, DM (destination mode) bit 2. DM selects
 * physical or logical whatever RH says: RH only allows the chipset to
 * redirect among the destinations (lowest priority), and KVM and QEMU
 * read DM alone. Linux's flat logical mode sends RH 0 with DM 1 (dest =
 * LDR bit), so reading RH 0 as "physical" loses its every MSI. §10.11.2 (data):
 * vector 7:0, delivery mode 10:8, level 14, trigger mode 15. */
bool emu_msi_decode(uint64_t addr, uint32_t data, struct emu_apic_msg *out)
{
	if ((addr >> 20) != 0xfee)
		return false;
	bool dm = addr & (1u << 2);
	bool level_trig = data & (1u << 15), assert_ = data & (1u << 14);
	if (level_trig && !assert_)
		return false; /* a level de-assert message carries no interrupt */
	*out = (struct emu_apic_msg){
		.vector = data & 0xff, .mode = (data >> 8) & 7, .dest = (uint8_t)(addr >> 12),
		.logical = dm, .level = level_trig,
	};
	return true;
}

void emu_msi_queue_init(struct emu_msi_queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
}

void emu_msi_queue_destroy(struct emu_msi_queue *q)
{
	pthread_mutex_destroy(&q->lock);
}

static bool same(const struct emu_apic_msg *a, const struct emu_apic_msg *b)
{
	return a->vector == b->vector && a->mode == b->mode && a->dest == b->dest && a->logical == b->logical &&
	       a->level == b->level;
}

int emu_msi_queue_push(struct emu_msi_queue *q, const struct emu_apic_msg *msg)
{
	int r = 0;
	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; i < q->n; i++)
		if (same(&q->msg[i], msg))
			goto out;
	if (q->n >= EMU_MSI_QUEUE) {
		if (!q->warned_full)
			log_warn("emu: %u distinct MSIs wait for the vCPU thread: vector %#x to %#x lost",
				 EMU_MSI_QUEUE, msg->vector, msg->dest);
		q->warned_full = true;
		r = -ENOSPC;
		goto out;
	}
	q->msg[q->n++] = *msg;
	atomic_store_explicit(&q->pending, true, memory_order_release);
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}

void emu_msi_queue_service(struct emu_msi_queue *q, struct emu_cpu *cpus, unsigned n)
{
	if (!atomic_load_explicit(&q->pending, memory_order_acquire))
		return;
	struct emu_apic_msg msg[EMU_MSI_QUEUE];
	pthread_mutex_lock(&q->lock);
	unsigned count = q->n < EMU_MSI_QUEUE ? q->n : EMU_MSI_QUEUE;
	memcpy(msg, q->msg, count * sizeof(msg[0]));
	q->n = 0;
	atomic_store_explicit(&q->pending, false, memory_order_relaxed);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < count; i++)
		emu_lapic_deliver(cpus, n, &msg[i]);
}
