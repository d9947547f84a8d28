/* virtio-console's host side: the output buffer in front of stdout never
 * loses a byte it took (a full pipe: EAGAIN, kept, written once the
 * reader drains it; at exit drained), never leaves the caller's stdout
 * non-blocking, and discards (without blocking or failing) once the reader
 * is gone; and the console feeds a sink that takes input piecemeal, waking
 * the console when it takes more (the interface virtio-console implements
 * besides the UART). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "console.h"
#include "unit.h"
#include "util/outbuf.h"
#include "vm.h"

static void test_outbuf(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	static struct outbuf b;
	memset(&b, 0, sizeof(b));
	b.fd = outbuf_open(p[1]);
	CHECK(b.fd >= 0);
	/* A descriptor of its own, non-blocking; the original stays blocking. */
	CHECK(fcntl(b.fd, F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(p[1], F_GETFL) & O_NONBLOCK));
	/* Fill the pipe (64 KiB) and the buffer, with a known pattern. */
	static uint8_t src[4 * OUTBUF_SIZE];
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 131 + (i >> 9));
	size_t in = 0;
	int r = 0;
	while (in < sizeof(src)) {
		size_t n = outbuf_put(&b, src + in, sizeof(src) - in);
		in += n;
		r = outbuf_flush(&b);
		if (r == -EAGAIN && outbuf_room(&b) == 0)
			break;
	}
	CHECK_EQ(r, -EAGAIN);
	CHECK_EQ(outbuf_room(&b), 0);
	CHECK_EQ(outbuf_put(&b, src, 1), 0); /* full: takes nothing */
	CHECK(in >= OUTBUF_SIZE);
	/* Read everything back while the rest goes in: identical, in order. */
	static uint8_t got[sizeof(src)];
	size_t out = 0;
	while (out < in || in < sizeof(src)) {
		ssize_t n = read(p[0], got + out, sizeof(got) - out);
		if (n > 0)
			out += (size_t)n;
		in += outbuf_put(&b, src + in, sizeof(src) - in);
		(void)outbuf_flush(&b);
		if (out == sizeof(src))
			break;
	}
	CHECK_EQ(out, sizeof(src));
	CHECK(memcmp(got, src, sizeof(src)) == 0);
	CHECK_EQ(outbuf_flush(&b), 0);
	/* At exit: drain waits for the reader, within its time. */
	while (outbuf_flush(&b) == 0 && outbuf_put(&b, src, OUTBUF_SIZE) == OUTBUF_SIZE)
		;
	CHECK_EQ(outbuf_drain(&b, 50), -ETIMEDOUT); /* nobody reads */
	/* The reader leaves: EPIPE (SIGPIPE ignored for the test), the output
	 * is discarded, nothing blocks. */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	CHECK_EQ(outbuf_flush(&b), 0);
	CHECK(b.dead);
	CHECK_EQ(outbuf_put(&b, src, 10), 10);
	CHECK_EQ(outbuf_drain(&b, 50), 0);
	close(b.fd);
	close(p[1]);

	/* A regular file: shared offset (a dup), so `>> log` keeps appending. */
	char path[] = "/tmp/vmon-test-outbuf-XXXXXX";
	int f = mkstemp(path);
	CHECK(f >= 0 && write(f, "abc", 3) == 3);
	memset(&b, 0, sizeof(b));
	b.fd = outbuf_open(f);
	outbuf_put(&b, "def", 3);
	CHECK_EQ(outbuf_flush(&b), 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 6);
	char rb[8] = { 0 };
	CHECK(pread(f, rb, 6, 0) == 6 && memcmp(rb, "abcdef", 6) == 0);
	close(b.fd), close(f), unlink(path);
}

/* A sink that takes its budget and then refuses until the test gives it
 * more and wakes the console (as virtio-console without receive buffers). */
struct fake_sink {
	pthread_mutex_t lock;
	uint8_t got[64];
	size_t n, budget;
	console_wake_fn *wake;
	void *opaque;
	unsigned refusals;
	bool hold;
};

static size_t fake_receive(void *s, const uint8_t *buf, size_t len)
{
	struct fake_sink *f = s;
	pthread_mutex_lock(&f->lock);
	size_t n = len < f->budget ? len : f->budget;
	if (f->n + n > sizeof(f->got))
		n = sizeof(f->got) - f->n;
	memcpy(f->got + f->n, buf, n);
	f->n += n;
	f->budget -= n;
	if (n < len)
		f->refusals++;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void fake_connect(void *s, bool hold, console_wake_fn *wake, void *opaque)
{
	struct fake_sink *f = s;
	pthread_mutex_lock(&f->lock);
	f->wake = wake;
	f->opaque = opaque;
	f->hold = hold;
	pthread_mutex_unlock(&f->lock);
}

static size_t sink_count(struct fake_sink *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void test_sink(void)
{
	static struct vm vm; /* only Ctrl-A x would use it: stdin is a pipe */
	static struct console c;
	static struct fake_sink f = { .lock = PTHREAD_MUTEX_INITIALIZER, .budget = 5 };
	struct console_sink sink = { fake_receive, fake_connect, &f };
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK_EQ(console_start(&c, &vm, &sink, p[0]), 0);
	CHECK(f.wake != NULL);
	CHECK(f.hold); /* a pipe: no person types, the sink holds */
	const char *msg = "hello, hvc0\n";
	CHECK(write(p[1], msg, strlen(msg)) == (ssize_t)strlen(msg));
	for (int i = 0; i < 200 && sink_count(&f) < 5; i++)
		usleep(5000);
	usleep(20000);
	CHECK_EQ(sink_count(&f), 5); /* the budget, not more: nothing dropped, nothing pushed */
	/* The sink takes more and says so: the rest arrives, in order. */
	pthread_mutex_lock(&f.lock);
	f.budget = 100;
	f.wake(f.opaque);
	pthread_mutex_unlock(&f.lock);
	for (int i = 0; i < 200 && sink_count(&f) < strlen(msg); i++)
		usleep(5000);
	CHECK_EQ(sink_count(&f), strlen(msg));
	CHECK(memcmp(f.got, msg, strlen(msg)) == 0);
	CHECK(f.refusals >= 1);
	console_stop(&c);
	CHECK(f.wake == NULL); /* disconnected */
	close(p[0]), close(p[1]);
}

int main(void)
{
	test_outbuf();
	test_sink();
	return unit_report("virtio_console");
}
