/* The console's escape keys: Ctrl-A x quits, Ctrl-A Ctrl-A is one Ctrl-A,
 * everything passes untouched when stdin is not a terminal. */
#include "console.h"
#include "unit.h"

int main(void)
{
	struct console c;
	uint8_t out[64];
	size_t n;
	memset(&c, 0, sizeof(c));
	c.escapes = true;
	CHECK(!console_filter(&c, (const uint8_t *)"ls\r", 3, out, &n));
	CHECK_EQ(n, 3);
	CHECK(memcmp(out, "ls\r", 3) == 0);
	/* Ctrl-A Ctrl-A: a literal Ctrl-A. */
	CHECK(!console_filter(&c, (const uint8_t *)"a\001\001b", 4, out, &n));
	CHECK_EQ(n, 3);
	CHECK(out[0] == 'a' && out[1] == 0x01 && out[2] == 'b');
	/* Ctrl-A split across two reads, then x: quit; what came before is kept. */
	CHECK(!console_filter(&c, (const uint8_t *)"q\001", 2, out, &n));
	CHECK_EQ(n, 1);
	CHECK(console_filter(&c, (const uint8_t *)"x", 1, out, &n));
	CHECK_EQ(n, 0);
	/* An unknown command key is passed on. */
	c.after_escape = false;
	CHECK(!console_filter(&c, (const uint8_t *)"\001c", 2, out, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0], 'c');
	/* Not a terminal: bytes as they are, Ctrl-A x included. */
	memset(&c, 0, sizeof(c));
	CHECK(!console_filter(&c, (const uint8_t *)"\001x", 2, out, &n));
	CHECK_EQ(n, 2);
	CHECK(out[0] == 0x01 && out[1] == 'x');
	return unit_report("console");
}
