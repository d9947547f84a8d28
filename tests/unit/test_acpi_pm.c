/* ACPI PM block: the PM timer's rate, poweroff by \_S5, reset by 0xcf9. */
#include "boot/acpi.h"
#include "dev/acpi_pm.h"
#include "unit.h"

static uint64_t now_ns;
static uint64_t clk(void *o) { (void)o; return now_ns; }
static int offs, resets;
static void ev(void *o, enum acpi_pm_event e) { (void)o; if (e == ACPI_PM_POWEROFF) offs++; else resets++; }

int main(void)
{
	struct acpi_pm *pm;
	CHECK_EQ(acpi_pm_create(NULL, ev, NULL, clk, NULL, &pm), 0);
	uint64_t v;
	now_ns = 0;
	acpi_pm_io(pm, ACPI_PM_TMR_PORT, 4, false, &v);
	CHECK_EQ(v, 0);
	now_ns = 1000000000ULL; /* one second: 3,579,545 ticks, 24-bit wrap */
	acpi_pm_io(pm, ACPI_PM_TMR_PORT, 4, false, &v);
	CHECK_EQ(v, 3579545 & 0xffffff);
	now_ns = 10ULL * 1000000000ULL;
	acpi_pm_io(pm, ACPI_PM_TMR_PORT, 4, false, &v);
	CHECK_EQ(v, 35795450 & 0xffffff);

	/* SCI_EN reads as set: always in ACPI mode. */
	acpi_pm_io(pm, ACPI_PM1A_CNT_PORT, 2, false, &v);
	CHECK_EQ(v & 1, 1);
	/* SLP_TYP 5 + SLP_EN: poweroff; other sleep types are ignored. */
	v = (3 << 10) | (1 << 13);
	acpi_pm_io(pm, ACPI_PM1A_CNT_PORT, 2, true, &v);
	CHECK_EQ(offs, 0);
	v = (ACPI_S5_SLP_TYP << 10);
	acpi_pm_io(pm, ACPI_PM1A_CNT_PORT, 2, true, &v);
	CHECK_EQ(offs, 0); /* no SLP_EN */
	v = (ACPI_S5_SLP_TYP << 10) | (1 << 13);
	acpi_pm_io(pm, ACPI_PM1A_CNT_PORT, 2, true, &v);
	CHECK_EQ(offs, 1);
	acpi_pm_io(pm, ACPI_PM1A_CNT_PORT, 2, false, &v);
	CHECK_EQ(v & (1 << 13), 0); /* SLP_EN is write-only */

	/* 0xcf9: RST_CPU (bit 2) going to 1 resets. */
	v = 0x02;
	acpi_pm_io(pm, ACPI_RESET_PORT, 1, true, &v);
	CHECK_EQ(resets, 0);
	v = ACPI_RESET_VALUE;
	acpi_pm_io(pm, ACPI_RESET_PORT, 1, true, &v);
	CHECK_EQ(resets, 1);

	/* PM1 status is write-one-to-clear; enable is plain. */
	v = 0x0120;
	acpi_pm_io(pm, ACPI_PM1A_EVT_PORT + 2, 2, true, &v);
	acpi_pm_io(pm, ACPI_PM1A_EVT_PORT + 2, 2, false, &v);
	CHECK_EQ(v, 0x0120);
	acpi_pm_destroy(pm);
	return unit_report("acpi_pm");
}
