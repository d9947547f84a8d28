/* The software CPU's CPUID model, leaf by leaf and bit by bit against the
 * table at the top of src/cpu/emu/cpuid.c, on machines of 1 to 5 vCPUs (the
 * topology leaves follow --cpus): each value below is written from that
 * table and the SDM's field layouts, not read back from the code. */
#include <stdlib.h>

#include "boot/acpi.h"
#include "cpu/emu/emu.h"
#include "cpu/engine.h"
#include "unit.h"
#include "unit_vm.h"
#include "vm.h"
#include "vm_config.h"

static struct vm vm;
static void cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct emu_insn in = { .mnem = M_CPUID };
	c->gpr[RAX] = leaf;
	c->gpr[RCX] = sub;
	c->gpr[RBX] = c->gpr[RDX] = 0xdeadbeefdeadbeefULL;
	CHECK_EQ(emu_x_cpuid(c, &in), EMU_OK);
	for (int i = 0; i < 4; i++)
		r[i] = (uint32_t)c->gpr[(int[]){ RAX, RBX, RCX, RDX }[i]];
	CHECK_EQ(c->gpr[RBX] >> 32, 0); /* 32-bit results zero-extend */
}

static void expect(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t a, uint32_t b, uint32_t cc,
		   uint32_t d)
{
	uint32_t r[4];
	cpuid(c, leaf, sub, r);
	if (r[0] != a || r[1] != b || r[2] != cc || r[3] != d)
		fprintf(stderr, "vCPU %u leaf %#x.%u: %08x %08x %08x %08x, expected %08x %08x %08x %08x\n",
			c->index, leaf, sub, r[0], r[1], r[2], r[3], a, b, cc, d);
	CHECK_EQ(r[0], a);
	CHECK_EQ(r[1], b);
	CHECK_EQ(r[2], cc);
	CHECK_EQ(r[3], d);
}

static uint32_t str4(const char *s)
{
	uint32_t v;
	memcpy(&v, s, 4);
	return v;
}

/* Leaf 4 (SDM vol. 2A table 3-8): type, level, self-initialising, sharing
 * and core counts in EAX; ways, partitions and line size in EBX; sets in ECX. */
static void expect_cache(struct emu_cpu *c, unsigned sub, unsigned type, unsigned level, unsigned kib,
			 unsigned ways, unsigned share_ids, unsigned core_ids)
{
	uint32_t r[4];
	cpuid(c, 4, sub, r);
	CHECK_EQ(r[0] & 0x1f, type);
	CHECK_EQ((r[0] >> 5) & 7, level);
	CHECK_EQ((r[0] >> 8) & 1, 1);
	CHECK_EQ((r[0] >> 14) & 0xfff, share_ids - 1);
	CHECK_EQ(r[0] >> 26, core_ids - 1);
	unsigned line = (r[1] & 0xfff) + 1, parts = ((r[1] >> 12) & 0x3ff) + 1, w = (r[1] >> 22) + 1;
	CHECK_EQ(line, 64);
	CHECK_EQ(parts, 1);
	CHECK_EQ(w, ways);
	CHECK_EQ((uint64_t)w * parts * line * (r[2] + 1), (uint64_t)kib * 1024);
	CHECK_EQ(r[3], 0);
}

