/* The MC146818-compatible CMOS real-time clock at ports 0x70/0x71: the
 * host's time (UTC), BCD or binary, 12- or 24-hour as the guest selects,
 * and 128 bytes of CMOS RAM. A guest that sets the clock keeps its offset. */
#ifndef VMON_DEV_RTC_CMOS_H
#define VMON_DEV_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus/io_bus.h"

/* The host's wall clock: nanoseconds since the Unix epoch (UTC). The
 * fraction of a second places the update-in-progress window. */
typedef int64_t rtc_clock_fn(void *opaque);

struct rtc_cmos;

/* clock NULL: CLOCK_REALTIME. */
int rtc_cmos_create(struct io_bus *bus, rtc_clock_fn *clock, void *clock_opaque, struct rtc_cmos **out)
	__attribute__((warn_unused_result));
void rtc_cmos_destroy(struct rtc_cmos *r);

void rtc_cmos_io(struct rtc_cmos *r, uint16_t port, bool is_write, uint8_t *value);

#endif
