/* x87 arithmetic (x87.c), called by fpu.c's escape dispatcher. */
#ifndef VMON_CPU_EMU_X87_H
#define VMON_CPU_EMU_X87_H

#include "emu.h"

/* Executes a D8-DF escape that is not a control instruction (fpu.c has
 * checked CR0.EM/TS and a pending unmasked exception). Encodings vmon does
 * not implement are #UD. */
int emu_x87_exec(struct emu_cpu *cpu, const struct emu_insn *in) EMU_MUST;

/* FSW with ES (bit 7) and B (bit 15) recomputed from the exception flags
 * and the FCW masks: ES summarises the unmasked exceptions that are set,
 * and B mirrors ES since the 80387 (SDM vol. 1 §8.1.3.1, §8.1.3.4). */
static inline uint16_t emu_x87_summary(uint16_t fsw, uint16_t fcw)
{
	fsw &= 0x7f7f;
	if (fsw & ~fcw & 0x3f)
		fsw |= 0x8080;
	return fsw;
}

#endif
