/* ACPI table builder. Layouts: ACPI 6.5 §5.2.5.3 (RSDP), §5.2.6 (header),
 * §5.2.7-8 (RSDT/XSDT), §5.2.9 (FADT, revision 6), §5.2.10 (FACS), §5.2.12
 * (MADT), §5.2.11.1 (DSDT); the HPET table: IA-PC HPET spec 1.0a §3.2.4. */
#include "boot/acpi.h"

#include <string.h>

#include "boot/aml.h"
#include "dev/hpet.h"
#include "dev/pci/pci_host.h"
#include "dev/uart16550.h"
#include "machine/pc.h"

static void w8(uint8_t *p, uint8_t v) { p[0] = v; }
static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (uint16_t)v); w16(p + 2, (uint16_t)(v >> 16)); }
static void w64(uint8_t *p, uint64_t v) { w32(p, (uint32_t)v); w32(p + 4, (uint32_t)(v >> 32)); }

uint8_t acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* The 36-byte System Description Table Header; the checksum is set last. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	w32(t + 4, len);
	w8(t + 8, rev);
	memcpy(t + 10, "VMON  ", 6);       /* OEMID */
	memcpy(t + 16, "VMONVM  ", 8);     /* OEM Table ID */
	w32(t + 24, 1);                    /* OEM Revision */
	memcpy(t + 28, "VMON", 4);         /* Creator ID */
	w32(t + 32, 1);                    /* Creator Revision */
}

