/* The host's supported CPUID made one vCPU's: its APIC id and a topology
 * that matches --cpus, each vCPU one core of one package with no SMT
 * (api.rst, "CPU topology": the APIC id must differ per vCPU). With n
 * vCPUs and s = ceil(log2 n) APIC-id bits for the core:
 *   leaf 1      EBX[31:24] APIC id, EBX[23:16] 2^s addressable ids, HTT
 *               (EDX[28]) when n > 1, hypervisor present (ECX[31])
 *   leaf 4      EAX[31:26] 2^s - 1 cores; EAX[25:14] sharing: 0 for L1/L2,
 *               2^s - 1 for L3 (SDM vol. 2A, CPUID leaf 04H)
 *   0xB, 0x1F   sub 0 SMT: shift 0, 1 processor; sub 1 core: shift s, n
 *               processors; EDX the APIC id
 *   AMD only (APM vol. 3 appendix E): 0x80000008 ECX NC = n - 1, ApicIdSize
 *               s; 0x8000001D EAX[25:14] as leaf 4; 0x8000001E EAX the APIC
 *               id, EBX core id = index with one thread, ECX node 0 of 1 */
#include <string.h>

#include "cpu/kvm/kvm_internal.h"
#include "cpu/x86_topology.h"

/* EAX[25:14] of a deterministic cache leaf (Intel 4, AMD 0x8000001D). */
static uint32_t cache_sharing(uint32_t eax, unsigned s)
{
	unsigned level = (eax >> 5) & 7;
	unsigned share = level >= 3 ? (1u << s) - 1 : 0;
	return (eax & ~(0xfffu << 14)) | (share << 14);
}

void kvm_cpuid_personalise(struct kvm_cpuid2 *c, unsigned index, unsigned ncpus)
{
	unsigned s = x86_core_id_bits(ncpus ? ncpus : 1);
	bool amd = false;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			amd = !memcmp(&c->entries[i].ebx, "Auth", 4) || !memcmp(&c->entries[i].ebx, "Hygo", 4);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) | (((1u << s) & 0xff) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			e->ecx |= 1u << 31;
			break;
		case 4:
			if ((e->eax & 0x1f) != 0) /* a cache, not the terminating null leaf */
				e->eax = (cache_sharing(e->eax, s) & 0x03ffffff) | (((1u << s) - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = s;
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index & 0xff; /* level type 0: no more levels */
			}
			break;
		case 0x80000008:
			if (amd)
				e->ecx = (e->ecx & ~0xf0ffu) | (s << 12) | ((ncpus - 1) & 0xff);
			break;
		case 0x8000001d:
			if (amd && (e->eax & 0x1f) != 0)
				e->eax = cache_sharing(e->eax, s);
			break;
		case 0x8000001e:
			e->eax = index;
			if (amd) {
				e->ebx = (e->ebx & ~0xffffu) | (index & 0xff);
				e->ecx = e->ecx & ~0x7ffu;
			}
			break;
		default:
			break;
		}
	}
}
