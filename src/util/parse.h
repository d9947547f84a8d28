/* Number and size parsers for the command line. Pure functions. */
#ifndef VMON_UTIL_PARSE_H
#define VMON_UTIL_PARSE_H

#include <stdint.h>

/* Numbers are decimal or 0x-hex; a leading 0 is still decimal ("010" = 10).
 * "4096", "0x1000", "64K", "256M", "2G" (binary units). Returns 0 or -EINVAL
 * (garbage, empty) / -ERANGE (overflow). */
int parse_size(const char *s, uint64_t *out);

/* A plain unsigned integer, decimal or 0x-hex, no suffix. */
int parse_u64(const char *s, uint64_t *out);

#endif
