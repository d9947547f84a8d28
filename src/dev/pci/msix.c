#include "dev/pci/msix.h"

#include <string.h>

#include "util/log.h"

#define CTRL_ENABLE  (1u << 15)
#define CTRL_FN_MASK (1u << 14)
#define ENTRY_MASKED 1u

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void msix_init(struct msix *m, struct pci_config *c, unsigned cap, unsigned next, unsigned nvec,
	       unsigned bir, uint32_t table_off, uint32_t pba_off, const struct msi_sink *sink)
{
	memset(m, 0, sizeof(*m));
	if (nvec < 1)
		nvec = 1;
	if (nvec > MSIX_MAX_VECTORS)
		nvec = MSIX_MAX_VECTORS;
	m->nvec = nvec;
	m->cap = cap;
	m->table_off = table_off & ~7u;
	m->pba_off = pba_off & ~7u;
	m->sink = *sink;
	for (unsigned i = 0; i < nvec; i++)
		m->entry[i].ctrl = ENTRY_MASKED;
	/* §6.8.2.1-4: id, next, message control (table size - 1), table
	 * offset | BIR, PBA offset | BIR; only enable and function mask are
	 * writable. */
	c->data[cap] = MSIX_CAP_ID;
	c->data[cap + 1] = (uint8_t)next;
	put_le(c->data + cap + 2, 2, nvec - 1);
	put_le(c->data + cap + 4, 4, m->table_off | (bir & 7));
	put_le(c->data + cap + 8, 4, m->pba_off | (bir & 7));
	pci_config_set_wmask(c, cap + 2, 2, CTRL_ENABLE | CTRL_FN_MASK, 0);
}

static bool masked(const struct msix *m, unsigned vec)
{
	return m->fn_masked || (m->entry[vec].ctrl & ENTRY_MASKED);
}

static void send(struct msix *m, unsigned vec)
{
	const struct msix_entry *e = &m->entry[vec];
	msi_send(&m->sink, ((uint64_t)e->addr_hi << 32) | e->addr_lo, e->data);
}

/* §6.8.2.9: a pending message goes out once its vector is unmasked. */
static void flush_pending(struct msix *m)
{
	if (!m->enabled)
		return;
	for (unsigned v = 0; v < m->nvec; v++) {
		uint64_t bit = 1ULL << (v % 64);
		if ((m->pending[v / 64] & bit) && !masked(m, v)) {
			m->pending[v / 64] &= ~bit;
			send(m, v);
		}
	}
}

void msix_config_written(struct msix *m, const struct pci_config *c)
{
	uint32_t ctrl = pci_config_read(c, m->cap + 2, 2);
	m->enabled = ctrl & CTRL_ENABLE;
	m->fn_masked = ctrl & CTRL_FN_MASK;
	flush_pending(m);
}

bool msix_claims(const struct msix *m, uint64_t off)
{
	uint64_t table_end = m->table_off + (uint64_t)m->nvec * MSIX_ENTRY_SIZE;
	uint64_t pba_end = m->pba_off + 8 * ((m->nvec + 63) / 64);
	return (off >= m->table_off && off < table_end) || (off >= m->pba_off && off < pba_end);
}

static uint32_t *entry_word(struct msix *m, uint64_t off)
{
	uint64_t rel = off - m->table_off;
	struct msix_entry *e = &m->entry[rel / MSIX_ENTRY_SIZE];
	switch (rel % MSIX_ENTRY_SIZE) {
	case 0: return &e->addr_lo;
	case 4: return &e->addr_hi;
	case 8: return &e->data;
	default: return &e->ctrl;
	}
}

static bool in_table(const struct msix *m, uint64_t off)
{
	return off >= m->table_off && off - m->table_off < (uint64_t)m->nvec * MSIX_ENTRY_SIZE;
}

static void dword_access(struct msix *m, uint64_t off, bool is_write, uint32_t *v)
{
	if (in_table(m, off)) {
		uint32_t *w = entry_word(m, off);
		if (!is_write) {
			*v = *w;
			return;
		}
		/* Vector control: only the mask bit is defined (§6.8.2.9). */
		*w = (w == &m->entry[(off - m->table_off) / MSIX_ENTRY_SIZE].ctrl) ? (*v & ENTRY_MASKED) : *v;
		flush_pending(m);
		return;
	}
	/* The PBA is read-only (§6.8.2.10). */
	uint64_t rel = off - m->pba_off;
	if (!is_write) {
		uint64_t q = m->pending[rel / 8];
		*v = (uint32_t)(q >> (8 * (rel % 8)));
	}
}

void msix_bar_access(struct msix *m, uint64_t off, unsigned size, bool is_write, uint64_t *value)
{
	/* Aligned dwords and qwords only (§6.8.2: software uses them). */
	if (!msix_claims(m, off) || (size != 4 && size != 8) || (off & (size - 1))) {
		if (!is_write)
			*value = 0;
		log_debug("msix: ignored %u-byte %s at %#llx", size, is_write ? "write" : "read",
			  (unsigned long long)off);
		return;
	}
	for (unsigned i = 0; i < size; i += 4) {
		uint32_t v = (uint32_t)(*value >> (8 * i));
		if (i && !msix_claims(m, off + i))
			break;
		dword_access(m, off + i, is_write, &v);
		if (!is_write)
			*value = i ? (*value & 0xffffffffULL) | ((uint64_t)v << 32) : v;
	}
}

bool msix_notify(struct msix *m, unsigned vec)
{
	if (vec >= m->nvec)
		return false;
	if (!m->enabled || masked(m, vec))
		m->pending[vec / 64] |= 1ULL << (vec % 64);
	else
		send(m, vec);
	return true;
}