static void finish(uint8_t *t)
{
	uint32_t len = (uint32_t)(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24);
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

/* Generic Address Structure (§5.2.3.2) for a system-I/O register. */
static void gas_io(uint8_t *g, uint8_t bit_width, uint8_t access_size, uint64_t port)
{
	w8(g, 1);              /* address space: system I/O */
	w8(g + 1, bit_width);
	w8(g + 2, 0);          /* bit offset */
	w8(g + 3, access_size); /* 1 byte, 2 word, 3 dword */
	w64(g + 4, port);
}

struct builder {
	uint8_t *buf;
	size_t cap, used;
	uint64_t base;
};

/* Reserves n bytes aligned to align; returns the offset or (size_t)-1. */
static size_t take(struct builder *b, size_t n, size_t align)
{
	size_t off = (b->used + align - 1) & ~(align - 1);
	if (off > b->cap || n > b->cap - off)
		return (size_t)-1;
	memset(b->buf + off, 0, n);
	b->used = off + n;
	return off;
}

/* Reserves a table of len bytes with its header; *t points at it. Returns
 * the offset or (size_t)-1. */
static size_t new_table(struct builder *b, const char *sig, uint32_t len, uint8_t rev, uint8_t **t)
{
	size_t off = take(b, len, 16);
	if (off == (size_t)-1)
		return off;
	*t = b->buf + off;
	header(*t, sig, len, rev);
	return off;
}

/* Device(seg){ _HID, _UID, _CRS } with the resources already in res. */
static void device(struct aml_buf *a, const char *seg, const char *hid, int eisa, unsigned uid,
		   struct aml_buf *res)
{
	size_t dev = aml_device(a, seg);
	if (eisa)
		aml_name_eisaid(a, "_HID", hid);
	else
		aml_name_string(a, "_HID", hid);
	aml_name_integer(a, "_UID", uid);
	aml_res_end(res);
	if (res->overflow)
		a->overflow = 1;
	aml_name_buffer(a, "_CRS", res->data, res->len);
	aml_end(a, dev);
}

/* The legacy devices, with the PNP ids Linux's drivers bind to. They sit
 * directly under \_SB, not under \_SB.PCI0: there is no ISA/LPC bridge
 * function they would hang from, and PNP binds them by _HID wherever they
 * are. */
static void legacy_devices(struct aml_buf *a, const struct acpi_config *cfg)
{
	uint8_t rb[64];
	struct aml_buf r;
	size_t sb = aml_scope(a, "\\_SB_");
	if (cfg->has_com1) {
		aml_init(&r, rb, sizeof(rb));
		aml_res_io(&r, UART_COM1_BASE, UART_COM1_BASE, 1, 8);
		aml_res_irq_noflags(&r, UART_COM1_IRQ);
		device(a, "COM1", "PNP0501", 1, 1, &r);
	}
	if (cfg->has_i8042) {
		aml_init(&r, rb, sizeof(rb));
		aml_res_io(&r, ACPI_I8042_DATA_PORT, ACPI_I8042_DATA_PORT, 1, 1);
		aml_res_io(&r, ACPI_I8042_CMD_PORT, ACPI_I8042_CMD_PORT, 1, 1);
		aml_res_irq_noflags(&r, ACPI_I8042_KBD_IRQ);
		device(a, "KBD_", "PNP0303", 1, 0, &r);
		aml_init(&r, rb, sizeof(rb));
		aml_res_irq_noflags(&r, ACPI_I8042_AUX_IRQ);
		device(a, "MOU_", "PNP0F13", 1, 0, &r);
	}
	if (cfg->has_rtc) {
		aml_init(&r, rb, sizeof(rb));
		aml_res_io(&r, ACPI_RTC_PORT, ACPI_RTC_PORT, 1, ACPI_RTC_PORTS);
		aml_res_irq_noflags(&r, ACPI_RTC_IRQ);
		device(a, "RTC_", "PNP0B00", 1, 0, &r);
	}
	if (cfg->hpet_id) {
		aml_init(&r, rb, sizeof(rb));
		aml_res_memory32_fixed(&r, 1, (uint32_t)cfg->hpet_base, HPET_SIZE);
		device(a, "HPET", "PNP0103", 1, 0, &r);
	}
	if (cfg->has_fw_cfg) {
		aml_init(&r, rb, sizeof(rb));
		aml_res_io(&r, ACPI_FW_CFG_PORT, ACPI_FW_CFG_PORT, 1, ACPI_FW_CFG_PORTS);
		device(a, "FWCF", "QEMU0002", 0, 0, &r);
	}
	aml_end(a, sb);
}

/* The PCI root bridge (ACPI 6.5 §6.1; PCI Firmware 3.0 §4.1.3): bus 0 of
 * segment 0, its windows as the host decodes them (machine/pc.h), and its
 * INTx routing. Plus a motherboard resource device that reserves the ECAM
 * area, where Linux checks that the MCFG's range is reserved (PCI Firmware
 * 3.0 §4.1.2: "reserved ... by a motherboard resource"). */
static void pci_root(struct aml_buf *a)
{
	uint8_t rb[160];
	struct aml_buf r;
	size_t sb = aml_scope(a, "\\_SB_");
	size_t dev = aml_device(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A08"); /* PCI Express root bridge: it has ECAM */
	aml_name_eisaid(a, "_CID", "PNP0A03"); /* PCI root bridge */
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_init(&r, rb, sizeof(rb));
	aml_res_address(&r, 2, AML_RES_BUS, 0, 0, 0); /* bus 0 only, as in the MCFG */
	aml_res_io(&r, PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_ADDRESS_PORT, 1, 8); /* consumed: 0xcf8-0xcff */
	aml_res_address(&r, 2, AML_RES_IO, AML_RES_IO_ENTIRE, 0x0000, PCI_CONFIG_ADDRESS_PORT - 1);
	aml_res_address(&r, 2, AML_RES_IO, AML_RES_IO_ENTIRE, PCI_CONFIG_ADDRESS_PORT + 8, 0xffff);
	aml_res_address(&r, 4, AML_RES_MEMORY, AML_RES_MEM_RW, PC_PCI_MMIO32_BASE,
			PC_PCI_MMIO32_BASE + PC_PCI_MMIO32_SIZE - 1);
	aml_res_address(&r, 8, AML_RES_MEMORY, AML_RES_MEM_RW, PC_PCI_MMIO64_BASE,
			PC_PCI_MMIO64_BASE + PC_PCI_MMIO64_SIZE - 1);
	aml_res_end(&r);
	if (r.overflow)
		a->overflow = 1;
	aml_name_buffer(a, "_CRS", r.data, r.len);
	/* _PRT (§6.2.13): Package{ address 0xSSSSFFFF (any function of slot
	 * S), pin (0 = INTA), source 0: the last field is a GSI, and such an
	 * interrupt is level-triggered, active-low, shareable }. Slot 0 is
	 * the host bridge, which has no pin. */
	aml_name(a, "_PRT");
	size_t prt = aml_package(a, (PCI_SLOTS - 1) * 4);
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t e = aml_package(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, pc_pci_intx_gsi(slot, pin + 1));
			aml_end(a, e);
		}
	}
	aml_end(a, prt);
	aml_end(a, dev);
	aml_init(&r, rb, sizeof(rb));
	aml_res_memory32_fixed(&r, 1, (uint32_t)PC_PCI_ECAM_BASE, (uint32_t)PC_PCI_ECAM_SIZE);
	device(a, "MRES", "PNP0C02", 1, 0, &r);
	aml_end(a, sb);
}

