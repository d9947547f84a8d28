/* The virtio 1.2 PCI transport, modern interface (§4.1). See virtio_pci.h.
 *
 * Locks: t->lock guards every transport register, the MSI-X state and the
 * queue setup. t->ctl serialises the driver's common-configuration writes
 * with the start or reset they cause, so that a reset from one vCPU cannot
 * run inside another's start. The PCI host calls the configuration hooks
 * with its own lock held, so the order is host lock, t->ctl, t->lock, then
 * a device's lock; nothing here calls into the host, and no device path
 * takes t->ctl. The device's start and reset run without t->lock, since a
 * device may interrupt (and so take t->lock) from them. */
#include "dev/virtio/virtio_pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/pci/msix.h"
#include "util/event_loop.h"
#include "util/log.h"

#define VIRTIO_PCI_VENDOR   0x1af4
#define VIRTIO_PCI_DEVICE0  0x1040 /* + device id: modern-only (§4.1.2.1) */
#define VIRTIO_PCI_SUBSYS   0x1100

/* virtio_pci_cap.cfg_type (§4.1.4) */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4
#define CAP_PCI    5

/* Capability offsets in configuration space */
#define CAP_AT_COMMON 0x40
#define CAP_AT_ISR    0x50
#define CAP_AT_DEVICE 0x60
#define CAP_AT_NOTIFY 0x70   /* 20 bytes: + notify_off_multiplier */
#define CAP_AT_PCI    0x84   /* 20 bytes: + pci_cfg_data */
#define CAP_AT_MSIX   0x98
#define PCI_CAP_PTR   0x34
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_SUBSYSTEM_VENDOR 0x2c

/* struct virtio_pci_common_cfg (§4.1.4.3) */
#define CC_DFSELECT     0x00
#define CC_DF           0x04
#define CC_GFSELECT     0x08
#define CC_GF           0x0c
#define CC_MSIX         0x10
#define CC_NUMQ         0x12
#define CC_STATUS       0x14
#define CC_GENERATION   0x15
#define CC_Q_SELECT     0x16
#define CC_Q_SIZE       0x18
#define CC_Q_MSIX       0x1a
#define CC_Q_ENABLE     0x1c
#define CC_Q_NOFF       0x1e
#define CC_Q_DESC       0x20
#define CC_Q_DRIVER     0x28
#define CC_Q_DEVICE     0x30
#define CC_SIZE         0x38

#define ISR_QUEUE  1
#define ISR_CONFIG 2

struct vp_queue {
	struct virtio_pci *t;
	unsigned index;
	uint16_t size, msix_vector;
	bool enabled;
	uint64_t desc, driver, device;
	struct virtq vq;
	int kick_fd;             /* eventfd: the driver notified */
	bool kick_added;         /* on the event loop */
	bool ioeventfd;          /* the engine signals kick_fd itself */
	uint64_t ioeventfd_gpa;
};

struct virtio_pci {
	pthread_mutex_t lock;
	pthread_mutex_t ctl;     /* driver writes + the start/reset they cause */
	struct virtio_pci_env env;
	const struct virtio_device_ops *ops; /* = &ops_copy */
	struct virtio_device_ops ops_copy;   /* a device may keep its ops inside itself */
	void *dev;
	struct pci_function fn;
	struct msix msix;
	uint64_t offered, driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_select;
	uint8_t status, generation, isr;
	bool intx;
	bool bar_enabled;
	uint64_t bar_addr;       /* BAR 4 while decoding */
	atomic_bool running;     /* DRIVER_OK and no reset since */
	bool needs_reset_logged;  /* since the last reset */
	unsigned needs_reset_logs; /* over the device's life: a guest cannot flood the log */
	bool ioeventfd_warned;
	struct vp_queue q[VIRTIO_MAX_QUEUES];
};

