#include "virtio.h"

static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }

static uint32_t cfg_addr(unsigned slot, unsigned reg) { return 0x80000000u | slot << 11 | (reg & 0xfc); }
uint32_t pci_cfg32(unsigned slot, unsigned reg)
{
	outl(0xcf8, cfg_addr(slot, reg));
	return inl(0xcfc);
}
uint8_t pci_cfg8(unsigned slot, unsigned reg) { return (uint8_t)(pci_cfg32(slot, reg) >> (8 * (reg & 3))); }
void pci_cfg_write32(unsigned slot, unsigned reg, uint32_t v)
{
	outl(0xcf8, cfg_addr(slot, reg));
	outl(0xcfc, v);
}
void pci_cfg_write16(unsigned slot, unsigned reg, uint16_t v)
{
	outl(0xcf8, cfg_addr(slot, reg));
	outw((uint16_t)(0xcfc + (reg & 2)), v);
}
int pci_find(uint32_t id)
{
	for (unsigned s = 0; s < 32; s++)
		if (pci_cfg32(s, 0) == id)
			return (int)s;
	return -1;
}

static void append(char *dst, unsigned cap, const char *s)
{
	unsigned n = 0;
	while (dst[n])
		n++;
	if (n && n + 1 < cap)
		dst[n++] = ' ';
	while (*s && n + 1 < cap)
		dst[n++] = *s++;
	dst[n] = 0;
}

void virtio_open(struct vdev *d, unsigned slot, uint64_t bar)
{
	static const char *const names[] = { "?", "common", "notify", "isr", "device", "pci-cfg" };
	uint32_t common = 0, isr = 0, dev = 0;
	int has_dev = 0;
	d->slot = slot;
	d->caps[0] = 0;
	for (unsigned p = pci_cfg8(slot, 0x34), n = 0; p && n < 16; p = pci_cfg8(slot, p + 1), n++) {
		if (pci_cfg8(slot, p) == 0x11) {
			d->msix_cap = p;
			append(d->caps, sizeof(d->caps), "msix");
			continue;
		}
		unsigned type = pci_cfg8(slot, p + 3);
		append(d->caps, sizeof(d->caps), type <= 5 ? names[type] : "?");
		uint32_t off = pci_cfg32(slot, p + 8);
		if (type == 1)
			common = off;
		else if (type == 2) {
			d->notify_off = off;
			d->notify_mult = pci_cfg32(slot, p + 16);
		} else if (type == 3)
			isr = off;
		else if (type == 4) {
			dev = off;
			has_dev = 1;
		}
	}
	pci_cfg_write32(slot, 0x20, (uint32_t)bar);
	pci_cfg_write32(slot, 0x24, (uint32_t)(bar >> 32));
	d->bar = bar;
	d->cc = (volatile struct virtio_common *)(bar + common);
	d->isr = (volatile uint8_t *)(bar + isr);
	d->devcfg = has_dev ? (volatile uint8_t *)(bar + dev) : 0;
	uint32_t bar1 = pci_cfg32(slot, 0x14) & ~0xfu;
	d->msix_table = (volatile uint32_t *)(uint64_t)(bar1 + (pci_cfg32(slot, d->msix_cap + 4) & ~7u));
}

int virtio_negotiate(struct vdev *d, uint64_t want, uint64_t *offered)
{
	volatile struct virtio_common *cc = d->cc;
	cc->status = 0;
	cc->status = VIRTIO_ACK;
	cc->status = VIRTIO_ACK | VIRTIO_DRIVER;
	cc->dfselect = 1;
	uint64_t f = (uint64_t)cc->df << 32;
	cc->dfselect = 0;
	f |= cc->df;
	*offered = f;
	cc->gfselect = 1;
	cc->gf = (uint32_t)(want >> 32);
	cc->gfselect = 0;
	cc->gf = (uint32_t)want;
	cc->status = VIRTIO_ACK | VIRTIO_DRIVER | VIRTIO_FEATURES_OK;
	return (cc->status & VIRTIO_FEATURES_OK) != 0;
}

void virtio_msix_enable(struct vdev *d) { pci_cfg_write16(d->slot, d->msix_cap + 2, 0x8000); }

void virtio_msix_vector(struct vdev *d, unsigned vec, unsigned lapic_vec)
{
	volatile uint32_t *e = d->msix_table + 4 * vec;
	e[0] = 0xfee00000; /* CPU 0, physical (SDM vol. 3 §10.11.1) */
	e[1] = 0;
	e[2] = lapic_vec;
	e[3] = 0; /* unmasked */
}

void virtio_queue(struct vdev *d, unsigned q, struct vq *vq, unsigned vec)
{
	volatile struct virtio_common *cc = d->cc;
	cc->q_select = (uint16_t)q;
	cc->q_size = VQ_SIZE;
	cc->q_msix = (uint16_t)vec;
	cc->q_desc = (uint64_t)vq->desc;
	cc->q_driver = (uint64_t)&vq->avail;
	cc->q_device = (uint64_t)&vq->used;
	cc->q_enable = 1;
	vq->notify = (volatile uint16_t *)(d->bar + d->notify_off + cc->q_notify_off * d->notify_mult);
}

void vq_submit(struct vq *vq, unsigned q, uint16_t head)
{
	vq->avail.ring[vq->next_avail % VQ_SIZE] = head;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order (§2.7.13) */
	vq->next_avail++;
	*(volatile uint16_t *)&vq->avail.idx = vq->next_avail;
	*vq->notify = (uint16_t)q; /* the queue index (§4.1.5.2) */
}

int vq_wait_used(struct vq *vq, uint16_t idx)
{
	for (unsigned i = 0; i < 50000000; i++) {
		if (*(volatile uint16_t *)&vq->used.idx == idx)
			return 1;
		__asm__ volatile("pause");
	}
	return 0;
}

void wait_irq(volatile uint32_t *count, uint32_t want)
{
	for (unsigned i = 0; i < 2000000 && *count < want; i++)
		__asm__ volatile("sti; pause; cli");
}
