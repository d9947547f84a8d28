/* The I/O thread's loop: callbacks fire on it, modify changes what is
 * watched, remove from another thread while the callback keeps firing never
 * lets a call start or go on after it returns, remove from inside the
 * callback, stop idempotent. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "util/event_loop.h"

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

/* Waits up to 2 s for *v to reach at least want. */
static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
		sleep_us(1000);
	return atomic_load(v);
}

struct probe {
	struct event_loop *l;
	int fd;
	atomic_int calls;
	atomic_int running;
	atomic_bool removed;   /* set by the test once remove returned */
	atomic_int late;       /* calls that began or ran on after that */
	bool consume;          /* read the eventfd (else it stays readable) */
	bool self_remove;
	uint32_t last_events;
};

static void on_event(void *opaque, uint32_t events)
{
	struct probe *p = opaque;
	atomic_fetch_add(&p->running, 1);
	if (atomic_load(&p->removed))
		atomic_fetch_add(&p->late, 1);
	p->last_events = events;
	if (p->consume) {
		uint64_t v;
		ssize_t n = read(p->fd, &v, sizeof(v));
		(void)n;
	}
	if (p->self_remove)
		event_loop_remove(p->l, p->fd);
	sleep_us(50); /* widen the window a concurrent remove must wait out */
	if (atomic_load(&p->removed))
		atomic_fetch_add(&p->late, 1);
	atomic_fetch_add(&p->calls, 1);
	atomic_fetch_sub(&p->running, 1);
}

static void kick(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));
	(void)n;
}

int main(void)
{
	struct event_loop *l;
	CHECK_EQ(event_loop_create(&l), 0);

	/* Added before start: an eventfd's callback fires once started, on
	 * each write it consumes. */
	struct probe a = { .l = l, .fd = eventfd(0, EFD_NONBLOCK), .consume = true };
	CHECK_EQ(event_loop_add(l, a.fd, EPOLLIN, on_event, &a), 0);
	CHECK_EQ(event_loop_add(l, a.fd, EPOLLIN, on_event, &a), -EEXIST);
	kick(a.fd);
	sleep_us(20000);
	CHECK_EQ(atomic_load(&a.calls), 0); /* not started yet */
	CHECK_EQ(event_loop_start(l), 0);
	CHECK_EQ(wait_for(&a.calls, 1), 1);
	CHECK(a.last_events & EPOLLIN);
	kick(a.fd);
	CHECK_EQ(wait_for(&a.calls, 2), 2);

	/* modify: watching nothing, a write calls nobody; EPOLLIN again does. */
	CHECK_EQ(event_loop_modify(l, a.fd, 0), 0);
	kick(a.fd);
	sleep_us(20000);
	CHECK_EQ(atomic_load(&a.calls), 2);
	CHECK_EQ(event_loop_modify(l, a.fd, EPOLLIN), 0);
	CHECK_EQ(wait_for(&a.calls, 3), 3);
	CHECK_EQ(event_loop_modify(l, 12345, EPOLLIN), -ENOENT);
	event_loop_remove(l, a.fd);
	close(a.fd);

	/* remove from another thread while the callback fires without pause
	 * (the eventfd stays readable): after remove returns the callback is
	 * not running and never starts again. Many rounds, to hit a call in
	 * flight and an event fetched but not yet dispatched. */
	int late = 0, inflight = 0, fired = 0;
	for (int round = 0; round < 200; round++) {
		struct probe b = { .l = l, .fd = eventfd(1, EFD_NONBLOCK) };
		CHECK_EQ(event_loop_add(l, b.fd, EPOLLIN, on_event, &b), 0);
		wait_for(&b.calls, 1 + round % 3);
		sleep_us(round % 7 * 10);
		event_loop_remove(l, b.fd);
		inflight += atomic_load(&b.running);
		atomic_store(&b.removed, true);
		int before = atomic_load(&b.calls);
		sleep_us(round % 10 == 0 ? 5000 : 200);
		late += atomic_load(&b.late) + (atomic_load(&b.calls) != before);
		fired += before > 0;
		close(b.fd);
	}
	CHECK_EQ(late, 0);
	CHECK_EQ(inflight, 0);
	CHECK_EQ(fired, 200);

	/* remove from inside the callback: the call finishes, no other comes
	 * though the fd stays readable. */
	struct probe c = { .l = l, .fd = eventfd(1, EFD_NONBLOCK), .self_remove = true };
	CHECK_EQ(event_loop_add(l, c.fd, EPOLLIN, on_event, &c), 0);
	CHECK_EQ(wait_for(&c.calls, 1), 1);
	sleep_us(20000);
	CHECK_EQ(atomic_load(&c.calls), 1);
	/* the slot is free again: the same fd can be added anew */
	c.self_remove = false;
	c.consume = true;
	CHECK_EQ(event_loop_add(l, c.fd, EPOLLIN, on_event, &c), 0);
	CHECK_EQ(wait_for(&c.calls, 2), 2);
	event_loop_remove(l, c.fd);
	event_loop_remove(l, c.fd); /* a no-op */
	close(c.fd);

	/* stop joins and is idempotent; a stopped loop calls nobody. */
	struct probe d = { .l = l, .fd = eventfd(0, EFD_NONBLOCK), .consume = true };
	CHECK_EQ(event_loop_add(l, d.fd, EPOLLIN, on_event, &d), 0);
	event_loop_stop(l);
	event_loop_stop(l);
	kick(d.fd);
	sleep_us(20000);
	CHECK_EQ(atomic_load(&d.calls), 0);
	event_loop_destroy(l);
	close(d.fd);

	/* a loop never started stops and is destroyed quietly */
	CHECK_EQ(event_loop_create(&l), 0);
	event_loop_stop(l);
	event_loop_destroy(l);
	return unit_report("event_loop");
}
