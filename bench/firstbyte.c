/* Runs a command and prints the nanoseconds from fork to the first byte it
 * writes on stdout (then waits for it to end). Used by bench/exits for the
 * "time to the guest's first UART byte". */
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: firstbyte COMMAND [ARGS...]\n");
		return 2;
	}
	int p[2];
	if (pipe(p) < 0) {
		perror("pipe");
		return 2;
	}
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	close(p[1]);
	char c;
	ssize_t n = read(p[0], &c, 1);
	uint64_t t1 = now_ns();
	while (read(p[0], &c, 1) > 0) {
	}
	int st;
	waitpid(pid, &st, 0);
	if (n != 1) {
		fprintf(stderr, "firstbyte: %s wrote nothing\n", argv[1]);
		return 1;
	}
	printf("%llu\n", (unsigned long long)(t1 - t0));
	return 0;
}
