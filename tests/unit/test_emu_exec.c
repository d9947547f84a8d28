/* The software CPU below the engine: instructions stepped on one vCPU over
 * real guest memory (16- and 32-bit specifics the 64-bit differential test
 * cannot reach), and the soft MMU: 32-bit, PAE and 4-level walks, U/S, R/W,
 * CR0.WP and NX checks with their #PF error codes and CR2, accessed/dirty
 * updates, TLB invalidation, page-straddling accesses, and self-modifying
 * code through the decoded-instruction cache. */
#include <stdlib.h>

#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

static void *gp(uint64_t gpa, uint64_t len)
{
	return unit_vm_ptr(&vm, gpa, len);
}

static void wr32(uint64_t gpa, uint32_t v) { memcpy(gp(gpa, 4), &v, 4); }
static void wr64(uint64_t gpa, uint64_t v) { memcpy(gp(gpa, 8), &v, 8); }
static uint32_t rd32(uint64_t gpa) { uint32_t v; memcpy(&v, gp(gpa, 4), 4); return v; }
static uint64_t rd64(uint64_t gpa) { uint64_t v; memcpy(&v, gp(gpa, 8), 8); return v; }

static void start(enum boot_mode mode)
{
	struct x86_state st;
	const char *why = NULL;
	memset(gp(0, 8 << 20), 0, 8 << 20);
	CHECK_EQ(x86_setup_mode(&vm.mem, mode, 0x10000, &st, &why), 0);
	struct emu_icache_entry *ic = cpu.icache;
	struct emu_bcache *bc = cpu.bcache;
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	cpu.icache = ic;
	cpu.bcache = bc;
	if (ic)
		memset(ic, 0, EMU_ICACHE_SIZE * sizeof(*ic));
	emu_cpu_load(&cpu, &st);
	emu_lapic_reset(&cpu);
}

static void code(uint64_t gpa, const char *hex)
{
	uint8_t *p = gp(gpa, 64);
	while (*hex) {
		while (*hex == ' ')
			hex++;
		if (!*hex)
			break;
		char t[3] = { hex[0], hex[1], 0 };
		*p++ = (uint8_t)strtoul(t, NULL, 16);
		hex += 2;
	}
}

static void steps(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CHECK(emu_step(&cpu));
}

static void test_real_mode(void)
{
	start(BOOT_MODE_REAL); /* CS = 0x1000, IP = 0 */
	code(0x10000, "b8 34 12"      /* mov ax, 0x1234 */
		      " 8e d8"        /* mov ds, ax */
		      " c6 06 10 00 55" /* mov byte [0x10], 0x55 */
		      " b4 7f"        /* mov ah, 0x7f */
		      " 80 c4 01"     /* add ah, 1: AX = 0x8034, OF */
		      " bb ff ff"     /* mov bx, 0xffff */
		      " 8a 47 02");   /* mov al, [bx+2]: offset wraps to 1 */
	wr32(0x12341, 0xa5);
	steps(7);
	CHECK_EQ(*(uint8_t *)gp(0x12350, 1), 0x55);
	CHECK_EQ(cpu.gpr[RAX] & 0xffff, 0x80a5);
	CHECK(emu_flags_get(&cpu) & FL_OF);
	CHECK_EQ(cpu.rip, 0x15);

	/* LOOP counts CX in 16-bit code; DAA after a BCD add */
	start(BOOT_MODE_REAL);
	code(0x10000, "b9 03 00"  /* mov cx, 3 */
		      " 31 c0"    /* xor ax, ax */
		      " 40"       /* inc ax */
		      " e2 fd"    /* loop -3 */
		      " b0 19"    /* mov al, 0x19 */
		      " 04 28"    /* add al, 0x28 */
		      " 27");     /* daa: 0x47 */
	steps(2 + 6 + 3);
	CHECK_EQ(cpu.gpr[RCX] & 0xffff, 0);
	CHECK_EQ(cpu.gpr[RAX] & 0xff, 0x47);
}

/* 32-bit paging structures: PD at 0x20000, PT at 0x21000 mapping
 * 0x400000-0x7fffff; the first 4 MiB identity by a 4 MiB page. */
static void paged32(void)
{
	start(BOOT_MODE_PROT32);
	wr32(0x20000, 0x00000083);            /* 0-4 MiB: 4 MiB page, RW, supervisor */
	wr32(0x20004, 0x00021007);            /* 4-8 MiB: page table, P RW U */
	wr32(0x21000 + 0 * 4, 0x00030005);    /* 0x400000 -> 0x30000, user, read-only */
	wr32(0x21000 + 1 * 4, 0x00031007);    /* 0x401000 -> 0x31000, user, RW */
	wr32(0x21000 + 2 * 4, 0x00050007);    /* 0x402000 -> 0x50000 (not contiguous) */
	wr32(0x21000 + 3 * 4, 0);             /* 0x403000 not present */
	cpu.cr4 = X86_CR4_PSE;
	cpu.cr3 = 0x20000;
	cpu.cr0 |= X86_CR0_PG | X86_CR0_WP;
	emu_tlb_flush(&cpu);
}

