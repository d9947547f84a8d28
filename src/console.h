/* The console: host stdin to the guest's console device (COM1, or
 * virtio-console with --console virtio), on its own thread. When stdin is
 * a terminal it is put in raw mode, and Ctrl-A x ends the run, Ctrl-A h
 * lists the keys on stderr (Ctrl-A Ctrl-A sends one Ctrl-A). Input is never
 * dropped: while the sink turns it away (the UART's FIFO full, or for stdin
 * that is not a terminal a guest not ready for input yet; virtio-console
 * without receive buffers) stdin is not read, and the sink wakes the thread
 * when it takes bytes again. EOF on stdin is not an error. */
#ifndef VMON_CONSOLE_H
#define VMON_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/terminal.h"

struct vm;
struct uart16550;

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

/* Where the console's input goes: one console, two sinks (the UART and
 * virtio-console). */
typedef void console_wake_fn(void *opaque);
struct console_sink {
	/* Takes up to len bytes and returns how many it took. When it takes
	 * fewer than len, it calls the wake function given to connect once it
	 * can take more. Called on the console's thread. */
	size_t (*receive)(void *sink, const uint8_t *buf, size_t len);
	/* Connects the console (wake non-NULL) or disconnects it (NULL: once
	 * this returns the previous wake is no longer called). hold: the input
	 * does not come from a person (stdin is no terminal): take none until
	 * the guest is ready for it. wake may run on any thread, under the
	 * sink's lock: it must be quick and not call back into the sink. */
	void (*connect)(void *sink, bool hold, console_wake_fn *wake, void *opaque);
	void *sink;
};

/* COM1 as a sink. */
struct console_sink console_sink_uart(struct uart16550 *u);

struct console {
	struct vm *vm;
	struct console_sink sink;
	int in_fd;
	int wake[2];          /* a pipe: write a byte to stop the thread */
	int ready;            /* eventfd: the UART takes input again */
	pthread_t thread;
	bool started;
	bool escapes;         /* stdin is a terminal: Ctrl-A commands are live */
	bool after_escape;
	struct terminal term;
	uint8_t pending[256]; /* read from stdin, not yet taken by the UART */
	size_t npending, off;
};

/* Reads in_fd into sink until console_stop; Ctrl-A x stops vm. */
int console_start(struct console *c, struct vm *vm, const struct console_sink *sink, int in_fd);
void console_stop(struct console *c);

enum console_key {
	CONSOLE_KEY_NONE,
	CONSOLE_KEY_HELP, /* Ctrl-A h: print console_help on stderr */
	CONSOLE_KEY_QUIT, /* Ctrl-A x: end the run, status 0 */
};

extern const char console_help[];

/* The escape-key filter, pure (unit-tested): turns raw input bytes into
 * bytes for the guest; returns the command typed (quit stops at the 'x'). */
enum console_key console_filter(struct console *c, const uint8_t *in, size_t n, uint8_t *out, size_t *nout);

#endif
