/* A bounded output buffer in front of a host descriptor that may block
 * (a terminal, a pipe): bytes are taken only while they fit, written
 * without blocking, and kept on EAGAIN until the descriptor is writable
 * again, so nothing the buffer accepted is lost. Used by virtio-console
 * for the guest's hvc0 output (stdout). Not thread-safe: its owner locks. */
#ifndef VMON_UTIL_OUTBUF_H
#define VMON_UTIL_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBUF_SIZE 65536

struct outbuf {
	int fd;              /* non-blocking (see outbuf_open), or a regular file */
	bool dead;           /* the reader went away (EPIPE, EIO): output is discarded */
	size_t off, len;     /* bytes [off, len) of data are not written yet */
	uint8_t data[OUTBUF_SIZE];
};

/* A descriptor of out_fd's file for the buffer: a regular file or a block
 * device is dup'ed (it never blocks, and keeps sharing the offset); any
 * other file (a terminal, a pipe) is reopened through /proc/self/fd with
 * O_NONBLOCK, a file description of its own, so the shell's stdout is
 * never left non-blocking. If that fails, a blocking dup (writes then may
 * block the caller). Returns the descriptor or -errno. */
int outbuf_open(int out_fd);

/* Free space: what outbuf_put takes now. */
size_t outbuf_room(const struct outbuf *b);
/* Appends up to len bytes (at most outbuf_room); returns the count. */
size_t outbuf_put(struct outbuf *b, const void *src, size_t len);
/* Writes without blocking. Returns 0 when all is written (or discarded
 * because the reader is gone), -EAGAIN when bytes remain: wait for the
 * descriptor to become writable and call again. */
int outbuf_flush(struct outbuf *b);
/* Writes what remains, waiting at most timeout_ms for the descriptor in
 * all (at exit: the guest's acknowledged output reaches the terminal).
 * Returns 0, or -ETIMEDOUT with bytes left. */
int outbuf_drain(struct outbuf *b, int timeout_ms);

#endif
