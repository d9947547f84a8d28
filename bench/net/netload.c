/* bench/net/netload.c: the network load of bench/net, one static program run
 * in the guest and on the host.
 *   netload recv PORT                 accepts one TCP connection, reads to EOF,
 *                                     prints "RESULT recv <MiB/s> MiB/s" (timed
 *                                     from the first byte to EOF)
 *   netload send HOST PORT SECONDS    connects (retrying for 60 s) and sends
 *                                     64 KiB writes for SECONDS, then closes
 *   netload echo PORT                 UDP echo server (runs until killed)
 *   netload ping HOST PORT N          N round trips of 1-byte UDP messages,
 *                                     prints "RESULT ping <median µs> us"
 * Built with gcc -static by bench/net/run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "netload: %s: %s\n", what, strerror(errno));
	return 1;
}

static struct sockaddr_in addr(const char *host, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	a.sin_addr.s_addr = host ? inet_addr(host) : htonl(INADDR_ANY);
	return a;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	const char *mode = argc > 1 ? argv[1] : "";
	int one = 1;
	if (!strcmp(mode, "recv") && argc == 3) {
		struct sockaddr_in a = addr(NULL, argv[2]);
		int l = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (l < 0 || bind(l, (void *)&a, sizeof a) < 0 || listen(l, 1) < 0)
			return die("listen");
		int c = accept(l, NULL, NULL);
		if (c < 0)
			return die("accept");
		double t0 = 0;
		unsigned long long total = 0;
		ssize_t n;
		while ((n = read(c, buf, sizeof buf)) > 0) {
			if (!total)
				t0 = now();
			total += n;
		}
		if (n < 0)
			return die("read");
		double t = now() - t0;
		printf("RESULT recv %.1f MiB/s (%llu bytes)\n", t > 0 ? total / t / 1048576 : 0, total);
		return 0;
	}
	if (!strcmp(mode, "send") && argc == 5) {
		struct sockaddr_in a = addr(argv[2], argv[3]);
		int s = -1;
		for (double end = now() + 60;;) {
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (s >= 0 && connect(s, (void *)&a, sizeof a) == 0)
				break;
			close(s);
			if (now() > end)
				return die("connect");
			usleep(100000);
		}
		memset(buf, 0xa5, sizeof buf);
		double end = now() + atof(argv[4]);
		while (now() < end)
			if (write(s, buf, sizeof buf) < 0)
				return die("write");
		close(s);
		return 0;
	}
	if (!strcmp(mode, "echo") && argc == 3) {
		struct sockaddr_in a = addr(NULL, argv[2]), from;
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (void *)&a, sizeof a) < 0)
			return die("bind");
		for (;;) {
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(s, buf, sizeof buf, 0, (void *)&from, &fl);
			if (n >= 0)
				sendto(s, buf, n, 0, (void *)&from, fl);
		}
	}
	if (!strcmp(mode, "ping") && argc == 5) {
		struct sockaddr_in a = addr(argv[2], argv[3]);
		int s = socket(AF_INET, SOCK_DGRAM, 0), n = atoi(argv[4]), got = 0;
		struct timeval tv = { 1, 0 };
		if (s < 0 || connect(s, (void *)&a, sizeof a) < 0 || n < 1)
			return die("connect");
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		double *rtt = calloc(n, sizeof *rtt);
		if (!rtt)
			return die("calloc");
		/* a few unmeasured round trips first: ARP and the first packets */
		for (int i = -10; i < n; i++) {
			double t0 = now();
			if (send(s, "x", 1, 0) != 1)
				return die("send");
			if (recv(s, buf, sizeof buf, 0) != 1)
				continue; /* lost or timed out: not counted */
			if (i >= 0)
				rtt[got++] = (now() - t0) * 1e6;
		}
		if (!got) {
			fprintf(stderr, "netload: no reply\n");
			return 1;
		}
		qsort(rtt, got, sizeof *rtt, cmp);
		printf("RESULT ping %.0f us (%d of %d replies)\n", rtt[got / 2], got, n);
		return 0;
	}
	fprintf(stderr, "usage: netload recv PORT | send HOST PORT SECONDS | echo PORT | ping HOST PORT N\n");
	return 2;
}
