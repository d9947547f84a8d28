/* The console's escape keys: Ctrl-A x quits, Ctrl-A h asks for the key
 * list, Ctrl-A Ctrl-A is one Ctrl-A, everything passes untouched when stdin
 * is not a terminal. */
#include "console.h"
#include "unit.h"

#define NONE CONSOLE_KEY_NONE
#define QUIT CONSOLE_KEY_QUIT
#define HELP CONSOLE_KEY_HELP

int main(void)
{
	struct console c;
	uint8_t out[64];
	size_t n;
	memset(&c, 0, sizeof(c));
	c.escapes = true;
	CHECK(NONE == console_filter(&c, (const uint8_t *)"ls\r", 3, out, &n));
	CHECK_EQ(n, 3);
	CHECK(memcmp(out, "ls\r", 3) == 0);
	/* Ctrl-A Ctrl-A: a literal Ctrl-A. */
	CHECK(NONE == console_filter(&c, (const uint8_t *)"a\001\001b", 4, out, &n));
	CHECK_EQ(n, 3);
	CHECK(out[0] == 'a' && out[1] == 0x01 && out[2] == 'b');
	/* Ctrl-A split across two reads, then x: quit; what came before is kept. */
	CHECK(NONE == console_filter(&c, (const uint8_t *)"q\001", 2, out, &n));
	CHECK_EQ(n, 1);
	CHECK(QUIT == console_filter(&c, (const uint8_t *)"x", 1, out, &n));
	CHECK_EQ(n, 0);
	/* An unknown command key is passed on. */
	c.after_escape = false;
	CHECK(NONE == console_filter(&c, (const uint8_t *)"\001c", 2, out, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0], 'c');
	/* Ctrl-A h: the key list is asked for; the bytes around it still pass,
	 * nothing of the command does. Upper case too, and split over reads. */
	c.after_escape = false;
	CHECK(HELP == console_filter(&c, (const uint8_t *)"a\001hb", 4, out, &n));
	CHECK_EQ(n, 2);
	CHECK(out[0] == 'a' && out[1] == 'b');
	CHECK(NONE == console_filter(&c, (const uint8_t *)"\001", 1, out, &n));
	CHECK(HELP == console_filter(&c, (const uint8_t *)"H", 1, out, &n));
	CHECK_EQ(n, 0);
	/* Help then quit in one read: quit wins, the run ends. */
	CHECK(QUIT == console_filter(&c, (const uint8_t *)"\001h\001x", 4, out, &n));
	/* The key list names every key the filter knows. */
	CHECK(strstr(console_help, "Ctrl-A x") && strstr(console_help, "Ctrl-A h") &&
	      strstr(console_help, "Ctrl-A Ctrl-A"));
	/* Not a terminal: bytes as they are, Ctrl-A x included. */
	memset(&c, 0, sizeof(c));
	CHECK(NONE == console_filter(&c, (const uint8_t *)"\001x", 2, out, &n));
	CHECK_EQ(n, 2);
	CHECK(out[0] == 0x01 && out[1] == 'x');
	CHECK(NONE == console_filter(&c, (const uint8_t *)"\001h", 2, out, &n));
	CHECK_EQ(n, 2);
	return unit_report("console");
}
