/* A small ACPI Machine Language encoder for vmon's DSDT (ACPI 6.5 §20,
 * "ACPI Machine Language (AML) Specification"). Writes into a caller's
 * buffer; every function returns the new length or 0 when out of room. */
#ifndef VMON_BOOT_AML_H
#define VMON_BOOT_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	int overflow;  /* set when anything did not fit */
};

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap);
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/* PkgLength (§20.2.4) of a body of n bytes: the encoded length counts itself. */
size_t aml_pkglength_size(size_t body);
void aml_pkglength(struct aml_buf *b, size_t body);

/* Integer constants with the shortest encoding (Zero, One, Byte/Word/DWord/QWord). */
void aml_integer(struct aml_buf *b, uint64_t v);

/* NameString of a four-character segment, e.g. "_S5_" (padding with '_'). */
void aml_nameseg(struct aml_buf *b, const char *seg);

/* Name(seg, Package(){ ints... }) */
void aml_name_package(struct aml_buf *b, const char *seg, const uint64_t *ints, unsigned n);

#endif
