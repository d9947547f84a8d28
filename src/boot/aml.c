#include "boot/aml.h"

#include <string.h>

#define AML_ZERO_OP     0x00
#define AML_ONE_OP      0x01
#define AML_NAME_OP     0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP  0x12
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
	aml_byte(b, AML_NAME_OP);
	aml_nameseg(b, seg);
	size_t body = 1; /* NumElements */
	for (unsigned i = 0; i < n; i++)
		body += integer_size(ints[i]);
	aml_byte(b, AML_PACKAGE_OP);
	aml_pkglength(b, body);
	aml_byte(b, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		aml_integer(b, ints[i]);
}
