/* The oracle: the generated case run by the host CPU at user level. The
 * planned faults arrive as signals (#DE as SIGFPE, #UD as SIGILL, #GP as
 * SIGSEGV) and resume where the case says. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "diff.h"

static void put(const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(1, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	unsigned vector = sig == SIGFPE ? 0 : sig == SIGILL ? 6 : 13;
	uint64_t resume;
	(void)si;
	if (!diff_fault_resume((uint64_t)uc->uc_mcontext.gregs[REG_RIP], vector, &resume)) {
		signal(sig, SIG_DFL); /* not planned: the instruction runs again and kills us */
		return;
	}
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)resume;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	diff_main(put);
	return 0;
}
