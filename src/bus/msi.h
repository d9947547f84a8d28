/* Where a device's message-signalled interrupts go (design.md, src/bus:
 * "irq line + MSI message"): a device writes an address/data pair (PCI 3.0
 * §6.8) without knowing which engine delivers it; vm.c points the sink at
 * the engine's send_msi. The same shape for a notification the engine can
 * take without an exit (an ioeventfd on a guest write). */
#ifndef VMON_BUS_MSI_H
#define VMON_BUS_MSI_H

#include <stdint.h>

struct msi_sink {
	void (*send)(void *opaque, uint64_t addr, uint32_t data);
	void *opaque;
};

static inline void msi_send(const struct msi_sink *s, uint64_t addr, uint32_t data)
{
	if (s && s->send)
		s->send(s->opaque, addr, data);
}

/* Signals eventfd fd on a guest write of len bytes at MMIO address gpa
 * (engine.h add_ioeventfd). add returns 0, -ENOTSUP (the write then takes
 * the io bus as usual) or -errno. */
struct ioeventfd_sink {
	int (*add)(void *opaque, uint64_t gpa, unsigned len, int fd);
	void (*del)(void *opaque, uint64_t gpa, unsigned len, int fd);
	void *opaque;
};

#endif