static void put_le(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- interrupts (lock held) ---- */

/* INTx follows the ISR, and is never asserted while MSI-X is on (PCI 3.0
 * §6.8.2: a function with MSI-X enabled must not use INTx). */
static void set_intx(struct virtio_pci *t)
{
	bool level = t->isr != 0 && !t->msix.enabled;
	if (level != t->intx) {
		t->intx = level;
		irq_line_set(&t->fn.intx, level);
	}
}

/* §4.1.5.4 (MSI-X) or §4.1.5.3 (INTx with the ISR status). */
static void interrupt(struct virtio_pci *t, uint16_t vector, uint8_t isr_bit)
{
	if (t->msix.enabled) {
		if (vector != MSIX_NO_VECTOR)
			msix_notify(&t->msix, vector);
		return;
	}
	t->isr |= isr_bit;
	set_intx(t);
}

/* ---- ioeventfds (lock held) ---- */

static uint64_t notify_gpa(const struct virtio_pci *t, unsigned q)
{
	return t->bar_addr + VIRTIO_PCI_NOTIFY_OFF + (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;
}

static void ioeventfds_del(struct virtio_pci *t)
{
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		struct vp_queue *q = &t->q[i];
		if (q->ioeventfd && t->env.ioeventfd.del)
			t->env.ioeventfd.del(t->env.ioeventfd.opaque, q->ioeventfd_gpa, 2, q->kick_fd);
		q->ioeventfd = false;
	}
}

/* Linux notifies with a 16-bit write of the queue index (iowrite16);
 * any other width still reaches notify_io through the bus. */
static void ioeventfds_add(struct virtio_pci *t)
{
	if (!t->bar_enabled || !atomic_load(&t->running) || !t->env.ioeventfd.add)
		return;
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		struct vp_queue *q = &t->q[i];
		if (!q->enabled || q->ioeventfd)
			continue;
		uint64_t gpa = notify_gpa(t, i);
		int r = t->env.ioeventfd.add(t->env.ioeventfd.opaque, gpa, 2, q->kick_fd);
		if (r == 0) {
			q->ioeventfd = true;
			q->ioeventfd_gpa = gpa;
		} else if (r != -ENOTSUP && !t->ioeventfd_warned) {
			t->ioeventfd_warned = true; /* a guest moving BARs onto each other could repeat it */
			log_warn("%s: queue %u: ioeventfd at %#llx: %s (notifications take the exit path)",
				 t->ops->name, i, (unsigned long long)gpa, strerror(-r));
		}
	}
}

/* ---- reset and start ---- */

static void reset_registers(struct virtio_pci *t)
{
	ioeventfds_del(t);
	t->driver_features = 0;
	t->dfselect = t->gfselect = 0;
	t->config_vector = MSIX_NO_VECTOR;
	t->queue_select = 0;
	t->status = 0;
	t->isr = 0;
	set_intx(t);
	t->needs_reset_logged = false;
	for (unsigned i = 0; i < t->ops->num_queues; i++) {
		struct vp_queue *q = &t->q[i];
		q->size = t->ops->queue_max_size;
		q->msix_vector = MSIX_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
		memset(&q->vq, 0, sizeof(q->vq));
	}
}

/* §2.4: the device stops using the queues before the driver sees status 0. */
static void do_reset(struct virtio_pci *t)
{
	atomic_store(&t->running, false);
	if (t->ops->reset)
		t->ops->reset(t->dev);
	pthread_mutex_lock(&t->lock);
	reset_registers(t);
	pthread_mutex_unlock(&t->lock);
}

/* A driver that keeps breaking the rules and resetting gets this many
 * warnings, not one per reset. */
#define NEEDS_RESET_LOGS 8

static void mark_needs_reset(struct virtio_pci *t, const char *why)
{
	atomic_store(&t->running, false);
	if (!t->needs_reset_logged && t->needs_reset_logs < NEEDS_RESET_LOGS) {
		t->needs_reset_logs++;
		log_warn("%s: %s: the device needs a reset%s", t->ops->name, why,
			 t->needs_reset_logs == NEEDS_RESET_LOGS ? " (further ones are not logged)" : "");
	}
	t->needs_reset_logged = true;
	if (!(t->status & VIRTIO_STATUS_NEEDS_RESET)) {
		t->status |= VIRTIO_STATUS_NEEDS_RESET;
		interrupt(t, t->config_vector, ISR_CONFIG);
	}
}

