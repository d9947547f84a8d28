#include "vm_virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/virtio/virtio_blk.h"
#include "dev/virtio/virtio_console.h"
#include "dev/virtio/virtio_net.h"
#include "dev/virtio/virtio_pci.h"
#include "dev/virtio/virtio_rng.h"
#include "dev/virtio/virtio_vsock.h"
#include "util/log.h"
#include "vm.h"

/* One list entry: a device and its transport, destroyed together (the
 * transport first: its notifications leave the event loop). */
struct vm_virtio {
	struct virtio_pci *t;
	void *dev;
	void (*stop)(void *dev);
	void (*destroy)(void *dev);
};

static void entry_stop(void *p)
{
	struct vm_virtio *v = p;
	if (v->stop)
		v->stop(v->dev);
}

/* The device first: it may still complete requests into its queues
 * (the event loop is stopped by now, so no notification arrives); then the
 * transport that holds them. */
static void entry_destroy(void *p)
{
	struct vm_virtio *v = p;
	v->destroy(v->dev);
	virtio_pci_destroy(v->t);
	free(v);
}

/* The machine's side of a transport: MSIs and ioeventfds go to the engine
 * through vm.c's gate. */
static void send_msi(void *opaque, uint64_t addr, uint32_t data) { vm_send_msi(opaque, addr, data); }
static int add_ioeventfd(void *opaque, uint64_t gpa, unsigned len, int fd)
{
	return vm_add_ioeventfd(opaque, gpa, len, fd);
}
static void del_ioeventfd(void *opaque, uint64_t gpa, unsigned len, int fd)
{
	vm_del_ioeventfd(opaque, gpa, len, fd);
}

/* Puts dev on the next PCI slot and the device list; on failure the
 * device is destroyed. */
static int plug(struct vm *vm, const char *name, const struct virtio_device_ops *ops, void *dev,
		void (*stop)(void *), void (*destroy)(void *), struct virtio_pci **t)
{
	struct virtio_pci_env env = {
		.pci = vm->pci, .io = vm->io, .mem = &vm->mem,
		.msi = { send_msi, vm }, .ioeventfd = { add_ioeventfd, del_ioeventfd, vm },
	};
	struct vm_virtio *v = calloc(1, sizeof(*v));
	unsigned slot = ++vm->next_pci_slot; /* slot 0 is the host bridge */
	int r = v ? virtio_pci_create(&env, slot, ops, dev, t) : -ENOMEM;
	if (r < 0) {
		log_error("%s: cannot put it on PCI slot %u: %s", name, slot, strerror(-r));
		free(v);
		destroy(dev);
		return r;
	}
	*v = (struct vm_virtio){ *t, dev, stop, destroy };
	return vm_add_device(vm, name, v, entry_stop, entry_destroy);
}

static void blk_destroy(void *d) { virtio_blk_destroy(d); }
static void net_destroy(void *d) { virtio_net_destroy(d); }
static void rng_destroy(void *d) { virtio_rng_destroy(d); }
static void console_halt(void *d) { virtio_console_stop(d); }
static void console_destroy(void *d) { virtio_console_destroy(d); }
static void vsock_destroy(void *d) { virtio_vsock_destroy(d); }

int vm_create_virtio(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct virtio_pci *t;
	int r = 0;
	/* One request queue per vCPU (VIRTIO_BLK_F_MQ), as many as the
	 * transport has room for. */
	unsigned nq = cfg->cpus < VIRTIO_MAX_QUEUES ? (cfg->cpus ? cfg->cpus : 1) : VIRTIO_MAX_QUEUES;
	for (unsigned i = 0; i < cfg->ndisks && r == 0; i++) {
		struct virtio_blk *b;
		if ((r = virtio_blk_create(cfg->disks[i].path, cfg->disks[i].ro, nq, i, vm->io, &b)) < 0)
			break; /* the disk said why */
		if ((r = plug(vm, "virtio-blk", virtio_blk_ops(b), b, NULL, blk_destroy, &t)) == 0)
			virtio_blk_attach(b, t);
	}
	for (unsigned i = 0; i < cfg->nets && r == 0; i++) {
		struct virtio_net_params p = { .tap = cfg->net[i].tap };
		memcpy(p.mac, cfg->net[i].mac, sizeof(p.mac));
		struct virtio_net *n;
		if ((r = virtio_net_create(&p, vm->io, &n)) < 0)
			break; /* the device said why */
		if ((r = plug(vm, "virtio-net", virtio_net_ops(n), n, NULL, net_destroy, &t)) == 0)
			virtio_net_attach(n, t);
	}
	if (r == 0 && cfg->rng) {
		struct virtio_rng *g;
		if ((r = virtio_rng_create(vm->io, &g)) < 0)
			log_error("--rng: %s", strerror(-r));
		else if ((r = plug(vm, "virtio-rng", virtio_rng_ops(g), g, NULL, rng_destroy, &t)) == 0)
			virtio_rng_attach(g, t);
	}
	if (r == 0 && cfg->console == CONSOLE_VIRTIO) {
		/* hvc0 on stdout; the terminal's size when stdin is one */
		struct virtio_console *c;
		if ((r = virtio_console_create(vm->io, STDOUT_FILENO, isatty(STDIN_FILENO) ? STDIN_FILENO : -1, &c)) < 0)
			log_error("--console virtio: %s", strerror(-r));
		else if ((r = plug(vm, "virtio-console", virtio_console_ops(c), c, console_halt, console_destroy, &t)) == 0) {
			virtio_console_attach(c, t);
			vm->vcon = c;
		}
	}
	if (r == 0 && cfg->vsock_cid) {
		struct virtio_vsock *v;
		r = virtio_vsock_create(vm->io, cfg->vsock_cid, cfg->vsock_uds, &v); /* says why */
		if (r == 0 && (r = plug(vm, "virtio-vsock", virtio_vsock_ops(v), v, NULL, vsock_destroy, &t)) == 0)
			virtio_vsock_attach(v, t);
	}
	return r;
}
