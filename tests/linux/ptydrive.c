/* ptydrive: run a command on a pseudo-terminal and drive it like a person at
 * the keyboard — the interactive-console tests of tests/linux/run.sh.
 *
 *   ptydrive [-o LOG] [-t SECONDS] STEP... -- CMD [ARG...]
 *
 * CMD runs in a new session with the pty slave as its controlling terminal and
 * as stdin, stdout and stderr. Everything it prints goes to LOG. The steps run
 * in order, each one line on stdout ("ok ..." or "FAIL ..."):
 *   expect:TEXT   wait until TEXT appears in the output after the previous match
 *   send:TEXT     type TEXT, one byte every 20 ms
 * (TEXT may hold the escapes \r \n \\ and \xHH.)
 *   sleep:SECONDS wait, reading output meanwhile
 *   signal:SIG    send SIG (a number or a name: TERM, INT, HUP, KILL) to CMD
 *   raw           the terminal is (or gets) in raw mode: no ICANON, ECHO, ISIG
 *   exit:STATUS   CMD ends with exit status STATUS
 * A wait (expect, exit) gives up after -t SECONDS (default 300). After the
 * steps, or the first failed one, CMD is killed if it still runs, and the
 * terminal's settings are compared with those before CMD started, printed in
 * `stty -g` style. Exit status 0 when every step passed and the settings were
 * restored, 1 otherwise, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master = -1;
static pid_t child = -1;
static int child_status = -1; /* waitpid status once CMD has ended */
static char *out;             /* everything CMD printed */
static size_t out_len, out_cap, match_end;
static FILE *log_file;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads what CMD printed for up to `ms` milliseconds (0: only what is there)
 * and notices its end. Returns once something arrived or the time is up. */
static void pump(int ms)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	if (poll(&p, 1, ms) > 0 && (p.revents & (POLLIN | POLLHUP))) {
		char buf[4096];
		ssize_t n = read(master, buf, sizeof buf);
		if (n > 0) {
			if (out_len + n + 1 > out_cap) {
				out_cap = (out_len + n + 1) * 2;
				out = realloc(out, out_cap);
				if (!out) {
					perror("ptydrive");
					exit(2);
				}
			}
			memcpy(out + out_len, buf, n);
			out_len += n;
			out[out_len] = '\0';
			if (log_file) {
				fwrite(buf, 1, n, log_file);
				fflush(log_file);
			}
		} else if (p.revents & POLLHUP) {
			usleep(ms * 1000); /* no slave open: poll would not wait */
		}
	}
	if (child_status < 0) {
		int st;
		if (waitpid(child, &st, WNOHANG) == child)
			child_status = st;
	}
}

/* The first occurrence of `text` in the output at or after `from`. */
static const char *find(const char *text, size_t from)
{
	size_t n = strlen(text);
	for (size_t i = from; i + n <= out_len; i++)
		if (memcmp(out + i, text, n) == 0)
			return out + i;
	return NULL;
}

/* Copies `s` to `d` (at most `max` bytes) with \r \n \\ \xHH decoded. */
static size_t unescape(const char *s, char *d, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		if (*s != '\\' || !s[1]) {
			d[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': d[n++] = '\r'; s++; break;
		case 'n': d[n++] = '\n'; s++; break;
		case 'x': {
			char hex[3] = { s[1], s[1] ? s[2] : 0, 0 };
			d[n++] = (char)strtoul(hex, NULL, 16);
			s += 1 + strlen(hex);
			break;
		}
		default: d[n++] = *s++; break;
		}
	}
	return n;
}

static void stty_g(const struct termios *t, char *s, size_t size)
{
	int k = snprintf(s, size, "%x:%x:%x:%x", (unsigned)t->c_iflag, (unsigned)t->c_oflag,
			 (unsigned)t->c_cflag, (unsigned)t->c_lflag);
	for (int i = 0; i < NCCS && k < (int)size; i++)
		k += snprintf(s + k, size - k, ":%x", t->c_cc[i]);
}

static bool same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof a->c_cc) == 0;
}

static int signal_number(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "TERM", SIGTERM }, { "INT", SIGINT }, { "HUP", SIGHUP }, { "KILL", SIGKILL },
		{ "QUIT", SIGQUIT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	};
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	char *end;
	long n = strtol(s, &end, 10);
	return *s && !*end && n > 0 && n < 65 ? (int)n : -1;
}

/* The tail of the output, printable, for a failure message. */
static void print_tail(void)
{
	size_t from = out_len > 200 ? out_len - 200 : 0;
	printf("     last output: \"");
	for (size_t i = from; i < out_len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == '\n')
			printf("\\n");
		else if (c >= 32 && c < 127)
			putchar(c);
		else if (c != '\r')
			printf("\\x%02x", c);
	}
	printf("\"\n");
}

