/* The firmware's MSR state shared by both engines (src/cpu/x86_fw_msrs.c),
 * and the KVM engine's choice of what to write of it (src/cpu/kvm/kvm_fw.c):
 * the values against the SDM's encodings (vol. 3 §12.11.2, §12.11.3,
 * §12.12.4), the variable-range mask for several MAXPHYADDRs, which MSRs a
 * host with a given CPUID and index list gets, MCG_CAP, and MCE/MCA cleared. */
#include <stdlib.h>

#include "cpu/kvm/kvm_internal.h"
#include "cpu/x86_fw_msrs.h"
#include "unit.h"

static const struct x86_fw_msr *find(const struct x86_fw_msr *fw, unsigned n, uint32_t idx)
{
	for (unsigned i = 0; i < n; i++)
		if (fw[i].index == idx)
			return &fw[i];
	return NULL;
}

static uint64_t val(const struct x86_fw_msr *fw, unsigned n, uint32_t idx)
{
	const struct x86_fw_msr *m = find(fw, n, idx);
	CHECK(m != NULL);
	return m ? m->value : 0xbad;
}

static void test_table(void)
{
	struct x86_fw_msr fw[X86_FW_MSRS_COUNT];
	unsigned n = x86_fw_msrs(40, fw);
	CHECK_EQ(n, 29); /* MTRRdefType, 8 variable pairs, 11 fixed, PAT */
	CHECK_EQ(n, X86_FW_MSRS_COUNT);
	for (unsigned i = 0; i < n; i++) {
		/* each once; never a clock (TSC 0x10, TSC_ADJUST 0x3b) */
		for (unsigned j = i + 1; j < n; j++)
			CHECK(fw[i].index != fw[j].index);
		CHECK(fw[i].index != 0x10 && fw[i].index != 0x3b);
		CHECK_EQ(fw[i].needs, fw[i].index == 0x277 ? X86_FW_NEEDS_PAT : X86_FW_NEEDS_MTRR);
	}
	/* E (11), FE (10), default type WB (6) */
	CHECK_EQ(val(fw, n, 0x2ff), 0xc06);
	/* range 0: base 3 GiB, type UC (0); mask: 1 GiB, bits 30-39, valid (11) */
	CHECK_EQ(val(fw, n, 0x200), 0xc0000000);
	CHECK_EQ(val(fw, n, 0x201), 0xffc0000800ULL);
	for (uint32_t i = 0x202; i <= 0x20f; i++)
		CHECK_EQ(val(fw, n, i), 0);
	/* fixed: all WB (06 in every byte) except 0xa0000-0xbffff UC */
	CHECK_EQ(val(fw, n, 0x250), 0x0606060606060606ULL);
	CHECK_EQ(val(fw, n, 0x258), 0x0606060606060606ULL);
	CHECK_EQ(val(fw, n, 0x259), 0);
	for (uint32_t i = 0x268; i <= 0x26f; i++)
		CHECK_EQ(val(fw, n, i), 0x0606060606060606ULL);
	/* PAT power-on: WB WT UC- UC WB WT UC- UC (table 12-11) */
	CHECK_EQ(val(fw, n, 0x277), 0x0007040600070406ULL);

	/* The mask follows MAXPHYADDR; outside 36-52, the minimum 36. */
	static const struct { unsigned bits; uint64_t mask; } m[] = {
		{ 36, 0xfc0000800ULL }, { 39, 0x7fc0000800ULL }, { 46, 0x3fffc0000800ULL },
		{ 48, 0xffffc0000800ULL }, { 52, 0xfffffc0000800ULL }, { 0, 0xfc0000800ULL }, { 64, 0xfc0000800ULL },
	};
	for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		x86_fw_msrs(m[i].bits, fw);
		CHECK_EQ(val(fw, n, 0x201), m[i].mask);
		CHECK_EQ(val(fw, n, 0x200), 0xc0000000);
	}
}

static void test_select(void)
{
	struct x86_fw_msr fw[X86_FW_MSRS_COUNT];
	unsigned n = x86_fw_msrs(48, fw);
	struct kvm_msr_entry out[X86_FW_MSRS_COUNT];
	/* What this machine's KVM lists: PAT among others, no MTRR (as KVM). */
	static const uint32_t list[] = { 0x174, 0x10, 0x277, 0x3b, 0x4b564d01 };
	const uint32_t mtrr = 1u << 12, pat = 1u << 16;
	unsigned k = kvm_fw_select_msrs(fw, n, list, 5, mtrr | pat | 0xff, out);
	CHECK_EQ(k, n); /* the whole state, in the table's order */
	for (unsigned i = 0; i < k && i < n; i++)
		CHECK(out[i].index == fw[i].index && out[i].data == fw[i].value);
	/* PAT not in the list: everything but PAT */
	k = kvm_fw_select_msrs(fw, n, list, 2, mtrr | pat, out);
	CHECK_EQ(k, n - 1);
	for (unsigned i = 0; i < k; i++)
		CHECK(out[i].index != 0x277);
	/* no list at all (KVM_GET_MSR_INDEX_LIST failed): the MTRRs */
	CHECK_EQ(kvm_fw_select_msrs(fw, n, NULL, 0, mtrr | pat, out), n - 1);
	/* no MTRR in CPUID: PAT only */
	k = kvm_fw_select_msrs(fw, n, list, 5, pat, out);
	CHECK_EQ(k, 1);
	CHECK(out[0].index == 0x277 && out[0].data == 0x0007040600070406ULL);
	/* neither */
	CHECK_EQ(kvm_fw_select_msrs(fw, n, list, 5, ~(mtrr | pat), out), 0);
}

static void test_mce(void)
{
	/* a few banks, never more than KVM_CAP_MCE allows; no feature bits */
	CHECK_EQ(kvm_fw_mcg_cap(32), 4);
	CHECK_EQ(kvm_fw_mcg_cap(4), 4);
	CHECK_EQ(kvm_fw_mcg_cap(2), 2);
	CHECK_EQ(kvm_fw_mcg_cap(1), 1);
	CHECK_EQ(kvm_fw_mcg_cap(0), 0);
	CHECK_EQ(kvm_fw_mcg_cap(-1), 0);

	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[3];
	} c = { .h = { .nent = 3 } };
	c.e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	c.e[1] = (struct kvm_cpuid_entry2){ .function = 1, .ecx = 0x80202001, .edx = 0x0f8bfbff };
	c.e[2] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .eax = 0x3930 };
	kvm_fw_clear_mce(&c.h);
	CHECK_EQ(c.e[1].edx, 0x0f8bfbff & ~((1u << 7) | (1u << 14)));
	CHECK_EQ(c.e[1].ecx, 0x80202001);
	CHECK_EQ(c.e[0].edx, 0);
	CHECK_EQ(kvm_fw_phys_bits(&c.h), 48);
	c.h.nent = 2; /* no leaf 0x80000008: 36 bits */
	CHECK_EQ(kvm_fw_phys_bits(&c.h), 36);
}

int main(void)
{
	test_table();
	test_select();
	test_mce();
	return unit_report("fw_msrs");
}
