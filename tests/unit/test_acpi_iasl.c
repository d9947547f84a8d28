/* The ACPI tables against an independent AML parser: ACPICA's iasl
 * (Debian's acpica-tools) disassembles the DSDT and the MCFG that
 * acpi_build() makes for a machine with every device, the disassembly
 * names what the tables should hold, and it compiles back without errors.
 * Skipped (with a note) where iasl is not installed. */
#include <stdlib.h>
#include <unistd.h>

#include "boot/acpi.h"
#include "dev/hpet.h"
#include "unit.h"

static uint32_t r32(const uint8_t *p) { return (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }

static uint8_t buf[ACPI_AREA_SIZE];

static int save_table(const char *dir, const char *sig)
{
	for (size_t off = 0; off + 36 <= sizeof(buf); off += 16) {
		if (memcmp(buf + off, sig, 4) != 0)
			continue;
		uint32_t len = r32(buf + off + 4);
		if (len > sizeof(buf) - off)
			return -1;
		char path[256];
		snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
		FILE *f = fopen(path, "wb");
		if (!f)
			return -1;
		size_t n = fwrite(buf + off, 1, len, f);
		fclose(f);
		return n == len ? 0 : -1;
	}
	return -1;
}

/* The whole file at path, NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	return text;
}

int main(void)
{
	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		printf("acpi_iasl: SKIP (no iasl; Debian package acpica-tools)\n");
		return unit_report("acpi_iasl");
	}
	struct acpi_config cfg = { .ncpus = 2, .has_com1 = 1, .has_i8042 = 1, .has_rtc = 1, .has_fw_cfg = 1,
				   .hpet_id = 0x8086a201, .hpet_base = HPET_BASE, .has_pci = 1 };
	size_t rsdp;
	CHECK(acpi_build(buf, sizeof(buf), ACPI_BASE, &cfg, &rsdp) > 0);
	char dir[] = "/tmp/vmon-iasl-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ(save_table(dir, "DSDT"), 0);
	CHECK_EQ(save_table(dir, "MCFG"), 0);

	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d DSDT.dat MCFG.dat >disasm.log 2>&1", dir);
	CHECK_EQ(system(cmd), 0);
	char path[300];
	snprintf(path, sizeof(path), "%s/DSDT.dsl", dir);
	char *dsl = slurp(path);
	CHECK(dsl != NULL);
	if (dsl) {
		static const char *const want[] = {
			"Device (PCI0)", "EisaId (\"PNP0A08\")", "EisaId (\"PNP0A03\")", "Name (_SEG, Zero)",
			"Name (_BBN, Zero)", "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
			"0x0CF7,             // Range Maximum", "0x0D00,             // Range Minimum",
			"0xC0000000,         // Range Minimum", "0xDFFFFFFF,         // Range Maximum",
			"0x0000004000000000, // Range Minimum", "0x0000007FFFFFFFFF, // Range Maximum",
			"Name (_PRT, Package (0x7C)", "0x001FFFFF,", "Device (MRES)", "EisaId (\"PNP0C02\")",
			"0xE0000000,         // Address Base", "Device (COM1)", "Device (FWCF)",
		};
		for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			bool found = strstr(dsl, want[i]) != NULL;
			CHECK(found);
			if (!found)
				fprintf(stderr, "acpi_iasl: DSDT.dsl lacks: %s\n", want[i]);
		}
	}
	snprintf(path, sizeof(path), "%s/MCFG.dsl", dir);
	char *mcfg = slurp(path);
	CHECK(mcfg != NULL);
	if (mcfg) {
		CHECK(strstr(mcfg, "Base Address : 00000000E0000000") != NULL);
		CHECK(strstr(mcfg, "Start Bus Number : 00") != NULL);
		CHECK(strstr(mcfg, "End Bus Number : 00") != NULL);
	}
	/* Compiled back: no errors, no warnings. */
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -p again DSDT.dsl >compile.log 2>&1", dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/compile.log", dir);
	char *log = slurp(path);
	CHECK(log && strstr(log, "0 Errors, 0 Warnings") != NULL);
	if (log && !strstr(log, "0 Errors, 0 Warnings"))
		fprintf(stderr, "%s", log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return unit_report("acpi_iasl");
}
