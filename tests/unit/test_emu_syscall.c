/* SYSCALL/SYSRET and SYSENTER/SYSEXIT by vendor. AMD (APM vol. 3): legacy
 * protected mode (SYSCALL to STAR[31:0] with VM/IF/RF cleared and ECX = the
 * return EIP; SYSRET to 32-bit code with IF set), #UD without EFER.SCE,
 * SYSRET's #GP at CPL 3, a non-canonical RCX that SYSRETQ accepts (the
 * fault comes at CPL 3 from the fetch), SYSENTER/SYSEXIT in legacy mode only.
 * Intel (SDM vol. 2): SYSCALL/SYSRET #UD outside 64-bit mode, SYSRETQ
 * #GP(0) at CPL 0 for a non-canonical RCX, SYSENTER into 64-bit mode and
 * SYSEXIT back (REX.W) in IA-32e mode. The vendor is cpu.vendor_amd, set
 * from CPUID by emu_cpu_load and overridden here to test both. */
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

#define CODE 0x10000

/* Runs one instruction through its handler: EMU_OK or the vector raised. */
static int run(const uint8_t *b, unsigned n)
{
	struct emu_insn in;
	memcpy(unit_vm_ptr(&vm, CODE, n), b, n);
	CHECK_EQ(emu_decode(unit_vm_ptr(&vm, CODE, 16), 15, cpu.code_size, &in), EMU_DEC_OK);
	emu_handler h = emu_insn_handler(in.mnem);
	CHECK(h != NULL);
	cpu.rip = CODE;
	cpu.next_rip = CODE + in.len;
	cpu.exc.vector = 0;
	return h && h(&cpu, &in) == EMU_OK ? EMU_OK : cpu.exc.vector;
}

static const uint8_t syscall_[] = { 0x0f, 0x05 }, sysret[] = { 0x0f, 0x07 }, sysretq[] = { 0x48, 0x0f, 0x07 };
static const uint8_t sysenter[] = { 0x0f, 0x34 }, sysexit[] = { 0x0f, 0x35 };

static void test_legacy(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_PROT32, CODE);
	cpu.vendor_amd = true;
	CHECK_EQ(run(syscall_, 2), EXC_UD); /* EFER.SCE = 0 */
	cpu.efer |= X86_EFER_SCE;
	cpu.msr.star = (0x1bULL << 48) | (0x08ULL << 32) | 0x12345678;
	cpu.rflags = 0x2 | FL_IF | FL_RF | FL_DF;
	CHECK_EQ(run(syscall_, 2), EMU_OK);
	CHECK_EQ(cpu.next_rip, 0x12345678);
	CHECK_EQ(cpu.gpr[RCX], CODE + 2);
	CHECK_EQ(cpu.seg[SEG_CS].selector, 0x08);
	CHECK_EQ(cpu.seg[SEG_SS].selector, 0x10);
	CHECK(cpu.seg[SEG_CS].db && !cpu.seg[SEG_CS].l);
	CHECK_EQ(cpu.cpl, 0);
	CHECK_EQ(emu_flags_get(&cpu) & (FL_IF | FL_RF | FL_VM | FL_DF), FL_DF); /* no FMASK in legacy mode */
	cpu.gpr[RCX] = 0x4000;
	cpu.rflags = 0x2;
	CHECK_EQ(run(sysret, 2), EMU_OK);
	CHECK_EQ(cpu.next_rip, 0x4000);
	CHECK_EQ(cpu.seg[SEG_CS].selector, 0x1b);
	CHECK_EQ(cpu.seg[SEG_SS].selector, 0x23);
	CHECK_EQ(cpu.cpl, 3);
	CHECK(emu_flags_get(&cpu) & FL_IF);
	CHECK_EQ(run(sysret, 2), EXC_GP); /* CPL 3 */
	/* SYSENTER/SYSEXIT work in legacy mode */
	cpu.cpl = 0;
	cpu.msr.sysenter_cs = 0x08;
	cpu.msr.sysenter_eip = 0x5000;
	cpu.msr.sysenter_esp = 0x6000;
	CHECK_EQ(run(sysenter, 2), EMU_OK);
	CHECK_EQ(cpu.next_rip, 0x5000);
	CHECK_EQ(cpu.gpr[RSP], 0x6000);
	cpu.gpr[RDX] = 0x7000;
	cpu.gpr[RCX] = 0x8000;
	CHECK_EQ(run(sysexit, 2), EMU_OK);
	CHECK_EQ(cpu.next_rip, 0x7000);
	CHECK_EQ(cpu.seg[SEG_CS].selector, 0x1b);
	CHECK_EQ(cpu.cpl, 3);
}

