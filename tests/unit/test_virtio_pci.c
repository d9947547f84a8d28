/* The virtio modern PCI transport (virtio 1.2 §4.1) driven as a driver
 * would, through the PCI host's configuration mechanism and the BARs it
 * placed: identification and capabilities, feature negotiation, the status
 * machine and reset, queue setup (a bad one needs a reset), notifications
 * reaching the device on the I/O thread, INTx with the ISR, MSI-X
 * vectors, the device configuration and the PCI configuration access
 * window. A fake device records what the transport asks of it. */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "bus/io_bus.h"
#include "dev/pci/pci_host.h"
#include "dev/virtio/virtio_pci.h"
#include "mem/guest_mem.h"
#include "util/event_loop.h"
#include "unit.h"

static struct io_bus bus;
static struct pci_host *host;
static const unsigned SLOT = 3;

/* ---- the fake device ---- */
struct fake {
	atomic_int notified[2];
	int started, resets;
	uint64_t start_features;
	struct virtio_pci *t;
};
static void fake_cfg_read(void *dev, unsigned off, unsigned size, uint8_t *out)
{
	for (unsigned i = 0; i < size; i++)
		out[i] = (uint8_t)(0xa0 + off + i);
}
static int fake_start(void *dev, uint64_t features)
{
	struct fake *f = dev;
	f->started++;
	f->start_features = features;
	return 0;
}
static void fake_notify(void *dev, unsigned q)
{
	struct fake *f = dev;
	if (q < 2)
		atomic_fetch_add(&f->notified[q], 1);
}
static void fake_reset(void *dev) { ((struct fake *)dev)->resets++; }
static const struct virtio_device_ops fake_ops = {
	.name = "virtio-fake", .device_id = VIRTIO_ID_RNG, .pci_class = 0xff0000, .num_queues = 2,
	.queue_max_size = 64, .features = 1ULL << 5, .config_size = 8, .config_read = fake_cfg_read,
	.start = fake_start, .notify = fake_notify, .reset = fake_reset,
};

/* ---- what reaches the machine ---- */
static int intx_level = -1, intx_gsi = -1;
static void on_irq(void *opaque, unsigned gsi, int level)
{
	intx_gsi = (int)gsi;
	intx_level = level;
}
static unsigned msis;
static uint64_t msi_addr;
static uint32_t msi_data;
static void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
	msis++;
	msi_addr = addr;
	msi_data = data;
}

/* ---- config space and MMIO ---- */
static uint32_t cfg(unsigned reg, unsigned size)
{
	uint64_t a = 0x80000000u | SLOT << 11 | (reg & 0xfc), v = 0;
	io_bus_access(&bus, IO_SPACE_PIO, 0xcf8, 4, true, &a);
	io_bus_access(&bus, IO_SPACE_PIO, 0xcfc + (reg & 3), size, false, &v);
	return (uint32_t)v;
}
static void cfg_w(unsigned reg, unsigned size, uint32_t val)
{
	uint64_t a = 0x80000000u | SLOT << 11 | (reg & 0xfc), v = val;
	io_bus_access(&bus, IO_SPACE_PIO, 0xcf8, 4, true, &a);
	io_bus_access(&bus, IO_SPACE_PIO, 0xcfc + (reg & 3), size, true, &v);
}
static uint64_t bar4, bar1;
static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;
	io_bus_access(&bus, IO_SPACE_MMIO, bar4 + off, size, false, &v);
	return v;
}
static void wr(uint64_t off, unsigned size, uint64_t v) { io_bus_access(&bus, IO_SPACE_MMIO, bar4 + off, size, true, &v); }

#define STATUS 0x14
static void setup_queue(unsigned q, uint16_t size, uint64_t base)
{
	wr(0x16, 2, q);
	wr(0x18, 2, size);
	wr(0x20, 4, base);
	wr(0x24, 4, 0);
	wr(0x28, 8, base + 0x1000);
	wr(0x30, 8, base + 0x2000);
	wr(0x1c, 2, 1);
}
static void negotiate(uint32_t hi, uint32_t lo)
{
	wr(STATUS, 1, 0);
	wr(STATUS, 1, 1 | 2);
	wr(0x08, 4, 1);
	wr(0x0c, 4, hi);
	wr(0x08, 4, 0);
	wr(0x0c, 4, lo);
	wr(STATUS, 1, 1 | 2 | 8);
}

static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 1000 && atomic_load(v) < want; i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return atomic_load(v) >= want;
}

