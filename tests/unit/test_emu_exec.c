/* The software CPU below the engine: instructions stepped on one vCPU over
 * real guest memory (16- and 32-bit specifics the 64-bit differential test
 * cannot reach), and the soft MMU: 32-bit, PAE and 4-level walks, U/S, R/W,
 * CR0.WP and NX checks with their #PF error codes and CR2, accessed/dirty
 * updates, TLB invalidation, page-straddling accesses, and self-modifying
 * code through the decoded-instruction cache. */
#include <signal.h>
#include <stdlib.h>

#include "boot/x86_setup.h"
#include "cpu/emu/emu.h"
#include "unit.h"
#include "vm.h"

static struct vm vm;
static struct emu_cpu cpu;

static void *gp(uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&vm.mem, gpa, len);
	if (!p) {
		fprintf(stderr, "gpa %#llx not RAM\n", (unsigned long long)gpa);
		exit(1);
	}
	return p;
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
	memset(&cpu, 0, sizeof(cpu));
	cpu.vm = &vm;
	cpu.icache = ic;
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

int main(void)
{
	/* a crash report would signal the main thread: keep that signal blocked */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VM_STOP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	vm.main_thread = pthread_self();
	pthread_mutex_init(&vm.stop_lock, NULL);
	io_bus_init(&vm.bus);
	if (guest_mem_init(&vm.mem, 64 << 20) < 0)
		return 1;
	cpu.icache = calloc(EMU_ICACHE_SIZE, sizeof(*cpu.icache));

	test_real_mode();
	test_paging32();
	test_pae_nx();
	test_long_mode_1g();
	test_self_modifying();
	test_fault_keeps_flags();
	test_segments();

	free(cpu.icache);
	guest_mem_destroy(&vm.mem);
	io_bus_destroy(&vm.bus);
	return unit_report("emu_exec");
}
