/* ACPI tables: signatures, lengths, checksums, pointers, the MADT's
 * entries, the DSDT's bytes; and the AML encoder's PkgLength. */
#include "boot/acpi.h"
#include "boot/aml.h"
#include "unit.h"

static uint32_t r32(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }

static uint8_t buf[ACPI_AREA_SIZE];

static const uint8_t *table_at(uint64_t gpa) { return buf + (gpa - ACPI_BASE); }

static void check_table(const uint8_t *t, const char *sig)
{
	CHECK(memcmp(t, sig, 4) == 0);
	CHECK_EQ(acpi_checksum(t, r32(t + 4)), 0);
}

int main(void)
{
	for (unsigned ncpus = 1; ncpus <= 4; ncpus += 3) {
		struct acpi_config cfg = { .ncpus = ncpus, .has_i8042 = 1 };
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
		CHECK_EQ(r32(xsdt + 4), 36 + 16);
		const uint8_t *fadt = table_at(r64(xsdt + 36));
		const uint8_t *madt = table_at(r64(xsdt + 44));
		CHECK_EQ(r32(rsdt + 36), r64(xsdt + 36));
		check_table(fadt, "FACP");
		check_table(madt, "APIC");

		/* FADT: length of revision 6, DSDT and FACS pointers, PM ports. */
		CHECK_EQ(r32(fadt + 4), 276);
		CHECK_EQ(fadt[8], 6);
		const uint8_t *dsdt = table_at(r64(fadt + 140));
		CHECK_EQ(r32(fadt + 40), r64(fadt + 140));
		check_table(dsdt, "DSDT");
		const uint8_t *facs = table_at(r64(fadt + 132));
		CHECK(memcmp(facs, "FACS", 4) == 0);
		CHECK_EQ((r64(fadt + 132)) % 64, 0);
		CHECK_EQ(r32(fadt + 46) & 0xffff, 9);
		CHECK_EQ(r32(fadt + 64), ACPI_PM1A_CNT_PORT);
		CHECK_EQ(r32(fadt + 76), ACPI_PM_TMR_PORT);
		CHECK_EQ(fadt[91], 4);
		CHECK_EQ(fadt[116], 1);                /* RESET_REG in I/O space */
		CHECK_EQ(r64(fadt + 120), ACPI_RESET_PORT);
		CHECK_EQ(fadt[128], ACPI_RESET_VALUE);
		CHECK_EQ(r32(fadt + 112) & (1u << 10), 1u << 10);

		/* DSDT: exactly Name(_S5_, Package(){5, 5, 0, 0}). */
		static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
					      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
		CHECK_EQ(r32(dsdt + 4), 36 + sizeof(s5));
		CHECK(memcmp(dsdt + 36, s5, sizeof(s5)) == 0);

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
	return unit_report("acpi");
}
