/* Size and number parsers used by the command line. */
#include <errno.h>

#include "unit.h"
#include "util/parse.h"

static void check_size(const char *s, int want_r, uint64_t want)
{
	uint64_t v = 0xdead;
	int r = parse_size(s, &v);
	CHECK_EQ(r, want_r);
	if (r == 0 && want_r == 0)
		CHECK_EQ(v, want);
}

int main(void)
{
	check_size("0", 0, 0);
	check_size("4096", 0, 4096);
	check_size("0x1000", 0, 0x1000);
	check_size("64K", 0, 64ULL << 10);
	check_size("64k", 0, 64ULL << 10);
	check_size("256M", 0, 256ULL << 20);
	check_size("256MB", 0, 256ULL << 20);
	check_size("2G", 0, 2ULL << 30);
	check_size("2GiB", 0, 2ULL << 30);
	check_size("1T", 0, 1ULL << 40);
	check_size("", -EINVAL, 0);
	check_size("M", -EINVAL, 0);
	check_size("-1", -EINVAL, 0);
	check_size(" 1", -EINVAL, 0);
	check_size("12Q", -EINVAL, 0);
	check_size("1MM", -EINVAL, 0);
	check_size("1B", -EINVAL, 0);
	check_size("18446744073709551615", 0, UINT64_MAX);
	check_size("18446744073709551616", -ERANGE, 0);
	check_size("17179869184G", -ERANGE, 0); /* 2^34 G = 2^64 */

	uint64_t v;
	CHECK_EQ(parse_u64("42", &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(parse_u64("0x7c00", &v), 0);
	CHECK_EQ(v, 0x7c00);
	CHECK_EQ(parse_u64("1K", &v), -EINVAL);
	CHECK_EQ(parse_u64("", &v), -EINVAL);
	CHECK_EQ(parse_u64("-5", &v), -EINVAL);
	CHECK_EQ(parse_u64("0x", &v), -EINVAL);
	/* A leading zero is decimal, never octal (issue 10): 010 is ten, 09 nine. */
	CHECK_EQ(parse_u64("010", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(parse_u64("09", &v), 0);
	CHECK_EQ(v, 9);
	CHECK_EQ(parse_u64("0X1f", &v), 0);
	CHECK_EQ(v, 0x1f);
	CHECK_EQ(parse_u64("0x-1", &v), -EINVAL);
	CHECK_EQ(parse_u64("0x 1", &v), -EINVAL);
	CHECK_EQ(parse_u64("0b101", &v), -EINVAL);
	CHECK_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
	CHECK_EQ(parse_u64("0x10000000000000000", &v), -ERANGE);
	check_size("010M", 0, 10ULL << 20);
	check_size("0x10M", 0, 16ULL << 20);
	check_size("0x1B", 0, 0x1b);
	check_size("0xM", -EINVAL, 0);
	return unit_report("parse");
}
