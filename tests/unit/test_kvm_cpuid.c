/* The KVM engine's per-vCPU CPUID (src/cpu/kvm/kvm_cpuid.c) on a made-up
 * host table, Intel and AMD: APIC id and a --cpus topology of one core per
 * vCPU, with every field outside the topology left as the host gave it
 * (the hypervisor leaves 0x40000000-1 too). */
#include <stdlib.h>

#include "cpu/kvm/kvm_internal.h"
#include "unit.h"

enum { NENT = 16 };
static struct {
	struct kvm_cpuid2 h;
	struct kvm_cpuid_entry2 e[NENT];
} t;

static struct kvm_cpuid_entry2 *ent(uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < t.h.nent; i++)
		if (t.e[i].function == fn && t.e[i].index == idx)
			return &t.e[i];
	return NULL;
}

static void add(uint32_t fn, uint32_t idx, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	t.e[t.h.nent++] = (struct kvm_cpuid_entry2){ .function = fn, .index = idx, .eax = a, .ebx = b, .ecx = c, .edx = d };
}

/* A host with 2 threads per core, 26 cores: what a big Xeon or EPYC says. */
static void host(const char *vendor)
{
	memset(&t, 0, sizeof(t));
	uint32_t v[3];
	memcpy(v, vendor, 12);
	add(0, 0, 0x1f, v[0], v[2], v[1]);
	add(1, 0, 0x000806f8, 0x34800800, 0x7ffefbff, 0x1fabfbff);       /* 52 ids, APIC id 0x34... */
	add(4, 0, 0xfc004121, 0x02c0003f, 0x3f, 0);                       /* L1d shared by 2 */
	add(4, 1, 0xfc004122, 0x01c0003f, 0x3f, 0);
	add(4, 2, 0xfc004143, 0x03c0003f, 0x7ff, 0);
	add(4, 3, 0xfc1fc163, 0x0380003f, 0xffff, 4);                     /* L3 shared by 128 */
	add(4, 4, 0, 0, 0, 0);
	add(0xb, 0, 1, 2, 0x100, 7);
	add(0xb, 1, 7, 52, 0x201, 7);
	add(0xb, 2, 0, 0, 2, 7);
	add(0x80000008, 0, 0x3030, 0, 0x3033, 0);
	add(0x8000001d, 0, 0x4121, 0x01c0003f, 0x3f, 0);
	add(0x8000001d, 3, 0x3c163, 0x03c0003f, 0x7fff, 1);
	add(0x8000001e, 0, 9, 0x104, 0x300, 0);
	/* KVM's hypervisor leaves: "KVMKVMKVM\0\0\0", features incl. CLOCKSOURCE2 */
	add(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(0x40000001, 0, 0x01007efb, 0, 0, 0);
}

static void check(bool is_amd, unsigned index, unsigned n, unsigned s)
{
	kvm_cpuid_personalise(&t.h, index, n);
	struct kvm_cpuid_entry2 *e = ent(1, 0);
	CHECK_EQ(e->eax, 0x000806f8);
	CHECK_EQ(e->ebx, (index << 24) | ((1u << s) << 16) | 0x0800);
	CHECK_EQ(e->ecx, 0x7ffefbff | (1u << 31));
	CHECK_EQ(e->edx, (0x1fabfbff & ~(1u << 28)) | (n > 1 ? 1u << 28 : 0));
	/* leaf 4: cores per package 2^s - 1, L1/L2 per core, L3 by all */
	CHECK_EQ(ent(4, 0)->eax, 0x121 | (((1u << s) - 1) << 26));
	CHECK_EQ(ent(4, 1)->eax, 0x122 | (((1u << s) - 1) << 26));
	CHECK_EQ(ent(4, 2)->eax, 0x143 | (((1u << s) - 1) << 26));
	CHECK_EQ(ent(4, 3)->eax, 0x163 | (((1u << s) - 1) << 14) | (((1u << s) - 1) << 26));
	CHECK_EQ(ent(4, 3)->ebx, 0x0380003f);
	CHECK_EQ(ent(4, 3)->ecx, 0xffff);
	CHECK_EQ(ent(4, 4)->eax, 0);
	/* leaf 0xb */
	e = ent(0xb, 0);
	CHECK(e->eax == 0 && e->ebx == 1 && e->ecx == 0x100 && e->edx == index);
	e = ent(0xb, 1);
	CHECK(e->eax == s && e->ebx == n && e->ecx == 0x201 && e->edx == index);
	e = ent(0xb, 2);
	CHECK(e->eax == 0 && e->ebx == 0 && e->ecx == 2 && e->edx == index);
	CHECK_EQ(ent(0x8000001e, 0)->eax, index);
	/* Linux uses kvm-clock only under this signature: passed as KVM gave it */
	e = ent(0x40000000, 0);
	CHECK(e->eax == 0x40000001 && !memcmp(&e->ebx, "KVMKVMKVM\0\0\0", 12));
	CHECK_EQ(ent(0x40000001, 0)->eax, 0x01007efb);
	if (is_amd) {
		CHECK_EQ(ent(0x80000008, 0)->ecx, (s << 12) | (n - 1)); /* ApicIdSize, NC */
		CHECK_EQ(ent(0x8000001d, 0)->eax, 0x121);
		CHECK_EQ(ent(0x8000001d, 3)->eax, 0x163 | (((1u << s) - 1) << 14));
		CHECK_EQ(ent(0x8000001e, 0)->ebx, index);
		CHECK_EQ(ent(0x8000001e, 0)->ecx, 0);
	} else { /* Intel's are left as they were */
		CHECK_EQ(ent(0x80000008, 0)->ecx, 0x3033);
		CHECK_EQ(ent(0x8000001d, 3)->eax, 0x3c163);
		CHECK_EQ(ent(0x8000001e, 0)->ebx, 0x104);
		CHECK_EQ(ent(0x8000001e, 0)->ecx, 0x300);
	}
}

int main(void)
{
	static const unsigned counts[][2] = { { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 }, { 5, 3 }, { 64, 6 } };
	for (int amd = 0; amd < 2; amd++)
		for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			unsigned n = counts[i][0];
			for (unsigned idx = 0; idx < n; idx += (n > 4 ? n - 1 : 1)) {
				host(amd ? "AuthenticAMD" : "GenuineIntel");
				check(amd, idx, n, counts[i][1]);
			}
		}
	return unit_report("kvm_cpuid");
}
