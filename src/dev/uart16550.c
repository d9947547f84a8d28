/* 16550A UART. Register map and bit meanings: National Semiconductor /
 * TI PC16550D datasheet, "Register Description" (table 2).
 *
 * Output: a THR write only appends to a buffer under the lock; a writer
 * thread of the UART's own does the write() calls, so a slow or stopped
 * reader of stdout never blocks a vCPU holding the lock. The buffer plays
 * the transmit FIFO: while fewer than UART_TX_FIFO bytes are free, LSR
 * THRE and TEMT read clear and no THRE interrupt is raised (datasheet
 * "Line Status Register", bits 5-6), so a driver that checks LSR or waits
 * for the interrupt (Linux's 8250: polls LSR per console byte, loads 16
 * bytes per THRE interrupt) waits as on a busy FIFO, and nothing is lost.
 * A guest that writes into a full buffer anyway waits for room (off the
 * lock), until uart16550_release(). Pipes and terminals are written
 * through a non-blocking file description of their own (opened anew
 * through /proc/self/fd, so the O_NONBLOCK never reaches the shell's
 * description), which lets uart16550_destroy() give up on a reader that
 * takes nothing for UART_TX_GIVE_UP_MS instead of hanging vmon's exit. */
#include "dev/uart16550.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

enum {
	REG_RBR_THR = 0, /* DLAB=1: DLL */
	REG_IER = 1,     /* DLAB=1: DLM */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI  0x01 /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI  0x08 /* modem status */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_FIFO 0xc0 /* FIFOs enabled */
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_OUT2 0x08 /* gates the interrupt line on a PC */
#define MCR_LOOP 0x10
#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80

#define RX_FIFO_SIZE 16
#define TX_BUF_SIZE 4096
#define UART_TX_FIFO 16          /* free bytes for THRE: one FIFO load */
#define UART_TX_GIVE_UP_MS 1000  /* at destroy: a reader taking nothing this long is abandoned */

struct uart16550 {
	pthread_mutex_t lock; /* several vCPUs and the I/O thread touch it */
	int out_fd;
	struct irq_line irq;
	bool has_irq;
	int irq_level;

	uint8_t ier, lcr, mcr, lsr_extra, scr, fcr;
	uint16_t divisor;
	bool thr_interrupt; /* THRE interrupt pending until IIR is read or THR written */

	uint8_t rx[RX_FIFO_SIZE];
	unsigned rx_head, rx_count;

	/* Output (see the top of the file). tx[tx_head .. +tx_count) waits for
	 * the writer, which reads it outside the lock: only the writer moves
	 * tx_head, THR writes only fill the free part. */
	uint8_t tx[TX_BUF_SIZE];
	unsigned tx_head, tx_count;
	int wfd;                /* what the writer writes to */
	bool wfd_own;           /* wfd is our non-blocking reopen: close it */
	int wake_fd;            /* eventfd: ends the writer's wait for POLLOUT */
	pthread_t writer;
	bool writer_started;
	pthread_cond_t tx_cond; /* data for the writer; room for a THR write */
	bool closing;           /* destroy: drain, then the writer ends */
	bool released;          /* the run is over: a THR write no longer waits */
	bool thre_on_drain;     /* a THRE interrupt is due once room returns */

	/* Input source (uart16550_connect_input). */
	bool hold;              /* take input only once the guest is ready */
	bool polling;           /* the guest was seen polling LSR for input */
	unsigned lsr_reads;     /* LSR reads since the last register write */
	bool rx_waiting;        /* the source was turned away: notify it */
	uart16550_notify_fn *notify;
	void *notify_opaque;
};

static bool rx_ready(const struct uart16550 *u)
{
	return !u->hold || u->polling || ((u->ier & IER_RDI) && (u->mcr & MCR_OUT2));
}

/* After a guest access: true when a turned-away source must be told that
 * the receiver takes bytes again. */
static bool rx_wake(struct uart16550 *u)
{
	if (!u->rx_waiting || !rx_ready(u) || u->rx_count == RX_FIFO_SIZE)
		return false;
	u->rx_waiting = false;
	return u->notify != NULL;
}

/* Interrupt identification, highest priority first (datasheet table 4). */
static uint8_t pending_iir(const struct uart16550 *u)
{
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_interrupt)
		return IIR_THRI;
	return IIR_NONE;
}

