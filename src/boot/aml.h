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

/* NameOp and seg: Name(seg, ...) whose data object the caller appends. */
void aml_name(struct aml_buf *b, const char *seg);

/* Package(n){ and the mark for aml_end(); the caller appends n elements
 * (integers, or nested packages). */
size_t aml_package(struct aml_buf *b, unsigned n);

/* NameString: an optional root prefix '\\' and one segment, e.g. "\\_SB_". */
void aml_namestring(struct aml_buf *b, const char *path);

/* Name(seg, integer), Name(seg, "string"), Name(seg, EisaId("PNP0501")). */
void aml_name_integer(struct aml_buf *b, const char *seg, uint64_t v);
void aml_name_string(struct aml_buf *b, const char *seg, const char *s);
void aml_name_eisaid(struct aml_buf *b, const char *seg, const char *id);

/* The 32-bit compressed EISA id of "AAA####" (ASL EISAID, §19.6): three
 * letters in 5 bits each, then four hex digits, stored big-endian. */
uint32_t aml_eisaid(const char *id);

/* Scope(path){ and Device(seg){ open a package whose PkgLength is known
 * only at its end: they return a mark for aml_end(), which inserts it. */
size_t aml_scope(struct aml_buf *b, const char *path);
size_t aml_device(struct aml_buf *b, const char *seg);
void aml_end(struct aml_buf *b, size_t mark);

/* Resource descriptors (§6.4) appended to a raw buffer r; aml_res_end adds
 * the End Tag; Name(seg, ResourceTemplate(){...}) is aml_name_buffer. */
void aml_res_io(struct aml_buf *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq_noflags(struct aml_buf *r, unsigned irq);
void aml_res_memory32_fixed(struct aml_buf *r, int writable, uint32_t base, uint32_t len);
/* Word, DWord and QWord Address Space Descriptors (§6.4.3.5.1-3) of a
 * resource the device produces (a bridge window): positive decode, minimum
 * and maximum fixed, granularity and translation 0, length max-min+1. width
 * is 2, 4 or 8 bytes. */
#define AML_RES_MEMORY 0
#define AML_RES_IO     1
#define AML_RES_BUS    2
#define AML_RES_IO_ENTIRE    0x03 /* type-specific flags, I/O: _RNG both ISA and non-ISA */
#define AML_RES_MEM_RW       0x01 /* memory: _RW read-write */
#define AML_RES_MEM_CACHE    0x02 /* memory: _MEM cacheable */
void aml_res_address(struct aml_buf *r, unsigned width, uint8_t type, uint8_t type_flags, uint64_t min,
		     uint64_t max);
void aml_res_end(struct aml_buf *r);
void aml_name_buffer(struct aml_buf *b, const char *seg, const uint8_t *data, size_t n);

#endif