static size_t build_dsdt(struct builder *b, const struct acpi_config *cfg)
{
	uint8_t aml[4096];
	struct aml_buf a;
	aml_init(&a, aml, sizeof(aml));
	/* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved (§7.4.2, "\_Sx"). */
	const uint64_t s5[] = { ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP, 0, 0 };
	aml_name_package(&a, "_S5_", s5, 4);
	if (cfg->has_pci)
		pci_root(&a);
	legacy_devices(&a, cfg);
	if (a.overflow)
		return (size_t)-1;
	uint8_t *t;
	size_t off = new_table(b, "DSDT", (uint32_t)(36 + a.len), 2, &t);
	if (off == (size_t)-1)
		return off;
	memcpy(t + 36, aml, a.len);
	finish(t);
	return off;
}

/* HPET Description Table (IA-PC HPET 1.0a §3.2.4): 56 bytes. */
static size_t build_hpet(struct builder *b, const struct acpi_config *cfg)
{
	const uint32_t len = 56;
	uint8_t *t;
	size_t off = new_table(b, "HPET", len, 1, &t);
	if (off == (size_t)-1)
		return off;
	w32(t + 36, cfg->hpet_id);     /* Event Timer Block ID: capabilities 31:0 */
	w8(t + 40, 0);                 /* BASE_ADDRESS: GAS in system memory */
	w8(t + 41, 64);                /* register width */
	w8(t + 42, 0);                 /* bit offset */
	w8(t + 43, 0);                 /* access size: undefined (32 or 64 bits) */
	w64(t + 44, cfg->hpet_base);
	w8(t + 52, 0);                 /* HPET Number */
	w16(t + 53, HPET_MIN_TICK);    /* Main Counter Minimum Clock_tick in Periodic Mode */
	w8(t + 55, 1);                 /* page protection: 4 KiB (nothing else in the page) */
	finish(t);
	return off;
}

/* MCFG (PCI Firmware 3.0 §4.1.2): 8 reserved bytes, then one allocation:
 * ECAM base, segment group, start and end bus, 4 reserved. */
static size_t build_mcfg(struct builder *b)
{
	const uint32_t len = 36 + 8 + 16;
	uint8_t *t;
	size_t off = new_table(b, "MCFG", len, 1, &t);
	if (off == (size_t)-1)
		return off;
	w64(t + 44, PC_PCI_ECAM_BASE);
	w16(t + 52, 0);  /* segment 0 */
	w8(t + 54, 0);   /* buses 0-0: PC_PCI_ECAM_SIZE is one bus */
	w8(t + 55, (uint8_t)(PC_PCI_ECAM_SIZE / (1u << 20) - 1));
	finish(t);
	return off;
}

