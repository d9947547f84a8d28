/* virtio-console (virtio 1.2 §5.3): one port, the guest's hvc0. No
 * VIRTIO_CONSOLE_F_MULTIPORT: a single console needs neither the control
 * queues nor port messages, so the device has receiveq (0, host to guest)
 * and transmitq (1, guest to host) only. VIRTIO_CONSOLE_F_SIZE is offered
 * when the input is a terminal: cols and rows are its size at creation.
 *
 * Output: the guest's bytes go to out_fd (stdout) through an outbuf (a
 * non-blocking descriptor of its own): a transmit chain is copied into the
 * 64 KiB buffer and given back; while the buffer is full the transmitq is
 * not taken, the device waits for EPOLLOUT on the I/O thread, and the
 * guest's hvc0 waits, so no output is lost. virtio_console_stop writes
 * what was given back (acknowledged) before vmon exits.
 *
 * Input: the console (console.c) feeds the device as its sink; bytes go
 * into receive buffers, and when the guest has none the sink takes nothing
 * and wakes the console once the guest posts more (receiveq notify), so
 * the console stops reading stdin and nothing is dropped.
 *
 * Threads: notifications and EPOLLOUT on the I/O thread, input on the
 * console's thread, reset on a vCPU thread: all under the device's lock. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_CONSOLE_H
#define VMON_DEV_VIRTIO_VIRTIO_CONSOLE_H

#include "console.h"
#include "dev/virtio/virtio_dev.h"

struct event_loop;
struct virtio_console;
struct virtio_pci;

#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1

/* out_fd: where the guest's output goes (kept the caller's); size_fd: a
 * terminal whose size is offered, or -1. Returns 0 or -errno. */
int virtio_console_create(struct event_loop *io, int out_fd, int size_fd, struct virtio_console **out);
/* The device's ops, for virtio_pci_create(env, slot, ops, dev, &t). */
const struct virtio_device_ops *virtio_console_ops(const struct virtio_console *c);
/* The transport, given once after virtio_pci_create, before the guest runs. */
void virtio_console_attach(struct virtio_console *c, struct virtio_pci *t);
/* The console's input sink (console_start). */
struct console_sink virtio_console_sink(struct virtio_console *c);
/* At exit: writes the acknowledged output (waits at most 2 s for stdout). */
void virtio_console_stop(struct virtio_console *c);
void virtio_console_destroy(struct virtio_console *c);

#endif
