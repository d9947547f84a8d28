/* The console: host stdin to the guest's COM1, on an I/O thread. When stdin
 * is a terminal it is put in raw mode, and Ctrl-A x ends the run (Ctrl-A
 * Ctrl-A sends one Ctrl-A). Input is never dropped: while the UART's FIFO
 * is full, stdin is not read. EOF on stdin is not an error. */
#ifndef VMON_CONSOLE_H
#define VMON_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/terminal.h"

struct vm;

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct console {
	struct vm *vm;
	int in_fd;
	int wake[2];          /* a pipe: write a byte to stop the thread */
	pthread_t thread;
	bool started;
	bool escapes;         /* stdin is a terminal: Ctrl-A commands are live */
	bool after_escape;
	struct terminal term;
	uint8_t pending[256]; /* read from stdin, not yet taken by the UART */
	size_t npending, off;
};

int console_start(struct console *c, struct vm *vm, int in_fd);
void console_stop(struct console *c);

/* The escape-key filter, pure (unit-tested): turns raw input bytes into
 * bytes for the guest; returns true when the user asked to quit. */
bool console_filter(struct console *c, const uint8_t *in, size_t n, uint8_t *out, size_t *nout);

#endif
