/* The I/O thread's epoll loop (event_loop.h).
 *
 * Removal against a callback in flight: each watch lives in a slot of a
 * table and epoll carries (generation << 32 | slot), never a pointer. Two
 * locks:
 *   - table: guards the slots; held only for short bookkeeping, never
 *     across a callback, so add/modify never wait for a callback (a vCPU
 *     holding a device lock may call them while a callback waits for that
 *     device lock);
 *   - dispatch: held by the loop thread around each callback.
 * The loop takes dispatch, checks under table that the slot still holds
 * the same generation, copies fn/opaque, drops table and calls. remove
 * bumps the generation under table, then (from another thread) takes and
 * drops dispatch: a callback that started before has finished, and any
 * later one sees the stale generation and is skipped, even if its event
 * was fetched before the remove. From the loop thread itself dispatch is
 * already held: the current call just finishes. So remove must not be
 * called with a lock held that the watch's callback takes. */
#include "util/event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct watch {
	int fd;           /* -1: free slot */
	uint32_t gen;
	event_fn *fn;
	void *opaque;
};

struct event_loop {
	int epfd, stopfd;
	pthread_t thread;
	bool started;
	pthread_mutex_t table, dispatch;
	struct watch *w;
	unsigned nw;
};

#define STOP_KEY UINT64_MAX
#define MAX_EVENTS 32

static uint64_t key(const struct event_loop *l, unsigned slot)
{
	return (uint64_t)l->w[slot].gen << 32 | slot;
}

static int find(const struct event_loop *l, int fd)
{
	for (unsigned i = 0; i < l->nw; i++)
		if (l->w[i].fd == fd)
			return (int)i;
	return -1;
}

int event_loop_create(struct event_loop **out)
{
	struct event_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->table, NULL);
	pthread_mutex_init(&l->dispatch, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STOP_KEY };
	if (l->epfd < 0 || l->stopfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev) < 0) {
		int e = -errno;
		event_loop_destroy(l);
		return e;
	}
	*out = l;
	return 0;
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn *fn, void *opaque)
{
	if (fd < 0 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&l->table);
	int r = 0;
	if (find(l, fd) >= 0) {
		r = -EEXIST;
		goto out;
	}
	int slot = find(l, -1);
	if (slot < 0) {
		unsigned n = l->nw ? l->nw * 2 : 8;
		struct watch *nw = realloc(l->w, n * sizeof(*nw));
		if (!nw) {
			r = -ENOMEM;
			goto out;
		}
		for (unsigned i = l->nw; i < n; i++)
			nw[i] = (struct watch){ .fd = -1 };
		slot = (int)l->nw;
		l->w = nw;
		l->nw = n;
	}
	struct watch *w = &l->w[slot];
	w->fd = fd;
	w->fn = fn;
	w->opaque = opaque;
	struct epoll_event ev = { .events = events, .data.u64 = key(l, (unsigned)slot) };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		w->fd = -1;
	}
out:
	pthread_mutex_unlock(&l->table);
	return r;
}

int event_loop_modify(struct event_loop *l, int fd, uint32_t events)
{
	pthread_mutex_lock(&l->table);
	int slot = find(l, fd), r = -ENOENT;
	if (slot >= 0) {
		struct epoll_event ev = { .events = events, .data.u64 = key(l, (unsigned)slot) };
		r = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&l->table);
	return r;
}

void event_loop_remove(struct event_loop *l, int fd)
{
	pthread_mutex_lock(&l->table);
	int slot = fd >= 0 ? find(l, fd) : -1;
	if (slot >= 0) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		l->w[slot].fd = -1;
		l->w[slot].gen++;
	}
	pthread_mutex_unlock(&l->table);
	if (slot < 0 || (l->started && pthread_equal(pthread_self(), l->thread)))
		return;
	/* wait out a callback of this watch that may be running */
	pthread_mutex_lock(&l->dispatch);
	pthread_mutex_unlock(&l->dispatch);
}

static void dispatch(struct event_loop *l, uint64_t k, uint32_t events)
{
	unsigned slot = (unsigned)k;
	pthread_mutex_lock(&l->dispatch);
	pthread_mutex_lock(&l->table);
	event_fn *fn = NULL;
	void *opaque = NULL;
	if (slot < l->nw && l->w[slot].fd >= 0 && l->w[slot].gen == (uint32_t)(k >> 32)) {
		fn = l->w[slot].fn;
		opaque = l->w[slot].opaque;
	}
	pthread_mutex_unlock(&l->table);
	if (fn)
		fn(opaque, events);
	pthread_mutex_unlock(&l->dispatch);
}

static void *loop_thread(void *arg)
{
	struct event_loop *l = arg;
	for (;;) {
		struct epoll_event ev[MAX_EVENTS];
		int n = epoll_wait(l->epfd, ev, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* EBADF/EINVAL: a bug, nothing to serve */
		}
		for (int i = 0; i < n; i++)
			if (ev[i].data.u64 == STOP_KEY)
				return NULL;
		for (int i = 0; i < n; i++)
			dispatch(l, ev[i].data.u64, ev[i].events);
	}
	return NULL;
}

int event_loop_start(struct event_loop *l)
{
	if (l->started)
		return 0;
	int r = pthread_create(&l->thread, NULL, loop_thread, l);
	if (r)
		return -r;
	l->started = true;
	return 0;
}

void event_loop_stop(struct event_loop *l)
{
	if (!l || !l->started)
		return;
	uint64_t one = 1;
	/* one write cannot overflow the counter: it does not fail */
	ssize_t n = write(l->stopfd, &one, sizeof(one));
	pthread_join(l->thread, NULL);
	l->started = false;
	n = read(l->stopfd, &one, sizeof(one)); /* re-armed for a later start */
	(void)n;
}

void event_loop_destroy(struct event_loop *l)
{
	if (!l)
		return;
	event_loop_stop(l);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	pthread_mutex_destroy(&l->table);
	pthread_mutex_destroy(&l->dispatch);
	free(l->w);
	free(l);
}
