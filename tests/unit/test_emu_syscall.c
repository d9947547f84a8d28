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

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	test_legacy();
	test_long();
	test_intel();
	unit_vm_destroy(&vm);
	return unit_report("emu_syscall");
}
