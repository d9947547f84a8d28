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
/* Device(PCI0)'s head: _HID EisaId("PNP0A08"), _CID EisaId("PNP0A03"),
 * _UID, _SEG, _BBN 0; and its _CRS (ACPI 6.5 §6.4.3.5, by hand): */
static const uint8_t pci0_head[] = {
	'P', 'C', 'I', '0',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08,
	0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'S', 'E', 'G', 0x00,
	0x08, '_', 'B', 'B', 'N', 0x00,
	/* Name(_CRS, Buffer(130){...}): PkgLength 134 in two bytes. */
	0x08, '_', 'C', 'R', 'S', 0x11, 0x46, 0x08, 0x0a, 0x82,
	/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1) */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
	/* IO(Decode16, 0xCF8, 0xCF8, 1, 8) */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* WordIO(..., EntireRange, 0, 0x0000, 0x0CF7, 0, 0x0CF8) */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x00, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c,
	/* WordIO(..., EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300) */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3,
	/* DWordMemory(..., NonCacheable, ReadWrite, 0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000) */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
	0, 0, 0, 0, 0x00, 0x00, 0x00, 0x20,
	/* QWordMemory(..., 0, 0x4000000000, 0x7FFFFFFFFF, 0, 0x4000000000) */
	0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
	0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
	0x79, 0x00,
	/* Name(_PRT, Package(124){...}) */
	0x08, '_', 'P', 'R', 'T', 0x12,
};
/* Device(MRES): PNP0C02, Memory32Fixed(ReadWrite, 0xE0000000, 0x100000). */
static const uint8_t dev_mres[] = {
	0x5b, 0x82, 0x2c, 'M', 'R', 'E', 'S',
	0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x02,
	0x08, '_', 'U', 'I', 'D', 0x00,
	0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e,
	0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x10, 0x00, 0x79, 0x00,
};

/* An AML integer at *p (Zero, One, BytePrefix, WordPrefix, DWordPrefix);
 * advances *p. */
static uint64_t integer(const uint8_t **p)
{
	const uint8_t *q = *p;
	uint64_t v;
	switch (q[0]) {
	case 0x00: v = 0; *p += 1; break;
	case 0x01: v = 1; *p += 1; break;
	case 0x0a: v = q[1]; *p += 2; break;
	case 0x0b: v = (uint64_t)(q[1] | q[2] << 8); *p += 3; break;
	case 0x0c: v = r32(q + 1); *p += 5; break;
	default: v = ~0ULL; *p += 1; break;
	}
	return v;
}

