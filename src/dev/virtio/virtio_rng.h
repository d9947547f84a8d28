/* virtio-rng, the entropy device (virtio 1.2 §5.4): one request queue whose
 * device-writable buffers are filled from the host's getrandom(). The
 * guest sees /dev/hwrng. Requests are served on the I/O thread with a
 * bound per chain and per turn (RNG_CHAIN_MAX, RNG_TURN_MAX): a guest that
 * keeps the queue full gets at most RNG_TURN_MAX bytes a millisecond and
 * the loop's other devices their turns in between. */
#ifndef VMON_DEV_VIRTIO_VIRTIO_RNG_H
#define VMON_DEV_VIRTIO_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dev/virtio/virtio_dev.h"

#define RNG_CHAIN_MAX (64u << 10)   /* bytes given to one request at most */
#define RNG_TURN_MAX (256u << 10)   /* bytes per turn on the I/O thread */

struct event_loop;
struct virtio_rng;

/* Returns 0 or -errno. Then virtio_pci_create(..., virtio_rng_ops(r), r,
 * &t) and virtio_rng_attach(r, t) before the guest runs. */
int virtio_rng_create(struct event_loop *loop, struct virtio_rng **out);
const struct virtio_device_ops *virtio_rng_ops(struct virtio_rng *r);
void virtio_rng_attach(struct virtio_rng *r, struct virtio_pci *t);
/* Not from the loop's thread. */
void virtio_rng_destroy(struct virtio_rng *r);

/* Pure parts, for tests: the bytes one request of in_len writable bytes
 * gets when left bytes remain in this turn; and filling buf from
 * getrandom(GRND_NONBLOCK): the bytes written (len, or fewer when the
 * kernel gave fewer) or -errno (-EAGAIN: the host pool is not ready). */
uint32_t virtio_rng_request_len(uint64_t in_len, uint64_t left);
ssize_t virtio_rng_fill(uint8_t *buf, size_t len);

#endif