static void test_long(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	cpu.vendor_amd = true;
	cpu.efer |= X86_EFER_SCE;
	cpu.msr.star = (0x1bULL << 48) | (0x08ULL << 32);
	/* a non-canonical RCX: SYSRETQ completes (AMD), CPL 3 fetches fault */
	cpu.gpr[RCX] = 0x0000800000000000ULL;
	cpu.gpr[R11] = 0x202;
	CHECK_EQ(run(sysretq, 3), EMU_OK);
	CHECK_EQ(cpu.cpl, 3);
	CHECK_EQ(cpu.next_rip, 0x0000800000000000ULL);
	CHECK_EQ(cpu.seg[SEG_CS].selector, 0x2b);
	uint8_t b;
	unsigned got;
	CHECK_EQ(emu_fetch(&cpu, cpu.next_rip, &b, 1, &got), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	/* SYSENTER and SYSEXIT: #UD in long mode on AMD */
	cpu.cpl = 0;
	cpu.msr.sysenter_cs = 0x08;
	CHECK_EQ(run(sysenter, 2), EXC_UD);
	CHECK_EQ(run(sysexit, 2), EXC_UD);
}

static void test_intel(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_PROT32, CODE);
	cpu.vendor_amd = false;
	cpu.efer |= X86_EFER_SCE;
	CHECK_EQ(run(syscall_, 2), EXC_UD); /* legacy mode */
	CHECK_EQ(run(sysret, 2), EXC_UD);
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	cpu.vendor_amd = false;
	cpu.efer |= X86_EFER_SCE;
	cpu.msr.star = (0x1bULL << 48) | (0x08ULL << 32);
	cpu.gpr[RCX] = 0x0000800000000000ULL;
	CHECK_EQ(run(sysretq, 3), EXC_GP); /* at CPL 0 */
	CHECK_EQ(cpu.cpl, 0);
	cpu.msr.sysenter_cs = 0x08;
	cpu.msr.sysenter_eip = 0xffff800000001000ULL;
	cpu.msr.sysenter_esp = 0xffff800000002000ULL;
	CHECK_EQ(run(sysenter, 2), EMU_OK);
	CHECK_EQ(cpu.next_rip, 0xffff800000001000ULL);
	CHECK_EQ(cpu.gpr[RSP], 0xffff800000002000ULL);
	CHECK(cpu.seg[SEG_CS].l);
	static const uint8_t sysexitq[] = { 0x48, 0x0f, 0x35 };
	cpu.gpr[RDX] = 0x401000;
	cpu.gpr[RCX] = 0x7ff000;
	CHECK_EQ(run(sysexitq, 3), EMU_OK);
	CHECK_EQ(cpu.seg[SEG_CS].selector, 0x2b); /* SYSENTER_CS + 32, RPL 3 */
	CHECK(cpu.seg[SEG_CS].l);
	CHECK_EQ(cpu.cpl, 3);
	CHECK_EQ(cpu.next_rip, 0x401000);
	/* from compatibility mode: SYSCALL #UD */
	struct x86_segment c = cpu.seg[SEG_CS];
	c.l = 0;
	c.db = 1;
	emu_set_cs(&cpu, 0x1b, &c, 3);
	CHECK_EQ(run(syscall_, 2), EXC_UD);
}

/* Single-step over SYSCALL (long mode, CPL 0 -> 0): with TF in FMASK the
 * entry runs with TF clear and no #DB follows the SYSCALL; without it, TF
 * stays set and the trap-class #DB comes after it, at the LSTAR target. */
