/* A 16550A UART (the PC's COM1). Output bytes go to a host file descriptor
 * byte for byte; input arrives through uart16550_receive(). */
#ifndef VMON_DEV_UART16550_H
#define VMON_DEV_UART16550_H

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
void uart16550_destroy(struct uart16550 *u);

/* Queues bytes for the guest to read; returns how many fit in the FIFO. */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

/* The register file as seen by a port access (for unit tests and the bus). */
void uart16550_io(void *opaque, uint64_t offset, unsigned size, int is_write, uint64_t *value);

#endif
