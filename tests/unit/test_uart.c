/* The 16550A register file as a driver sees it. */
#include <unistd.h>

#include "dev/uart16550.h"
#include "unit.h"

static struct uart16550 *u;
static int irq_level = -1, irq_changes;

static void set_level(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	CHECK_EQ(gsi, 4);
	irq_level = level;
	irq_changes++;
}

static int notified;

static void on_notify(void *opaque)
{
	CHECK(opaque == &notified);
	notified++;
}

static uint8_t rd(unsigned reg)
{
	uint64_t v = 0;
	uart16550_io(u, reg, 1, 0, &v);
	return (uint8_t)v;
}

static void wr(unsigned reg, uint8_t val)
{
	uint64_t v = val;
	uart16550_io(u, reg, 1, 1, &v);
}

int main(void)
{
	int fds[2];
	CHECK_EQ(pipe(fds), 0);
	struct irq_line irq = { set_level, NULL, 4 };
	CHECK_EQ(uart16550_create(NULL, 0x3f8, fds[1], &irq, &u), 0);

	/* Idle: THR empty and transmitter empty, nothing received, no interrupt. */
	CHECK_EQ(rd(5), 0x60);
	CHECK_EQ(rd(2) & 0x0f, 0x01);
	/* Modem status as a connected line: DCD, DSR, CTS. */
	CHECK_EQ(rd(6), 0xb0);

	/* Bytes written to THR reach the host byte for byte. */
	wr(0, 'h');
	wr(0, 'i');
	wr(0, 0);
	char buf[4] = { 0 };
	CHECK_EQ(read(fds[0], buf, 3), 3);
	CHECK(buf[0] == 'h' && buf[1] == 'i' && buf[2] == 0);

	/* Divisor latch: DLAB switches offsets 0/1 to DLL/DLM. */
	wr(3, 0x80);
	wr(0, 0x01);
	wr(1, 0x00);
	CHECK_EQ(rd(0), 0x01);
	CHECK_EQ(rd(1), 0x00);
	wr(3, 0x03); /* 8N1, DLAB off */
	CHECK_EQ(rd(3), 0x03);
	CHECK_EQ(rd(1), 0x00); /* IER again */

	/* Scratch register holds a value (drivers probe with it). */
	wr(7, 0x5a);
	CHECK_EQ(rd(7), 0x5a);

	/* FIFO enable shows in IIR bits 7:6. */
	wr(2, 0x07);
	CHECK_EQ(rd(2) & 0xc0, 0xc0);

	/* THRE interrupt: enabling it with THR empty raises IRQ 4 (with OUT2). */
	wr(4, 0x08);
	wr(1, 0x02);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(rd(2) & 0x0f, 0x02);   /* reading IIR clears THRE ... */
	CHECK_EQ(irq_level, 0);         /* ... and drops the line */
	CHECK_EQ(rd(2) & 0x0f, 0x01);

	/* Receive: data ready, RDI interrupt has priority, bytes in order. */
	wr(1, 0x01);
	const uint8_t in[3] = { 'a', 'b', 'c' };
	CHECK_EQ(uart16550_receive(u, in, 3), 3);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(rd(5) & 0x01, 0x01);
	CHECK_EQ(rd(2) & 0x0f, 0x04);
	CHECK_EQ(rd(0), 'a');
	CHECK_EQ(rd(0), 'b');
	CHECK_EQ(rd(0), 'c');
	CHECK_EQ(rd(5) & 0x01, 0x00);
	CHECK_EQ(irq_level, 0);

	/* The FIFO holds 16 bytes; more is refused, not lost silently. */
	uint8_t many[20] = { 0 };
	CHECK_EQ(uart16550_receive(u, many, 20), 16);
	wr(2, 0x03); /* clear the receive FIFO */
	CHECK_EQ(rd(5) & 0x01, 0x00);

	/* Loopback: THR comes back in RBR, MCR outputs show in MSR. */
	wr(4, 0x10 | 0x0b);
	wr(0, 'L');
	CHECK_EQ(rd(0), 'L');
	CHECK_EQ(rd(6) & 0xf0, 0xb0);
	CHECK_EQ(irq_changes >= 2, 1);

	uart16550_destroy(u);

	/* Without hold: a full FIFO turns the source away, and the first read
	 * of RBR that makes room tells it once. */
	CHECK_EQ(uart16550_create(NULL, 0x3f8, fds[1], NULL, &u), 0);
	uart16550_connect_input(u, false, on_notify, &notified);
	notified = 0;
	CHECK_EQ(uart16550_receive(u, many, 20), 16);
	CHECK_EQ(notified, 0);
	rd(5);
	CHECK_EQ(notified, 0); /* still full */
	rd(0);
	CHECK_EQ(notified, 1);
	rd(0);
	CHECK_EQ(notified, 1); /* once per refusal */
	uart16550_destroy(u);

	/* Hold (piped stdin): the register sequence Debian's 6.1 kernel writes
	 * while it probes and opens ttyS0 (recorded under vmon). Nothing is
	 * taken until the received-data interrupt can reach the CPU, so its
	 * FIFO resets lose nothing. */
	CHECK_EQ(uart16550_create(NULL, 0x3f8, fds[1], &irq, &u), 0);
	uart16550_connect_input(u, true, on_notify, &notified);
	notified = 0;
	const uint8_t cmd[4] = { 'l', 's', '\r', 'x' };
	CHECK_EQ(uart16550_receive(u, cmd, 4), 0);   /* before the guest ran */
	CHECK_EQ(rd(5) & 0x01, 0x00);
	wr(1, 0x00);
	wr(4, 0x01);                                  /* DTR, no OUT2 */
	wr(1, 0x0f);                                  /* the probe: every IER bit */
	CHECK_EQ(notified, 0);                        /* OUT2 off: no interrupt could come */
	CHECK_EQ(uart16550_receive(u, cmd, 4), 0);
	wr(1, 0x00);
	for (int i = 0; i < 8; i++) {                 /* printing: LSR, THR, LSR, THR */
		rd(5);
		wr(0, '.');
	}
	wr(2, 0x07);                                  /* FIFO reset */
	wr(2, 0x00);
	rd(5);
	CHECK_EQ(rd(0), 0);
	wr(4, 0x09);                                  /* DTR | OUT2 */
	wr(1, 0x02);                                  /* the THRE test */
	rd(5);
	rd(2);
	CHECK_EQ(notified, 0);
	wr(1, 0x05);                                  /* RDI | RLSI: the port is open */
	CHECK_EQ(notified, 1);
	CHECK_EQ(uart16550_receive(u, cmd, 4), 4);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(rd(0), 'l');
	CHECK_EQ(rd(0), 's');
	CHECK_EQ(rd(0), '\r');
	CHECK_EQ(rd(0), 'x');
	wr(2, 0x81);                                  /* set_termios: no reset bit */
	/* Closing the port (IER 0) holds input again; reopening tells the source. */
	wr(1, 0x00);
	CHECK_EQ(uart16550_receive(u, cmd, 4), 0);
	wr(4, 0x01);                                  /* OUT2 off, then RDI on: still held */
	wr(1, 0x01);
	CHECK_EQ(uart16550_receive(u, cmd, 1), 0);
	CHECK_EQ(notified, 1);
	wr(4, 0x09);
	CHECK_EQ(notified, 2);
	uart16550_destroy(u);

	/* Hold, a polling guest (no interrupts): UART_POLL_READS reads of LSR in
	 * a row open the receiver for good; a write between them starts over. */
	CHECK_EQ(uart16550_create(NULL, 0x3f8, fds[1], NULL, &u), 0);
	uart16550_connect_input(u, true, on_notify, &notified);
	notified = 0;
	CHECK_EQ(uart16550_receive(u, cmd, 2), 0);
	for (int i = 0; i < UART_POLL_READS - 1; i++)
		rd(5);
	wr(0, '.');
	for (int i = 0; i < UART_POLL_READS - 1; i++)
		rd(5);
	CHECK_EQ(notified, 0);
	CHECK_EQ(uart16550_receive(u, cmd, 2), 0);
	rd(5);
	CHECK_EQ(notified, 1);
	CHECK_EQ(uart16550_receive(u, cmd, 2), 2);
	CHECK_EQ(rd(5) & 0x01, 0x01);
	CHECK_EQ(rd(0), 'l');
	wr(1, 0x00);
	wr(3, 0x03);                                  /* writes do not close it again */
	CHECK_EQ(rd(0), 's');
	CHECK_EQ(uart16550_receive(u, cmd, 1), 1);
	uart16550_destroy(u);

	close(fds[0]);
	close(fds[1]);
	return unit_report("uart16550");
}
