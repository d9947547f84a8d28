/* The same case as a long-mode vmon guest, run at ring 3 (tests/guests/
 * lib/user.c): there every KVM, a software-assisted one included, runs it
 * on the host CPU itself, so the case is compared host vs KVM vs emu.
 * Results go out through COM1 (via the kernel), the run ends through the
 * debug-exit port (status 1 = value 0). */
#include "diff.h"
#include "lib/guestlib.h"

static void run_case(void)
{
	diff_main(puts_);
}

void guest_main(void)
{
	user_init();
	run_user_or_exit(run_case);
	outb(0xf4, 0);
}
