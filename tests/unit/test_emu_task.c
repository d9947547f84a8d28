/* Hardware task switching (src/cpu/emu/task.c): the TSS images of SDM vol.
 * 3A figure 8-2 (32-bit) and 8-11 (16-bit) field by field, which bytes a
 * switch saves, a CALL to a 16-bit TSS and the IRET back stepped on a
 * vCPU, a JMP under paging (CR3, LDTR), the checks before a switch, and
 * #GP in IA-32e mode (the system test guest covers the rest). */
#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

static void put(uint8_t *b, unsigned off, unsigned w, uint32_t v)
{
	for (unsigned i = 0; i < w; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get(const uint8_t *b, unsigned off, unsigned w)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < w; i++)
		v |= (uint32_t)b[off + i] << (8 * i);
	return v;
}

static void test_tss32_image(void)
{
	uint8_t b[104];
	memset(b, 0, sizeof(b));
	put(b, 0, 2, 0x28);          /* link */
	put(b, 28, 4, 0x123000);     /* CR3 */
	put(b, 32, 4, 0x401000);     /* EIP */
	put(b, 36, 4, 0x4246);       /* EFLAGS */
	for (unsigned i = 0; i < 8; i++)
		put(b, 40 + 4 * i, 4, 0x11111111u * (i + 1)); /* EAX..EDI */
	for (unsigned i = 0; i < 6; i++)
		put(b, 72 + 4 * i, 2, 0x08 + 8 * i);          /* ES CS SS DS FS GS */
	put(b, 96, 2, 0x50);         /* LDT */
	put(b, 100, 2, 1);           /* T */
	struct emu_tss_image t;
	emu_tss_decode(b, true, &t);
	CHECK_EQ(t.link, 0x28);
	CHECK_EQ(t.cr3, 0x123000);
	CHECK_EQ(t.eip, 0x401000);
	CHECK_EQ(t.eflags, 0x4246);
	CHECK_EQ(t.gpr[0], 0x11111111);
	CHECK_EQ(t.gpr[4], 0x55555555); /* ESP */
	CHECK_EQ(t.gpr[7], 0x88888888);
	CHECK_EQ(t.sel[0], 0x08);       /* ES */
	CHECK_EQ(t.sel[1], 0x10);       /* CS */
	CHECK_EQ(t.sel[5], 0x30);       /* GS */
	CHECK_EQ(t.ldt, 0x50);
	CHECK(t.trap);

	/* a switch saves EIP..GS (offsets 32-95) and nothing else */
	unsigned end, beg = emu_tss_dynamic_range(true, &end);
	CHECK_EQ(beg, 32);
	CHECK_EQ(end, 96);
	uint8_t o[104];
	memset(o, 0xaa, sizeof(o));
	t.eip = 0xcafe;
	t.sel[2] = 0x1234;
	emu_tss_encode_dynamic(o, true, &t);
	CHECK_EQ(get(o, 32, 4), 0xcafe);
	CHECK_EQ(get(o, 36, 4), 0x4246);
	CHECK_EQ(get(o, 40 + 4 * 3, 4), 0x44444444); /* EBX */
	CHECK_EQ(get(o, 80, 4), 0x1234);             /* SS, the reserved high word 0 */
	CHECK_EQ(get(o, 92, 4), 0x30);
	CHECK_EQ(o[31], 0xaa);
	CHECK_EQ(o[96], 0xaa);
	CHECK_EQ(o[0], 0xaa);
	struct emu_tss_image u;
	emu_tss_decode(o, true, &u);
	CHECK_EQ(u.eip, 0xcafe);
	CHECK_EQ(u.gpr[6], 0x77777777);
	CHECK_EQ(u.sel[2], 0x1234);
}

