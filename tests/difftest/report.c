/* The part of the differential test that is the same on both sides: set up,
 * run, print. Freestanding (no libc) so that it also builds into the guest. */
#include "diff.h"

static const char *const names[DIFF_NREGS] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8",
					       "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };

static void hex(char *out, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	}
	out[digits] = 0;
}

static void line(void (*put)(const char *), const char *name, uint64_t v)
{
	char buf[40];
	int n = 0;
	while (name[n]) {
		buf[n] = name[n];
		n++;
	}
	buf[n++] = '=';
	hex(buf + n, v, 16);
	n += 16;
	buf[n++] = '\n';
	buf[n] = 0;
	put(buf);
}

/* The vectors of the planned faults taken, 4 bits each, the latest lowest. */
static unsigned fault_count;
static uint64_t fault_log;

int diff_fault_resume(uint64_t rip, unsigned vector, uint64_t *resume)
{
	for (const uint64_t *f = diff_faults; f + 1 < diff_faults_end; f += 2) {
		if (f[0] == rip) {
			fault_count++;
			fault_log = fault_log << 4 | (vector & 0xf);
			*resume = f[1];
			return 1;
		}
	}
	return 0;
}

void diff_main(void (*put)(const char *s))
{
	struct diff_state st;
	static uint8_t scratch[DIFF_SCRATCH];
	for (int i = 0; i < DIFF_NREGS; i++)
		st.regs[i] = diff_init[i];
	st.rflags = diff_init[DIFF_NREGS];
	for (int i = 0; i < DIFF_SCRATCH; i++)
		scratch[i] = diff_scratch_init[i];
	diff_run(&st, scratch);
	for (int i = 0; i < DIFF_NREGS; i++)
		line(put, names[i], st.regs[i]);
	line(put, "flags", st.rflags & diff_flags_mask);
	line(put, "flagmask", diff_flags_mask);
	line(put, "faults", fault_count);
	line(put, "faultlog", fault_log);
	for (int i = 0; i < DIFF_SCRATCH; i += 8) {
		uint64_t q = 0;
		for (int b = 7; b >= 0; b--)
			q = (q << 8) | scratch[i + b];
		char name[8] = { 'm', 0, 0, 0 };
		hex(name + 1, (uint64_t)i, 2);
		line(put, name, q);
	}
}
