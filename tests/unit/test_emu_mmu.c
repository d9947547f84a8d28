/* The soft MMU's access rights (SDM vol. 3 §4.6): U/S, R/W with CR0.WP,
 * XD, SMEP, SMAP with EFLAGS.AC and implicit supervisor accesses, and
 * protection keys (PKRU AD/WD, data accesses only, WD and CR0.WP for
 * supervisor writes), through page walks in guest memory and the page-fault
 * error codes they raise; then that the TLB cannot hand out rights checked
 * for another privilege (AC set, then cleared) or an older PKRU (WRPKRU). */
#include <stdlib.h>

#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

#define CODE 0x10000
#define REGION 0x200000ULL
#define PT 0x100000ULL /* the page table for REGION, in guest RAM */

/* Pages of REGION: index, PTE flags beyond P */
enum { PG_USER, PG_SUPER, PG_USER_RO, PG_USER_KEY1, PG_USER_NX, PG_SUPER_RO };

static void *gp(uint64_t gpa, uint64_t len)
{
	return unit_vm_ptr(&vm, gpa, len);
}

static uint64_t q(uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, gp(gpa, 8), 8);
	return v;
}

static void setq(uint64_t gpa, uint64_t v)
{
	memcpy(gp(gpa, 8), &v, 8);
}

static void start(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	cpu.efer |= X86_EFER_NXE;
	/* REGION in 4 KiB pages; U/S set on the upper levels */
	static const uint64_t flags[] = {
		[PG_USER] = 0x7, [PG_SUPER] = 0x3, [PG_USER_RO] = 0x5,
		[PG_USER_KEY1] = 0x7 | (1ULL << 59), [PG_USER_NX] = 0x7 | (1ULL << 63), [PG_SUPER_RO] = 0x1,
	};
	for (unsigned i = 0; i < 512; i++)
		setq(PT + i * 8, (REGION + i * 4096ULL) | (i < 6 ? flags[i] : 0x3));
	uint64_t pml4 = cpu.cr3 & ~0xfffULL;
	setq(pml4, q(pml4) | 0x4);
	uint64_t pdpt = q(pml4) & 0xffffffffff000ULL;
	setq(pdpt, q(pdpt) | 0x4);
	uint64_t pd = q(pdpt) & 0xffffffffff000ULL;
	setq(pd + 8, PT | 0x7);
	emu_tlb_flush(&cpu);
}

/* Translates page pg for acc: 0 when allowed, else 0x100 | the #PF error code. */
static unsigned tr(unsigned pg, unsigned acc)
{
	uint64_t gpa = 0;
	uint64_t lin = REGION + pg * 4096ULL + 0x10;
	cpu.exc.vector = 0;
	if (emu_translate(&cpu, lin, acc, &gpa) == EMU_OK) {
		CHECK_EQ(gpa, lin);
		return 0;
	}
	CHECK_EQ(cpu.exc.vector, EXC_PF);
	CHECK_EQ(cpu.cr2, lin);
	return 0x100 | cpu.exc.error;
}

static void test_basic_rights(void)
{
	start();
	cpu.cpl = 3;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);
	CHECK_EQ(tr(PG_USER, ACC_WRITE), 0);
	CHECK_EQ(tr(PG_SUPER, ACC_READ), 0x105);       /* P U */
	CHECK_EQ(tr(PG_SUPER, ACC_WRITE), 0x107);      /* P W U */
	CHECK_EQ(tr(PG_USER_RO, ACC_WRITE), 0x107);
	CHECK_EQ(tr(PG_USER_NX, ACC_FETCH), 0x115);    /* P U I/D */
	CHECK_EQ(tr(PG_USER, ACC_READ | ACC_SUPER), 0); /* implicit, SMAP off */
	cpu.cpl = 0;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);            /* SMAP off */
	CHECK_EQ(tr(PG_USER, ACC_FETCH), 0);           /* SMEP off */
	CHECK_EQ(tr(PG_SUPER_RO, ACC_WRITE), 0x103);   /* CR0.WP */
	cpu.cr0 &= ~(uint64_t)X86_CR0_WP;
	CHECK_EQ(tr(PG_SUPER_RO, ACC_WRITE), 0);
	CHECK_EQ(tr(PG_USER_RO, ACC_WRITE), 0);
}

