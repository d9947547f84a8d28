/* Where vmon puts its own boot structures in guest memory: a 64 KiB block,
 * at 0 unless said otherwise. The README's "Boot contract" documents the same
 * table for guest authors. Offsets from the block's base:
 *
 *   0x00000-0x004ff  real-mode IVT and BIOS data area (the BDA is filled for
 *                    --kernel boots, boot/bda.c; at base 0 only)
 *   0x00500-0x00fff  unused
 *   0x01000-0x01fff  GDT
 *   0x02000-0x02fff  paged32: page directory / long64: PML4
 *   0x03000-0x03fff  long64: page-directory-pointer table
 *   0x04000-0x0dfff  long64: page directories (2 MiB pages), 10 of them;
 *                    Multiboot (always 32-bit, no paging): its information
 *   0x0e000-0x0efff  initial stack (ESP/RSP = base + 0xf000; real mode SS:SP = 0:0xf000)
 *   0x0f000-0x0ffff  reserved
 *
 * --raw always uses base 0. An ELF or Multiboot kernel with segments in
 * [0x500, 0x10000) gets the block moved to the lowest 4 KiB-aligned base in
 * low RAM (below the EBDA) that none of its segments touch (boot/kernel.c).
 */
#ifndef VMON_BOOT_LAYOUT_H
#define VMON_BOOT_LAYOUT_H

#define BOOT_INFO_ADDR     0x0500ULL /* first byte above the IVT and BDA */
#define BOOT_MB_INFO_ADDR  0x2000ULL /* Multiboot information area ... */
#define BOOT_MB_INFO_END   0xe000ULL /* ... up to here (48 KiB) */
#define BOOT_GDT_ADDR      0x1000ULL
#define BOOT_PT_ROOT_ADDR  0x2000ULL
#define BOOT_PDPT_ADDR     0x3000ULL
#define BOOT_PD_ADDR       0x4000ULL
#define BOOT_PD_COUNT      10u       /* 10 GiB of identity map in long64 */
#define BOOT_STACK_TOP     0xf000ULL
#define BOOT_RESERVED_END  0x10000ULL
#define BOOT_AREA_SIZE     0x10000ULL /* the whole block, when it is moved */

/* Linux boot (boot/linux.c) uses the same GDT and page-table places (the
 * identity map covers 4 GiB: page directories 0x4000-0x7fff), then: */
#define BOOT_LINUX_PARAMS  0x9000ULL  /* struct boot_params, the "zero page" */
#define BOOT_LINUX_CMDLINE 0xa000ULL  /* command line, up to 4 KiB */
#define BOOT_LINUX_CMDLINE_MAX 0x1000u
#define BOOT_LINUX_SEL_CS  0x10       /* __BOOT_CS */
#define BOOT_LINUX_SEL_DS  0x18       /* __BOOT_DS */

/* GDT selectors vmon installs (flat, base 0, limit 4 GiB, DPL 0). */
#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_DATA   0x10
#define BOOT_SEL_CODE64 0x18

#endif
