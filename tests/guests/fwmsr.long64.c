/* The MSR state a PC firmware leaves, read with RDMSR at ring 0 and printed
 * decoded: MTRRcap, MTRRdefType, the variable ranges, the fixed ranges, PAT,
 * MCG_STATUS (SDM vol. 3 §12.11, §12.12.4, §16.3.1). Both engines must
 * print the same: the firmware state is one description (cpu/x86_fw_msrs.c).
 * A variable range's mask depends on the CPU's MAXPHYADDR (CPUID 0x80000008),
 * so it is printed as what it means: the range's size, and whether the mask
 * covers every address bit up to MAXPHYADDR as §12.11.3 requires. The last
 * lines are the engine's machine-check CPU model (MCG_CAP and the banks'
 * MCi_STATUS), which differ: emu has no banks, KVM the ones vmon set up. */
#include <stdint.h>

#include "lib/guestlib.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static const char *mtype(uint64_t t)
{
	static const char *const names[8] = { "UC", "WC", "2?", "3?", "WT", "WP", "WB", "7?" };
	return t < 8 ? names[t] : "??";
}

/* The 8 one-byte types of a fixed-range MTRR. */
static void fixed(const char *name, uint32_t idx)
{
	uint64_t v = rdmsr(idx);
	print("%s:", name);
	for (unsigned i = 0; i < 8; i++)
		print(" %s", mtype((v >> (8 * i)) & 0xff));
	print("\n");
}

void guest_main(void)
{
	uint32_t r[4];
	cpuid(1, r);
	uint32_t edx = r[3];
	unsigned mtrr = edx >> 12 & 1, pat = edx >> 16 & 1, mce = edx >> 7 & 1, mca = edx >> 14 & 1;
	print("cpuid: MTRR %d PAT %d MCE %d MCA %d\n", mtrr, pat, mce, mca);
	cpuid(0x80000000, r);
	unsigned pbits = 36;
	if (r[0] >= 0x80000008) {
		cpuid(0x80000008, r);
		pbits = r[0] & 0xff;
	}
	uint64_t addr_bits = ((1ULL << pbits) - 1) & ~0xfffULL;
	if (mtrr) {
		uint64_t cap = rdmsr(0xfe);
		unsigned vcnt = cap & 0xff;
		print("MTRRcap: %x: VCNT %d FIX %d WC %d SMRR %d\n", cap, vcnt, (unsigned)(cap >> 8 & 1),
		      (unsigned)(cap >> 10 & 1), (unsigned)(cap >> 11 & 1));
		uint64_t def = rdmsr(0x2ff);
		print("MTRRdefType: %x: E %d FE %d default %s\n", def, (unsigned)(def >> 11 & 1),
		      (unsigned)(def >> 10 & 1), mtype(def & 0xff));
		for (unsigned i = 0; i < vcnt && i < 16; i++) {
			uint64_t base = rdmsr(0x200 + 2 * i), mask = rdmsr(0x201 + 2 * i);
			if (!(mask & (1u << 11))) {
				print("var%d: off (base %x mask %x)\n", i, base, mask);
				continue;
			}
			uint64_t m = mask & ~0xfffULL, size = m & -m;
			print("var%d: base %x %s, size %x, mask %s\n", i, base & ~0xfffULL, mtype(base & 0xff), size,
			      m == (addr_bits & ~(size - 1)) ? "covers bits up to MAXPHYADDR"
							     : "WRONG for this MAXPHYADDR");
		}
		if (cap >> 8 & 1) {
			fixed("fix64k_00000", 0x250);
			fixed("fix16k_80000", 0x258);
			fixed("fix16k_a0000", 0x259);
			static const char *const n4k[8] = { "fix4k_c0000", "fix4k_c8000", "fix4k_d0000", "fix4k_d8000",
							    "fix4k_e0000", "fix4k_e8000", "fix4k_f0000", "fix4k_f8000" };
			for (unsigned i = 0; i < 8; i++)
				fixed(n4k[i], 0x268 + i);
		}
	}
	if (pat)
		print("PAT: %x\n", rdmsr(0x277));
	if (mce && mca) {
		print("MCG_STATUS: %x\n", rdmsr(0x17a));
		/* The engine's CPU model from here on (see above). */
		uint64_t mcg = rdmsr(0x179);
		unsigned banks = mcg & 0xff;
		print("MCG_CAP: %x: %d banks, CTL_P %d\n", mcg, banks, (unsigned)(mcg >> 8 & 1));
		for (unsigned i = 0; i < banks && i < 32; i++)
			print("MC%d_STATUS: %x\n", i, rdmsr(0x401 + 4 * i));
	}
	guest_exit(16);
}
