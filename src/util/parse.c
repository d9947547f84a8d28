#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

/* Decimal, or hex after "0x": a leading zero does not mean octal ("010"
 * is ten, as a user who types it means). Leaves *end after the digits. */
static int parse_number(const char *s, unsigned long long *v, char **end)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL; /* rejects "", "-1", " 1", "+1" */
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
		if (!isxdigit((unsigned char)s[0]))
			return -EINVAL; /* "0x", "0x-1" */
	}
	errno = 0;
	*v = strtoull(s, end, base);
	if (errno == ERANGE)
		return -ERANGE;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int r = parse_number(s, &v, &end);
	if (r < 0)
		return r;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int r = parse_number(s, &v, &end);
	if (r < 0)
		return r;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	/* Accept an optional trailing 'B' or 'iB' ("256MB", "2GiB"). */
	if (shift && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'b' || end[1] == 'B'))
		end += 2;
	else if (shift && (end[0] == 'b' || end[0] == 'B'))
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}
