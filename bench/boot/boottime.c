/* boottime: one Linux boot of a VMM, timed from outside (bench/boot/run).
 *
 *   boottime MARKER PROMPT TIMEOUT -- CMD [ARG...]
 *
 * Starts CMD with its stdin and stdout on pipes (stderr is kept), waits for
 * MARKER on its stdout, then for PROMPT after it, types "poweroff" and waits
 * for CMD to end. Prints one line:
 *   ok MARKER_S EXIT_S PEAK_RSS_KIB STATUS
 * (seconds from launch to MARKER, seconds from typing "poweroff" to the end,
 * CMD's peak resident set from wait4, its exit status), or
 *   hang WHERE       MARKER, PROMPT or the end took over TIMEOUT seconds
 *                    (each counted from the previous one; CMD is killed)
 *   died WHERE       CMD ended before MARKER or PROMPT
 * Exit status 0 for "ok", 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Output kept for the searches: the whole of it (a boot prints ~30 KiB). */
static char *out;
static size_t out_len, out_cap;

/* Reads CMD's output until `text` appears after `from` (returns the offset
 * just past it), CMD closes its stdout (-1) or `deadline` passes (-2). */
static long wait_for(int fd, const char *text, size_t from, double deadline)
{
	for (;;) {
		char *hit = out ? memmem(out + from, out_len - from, text, strlen(text)) : NULL;
		if (hit)
			return (long)(hit - out + strlen(text));
		double left = deadline - now();
		if (left <= 0)
			return -2;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		if (out_len + 4096 > out_cap) {
			out_cap = (out_len + 4096) * 2;
			out = realloc(out, out_cap);
			if (!out)
				exit(2);
		}
		ssize_t n = read(fd, out + out_len, 4096);
		if (n == 0 || (n < 0 && errno != EINTR))
			return -1;
		if (n > 0)
			out_len += n;
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: boottime MARKER PROMPT TIMEOUT -- CMD [ARG...]\n");
		return 2;
	}
	const char *marker = argv[1], *prompt = argv[2];
	double timeout = atof(argv[3]);
	int in[2], outp[2];
	if (pipe(in) < 0 || pipe(outp) < 0) {
		perror("boottime: pipe");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0) {
		perror("boottime: fork");
		return 2;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execvp(argv[5], &argv[5]);
		perror(argv[5]);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);

	const char *where = "before the boot marker";
	long at = wait_for(outp[0], marker, 0, t0 + timeout);
	double t_marker = now() - t0;
	if (at >= 0) {
		where = "before the shell prompt";
		at = wait_for(outp[0], prompt, at, now() + timeout);
	}
	double t_cmd = 0;
	if (at >= 0) {
		where = "after poweroff";
		t_cmd = now();
		if (write(in[1], "poweroff\n", 9) != 9)
			at = -1;
		else
			at = wait_for(outp[0], "\x01never\x01", 0, now() + timeout);
	}
	/* at is -1 here once CMD closed its stdout; -2 on a timeout. */
	int st;
	struct rusage ru;
	if (at == -2) {
		kill(pid, SIGKILL);
		wait4(pid, &st, 0, &ru);
		printf("hang %s\n", where);
		return 1;
	}
	double deadline = now() + timeout;
	while (wait4(pid, &st, WNOHANG, &ru) == 0) {
		if (now() > deadline) {
			kill(pid, SIGKILL);
			wait4(pid, &st, 0, &ru);
			printf("hang %s (stdout closed)\n", where);
			return 1;
		}
		usleep(1000);
	}
	double t_end = now();
	if (t_cmd == 0) {
		printf("died %s (status %d)\n", where, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 1;
	}
	printf("ok %.3f %.3f %ld %d\n", t_marker, t_end - t_cmd, ru.ru_maxrss,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