static void test_tss16_image(void)
{
	uint8_t b[44];
	memset(b, 0, sizeof(b));
	put(b, 0, 2, 0x18);
	put(b, 14, 2, 0x3000);       /* IP */
	put(b, 16, 2, 0x0202);       /* FLAGS */
	for (unsigned i = 0; i < 8; i++)
		put(b, 18 + 2 * i, 2, 0x1111u * (i + 1)); /* AX..DI */
	for (unsigned i = 0; i < 4; i++)
		put(b, 34 + 2 * i, 2, 0x08 * (i + 1));    /* ES CS SS DS */
	put(b, 42, 2, 0x40);         /* LDT */
	struct emu_tss_image t;
	emu_tss_decode(b, false, &t);
	CHECK_EQ(t.link, 0x18);
	CHECK_EQ(t.eip, 0x3000);
	CHECK_EQ(t.eflags, 0x0202);
	CHECK_EQ(t.gpr[1], 0x2222);  /* CX */
	CHECK_EQ(t.gpr[7], 0x8888);  /* DI */
	CHECK_EQ(t.sel[3], 0x20);    /* DS */
	CHECK_EQ(t.sel[4], 0);       /* no FS/GS in a 16-bit TSS */
	CHECK_EQ(t.ldt, 0x40);
	CHECK(!t.trap);
	unsigned end, beg = emu_tss_dynamic_range(false, &end);
	CHECK_EQ(beg, 14);
	CHECK_EQ(end, 42);
	uint8_t o[44];
	memset(o, 0xaa, sizeof(o));
	t.gpr[0] = 0xbeef;
	emu_tss_encode_dynamic(o, false, &t);
	CHECK_EQ(get(o, 18, 2), 0xbeef);
	CHECK_EQ(get(o, 40, 2), 0x20);
	CHECK_EQ(o[13], 0xaa);
	CHECK_EQ(o[42], 0xaa);
}

static void *gp(uint64_t gpa, uint64_t len)
{
	return unit_vm_ptr(&vm, gpa, len);
}

/* A TSS descriptor (available, byte granular) for base/limit, type 9 or 1. */
static uint64_t tss_desc(uint32_t base, uint32_t limit, unsigned type)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)(0x80 | type) << 40) |
	       ((uint64_t)(base >> 24) << 56);
}