/* Scope(\_SB_){ Device(PCI0){...} Device(MRES){...} } at sc; returns its end. */
static const uint8_t *check_pci_scope(const uint8_t *sc)
{
	CHECK_EQ(sc[0], 0x10);
	size_t n, plen = pkglength(sc + 1, &n);
	const uint8_t *end = sc + 1 + plen;
	CHECK(memcmp(sc + 1 + n, "\\_SB_", 5) == 0);
	const uint8_t *d = sc + 1 + n + 5;
	CHECK(d[0] == 0x5b && d[1] == 0x82);
	size_t dn, dlen = pkglength(d + 2, &dn);
	const uint8_t *dend = d + 2 + dlen, *p = d + 2 + dn;
	CHECK(memcmp(p, pci0_head, sizeof(pci0_head)) == 0);
	p += sizeof(pci0_head);
	/* _PRT (§6.2.13): 124 packages { 0xSSSSFFFF, pin, Zero, GSI } for
	 * slots 1-31, pins 0-3 (INTA-INTD), GSI 16 + (slot + pin) mod 4. */
	size_t pn, prtlen = pkglength(p, &pn);
	const uint8_t *prtend = p + prtlen;
	p += pn;
	CHECK_EQ(*p++, 124);
	unsigned entries = 0, bad = 0;
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			if (p >= prtend || p[0] != 0x12) {
				bad++;
				break;
			}
			size_t en, elen = pkglength(p + 1, &en);
			const uint8_t *q = p + 1 + en, *eend = p + 1 + elen;
			bad += *q++ != 4;
			bad += integer(&q) != ((uint64_t)slot << 16 | 0xffff);
			bad += integer(&q) != pin;
			bad += integer(&q) != 0;
			bad += integer(&q) != 16 + (slot + pin) % 4;
			bad += q != eend;
			p = eend;
			entries++;
		}
	}
	CHECK_EQ(entries, 124);
	CHECK_EQ(bad, 0);
	CHECK(p == prtend);
	CHECK(prtend == dend);
	/* Slot 1 INTA is GSI 17 (0x11): the first entry, byte for byte. */
	static const uint8_t first[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x11 };
	const uint8_t *prt = d + 2 + dn + sizeof(pci0_head);
	CHECK(memcmp(prt + pn + 1, first, sizeof(first)) == 0);
	CHECK(memcmp(dend, dev_mres, sizeof(dev_mres)) == 0);
	CHECK(dend + sizeof(dev_mres) == end);
	return end;
}

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
	/* Then the PCI root bridge's scope, if any, */
	const uint8_t *sc = dsdt + 36 + sizeof(s5);
	if (cfg->has_pci)
		sc = check_pci_scope(sc);
	else
		CHECK(!find(dsdt, len, (const uint8_t *)"PCI0", 4));
	/* and Scope(\_SB_){ devices } up to the end of the table. */
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
					   .has_fw_cfg = all, .hpet_id = all ? 0x8086a201 : 0, .hpet_base = HPET_BASE,
					   .has_pci = all };
		size_t rsdp_off = 99;
		size_t used = acpi_build(buf, sizeof(buf), ACPI_BASE, &cfg, &rsdp_off);
		CHECK(used > 0 && used < 8192);
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
		unsigned ntables = all ? 4 : 2; /* FACP APIC [HPET MCFG] */
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

		/* MCFG (PCI Firmware 3.0 §4.1.2): one allocation, the ECAM of
		 * segment 0, buses 0-0. */
		if (all) {
			const uint8_t *mcfg = table_at(r64(xsdt + 60));
			check_table(mcfg, "MCFG");
			CHECK_EQ(r32(mcfg + 4), 60);
			CHECK_EQ(mcfg[8], 1);
			CHECK_EQ(r64(mcfg + 36), 0);          /* reserved */
			CHECK_EQ(r64(mcfg + 44), 0xe0000000); /* base address */
			CHECK_EQ(mcfg[52] | mcfg[53] << 8, 0); /* segment group */
			CHECK_EQ(mcfg[54], 0);                /* start bus */
			CHECK_EQ(mcfg[55], 0);                /* end bus */
			CHECK_EQ(r32(mcfg + 56), 0);
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

	/* Address space descriptors (§6.4.3.5): Word, DWord, QWord; another
	 * width is refused. */
	aml_init(&a, big, sizeof(big));
	aml_res_address(&a, 2, AML_RES_IO, AML_RES_IO_ENTIRE, 0x1000, 0x1fff);
	static const uint8_t w16[] = { 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x10, 0xff, 0x1f, 0, 0, 0x00, 0x10 };
	CHECK_EQ(a.len, sizeof(w16));
	CHECK(memcmp(big, w16, sizeof(w16)) == 0);
	aml_init(&a, big, sizeof(big));
	aml_res_address(&a, 4, AML_RES_MEMORY, AML_RES_MEM_RW | AML_RES_MEM_CACHE, 0x12345000, 0x12345fff);
	static const uint8_t w32[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x50, 0x34, 0x12,
				       0xff, 0x5f, 0x34, 0x12, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x00 };
	CHECK_EQ(a.len, sizeof(w32));
	CHECK(memcmp(big, w32, sizeof(w32)) == 0);
	aml_init(&a, big, sizeof(big));
	aml_res_address(&a, 8, AML_RES_MEMORY, 0, 0x100000000ULL, 0x1ffffffffULL);
	CHECK_EQ(a.len, 46);
	CHECK(big[0] == 0x8a && big[1] == 43 && big[2] == 0);
	CHECK_EQ(r64(big + 14), 0x100000000ULL);
	CHECK_EQ(r64(big + 22), 0x1ffffffffULL);
	CHECK_EQ(r64(big + 38), 0x100000000ULL);
	aml_init(&a, big, sizeof(big));
	aml_res_address(&a, 3, AML_RES_MEMORY, 0, 0, 1);
	CHECK(a.overflow);
	CHECK_EQ(a.len, 0);

	/* Name(ABCD, Package(2){ Package(1){ 0x12345678 }, 5 }): nested
	 * packages close inside out. */
	aml_init(&a, big, sizeof(big));
	aml_name(&a, "ABCD");
	size_t outer = aml_package(&a, 2);
	size_t inner = aml_package(&a, 1);
	aml_integer(&a, 0x12345678);
	aml_end(&a, inner);
	aml_integer(&a, 5);
	aml_end(&a, outer);
	static const uint8_t pk[] = { 0x08, 'A', 'B', 'C', 'D', 0x12, 0x0c, 0x02,
				      0x12, 0x07, 0x01, 0x0c, 0x78, 0x56, 0x34, 0x12, 0x0a, 0x05 };
	CHECK_EQ(a.len, sizeof(pk));
	CHECK(memcmp(big, pk, sizeof(pk)) == 0);
	return unit_report("acpi");
}