static void test_smap_smep(void)
{
	start();
	cpu.cr4 |= EMU_CR4_SMAP | EMU_CR4_SMEP;
	cpu.cpl = 0;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0x101);
	CHECK_EQ(tr(PG_USER, ACC_WRITE), 0x103);
	CHECK_EQ(tr(PG_SUPER, ACC_READ), 0);
	CHECK_EQ(tr(PG_USER, ACC_FETCH), 0x111);       /* SMEP: P I/D */
	CHECK_EQ(tr(PG_SUPER, ACC_FETCH), 0);
	cpu.rflags |= FL_AC;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);
	CHECK_EQ(tr(PG_USER, ACC_WRITE), 0);
	CHECK_EQ(tr(PG_USER_RO, ACC_WRITE), 0x103);    /* AC does not lift R/W with WP */
	CHECK_EQ(tr(PG_USER, ACC_READ | ACC_SUPER), 0x101); /* implicit: AC does not count */
	CHECK_EQ(tr(PG_USER, ACC_FETCH), 0x111);       /* SMEP ignores AC */
	/* at CPL 3 an implicit access is a supervisor one */
	cpu.cpl = 3;
	cpu.rflags &= ~(uint64_t)FL_AC;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);
	CHECK_EQ(tr(PG_USER, ACC_READ | ACC_SUPER), 0x101);
	CHECK_EQ(tr(PG_USER, ACC_FETCH), 0);
	/* without NXE and SMEP, I/D is not reported (SDM vol. 3 §4.7) */
	cpu.cpl = 0;
	cpu.cr4 &= ~(uint64_t)EMU_CR4_SMEP;
	cpu.efer &= ~(uint64_t)X86_EFER_NXE;
	CHECK_EQ(tr(PG_SUPER, ACC_FETCH), 0);
	cpu.cr4 |= EMU_CR4_SMEP;
	CHECK_EQ(tr(PG_USER, ACC_FETCH), 0x111);
}

static void test_pkeys(void)
{
	start();
	cpu.cr4 |= EMU_CR4_PKE;
	cpu.pkru = 0x4; /* key 1: AD */
	cpu.cpl = 3;
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);            /* key 0 */
	CHECK_EQ(tr(PG_USER_KEY1, ACC_READ), 0x125);   /* P U PK */
	CHECK_EQ(tr(PG_USER_KEY1, ACC_WRITE), 0x127);
	CHECK_EQ(tr(PG_USER_KEY1, ACC_FETCH), 0);      /* keys do not govern fetches */
	cpu.pkru = 0x8; /* key 1: WD */
	CHECK_EQ(tr(PG_USER_KEY1, ACC_READ), 0);
	CHECK_EQ(tr(PG_USER_KEY1, ACC_WRITE), 0x127);
	cpu.cpl = 0;                                   /* supervisor: WD only with CR0.WP */
	CHECK_EQ(tr(PG_USER_KEY1, ACC_WRITE), 0x123);
	cpu.cr0 &= ~(uint64_t)X86_CR0_WP;
	CHECK_EQ(tr(PG_USER_KEY1, ACC_WRITE), 0);
	cpu.pkru = 0x4;
	CHECK_EQ(tr(PG_USER_KEY1, ACC_READ), 0x121);   /* AD binds the supervisor too */
	CHECK_EQ(tr(PG_SUPER, ACC_READ), 0);           /* supervisor pages have no key */
	cpu.pkru = ~0u & ~3u;                          /* every key but 0 denied */
	setq(PT + PG_SUPER * 8, (REGION + PG_SUPER * 4096ULL) | 0x3 | (5ULL << 59));
	CHECK_EQ(tr(PG_SUPER, ACC_WRITE), 0);
	cpu.msr.pkrs = 0x3 << 10;                      /* PKS: key 5 AD WD */
	CHECK_EQ(tr(PG_SUPER, ACC_WRITE), 0);          /* CR4.PKS off */
	cpu.cr4 |= EMU_CR4_PKS;
	CHECK_EQ(tr(PG_SUPER, ACC_READ), 0x121);
	CHECK_EQ(tr(PG_SUPER, ACC_FETCH), 0);
	CHECK_EQ(tr(PG_USER, ACC_READ), 0);            /* user pages: PKRU key 0 */
	cpu.msr.pkrs = 0x2 << 10;                      /* key 5 WD */
	CHECK_EQ(tr(PG_SUPER, ACC_READ), 0);
	CHECK_EQ(tr(PG_SUPER, ACC_WRITE), 0);          /* CR0.WP is off */
	cpu.cr0 |= X86_CR0_WP;
	CHECK_EQ(tr(PG_SUPER, ACC_WRITE), 0x123);
	cpu.cr4 &= ~(uint64_t)(EMU_CR4_PKE | EMU_CR4_PKS); /* keys off: bits 62:59 ignored */
	cpu.cpl = 3;
	CHECK_EQ(tr(PG_USER_KEY1, ACC_WRITE), 0);
}