/* CALL far to a 16-bit TSS, then IRET (NT) back to the 32-bit one. */
static void test_tss16_switch(void)
{
	struct x86_state st;
	const char *why = NULL;
	memset(gp(0, 8 << 20), 0, 8 << 20);
	CHECK_EQ(x86_setup_mode(&vm.mem, BOOT_MODE_PROT32, 0x10000, &st, &why), 0);
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	emu_cpu_load(&cpu, &st);
	emu_lapic_reset(&cpu);

	uint64_t gdt[5] = { 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL, tss_desc(0x21000, 0x67, 0xb),
			    tss_desc(0x22000, 0x2b, 1) };
	memcpy(gp(0x20000, sizeof(gdt)), gdt, sizeof(gdt));
	cpu.gdt = (struct x86_dtable){ 0x20000, sizeof(gdt) - 1 };
	emu_desc_decode(gdt[3], 0, &cpu.seg[SEG_TR]);
	cpu.seg[SEG_TR].selector = 0x18;
	uint8_t *t16 = gp(0x22000, 44);
	put(t16, 14, 2, 0x3000);     /* IP */
	put(t16, 16, 2, 0x0002);     /* FLAGS */
	put(t16, 18, 2, 0x1111);     /* AX */
	put(t16, 26, 2, 0x2000);     /* SP */
	put(t16, 34, 2, 0x10);       /* ES */
	put(t16, 36, 2, 0x08);       /* CS: a 32-bit code segment is fine */
	put(t16, 38, 2, 0x10);       /* SS */
	put(t16, 40, 2, 0x10);       /* DS */
	memcpy(gp(0x10000, 7), "\x9a\x00\x00\x00\x00\x20\x00", 7); /* call far 0x20:0 */
	*(uint8_t *)gp(0x3000, 1) = 0xcf;                          /* iret */
	cpu.gpr[RAX] = 0xdead0000;

	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.seg[SEG_TR].selector, 0x20);
	CHECK_EQ(cpu.rip, 0x3000);
	CHECK_EQ(cpu.gpr[RAX], 0xdead1111);           /* a 16-bit TSS loads the low halves */
	CHECK(emu_flags_get(&cpu) & FL_NT);
	CHECK_EQ(get(t16, 0, 2), 0x18);               /* the back link */
	CHECK_EQ(((uint8_t *)gp(0x20000, 40))[8 * 4 + 5] & 0xf, 3); /* now busy */
	CHECK_EQ(((uint8_t *)gp(0x20000, 40))[8 * 3 + 5] & 0xf, 0xb); /* the caller stays busy */
	CHECK_EQ(get(gp(0x21000, 104), 32, 4), 0x10007); /* the caller's EIP, after the CALL */
	CHECK(cpu.cr0 & X86_CR0_TS);

	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.seg[SEG_TR].selector, 0x18);
	CHECK_EQ(cpu.rip, 0x10007);
	CHECK_EQ(cpu.gpr[RAX], 0xdead0000);
	CHECK(!(emu_flags_get(&cpu) & FL_NT));
	CHECK_EQ(((uint8_t *)gp(0x20000, 40))[8 * 4 + 5] & 0xf, 1); /* IRET: the old task not busy */
	CHECK_EQ(get(t16, 14, 2), 0x3001);            /* its IP, past the IRET */
	CHECK_EQ(get(t16, 16, 2), 0x0002);            /* its FLAGS, NT cleared in the image */

	/* the checks before anything changes (SDM vol. 2 CALL, IRET) */
	CHECK_EQ(emu_task_switch(&cpu, 0, TASK_IRET, 0, cpu.rip, false, 0), EMU_EXC); /* link 0: no TSS */
	CHECK_EQ(cpu.exc.vector, EXC_TS);
	CHECK_EQ(cpu.exc.error, 0);
	CHECK_EQ(emu_task_switch(&cpu, 0x20, TASK_IRET, 0, cpu.rip, false, 0), EMU_EXC); /* not busy */
	CHECK_EQ(cpu.exc.vector, EXC_TS);
	CHECK_EQ(cpu.exc.error, 0x20);
	CHECK_EQ(emu_task_switch(&cpu, 0x18, TASK_CALL, 0, cpu.rip, false, 0), EMU_EXC); /* busy */
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	CHECK_EQ(cpu.exc.error, 0x18);
	((uint8_t *)gp(0x20000, 40))[8 * 4 + 5] &= (uint8_t)~0x80; /* not present: #NP, EXT kept */
	CHECK_EQ(emu_task_switch(&cpu, 0x20, TASK_INT, 1, cpu.rip, false, 0), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NP);
	CHECK_EQ(cpu.exc.error, 0x21);
	((uint8_t *)gp(0x20000, 40))[8 * 4 + 5] |= 0x80;
	((uint8_t *)gp(0x20000, 40))[8 * 4] = 0x2a; /* a 16-bit TSS needs a limit of 0x2b */
	CHECK_EQ(emu_task_switch(&cpu, 0x20, TASK_JMP, 0, cpu.rip, false, 0), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_TS);
	CHECK_EQ(cpu.exc.error, 0x20);
	CHECK_EQ(cpu.seg[SEG_TR].selector, 0x18); /* nothing switched */
	CHECK_EQ(cpu.rip, 0x10007);
	CHECK_EQ(emu_task_switch(&cpu, 0x24, TASK_JMP, 0, cpu.rip, false, 0), EMU_EXC); /* LDT: #GP */
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	CHECK_EQ(cpu.exc.error, 0x24);
}

/* JMP to a 32-bit TSS under 32-bit paging: the new task's CR3 and LDTR
 * are loaded, the old task is left not busy, and its CR3 is not saved
 * (a static field, §8.2.1). */
