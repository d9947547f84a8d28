/* CMOS RTC: a known host time in BCD and binary, 12/24-hour, guest-set time;
 * register A's UIP in the 244 us before each second's update (MC146818A
 * datasheet: t_BUC = 244 us with a 32.768 kHz time base), and never while
 * SET is on or the divider is not counting. */
#include "dev/rtc_cmos.h"
#include "unit.h"

#define S 1000000000LL
static int64_t host = 1795602645 * S + S / 2; /* 2026-11-25 10:30:45.5 UTC, a Wednesday */
static int64_t clk(void *o) { (void)o; return host; }
static struct rtc_cmos *r;
static uint8_t rd(uint8_t i) { uint8_t v = i; rtc_cmos_io(r, 0x70, true, &v); rtc_cmos_io(r, 0x71, false, &v); return v; }
static void wr(uint8_t i, uint8_t val) { uint8_t v = i; rtc_cmos_io(r, 0x70, true, &v); v = val; rtc_cmos_io(r, 0x71, true, &v); }

int main(void)
{
	CHECK_EQ(rtc_cmos_create(NULL, clk, NULL, &r), 0);
	/* BCD, 24-hour by default. */
	CHECK_EQ(rd(0x00), 0x45);
	CHECK_EQ(rd(0x02), 0x30);
	CHECK_EQ(rd(0x04), 0x10);
	CHECK_EQ(rd(0x06), 0x04); /* Wednesday: day 4 counting Sunday = 1 */
	CHECK_EQ(rd(0x07), 0x25);
	CHECK_EQ(rd(0x08), 0x11);
	CHECK_EQ(rd(0x09), 0x26);
	CHECK_EQ(rd(0x32), 0x20);
	CHECK_EQ(rd(0x0d), 0x80);
	CHECK_EQ(rd(0x0a) & 0x80, 0); /* mid-second: no update in progress */
	/* Binary mode. */
	wr(0x0b, 0x06);
	CHECK_EQ(rd(0x00), 45);
	CHECK_EQ(rd(0x09), 26);
	/* 12-hour: 22:00 is 10 PM (bit 7). */
	host += (11 * 3600 + 29 * 60) * S; /* 21:59:45 */
	host += 15 * S;                    /* 22:00:00 */
	wr(0x0b, 0x04);
	CHECK_EQ(rd(0x04), 0x80 | 10);
	/* The guest sets 2030-01-02 03:04:05 (BCD, 24h); time moves on from there. */
	wr(0x0b, 0x82);
	wr(0x00, 0x05); wr(0x02, 0x04); wr(0x04, 0x03); wr(0x07, 0x02); wr(0x08, 0x01); wr(0x09, 0x30);
	wr(0x32, 0x20);
	wr(0x0b, 0x02);
	host += 10 * S;
	CHECK_EQ(rd(0x00), 0x15);
	CHECK_EQ(rd(0x09), 0x30);
	CHECK_EQ(rd(0x08), 0x01);
	/* CMOS RAM bytes are plain storage. */
	wr(0x40, 0xa5);
	CHECK_EQ(rd(0x40), 0xa5);
	/* The index register ignores the NMI-mask bit. */
	uint8_t v = 0x80 | 0x40;
	rtc_cmos_io(r, 0x70, true, &v);
	rtc_cmos_io(r, 0x71, false, &v);
	CHECK_EQ(v, 0xa5);
	/* UIP: set for the last 244 us of each second, the time registers
	 * still showing the old second; clear from the update on */
	int64_t sec = host / S * S;
	host = sec + S - 244000 - 1;
	CHECK_EQ(rd(0x0a), 0x26);
	host = sec + S - 244000;
	CHECK_EQ(rd(0x0a), 0x80 | 0x26);
	CHECK_EQ(rd(0x00), 0x15);
	host = sec + S - 1;
	CHECK_EQ(rd(0x0a), 0x80 | 0x26);
	host = sec + S;
	CHECK_EQ(rd(0x0a), 0x26);
	CHECK_EQ(rd(0x00), 0x16);
	/* SET stops the updates and clears UIP; so does a divider not counting */
	host = sec + S - 1000;
	wr(0x0b, 0x82);
	CHECK_EQ(rd(0x0a), 0x26);
	wr(0x0b, 0x02);
	CHECK_EQ(rd(0x0a), 0x80 | 0x26);
	wr(0x0a, 0x66); /* divider 110: reset, not counting */
	CHECK_EQ(rd(0x0a), 0x66);
	wr(0x0a, 0xa6); /* UIP is read-only */
	CHECK_EQ(rd(0x0a), 0x80 | 0x26);
	rtc_cmos_destroy(r);
	return unit_report("rtc_cmos");
}
