/* The CPU state a PC firmware leaves, on KVM vCPUs (api.rst: KVM_SET_MSRS,
 * KVM_GET_MSR_INDEX_LIST, KVM_X86_GET_MCE_CAP_SUPPORTED, KVM_X86_SETUP_MCE).
 *
 * MTRRs and PAT: the table shared with emu (cpu/x86_fw_msrs.c), written on
 * every vCPU before its first KVM_RUN; KVM itself starts with MTRRdefType 0,
 * MTRRs off. An MSR is written only if CPUID.1:EDX advertises its feature
 * (MTRR, PAT). KVM's index list holds PAT but never the MTRRs (they are
 * neither in its msrs_to_save nor in its emulated MSRs, yet KVM serves them
 * for every vCPU whose CPUID has MTRR), so PAT must also be in that list and
 * an MTRR needs only the CPUID bit; an MSR the host's KVM still refuses
 * (KVM_SET_MSRS stops at it and returns how many it set) is skipped.
 *
 * Machine checks: with MCE and MCA in CPUID and KVM_CAP_MCE, each vCPU gets
 * KVM_FW_MCE_BANKS banks (fewer if the host allows fewer) and no optional
 * MCG_CAP feature: vmon injects no machine checks, and a few banks are what
 * Linux needs to initialise MCA (KVM's own default is 32). A host without
 * KVM_CAP_MCE gets MCE and MCA cleared from the guest's CPUID instead.
 *
 * The TSC is not written here: KVM matches the TSCs of vCPUs created close
 * together, and a per-vCPU write at different times would break that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu/kvm/kvm_internal.h"
#include "cpu/x86_fw_msrs.h"
#include "util/log.h"

#define CPUID1_EDX_MCE (1u << 7)
#define CPUID1_EDX_MTRR (1u << 12)
#define CPUID1_EDX_MCA (1u << 14)
#define CPUID1_EDX_PAT (1u << 16)
#define KVM_FW_MCE_BANKS 4u

static struct kvm_cpuid_entry2 *cpuid_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == 0)
			return &c->entries[i];
	return NULL;
}

unsigned kvm_fw_phys_bits(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_leaf(c, 0x80000008);
	return e ? (e->eax & 0xff) : 36; /* SDM vol. 3 §4.1.4: 36 without the leaf */
}

static bool in_list(uint32_t idx, const uint32_t *list, unsigned nlist)
{
	for (unsigned i = 0; i < nlist; i++)
		if (list[i] == idx)
			return true;
	return false;
}

unsigned kvm_fw_select_msrs(const struct x86_fw_msr *fw, unsigned n, const uint32_t *list, unsigned nlist,
			    uint32_t cpuid1_edx, struct kvm_msr_entry *out)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		bool keep = fw[i].needs == X86_FW_NEEDS_MTRR
				    ? (cpuid1_edx & CPUID1_EDX_MTRR) != 0
				    : (cpuid1_edx & CPUID1_EDX_PAT) && in_list(fw[i].index, list, nlist);
		if (keep)
			out[k++] = (struct kvm_msr_entry){ .index = fw[i].index, .data = fw[i].value };
	}
	return k;
}

uint64_t kvm_fw_mcg_cap(int max_banks)
{
	unsigned banks = KVM_FW_MCE_BANKS;
	if (max_banks < (int)banks)
		banks = max_banks > 0 ? (unsigned)max_banks : 0;
	return banks; /* MCG_CAP[7:0] = Count; no MCG_CTL_P, SER_P, CMCI_P, LMCE_P */
}

void kvm_fw_clear_mce(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = cpuid_leaf(c, 1);
	if (e)
		e->edx &= ~(CPUID1_EDX_MCE | CPUID1_EDX_MCA);
}