int main(void)
{
	struct guest_mem mem;
	struct event_loop *io;
	struct fake fake = { 0 };
	io_bus_init(&bus);
	CHECK_EQ(guest_mem_init(&mem, 16 << 20), 0);
	CHECK_EQ(pci_host_create(&bus, &host), 0);
	struct irq_line line = { on_irq, NULL, 0 };
	pci_host_set_irq(host, &line);
	CHECK_EQ(event_loop_create(&io), 0);
	CHECK_EQ(event_loop_start(io), 0);
	struct virtio_pci_env env = { .pci = host, .io = io, .mem = &mem, .msi = { on_msi, NULL } };
	CHECK_EQ(virtio_pci_create(&env, SLOT, &fake_ops, &fake, &fake.t), 0);

	/* §4.1.2: 1af4:1044 (0x1040 + rng's 4), revision 1, the device's class */
	CHECK_EQ(cfg(0, 4), 0x10441af4);
	CHECK_EQ(cfg(8, 4), 0xff000001);
	CHECK_EQ(cfg(0x2c, 2), 0x1af4);
	CHECK(cfg(6, 2) & 0x10); /* capabilities list */
	CHECK_EQ(cfg(0x3d, 1), 1); /* INTA */
	/* the capability chain: common, ISR, device, notify, pci-cfg, MSI-X */
	unsigned want[] = { 1, 3, 4, 2, 5 }, n = 0, p = cfg(0x34, 1), msix = 0;
	for (; p && n < 10; p = cfg(p + 1, 1)) {
		if (cfg(p, 1) == 0x11) {
			msix = p;
			continue;
		}
		CHECK_EQ(cfg(p, 1), 9);
		if (n < 5)
			CHECK_EQ(cfg(p + 3, 1), want[n]);
		n++;
	}
	CHECK_EQ(n, 5);
	CHECK(msix != 0);
	/* BAR 4: 64-bit prefetchable memory; BAR 1: 32-bit memory */
	CHECK_EQ(cfg(0x20, 4) & 0xf, 0xc);
	CHECK_EQ(cfg(0x14, 4) & 0xf, 0x0);
	bar4 = ((uint64_t)cfg(0x24, 4) << 32) | (cfg(0x20, 4) & ~0xfu);
	bar1 = cfg(0x14, 4) & ~0xfu;
	CHECK(bar4 != 0 && bar1 != 0);

	/* features: VERSION_1, INDIRECT, EVENT_IDX and the device's bit 5 */
	wr(0x00, 4, 0);
	CHECK_EQ(rd(0x04, 4), (1u << 5) | (1u << 28) | (1u << 29));
	wr(0x00, 4, 1);
	CHECK_EQ(rd(0x04, 4), 1);
	wr(0x00, 4, 2);
	CHECK_EQ(rd(0x04, 4), 0);
	CHECK_EQ(rd(0x12, 2), 2);
	wr(0x16, 2, 1);
	CHECK_EQ(rd(0x18, 2), 64);
	wr(0x16, 2, 2);
	CHECK_EQ(rd(0x18, 2), 0); /* no such queue */
	/* FEATURES_OK: refused without VERSION_1, or with a bit not offered */
	negotiate(0, 1u << 5);
	CHECK_EQ(rd(STATUS, 1), 3);
	negotiate(1, 1u << 6);
	CHECK_EQ(rd(STATUS, 1), 3);
	negotiate(1, 1u << 5);
	CHECK_EQ(rd(STATUS, 1), 0xb);

	/* a queue the walker refuses (size 3): DEVICE_NEEDS_RESET and, with
	 * MSI-X off, INTx with ISR bit 1 (configuration change) */
	setup_queue(0, 3, 0x10000);
	CHECK_EQ(rd(STATUS, 1), 0x4b);
	CHECK_EQ(intx_level, 1);
	CHECK_EQ(intx_gsi, 16 + (SLOT + 1 - 1) % 4);
	CHECK_EQ(rd(0x1000, 1), 2);
	CHECK_EQ(intx_level, 0);
	CHECK_EQ(rd(0x1000, 1), 0);
	/* reset: the device is told, everything reads as at power-on */
	int resets = fake.resets;
	wr(STATUS, 1, 0);
	CHECK_EQ(fake.resets, resets + 1);
	CHECK_EQ(rd(STATUS, 1), 0);
	wr(0x16, 2, 0);
	CHECK_EQ(rd(0x1c, 2), 0);
	CHECK_EQ(rd(0x18, 2), 64);

	/* a queue enabled before FEATURES_OK is refused (§3.1.1 order) */
	wr(STATUS, 1, 1 | 2);
	setup_queue(0, 16, 0x10000);
	CHECK_EQ(rd(0x1c, 2), 0);
	wr(STATUS, 1, 0);

	/* a good setup: two queues, DRIVER_OK starts the device */
	negotiate(1, 0);
	setup_queue(0, 16, 0x10000);
	setup_queue(1, 64, 0x20000);
	wr(0x16, 2, 1);
	CHECK_EQ(rd(0x1c, 2), 1);
	CHECK_EQ(rd(0x20, 8), 0x20000);
	CHECK_EQ(rd(0x1e, 2), 1); /* queue_notify_off */
	wr(STATUS, 1, 0xf);
	CHECK_EQ(fake.started, 1);
	CHECK_EQ(fake.start_features, 1ULL << 32);
	CHECK_EQ(rd(STATUS, 1), 0xf);
	/* bits go away only by a reset: DRIVER_OK cannot be dropped and set
	 * again to start the device twice */
	wr(STATUS, 1, 3);
	CHECK_EQ(rd(STATUS, 1), 0xf);
	wr(STATUS, 1, 0xf);
	CHECK_EQ(fake.started, 1);
	/* queue addresses are frozen once enabled */
	wr(0x20, 8, 0x30000);
	CHECK_EQ(rd(0x20, 8), 0x20000);
	/* DRIVER_OK looks at every enabled queue once (a kick during the start
	 * would have been dropped) */
	CHECK(wait_for(&fake.notified[0], 1));
	CHECK(wait_for(&fake.notified[1], 1));
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	int n0 = atomic_load(&fake.notified[0]), n1 = atomic_load(&fake.notified[1]);
	CHECK_EQ(n0, 1);
	CHECK_EQ(n1, 1);
	/* notify: queue 1 at notify_off 1 * multiplier 4, served on the I/O thread */
	wr(0x3000 + 4, 2, 1);
	CHECK(wait_for(&fake.notified[1], n1 + 1));
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	CHECK_EQ(atomic_load(&fake.notified[0]), n0);
	wr(0x3000 + 64, 2, 0); /* past the queues: nothing */
	/* INTx for a queue: ISR bit 0 */
	virtio_pci_queue_interrupt(fake.t, 1);
	CHECK_EQ(intx_level, 1);
	CHECK_EQ(rd(0x1000, 1), 1);
	CHECK_EQ(intx_level, 0);

	/* MSI-X: 3 vectors (2 queues + config); vector 0 for queue 1 */
	CHECK_EQ(cfg(msix + 2, 2) & 0x7ff, 2);
	cfg_w(msix + 2, 2, 0x8000);
	uint64_t v = 0xfee00000;
	io_bus_access(&bus, IO_SPACE_MMIO, bar1 + 0, 4, true, &v);
	v = 0x4055;
	io_bus_access(&bus, IO_SPACE_MMIO, bar1 + 8, 4, true, &v);
	v = 0;
	io_bus_access(&bus, IO_SPACE_MMIO, bar1 + 12, 4, true, &v);
	wr(0x16, 2, 1);
	wr(0x1a, 2, 3); /* beyond the table: NO_VECTOR */
	CHECK_EQ(rd(0x1a, 2), 0xffff);
	virtio_pci_queue_interrupt(fake.t, 1);
	CHECK_EQ(msis, 0); /* no vector: no interrupt, and no INTx either */
	CHECK_EQ(intx_level, 0);
	wr(0x1a, 2, 0);
	CHECK_EQ(rd(0x1a, 2), 0);
	virtio_pci_queue_interrupt(fake.t, 1);
	CHECK_EQ(msis, 1);
	CHECK_EQ(msi_addr, 0xfee00000);
	CHECK_EQ(msi_data, 0x4055);
	CHECK_EQ(rd(0x1000, 1), 0);

	/* device configuration: bytes inside config_size, zero beyond */
	CHECK_EQ(rd(0x2000, 4), 0xa3a2a1a0);
	CHECK_EQ(rd(0x2006, 2), 0xa7a6);
	CHECK_EQ(rd(0x2007, 2), 0);
	/* the PCI configuration access window (§4.1.4.9): num_queues via BAR 4 */
	unsigned pc = 0x84;
	CHECK_EQ(cfg(pc + 3, 1), 5);
	cfg_w(pc + 4, 1, 4);
	cfg_w(pc + 8, 4, 0x12);
	cfg_w(pc + 12, 4, 2);
	CHECK_EQ(cfg(pc + 16, 2), 2);
	cfg_w(pc + 4, 1, 3); /* another BAR: the window does nothing */
	cfg_w(pc + 16, 4, 0x1234);

	/* a reset through the window (negotiate() above reset once more) */
	resets = fake.resets;
	cfg_w(pc + 4, 1, 4);
	cfg_w(pc + 8, 4, STATUS);
	cfg_w(pc + 12, 4, 1);
	cfg_w(pc + 16, 1, 0);
	CHECK_EQ(fake.resets, resets + 1);
	CHECK_EQ(rd(STATUS, 1), 0);

	virtio_pci_destroy(fake.t);
	event_loop_stop(io);
	event_loop_destroy(io);
	pci_host_destroy(host);
	io_bus_destroy(&bus);
	guest_mem_destroy(&mem);
	return unit_report("virtio_pci");
}
