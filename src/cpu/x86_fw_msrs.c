/* What the firmware of a PC leaves in the MTRRs and PAT (vmon is that
 * firmware): MTRRs enabled, fixed ranges enabled, write-back by default;
 * below 1 MiB write-back except the VGA window 0xa0000-0xbffff, uncached;
 * the 3-4 GiB MMIO hole (PCI, IOAPIC, HPET, LAPIC) uncached through
 * variable range 0; the other variable ranges off. PAT keeps its power-on
 * value. SDM vol. 3 §12.11.2 (MTRRdefType, fixed and variable ranges),
 * §12.11.3 (variable range masks), §12.12.4 (PAT power-on value). */
#include "cpu/x86_fw_msrs.h"
#include "boot/e820.h"
#include "mem/guest_mem.h"

#define MTRR_DEF_E (1u << 11)
#define MTRR_DEF_FE (1u << 10)
#define MTRR_MASK_VALID (1u << 11)
#define MTRR_UC 0u
#define MTRR_WB 6u
#define MTRR_FIXED_ALL_WB 0x0606060606060606ULL
#define PAT_POWER_ON 0x0007040600070406ULL /* WB WT UC- UC, twice */

#define HOLE_SIZE (0x100000000ULL - GUEST_MEM_HOLE_START)
_Static_assert((HOLE_SIZE & (HOLE_SIZE - 1)) == 0 && GUEST_MEM_HOLE_START % HOLE_SIZE == 0,
	       "one variable range covers the MMIO hole: a power of two, aligned to its size");
_Static_assert(E820_LEGACY_HOLE_START == 0xa0000, "FIX16K_A0000 covers exactly the VGA window");

unsigned x86_fw_msrs(unsigned phys_bits, struct x86_fw_msr *out)
{
	if (phys_bits < 36 || phys_bits > 52)
		phys_bits = 36; /* out of the architectural range: the minimum */
	uint64_t addr_mask = ((1ULL << phys_bits) - 1) & ~0xfffULL;
	unsigned n = 0;
	out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_DEF_TYPE, X86_FW_NEEDS_MTRR,
					MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB };
	for (unsigned i = 0; i < 2 * X86_FW_MTRR_VCNT; i++)
		out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_PHYSBASE0 + i, X86_FW_NEEDS_MTRR, 0 };
	out[1].value = GUEST_MEM_HOLE_START | MTRR_UC;                          /* PHYSBASE0 */
	out[2].value = (~(HOLE_SIZE - 1) & addr_mask) | MTRR_MASK_VALID;      /* PHYSMASK0 */
	out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_FIX64K_00000, X86_FW_NEEDS_MTRR, MTRR_FIXED_ALL_WB };
	out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_FIX16K_80000, X86_FW_NEEDS_MTRR, MTRR_FIXED_ALL_WB };
	out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_FIX16K_A0000, X86_FW_NEEDS_MTRR, 0 }; /* all UC */
	for (unsigned i = 0; i < 8; i++)
		out[n++] = (struct x86_fw_msr){ X86_MSR_MTRR_FIX4K_C0000 + i, X86_FW_NEEDS_MTRR,
						MTRR_FIXED_ALL_WB };
	out[n++] = (struct x86_fw_msr){ X86_MSR_PAT, X86_FW_NEEDS_PAT, PAT_POWER_ON };
	return n;
}
