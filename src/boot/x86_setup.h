/* The x86 start states vmon offers: real mode, 32-bit protected mode with or
 * without paging, and 64-bit long mode. Writes vmon's GDT and page tables
 * into guest memory (see boot/layout.h) and fills the initial CPU state. */
#ifndef VMON_BOOT_X86_SETUP_H
#define VMON_BOOT_X86_SETUP_H

#include <stdint.h>

#include "cpu/x86_state.h"
#include "mem/guest_mem.h"
#include "vm_config.h"

/* Returns 0, or -EINVAL with *why set (entry out of reach of the mode, RAM too
 * large to identity-map). Interrupts are disabled; general registers are zero
 * except the stack pointer. */
int x86_setup_mode(const struct guest_mem *mem, enum boot_mode mode, uint64_t entry,
		   struct x86_state *st, const char **why);

/* The same with vmon's 64 KiB block of boot structures (GDT, page tables,
 * stack; boot/layout.h) at base instead of 0: 4 KiB aligned, in RAM, below
 * 1 MiB. x86_setup_mode() is this with base 0. Real mode ignores base. */
int x86_setup_mode_at(const struct guest_mem *mem, enum boot_mode mode, uint64_t entry,
		      uint64_t base, struct x86_state *st, const char **why);

/* The Linux 64-bit boot protocol's entry state (Documentation/arch/x86/
 * boot.rst, "64-bit Boot Protocol"): long mode with the first 4 GiB
 * identity-mapped, __BOOT_CS = 0x10 and __BOOT_DS = 0x18, RSI = boot_params. */
int x86_setup_linux64(const struct guest_mem *mem, uint64_t entry, uint64_t boot_params,
		      struct x86_state *st, const char **why);

/* The Linux 32-bit boot protocol's entry state (boot.rst, "32-bit Boot
 * Protocol"): protected mode without paging, __BOOT_CS = 0x10 (32-bit code)
 * and __BOOT_DS = 0x18, ESI = boot_params, EBP = EDI = EBX = 0; the entry
 * is code32_start. */
int x86_setup_linux32(const struct guest_mem *mem, uint64_t entry, uint64_t boot_params,
		      struct x86_state *st, const char **why);

#endif
