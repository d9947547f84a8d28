/* 8042: self-tests, the command byte, keyboard ACKs, the reset line. */
#include "dev/i8042.h"
#include "unit.h"

static int resets;
static void on_reset(void *o) { (void)o; resets++; }
static struct i8042 *k;
static void out(uint16_t port, uint8_t v) { i8042_io(k, port, true, &v); }
static uint8_t in(uint16_t port) { uint8_t v = 0; i8042_io(k, port, false, &v); return v; }

int main(void)
{
	CHECK_EQ(i8042_create(NULL, on_reset, NULL, &k), 0);
	CHECK_EQ(in(0x64) & 0x01, 0);     /* nothing to read */
	out(0x64, 0xaa);
	CHECK_EQ(in(0x64) & 0x01, 1);
	CHECK_EQ(in(0x60), 0x55);
	out(0x64, 0xab);
	CHECK_EQ(in(0x60), 0x00);
	out(0x64, 0x60);
	out(0x60, 0x47);
	out(0x64, 0x20);
	CHECK_EQ(in(0x60), 0x47);
	out(0x60, 0xff);                  /* keyboard reset */
	CHECK_EQ(in(0x60), 0xfa);
	CHECK_EQ(in(0x60), 0xaa);
	out(0x60, 0xed);                  /* LEDs, with an argument */
	CHECK_EQ(in(0x60), 0xfa);
	out(0x60, 0x07);
	CHECK_EQ(in(0x60), 0xfa);
	CHECK_EQ(resets, 0);
	out(0x64, 0xfe);                  /* pulse reset */
	CHECK_EQ(resets, 1);
	out(0x64, 0xd1);                  /* output port with bit 0 low */
	out(0x60, 0x02);
	CHECK_EQ(resets, 2);
	out(0x64, 0xff);                  /* pulse nothing: no reset */
	CHECK_EQ(resets, 2);
	i8042_destroy(k);
	return unit_report("i8042");
}
