#include "util/terminal.h"

#include <errno.h>
#include <unistd.h>

int terminal_raw(struct terminal *t, int fd)
{
	t->fd = fd;
	t->raw = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &t->saved) < 0)
		return -errno;
	struct termios raw = t->saved;
	/* Every key goes to the guest, including ^C and ^Z. Output keeps its
	 * post-processing (OPOST, ONLCR: LF -> CR LF, as QEMU's stdio does), so
	 * a guest that prints bare LFs does not draw a staircase; a CR LF from
	 * Linux's tty becomes CR CR LF, which a terminal shows the same. */
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

void terminal_restore(struct terminal *t)
{
	if (t->raw) {
		tcsetattr(t->fd, TCSANOW, &t->saved);
		t->raw = false;
	}
}
