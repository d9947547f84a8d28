/* SMAP and SMEP (SDM vol. 3 §4.6.1), from ring 0.
 *
 * The guest turns the 2 MiB region at 0x200000 of vmon's boot page tables
 * (supervisor-only 2 MiB pages) into 4 KiB pages of which the first, USER,
 * is a user-mode page (U/S = 1 at every level) and the second a supervisor
 * page. Then, with CR4.SMAP: supervisor data accesses to the user page
 * fault (#PF, error code P plus W for writes, U = 0) unless EFLAGS.AC = 1
 * (STAC); CLAC takes the permission away again; an implicit supervisor
 * access (a descriptor read from an LDT that lies in the user page) faults
 * even with AC = 1. With CR4.SMEP: a fetch from the user page faults (error
 * code P | I/D), while code in a supervisor page still runs. STAC and CLAC
 * at ring 0 work whether or not CR4.SMAP is set. The CR2 of every fault is
 * checked against the address accessed. */
#include <stdint.h>

#include "lib/guestlib.h"

#define USER 0x200000ULL
#define SUPER 0x201000ULL
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)

static uint64_t pt[512] __attribute__((aligned(4096)));

static void report(const char *what, uint64_t vec)
{
	if (vec == 14)
		print("%s: #PF error %2x cr2 %s\n", what, trap_last.error & 0xffff,
		      trap_last.cr2 == USER || trap_last.cr2 == USER + 0x108 || trap_last.cr2 == USER + 0x800
			      ? "= address"
			      : "WRONG");
	else if (vec)
		print("%s: vector %d\n", what, (unsigned)vec);
	else
		print("%s: ok\n", what);
}

static void do_rd(uint64_t a) { (void)*(volatile uint8_t *)a; }
static void do_wr(uint64_t a) { *(volatile uint8_t *)a = 0x5a; }
/* Loads FS from selector 0x0c: LDT entry 1, in the user page. */
static void do_ldt(uint64_t a)
{
	(void)a;
	__asm__ volatile("mov $0x0c, %%eax\n\tmov %%eax, %%fs\n\txor %%eax, %%eax\n\tmov %%eax, %%fs" : : : "rax");
}

static void rd(const char *what, uint64_t a) { report(what, trap_probe(do_rd, a)); }
static void wr(const char *what, uint64_t a) { report(what, trap_probe(do_wr, a)); }
static void call(const char *what, uint64_t a) { report(what, trap_probe((void (*)(uint64_t))a, 0)); }
static void ldt_load(const char *what) { report(what, trap_probe(do_ldt, 0)); }

static void stac(void) { __asm__ volatile("stac" ::: "memory"); }
static void clac(void) { __asm__ volatile("clac" ::: "memory"); }

/* A GDT with vmon's selectors (0x10 data, 0x18 64-bit code) and an LDT
 * descriptor at 0x20 whose table is at USER + 0x100. */
static uint64_t gdt[6] __attribute__((aligned(16)));

static void gdt_install(void)
{
	uint64_t base = USER + 0x100, limit = 0xf;
	gdt[2] = 0x00cf93000000ffffULL;
	gdt[3] = 0x00af9b000000ffffULL;
	gdt[4] = limit | ((base & 0xffffff) << 16) | (0x82ULL << 40) | (((base >> 24) & 0xff) << 56);
	gdt[5] = base >> 32;
	volatile uint64_t *ldt = (volatile uint64_t *)(USER + 0x100);
	ldt[0] = 0;
	ldt[1] = 0x00cf93000000ffffULL; /* data, accessed already: the load only reads */
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0\n\tmov $0x20, %%eax\n\tlldt %%ax" : : "m"(gdtr) : "rax", "memory");
}

void guest_main(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	print("cpuid: smep %d smap %d\n", (b >> 7) & 1, (b >> 20) & 1);
	if (!((b >> 7) & 1) || !((b >> 20) & 1))
		guest_exit(0x10);

	trap_catch(14);

	/* 0x200000-0x3fffff in 4 KiB pages: USER user, the rest supervisor */
	uint64_t cr3 = read_cr3();
	uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & 0xffffffffff000ULL);
	uint64_t *pd = (uint64_t *)(pdpt[0] & 0xffffffffff000ULL);
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (USER + i * 4096ULL) | 0x3 | (i == 0 ? 0x4 : 0);
	pml4[0] |= 0x4;
	pdpt[0] |= 0x4;
	pd[1] = (uint64_t)pt | 0x7;
	write_cr3(cr3);

	gdt_install();
	*(volatile uint8_t *)(USER + 0x800) = 0xc3; /* ret */
	*(volatile uint8_t *)(SUPER + 0x800) = 0xc3;

	rd("read user page, SMAP off", USER);
	wr("write user page, SMAP off", USER);
	ldt_load("LDT in user page, SMAP off");
	call("call user page, SMEP off", USER + 0x800);

	write_cr4(read_cr4() | CR4_SMAP);
	rd("read user page, AC 0", USER);
	wr("write user page, AC 0", USER);
	rd("read supervisor page, AC 0", SUPER);
	stac();
	rd("read user page, AC 1", USER);
	wr("write user page, AC 1", USER);
	ldt_load("LDT in user page, AC 1 (implicit access)");
	clac();
	rd("read user page after CLAC", USER);
	ldt_load("LDT in user page, AC 0");
	call("call user page, SMAP on, SMEP off", USER + 0x800);

	write_cr4(read_cr4() | CR4_SMEP);
	call("call user page, SMEP on", USER + 0x800);
	call("call supervisor page, SMEP on", SUPER + 0x800);
	stac();
	call("call user page, SMEP on, AC 1", USER + 0x800);
	clac();

	write_cr4(read_cr4() & ~(CR4_SMAP | CR4_SMEP));
	stac();
	clac();
	rd("read user page, SMAP off again", USER);
	print("stac/clac with SMAP off: ok\n");
	guest_exit(0x10);
}
