/* The console: host stdin to the guest's COM1, on an I/O thread. When stdin
 * is a terminal it is put in raw mode, and Ctrl-A x ends the run, Ctrl-A h
 * lists the keys on stderr (Ctrl-A Ctrl-A sends one Ctrl-A). Input is never
 * dropped: while the UART turns it away (FIFO full; or, for stdin that is
 * not a terminal, a guest not ready for input yet) stdin is not read, and
 * the UART wakes the thread when it takes bytes again. EOF on stdin is not
 * an error. */
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
	int ready;            /* eventfd: the UART takes input again */
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
