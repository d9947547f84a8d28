/* The CPU topology both engines describe in CPUID: each vCPU is one core
 * (one thread) of a single package, its APIC id the vCPU index. */
#ifndef VMON_CPU_X86_TOPOLOGY_H
#define VMON_CPU_X86_TOPOLOGY_H

/* The APIC-id bits that number n cores: ceil(log2 n), the "shift" of CPUID
 * leaf 0xB's core level (SDM vol. 2A, CPUID leaf 0BH). */
static inline unsigned x86_core_id_bits(unsigned n)
{
	unsigned s = 0;
	while (s < 31 && (1u << s) < n)
		s++;
	return s;
}

#endif
