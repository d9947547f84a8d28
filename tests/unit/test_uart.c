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
	close(fds[0]);
	close(fds[1]);
	return unit_report("uart16550");
}