static void test_single_step(void)
{
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	cpu.vendor_amd = false;
	cpu.efer |= X86_EFER_SCE;
	cpu.msr.star = (uint64_t)(cpu.seg[SEG_CS].selector & 0xfffc) << 32;
	cpu.msr.lstar = CODE + 0x100;
	/* IDT at 0x8000: #DB -> CODE + 0x200, a 64-bit interrupt gate */
	uint64_t gate[2] = { ((CODE + 0x200) & 0xffff) | ((uint64_t)cpu.seg[SEG_CS].selector << 16) |
				     (0x8eULL << 40) | ((uint64_t)((CODE + 0x200) >> 16) << 48),
			     0 };
	memcpy(unit_vm_ptr(&vm, 0x8000 + 16, 16), gate, 16);
	cpu.idt.base = 0x8000;
	cpu.idt.limit = 0xfff;
	memcpy(unit_vm_ptr(&vm, CODE, 2), syscall_, 2);
	memset(unit_vm_ptr(&vm, CODE + 0x100, 1), 0x90, 1);
	memset(unit_vm_ptr(&vm, CODE + 0x200, 1), 0xf4, 1);

	cpu.msr.fmask = FL_TF;
	cpu.rip = CODE;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2 | FL_TF;
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.rip, CODE + 0x100); /* no #DB */
	CHECK_EQ(cpu.rflags & FL_TF, 0);
	CHECK_EQ(cpu.gpr[R11] & FL_TF, FL_TF);

	cpu.msr.fmask = 0;
	cpu.rip = CODE;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2 | FL_TF;
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.rip, CODE + 0x200); /* the #DB handler */
	CHECK(cpu.dr[6] & (1u << 14)); /* DR6.BS */
	uint64_t frame[2];
	memcpy(frame, unit_vm_ptr(&vm, cpu.gpr[RSP], 16), 16);
	CHECK_EQ(frame[0], CODE + 0x100); /* the trap's RIP: after the SYSCALL */

	/* SYSRETQ that sets TF from R11 traps at once, at CPL 3, at RCX */
	static const uint8_t sysretq_b[] = { 0x48, 0x0f, 0x07 };
	struct x86_segment cs0 = cpu.seg[SEG_CS];
	memcpy(unit_vm_ptr(&vm, CODE, 3), sysretq_b, 3);
	cpu.msr.star |= (uint64_t)0x1b << 48;
	cpu.rip = CODE;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2;
	cpu.gpr[RCX] = CODE + 0x100;
	cpu.gpr[R11] = 0x2 | FL_TF;
	cpu.dr[6] = 0;
	/* TSS at 0xa000: RSP0 for the #DB from CPL 3 */
	cpu.seg[SEG_TR] = (struct x86_segment){ .selector = 0x40, .base = 0xa000, .limit = 0x67, .type = 0xb,
						.present = 1 };
	uint64_t rsp0 = 0x9800;
	memcpy(unit_vm_ptr(&vm, 0xa004, 8), &rsp0, 8);
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.rip, CODE + 0x200);
	CHECK(cpu.dr[6] & (1u << 14));
	memcpy(frame, unit_vm_ptr(&vm, cpu.gpr[RSP], 16), 16);
	CHECK_EQ(frame[0], CODE + 0x100);
	CHECK_EQ(frame[1], 0x2b); /* pushed CS: the CPL-3 64-bit code */
	/* the same through the block path (emu_run), which runs SYSRETQ with
	 * TF clear at its start: the #DB is still taken before RCX's instruction */
	cpu.bcache = emu_bcache_new();
	CHECK(cpu.bcache != NULL);
	cpu.seg[SEG_CS] = cs0;
	cpu.cpl = 0;
	cpu.code_size = 8;
	cpu.rip = CODE;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2;
	cpu.dr[6] = 0;
	memset(unit_vm_ptr(&vm, 0x9800 - 40, 40), 0, 40);
	CHECK(emu_run(&cpu, 3) > 0);
	CHECK(cpu.dr[6] & (1u << 14));
	memcpy(frame, unit_vm_ptr(&vm, 0x9800 - 40, 16), 16);
	CHECK_EQ(frame[0], CODE + 0x100);
	CHECK_EQ(frame[1], 0x2b);
	emu_bcache_free(cpu.bcache);
	cpu.bcache = NULL;
	/* POPF that sets TF does not trap after itself (§17.3.1.4) */
	unit_emu_start(&vm, &cpu, BOOT_MODE_LONG64, CODE);
	memcpy(unit_vm_ptr(&vm, 0x8000 + 16, 16), gate, 16);
	memset(unit_vm_ptr(&vm, CODE + 0x200, 1), 0xf4, 1);
	cpu.idt.base = 0x8000;
	cpu.idt.limit = 0xfff;
	memcpy(unit_vm_ptr(&vm, CODE, 2), (const uint8_t[]){ 0x9d, 0x90 }, 2);
	uint64_t fl = 0x2 | FL_TF;
	cpu.gpr[RSP] = 0x8ff8;
	memcpy(unit_vm_ptr(&vm, 0x8ff8, 8), &fl, 8);
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.rip, CODE + 1);
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.rip, CODE + 0x200); /* after the NOP */
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	test_legacy();
	test_long();
	test_intel();
	test_single_step();
	unit_vm_destroy(&vm);
	return unit_report("emu_syscall");
}
