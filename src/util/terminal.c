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
	/* Every key goes to the guest, including ^C and ^Z; output keeps its
	 * newline translation off too, the guest's driver sends CR LF. */
	cfmakeraw(&raw);
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
