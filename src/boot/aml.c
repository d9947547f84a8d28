#include "boot/aml.h"

#include <string.h>

#define AML_ZERO_OP     0x00
#define AML_ONE_OP      0x01
#define AML_NAME_OP     0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_STRING_PREFIX 0x0d
#define AML_SCOPE_OP    0x10
#define AML_BUFFER_OP   0x11
#define AML_PACKAGE_OP  0x12
#define AML_EXT_OP      0x5b
#define AML_DEVICE_OP   0x82  /* after AML_EXT_OP */
#define AML_ROOT_CHAR   '\\'
#define AML_ONES_OP     0xff

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = cap;
	b->overflow = 0;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	if (b->len >= b->cap) {
		b->overflow = 1;
		return;
	}
	b->data[b->len++] = v;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aml_byte(b, ((const uint8_t *)p)[i]);
}

size_t aml_pkglength_size(size_t body)
{
	/* One byte holds 0-63; each further byte adds 8 bits above 4. */
	if (body + 1 <= 0x3f)
		return 1;
	if (body + 2 <= 0xfff)
		return 2;
	if (body + 3 <= 0xfffff)
		return 3;
	return 4;
}

void aml_pkglength(struct aml_buf *b, size_t body)
{
	size_t n = aml_pkglength_size(body);
	size_t total = body + n;
	if (n == 1) {
		aml_byte(b, (uint8_t)total);
		return;
	}
	/* Bits 7-6: count of following bytes; bits 3-0: the low nibble. */
	aml_byte(b, (uint8_t)(((n - 1) << 6) | (total & 0xf)));
	total >>= 4;
	for (size_t i = 1; i < n; i++, total >>= 8)
		aml_byte(b, (uint8_t)total);
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	if (v == 0) {
		aml_byte(b, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(b, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml_byte(b, AML_BYTE_PREFIX);
		aml_byte(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(b, AML_WORD_PREFIX);
		for (int i = 0; i < 2; i++)
			aml_byte(b, (uint8_t)(v >> (8 * i)));
	} else if (v <= 0xffffffff) {
		aml_byte(b, AML_DWORD_PREFIX);
		for (int i = 0; i < 4; i++)
			aml_byte(b, (uint8_t)(v >> (8 * i)));
	} else {
		aml_byte(b, AML_QWORD_PREFIX);
		for (int i = 0; i < 8; i++)
			aml_byte(b, (uint8_t)(v >> (8 * i)));
	}
}

void aml_nameseg(struct aml_buf *b, const char *seg)
{
	size_t n = strlen(seg);
	for (size_t i = 0; i < 4; i++)
		aml_byte(b, (uint8_t)(i < n ? seg[i] : '_'));
}

static size_t integer_size(uint64_t v)
{
	return v <= 1 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9;
}

void aml_name_package(struct aml_buf *b, const char *seg, const uint64_t *ints, unsigned n)
{
	aml_name(b, seg);
	size_t body = 1; /* NumElements */
	for (unsigned i = 0; i < n; i++)
		body += integer_size(ints[i]);
	aml_byte(b, AML_PACKAGE_OP);
	aml_pkglength(b, body);
	aml_byte(b, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		aml_integer(b, ints[i]);
}

void aml_name(struct aml_buf *b, const char *seg)
{
	aml_byte(b, AML_NAME_OP);
	aml_nameseg(b, seg);
}

/* DefPackage (§20.2.5.4): PackageOp PkgLength NumElements elements; the
 * PkgLength goes in at the mark, in front of NumElements. */
size_t aml_package(struct aml_buf *b, unsigned n)
{
	aml_byte(b, AML_PACKAGE_OP);
	size_t mark = b->len;
	aml_byte(b, (uint8_t)n);
	return mark;
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	if (path[0] == AML_ROOT_CHAR) {
		aml_byte(b, AML_ROOT_CHAR);
		path++;
	}
	aml_nameseg(b, path);
}

void aml_name_integer(struct aml_buf *b, const char *seg, uint64_t v)
{
	aml_name(b, seg);
	aml_integer(b, v);
}

void aml_name_string(struct aml_buf *b, const char *seg, const char *str)
{
	aml_name(b, seg);
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, str, strlen(str) + 1); /* ASCII, NUL-terminated */
}

static unsigned hex_digit(char c)
{
	return c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) :
	       c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 0;
}

uint32_t aml_eisaid(const char *id)
{
	uint8_t v[4];
	unsigned c1 = (unsigned)(id[0] - 0x40) & 0x1f, c2 = (unsigned)(id[1] - 0x40) & 0x1f;
	unsigned c3 = (unsigned)(id[2] - 0x40) & 0x1f;
	v[0] = (uint8_t)(c1 << 2 | c2 >> 3);
	v[1] = (uint8_t)((c2 & 7) << 5 | c3);
	v[2] = (uint8_t)(hex_digit(id[3]) << 4 | hex_digit(id[4]));
	v[3] = (uint8_t)(hex_digit(id[5]) << 4 | hex_digit(id[6]));
	return (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
}

void aml_name_eisaid(struct aml_buf *b, const char *seg, const char *id)
{
	uint32_t v = aml_eisaid(id);
	aml_name(b, seg);
	aml_byte(b, AML_DWORD_PREFIX); /* always a DWordConst, as ASL compilers emit it */
	for (int i = 0; i < 4; i++)
		aml_byte(b, (uint8_t)(v >> (8 * i)));
}

size_t aml_scope(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_SCOPE_OP);
	size_t mark = b->len;
	aml_namestring(b, path);
	return mark;
}

size_t aml_device(struct aml_buf *b, const char *seg)
{
	aml_byte(b, AML_EXT_OP);
	aml_byte(b, AML_DEVICE_OP);
	size_t mark = b->len;
	aml_nameseg(b, seg);
	return mark;
}

/* Moves the body written since mark up and puts its PkgLength in front. */
void aml_end(struct aml_buf *b, size_t mark)
{
	if (b->overflow || mark > b->len)
		return;
	size_t body = b->len - mark, n = aml_pkglength_size(body);
	if (n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memmove(b->data + mark + n, b->data + mark, body);
	b->len = mark;
	aml_pkglength(b, body);
	b->len = mark + n + body;
}

/* I/O port descriptor, 16-bit decode (§6.4.2.5): small item 0x08, 7 bytes. */
void aml_res_io(struct aml_buf *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	const uint8_t d[] = { 0x47, 0x01, (uint8_t)min, (uint8_t)(min >> 8), (uint8_t)max, (uint8_t)(max >> 8),
			      align, len };
	aml_bytes(r, d, sizeof(d));
}

/* IRQ descriptor without the flags byte (§6.4.2.1): edge, active high,
 * exclusive; a 16-bit mask of the IRQ. */
void aml_res_irq_noflags(struct aml_buf *r, unsigned irq)
{
	uint16_t mask = irq < 16 ? (uint16_t)(1u << irq) : 0;
	const uint8_t d[] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };
	aml_bytes(r, d, sizeof(d));
}

/* 32-bit fixed memory range descriptor (§6.4.3.4): large item 0x06. */
void aml_res_memory32_fixed(struct aml_buf *r, int writable, uint32_t base, uint32_t len)
{
	const uint8_t d[] = { 0x86, 0x09, 0x00, writable ? 0x01 : 0x00,
			      (uint8_t)base, (uint8_t)(base >> 8), (uint8_t)(base >> 16), (uint8_t)(base >> 24),
			      (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
	aml_bytes(r, d, sizeof(d));
}

/* Address Space Descriptors (§6.4.3.5.1 QWord 0x8a, .2 DWord 0x87, .3
 * Word 0x88): tag, length, resource type, general flags, type-specific
 * flags, then granularity, minimum, maximum, translation offset and
 * length, each width bytes. General flags 0x0c: _MAF and _MIF fixed,
 * positive decode, bit 0 clear: the device produces the resource. */
void aml_res_address(struct aml_buf *r, unsigned width, uint8_t type, uint8_t type_flags, uint64_t min,
		     uint64_t max)
{
	uint8_t tag = width == 8 ? 0x8a : width == 4 ? 0x87 : 0x88;
	if (width != 2 && width != 4 && width != 8) {
		r->overflow = 1;
		return;
	}
	unsigned len = 3 + 5 * width;
	const uint64_t field[5] = { 0, min, max, 0, max - min + 1 };
	const uint8_t head[] = { tag, (uint8_t)len, (uint8_t)(len >> 8), type, 0x0c, type_flags };
	aml_bytes(r, head, sizeof(head));
	for (unsigned f = 0; f < 5; f++)
		for (unsigned i = 0; i < width; i++)
			aml_byte(r, (uint8_t)(field[f] >> (8 * i)));
}

/* End Tag (§6.4.2.9); checksum 0 means "the template sums to zero". */
void aml_res_end(struct aml_buf *r)
{
	aml_byte(r, 0x79);
	aml_byte(r, 0x00);
}

/* Name(seg, Buffer(n){ data }) (§20.2.5.4 DefBuffer). */
void aml_name_buffer(struct aml_buf *b, const char *seg, const uint8_t *data, size_t n)
{
	aml_name(b, seg);
	aml_byte(b, AML_BUFFER_OP);
	aml_pkglength(b, integer_size(n) + n);
	aml_integer(b, n);
	aml_bytes(b, data, n);
}
