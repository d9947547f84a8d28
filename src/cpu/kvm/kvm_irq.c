/* Interrupt routing under KVM (api.rst: KVM_SET_GSI_ROUTING, KVM_IRQFD,
 * KVM_SIGNAL_MSI): the PC's lines as machine/pc.h wires them, and MSIs.
 *
 * An MSI's address/data pair gets a route of its own the first time a
 * device sends it: a GSI above the I/O APIC's pins with an MSI entry, and
 * an eventfd bound to it by KVM_IRQFD, so that later sends are one eventfd
 * write that KVM turns into the interrupt inside the kernel. A guest
 * programs few distinct pairs (one per MSI-X vector it uses); past
 * KVM_MSI_ROUTES of them, or on a host without irqfd, an MSI goes through
 * KVM_SIGNAL_MSI: the same interrupt, one ioctl each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_internal.h"
#include "machine/pc.h"
#include "util/log.h"

/* GSIs of the MSI routes start after the lines (pc.h) */
#define MSI_GSI_BASE PC_IOAPIC_PINS

/* The whole table: lines, then every MSI route (the call replaces the
 * table at once). ks->msi_lock held, or before any vCPU runs. */
static int apply_routing(struct kvm_engine_state *ks)
{
	unsigned max = PC_PIC_LINES + PC_IOAPIC_PINS + KVM_MSI_ROUTES;
	struct kvm_irq_routing *rt = calloc(1, sizeof(*rt) + max * sizeof(rt->entries[0]));
	if (!rt)
		return -ENOMEM;
	/* KVM's default routing sends GSI n to I/O APIC pin n, so the
	 * in-kernel PIT and a device on line 0 would reach pin 0, while the
	 * MADT tells the guest IRQ 0 is on pin 2: every line goes where
	 * machine/pc.h says, the wiring emu uses too. */
	for (unsigned line = 0; line < PC_IOAPIC_PINS; line++) {
		int pic = pc_line_pic_pin(line), pin = pc_line_ioapic_pin(line);
		if (pic >= 0)
			rt->entries[rt->nr++] = (struct kvm_irq_routing_entry){
				.gsi = line, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = pic < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = (unsigned)pic % 8 } };
		if (pin >= 0)
			rt->entries[rt->nr++] = (struct kvm_irq_routing_entry){
				.gsi = line, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = (unsigned)pin } };
	}
	for (unsigned i = 0; i < ks->nmsi; i++)
		rt->entries[rt->nr++] = (struct kvm_irq_routing_entry){
			.gsi = MSI_GSI_BASE + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)ks->msi[i].addr,
				   .address_hi = (uint32_t)(ks->msi[i].addr >> 32), .data = ks->msi[i].data } };
	int r = ioctl(ks->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0 ? -errno : 0;
	free(rt);
	return r;
}

int kvm_irq_routing_init(struct kvm_engine_state *ks)
{
	pthread_mutex_init(&ks->msi_lock, NULL);
	ks->msi_lock_init = true;
	ks->has_irqfd = ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0;
	int r = apply_routing(ks);
	if (r < 0)
		log_error("KVM_SET_GSI_ROUTING: %s", strerror(-r));
	return r;
}

/* The eventfd of (addr, data)'s route, made on first use; -1 when there is
 * none and cannot be one (table full, no irqfd, an error: logged once). */
static int route_fd(struct kvm_engine_state *ks, uint64_t addr, uint32_t data)
{
	for (unsigned i = 0; i < ks->nmsi; i++)
		if (ks->msi[i].addr == addr && ks->msi[i].data == data)
			return ks->msi[i].fd;
	if (!ks->has_irqfd || ks->nmsi == KVM_MSI_ROUTES)
		return -1;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	unsigned i = ks->nmsi++;
	ks->msi[i] = (struct kvm_msi_route){ addr, data, fd };
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = MSI_GSI_BASE + i };
	int r = apply_routing(ks);
	if (r == 0 && ioctl(ks->vm_fd, KVM_IRQFD, &irqfd) < 0)
		r = -errno;
	if (r < 0) {
		log_warn("KVM MSI route for %#llx/%#x: %s (MSIs take KVM_SIGNAL_MSI)", (unsigned long long)addr,
			 data, strerror(-r));
		ks->has_irqfd = false; /* the route stays unused: no irqfd listens */
		ks->nmsi--;
		close(fd);
		apply_routing(ks);
		return -1;
	}
	return fd;
}

void kvm_irq_send_msi(struct kvm_engine_state *ks, uint64_t addr, uint32_t data)
{
	pthread_mutex_lock(&ks->msi_lock);
	int fd = route_fd(ks, addr, data);
	uint64_t one = 1;
	bool sent = fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one);
	pthread_mutex_unlock(&ks->msi_lock);
	if (sent)
		return;
	if (!ks->has_signal_msi) {
		if (!atomic_exchange(&ks->warned_msi, true))
			log_warn("KVM_SIGNAL_MSI: the host's KVM lacks KVM_CAP_SIGNAL_MSI and irqfd: MSIs are lost");
		return;
	}
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };
	/* 0: the guest blocked it; -1 (EPERM): no LAPIC matched its
	 * destination. Both are the guest's doing, as on hardware. */
	if (ioctl(ks->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 && errno != EPERM)
		log_warn("KVM_SIGNAL_MSI %#llx/%#x: %s", (unsigned long long)addr, data, strerror(errno));
}

void kvm_irq_destroy(struct kvm_engine_state *ks)
{
	/* KVM drops its irqfds with the VM; the eventfds are ours. */
	for (unsigned i = 0; i < ks->nmsi; i++)
		close(ks->msi[i].fd);
	ks->nmsi = 0;
	if (ks->msi_lock_init)
		pthread_mutex_destroy(&ks->msi_lock);
	ks->msi_lock_init = false;
}