static void test_paging32(void)
{
	uint32_t v = 0xdeadbeef, r = 0;
	paged32();
	wr32(0x30010, 0x11223344);
	CHECK_EQ(emu_lin_read(&cpu, 0x400010, 4, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0x11223344);
	CHECK(rd32(0x21000) & 0x20);          /* accessed */
	CHECK(!(rd32(0x21000) & 0x40));       /* not dirty */

	/* supervisor write to a read-only page with CR0.WP: #PF(P|W) */
	CHECK_EQ(emu_lin_write(&cpu, 0x400010, 4, &v, ACC_WRITE), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_PF);
	CHECK_EQ(cpu.exc.error, 0x3);
	CHECK_EQ(cpu.cr2, 0x400010);
	/* without WP the supervisor may write */
	cpu.cr0 &= ~(uint64_t)X86_CR0_WP;
	emu_tlb_flush(&cpu);
	CHECK_EQ(emu_lin_write(&cpu, 0x400010, 4, &v, ACC_WRITE), EMU_OK);
	CHECK_EQ(rd32(0x30010), 0xdeadbeef);
	CHECK(rd32(0x21000) & 0x40);          /* dirty */

	/* a user access to the supervisor 4 MiB page: #PF(P|U) */
	cpu.cpl = 3;
	CHECK_EQ(emu_lin_read(&cpu, 0x1000, 4, &r, ACC_READ), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x5);
	/* user write to the read-only user page: #PF(P|W|U), WP or not */
	CHECK_EQ(emu_lin_write(&cpu, 0x400000, 4, &v, ACC_WRITE), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x7);
	/* not present: #PF(U) with P clear */
	CHECK_EQ(emu_lin_read(&cpu, 0x403000, 4, &r, ACC_READ), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x4);
	CHECK_EQ(cpu.cr2, 0x403000);
	/* an implicit supervisor access from CPL 3 (descriptor tables) is allowed */
	CHECK_EQ(emu_lin_read(&cpu, 0x1000, 4, &r, ACC_READ | ACC_SUPER), EMU_OK);
	cpu.cpl = 0;

	/* a write straddling 0x401ffe..0x402001 lands in two distant frames */
	v = 0xa1b2c3d4;
	CHECK_EQ(emu_lin_write(&cpu, 0x401ffe, 4, &v, ACC_WRITE), EMU_OK);
	CHECK_EQ(*(uint16_t *)gp(0x31ffe, 2), 0xc3d4);
	CHECK_EQ(*(uint16_t *)gp(0x50000, 2), 0xa1b2);
	r = 0;
	CHECK_EQ(emu_lin_read(&cpu, 0x401ffe, 4, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0xa1b2c3d4);
	/* straddling into a not-present page faults before writing anything */
	wr32(0x50ffe, 0);
	CHECK_EQ(emu_lin_write(&cpu, 0x402ffe, 4, &v, ACC_WRITE), EMU_EXC);
	CHECK_EQ(cpu.cr2, 0x403000);
	CHECK_EQ(rd32(0x50ffc), 0);

	/* the TLB keeps a translation until INVLPG */
	CHECK_EQ(emu_lin_read(&cpu, 0x401000, 4, &r, ACC_READ), EMU_OK);
	wr32(0x21000 + 1 * 4, 0x00032007);    /* remap 0x401000 -> 0x32000 */
	wr32(0x32000, 0x77777777);
	CHECK_EQ(emu_lin_read(&cpu, 0x401000, 4, &r, ACC_READ), EMU_OK);
	CHECK(r != 0x77777777);
	emu_tlb_flush_page(&cpu, 0x401000);
	CHECK_EQ(emu_lin_read(&cpu, 0x401000, 4, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0x77777777);

	/* INVLPG of one address inside a 4 MiB page drops all of that page */
	wr32(0x3000, 0x1111);
	wr32(0x403000, 0x2222);
	CHECK_EQ(emu_lin_read(&cpu, 0x3000, 4, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0x1111);
	wr32(0x20000, 0x00400083);            /* 0-4 MiB now maps physical 4-8 MiB */
	emu_tlb_flush_page(&cpu, 0x1000);
	CHECK_EQ(emu_lin_read(&cpu, 0x3000, 4, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0x2222);
}

static void test_pae_nx(void)
{
	uint64_t r;
	start(BOOT_MODE_PROT32);
	/* PDPT at 0x20000, PD at 0x21000, PT at 0x22000 */
	wr64(0x20000, 0x21001);
	wr64(0x21000, 0x000083);                          /* 0-2 MiB: 2 MiB page */
	wr64(0x21008, 0x22003);                           /* 2-4 MiB: page table */
	wr64(0x22000, 0x30003 | (1ULL << 63));            /* 0x200000: NX */
	wr64(0x22008, 0x31003);
	cpu.cr4 = X86_CR4_PAE;
	cpu.cr3 = 0x20000;
	cpu.cr0 |= X86_CR0_PG;
	emu_tlb_flush(&cpu);
	/* NX set while EFER.NXE is clear: a reserved bit, #PF(P|RSVD) */
	CHECK_EQ(emu_lin_read(&cpu, 0x200000, 8, &r, ACC_READ), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x9);
	CHECK_EQ(emu_set_efer(&cpu, X86_EFER_NXE), EMU_OK);
	CHECK_EQ(emu_lin_read(&cpu, 0x200000, 8, &r, ACC_READ), EMU_OK);
	CHECK_EQ(emu_lin_read(&cpu, 0x200000, 8, &r, ACC_FETCH), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x11);                    /* P | I/D */
	CHECK_EQ(emu_lin_read(&cpu, 0x201000, 8, &r, ACC_FETCH), EMU_OK);
	CHECK(!(rd64(0x21000) & 0x20));
	CHECK_EQ(emu_lin_read(&cpu, 0x1000, 8, &r, ACC_READ), EMU_OK);
	CHECK(rd64(0x21000) & 0x20);                      /* A on the 2 MiB PDE after use */
	CHECK(rd64(0x20000) & 0x20 ? 0 : 1);              /* PAE PDPTEs have no A bit to set */
}

static void test_long_mode_1g(void)
{
	uint64_t r = 0;
	start(BOOT_MODE_LONG64);
	/* vmon's own tables identity-map with 2 MiB pages; add a 1 GiB page
	 * at 512 GiB (PML4 slot 1) that maps physical 0 */
	wr64(0x2008, 0x23003);
	wr64(0x23000, 0x83);
	emu_tlb_flush(&cpu);
	wr64(0x5008, 0x1122334455667788ULL);
	CHECK_EQ(emu_lin_read(&cpu, (1ULL << 39) + 0x5008, 8, &r, ACC_READ), EMU_OK);
	CHECK_EQ(r, 0x1122334455667788ULL);
	/* a non-canonical address is #GP through segmentation */
	uint64_t lin;
	CHECK_EQ(emu_seg_linear(&cpu, SEG_DS, 0x0000800000000000ULL, 8, ACC_READ, &lin), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	CHECK_EQ(emu_seg_linear(&cpu, SEG_SS, 0x0000800000000000ULL, 8, ACC_READ, &lin), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_SS);
}

/* Code that rewrites the immediate of an instruction it runs next must see
 * the new bytes, also with the decoded-instruction cache. */
static void test_self_modifying(void)
{
	start(BOOT_MODE_PROT32);
	/* 0x10000: mov eax, 1 ; mov byte [0x10001], 2 ;jmp 0x10000 */
	code(0x10000, "b8 01 00 00 00"
		      " c6 05 01 00 01 00 02"
		      " eb f2");
	steps(1);
	CHECK_EQ(cpu.gpr[RAX], 1);
	steps(3);
	CHECK_EQ(cpu.gpr[RAX], 2);
}

/* A fault in the middle of an instruction leaves no flag change behind:
 * ADC to a write-protected page pushes the CF from before the ADC. */
static void test_fault_keeps_flags(void)
{
	paged32();
	/* IDT at 0x8000: #PF -> 0x11000 (an interrupt gate, code selector 0x08) */
	wr32(0x8000 + 14 * 8, (0x08u << 16) | 0x1000);
	wr32(0x8000 + 14 * 8 + 4, 0x00018e00);
	cpu.idt.base = 0x8000;
	cpu.idt.limit = 0x7ff;
	code(0x10000, "f9"                      /* stc */
		      " 83 15 10 00 40 00 ff"); /* adc dword [0x400010], -1: read-only page */
	code(0x11000, "f4");                    /* hlt */
	steps(2);
	CHECK_EQ(cpu.rip, 0x11000);
	CHECK_EQ(cpu.cr2, 0x400010);
	uint32_t sp = (uint32_t)cpu.gpr[RSP];
	CHECK_EQ(rd32(sp), 0x3);                /* error code: P | W */
	CHECK_EQ(rd32(sp + 4), 0x10001);        /* the ADC, to be restarted */
	CHECK(rd32(sp + 12) & FL_CF);           /* EFLAGS as before the ADC */
	CHECK(emu_flags_get(&cpu) & FL_CF);
}

/* The decoded-block path (emu_run): runs until the guest halts. */
static void run_blocks(void)
{
	CHECK(emu_run(&cpu, 1000) > 0);
	CHECK_EQ(cpu.state, EMU_HALTED);
}

/* Decoded blocks: a store into the running block ends it and the rewritten
 * instruction runs with its new bytes (prot32 through the generic store,
 * long64 through the fast one); bytes changed behind the CPU's back (as a
 * device would) are noticed at the next entry; a fault inside a block
 * leaves the earlier instructions done and the faulting one without
 * effect; a page-straddling load takes the slow path. */
static void test_blocks(void)
{
	start(BOOT_MODE_PROT32);
	code(0x10000, "c6 05 08 00 01 00 02" /* mov byte [0x10008], 2 */
		      " b8 01 00 00 00"      /* mov eax, 1 -> 2 */
		      " f4");                /* hlt */
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 2);
	CHECK_EQ(cpu.icount, 3);

	start(BOOT_MODE_LONG64);
	code(0x10000, "c6 04 25 09 00 01 00 02" /* mov byte [0x10009], 2 */
		      " b8 01 00 00 00"         /* mov eax, 1 -> 2 */
		      " f4");                   /* hlt */
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 2);

	start(BOOT_MODE_LONG64);
	code(0x10000, "b8 07 00 00 00 f4");     /* mov eax, 7; hlt */
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 7);
	code(0x10001, "09");                    /* mov eax, 9 */
	cpu.rip = 0x10000;
	cpu.state = EMU_RUNNING;
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 9);

	start(BOOT_MODE_LONG64);
	wr64(0x20ffc, 0x8877665544332211ULL);
	code(0x10000, "48 8b 04 25 fc 0f 02 00" /* mov rax, [0x20ffc]: straddles two pages */
		      " 48 83 c0 01"            /* add rax, 1 */
		      " f4");
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 0x8877665544332212ULL);

	paged32();
	wr32(0x8000 + 14 * 8, (0x08u << 16) | 0x1000); /* #PF -> 0x11000 */
	wr32(0x8000 + 14 * 8 + 4, 0x00018e00);
	cpu.idt.base = 0x8000;
	cpu.idt.limit = 0x7ff;
	code(0x10000, "b8 05 00 00 00"          /* mov eax, 5 */
		      " f9"                     /* stc */
		      " 83 15 10 00 40 00 ff"   /* adc dword [0x400010], -1: read-only page */
		      " b8 06 00 00 00");       /* mov eax, 6: never reached */
	code(0x11000, "f4");
	run_blocks();
	CHECK_EQ(cpu.gpr[RAX], 5);
	CHECK_EQ(cpu.cr2, 0x400010);
	uint32_t sp = (uint32_t)cpu.gpr[RSP];
	CHECK_EQ(rd32(sp + 4), 0x10006);        /* the ADC, to be restarted */
	CHECK(rd32(sp + 12) & FL_CF);           /* EFLAGS as before the ADC */
	CHECK_EQ(cpu.icount, 3);                /* mov, stc, hlt */
}

/* Segment limits and types in protected mode. */
static void test_segments(void)
{
	uint64_t v;
	start(BOOT_MODE_PROT32);
	cpu.seg[SEG_DS].limit = 0xfff;
	CHECK_EQ(emu_read(&cpu, SEG_DS, 0xffc, 4, &v), EMU_OK);
	CHECK_EQ(emu_read(&cpu, SEG_DS, 0xffd, 4, &v), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	cpu.seg[SEG_SS].limit = 0xfff;
	CHECK_EQ(emu_write(&cpu, SEG_SS, 0x1000, 1, 0), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_SS);
	/* expand-down: valid offsets are above the limit */
	cpu.seg[SEG_ES].type = 7;
	cpu.seg[SEG_ES].limit = 0xfff;
	CHECK_EQ(emu_read(&cpu, SEG_ES, 0x1000, 4, &v), EMU_OK);
	CHECK_EQ(emu_read(&cpu, SEG_ES, 0x800, 4, &v), EMU_EXC);
	/* writes to a code segment: #GP */
	CHECK_EQ(emu_write(&cpu, SEG_CS, 0x100, 4, 0), EMU_EXC);
	/* a null selector loads DS but faults on use */
	CHECK_EQ(emu_load_seg(&cpu, SEG_DS, 0), EMU_OK);
	CHECK_EQ(emu_read(&cpu, SEG_DS, 0, 4, &v), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	/* ...and SS refuses it */
	CHECK_EQ(emu_load_seg(&cpu, SEG_SS, 0), EMU_EXC);
	/* a selector past the GDT limit names itself in the error code */
	CHECK_EQ(emu_load_seg(&cpu, SEG_ES, 0x80), EMU_EXC);
	CHECK_EQ(cpu.exc.error, 0x80);
	CHECK_EQ(emu_load_seg(&cpu, SEG_ES, 0x10), EMU_OK);
	CHECK_EQ(cpu.seg[SEG_ES].limit, 0xffffffff);
}

/* One instruction at RIP through the group handler, without exception
 * delivery: returns EMU_OK or EMU_EXC with cpu.exc filled in. */
static int run1(const char *hex)
{
	struct emu_insn in;
	code(cpu.rip, hex);
	CHECK_EQ(emu_decode(gp(cpu.rip, 16), 15, cpu.code_size, &in), EMU_DEC_OK);
	cpu.next_rip = cpu.rip + in.len;
	int r;
	switch (in.mnem) {
	case M_FPU: case M_FWAIT: case M_FXSAVE: case M_FXRSTOR: case M_LDMXCSR: case M_STMXCSR:
		r = emu_x_fpu(&cpu, &in);
		break;
	case M_SGDT: case M_SIDT: case M_SLDT: case M_STR:
		r = emu_x_desc(&cpu, &in);
		break;
	case M_SMSW:
		r = emu_x_system(&cpu, &in);
		break;
	default:
		r = emu_x_sse(&cpu, &in);
		break;
	}
	if (r == EMU_OK)
		cpu.rip = cpu.next_rip;
	return r;
}

static void xmm_set(unsigned r, uint64_t lo, uint64_t hi)
{
	memcpy(cpu.fpu.xmm[r], &lo, 8);
	memcpy(cpu.fpu.xmm[r] + 8, &hi, 8);
}

static uint64_t xmm_q(unsigned r, unsigned i)
{
	uint64_t v;
	memcpy(&v, cpu.fpu.xmm[r] + 8 * i, 8);
	return v;
}

/* x87 control words, FNSAVE/FRSTOR, FXSAVE/FXRSTOR, CR0.EM/TS/MP. */
static void test_x87_state(void)
{
	start(BOOT_MODE_LONG64);
	CHECK_EQ(cpu.fpu.fcw, 0x40);
	CHECK_EQ(cpu.fpu.mxcsr, 0x1f80);
	cpu.gpr[RAX] = 0xdeadbeef;
	CHECK_EQ(run1("db e3"), EMU_OK);                    /* fninit */
	CHECK_EQ(run1("df e0"), EMU_OK);                    /* fnstsw ax */
	CHECK_EQ(cpu.gpr[RAX], 0xdead0000);
	CHECK_EQ(run1("d9 3c 25 00 00 02 00"), EMU_OK);     /* fnstcw [0x20000] */
	CHECK_EQ(rd32(0x20000) & 0xffff, 0x37f);
	wr32(0x20000, 0x27f);
	CHECK_EQ(run1("d9 2c 25 00 00 02 00"), EMU_OK);     /* fldcw [0x20000] */
	CHECK_EQ(cpu.fpu.fcw, 0x27f);
	cpu.fpu.fsw = 0x80ff;
	CHECK_EQ(run1("db e2"), EMU_OK);                    /* fnclex */
	CHECK_EQ(cpu.fpu.fsw, 0);
	CHECK_EQ(run1("d9 34 25 00 00 02 00"), EMU_OK);     /* fnstenv [0x20000]: 28 bytes */
	CHECK_EQ(rd32(0x20000), 0x27f);
	CHECK_EQ(rd32(0x20008), 0xffff);
	CHECK_EQ(cpu.fpu.fcw, 0x27f | 0x3f);                /* then all exceptions masked */

	/* FNSAVE stores ST(0)..ST(7) as 80-bit values and reinitializes;
	 * FRSTOR brings them back (TOP = 6 here) */
	cpu.fpu.fsw = 6 << 11;
	cpu.fpu.ftw = 0x0fff; /* R6, R7 valid */
	for (unsigned i = 0; i < 8; i++)
		memset(cpu.fpu.st[i], (int)(0x10 + i), 10);
	CHECK_EQ(run1("dd 34 25 00 00 02 00"), EMU_OK);     /* fnsave [0x20000] */
	CHECK_EQ(*(uint8_t *)gp(0x20000 + 28, 1), 0x16);    /* ST(0) = R6 */
	CHECK_EQ(*(uint8_t *)gp(0x20000 + 28 + 20, 1), 0x10); /* ST(2) = R0 */
	CHECK_EQ(cpu.fpu.fcw, 0x37f);
	CHECK_EQ(cpu.fpu.ftw, 0xffff);
	CHECK_EQ(run1("dd 24 25 00 00 02 00"), EMU_OK);     /* frstor [0x20000] */
	CHECK_EQ(cpu.fpu.ftw, 0x0fff);
	CHECK_EQ(cpu.fpu.st[7][9], 0x17);

	/* FXSAVE: legacy layout, XMM registers with CR4.OSFXSR; REX.W form */
	cpu.cr4 |= X86_CR4_OSFXSR;
	xmm_set(0, 0x1111, 0x2222);
	xmm_set(15, 0x3333, 0x4444);
	cpu.fpu.mxcsr = 0x1fc0;
	CHECK_EQ(run1("48 0f ae 04 25 00 10 02 00"), EMU_OK); /* fxsave64 [0x21000] */
	CHECK_EQ(rd32(0x21000), 0x27f | (6u << 11 << 16)); /* FCW as FRSTOR left it, FSW.TOP = 6 */
	CHECK_EQ(*(uint8_t *)gp(0x21004, 1), 0xc0);          /* abridged tag: R6, R7 */
	CHECK_EQ(rd32(0x21018), 0x1fc0);
	CHECK_EQ(rd32(0x2101c), 0xffff);                     /* MXCSR_MASK */
	CHECK_EQ(rd64(0x21000 + 160), 0x1111);
	CHECK_EQ(rd64(0x21000 + 160 + 15 * 16 + 8), 0x4444);
	xmm_set(0, 0, 0);
	xmm_set(15, 0, 0);
	cpu.fpu.mxcsr = 0x1f80;
	cpu.fpu.ftw = 0xffff;
	CHECK_EQ(run1("0f ae 0c 25 00 10 02 00"), EMU_OK);   /* fxrstor [0x21000] */
	CHECK_EQ(xmm_q(0, 1), 0x2222);
	CHECK_EQ(xmm_q(15, 0), 0x3333);
	CHECK_EQ(cpu.fpu.mxcsr, 0x1fc0);
	CHECK_EQ(cpu.fpu.ftw, 0xafff); /* R6/R7 hold 0x16../0x17..: J bit clear, tag "special" */
	/* misaligned area: #GP(0); reserved MXCSR bits: #GP(0) */
	CHECK_EQ(run1("0f ae 04 25 08 10 02 00"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	wr32(0x21018, 0x10000);
	CHECK_EQ(run1("0f ae 0c 25 00 10 02 00"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	wr32(0x20000, 0x10000);
	CHECK_EQ(run1("0f ae 14 25 00 00 02 00"), EMU_EXC);  /* ldmxcsr: reserved bit */
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	wr32(0x20000, 0x9fc0);
	CHECK_EQ(run1("0f ae 14 25 00 00 02 00"), EMU_OK);
	CHECK_EQ(run1("0f ae 1c 25 04 00 02 00"), EMU_OK);   /* stmxcsr [0x20004] */
	CHECK_EQ(rd32(0x20004), 0x9fc0);

	/* CR0.TS: #NM for x87 and FXSAVE; FWAIT only with MP as well */
	cpu.cr0 |= X86_CR0_TS;
	CHECK_EQ(run1("db e3"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	CHECK_EQ(run1("0f ae 04 25 00 10 02 00"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	CHECK_EQ(run1("66 0f ef c0"), EMU_EXC);              /* pxor */
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	CHECK_EQ(run1("9b"), EMU_OK);
	cpu.cr0 |= X86_CR0_MP;
	CHECK_EQ(run1("9b"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	cpu.cr0 &= ~(uint64_t)(X86_CR0_TS | X86_CR0_MP);
	/* CR0.EM: #NM for x87, #UD for SSE; no OSFXSR: #UD for SSE */
	cpu.cr0 |= X86_CR0_EM;
	CHECK_EQ(run1("db e3"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_NM);
	CHECK_EQ(run1("66 0f ef c0"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_UD);
	cpu.cr0 &= ~(uint64_t)X86_CR0_EM;
	cpu.cr4 &= ~(uint64_t)X86_CR4_OSFXSR;
	CHECK_EQ(run1("66 0f ef c0"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_UD);
	CHECK_EQ(run1("d9 d1"), EMU_EXC);                    /* reserved x87 encoding */
	CHECK_EQ(cpu.exc.vector, EXC_UD);
}

/* SSE2 moves and integer operations as gcc and libc string code use them. */
static void test_sse(void)
{
	start(BOOT_MODE_LONG64);
	cpu.cr4 |= X86_CR4_OSFXSR;
	for (unsigned i = 0; i < 32; i++)
		*(uint8_t *)gp(0x20000 + i, 1) = (uint8_t)(i + 1);
	CHECK_EQ(run1("66 0f 6f 04 25 00 00 02 00"), EMU_OK); /* movdqa xmm0, [0x20000] */
	CHECK_EQ(xmm_q(0, 0), 0x0807060504030201ULL);
	CHECK_EQ(run1("66 0f 6f 04 25 01 00 02 00"), EMU_EXC); /* misaligned: #GP(0) */
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	CHECK_EQ(run1("66 0f ef 0c 25 01 00 02 00"), EMU_EXC); /* pxor m128 must be aligned too */
	CHECK_EQ(run1("f3 0f 6f 0c 25 01 00 02 00"), EMU_OK); /* movdqu xmm1, [0x20001] */
	CHECK_EQ(xmm_q(1, 0), 0x0908070605040302ULL);
	CHECK_EQ(run1("66 0f 74 c1"), EMU_OK);               /* pcmpeqb xmm0, xmm1: no equal bytes */
	CHECK_EQ(xmm_q(0, 0), 0);
	CHECK_EQ(run1("66 0f ef d2"), EMU_OK);               /* pxor xmm2, xmm2 */
	CHECK_EQ(xmm_q(2, 0) | xmm_q(2, 1), 0);
	xmm_set(3, 0x00ff000000000000ULL, 0x8000000000000000ULL);
	CHECK_EQ(run1("66 0f 74 d3"), EMU_OK);               /* pcmpeqb xmm2, xmm3 */
	CHECK_EQ(run1("66 0f d7 c2"), EMU_OK);               /* pmovmskb eax, xmm2 */
	CHECK_EQ(cpu.gpr[RAX], 0x7fbfu);
	cpu.gpr[RCX] = 0x123456789aULL;
	CHECK_EQ(run1("66 48 0f 6e e1"), EMU_OK);            /* movq xmm4, rcx */
	CHECK_EQ(xmm_q(4, 0), 0x123456789aULL);
	CHECK_EQ(run1("66 0f 6e e1"), EMU_OK);               /* movd xmm4, ecx */
	CHECK_EQ(xmm_q(4, 0), 0x3456789aULL);
	CHECK_EQ(run1("66 0f 70 ec 00"), EMU_OK);            /* pshufd xmm5, xmm4, 0 */
	CHECK_EQ(xmm_q(5, 1), 0x3456789a3456789aULL);
	CHECK_EQ(run1("66 0f fe ed"), EMU_OK);               /* paddd xmm5, xmm5 */
	CHECK_EQ(xmm_q(5, 0), 0x68acf13468acf134ULL);
	CHECK_EQ(run1("66 0f 73 dd 04"), EMU_OK);            /* psrldq xmm5, 4 */
	CHECK_EQ(xmm_q(5, 1), 0x68acf134ULL);
	CHECK_EQ(run1("66 0f 72 f5 04"), EMU_OK);            /* pslld xmm5, 4 */
	CHECK_EQ(xmm_q(5, 1), 0x8acf1340ULL);
	CHECK_EQ(run1("66 0f 7e e8"), EMU_OK);               /* movd eax, xmm5 */
	CHECK_EQ(cpu.gpr[RAX], 0x8acf1340ULL);
	xmm_set(6, 0x0706050403020100ULL, 0);
	xmm_set(7, 0x1716151413121110ULL, 0);
	CHECK_EQ(run1("66 0f 60 f7"), EMU_OK);               /* punpcklbw xmm6, xmm7 */
	CHECK_EQ(xmm_q(6, 0), 0x1303120211011000ULL);
	CHECK_EQ(run1("f3 0f 7e c6"), EMU_OK);               /* movq xmm0, xmm6 */
	CHECK_EQ(xmm_q(0, 1), 0);
	CHECK_EQ(run1("66 0f d6 04 25 40 00 02 00"), EMU_OK); /* movq [0x20040], xmm0 */
	CHECK_EQ(rd64(0x20040), 0x1303120211011000ULL);
	CHECK_EQ(run1("0f 29 04 25 50 00 02 00"), EMU_OK);   /* movaps [0x20050], xmm0 */
	CHECK_EQ(run1("0f 57 c0"), EMU_OK);                  /* xorps xmm0, xmm0 */
	CHECK_EQ(xmm_q(0, 0), 0);
	CHECK_EQ(run1("0f 16 04 25 50 00 02 00"), EMU_OK);   /* movhps xmm0, [0x20050] */
	CHECK_EQ(xmm_q(0, 1), 0x1303120211011000ULL);
	CHECK_EQ(run1("66 0f da c6"), EMU_OK);               /* pminub xmm0, xmm6 */
	CHECK_EQ(xmm_q(0, 0), 0);
	cpu.gpr[RDX] = 0x55;
	CHECK_EQ(run1("0f c3 14 25 60 00 02 00"), EMU_OK);   /* movnti [0x20060], edx */
	CHECK_EQ(rd32(0x20060), 0x55);
	/* no mandatory prefix on a 66-only row (no MMX form): #UD */
	struct emu_insn in;
	code(cpu.rip, "0f 6d c0"); /* punpckhqdq */
	CHECK_EQ(emu_decode(gp(cpu.rip, 16), 15, 8, &in), EMU_DEC_UD);
}

/* The host CPU as oracle: every two-operand 66 0F xx packed-integer row
 * (xmm0 op= xmm1) runs natively and under the emulator on the same random
 * inputs; shift counts are kept small half of the time so they matter. */
#define NATIVE_OP(op)                                                                      \
	static void native_##op(uint8_t *a, const uint8_t *b)                               \
	{                                                                                   \
		__asm__ volatile("movdqu (%0), %%xmm0\n movdqu (%1), %%xmm1\n"               \
				 ".byte 0x66, 0x0f, 0x" #op ", 0xc1\n movdqu %%xmm0, (%0)"     \
				 : : "r"(a), "r"(b) : "xmm0", "xmm1", "memory");            \
	}
NATIVE_OP(60)
NATIVE_OP(61)
NATIVE_OP(62)
NATIVE_OP(63)
NATIVE_OP(64)
NATIVE_OP(65)
NATIVE_OP(66)
NATIVE_OP(67)
NATIVE_OP(68)
NATIVE_OP(69)
NATIVE_OP(6a)
NATIVE_OP(6b)
NATIVE_OP(6c)
NATIVE_OP(6d)
NATIVE_OP(74)
NATIVE_OP(75)
NATIVE_OP(76)
NATIVE_OP(d1)
NATIVE_OP(d2)
NATIVE_OP(d3)
NATIVE_OP(d4)
NATIVE_OP(d5)
NATIVE_OP(d8)
NATIVE_OP(d9)
NATIVE_OP(da)
NATIVE_OP(db)
NATIVE_OP(dc)
NATIVE_OP(dd)
NATIVE_OP(de)
NATIVE_OP(df)
NATIVE_OP(e0)
NATIVE_OP(e1)
NATIVE_OP(e2)
NATIVE_OP(e3)
NATIVE_OP(e4)
NATIVE_OP(e5)
NATIVE_OP(e8)
NATIVE_OP(e9)
NATIVE_OP(ea)
NATIVE_OP(eb)
NATIVE_OP(ec)
NATIVE_OP(ed)
NATIVE_OP(ee)
NATIVE_OP(ef)
NATIVE_OP(f1)
NATIVE_OP(f2)
NATIVE_OP(f3)
NATIVE_OP(f4)
NATIVE_OP(f5)
NATIVE_OP(f6)
NATIVE_OP(f8)
NATIVE_OP(f9)
NATIVE_OP(fa)
NATIVE_OP(fb)
NATIVE_OP(fc)
NATIVE_OP(fd)
NATIVE_OP(fe)

static void test_sse_native(void)
{
	static const struct {
		uint8_t op;
		void (*fn)(uint8_t *, const uint8_t *);
	} ops[] = { { 0x60, native_60 }, { 0x61, native_61 }, { 0x62, native_62 }, { 0x63, native_63 },
		    { 0x64, native_64 }, { 0x65, native_65 }, { 0x66, native_66 }, { 0x67, native_67 },
		    { 0x68, native_68 }, { 0x69, native_69 }, { 0x6a, native_6a }, { 0x6b, native_6b },
		    { 0x6c, native_6c }, { 0x6d, native_6d }, { 0x74, native_74 }, { 0x75, native_75 },
		    { 0x76, native_76 }, { 0xd1, native_d1 }, { 0xd2, native_d2 }, { 0xd3, native_d3 },
		    { 0xd4, native_d4 }, { 0xd5, native_d5 }, { 0xd8, native_d8 }, { 0xd9, native_d9 },
		    { 0xda, native_da }, { 0xdb, native_db }, { 0xdc, native_dc }, { 0xdd, native_dd },
		    { 0xde, native_de }, { 0xdf, native_df }, { 0xe0, native_e0 }, { 0xe1, native_e1 },
		    { 0xe2, native_e2 }, { 0xe3, native_e3 }, { 0xe4, native_e4 }, { 0xe5, native_e5 },
		    { 0xe8, native_e8 }, { 0xe9, native_e9 }, { 0xea, native_ea }, { 0xeb, native_eb },
		    { 0xec, native_ec }, { 0xed, native_ed }, { 0xee, native_ee }, { 0xef, native_ef },
		    { 0xf1, native_f1 }, { 0xf2, native_f2 }, { 0xf3, native_f3 }, { 0xf4, native_f4 },
		    { 0xf5, native_f5 }, { 0xf6, native_f6 }, { 0xf8, native_f8 }, { 0xf9, native_f9 },
		    { 0xfa, native_fa }, { 0xfb, native_fb }, { 0xfc, native_fc }, { 0xfd, native_fd },
		    { 0xfe, native_fe } };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	start(BOOT_MODE_LONG64);
	cpu.cr4 |= X86_CR4_OSFXSR;
	for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		char hex[16];
		snprintf(hex, sizeof(hex), "66 0f %02x c1", ops[k].op);
		for (unsigned t = 0; t < 64; t++) {
			uint8_t a[16], b[16];
			for (unsigned i = 0; i < 16; i++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				a[i] = (uint8_t)(seed >> 56);
				b[i] = (uint8_t)(seed >> 48);
			}
			if (t & 1) { /* a shift count below 70 in the low quadword */
				memset(b + 1, 0, 7);
				b[0] %= 70;
			}
			memcpy(cpu.fpu.xmm[0], a, 16);
			memcpy(cpu.fpu.xmm[1], b, 16);
			ops[k].fn(a, b);
			cpu.rip = 0x10000;
			CHECK_EQ(run1(hex), EMU_OK);
			if (memcmp(cpu.fpu.xmm[0], a, 16) != 0) {
				fprintf(stderr, "66 0f %02x: emulated result differs from the host's\n", ops[k].op);
				CHECK(0);
				break;
			}
		}
	}
}

/* Immediate, mask-extracting and partial-move forms against the host CPU:
 * xmm0 and eax after the instruction, from random xmm0/xmm1 and ecx. */
#define NATIVE_BYTES(n, bytes)                                                             \
	static uint32_t native_b##n(uint8_t *a, const uint8_t *b, uint32_t c)               \
	{                                                                                   \
		uint32_t r = 0;                                                             \
		__asm__ volatile("movdqu (%1), %%xmm0\n movdqu (%2), %%xmm1\n"               \
				 ".byte " bytes "\n movdqu %%xmm0, (%1)"                    \
				 : "+a"(r) : "r"(a), "r"(b), "c"(c) : "xmm0", "xmm1", "memory"); \
		return r;                                                                   \
	}
NATIVE_BYTES(0, "0x66, 0x0f, 0x70, 0xc1, 0x1b")
NATIVE_BYTES(1, "0x66, 0x0f, 0x70, 0xc1, 0xe4")
NATIVE_BYTES(2, "0xf2, 0x0f, 0x70, 0xc1, 0x39")
NATIVE_BYTES(3, "0xf3, 0x0f, 0x70, 0xc1, 0x93")
NATIVE_BYTES(4, "0x0f, 0xc6, 0xc1, 0x4e")
NATIVE_BYTES(5, "0x0f, 0xc6, 0xc1, 0xb1")
NATIVE_BYTES(6, "0x66, 0x0f, 0xc6, 0xc1, 0x02")
NATIVE_BYTES(7, "0x66, 0x0f, 0xc6, 0xc1, 0x01")
NATIVE_BYTES(8, "0x66, 0x0f, 0x71, 0xd0, 0x03")
NATIVE_BYTES(9, "0x66, 0x0f, 0x71, 0xe0, 0x0f")
NATIVE_BYTES(10, "0x66, 0x0f, 0x71, 0xf0, 0x11")
NATIVE_BYTES(11, "0x66, 0x0f, 0x72, 0xd0, 0x07")
NATIVE_BYTES(12, "0x66, 0x0f, 0x72, 0xe0, 0x1f")
NATIVE_BYTES(13, "0x66, 0x0f, 0x72, 0xf0, 0x20")
NATIVE_BYTES(14, "0x66, 0x0f, 0x73, 0xd0, 0x3f")
NATIVE_BYTES(15, "0x66, 0x0f, 0x73, 0xd8, 0x05")
NATIVE_BYTES(16, "0x66, 0x0f, 0x73, 0xf0, 0x01")
NATIVE_BYTES(17, "0x66, 0x0f, 0x73, 0xf8, 0x0f")
NATIVE_BYTES(18, "0x66, 0x0f, 0x73, 0xd8, 0x11")
NATIVE_BYTES(19, "0x0f, 0x50, 0xc1")
NATIVE_BYTES(20, "0x66, 0x0f, 0x50, 0xc1")
NATIVE_BYTES(21, "0x66, 0x0f, 0xd7, 0xc1")
NATIVE_BYTES(22, "0x66, 0x0f, 0xc5, 0xc1, 0x05")
NATIVE_BYTES(23, "0x66, 0x0f, 0xc4, 0xc1, 0x06")
NATIVE_BYTES(24, "0x0f, 0x12, 0xc1")
NATIVE_BYTES(25, "0x0f, 0x16, 0xc1")
NATIVE_BYTES(26, "0xf3, 0x0f, 0x10, 0xc1")
NATIVE_BYTES(27, "0xf2, 0x0f, 0x10, 0xc1")
NATIVE_BYTES(28, "0xf3, 0x0f, 0x7e, 0xc1")
NATIVE_BYTES(29, "0x66, 0x0f, 0xd6, 0xc8")
NATIVE_BYTES(30, "0x0f, 0x14, 0xc1")
NATIVE_BYTES(31, "0x0f, 0x15, 0xc1")
NATIVE_BYTES(32, "0x66, 0x0f, 0x14, 0xc1")
NATIVE_BYTES(33, "0x0f, 0x55, 0xc1")

static void test_sse_native_imm(void)
{
	static const struct {
		const char *hex;
		uint32_t (*fn)(uint8_t *, const uint8_t *, uint32_t);
	} ops[] = { { "66 0f 70 c1 1b", native_b0 },
		    { "66 0f 70 c1 e4", native_b1 },
		    { "f2 0f 70 c1 39", native_b2 },
		    { "f3 0f 70 c1 93", native_b3 },
		    { "0f c6 c1 4e", native_b4 },
		    { "0f c6 c1 b1", native_b5 },
		    { "66 0f c6 c1 02", native_b6 },
		    { "66 0f c6 c1 01", native_b7 },
		    { "66 0f 71 d0 03", native_b8 },
		    { "66 0f 71 e0 0f", native_b9 },
		    { "66 0f 71 f0 11", native_b10 },
		    { "66 0f 72 d0 07", native_b11 },
		    { "66 0f 72 e0 1f", native_b12 },
		    { "66 0f 72 f0 20", native_b13 },
		    { "66 0f 73 d0 3f", native_b14 },
		    { "66 0f 73 d8 05", native_b15 },
		    { "66 0f 73 f0 01", native_b16 },
		    { "66 0f 73 f8 0f", native_b17 },
		    { "66 0f 73 d8 11", native_b18 },
		    { "0f 50 c1", native_b19 },
		    { "66 0f 50 c1", native_b20 },
		    { "66 0f d7 c1", native_b21 },
		    { "66 0f c5 c1 05", native_b22 },
		    { "66 0f c4 c1 06", native_b23 },
		    { "0f 12 c1", native_b24 },
		    { "0f 16 c1", native_b25 },
		    { "f3 0f 10 c1", native_b26 },
		    { "f2 0f 10 c1", native_b27 },
		    { "f3 0f 7e c1", native_b28 },
		    { "66 0f d6 c8", native_b29 },
		    { "0f 14 c1", native_b30 },
		    { "0f 15 c1", native_b31 },
		    { "66 0f 14 c1", native_b32 },
		    { "0f 55 c1", native_b33 } };
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	start(BOOT_MODE_LONG64);
	cpu.cr4 |= X86_CR4_OSFXSR;
	for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		for (unsigned t = 0; t < 16; t++) {
			uint8_t a[16], b[16];
			for (unsigned i = 0; i < 16; i++) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				a[i] = (uint8_t)(seed >> 56);
				b[i] = (uint8_t)(seed >> 48);
			}
			uint32_t c = (uint32_t)(seed >> 13);
			memcpy(cpu.fpu.xmm[0], a, 16);
			memcpy(cpu.fpu.xmm[1], b, 16);
			cpu.gpr[RAX] = 0;
			cpu.gpr[RCX] = c;
			uint32_t r = ops[k].fn(a, b, c);
			cpu.rip = 0x10000;
			CHECK_EQ(run1(ops[k].hex), EMU_OK);
			if (memcmp(cpu.fpu.xmm[0], a, 16) != 0 || cpu.gpr[RAX] != r) {
				fprintf(stderr, "%s: emulated result differs from the host's\n", ops[k].hex);
				CHECK(0);
				break;
			}
		}
	}
}

/* (U)COMISS/(U)COMISD against the host: EFLAGS and MXCSR, with NaNs,
 * denormals, infinities and zeros mixed in, with and without DAZ (all
 * exceptions masked). */
#define NATIVE_COMIS(n, bytes)                                                             \
	static uint64_t native_c##n(const uint8_t *a, const uint8_t *b, uint32_t *mx)       \
	{                                                                                   \
		uint32_t save, ax = 0;                                                      \
		uint8_t of;                                                                 \
		/* LAHF/SETO, not PUSHF: a push would land in the red zone */              \
		__asm__ volatile("stmxcsr %2\n ldmxcsr (%3)\n movdqu (%4), %%xmm0\n"         \
				 "movdqu (%5), %%xmm1\n .byte " bytes "\n lahf\n seto %1\n"    \
				 "stmxcsr (%3)\n ldmxcsr %2"                                \
				 : "+a"(ax), "=&q"(of), "=m"(save) : "r"(mx), "r"(a), "r"(b)    \
				 : "xmm0", "xmm1", "memory", "cc");                          \
		return ((ax >> 8) & 0xff) | (uint64_t)of << 11;                             \
	}
NATIVE_COMIS(0, "0x0f, 0x2e, 0xc1")
NATIVE_COMIS(1, "0x66, 0x0f, 0x2e, 0xc1")
NATIVE_COMIS(2, "0x0f, 0x2f, 0xc1")
NATIVE_COMIS(3, "0x66, 0x0f, 0x2f, 0xc1")

static void special_float(uint8_t *p, uint64_t r, bool dbl)
{
	unsigned ebits = dbl ? 11 : 8, mbits = dbl ? 52 : 23;
	uint64_t emax = (1ULL << ebits) - 1, v = r & (dbl ? ~0ULL : 0xffffffffULL);
	uint64_t sign = v & (1ULL << (ebits + mbits)), mant = v & ((1ULL << mbits) - 1);
	switch ((r >> 60) & 7) {
	case 0: v = sign | mant; break;                                        /* denormal or zero */
	case 1: v = sign | (emax << mbits) | mant; break;                      /* NaN or infinity */
	case 2: v = sign | (emax << mbits) | (mant & (1ULL << (mbits - 1))); break; /* QNaN/inf */
	case 3: v = sign; break;                                               /* +-0 */
	default: break;
	}
	memcpy(p, &v, dbl ? 8 : 4);
}

static uint64_t rd64x(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static void test_comis_native(void)
{
	static const struct {
		const char *hex;
		bool dbl;
		uint64_t (*fn)(const uint8_t *, const uint8_t *, uint32_t *);
	} ops[] = { { "0f 2e c1", false, native_c0 }, { "66 0f 2e c1", true, native_c1 },
		    { "0f 2f c1", false, native_c2 }, { "66 0f 2f c1", true, native_c3 } };
	uint64_t seed = 0x853c49e6748fea9bULL;
	start(BOOT_MODE_LONG64);
	cpu.cr4 |= X86_CR4_OSFXSR;
	for (unsigned k = 0; k < 4; k++) {
		for (unsigned t = 0; t < 400; t++) {
			uint8_t a[16] = { 0 }, b[16] = { 0 };
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			special_float(a, seed, ops[k].dbl);
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			special_float(b, (t & 3) == 0 ? 0x4000000000000000ULL | (seed & 0xffffffff) : seed, ops[k].dbl);
			if ((t & 7) == 1)
				memcpy(b, a, 8);
			uint32_t mx = (t & 1) ? 0x1fc0 : 0x1f80;
			cpu.fpu.mxcsr = mx;
			uint64_t fl = ops[k].fn(a, b, &mx);
			memcpy(cpu.fpu.xmm[0], a, 16);
			memcpy(cpu.fpu.xmm[1], b, 16);
			cpu.rip = 0x10000;
			CHECK_EQ(run1(ops[k].hex), EMU_OK);
			uint64_t mine = emu_flags_get(&cpu) & FL_ARITH;
			if (mine != (fl & FL_ARITH) || cpu.fpu.mxcsr != mx) {
				fprintf(stderr, "%s %llx %llx: flags %llx mxcsr %x, host %llx %x\n", ops[k].hex, (unsigned long long)rd64x(a), (unsigned long long)rd64x(b),
					(unsigned long long)mine, cpu.fpu.mxcsr, (unsigned long long)(fl & FL_ARITH), mx);
				CHECK(0);
				break;
			}
		}
	}
	/* an unmasked invalid operation: #XM with OSXMMEXCPT, #UD without */
	uint32_t snan = 0x7f800001;
	memcpy(cpu.fpu.xmm[0], &snan, 4);
	cpu.fpu.mxcsr = 0x1f00;
	CHECK_EQ(run1("0f 2e c1"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_UD);
	CHECK_EQ(cpu.fpu.mxcsr, 0x1f01);
	cpu.cr4 |= EMU_CR4_OSXMMEXCPT;
	CHECK_EQ(run1("0f 2e c1"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_XM);
}

/* SSE/SSE2 floating-point arithmetic, compares and conversions against the
 * host: xmm0 op= xmm1 (or rcx / into rax), result, RAX and MXCSR bit-exact,
 * with NaNs, infinities, zeros, denormals and huge values, every rounding
 * mode, DAZ/FTZ on and off (all exceptions masked). */
#define NATIVE_FP(n, bytes)                                                                \
	static void native_fp##n(uint8_t *a, const uint8_t *b, uint64_t *rax, uint64_t rcx, uint32_t *mx) \
	{                                                                                   \
		uint32_t save;                                                              \
		__asm__ volatile("stmxcsr %1\n ldmxcsr (%3)\n movdqu (%4), %%xmm0\n"          \
				 "movdqu (%5), %%xmm1\n .byte " bytes "\n movdqu %%xmm0, (%4)\n" \
				 "stmxcsr (%3)\n ldmxcsr %1"                                   \
				 : "+a"(*rax), "=m"(save), "+c"(rcx) : "r"(mx), "r"(a), "r"(b)  \
				 : "xmm0", "xmm1", "memory");                                \
	}
NATIVE_FP(0, "0x0f, 0x51, 0xc1")
NATIVE_FP(1, "0x66, 0x0f, 0x51, 0xc1")
NATIVE_FP(2, "0xf3, 0x0f, 0x51, 0xc1")
NATIVE_FP(3, "0xf2, 0x0f, 0x51, 0xc1")
NATIVE_FP(4, "0x0f, 0x58, 0xc1")
NATIVE_FP(5, "0x66, 0x0f, 0x58, 0xc1")
NATIVE_FP(6, "0xf3, 0x0f, 0x58, 0xc1")
NATIVE_FP(7, "0xf2, 0x0f, 0x58, 0xc1")
NATIVE_FP(8, "0x0f, 0x59, 0xc1")
NATIVE_FP(9, "0x66, 0x0f, 0x59, 0xc1")
NATIVE_FP(10, "0xf3, 0x0f, 0x59, 0xc1")
NATIVE_FP(11, "0xf2, 0x0f, 0x59, 0xc1")
NATIVE_FP(12, "0x0f, 0x5c, 0xc1")
NATIVE_FP(13, "0x66, 0x0f, 0x5c, 0xc1")
NATIVE_FP(14, "0xf3, 0x0f, 0x5c, 0xc1")
NATIVE_FP(15, "0xf2, 0x0f, 0x5c, 0xc1")
NATIVE_FP(16, "0x0f, 0x5d, 0xc1")
NATIVE_FP(17, "0x66, 0x0f, 0x5d, 0xc1")
NATIVE_FP(18, "0xf3, 0x0f, 0x5d, 0xc1")
NATIVE_FP(19, "0xf2, 0x0f, 0x5d, 0xc1")
NATIVE_FP(20, "0x0f, 0x5e, 0xc1")
NATIVE_FP(21, "0x66, 0x0f, 0x5e, 0xc1")
NATIVE_FP(22, "0xf3, 0x0f, 0x5e, 0xc1")
NATIVE_FP(23, "0xf2, 0x0f, 0x5e, 0xc1")
NATIVE_FP(24, "0x0f, 0x5f, 0xc1")
NATIVE_FP(25, "0x66, 0x0f, 0x5f, 0xc1")
NATIVE_FP(26, "0xf3, 0x0f, 0x5f, 0xc1")
NATIVE_FP(27, "0xf2, 0x0f, 0x5f, 0xc1")
NATIVE_FP(28, "0x0f, 0x5a, 0xc1")
NATIVE_FP(29, "0x66, 0x0f, 0x5a, 0xc1")
NATIVE_FP(30, "0xf3, 0x0f, 0x5a, 0xc1")
NATIVE_FP(31, "0xf2, 0x0f, 0x5a, 0xc1")
NATIVE_FP(32, "0x0f, 0x5b, 0xc1")
NATIVE_FP(33, "0x66, 0x0f, 0x5b, 0xc1")
NATIVE_FP(34, "0xf3, 0x0f, 0x5b, 0xc1")
NATIVE_FP(35, "0x66, 0x0f, 0xe6, 0xc1")
NATIVE_FP(36, "0xf3, 0x0f, 0xe6, 0xc1")
NATIVE_FP(37, "0xf2, 0x0f, 0xe6, 0xc1")
NATIVE_FP(38, "0x0f, 0xc2, 0xc1, 0x00")
NATIVE_FP(39, "0x0f, 0xc2, 0xc1, 0x01")
NATIVE_FP(40, "0x0f, 0xc2, 0xc1, 0x02")
NATIVE_FP(41, "0x0f, 0xc2, 0xc1, 0x03")
NATIVE_FP(42, "0x0f, 0xc2, 0xc1, 0x04")
NATIVE_FP(43, "0x0f, 0xc2, 0xc1, 0x05")
NATIVE_FP(44, "0x0f, 0xc2, 0xc1, 0x06")
NATIVE_FP(45, "0x0f, 0xc2, 0xc1, 0x07")
NATIVE_FP(46, "0x66, 0x0f, 0xc2, 0xc1, 0x00")
NATIVE_FP(47, "0x66, 0x0f, 0xc2, 0xc1, 0x01")
NATIVE_FP(48, "0x66, 0x0f, 0xc2, 0xc1, 0x02")
NATIVE_FP(49, "0x66, 0x0f, 0xc2, 0xc1, 0x03")
NATIVE_FP(50, "0x66, 0x0f, 0xc2, 0xc1, 0x04")
NATIVE_FP(51, "0x66, 0x0f, 0xc2, 0xc1, 0x05")
NATIVE_FP(52, "0x66, 0x0f, 0xc2, 0xc1, 0x06")
NATIVE_FP(53, "0x66, 0x0f, 0xc2, 0xc1, 0x07")
NATIVE_FP(54, "0xf3, 0x0f, 0xc2, 0xc1, 0x00")
NATIVE_FP(55, "0xf3, 0x0f, 0xc2, 0xc1, 0x01")
NATIVE_FP(56, "0xf3, 0x0f, 0xc2, 0xc1, 0x02")
NATIVE_FP(57, "0xf3, 0x0f, 0xc2, 0xc1, 0x03")
NATIVE_FP(58, "0xf3, 0x0f, 0xc2, 0xc1, 0x04")
NATIVE_FP(59, "0xf3, 0x0f, 0xc2, 0xc1, 0x05")
NATIVE_FP(60, "0xf3, 0x0f, 0xc2, 0xc1, 0x06")
NATIVE_FP(61, "0xf3, 0x0f, 0xc2, 0xc1, 0x07")
NATIVE_FP(62, "0xf2, 0x0f, 0xc2, 0xc1, 0x00")
NATIVE_FP(63, "0xf2, 0x0f, 0xc2, 0xc1, 0x01")
NATIVE_FP(64, "0xf2, 0x0f, 0xc2, 0xc1, 0x02")
NATIVE_FP(65, "0xf2, 0x0f, 0xc2, 0xc1, 0x03")
NATIVE_FP(66, "0xf2, 0x0f, 0xc2, 0xc1, 0x04")
NATIVE_FP(67, "0xf2, 0x0f, 0xc2, 0xc1, 0x05")
NATIVE_FP(68, "0xf2, 0x0f, 0xc2, 0xc1, 0x06")
NATIVE_FP(69, "0xf2, 0x0f, 0xc2, 0xc1, 0x07")
NATIVE_FP(70, "0xf3, 0x0f, 0x2a, 0xc1")
NATIVE_FP(71, "0xf3, 0x0f, 0x2c, 0xc1")
NATIVE_FP(72, "0xf3, 0x0f, 0x2d, 0xc1")
NATIVE_FP(73, "0xf3, 0x48, 0x0f, 0x2a, 0xc1")
NATIVE_FP(74, "0xf3, 0x48, 0x0f, 0x2c, 0xc1")
NATIVE_FP(75, "0xf3, 0x48, 0x0f, 0x2d, 0xc1")
NATIVE_FP(76, "0xf2, 0x0f, 0x2a, 0xc1")
NATIVE_FP(77, "0xf2, 0x0f, 0x2c, 0xc1")
NATIVE_FP(78, "0xf2, 0x0f, 0x2d, 0xc1")
NATIVE_FP(79, "0xf2, 0x48, 0x0f, 0x2a, 0xc1")
NATIVE_FP(80, "0xf2, 0x48, 0x0f, 0x2c, 0xc1")
NATIVE_FP(81, "0xf2, 0x48, 0x0f, 0x2d, 0xc1")

static void test_sse_fp_native(void)
{
	static const struct {
		const char *hex;
		void (*fn)(uint8_t *, const uint8_t *, uint64_t *, uint64_t, uint32_t *);
	} ops[] = {
		{ "0f 51 c1", native_fp0 },
		{ "66 0f 51 c1", native_fp1 },
		{ "f3 0f 51 c1", native_fp2 },
		{ "f2 0f 51 c1", native_fp3 },
		{ "0f 58 c1", native_fp4 },
		{ "66 0f 58 c1", native_fp5 },
		{ "f3 0f 58 c1", native_fp6 },
		{ "f2 0f 58 c1", native_fp7 },
		{ "0f 59 c1", native_fp8 },
		{ "66 0f 59 c1", native_fp9 },
		{ "f3 0f 59 c1", native_fp10 },
		{ "f2 0f 59 c1", native_fp11 },
		{ "0f 5c c1", native_fp12 },
		{ "66 0f 5c c1", native_fp13 },
		{ "f3 0f 5c c1", native_fp14 },
		{ "f2 0f 5c c1", native_fp15 },
		{ "0f 5d c1", native_fp16 },
		{ "66 0f 5d c1", native_fp17 },
		{ "f3 0f 5d c1", native_fp18 },
		{ "f2 0f 5d c1", native_fp19 },
		{ "0f 5e c1", native_fp20 },
		{ "66 0f 5e c1", native_fp21 },
		{ "f3 0f 5e c1", native_fp22 },
		{ "f2 0f 5e c1", native_fp23 },
		{ "0f 5f c1", native_fp24 },
		{ "66 0f 5f c1", native_fp25 },
		{ "f3 0f 5f c1", native_fp26 },
		{ "f2 0f 5f c1", native_fp27 },
		{ "0f 5a c1", native_fp28 },
		{ "66 0f 5a c1", native_fp29 },
		{ "f3 0f 5a c1", native_fp30 },
		{ "f2 0f 5a c1", native_fp31 },
		{ "0f 5b c1", native_fp32 },
		{ "66 0f 5b c1", native_fp33 },
		{ "f3 0f 5b c1", native_fp34 },
		{ "66 0f e6 c1", native_fp35 },
		{ "f3 0f e6 c1", native_fp36 },
		{ "f2 0f e6 c1", native_fp37 },
		{ "0f c2 c1 00", native_fp38 },
		{ "0f c2 c1 01", native_fp39 },
		{ "0f c2 c1 02", native_fp40 },
		{ "0f c2 c1 03", native_fp41 },
		{ "0f c2 c1 04", native_fp42 },
		{ "0f c2 c1 05", native_fp43 },
		{ "0f c2 c1 06", native_fp44 },
		{ "0f c2 c1 07", native_fp45 },
		{ "66 0f c2 c1 00", native_fp46 },
		{ "66 0f c2 c1 01", native_fp47 },
		{ "66 0f c2 c1 02", native_fp48 },
		{ "66 0f c2 c1 03", native_fp49 },
		{ "66 0f c2 c1 04", native_fp50 },
		{ "66 0f c2 c1 05", native_fp51 },
		{ "66 0f c2 c1 06", native_fp52 },
		{ "66 0f c2 c1 07", native_fp53 },
		{ "f3 0f c2 c1 00", native_fp54 },
		{ "f3 0f c2 c1 01", native_fp55 },
		{ "f3 0f c2 c1 02", native_fp56 },
		{ "f3 0f c2 c1 03", native_fp57 },
		{ "f3 0f c2 c1 04", native_fp58 },
		{ "f3 0f c2 c1 05", native_fp59 },
		{ "f3 0f c2 c1 06", native_fp60 },
		{ "f3 0f c2 c1 07", native_fp61 },
		{ "f2 0f c2 c1 00", native_fp62 },
		{ "f2 0f c2 c1 01", native_fp63 },
		{ "f2 0f c2 c1 02", native_fp64 },
		{ "f2 0f c2 c1 03", native_fp65 },
		{ "f2 0f c2 c1 04", native_fp66 },
		{ "f2 0f c2 c1 05", native_fp67 },
		{ "f2 0f c2 c1 06", native_fp68 },
		{ "f2 0f c2 c1 07", native_fp69 },
		{ "f3 0f 2a c1", native_fp70 },
		{ "f3 0f 2c c1", native_fp71 },
		{ "f3 0f 2d c1", native_fp72 },
		{ "f3 48 0f 2a c1", native_fp73 },
		{ "f3 48 0f 2c c1", native_fp74 },
		{ "f3 48 0f 2d c1", native_fp75 },
		{ "f2 0f 2a c1", native_fp76 },
		{ "f2 0f 2c c1", native_fp77 },
		{ "f2 0f 2d c1", native_fp78 },
		{ "f2 48 0f 2a c1", native_fp79 },
		{ "f2 48 0f 2c c1", native_fp80 },
		{ "f2 48 0f 2d c1", native_fp81 },
	};
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	start(BOOT_MODE_LONG64);
	cpu.cr4 |= X86_CR4_OSFXSR;
	for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		for (unsigned t = 0; t < 600; t++) {
			uint8_t a[16], b[16], a0[16];
			bool dbl = t & 1;
			for (unsigned i = 0; i < 16; i += dbl ? 8 : 4) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				special_float(a + i, seed, dbl);
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				special_float(b + i, (t & 6) == 2 ? 0x4000000000000000ULL | (seed >> 34) : seed, dbl);
				if ((t & 15) == 3)
					memcpy(b + i, a + i, dbl ? 8 : 4);
			}
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t rcx = (t & 2) ? seed : (uint64_t)(int64_t)(int16_t)seed, rax = seed ^ 0x5555aaaa5555aaaaULL;
			uint64_t rax0 = rax;
			uint32_t mx = 0x1f80 | (uint32_t)((t >> 2) & 3) << 13 | ((t & 16) ? 0x8040 : 0) | ((t & 32) ? 0x21 : 0);
			cpu.fpu.mxcsr = mx;
			memcpy(a0, a, 16);
			memcpy(cpu.fpu.xmm[0], a, 16);
			memcpy(cpu.fpu.xmm[1], b, 16);
			cpu.gpr[0] = rax;
			cpu.gpr[1] = rcx;
			ops[k].fn(a, b, &rax, rcx, &mx);
			cpu.rip = 0x10000;
			CHECK_EQ(run1(ops[k].hex), EMU_OK);
			if (memcmp(cpu.fpu.xmm[0], a, 16) || cpu.gpr[0] != rax || cpu.fpu.mxcsr != mx) {
				fprintf(stderr, "%s a %016llx:%016llx b %016llx:%016llx rcx %llx rax %llx: "
					"got %016llx:%016llx rax %llx mxcsr %x, host %016llx:%016llx rax %llx mxcsr %x\n",
					ops[k].hex, (unsigned long long)rd64x(a0 + 8), (unsigned long long)rd64x(a0),
					(unsigned long long)rd64x(b + 8), (unsigned long long)rd64x(b),
					(unsigned long long)rcx, (unsigned long long)rax0,
					(unsigned long long)xmm_q(0, 1), (unsigned long long)xmm_q(0, 0),
					(unsigned long long)cpu.gpr[0], cpu.fpu.mxcsr, (unsigned long long)rd64x(a + 8),
					(unsigned long long)rd64x(a), (unsigned long long)rax, mx);
				CHECK(0);
				break;
			}
		}
	}
	/* memory operands: addsd xmm0, [0x20000] reads 8 bytes, keeps xmm0's high half */
	double x = 1.5, y = 2.25, r;
	uint64_t bits;
	memcpy(&bits, &x, 8);
	xmm_set(0, bits, 0x1122334455667788ULL);
	memcpy(&bits, &y, 8);
	wr64(0x20000, bits);
	wr64(0x20008, 0xdeadbeefdeadbeefULL);
	cpu.fpu.mxcsr = 0x1f80;
	CHECK_EQ(run1("f2 0f 58 04 25 00 00 02 00"), EMU_OK);
	bits = xmm_q(0, 0);
	memcpy(&r, &bits, 8);
	CHECK(r == 3.75);
	CHECK_EQ(xmm_q(0, 1), 0x1122334455667788ULL);
	/* cvttsd2si rax, [0x20000]; cvtsi2sd xmm0, dword [0x20000] */
	CHECK_EQ(run1("f2 48 0f 2c 04 25 00 00 02 00"), EMU_OK);
	CHECK_EQ(cpu.gpr[0], 2);
	wr32(0x20000, (uint32_t)-7);
	CHECK_EQ(run1("f2 0f 2a 04 25 00 00 02 00"), EMU_OK);
	bits = xmm_q(0, 0);
	memcpy(&r, &bits, 8);
	CHECK(r == -7.0);
	/* a packed memory operand must be 16-byte aligned */
	CHECK_EQ(run1("66 0f 58 04 25 08 00 02 00"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_GP);
	/* an unmasked divide-by-zero: flag set, destination kept, #UD then #XM */
	x = 1.0;
	memcpy(&bits, &x, 8);
	xmm_set(0, bits, 0);
	xmm_set(1, 0, 0);
	cpu.fpu.mxcsr = 0x1f80 & ~(1u << 9);
	cpu.cr4 &= ~(uint64_t)EMU_CR4_OSXMMEXCPT;
	CHECK_EQ(run1("f2 0f 5e c1"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_UD);
	CHECK_EQ(cpu.fpu.mxcsr, (0x1f80 & ~(1u << 9)) | 4);
	CHECK_EQ(xmm_q(0, 0), bits);
	cpu.cr4 |= EMU_CR4_OSXMMEXCPT;
	CHECK_EQ(run1("f2 0f 5e c1"), EMU_EXC);
	CHECK_EQ(cpu.exc.vector, EXC_XM);
	cpu.cr4 &= ~(uint64_t)EMU_CR4_OSXMMEXCPT;
}

/* CR4.UMIP: SGDT/SIDT/SLDT/SMSW/STR #GP(0) at CPL 3, allowed at CPL 0. */
static void test_umip(void)
{
	start(BOOT_MODE_LONG64);
	CHECK_EQ(emu_set_cr(&cpu, 4, cpu.cr4 | X86_CR4_UMIP), EMU_OK);
	CHECK_EQ(run1("0f 01 04 25 00 00 02 00"), EMU_OK);   /* sgdt at CPL 0 */
	cpu.cpl = 3;
	static const char *const insns[] = { "0f 01 04 25 00 00 02 00", "0f 01 0c 25 00 00 02 00",
					     "0f 00 c0", "0f 01 e0", "0f 00 c8" };
	for (unsigned i = 0; i < 5; i++) {
		CHECK_EQ(run1(insns[i]), EMU_EXC);
		CHECK_EQ(cpu.exc.vector, EXC_GP);
		CHECK_EQ(cpu.exc.error, 0);
	}
	cpu.cpl = 0;
}

/* IRETQ to CPL 3 nulls the selectors of the DPL-0 data segments but keeps
 * their bases (SDM vol. 2 IRET, return to outer privilege level: only
 * "SegmentSelector <- 0"): in 64-bit mode GS's base still applies. */
static void test_iret_outer_keeps_bases(void)
{
	start(BOOT_MODE_LONG64);
	/* GDT at 0x7000: 0x08 kernel code, 0x10 kernel data, 0x18 user code
	 * (64-bit), 0x20 user data */
	wr64(0x7000, 0);
	wr64(0x7008, 0x00af9b000000ffffULL);
	wr64(0x7010, 0x00cf93000000ffffULL);
	wr64(0x7018, 0x00affb000000ffffULL);
	wr64(0x7020, 0x00cff3000000ffffULL);
	cpu.gdt.base = 0x7000;
	cpu.gdt.limit = 0x27;
	struct x86_segment kd = { .selector = 0x10, .limit = 0xffffffff, .type = 3, .s = 1, .present = 1,
				  .db = 1, .g = 1 };
	cpu.seg[SEG_DS] = kd;
	cpu.seg[SEG_GS] = kd;
	cpu.seg[SEG_GS].base = 0x12340000;
	cpu.seg[SEG_FS] = kd;
	cpu.seg[SEG_FS].base = 0x5000;
	/* IRETQ frame: RIP, CS, RFLAGS, RSP, SS */
	cpu.gpr[RSP] = 0x9000;
	wr64(0x9000, 0x10100);
	wr64(0x9008, 0x1b);
	wr64(0x9010, 0x2);
	wr64(0x9018, 0x8000);
	wr64(0x9020, 0x23);
	code(0x10000, "48 cf"); /* iretq */
	steps(1);
	CHECK_EQ(cpu.cpl, 3);
	CHECK_EQ(cpu.rip, 0x10100);
	CHECK_EQ(cpu.seg[SEG_GS].selector, 0);
	CHECK(cpu.seg[SEG_GS].unusable);
	CHECK_EQ(cpu.seg[SEG_GS].base, 0x12340000);
	CHECK_EQ(cpu.seg[SEG_FS].base, 0x5000);
	CHECK_EQ(cpu.seg[SEG_DS].selector, 0);
	/* a GS-relative address at CPL 3 uses the kept base */
	uint64_t lin = 0;
	CHECK_EQ(emu_seg_linear(&cpu, SEG_GS, 8, 8, ACC_READ, &lin), EMU_OK);
	CHECK_EQ(lin, 0x12340008);
}

/* Trap-class #DBs at odd instructions (SDM vol. 3 §17.3.1; vol. 2 HLT,
 * INT n): single-step over HLT takes the #DB at once and leaves the halt;
 * ICEBP delivers its own #DB without DR6.BS and no single-step #DB follows
 * it, and a data breakpoint held by MOV SS is reported in that same #DB. */
static void test_single_step_events(void)
{
	start(BOOT_MODE_LONG64);
	/* IDT at 0x8000: #DB -> 0x11000, a 64-bit interrupt gate */
	uint16_t cs = cpu.seg[SEG_CS].selector;
	wr64(0x8010, 0x1000 | ((uint64_t)cs << 16) | (0x8eULL << 40) | (0x1ULL << 48));
	wr64(0x8018, 0);
	cpu.idt.base = 0x8000;
	cpu.idt.limit = 0xfff;
	code(0x11000, "90 90");

	code(0x10000, "f4"); /* hlt with TF (and IF clear: no interrupt could wake it) */
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2 | FL_TF;
	cpu.dr[6] = EMU_DR6_FIXED;
	steps(1);
	CHECK_EQ(cpu.state, EMU_RUNNING);
	CHECK_EQ(cpu.rip, 0x11000);
	CHECK_EQ(rd64(cpu.gpr[RSP]), 0x10001);
	CHECK(cpu.dr[6] & EMU_DR6_BS);

	code(0x10000, "f1"); /* icebp with TF */
	cpu.rip = 0x10000;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2 | FL_TF;
	cpu.dr[6] = EMU_DR6_FIXED;
	steps(1);
	CHECK_EQ(cpu.rip, 0x11000);
	CHECK_EQ(rd64(cpu.gpr[RSP]), 0x10001);
	CHECK_EQ(cpu.dr[6], EMU_DR6_FIXED); /* no BS */
	CHECK_EQ(cpu.rflags & FL_TF, 0);
	steps(1);
	CHECK_EQ(cpu.rip, 0x11001); /* the handler runs: no second #DB */

	/* after MOV SS with a data breakpoint hit (held): ICEBP reports it */
	cpu.rip = 0x10000;
	cpu.gpr[RSP] = 0x9000;
	cpu.rflags = 0x2;
	cpu.dr[6] = EMU_DR6_FIXED;
	cpu.db_pending = 0x2;
	cpu.db_hold = true;
	steps(1);
	CHECK_EQ(cpu.rip, 0x11000);
	CHECK_EQ(cpu.dr[6], EMU_DR6_FIXED | 0x2);
	CHECK_EQ(cpu.db_pending, 0);
	uint64_t sp = cpu.gpr[RSP];
	steps(1);
	CHECK_EQ(cpu.rip, 0x11001);
	CHECK_EQ(cpu.gpr[RSP], sp);
}

int main(void)
{
	if (unit_vm_init(&vm, 64 << 20) < 0)
		return 1;
	cpu.icache = calloc(EMU_ICACHE_SIZE, sizeof(*cpu.icache));
	cpu.bcache = emu_bcache_new();
	if (!cpu.bcache)
		return 1;

	test_real_mode();
	test_paging32();
	test_pae_nx();
	test_long_mode_1g();
	test_self_modifying();
	test_fault_keeps_flags();
	test_blocks();
	test_segments();
	test_x87_state();
	test_sse();
	test_umip();
	test_sse_native();
	test_sse_native_imm();
	test_comis_native();
	test_sse_fp_native();
	test_iret_outer_keeps_bases();
	test_single_step_events();

	free(cpu.icache);
	emu_bcache_free(cpu.bcache);
	unit_vm_destroy(&vm);
	return unit_report("emu_exec");
}
