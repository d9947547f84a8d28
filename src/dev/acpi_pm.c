#include "dev/acpi_pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "boot/acpi.h"
#include "util/log.h"

#define PM1_STS_TMR   (1u << 0)
#define PM1_STS_WAK   (1u << 15)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)
#define RESET_CF9_RST_CPU (1u << 2) /* PIIX4/ICH "reset control register" */

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint8_t cf9;
	acpi_pm_event_fn *event;
	void *opaque;
	acpi_pm_clock_fn *clock;
	void *clock_opaque;
};

static uint64_t host_clock(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The 24-bit PM timer (§4.8.3.3): 3.579545 MHz, wrapping. */
static uint32_t pm_timer(struct acpi_pm *pm)
{
	uint64_t ns = pm->clock(pm->clock_opaque);
	return (uint32_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000ULL) & 0xffffff;
}

void acpi_pm_io(struct acpi_pm *pm, uint16_t port, unsigned size, bool is_write, uint64_t *value)
{
	enum { NONE, OFF, RESET } fire = NONE;
	pthread_mutex_lock(&pm->lock);
	unsigned off;
	if (port >= ACPI_PM1A_EVT_PORT && port < ACPI_PM1A_EVT_PORT + 4) {
		off = port - ACPI_PM1A_EVT_PORT;
		if (off < 2) { /* PM1_STS: write 1 to clear */
			if (is_write)
				pm->pm1_sts &= (uint16_t)~*value;
			else
				*value = pm->pm1_sts;
		} else { /* PM1_EN */
			if (is_write)
				pm->pm1_en = (uint16_t)*value;
			else
				*value = pm->pm1_en;
		}
	} else if (port >= ACPI_PM1A_CNT_PORT && port < ACPI_PM1A_CNT_PORT + 2) {
		if (is_write) {
			uint16_t v = (uint16_t)*value;
			unsigned typ = (v >> PM1_CNT_SLP_TYP_SHIFT) & 7;
			/* SLP_EN is write-only; SCI_EN stays set: no legacy mode. */
			pm->pm1_cnt = (uint16_t)((v & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN);
			if ((v & PM1_CNT_SLP_EN) && typ == ACPI_S5_SLP_TYP)
				fire = OFF;
			else if (v & PM1_CNT_SLP_EN)
				log_warn("acpi: sleep state with SLP_TYP %u is not supported; ignored", typ);
		} else {
			*value = pm->pm1_cnt;
		}
	} else if (port >= ACPI_PM_TMR_PORT && port < ACPI_PM_TMR_PORT + 4) {
		if (!is_write)
			*value = pm_timer(pm) >> (8 * (port - ACPI_PM_TMR_PORT));
	} else if (port == ACPI_RESET_PORT) {
		if (is_write) {
			if ((*value & RESET_CF9_RST_CPU) && !(pm->cf9 & RESET_CF9_RST_CPU))
				fire = RESET;
			pm->cf9 = (uint8_t)*value & ~RESET_CF9_RST_CPU;
		} else {
			*value = pm->cf9;
		}
	}
	(void)size;
	pthread_mutex_unlock(&pm->lock);
	if (fire != NONE && pm->event)
		pm->event(pm->opaque, fire == OFF ? ACPI_PM_POWEROFF : ACPI_PM_RESET);
}

static void io_evt(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	acpi_pm_io(o, (uint16_t)(ACPI_PM1A_EVT_PORT + off), size, w, v);
}
static void io_cnt(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	acpi_pm_io(o, (uint16_t)(ACPI_PM1A_CNT_PORT + off), size, w, v);
}
static void io_tmr(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	acpi_pm_io(o, (uint16_t)(ACPI_PM_TMR_PORT + off), size, w, v);
}
static void io_cf9(void *o, uint64_t off, unsigned size, bool w, uint64_t *v)
{
	acpi_pm_io(o, (uint16_t)(ACPI_RESET_PORT + off), size, w, v);
}

int acpi_pm_create(struct io_bus *bus, acpi_pm_event_fn *event, void *opaque, acpi_pm_clock_fn *clock,
		   void *clock_opaque, struct acpi_pm **out)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	pm->event = event;
	pm->opaque = opaque;
	pm->clock = clock ? clock : host_clock;
	pm->clock_opaque = clock_opaque;
	pm->pm1_cnt = PM1_CNT_SCI_EN; /* SMI_CMD is 0: the machine is always in ACPI mode */
	int r = 0;
	if (bus) {
		r = io_bus_register(bus, IO_SPACE_PIO, ACPI_PM1A_EVT_PORT, 4, io_evt, pm, "acpi-pm1-evt");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, ACPI_PM1A_CNT_PORT, 2, io_cnt, pm, "acpi-pm1-cnt");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, ACPI_PM_TMR_PORT, 4, io_tmr, pm, "acpi-pm-timer");
		if (!r)
			r = io_bus_register(bus, IO_SPACE_PIO, ACPI_RESET_PORT, 1, io_cf9, pm, "reset-cf9");
	}
	if (r < 0) {
		acpi_pm_destroy(pm);
		return r;
	}
	*out = pm;
	return 0;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
