/* ACPI tables: signatures, lengths, checksums, pointers, the MADT's
 * entries, the HPET table, the DSDT's bytes (\_S5, the \_SB devices and
 * their resource templates); and the AML encoder. Expected bytes are
 * assembled by hand from ACPI 6.5 §6.4 and §20. */
#include "boot/acpi.h"
#include "boot/aml.h"
#include "dev/hpet.h"
#include "unit.h"

static uint32_t r32(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }

static uint8_t buf[ACPI_AREA_SIZE];

/* Decodes a PkgLength (§20.2.4) at p: the package length, *n its bytes. */
static size_t pkglength(const uint8_t *p, size_t *n)
{
	*n = 1 + (p[0] >> 6);
	if (*n == 1)
		return p[0] & 0x3f;
	size_t v = p[0] & 0xf;
	for (size_t i = 1; i < *n; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

/* Device(COM1){ Name(_HID, EisaId("PNP0501")) Name(_UID, 1) Name(_CRS,
 * ResourceTemplate(){ IO(Decode16, 0x3F8, 0x3F8, 1, 8) IRQNoFlags(){4} }) } */
static const uint8_t dev_com1[] = {
	0x5b, 0x82, 0x2b, 'C', 'O', 'M', '1',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01,
	0x08, '_', 'U', 'I', 'D', 0x01,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00,
};
/* Device(KBD_): PNP0303, IO 0x60 and 0x64 (1 byte each), IRQ 1. */
static const uint8_t dev_kbd[] = {
	0x5b, 0x82, 0x33, 'K', 'B', 'D', '_',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x03, 0x03,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x18, 0x0a, 0x15,
	0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
	0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00,
};
/* Device(MOU_): PNP0F13, IRQ 12. */
static const uint8_t dev_mou[] = {
	0x5b, 0x82, 0x23, 'M', 'O', 'U', '_',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0f, 0x13,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x08, 0x0a, 0x05, 0x22, 0x00, 0x10, 0x79, 0x00,
};
/* Device(RTC_): PNP0B00, IO 0x70 (2 bytes), IRQ 8. */
static const uint8_t dev_rtc[] = {
	0x5b, 0x82, 0x2b, 'R', 'T', 'C', '_',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00,
};
/* Device(HPET): PNP0103, Memory32Fixed(ReadWrite, 0xFED00000, 0x400). */
static const uint8_t dev_hpet[] = {
	0x5b, 0x82, 0x2c, 'H', 'P', 'E', 'T',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x01, 0x03,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e,
	0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe, 0x00, 0x04, 0x00, 0x00, 0x79, 0x00,
};
/* Device(FWCF): _HID "QEMU0002", IO 0x510 (12 bytes). */
static const uint8_t dev_fwcf[] = {
	0x5b, 0x82, 0x2d, 'F', 'W', 'C', 'F',
	0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '2', 0x00,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x0d, 0x0a, 0x0a,
	0x47, 0x01, 0x10, 0x05, 0x10, 0x05, 0x01, 0x0c, 0x79, 0x00,
};
static const struct { const uint8_t *bytes; size_t len; } devices[] = {
	{ dev_com1, sizeof(dev_com1) }, { dev_kbd, sizeof(dev_kbd) }, { dev_mou, sizeof(dev_mou) },
	{ dev_rtc, sizeof(dev_rtc) }, { dev_hpet, sizeof(dev_hpet) }, { dev_fwcf, sizeof(dev_fwcf) },
};

static const uint8_t *table_at(uint64_t gpa) { return buf + (gpa - ACPI_BASE); }

static void check_table(const uint8_t *t, const char *sig)
{
	CHECK(memcmp(t, sig, 4) == 0);
	CHECK_EQ(acpi_checksum(t, r32(t + 4)), 0);
}

static void check_dsdt(const uint8_t *dsdt, const struct acpi_config *cfg)
{
	/* \_S5 first: Name(_S5_, Package(){5, 5, 0, 0}). */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	uint32_t len = r32(dsdt + 4);
	CHECK(memcmp(dsdt + 36, s5, sizeof(s5)) == 0);
	/* Then Scope(\_SB_){ devices } up to the end of the table. */
	const uint8_t *sc = dsdt + 36 + sizeof(s5);
	CHECK_EQ(sc[0], 0x10);
	size_t n, plen = pkglength(sc + 1, &n);
	CHECK_EQ(1 + plen, (size_t)(dsdt + len - sc));
	CHECK(memcmp(sc + 1 + n, "\\_SB_", 5) == 0);
	const uint8_t *p = sc + 1 + n + 5, *end = sc + 1 + plen;
	/* The scope holds exactly the present devices, in this order. */
	const int present[] = { cfg->has_com1, cfg->has_i8042, cfg->has_i8042, cfg->has_rtc,
				cfg->hpet_id != 0, cfg->has_fw_cfg };
	for (unsigned i = 0; i < 6; i++) {
		if (!present[i]) {
			CHECK(!find(dsdt, len, devices[i].bytes + 3, 4)); /* its name is absent */
			continue;
		}
		CHECK(p + devices[i].len <= end);
		if (p + devices[i].len > end)
			return;
		CHECK(memcmp(p, devices[i].bytes, devices[i].len) == 0);
		p += devices[i].len;
	}
	CHECK(p == end);
}

int main(void)
{
	for (unsigned ncpus = 1; ncpus <= 4; ncpus += 3) {
		/* ncpus 1: every device; 4: none of the optional ones. */
		int all = ncpus == 1;
		struct acpi_config cfg = { .ncpus = ncpus, .has_com1 = all, .has_i8042 = all, .has_rtc = all,
					   .has_fw_cfg = all, .hpet_id = all ? 0x8086a201 : 0, .hpet_base = HPET_BASE };
		size_t rsdp_off = 99;
		size_t used = acpi_build(buf, sizeof(buf), ACPI_BASE, &cfg, &rsdp_off);
		CHECK(used > 0 && used < 4096);
		CHECK_EQ(rsdp_off % 16, 0);
		const uint8_t *r = buf + rsdp_off;
		CHECK(memcmp(r, "RSD PTR ", 8) == 0);
		CHECK_EQ(acpi_checksum(r, 20), 0);
		CHECK_EQ(acpi_checksum(r, 36), 0);
		CHECK_EQ(r[15], 2);
		CHECK_EQ(r32(r + 20), 36);

		const uint8_t *xsdt = table_at(r64(r + 24));
		const uint8_t *rsdt = table_at(r32(r + 16));
		check_table(xsdt, "XSDT");
		check_table(rsdt, "RSDT");
		unsigned ntables = all ? 3 : 2;
		CHECK_EQ(r32(xsdt + 4), 36 + 8 * ntables);
		CHECK_EQ(r32(rsdt + 4), 36 + 4 * ntables);
		for (unsigned i = 0; i < ntables; i++)
			CHECK_EQ(r32(rsdt + 36 + 4 * i), r64(xsdt + 36 + 8 * i));
		const uint8_t *fadt = table_at(r64(xsdt + 36));
		const uint8_t *madt = table_at(r64(xsdt + 44));
		check_table(fadt, "FACP");
		check_table(madt, "APIC");

		/* FADT: length of revision 6, DSDT and FACS pointers, PM ports. */
		CHECK_EQ(r32(fadt + 4), 276);
		CHECK_EQ(fadt[8], 6);
		const uint8_t *dsdt = table_at(r64(fadt + 140));
		CHECK_EQ(r32(fadt + 40), r64(fadt + 140));
		check_table(dsdt, "DSDT");
		/* One FACS reference (§5.2.9 table 5.9): FIRMWARE_CTRL, and
		 * X_FIRMWARE_CTRL zero. */
		const uint8_t *facs = table_at(r32(fadt + 36));
		CHECK(memcmp(facs, "FACS", 4) == 0);
		CHECK_EQ(r32(fadt + 36) % 64, 0);
		CHECK_EQ(r64(fadt + 132), 0);
		CHECK_EQ(r32(fadt + 46) & 0xffff, 9);
		CHECK_EQ(r32(fadt + 64), ACPI_PM1A_CNT_PORT);
		CHECK_EQ(r32(fadt + 76), ACPI_PM_TMR_PORT);
		CHECK_EQ(fadt[91], 4);
		CHECK_EQ(fadt[116], 1);                /* RESET_REG in I/O space */
		CHECK_EQ(r64(fadt + 120), ACPI_RESET_PORT);
		CHECK_EQ(fadt[128], ACPI_RESET_VALUE);
		CHECK_EQ(r32(fadt + 112) & (1u << 10), 1u << 10);
		/* IAPC_BOOT_ARCH (§5.2.9.3): LEGACY_DEVICES, and 8042 only with one. */
		CHECK_EQ(fadt[109] | fadt[110] << 8, all ? 3 : 1);

		check_dsdt(dsdt, &cfg);

		/* HPET table (HPET spec §3.2.4): 56 bytes, the block id, the base
		 * in system memory, sequence 0, 4 KiB page protection. */
		if (all) {
			const uint8_t *hpet = table_at(r64(xsdt + 52));
			check_table(hpet, "HPET");
			CHECK_EQ(r32(hpet + 4), 56);
			CHECK_EQ(hpet[8], 1);
			CHECK_EQ(r32(hpet + 36), 0x8086a201);
			CHECK_EQ(hpet[40], 0);             /* GAS: system memory */
			CHECK_EQ(r64(hpet + 44), HPET_BASE);
			CHECK_EQ(hpet[52], 0);
			CHECK_EQ(hpet[53] | hpet[54] << 8, HPET_MIN_TICK);
			CHECK_EQ(hpet[55], 1);
		}

		/* MADT: one enabled local APIC per CPU with ids 0..n-1, then the
		 * IOAPIC, two overrides and the LINT1 NMI. */
		CHECK_EQ(r32(madt + 36), LAPIC_BASE);
		uint32_t len = r32(madt + 4);
		const uint8_t *e = madt + 44;
		unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
		while (e < madt + len) {
			CHECK(e[1] >= 2);
			if (e[1] < 2)
				break;
			switch (e[0]) {
			case 0: CHECK_EQ(e[3], lapics); CHECK_EQ(r32(e + 4), 1); lapics++; break;
			case 1: CHECK_EQ(r32(e + 4), IOAPIC_BASE); ioapics++; break;
			case 2: isos++; if (e[3] == 0) CHECK_EQ(r32(e + 4), 2); break;
			case 4: nmis++; break;
			}
			e += e[1];
		}
		CHECK(e == madt + len);
		CHECK_EQ(lapics, ncpus);
		CHECK_EQ(ioapics, 1);
		CHECK_EQ(isos, 2);
		CHECK_EQ(nmis, 1);
	}
	/* Too little room is refused, not overrun. */
	struct acpi_config cfg = { .ncpus = 64 };
	size_t off;
	CHECK_EQ(acpi_build(buf, 200, ACPI_BASE, &cfg, &off), 0);

	/* PkgLength (ACPI §20.2.4): one byte up to 63, then 2-4 bytes. */
	uint8_t out[8];
	struct aml_buf a;
	aml_init(&a, out, sizeof(out));
	aml_pkglength(&a, 10);
	CHECK_EQ(a.len, 1);
	CHECK_EQ(out[0], 11);
	aml_init(&a, out, sizeof(out));
	aml_pkglength(&a, 100); /* total 102 = 0x66: 0x46 0x06 */
	CHECK_EQ(a.len, 2);
	CHECK_EQ(out[0], 0x46);
	CHECK_EQ(out[1], 0x06);
	aml_init(&a, out, sizeof(out));
	aml_pkglength(&a, 0x12345); /* total 0x12348: 3 bytes, 0x88 0x34 0x12 */
	CHECK_EQ(a.len, 3);
	CHECK_EQ(out[0], 0x88);
	CHECK_EQ(out[1], 0x34);
	CHECK_EQ(out[2], 0x12);
	aml_init(&a, out, 2);
	aml_integer(&a, 0x12345678);
	CHECK(a.overflow);

	/* EisaId (ASL EISAID): the ids every ACPI table compiler agrees on. */
	CHECK_EQ(aml_eisaid("PNP0A03"), 0x030ad041);
	CHECK_EQ(aml_eisaid("PNP0501"), 0x0105d041);
	CHECK_EQ(aml_eisaid("PNP0103"), 0x0301d041);

	/* aml_end: a body past 63 bytes gets a 2-byte PkgLength, moved in
	 * front of it intact; no room for it is an overflow. */
	uint8_t big[128];
	aml_init(&a, big, sizeof(big));
	size_t mark = aml_device(&a, "ABCD");
	for (int i = 0; i < 70; i++)
		aml_byte(&a, (uint8_t)i);
	aml_end(&a, mark);
	CHECK(!a.overflow);
	CHECK_EQ(a.len, 2 + 2 + 4 + 70);
	CHECK_EQ(big[2], 0x40 | ((4 + 70 + 2) & 0xf));
	CHECK_EQ(big[3], (4 + 70 + 2) >> 4);
	CHECK(memcmp(big + 4, "ABCD", 4) == 0);
	CHECK_EQ(big[8], 0);
	CHECK_EQ(big[8 + 69], 69);
	aml_init(&a, big, 2 + 4 + 70);
	mark = aml_device(&a, "ABCD");
	for (int i = 0; i < 70; i++)
		aml_byte(&a, (uint8_t)i);
	CHECK(!a.overflow);
	aml_end(&a, mark);
	CHECK(a.overflow);

	/* A Scope NameString with the root prefix. */
	aml_init(&a, big, sizeof(big));
	mark = aml_scope(&a, "\\_SB_");
	aml_end(&a, mark);
	static const uint8_t sb[] = { 0x10, 0x06, '\\', '_', 'S', 'B', '_' };
	CHECK_EQ(a.len, sizeof(sb));
	CHECK(memcmp(big, sb, sizeof(sb)) == 0);
	return unit_report("acpi");
}
