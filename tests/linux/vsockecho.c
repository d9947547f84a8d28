/* The vsock echo test's helper (tests/linux/vsock_console.sh), built static
 * so the same binary runs in the busybox guest (whose nc has no AF_VSOCK)
 * and on the host:
 *   vsockecho vsock-listen PORT             guest: echo every connection on PORT (forks)
 *   vsockecho vsock-connect CID PORT MSG    guest: send MSG, half-close, print the reply
 *   vsockecho uds-connect PATH PORT MSG     host: Firecracker's "CONNECT PORT\n" on PATH,
 *                                           the "OK ..." line to stderr, then as vsock-connect
 *   vsockecho uds-listen PATH               host: echo one connection on PATH, then exit */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int die(const char *what)
{
	fprintf(stderr, "vsockecho: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void echo(int fd)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w <= 0)
				return;
			off += w;
		}
}

/* Sends msg, half-closes, copies the reply to stdout. */
static int talk(int fd, const char *msg)
{
	size_t len = strlen(msg);
	if (write(fd, msg, len) != (ssize_t)len)
		die("write");
	shutdown(fd, SHUT_WR);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	putchar('\n');
	return n < 0 ? 1 : 0;
}

static struct sockaddr_un uds(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return a;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "vsock-listen") == 0) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
					 .svm_port = (unsigned)atoi(argv[2]) };
		int l = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0)
			die("vsock listen");
		signal(SIGCHLD, SIG_IGN);
		fprintf(stderr, "vsockecho: listening on vsock port %s\n", argv[2]);
		for (;;) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				echo(c);
				_exit(0);
			}
			close(c);
		}
	}
	if (argc == 5 && strcmp(argv[1], "vsock-connect") == 0) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = (unsigned)atoi(argv[2]),
					 .svm_port = (unsigned)atoi(argv[3]) };
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("vsock connect");
		return talk(fd, argv[4]);
	}
	if (argc == 5 && strcmp(argv[1], "uds-connect") == 0) {
		struct sockaddr_un a = uds(argv[2]);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("connect");
		dprintf(fd, "CONNECT %s\n", argv[3]);
		char line[64];
		size_t n = 0;
		while (n < sizeof(line) - 1 && read(fd, line + n, 1) == 1 && line[n++] != '\n')
			;
		line[n] = '\0';
		fprintf(stderr, "%s", line);
		if (strncmp(line, "OK ", 3) != 0) {
			fprintf(stderr, "vsockecho: no OK line (got '%s')\n", line);
			return 1;
		}
		return talk(fd, argv[4]);
	}
	if (argc == 3 && strcmp(argv[1], "uds-listen") == 0) {
		struct sockaddr_un a = uds(argv[2]);
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		unlink(argv[2]);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
			die("listen");
		int c = accept(l, NULL, NULL);
		if (c < 0)
			die("accept");
		echo(c);
		return 0;
	}
	fprintf(stderr, "usage: vsockecho vsock-listen PORT | vsock-connect CID PORT MSG | "
			"uds-connect PATH PORT MSG | uds-listen PATH\n");
	return 2;
}
