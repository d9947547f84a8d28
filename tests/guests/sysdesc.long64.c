/* LLDT and LTR in 64-bit mode load 16-byte system descriptors (SDM vol. 2
 * LLDT, LTR; vol. 3 §7.2.3, §3.5.2): a base that is not canonical, or a
 * non-zero type field in the upper 8 bytes, is #GP(selector), and a failed
 * LTR leaves TR and the descriptor's busy bit alone. The GDT holds one good
 * and two bad descriptors of each kind. */
#include <stdint.h>

#include "lib/guestlib.h"

static uint8_t ldt[16] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint64_t gdt[16] __attribute__((aligned(16)));

/* A 16-byte system descriptor: type 2 (LDT) or 9 (available TSS). */
static void sysdesc(unsigned idx, uint64_t base, uint32_t limit, unsigned type, unsigned upper_type)
{
	gdt[idx] = (limit & 0xffff) | ((base & 0xffffff) << 16) | ((uint64_t)(0x80 | type) << 40) |
		   ((uint64_t)(limit >> 16 & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[idx + 1] = (base >> 32 & 0xffffffff) | ((uint64_t)upper_type << 40);
}

static void do_lldt(uint64_t sel) { __asm__ volatile("lldt %w0" : : "r"((uint16_t)sel) : "memory"); }
static void do_ltr(uint64_t sel) { __asm__ volatile("ltr %w0" : : "r"((uint16_t)sel) : "memory"); }

static void try(const char *what, void (*fn)(uint64_t), uint16_t sel)
{
	if (trap_probe(fn, sel))
		print("%s %4x: vector %d error %4x\n", what, (uint64_t)sel, (unsigned)trap_last.vector, trap_last.error);
	else
		print("%s %4x: ok\n", what, (uint64_t)sel);
}

static uint16_t str(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

void guest_main(void)
{
	gdt[2] = 0x00cf93000000ffffULL; /* 0x10 data, as vmon's */
	gdt[3] = 0x00af9b000000ffffULL; /* 0x18 64-bit code, as vmon's */
	sysdesc(4, (uint64_t)ldt, 15, 2, 0);
	sysdesc(6, 0x0000800000000000ULL | (uint64_t)ldt, 15, 2, 0);   /* not canonical */
	sysdesc(8, (uint64_t)ldt, 15, 2, 1);                           /* upper type 1 */
	sysdesc(10, (uint64_t)tss, 103, 9, 0);
	sysdesc(12, 0xffff700000000000ULL | (uint64_t)tss, 103, 9, 0); /* not canonical */
	sysdesc(14, (uint64_t)tss, 103, 9, 0x1f);                      /* upper type 0x1f */
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	trap_catch(13);

	try("lldt", do_lldt, 0x20);
	try("lldt", do_lldt, 0x30);
	try("lldt", do_lldt, 0x40);
	uint16_t tr0 = str();
	try("ltr", do_ltr, 0x60);
	try("ltr", do_ltr, 0x70);
	print("after the failed LTRs: TR %s, busy bits %d %d\n", str() == tr0 ? "unchanged" : "CHANGED",
	      (unsigned)(gdt[12] >> 41) & 1, (unsigned)(gdt[14] >> 41) & 1);
	try("ltr", do_ltr, 0x50);
	print("TR %4x, busy bit %d\n", (uint64_t)str(), (unsigned)(gdt[10] >> 41) & 1);
	guest_exit(0x10);
}