static size_t build_facs(struct builder *b)
{
	size_t off = take(b, 64, 64); /* 64-byte aligned, no checksum */
	if (off == (size_t)-1)
		return off;
	uint8_t *t = b->buf + off;
	memcpy(t, "FACS", 4);
	w32(t + 4, 64);
	w8(t + 32, 2); /* version */
	return off;
}

static size_t build_fadt(struct builder *b, uint64_t dsdt, uint64_t facs, const struct acpi_config *cfg)
{
	const uint32_t len = 276;
	uint8_t *t;
	size_t off = new_table(b, "FACP", len, 6, &t);
	if (off == (size_t)-1)
		return off;
	/* One FACS reference (§5.2.9, table 5.9: X_FIRMWARE_CTRL must be zero
	 * when FIRMWARE_CTRL is set): the 32-bit field, since the FACS is below
	 * 1 MiB and X_FIRMWARE_CTRL is for an FACS above 4 GiB. */
	w32(t + 36, (uint32_t)facs);               /* FIRMWARE_CTRL */
	w32(t + 40, (uint32_t)dsdt);               /* DSDT */
	w8(t + 45, 0);                             /* Preferred_PM_Profile: unspecified */
	w16(t + 46, ACPI_SCI_IRQ);                 /* SCI_INT */
	w32(t + 48, 0);                            /* SMI_CMD 0: always in ACPI mode */
	w32(t + 56, ACPI_PM1A_EVT_PORT);           /* PM1a_EVT_BLK */
	w32(t + 64, ACPI_PM1A_CNT_PORT);           /* PM1a_CNT_BLK */
	w32(t + 76, ACPI_PM_TMR_PORT);             /* PM_TMR_BLK */
	w8(t + 88, 4);                             /* PM1_EVT_LEN */
	w8(t + 89, 2);                             /* PM1_CNT_LEN */
	w8(t + 91, 4);                             /* PM_TMR_LEN */
	w16(t + 96, 101);                          /* P_LVL2_LAT > 100: C2 not supported */
	w16(t + 98, 1001);                         /* P_LVL3_LAT > 1000: C3 not supported */
	w8(t + 108, 0x32);                         /* CENTURY: CMOS register */
	w16(t + 109, (uint16_t)(0x0001 | (cfg->has_i8042 ? 0x0002 : 0))); /* IAPC_BOOT_ARCH: legacy devices, 8042 */
	/* Flags: WBINVD, PROC_C1, PWR_BUTTON and SLP_BUTTON absent as fixed
	 * features, RESET_REG_SUP. */
	w32(t + 112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10));
	gas_io(t + 116, 8, 1, ACPI_RESET_PORT);    /* RESET_REG */
	w8(t + 128, ACPI_RESET_VALUE);             /* RESET_VALUE */
	w8(t + 131, 5);                            /* FADT minor version (6.5) */
	w64(t + 132, 0);                           /* X_FIRMWARE_CTRL: unused */
	w64(t + 140, dsdt);                        /* X_DSDT */
	gas_io(t + 148, 32, 2, ACPI_PM1A_EVT_PORT); /* X_PM1a_EVT_BLK */
	gas_io(t + 172, 16, 2, ACPI_PM1A_CNT_PORT); /* X_PM1a_CNT_BLK */
	gas_io(t + 208, 32, 3, ACPI_PM_TMR_PORT);   /* X_PM_TMR_BLK */
	memcpy(t + 268, "VMON    ", 8);           /* Hypervisor Vendor Identity */
	finish(t);
	return off;
}