static void update_irq(struct uart16550 *u)
{
	int level = pending_iir(u) != IIR_NONE && (u->mcr & MCR_OUT2);
	if (u->has_irq && level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

static void rx_push(struct uart16550 *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO_SIZE) {
		u->lsr_extra |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = c;
	u->rx_count++;
}

static bool tx_room(const struct uart16550 *u)
{
	return TX_BUF_SIZE - u->tx_count >= UART_TX_FIFO;
}

static void transmit(struct uart16550 *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, c);
	} else if (u->writer_started) {
		/* written although THRE was clear: wait for room, the lock
		 * released meanwhile */
		while (u->tx_count == TX_BUF_SIZE && !u->released)
			pthread_cond_wait(&u->tx_cond, &u->lock);
		if (u->tx_count < TX_BUF_SIZE) {
			u->tx[(u->tx_head + u->tx_count) % TX_BUF_SIZE] = c;
			if (u->tx_count++ == 0)
				pthread_cond_broadcast(&u->tx_cond);
		}
	}
	/* THR empties at once while the buffer has room for a FIFO load;
	 * otherwise the writer raises THRE once it has made room. */
	u->thr_interrupt = tx_room(u);
	u->thre_on_drain = !u->thr_interrupt;
}

/* Writes tx out until closing and drained (see the top of the file). */
static void *writer_thread(void *arg)
{
	struct uart16550 *u = arg;
	unsigned stalled_ms = 0;
	pthread_mutex_lock(&u->lock);
	for (;;) {
		while (!u->tx_count && !u->closing)
			pthread_cond_wait(&u->tx_cond, &u->lock);
		if (!u->tx_count)
			break;
		unsigned len = u->tx_count, head = u->tx_head;
		if (head + len > TX_BUF_SIZE)
			len = TX_BUF_SIZE - head;
		bool closing = u->closing;
		pthread_mutex_unlock(&u->lock);
		ssize_t n = write(u->wfd, u->tx + head, len);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p[2] = { { .fd = u->wfd, .events = POLLOUT }, { .fd = u->wake_fd, .events = POLLIN } };
			int r = poll(p, closing ? 1 : 2, closing ? 100 : -1);
			if (p[1].revents & POLLIN) {
				uint64_t v;
				ssize_t k = read(u->wake_fd, &v, sizeof(v));
				(void)k;
			}
			stalled_ms = r == 0 ? stalled_ms + 100 : 0;
			n = 0;
		} else if (n < 0 && errno == EINTR) {
			n = 0;
		} else if (n < 0) {
			n = (ssize_t)len; /* stdout is gone (EPIPE...): the bytes have nowhere to go */
		}
		pthread_mutex_lock(&u->lock);
		if (stalled_ms >= UART_TX_GIVE_UP_MS) {
			log_warn("console: stdout took no output for %u ms: %u bytes of guest output dropped at exit",
				 stalled_ms, u->tx_count);
			u->tx_count = 0;
			break;
		}
		u->tx_head = (u->tx_head + (unsigned)n) % TX_BUF_SIZE;
		u->tx_count -= (unsigned)n;
		if (n > 0) {
			pthread_cond_broadcast(&u->tx_cond);
			if (u->thre_on_drain && tx_room(u)) {
				u->thre_on_drain = false;
				u->thr_interrupt = true;
				update_irq(u);
			}
		}
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* A pipe or terminal gets a non-blocking description of its own; anything
 * else (a regular file, /dev/null) is written as given: it does not block
 * for long, and a reopened file would lose the shell's offset or append. */
static int output_fd(int fd, bool *own)
{
	struct stat st;
	*own = false;
	if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || isatty(fd)))
		return fd;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd < 0)
		return fd; /* e.g. no /proc: blocking writes, as before */
	*own = true;
	return nfd;
}

static int start_writer(struct uart16550 *u)
{
	u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->wake_fd < 0)
		return -errno;
	u->wfd = output_fd(u->out_fd, &u->wfd_own);
	int r = pthread_create(&u->writer, NULL, writer_thread, u);
	if (r)
		return -r;
	u->writer_started = true;
	return 0;
}

