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

/* Planned faults (gen.c, e_fault): pairs of (faulting address, where to
 * resume). A fault handler calls diff_fault_resume with the faulting
 * instruction's address and the vector it raised: it logs the vector and
 * gives the resume address, or returns 0 for a fault nobody planned. */
extern const uint64_t diff_faults[], diff_faults_end[];
int diff_fault_resume(uint64_t rip, unsigned vector, uint64_t *resume);

/* Runs the case and prints the result, one "name=value" line each. */
void diff_main(void (*put)(const char *s));

#endif