static void do_start(struct virtio_pci *t)
{
	pthread_mutex_lock(&t->lock);
	uint64_t features = t->driver_features;
	bool ok = (t->status & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_unlock(&t->lock);
	int r = ok ? (t->ops->start ? t->ops->start(t->dev, features) : 0) : -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (r < 0) {
		mark_needs_reset(t, ok ? "cannot start" : "DRIVER_OK without FEATURES_OK");
	} else {
		atomic_store(&t->running, true);
		ioeventfds_add(t);
		/* A kick that came while the device was starting found it not
		 * running and was dropped: the device looks at every queue once. */
		uint64_t one = 1;
		for (unsigned i = 0; i < t->ops->num_queues; i++)
			if (t->q[i].enabled && write(t->q[i].kick_fd, &one, sizeof(one)) < 0)
				log_debug("%s: queue %u: kick: %s", t->ops->name, i, strerror(errno));
	}
	pthread_mutex_unlock(&t->lock);
}

/* ---- common configuration (§4.1.4.3) ---- */

enum action { ACT_NONE, ACT_RESET, ACT_START };

static struct vp_queue *selected(struct virtio_pci *t)
{
	return t->queue_select < t->ops->num_queues ? &t->q[t->queue_select] : NULL;
}

static void common_image(struct virtio_pci *t, uint8_t *img)
{
	memset(img, 0, CC_SIZE);
	put_le(img + CC_DFSELECT, 4, t->dfselect);
	put_le(img + CC_DF, 4, t->dfselect < 2 ? (uint32_t)(t->offered >> (32 * t->dfselect)) : 0);
	put_le(img + CC_GFSELECT, 4, t->gfselect);
	put_le(img + CC_GF, 4, t->gfselect < 2 ? (uint32_t)(t->driver_features >> (32 * t->gfselect)) : 0);
	put_le(img + CC_MSIX, 2, t->config_vector);
	put_le(img + CC_NUMQ, 2, t->ops->num_queues);
	img[CC_STATUS] = t->status;
	img[CC_GENERATION] = t->generation;
	put_le(img + CC_Q_SELECT, 2, t->queue_select);
	struct vp_queue *q = selected(t);
	if (!q)
		return; /* queue_size 0: no such queue (§4.1.4.3.1) */
	put_le(img + CC_Q_SIZE, 2, q->size);
	put_le(img + CC_Q_MSIX, 2, q->msix_vector);
	put_le(img + CC_Q_ENABLE, 2, q->enabled);
	put_le(img + CC_Q_NOFF, 2, q->index);
	put_le(img + CC_Q_DESC, 8, q->desc);
	put_le(img + CC_Q_DRIVER, 8, q->driver);
	put_le(img + CC_Q_DEVICE, 8, q->device);
}

static uint64_t common_read(struct virtio_pci *t, uint64_t off, unsigned size)
{
	uint8_t img[CC_SIZE];
	common_image(t, img);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		if (off + i < CC_SIZE)
			v |= (uint64_t)img[off + i] << (8 * i);
	return v;
}

static uint16_t msix_vector_or_none(const struct virtio_pci *t, uint64_t v)
{
	/* §4.1.5.1.2: a vector the device cannot map reads back as NO_VECTOR. */
	return v < t->msix.nvec ? (uint16_t)v : MSIX_NO_VECTOR;
}

static void set_half(uint64_t *field, uint64_t off_in_field, unsigned size, uint64_t v)
{
	if (size == 8 && off_in_field == 0) {
		*field = v;
	} else if (size == 4) {
		unsigned sh = off_in_field == 4 ? 32 : 0;
		*field = (*field & ~(0xffffffffULL << sh)) | ((v & 0xffffffffULL) << sh);
	}
}

static void queue_enable(struct virtio_pci *t, struct vp_queue *q)
{
	if (q->enabled)
		return;
	bool ev = t->driver_features & (1ULL << VIRTIO_F_RING_EVENT_IDX);
	bool ind = t->driver_features & (1ULL << VIRTIO_F_RING_INDIRECT_DESC);
	if (virtq_init(&q->vq, t->env.mem, q->size, q->desc, q->driver, q->device, ev, ind) < 0) {
		char why[96];
		snprintf(why, sizeof(why), "queue %u: size %u or ring addresses invalid", q->index, q->size);
		mark_needs_reset(t, why);
		return;
	}
	q->enabled = true;
}

static enum action common_write(struct virtio_pci *t, uint64_t off, unsigned size, uint64_t v)
{
	struct vp_queue *q = selected(t);
	bool live = t->status & VIRTIO_STATUS_DRIVER_OK;
	/* The driver writes each field with its own width (§4.1.3.1); the
	 * 64-bit ones may come as two dwords. */
	if (off >= CC_Q_DESC && off < CC_SIZE && (size == 4 || size == 8) && (off & (size - 1)) == 0) {
		if (!q || live || q->enabled)
			return ACT_NONE;
		uint64_t *field = off < CC_Q_DRIVER ? &q->desc : off < CC_Q_DEVICE ? &q->driver : &q->device;
		set_half(field, off & 7, size, v);
		return ACT_NONE;
	}
	switch (off | (uint64_t)size << 8) {
	case CC_DFSELECT | 4 << 8: t->dfselect = (uint32_t)v; break;
	case CC_GFSELECT | 4 << 8: t->gfselect = (uint32_t)v; break;
	case CC_GF | 4 << 8:
		if (t->gfselect < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * t->gfselect;
			t->driver_features = (t->driver_features & ~(0xffffffffULL << sh)) | ((v & 0xffffffffULL) << sh);
		}
		break;
	case CC_MSIX | 2 << 8: t->config_vector = msix_vector_or_none(t, v); break;
	case CC_STATUS | 1 << 8: {
		uint8_t s = (uint8_t)v;
		if (s == 0)
			return ACT_RESET;
		/* §2.2.2: FEATURES_OK stays clear unless the subset is acceptable;
		 * §6.1: a modern device requires VERSION_1. */
		if ((s & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK) &&
		    ((t->driver_features & ~t->offered) || !(t->driver_features & (1ULL << VIRTIO_F_VERSION_1))))
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		/* §2.1: a driver sets bits and clears them only by a reset; a
		 * write that drops some is taken for the bits it adds, so
		 * DRIVER_OK cannot go away and come back without a reset. */
		bool start = (s & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_DRIVER_OK);
		t->status = (uint8_t)(s | t->status);
		return start ? ACT_START : ACT_NONE;
	}
	case CC_Q_SELECT | 2 << 8: t->queue_select = (uint16_t)v; break;
	case CC_Q_SIZE | 2 << 8:
		if (q && !q->enabled && !live)
			q->size = (uint16_t)v; /* checked when enabled */
		break;
	case CC_Q_MSIX | 2 << 8:
		if (q)
			q->msix_vector = msix_vector_or_none(t, v);
		break;
	case CC_Q_ENABLE | 2 << 8:
		/* §3.1.1: queues are set up after FEATURES_OK, whose features
		 * (EVENT_IDX, INDIRECT_DESC) decide how the walker reads them. */
		if (q && v == 1 && !live && (t->status & VIRTIO_STATUS_FEATURES_OK))
			queue_enable(t, q);
		break;
	default:
		log_debug("%s: common config: ignored %u-byte write at %#llx", t->ops->name, size,
			  (unsigned long long)off);
		break;
	}
	return ACT_NONE;
}

/* ---- BAR 4 ---- */

static void kick(struct virtio_pci *t, uint64_t off)
{
	uint64_t qi = off / VIRTIO_PCI_NOTIFY_MULT;
	if (qi >= t->ops->num_queues)
		return;
	uint64_t one = 1;
	/* The same eventfd KVM signals itself: one path to the device. */
	if (write(t->q[qi].kick_fd, &one, sizeof(one)) < 0)
		log_debug("%s: queue %llu: kick: %s", t->ops->name, (unsigned long long)qi, strerror(errno));
}

static void bar_io(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	struct virtio_pci *t = opaque;
	enum action act = ACT_NONE;
	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		if (is_write)
			kick(t, off - VIRTIO_PCI_NOTIFY_OFF);
		else
			*value = 0;
		return;
	}
	bool control = off < VIRTIO_PCI_ISR_OFF && is_write;
	if (control)
		pthread_mutex_lock(&t->ctl);
	pthread_mutex_lock(&t->lock);
	if (off < VIRTIO_PCI_ISR_OFF) {
		if (is_write)
			act = common_write(t, off, size, *value);
		else
			*value = common_read(t, off, size);
	} else if (off < VIRTIO_PCI_DEVICE_OFF) {
		/* §4.1.4.5: reading the ISR status clears it and the INTx line. */
		if (!is_write) {
			*value = off == VIRTIO_PCI_ISR_OFF ? t->isr : 0;
			if (off == VIRTIO_PCI_ISR_OFF) {
				t->isr = 0;
				set_intx(t);
			}
		}
	} else {
		uint64_t o = off - VIRTIO_PCI_DEVICE_OFF;
		uint8_t buf[8] = { 0 };
		bool inside = size <= 8 && o < t->ops->config_size && size <= t->ops->config_size - o;
		if (is_write) {
			put_le(buf, size <= 8 ? size : 8, *value);
			if (inside && t->ops->config_write)
				t->ops->config_write(t->dev, (unsigned)o, size, buf);
		} else {
			if (inside && t->ops->config_read)
				t->ops->config_read(t->dev, (unsigned)o, size, buf);
			uint64_t v = 0;
			for (unsigned i = 0; i < size && i < 8; i++)
				v |= (uint64_t)buf[i] << (8 * i);
			*value = v;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (act == ACT_RESET)
		do_reset(t);
	else if (act == ACT_START)
		do_start(t);
	if (control)
		pthread_mutex_unlock(&t->ctl);
}

static void msix_bar_io(void *opaque, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	struct virtio_pci *t = opaque;
	pthread_mutex_lock(&t->lock);
	msix_bar_access(&t->msix, off, size, is_write, value);
	pthread_mutex_unlock(&t->lock);
}

/* ---- configuration space hooks (host lock held) ---- */

static bool overlaps(unsigned off, unsigned size, unsigned lo, unsigned len)
{
	return off < lo + len && off + size > lo;
}

static uint32_t cfg_le(const struct pci_config *c, unsigned off, unsigned size)
{
	return pci_config_read(c, off, size);
}

/* VIRTIO_PCI_CAP_PCI_CFG (§4.1.4.9): a window onto the BAR through
 * configuration space, for firmware without BAR access. */
static void pci_cfg_window(struct virtio_pci *t, bool is_write)
{
	struct pci_config *c = &t->fn.cfg;
	unsigned bar = c->data[CAP_AT_PCI + 4];
	uint32_t off = cfg_le(c, CAP_AT_PCI + 8, 4), len = cfg_le(c, CAP_AT_PCI + 12, 4);
	if (bar != VIRTIO_PCI_BAR || (len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
	    off >= VIRTIO_PCI_BAR_SIZE)
		return;
	uint64_t v = cfg_le(c, CAP_AT_PCI + 16, len);
	bar_io(t, off, len, is_write, &v);
	if (!is_write)
		put_le(c->data + CAP_AT_PCI + 16, len, v);
}

static void config_written(void *opaque, unsigned off, unsigned size)
{
	struct virtio_pci *t = opaque;
	if (overlaps(off, size, CAP_AT_PCI + 16, 4))
		pci_cfg_window(t, true);
	pthread_mutex_lock(&t->lock);
	if (overlaps(off, size, CAP_AT_MSIX, MSIX_CAP_SIZE)) {
		msix_config_written(&t->msix, &t->fn.cfg);
		set_intx(t);
	}
	pthread_mutex_unlock(&t->lock);
}

static void config_read(void *opaque, unsigned off, unsigned size)
{
	struct virtio_pci *t = opaque;
	if (overlaps(off, size, CAP_AT_PCI + 16, 4))
		pci_cfg_window(t, false);
}

static void bar_changed(void *opaque, unsigned i, uint64_t addr, bool enabled)
{
	struct virtio_pci *t = opaque;
	if (i != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&t->lock);
	ioeventfds_del(t);
	t->bar_enabled = enabled;
	t->bar_addr = addr;
	ioeventfds_add(t);
	pthread_mutex_unlock(&t->lock);
}

/* ---- the I/O thread ---- */

static void on_kick(void *opaque, uint32_t events)
{
	struct vp_queue *q = opaque;
	uint64_t n;
	(void)events;
	if (read(q->kick_fd, &n, sizeof(n)) < 0)
		return;
	if (atomic_load(&q->t->running))
		q->t->ops->notify(q->t->dev, q->index);
}

/* ---- the device's side (virtio_dev.h) ---- */

struct virtq *virtio_pci_queue(struct virtio_pci *t, unsigned q)
{
	return q < t->ops->num_queues && t->q[q].enabled ? &t->q[q].vq : NULL;
}

void virtio_pci_queue_interrupt(struct virtio_pci *t, unsigned qi)
{
	if (qi >= t->ops->num_queues)
		return;
	/* Under the lock: a device calls this after dropping its own lock, so
	 * a reset may have run meanwhile and cleared the queue (its rings
	 * NULL) under t->lock; unlocked, that was a NULL dereference here. */
	pthread_mutex_lock(&t->lock);
	if (atomic_load(&t->running) && t->q[qi].enabled && virtq_need_interrupt(&t->q[qi].vq))
		interrupt(t, t->q[qi].msix_vector, ISR_QUEUE);
	pthread_mutex_unlock(&t->lock);
}

void virtio_pci_config_changed(struct virtio_pci *t)
{
	pthread_mutex_lock(&t->lock);
	t->generation++;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(t, t->config_vector, ISR_CONFIG);
	pthread_mutex_unlock(&t->lock);
}

void virtio_pci_needs_reset(struct virtio_pci *t, const char *why)
{
	pthread_mutex_lock(&t->lock);
	mark_needs_reset(t, why);
	pthread_mutex_unlock(&t->lock);
}

/* ---- creation ---- */

static void vendor_cap(struct pci_config *c, unsigned at, unsigned next, unsigned len, uint8_t type,
		       uint32_t offset, uint32_t length)
{
	c->data[at] = 0x09; /* vendor-specific (PCI 3.0 appendix H) */
	c->data[at + 1] = (uint8_t)next;
	c->data[at + 2] = (uint8_t)len;
	c->data[at + 3] = type;
	c->data[at + 4] = VIRTIO_PCI_BAR;
	put_le(c->data + at + 8, 4, offset);
	put_le(c->data + at + 12, 4, length);
}

static void build_config(struct virtio_pci *t)
{
	struct pci_config *c = &t->fn.cfg;
	const struct virtio_device_ops *ops = t->ops;
	pci_config_init(c, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE0 + ops->device_id), 1, ops->pci_class, 0);
	put_le(c->data + PCI_SUBSYSTEM_VENDOR, 2, VIRTIO_PCI_VENDOR);
	put_le(c->data + PCI_SUBSYSTEM_VENDOR + 2, 2, VIRTIO_PCI_SUBSYS);
	put_le(c->data + PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	c->data[PCI_CAP_PTR] = CAP_AT_COMMON;
	/* §4.1.4: common, ISR, device (if the device has a configuration),
	 * notify, PCI configuration access, then MSI-X. */
	unsigned after_isr = ops->config_size ? CAP_AT_DEVICE : CAP_AT_NOTIFY;
	vendor_cap(c, CAP_AT_COMMON, CAP_AT_ISR, 16, CAP_COMMON, VIRTIO_PCI_COMMON_OFF, 0x1000);
	vendor_cap(c, CAP_AT_ISR, after_isr, 16, CAP_ISR, VIRTIO_PCI_ISR_OFF, 0x1000);
	if (ops->config_size)
		vendor_cap(c, CAP_AT_DEVICE, CAP_AT_NOTIFY, 16, CAP_DEVICE, VIRTIO_PCI_DEVICE_OFF, 0x1000);
	vendor_cap(c, CAP_AT_NOTIFY, CAP_AT_PCI, 20, CAP_NOTIFY, VIRTIO_PCI_NOTIFY_OFF, 0x1000);
	put_le(c->data + CAP_AT_NOTIFY + 16, 4, VIRTIO_PCI_NOTIFY_MULT);
	vendor_cap(c, CAP_AT_PCI, CAP_AT_MSIX, 20, CAP_PCI, 0, 0);
	c->data[CAP_AT_PCI + 4] = 0;
	pci_config_set_wmask(c, CAP_AT_PCI + 4, 1, 0xff, 0);
	pci_config_set_wmask(c, CAP_AT_PCI + 8, 4, 0xffffffff, 0);
	pci_config_set_wmask(c, CAP_AT_PCI + 12, 4, 0xffffffff, 0);
	pci_config_set_wmask(c, CAP_AT_PCI + 16, 4, 0xffffffff, 0);
	msix_init(&t->msix, c, CAP_AT_MSIX, 0, ops->num_queues + 1, VIRTIO_PCI_MSIX_BAR, 0,
		  VIRTIO_PCI_MSIX_PBA_OFF, &t->env.msi);

	t->fn.bar[VIRTIO_PCI_BAR] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .prefetchable = true,
		.size = VIRTIO_PCI_BAR_SIZE, .fn = bar_io, .opaque = t };
	t->fn.bar[VIRTIO_PCI_MSIX_BAR] = (struct pci_bar){ .kind = PCI_BAR_MEM32,
		.size = VIRTIO_PCI_MSIX_BAR_SIZE, .fn = msix_bar_io, .opaque = t };
	t->fn.intx_pin = 1;
	t->fn.opaque = t;
	t->fn.config_written = config_written;
	t->fn.config_read = config_read;
	t->fn.bar_changed = bar_changed;
}

int virtio_pci_create(const struct virtio_pci_env *env, unsigned slot, const struct virtio_device_ops *ops,
		      void *dev, struct virtio_pci **out)
{
	if (!ops->num_queues || ops->num_queues > VIRTIO_MAX_QUEUES || !ops->queue_max_size ||
	    ops->queue_max_size > VIRTQ_MAX_SIZE || (ops->queue_max_size & (ops->queue_max_size - 1)) ||
	    !ops->notify)
		return -EINVAL;
	struct virtio_pci *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->ctl, NULL);
	t->env = *env;
	t->ops_copy = *ops; /* the device may be destroyed first (vm_virtio.c) */
	t->ops = &t->ops_copy;
	t->dev = dev;
	t->offered = ops->features | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_RING_INDIRECT_DESC) |
		     (1ULL << VIRTIO_F_RING_EVENT_IDX);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		t->q[i].t = t;
		t->q[i].index = i;
		t->q[i].kick_fd = -1;
	}
	reset_registers(t);
	build_config(t);
	int r = 0;
	for (unsigned i = 0; i < ops->num_queues && r == 0; i++) {
		struct vp_queue *q = &t->q[i];
		q->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->kick_fd < 0)
			r = -errno;
		else if ((r = event_loop_add(env->io, q->kick_fd, EPOLLIN, on_kick, q)) == 0)
			q->kick_added = true;
	}
	if (r == 0)
		r = pci_host_add_function(env->pci, slot, &t->fn);
	if (r < 0) {
		log_error("%s: PCI slot %u: %s", ops->name, slot, strerror(-r));
		virtio_pci_destroy(t);
		return r;
	}
	*out = t;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	ioeventfds_del(t);
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (t->q[i].kick_added)
			event_loop_remove(t->env.io, t->q[i].kick_fd);
		if (t->q[i].kick_fd >= 0)
			close(t->q[i].kick_fd);
	}
	pthread_mutex_destroy(&t->ctl);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
