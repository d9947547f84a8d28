#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/uart16550.h"
#include "util/log.h"
#include "vm.h"

const char console_help[] = "vmon console keys: Ctrl-A x quit (status 0), Ctrl-A h this help, "
			    "Ctrl-A Ctrl-A send Ctrl-A\n";

enum console_key console_filter(struct console *c, const uint8_t *in, size_t n, uint8_t *out, size_t *nout)
{
	enum console_key key = CONSOLE_KEY_NONE;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		if (!c->escapes) {
			out[o++] = b;
			continue;
		}
		if (c->after_escape) {
			c->after_escape = false;
			if (b == 'x' || b == 'X') {
				*nout = o;
				return CONSOLE_KEY_QUIT;
			}
			if (b == 'h' || b == 'H') {
				key = CONSOLE_KEY_HELP;
				continue;
			}
			out[o++] = b == CONSOLE_ESCAPE ? CONSOLE_ESCAPE : b; /* unknown command: pass it on */
			continue;
		}
		if (b == CONSOLE_ESCAPE)
			c->after_escape = true;
		else
			out[o++] = b;
	}
	*nout = o;
	return key;
}

static size_t uart_sink_receive(void *sink, const uint8_t *buf, size_t len)
{
	return uart16550_receive(sink, buf, len);
}

static void uart_sink_connect(void *sink, bool hold, console_wake_fn *wake, void *opaque)
{
	uart16550_connect_input(sink, hold, wake, opaque);
}

struct console_sink console_sink_uart(struct uart16550 *u)
{
	return (struct console_sink){ uart_sink_receive, uart_sink_connect, u };
}

/* The sink's wake hook, on a vCPU or the I/O thread: one eventfd write. */
static void console_wake(void *opaque)
{
	struct console *c = opaque;
	uint64_t one = 1;
	(void)!write(c->ready, &one, sizeof(one));
}

static void *console_thread(void *arg)
{
	struct console *c = arg;
	bool eof = false;
	for (;;) {
		/* Offer what is pending; while the sink turns bytes away, do not
		 * read more: it signals c->ready when it takes input again. */
		if (c->off < c->npending) {
			c->off += c->sink.receive(c->sink.sink, c->pending + c->off, c->npending - c->off);
			if (c->off == c->npending)
				c->off = c->npending = 0;
		}
		bool backlog = c->npending != 0;
		struct pollfd p[3] = { { c->wake[0], POLLIN, 0 }, { c->ready, POLLIN, 0 }, { c->in_fd, POLLIN, 0 } };
		nfds_t np = (eof || backlog) ? 2 : 3;
		int r = poll(p, np, -1);
		if (r < 0 && errno != EINTR) {
			log_warn("console: poll: %s", strerror(errno));
			break;
		}
		if (r < 0)
			continue;
		if (p[0].revents)
			break; /* console_stop */
		if (p[1].revents) {
			uint64_t v;
			(void)!read(c->ready, &v, sizeof(v));
		}
		if (np < 3 || !(p[2].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		uint8_t raw[sizeof(c->pending)];
		ssize_t n = read(c->in_fd, raw, sizeof(raw));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			eof = true; /* the guest simply gets no more input */
			continue;
		}
		size_t nout;
		switch (console_filter(c, raw, (size_t)n, c->pending, &nout)) {
		case CONSOLE_KEY_QUIT:
			log_info("console: Ctrl-A x");
			vm_request_stop(c->vm, VM_OUTCOME_POWEROFF, 0);
			break;
		case CONSOLE_KEY_HELP:
			(void)!write(STDERR_FILENO, console_help, sizeof(console_help) - 1);
			break;
		case CONSOLE_KEY_NONE:
			break;
		}
		c->npending = nout;
		c->off = 0;
	}
	return NULL;
}

int console_start(struct console *c, struct vm *vm, const struct console_sink *sink, int in_fd)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->sink = *sink;
	c->in_fd = in_fd;
	c->wake[0] = c->wake[1] = -1;
	c->ready = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->ready < 0 || pipe2(c->wake, O_CLOEXEC) < 0) {
		int e = errno;
		log_error("console: %s: %s", c->ready < 0 ? "eventfd" : "pipe", strerror(e));
		console_stop(c);
		return -e;
	}
	int r = terminal_raw(&c->term, in_fd);
	if (r < 0)
		log_warn("console: cannot put the terminal in raw mode: %s", strerror(-r));
	c->escapes = c->term.raw;
	/* A person at a terminal types when the guest is ready; a pipe or a
	 * file does not wait, so its bytes are held until the guest is. */
	c->sink.connect(c->sink.sink, !isatty(in_fd), console_wake, c);
	r = pthread_create(&c->thread, NULL, console_thread, c);
	if (r != 0) {
		terminal_restore(&c->term);
		log_error("console: cannot start its thread: %s", strerror(r));
		return -r;
	}
	c->started = true;
	return 0;
}

void console_stop(struct console *c)
{
	if (!c->vm)
		return; /* never started (--console none) */
	c->sink.connect(c->sink.sink, false, NULL, NULL);
	if (c->started) {
		char b = 0;
		(void)!write(c->wake[1], &b, 1);
		pthread_join(c->thread, NULL);
		c->started = false;
	}
	terminal_restore(&c->term);
	for (int i = 0; i < 2; i++)
		if (c->wake[i] >= 0)
			close(c->wake[i]);
	c->wake[0] = c->wake[1] = -1;
	if (c->ready >= 0)
		close(c->ready);
	c->ready = -1;
	c->vm = NULL;
}
