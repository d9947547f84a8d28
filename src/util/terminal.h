/* The host terminal: raw mode for an interactive console, restored on every
 * way out (main() calls terminal_restore() whatever the outcome). */
#ifndef VMON_UTIL_TERMINAL_H
#define VMON_UTIL_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

struct terminal {
	int fd;
	bool raw;             /* raw mode is on and must be undone */
	struct termios saved;
};

/* Puts fd in raw mode if it is a terminal. Returns 0 (also when fd is not
 * a terminal: nothing to do) or -errno. */
int terminal_raw(struct terminal *t, int fd);
void terminal_restore(struct terminal *t);

#endif