/* The pure check, where the walk does not reach: nothing is denied to a
 * user read of a user page, a supervisor fetch without SMEP... */
static void test_check(void)
{
	start();
	cpu.cpl = 3;
	CHECK_EQ(emu_page_access_denied(&cpu, ACC_READ, false, true, false, -1), 0);
	CHECK_EQ(emu_page_access_denied(&cpu, ACC_FETCH, true, true, true, -1), 0x1);
	cpu.cr4 |= EMU_CR4_PKE;
	cpu.pkru = 3u << 30; /* key 15: AD WD */
	CHECK_EQ(emu_page_access_denied(&cpu, ACC_READ, true, true, false, 15), 0x21);
	CHECK_EQ(emu_page_access_denied(&cpu, ACC_READ, true, true, false, -1), 0);
	CHECK_EQ(emu_page_access_denied(&cpu, ACC_READ, true, false, false, 15), 0x1); /* U/S, not PK */
}

/* A read through the TLB: 0 or 0x100 | the #PF error code. */
static unsigned lin_rd(unsigned pg)
{
	uint8_t b;
	cpu.exc.vector = 0;
	if (emu_lin_read(&cpu, REGION + pg * 4096ULL, 1, &b, ACC_READ) == EMU_OK)
		return 0;
	return 0x100 | cpu.exc.error;
}

static void test_tlb(void)
{
	start();
	cpu.cr4 |= EMU_CR4_SMAP | EMU_CR4_PKE;
	cpu.cpl = 0;
	cpu.rflags |= FL_AC;
	CHECK_EQ(lin_rd(PG_USER), 0);                  /* fills the entry with AC = 1 */
	CHECK_EQ(lin_rd(PG_USER), 0);
	cpu.rflags &= ~(uint64_t)FL_AC;                /* as CLAC, POPF or IRET leave it */
	CHECK_EQ(lin_rd(PG_USER), 0x101);
	cpu.rflags |= FL_AC;
	CHECK_EQ(lin_rd(PG_USER_KEY1), 0);
	/* WRPKRU with AD for key 1, executed: the cached entry must go */
	static const uint8_t prog[] = { 0x0f, 0x01, 0xef }; /* wrpkru */
	memcpy(gp(CODE, sizeof(prog)), prog, sizeof(prog));
	cpu.rip = CODE;
	cpu.gpr[RAX] = 0x4;
	cpu.gpr[RCX] = cpu.gpr[RDX] = 0;
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.pkru, 0x4);
	CHECK_EQ(lin_rd(PG_USER_KEY1), 0x121);
	/* RDPKRU: EAX = PKRU, EDX = 0 */
	static const uint8_t prog2[] = { 0x0f, 0x01, 0xee };
	memcpy(gp(CODE, sizeof(prog2)), prog2, sizeof(prog2));
	cpu.rip = CODE;
	cpu.gpr[RCX] = 0;
	cpu.gpr[RDX] = 0xdead;
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.gpr[RAX], 0x4);
	CHECK_EQ(cpu.gpr[RDX], 0);
	CHECK_EQ(cpu.rip, CODE + 3);
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	test_basic_rights();
	test_smap_smep();
	test_pkeys();
	test_check();
	test_tlb();
	unit_vm_destroy(&vm);
	return unit_report("emu_mmu");
}