/* Runs one step; true when it passed. */
static bool step(const char *s, int slave, double timeout)
{
	const char *arg = strchr(s, ':') ? strchr(s, ':') + 1 : "";
	if (strncmp(s, "expect:", 7) == 0) {
		char text[4096];
		text[unescape(arg, text, sizeof text - 1)] = '\0';
		double t0 = now();
		const char *hit;
		while (!(hit = find(text, match_end))) {
			if (child_status >= 0 || now() - t0 > timeout) {
				pump(0);
				if ((hit = find(text, match_end)))
					break;
				printf("FAIL expect \"%s\": %s\n", arg,
				       child_status >= 0 ? "the command ended first" : "timed out");
				print_tail();
				return false;
			}
			pump(200);
		}
		match_end = (size_t)(hit - out) + strlen(text);
		printf("ok   expect \"%s\" (%.1f s)\n", arg, now() - t0);
		return true;
	}
	if (strncmp(s, "send:", 5) == 0) {
		char *keys = malloc(strlen(arg) + 1);
		size_t n = unescape(arg, keys, strlen(arg));
		for (size_t i = 0; i < n; i++) {
			if (write(master, &keys[i], 1) != 1) {
				printf("FAIL send \"%s\": %s\n", arg, strerror(errno));
				free(keys);
				return false;
			}
			double t1 = now() + 0.02;
			while (now() < t1)
				pump(20);
		}
		free(keys);
		printf("ok   send \"%s\"\n", arg);
		return true;
	}
	if (strncmp(s, "sleep:", 6) == 0) {
		double t0 = now(), d = atof(arg);
		while (now() - t0 < d)
			pump(50);
		printf("ok   sleep %s\n", arg);
		return true;
	}
	if (strncmp(s, "signal:", 7) == 0) {
		int sig = signal_number(arg);
		pump(0);
		if (sig < 0 || child_status >= 0 || kill(child, sig) < 0) {
			printf("FAIL signal %s: %s\n", arg, sig < 0 ? "unknown signal" : "the command has ended");
			return false;
		}
		printf("ok   signal %s\n", arg);
		return true;
	}
	if (strcmp(s, "raw") == 0) {
		/* CMD may not have set up its terminal yet: wait for it. */
		struct termios t;
		double t0 = now();
		while (tcgetattr(slave, &t) == 0 && (t.c_lflag & (ICANON | ECHO | ISIG)) &&
		       child_status < 0 && now() - t0 < timeout)
			pump(50);
		if (t.c_lflag & (ICANON | ECHO | ISIG)) {
			printf("FAIL raw: the terminal is not in raw mode (lflag %x)\n", (unsigned)t.c_lflag);
			return false;
		}
		printf("ok   raw mode while the command runs\n");
		return true;
	}
	if (strncmp(s, "exit:", 5) == 0) {
		double t0 = now();
		while (child_status < 0 && now() - t0 < timeout)
			pump(200);
		if (child_status < 0) {
			printf("FAIL exit %s: still running after %.0f s\n", arg, timeout);
			print_tail();
			return false;
		}
		pump(0);
		int want = atoi(arg);
		if (WIFEXITED(child_status) && WEXITSTATUS(child_status) == want) {
			printf("ok   exit status %d\n", want);
			return true;
		}
		if (WIFEXITED(child_status))
			printf("FAIL exit: status %d, expected %d\n", WEXITSTATUS(child_status), want);
		else
			printf("FAIL exit: killed by signal %d, expected status %d\n", WTERMSIG(child_status), want);
		print_tail();
		return false;
	}
	printf("FAIL unknown step \"%s\"\n", s);
	return false;
}

int main(int argc, char **argv)
{
	double timeout = 300;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] != '-'; i += 2) {
		if (strcmp(argv[i], "-t") == 0) {
			timeout = atof(argv[i + 1]);
		} else if (strcmp(argv[i], "-o") == 0) {
			log_file = fopen(argv[i + 1], "w");
			if (!log_file) {
				perror(argv[i + 1]);
				return 2;
			}
		} else {
			break;
		}
	}
	int first_step = i;
	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: ptydrive [-o LOG] [-t SECONDS] STEP... -- CMD [ARG...]\n");
		return 2;
	}
	int last_step = i;
	char **cmd = &argv[i + 1];

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
		perror("ptydrive: posix_openpt");
		return 2;
	}
	const char *name = ptsname(master);
	/* Kept open here so the settings can be read after CMD has ended. */
	int slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		perror(name);
		return 2;
	}
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	ioctl(slave, TIOCSWINSZ, &ws);
	struct termios before, after;
	tcgetattr(slave, &before);

	child = fork();
	if (child < 0) {
		perror("ptydrive: fork");
		return 2;
	}
	if (child == 0) {
		setsid();
		int fd = open(name, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
			perror("ptydrive: slave");
			_exit(127);
		}
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		close(master);
		close(slave);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	bool passed = true;
	for (i = first_step; i < last_step && passed; i++)
		passed = step(argv[i], slave, timeout);
	pump(0);
	if (child_status < 0) {
		if (passed)
			printf("FAIL the command still runs after the last step: killed\n");
		passed = false;
		kill(child, SIGKILL);
		waitpid(child, &child_status, 0);
	}

	tcgetattr(slave, &after);
	char b[256], a[256];
	stty_g(&before, b, sizeof b);
	stty_g(&after, a, sizeof a);
	if (same_termios(&before, &after)) {
		printf("ok   terminal settings restored (%s)\n", a);
	} else {
		printf("FAIL terminal settings not restored\n     before: %s\n     after:  %s\n", b, a);
		passed = false;
	}
	if (log_file)
		fclose(log_file);
	return passed ? 0 : 1;
}