static int fetch_msr_list(struct kvm_engine_state *ks)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	/* Too small a buffer: E2BIG, with nmsrs set to the count (api.rst,
	 * KVM_GET_MSR_INDEX_LIST). */
	if (ioctl(ks->sys_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
		log_info("KVM_GET_MSR_INDEX_LIST: %s: PAT stays at KVM's reset value", strerror(errno));
		return 0;
	}
	if (probe.nmsrs == 0)
		return 0;
	struct kvm_msr_list *l = malloc(sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (ioctl(ks->sys_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		log_warn("KVM_GET_MSR_INDEX_LIST (%u MSRs): %s: PAT stays at KVM's reset value", probe.nmsrs,
			 strerror(errno));
		free(l);
		return 0;
	}
	ks->msr_list = l;
	return 0;
}

int kvm_fw_plan(struct kvm_engine_state *ks)
{
	int r = fetch_msr_list(ks);
	if (r < 0)
		return r;
	struct kvm_cpuid_entry2 *leaf1 = cpuid_leaf(ks->cpuid, 1);
	uint32_t edx = leaf1 ? leaf1->edx : 0;
	if ((edx & (CPUID1_EDX_MCE | CPUID1_EDX_MCA)) != (CPUID1_EDX_MCE | CPUID1_EDX_MCA)) {
		log_info("KVM: the host's CPUID lacks %s: no machine-check banks set up",
			 edx & CPUID1_EDX_MCE ? "MCA" : "MCE");
		return 0;
	}
	int max_banks = ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);
	if (max_banks <= 0) {
		log_info("KVM: the host's KVM lacks KVM_CAP_MCE: MCE and MCA left out of the guest's CPUID");
		kvm_fw_clear_mce(ks->cpuid);
		return 0;
	}
	uint64_t supported = 0;
	if (ioctl(ks->sys_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0) {
		log_info("KVM_X86_GET_MCE_CAP_SUPPORTED: %s: MCE and MCA left out of the guest's CPUID",
			 strerror(errno));
		kvm_fw_clear_mce(ks->cpuid);
		return 0;
	}
	ks->mcg_cap = kvm_fw_mcg_cap(max_banks);
	log_info("KVM: MCG_CAP 0x%llx (%u banks; the host allows %d, features 0x%llx)",
		 (unsigned long long)ks->mcg_cap, (unsigned)(ks->mcg_cap & 0xff), max_banks,
		 (unsigned long long)(supported & ~0xffULL));
	return 0;
}

/* KVM_SET_MSRS sets entries in order and returns how many it set: one it
 * refuses is skipped (logged once, for vCPU 0) and the rest retried. */
static int set_msrs(struct kvm_vcpu *v, struct kvm_msrs *m, struct kvm_msr_entry *e, unsigned n)
{
	while (n > 0) {
		memcpy(m->entries, e, n * sizeof(*e));
		m->nmsrs = n;
		int r = ioctl(v->fd, KVM_SET_MSRS, m);
		if (r < 0) {
			int err = errno;
			log_error("vCPU %u: KVM_SET_MSRS (%u firmware MSRs from 0x%x): %s", v->index, n,
				  e[0].index, strerror(err));
			return -err;
		}
		if ((unsigned)r >= n)
			break;
		if (v->index == 0)
			log_info("KVM_SET_MSRS: the host's KVM refuses MSR 0x%x = 0x%llx: left as KVM has it",
				 e[r].index, (unsigned long long)e[r].data);
		e += r + 1;
		n -= (unsigned)r + 1;
	}
	return 0;
}

int kvm_fw_load(struct kvm_vcpu *v)
{
	struct kvm_engine_state *ks = v->ks;
	if (ks->mcg_cap) {
		uint64_t cap = ks->mcg_cap;
		if (ioctl(v->fd, KVM_X86_SETUP_MCE, &cap) < 0)
			log_warn("vCPU %u: KVM_X86_SETUP_MCE (MCG_CAP 0x%llx): %s: KVM's default banks stay",
				 v->index, (unsigned long long)cap, strerror(errno));
	}
	struct x86_fw_msr fw[X86_FW_MSRS_COUNT];
	unsigned n = x86_fw_msrs(kvm_fw_phys_bits(ks->cpuid), fw);
	struct kvm_cpuid_entry2 *leaf1 = cpuid_leaf(ks->cpuid, 1);
	struct kvm_msr_entry sel[X86_FW_MSRS_COUNT];
	const struct kvm_msr_list *l = ks->msr_list;
	n = kvm_fw_select_msrs(fw, n, l ? l->indices : NULL, l ? l->nmsrs : 0, leaf1 ? leaf1->edx : 0, sel);
	struct kvm_msrs *m = calloc(1, sizeof(*m) + X86_FW_MSRS_COUNT * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	int r = set_msrs(v, m, sel, n);
	free(m);
	return r;
}