static uint8_t reg_read(struct uart16550 *u, unsigned reg)
{
	switch (reg) {
	case REG_RBR_THR: {
		if (u->lcr & LCR_DLAB)
			return u->divisor & 0xff;
		if (!u->rx_count)
			return 0;
		uint8_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
		u->rx_count--;
		return c;
	}
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->divisor >> 8 : u->ier;
	case REG_IIR_FCR: {
		uint8_t iir = pending_iir(u);
		if (iir == IIR_THRI)
			u->thr_interrupt = false; /* reading IIR clears a THRE interrupt */
		return iir | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	}
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR: {
		/* A read while THR has no room is a driver waiting to transmit
		 * (the output buffer full), not one polling for input: it must
		 * not open the receiver, or piped input would arrive while the
		 * kernel still prints its boot log and be lost to the FIFO reset
		 * of the driver's set-up (seen: a piped `reboot` never ran). */
		if (!(u->ier & IER_RDI) && tx_room(u) && ++u->lsr_reads >= UART_POLL_READS)
			u->polling = true;
		uint8_t lsr = (tx_room(u) ? LSR_THRE | LSR_TEMT : 0) | u->lsr_extra | (u->rx_count ? LSR_DR : 0);
		u->lsr_extra = 0; /* error bits clear on read */
		return lsr;
	}
	case REG_MSR:
		if (u->mcr & MCR_LOOP) /* loopback wires MCR outputs to MSR inputs */
			return (uint8_t)(((u->mcr & 0x1) << 5) | ((u->mcr & 0x2) << 3) |
					 ((u->mcr & 0x4) << 4) | ((u->mcr & 0x8) << 4));
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

static void reg_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
	u->lsr_reads = 0;
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
		else
			transmit(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
		} else {
			/* Enabling THRI while THR is empty raises the interrupt. */
			if ((v & IER_THRI) && !(u->ier & IER_THRI) && tx_room(u))
				u->thr_interrupt = true;
			u->ier = v & 0x0f;
		}
		break;
	case REG_IIR_FCR:
		u->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & 0x1f;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	update_irq(u);
}

void uart16550_io(void *opaque, uint64_t offset, unsigned size, int is_write, uint64_t *value)
{
	struct uart16550 *u = opaque;
	(void)size; /* the chip has byte registers; wider accesses use the low byte */
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		reg_write(u, (unsigned)offset, (uint8_t)*value);
	} else {
		*value = reg_read(u, (unsigned)offset);
		update_irq(u);
	}
	/* Under the lock, so that once uart16550_connect_input() has replaced
	 * the hook no call to the old one is still in flight. */
	if (rx_wake(u))
		u->notify(u->notify_opaque);
	pthread_mutex_unlock(&u->lock);
}

static void bus_handler(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	uart16550_io(opaque, offset, size, is_write, value);
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = 0;
	if (rx_ready(u))
		while (n < len && u->rx_count < RX_FIFO_SIZE)
			rx_push(u, buf[n++]);
	if (n < len)
		u->rx_waiting = true;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

void uart16550_connect_input(struct uart16550 *u, bool hold, uart16550_notify_fn *notify, void *opaque)
{
	pthread_mutex_lock(&u->lock);
	u->hold = hold;
	u->notify = notify;
	u->notify_opaque = opaque;
	pthread_mutex_unlock(&u->lock);
}

int uart16550_create(struct io_bus *bus, uint16_t base, int out_fd, const struct irq_line *irq,
		     struct uart16550 **out)
{
	struct uart16550 *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->tx_cond, NULL);
	u->out_fd = out_fd;
	u->wfd = u->wake_fd = -1;
	if (irq) {
		u->irq = *irq;
		u->has_irq = true;
	}
	u->divisor = 12; /* 9600 baud, the BIOS default */
	u->thr_interrupt = false;
	int r = out_fd >= 0 ? start_writer(u) : 0;
	if (r == 0 && bus)
		r = io_bus_register(bus, IO_SPACE_PIO, base, 8, bus_handler, u, "uart16550");
	if (r < 0) {
		uart16550_destroy(u);
		return r;
	}
	*out = u;
	return 0;
}

void uart16550_release(struct uart16550 *u)
{
	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->released = true;
	pthread_cond_broadcast(&u->tx_cond);
	pthread_mutex_unlock(&u->lock);
}

void uart16550_destroy(struct uart16550 *u)
{
	if (!u)
		return;
	if (u->writer_started) {
		pthread_mutex_lock(&u->lock);
		u->closing = u->released = true;
		pthread_cond_broadcast(&u->tx_cond);
		pthread_mutex_unlock(&u->lock);
		uint64_t one = 1;
		ssize_t n = write(u->wake_fd, &one, sizeof(one));
		(void)n;
		pthread_join(u->writer, NULL);
	}
	if (u->wfd_own)
		close(u->wfd);
	if (u->wake_fd >= 0)
		close(u->wake_fd);
	pthread_cond_destroy(&u->tx_cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
