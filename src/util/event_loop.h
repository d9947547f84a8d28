/* The I/O thread: one epoll loop (design.md, threads) that serves the host
 * sides of devices (taps, sockets, queue notifications, disk completions)
 * so that no vCPU thread ever waits on the host. Callbacks run on the loop's
 * thread, one at a time; they must not block. */
#ifndef VMON_UTIL_EVENT_LOOP_H
#define VMON_UTIL_EVENT_LOOP_H

#include <stdint.h>

struct event_loop;

/* events: the EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits that fired. */
typedef void event_fn(void *opaque, uint32_t events);

/* Returns 0 or -errno. The loop does not run until event_loop_start(). */
int event_loop_create(struct event_loop **out);
/* Watches fd for events (EPOLLIN, EPOLLOUT; level-triggered). Any thread,
 * before or after start. The fd stays the caller's. 0 or -errno. */
int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn *fn, void *opaque);
int event_loop_modify(struct event_loop *l, int fd, uint32_t events);
/* After it returns, fn is not running and will not be called for fd again
 * (unless called from fn itself, where the current call finishes). */
void event_loop_remove(struct event_loop *l, int fd);
/* Starts the thread. 0 or -errno. */
int event_loop_start(struct event_loop *l);
/* Stops and joins the thread; idempotent. */
void event_loop_stop(struct event_loop *l);
void event_loop_destroy(struct event_loop *l);

#endif
