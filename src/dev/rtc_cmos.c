/* MC146818A RTC (Motorola datasheet, "Address map" and registers A-D) as
 * found in PC chipsets; the century byte at 0x32 (ACPI FADT CENTURY).
 *
 * The time registers follow the host's wall clock (plus the guest's
 * offset), so the once-per-second update happens at each whole second of
 * it; register A's UIP reads 1 for the 244 us before that update, as the
 * chip raises it t_BUC = 244 us ahead of the update cycle with a 32.768 kHz
 * time base (datasheet, "Update cycle"), so a guest that waits for the
 * update edge (UIP 0 -> 1 -> 0) sees one each second. */
#include "dev/rtc_cmos.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
	REG_SEC = 0x00, REG_MIN = 0x02, REG_HOUR = 0x04, REG_WDAY = 0x06, REG_MDAY = 0x07,
	REG_MON = 0x08, REG_YEAR = 0x09, REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
	REG_CENTURY = 0x32,
};
#define B_SET   0x80 /* updates frozen while the guest sets the time */
#define B_DM    0x04 /* binary, not BCD */
#define B_24H   0x02
#define D_VRT   0x80 /* valid RAM and time */
#define A_UIP   0x80 /* update in progress */
#define A_DV_RUN 0x20 /* divider bits 6:4 = 010: 32.768 kHz, oscillator on, counting */
#define NS_PER_S 1000000000LL
#define UIP_NS   244000LL /* t_BUC: UIP leads the update by 244 us */

struct rtc_cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
	int64_t offset;      /* guest time - host time, seconds */
	rtc_clock_fn *clock;
	void *clock_opaque;
};

static int64_t host_time(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Whole seconds of the host clock (floored, also before 1970). */
static int64_t host_seconds(const struct rtc_cmos *r)
{
	int64_t ns = r->clock(r->clock_opaque);
	return ns >= 0 ? ns / NS_PER_S : -((-ns + NS_PER_S - 1) / NS_PER_S);
}

/* UIP: only while the chip counts (divider 010, SET clear: the datasheet's
 * SET "clears UIP"), in the last 244 us before a whole second. */
static bool update_in_progress(const struct rtc_cmos *r)
{
	if ((r->ram[REG_B] & B_SET) || (r->ram[REG_A] & 0x70) != A_DV_RUN)
		return false;
	int64_t ns = r->clock(r->clock_opaque);
	int64_t frac = ns % NS_PER_S;
	if (frac < 0)
		frac += NS_PER_S;
	return frac >= NS_PER_S - UIP_NS;
}

static uint8_t to_reg(const struct rtc_cmos *r, unsigned v)
{
	return (r->ram[REG_B] & B_DM) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc_cmos *r, uint8_t v)
{
	return (r->ram[REG_B] & B_DM) ? v : (unsigned)((v >> 4) * 10 + (v & 0xf));
}

/* Fills the time registers from host time + offset. */
static void refresh(struct rtc_cmos *r)
{
	if (r->ram[REG_B] & B_SET)
		return;
	time_t t = (time_t)(host_seconds(r) + r->offset);
	struct tm tm;
	gmtime_r(&t, &tm);
	r->ram[REG_SEC] = to_reg(r, (unsigned)tm.tm_sec);
	r->ram[REG_MIN] = to_reg(r, (unsigned)tm.tm_min);
	unsigned hour = (unsigned)tm.tm_hour;
	if (r->ram[REG_B] & B_24H) {
		r->ram[REG_HOUR] = to_reg(r, hour);
	} else {
		unsigned h12 = hour % 12 ? hour % 12 : 12;
		r->ram[REG_HOUR] = (uint8_t)(to_reg(r, h12) | (hour >= 12 ? 0x80 : 0));
	}
	r->ram[REG_WDAY] = to_reg(r, (unsigned)tm.tm_wday + 1);
	r->ram[REG_MDAY] = to_reg(r, (unsigned)tm.tm_mday);
	r->ram[REG_MON] = to_reg(r, (unsigned)tm.tm_mon + 1);
	r->ram[REG_YEAR] = to_reg(r, (unsigned)(tm.tm_year % 100));
	r->ram[REG_CENTURY] = to_reg(r, (unsigned)(1900 + tm.tm_year) / 100);
}

/* The guest ends a SET: its registers become the new time. */
static void commit_guest_time(struct rtc_cmos *r)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_sec = (int)from_reg(r, r->ram[REG_SEC]);
	tm.tm_min = (int)from_reg(r, r->ram[REG_MIN]);
	uint8_t h = r->ram[REG_HOUR];
	if (r->ram[REG_B] & B_24H) {
		tm.tm_hour = (int)from_reg(r, h);
	} else {
		unsigned h12 = from_reg(r, h & 0x7f) % 12;
		tm.tm_hour = (int)(h12 + ((h & 0x80) ? 12 : 0));
	}
	tm.tm_mday = (int)from_reg(r, r->ram[REG_MDAY]);
	tm.tm_mon = (int)from_reg(r, r->ram[REG_MON]) - 1;
	tm.tm_year = (int)(from_reg(r, r->ram[REG_CENTURY]) * 100 + from_reg(r, r->ram[REG_YEAR])) - 1900;
	time_t guest = timegm(&tm);
	if (guest != (time_t)-1)
		r->offset = (int64_t)guest - host_seconds(r);
}