static void test_tss32_jmp_cr3_ldt(void)
{
	struct x86_state st;
	const char *why = NULL;
	memset(gp(0, 8 << 20), 0, 8 << 20);
	CHECK_EQ(x86_setup_mode(&vm.mem, BOOT_MODE_PAGED32, 0x10000, &st, &why), 0);
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	emu_cpu_load(&cpu, &st);
	emu_lapic_reset(&cpu);
	CHECK_EQ(cpu.cr3, 0x2000);
	memcpy(gp(0x5000, 4096), gp(0x2000, 4096), 4096); /* a second, identical page directory */
	uint64_t gdt[6] = { 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL, tss_desc(0x21000, 0x67, 0xb),
			    tss_desc(0x22000, 0x67, 9), tss_desc(0x23000, 0xff, 2) /* 0x28: an LDT */ };
	memcpy(gp(0x20000, sizeof(gdt)), gdt, sizeof(gdt));
	cpu.gdt = (struct x86_dtable){ 0x20000, sizeof(gdt) - 1 };
	emu_desc_decode(gdt[3], 0, &cpu.seg[SEG_TR]);
	cpu.seg[SEG_TR].selector = 0x18;
	uint8_t *t = gp(0x22000, 104);
	put(t, 28, 4, 0x5000);       /* CR3 */
	put(t, 32, 4, 0x3000);       /* EIP */
	put(t, 36, 4, 0x0002);
	put(t, 56, 4, 0x8000);       /* ESP */
	for (unsigned i = 0; i < 6; i++)
		put(t, 72 + 4 * i, 2, i == 1 ? 0x08 : 0x10);
	put(t, 96, 2, 0x28);         /* LDT */
	memcpy(gp(0x10000, 7), "\xea\x00\x00\x00\x00\x20\x00", 7); /* jmp far 0x20:0 */
	CHECK(emu_step(&cpu));
	CHECK_EQ(cpu.seg[SEG_TR].selector, 0x20);
	CHECK_EQ(cpu.cr3, 0x5000);
	CHECK_EQ(cpu.rip, 0x3000);
	CHECK_EQ(cpu.gpr[RSP], 0x8000);
	CHECK_EQ(cpu.seg[SEG_LDTR].selector, 0x28);
	CHECK_EQ(cpu.seg[SEG_LDTR].base, 0x23000);
	CHECK_EQ(cpu.seg[SEG_LDTR].limit, 0xff);
	CHECK(!(emu_flags_get(&cpu) & FL_NT));        /* JMP: no nesting */
	CHECK_EQ(get(t, 0, 2), 0);                    /* and no back link */
	const uint8_t *g = gp(0x20000, 48);
	CHECK_EQ(g[8 * 3 + 5] & 0xf, 9);              /* the old task is available again */
	CHECK_EQ(g[8 * 4 + 5] & 0xf, 0xb);
	CHECK_EQ(get(gp(0x21000, 104), 28, 4), 0);    /* CR3 is not saved */
	CHECK_EQ(get(gp(0x21000, 104), 32, 4), 0x10007);
}

/* IA-32e mode has no task switching (SDM vol. 3A §8.7): a far JMP to a
 * TSS descriptor or a task gate is #GP with the selector. */
static void test_long_mode_gp(void)
{
	struct x86_state st;
	const char *why = NULL;
	memset(gp(0, 8 << 20), 0, 8 << 20);
	CHECK_EQ(x86_setup_mode(&vm.mem, BOOT_MODE_LONG64, 0x10000, &st, &why), 0);
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	emu_cpu_load(&cpu, &st);
	emu_lapic_reset(&cpu);
	uint64_t gdt[9] = { 0, 0x00cf9a000000ffffULL, 0x00cf92000000ffffULL, 0x00af9a000000ffffULL,
			    tss_desc(0x21000, 0x67, 9), 0, /* 0x20: a 16-byte TSS descriptor */
			    0x0000850000200000ULL, 0 };   /* 0x30: a task gate to 0x20 */
	memcpy(gp(0x20000, sizeof(gdt)), gdt, sizeof(gdt));
	cpu.gdt = (struct x86_dtable){ 0x20000, sizeof(gdt) - 1 };
	static const uint16_t sels[2] = { 0x20, 0x30 };
	for (unsigned i = 0; i < 2; i++) {
		uint8_t ptr[6] = { 0, 0, 0, 0, (uint8_t)sels[i], 0 };
		memcpy(gp(0x30000, 6), ptr, 6);
		/* jmp far [0x30000] (m16:32) */
		static const uint8_t jmp[] = { 0xff, 0x2c, 0x25, 0x00, 0x00, 0x03, 0x00 };
		struct emu_insn in;
		CHECK_EQ(emu_decode(jmp, sizeof(jmp), 8, &in), EMU_DEC_OK);
		cpu.next_rip = cpu.rip + in.len;
		CHECK_EQ(emu_insn_handler(in.mnem)(&cpu, &in), EMU_EXC);
		CHECK_EQ(cpu.exc.vector, EXC_GP);
		CHECK_EQ(cpu.exc.error, sels[i]);
		CHECK_EQ(cpu.seg[SEG_CS].selector, 0x18);
	}
	/* and a direct call into the switch, as IRET with NT would make */
	CHECK_EQ(emu_task_switch(&cpu, 0x20, TASK_IRET, 0, cpu.rip, false, 0), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	test_tss32_image();
	test_tss16_image();
	test_tss16_switch();
	test_tss32_jmp_cr3_ldt();
	test_long_mode_gp();
	unit_vm_destroy(&vm);
	return unit_report("emu_task");
}