static size_t build_madt(struct builder *b, const struct acpi_config *cfg)
{
	/* Local APIC per CPU (8), IOAPIC (12), overrides IRQ0->GSI2 and the SCI
	 * (10 each), local APIC NMI on LINT1 for all CPUs (6). */
	uint32_t len = 44 + 8 * cfg->ncpus + 12 + 10 * 2 + 6;
	uint8_t *t;
	size_t off = new_table(b, "APIC", len, 5, &t);
	if (off == (size_t)-1)
		return off;
	w32(t + 36, (uint32_t)LAPIC_BASE);
	w32(t + 40, 1); /* PCAT_COMPAT: there are 8259s too */
	uint8_t *e = t + 44;
	for (unsigned i = 0; i < cfg->ncpus; i++, e += 8) {
		w8(e, 0); w8(e + 1, 8);
		w8(e + 2, (uint8_t)i);   /* ACPI processor UID */
		w8(e + 3, (uint8_t)i);   /* APIC id */
		w32(e + 4, 1);           /* enabled */
	}
	w8(e, 1); w8(e + 1, 12);
	w8(e + 2, (uint8_t)cfg->ncpus); /* IOAPIC id: after the CPUs */
	w32(e + 4, (uint32_t)IOAPIC_BASE);
	w32(e + 8, 0);                  /* GSI base */
	e += 12;
	/* ISA IRQ 0 (the PIT) arrives on IOAPIC pin 2; flags 0: bus defaults. */
	w8(e, 2); w8(e + 1, 10); w8(e + 2, 0); w8(e + 3, 0); w32(e + 4, 2); w16(e + 8, 0);
	e += 10;
	/* The SCI: level-triggered, active high (flags 0xd). */
	w8(e, 2); w8(e + 1, 10); w8(e + 2, 0); w8(e + 3, ACPI_SCI_IRQ); w32(e + 4, ACPI_SCI_IRQ); w16(e + 8, 0xd);
	e += 10;
	w8(e, 4); w8(e + 1, 6); w8(e + 2, 0xff); w16(e + 3, 0); w8(e + 5, 1);
	finish(t);
	return off;
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg, size_t *rsdp_off)
{
	struct builder b = { buf, cap, 0, base };
	size_t rsdp = take(&b, 36, 16);
	size_t dsdt = build_dsdt(&b, cfg);
	size_t facs = build_facs(&b);
	if (rsdp == (size_t)-1 || dsdt == (size_t)-1 || facs == (size_t)-1)
		return 0;
	size_t fadt = build_fadt(&b, base + dsdt, base + facs, cfg);
	size_t madt = build_madt(&b, cfg);
	if (fadt == (size_t)-1 || madt == (size_t)-1)
		return 0;
	size_t tables[4] = { fadt, madt };
	unsigned nt = 2;
	if (cfg->hpet_id)
		tables[nt++] = build_hpet(&b, cfg);
	if (cfg->has_pci)
		tables[nt++] = build_mcfg(&b);
	for (unsigned i = 0; i < nt; i++)
		if (tables[i] == (size_t)-1)
			return 0;
	size_t rsdt = take(&b, 36 + 4 * nt, 16);
	size_t xsdt = take(&b, 36 + 8 * nt, 16);
	if (rsdt == (size_t)-1 || xsdt == (size_t)-1)
		return 0;
	header(buf + rsdt, "RSDT", (uint32_t)(36 + 4 * nt), 1);
	header(buf + xsdt, "XSDT", (uint32_t)(36 + 8 * nt), 1);
	for (unsigned i = 0; i < nt; i++) {
		w32(buf + rsdt + 36 + 4 * i, (uint32_t)(base + tables[i]));
		w64(buf + xsdt + 36 + 8 * i, base + tables[i]);
	}
	finish(buf + rsdt);
	finish(buf + xsdt);

	uint8_t *r = buf + rsdp;
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "VMON  ", 6);
	w8(r + 15, 2);                         /* revision: ACPI 2.0+ */
	w32(r + 16, (uint32_t)(base + rsdt));
	w32(r + 20, 36);
	w64(r + 24, base + xsdt);
	r[8] = (uint8_t)(0x100 - acpi_checksum(r, 20));   /* first 20 bytes */
	r[32] = (uint8_t)(0x100 - acpi_checksum(r, 36));  /* extended: all 36 */
	*rsdp_off = rsdp;
	return b.used;
}
