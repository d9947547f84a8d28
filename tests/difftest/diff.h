/* Shared by the host and guest sides of the differential test. */
#ifndef VMON_DIFFTEST_DIFF_H
#define VMON_DIFFTEST_DIFF_H

#include <stdint.h>

#define DIFF_NREGS 14
#define DIFF_SCRATCH 256

struct diff_state {
	uint64_t regs[DIFF_NREGS]; /* rax rbx rcx rdx rsi rdi r8..r15 */
	uint64_t rflags;
};

extern const uint64_t diff_init[DIFF_NREGS + 1];
extern const uint8_t diff_scratch_init[DIFF_SCRATCH];
extern const uint64_t diff_flags_mask;
void diff_run(struct diff_state *st, uint8_t *scratch);

/* Runs the case and prints the result, one "name=value" line each. */
void diff_main(void (*put)(const char *s));

#endif
