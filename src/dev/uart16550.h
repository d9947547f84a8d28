/* A 16550A UART (the PC's COM1). Output bytes go to a host file descriptor
 * in order, through a buffer and a writer thread (uart16550.c); input
 * arrives through uart16550_receive(). */
#ifndef VMON_DEV_UART16550_H
#define VMON_DEV_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/io_bus.h"
#include "dev/irq.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4

struct uart16550;

/* Claims 8 ports at base. out_fd < 0 discards output (--console none).
 * irq may be NULL (no interrupt controller wired yet). */
int uart16550_create(struct io_bus *bus, uint16_t base, int out_fd, const struct irq_line *irq,
		     struct uart16550 **out);
/* Writes out every buffered byte first; a reader that takes nothing for a
 * second is given up on (one line on stderr says how much was lost). */
void uart16550_destroy(struct uart16550 *u);
/* The run is ending: a guest THR write into a full buffer no longer waits
 * for the reader (the byte is dropped; buffered output is still written
 * at destroy). Any thread, idempotent. */
void uart16550_release(struct uart16550 *u);

/* Queues bytes for the guest to read; returns how many the receiver took:
 * no more than fit in the FIFO, and none while input is held (below). When
 * it takes fewer than len, the notify function of uart16550_connect_input()
 * is called once the receiver can take more. */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

typedef void uart16550_notify_fn(void *opaque);

/* Connects an input source. hold: take no input until the guest's driver is
 * ready for it, so a FIFO reset while it sets the port up loses nothing
 * (for piped stdin, which has no person to type again). Ready means the
 * received-data interrupt can reach the CPU (IER bit 0 and MCR OUT2, which
 * gates IRQ 4 on a PC), or the guest polls: UART_POLL_READS reads of LSR in
 * a row, with the interrupt off, room in the transmitter and no register
 * write between them (a driver that prints reads LSR once or twice per byte
 * it writes, or many while the output buffer is full: neither is polling
 * for input). Polling
 * is remembered; the interrupt condition is followed as it changes.
 * notify (may be NULL) is called from the thread of the guest access with
 * the UART's lock held: it must be quick and not call back into the UART.
 * Once this returns, the previous notify is no longer called. */
#define UART_POLL_READS 16
void uart16550_connect_input(struct uart16550 *u, bool hold, uart16550_notify_fn *notify, void *opaque);

/* The register file as seen by a port access (for unit tests and the bus). */
void uart16550_io(void *opaque, uint64_t offset, unsigned size, int is_write, uint64_t *value);

#endif
