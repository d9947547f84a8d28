/* A tiny unit-test harness: CHECK() records a failure and goes on; each test
 * binary prints "N passed, N failed" and exits non-zero on any failure. */
#ifndef VMON_TESTS_UNIT_H
#define VMON_TESTS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (cond) {                                                           \
			unit_passed++;                                                \
		} else {                                                              \
			unit_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

#define CHECK_EQ(a, b)                                                                \
	do {                                                                          \
		unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
		if (va_ == vb_) {                                                     \
			unit_passed++;                                                \
		} else {                                                              \
			unit_failed++;                                                \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == 0x%llx, expected %s == 0x%llx\n", \
				__FILE__, __LINE__, #a, va_, #b, vb_);                \
		}                                                                     \
	} while (0)

static inline int unit_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