void rtc_cmos_io(struct rtc_cmos *r, uint16_t port, bool is_write, uint8_t *value)
{
	pthread_mutex_lock(&r->lock);
	if (port == 0x70) {
		if (is_write)
			r->index = *value & 0x7f; /* bit 7 is the NMI mask */
		else
			*value = 0xff;
	} else {
		uint8_t i = r->index;
		if (is_write) {
			switch (i) {
			case REG_A: r->ram[i] = *value & 0x7f; break; /* UIP is read-only */
			case REG_B: {
				bool was_set = r->ram[REG_B] & B_SET;
				if (!was_set && (*value & B_SET))
					refresh(r); /* freeze the current time for editing */
				r->ram[REG_B] = *value;
				if (was_set && !(*value & B_SET))
					commit_guest_time(r);
				break;
			}
			case REG_C: case REG_D: break; /* read-only */
			default: r->ram[i] = *value; break;
			}
		} else {
			switch (i) {
			case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY: case REG_MDAY:
			case REG_MON: case REG_YEAR: case REG_CENTURY:
				refresh(r);
				*value = r->ram[i];
				break;
			case REG_A: *value = (uint8_t)(r->ram[REG_A] | (update_in_progress(r) ? A_UIP : 0)); break;
			case REG_C: *value = 0; break;             /* no interrupt flags */
			case REG_D: *value = D_VRT; break;
			default: *value = r->ram[i]; break;
			}
		}
	}
	pthread_mutex_unlock(&r->lock);
}

static void bus_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	uint8_t b = (uint8_t)*value;
	(void)size;
	rtc_cmos_io(opaque, (uint16_t)(0x70 + offset), is_write, &b);
	if (!is_write)
		*value = b;
}

int rtc_cmos_create(struct io_bus *bus, rtc_clock_fn *clock, void *clock_opaque, struct rtc_cmos **out)
{
	struct rtc_cmos *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->clock = clock ? clock : host_time;
	r->clock_opaque = clock_opaque;
	r->ram[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->ram[REG_B] = B_24H; /* BCD, 24-hour: what PC BIOSes leave */
	r->ram[REG_D] = D_VRT;
	int rc = bus ? io_bus_register(bus, IO_SPACE_PIO, 0x70, 2, bus_io, r, "rtc-cmos") : 0;
	if (rc < 0) {
		rtc_cmos_destroy(r);
		return rc;
	}
	*out = r;
	return 0;
}

void rtc_cmos_destroy(struct rtc_cmos *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}
