/* The KVM engine's register conversion round-trips every field vmon sets. */
#include "boot/x86_setup.h"
#include "cpu/kvm/kvm_internal.h"
#include "unit.h"

int main(void)
{
	struct guest_mem m;
	CHECK_EQ(guest_mem_init(&m, 16ULL << 20), 0);
	for (int mode = BOOT_MODE_REAL; mode <= BOOT_MODE_LONG64; mode++) {
		struct x86_state st, back;
		const char *why;
		CHECK_EQ(x86_setup_mode(&m, (enum boot_mode)mode, 0x10000, &st, &why), 0);
		for (int i = 0; i < 16; i++)
			st.gpr[i] = 0x1111111111111111ULL * (uint64_t)(i + 1);
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		memset(&sregs, 0, sizeof(sregs));
		kvm_regs_from_state(&st, &regs, &sregs);
		CHECK_EQ(regs.rsp, st.gpr[RSP]);
		CHECK_EQ(regs.r15, st.gpr[R15]);
		CHECK_EQ(sregs.cs.selector, st.seg[SEG_CS].selector);
		CHECK_EQ(sregs.cs.l, st.seg[SEG_CS].l);
		CHECK_EQ(sregs.tr.type, 11);
		CHECK_EQ(sregs.ldt.unusable, 1);
		kvm_regs_to_state(&regs, &sregs, &back);
		CHECK(memcmp(&st, &back, sizeof(st)) == 0);
	}
	guest_mem_destroy(&m);
	return unit_report("kvm_regs");
}