static void check_cpu(struct emu_cpu *c, unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	unsigned id = c->index;

	/* leaf 0: highest basic leaf 0x16, "GenuineIntel" in EBX EDX ECX */
	expect(c, 0, 0, 0x16, str4("Genu"), str4("ntel"), str4("ineI"));
	/* leaf 1: family 6 model 0x10 stepping 1 (family [11:8], model [7:4],
	 * extended model [19:16]) */
	uint32_t edx1 = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
			(1u << 9) | (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) |
			(1u << 16) | (1u << 19) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26) |
			(n > 1 ? 1u << 28 : 0);
	expect(c, 1, 0, 0x00010601, (id << 24) | ((1u << s) << 16) | (8u << 8),
	       (1u << 13) | (1u << 21) | (1u << 23) | (1u << 24) | (1u << 31), edx1);
	/* not advertised: VME PSE36 PSN SS TM PBE; SSE3 and up, VMX, MONITOR, XSAVE,
	 * AVX, RDRAND */
	uint32_t r[4];
	cpuid(c, 1, 0, r);
	CHECK_EQ(r[3] & ((1u << 1) | (1u << 17) | (1u << 18) | (1u << 27) |
			 (1u << 29) | (1u << 31)), 0);
	CHECK_EQ(r[2] & ((1u << 0) | (1u << 3) | (1u << 5) | (1u << 9) |
			 (1u << 26) | (1u << 28) | (1u << 30)), 0);
	expect(c, 2, 0, 0x0000ff01, 0, 0, 0);
	expect(c, 3, 0, 0, 0, 0, 0);
	expect_cache(c, 0, 1, 1, 32, 8, 1, 1u << s);
	expect_cache(c, 1, 2, 1, 32, 8, 1, 1u << s);
	expect_cache(c, 2, 3, 2, 1024, 16, 1, 1u << s);
	expect_cache(c, 3, 3, 3, 8192, 16, 1u << s, 1u << s);
	expect(c, 4, 4, 0, 0, 0, 0);
	expect(c, 5, 0, 0, 0, 0, 0);
	expect(c, 6, 0, 1u << 2, 0, 0, 0);
	/* leaf 7: TSC_ADJUST SMEP SMAP; UMIP PKU PKS (OSPKE only with CR4.PKE); ARCH_CAPABILITIES */
	expect(c, 7, 0, 0, (1u << 1) | (1u << 7) | (1u << 20), (1u << 2) | (1u << 3) | (1u << 31), 1u << 29);
	c->cr4 |= EMU_CR4_PKE;
	expect(c, 7, 0, 0, (1u << 1) | (1u << 7) | (1u << 20), (1u << 2) | (1u << 3) | (1u << 4) | (1u << 31), 1u << 29);
	c->cr4 &= ~EMU_CR4_PKE;
	expect(c, 7, 1, 0, 0, 0, 0);
	expect(c, 0xa, 0, 0, 0, 0, 0);
	expect(c, 0xd, 0, 0, 0, 0, 0);
	/* leaf 0xb: SMT level (type 1) 1 thread, core level (type 2) n, shift s */
	expect(c, 0xb, 0, 0, 1, 0x100, id);
	expect(c, 0xb, 1, s, n, 0x201, id);
	expect(c, 0xb, 2, 0, 0, 2, id);
	/* leaf 0x15: 100 MHz crystal x 10 / 1 = a 1 GHz TSC */
	expect(c, 0x15, 0, 1, 10, 100000000, 0);
	expect(c, 0x16, 0, 1000, 1000, 100, 0);
	/* past the highest basic or extended leaf: the highest basic leaf's data */
	expect(c, 0x17, 0, 1000, 1000, 100, 0);
	expect(c, 0x3fffffff, 0, 1000, 1000, 100, 0);
	expect(c, 0x80000009, 0, 1000, 1000, 100, 0);
	expect(c, 0xffffffff, 0, 1000, 1000, 100, 0);
	/* hypervisor leaves */
	expect(c, 0x40000000, 0, 0x40000010, str4("Vmon"), str4("Vmon"), str4("Vmon"));
	expect(c, 0x40000001, 0, 0, 0, 0, 0);
	expect(c, 0x40000010, 0, 1000000, 100000, 0, 0);
	expect(c, 0x40000011, 0, 0, 0, 0, 0);
	/* extended leaves */
	expect(c, 0x80000000, 0, 0x80000008, 0, 0, 0);
	expect(c, 0x80000001, 0, 0, 0, 1u << 0, (1u << 11) | (1u << 20) | (1u << 27) | (1u << 29));
	char brand[49] = { 0 };
	for (unsigned i = 0; i < 3; i++) {
		cpuid(c, 0x80000002 + i, 0, r);
		memcpy(brand + 16 * i, r, 16);
	}
	CHECK(strcmp(brand, "vmon software CPU") == 0);
	CHECK_EQ(brand[47], 0);
	expect(c, 0x80000005, 0, 0, 0, 0, 0);
	/* L2: 1024 KiB [31:16], 16-way = code 8 [15:12], 64-byte lines [7:0] */
	expect(c, 0x80000006, 0, 0, 0, (1024u << 16) | (8u << 12) | 64, 0);
	expect(c, 0x80000007, 0, 0, 0, 0, 1u << 8);
	expect(c, 0x80000008, 0, 40 | (48 << 8), 0, 0, 0);
}

int main(void)
{
	/* a fresh machine for each count: destroy does not give back the
	 * devices' bus ranges */
	for (unsigned n = 1; n <= 5; n++) {
		static struct vm_config cfg;
		memset(&vm, 0, sizeof(vm));
		if (unit_vm_init(&vm, 16 << 20) < 0)
			return 1;
		cfg.cpus = n;
		vm.cfg = &cfg;
		vm.boot_state.apic_base = 0xfee00900; /* enabled, BSP */
		CHECK_EQ(emu_engine.create(&vm), 0);
		struct emu_machine *m = vm.engine_data;
		CHECK_EQ(emu_machine_ncpus(m), n);
		/* The I/O APIC's ID register (index 0, bits 27:24) holds the ID the
		 * MADT gives it: the vCPU count (boot/acpi.c). */
		uint64_t sel = 0, id = 0;
		CHECK(io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE, 4, true, &sel));
		CHECK(io_bus_access(&vm.bus, IO_SPACE_MMIO, IOAPIC_BASE + 0x10, 4, false, &id));
		CHECK_EQ((id >> 24) & 0xf, n);
		for (unsigned i = 0; i < n; i++)
			check_cpu(emu_machine_cpu(m, i), n);
		emu_engine.destroy(&vm);
		unit_vm_destroy(&vm);
	}

	/* a vCPU alone (no machine) is one core */
	static struct emu_cpu c;
	c.apic_base = 0xfee00900;
	emu_msr_reset(&c);
	check_cpu(&c, 1);
	/* IA32_APIC_BASE[11] clear: CPUID.1:EDX.APIC reads 0 */
	uint32_t r[4];
	c.apic_base = 0xfee00100;
	cpuid(&c, 1, 0, r);
	CHECK_EQ(r[3] & (1u << 9), 0);
	/* IA32_MISC_ENABLE[22] (limit CPUID maxval): leaf 0 says 2 */
	c.msr.misc_enable |= 1ULL << 22;
	cpuid(&c, 0, 0, r);
	CHECK_EQ(r[0], 2);

	return unit_report("emu_cpuid");
}
