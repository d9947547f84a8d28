/* Decoded blocks: the interpreter's fast path. A block is a run of
 * straight-line instructions inside one guest page, decoded once and then
 * executed from its decoded form with each instruction's handler chosen at
 * decode time (the shape a JIT's translation block will take).
 *
 * Why a block stays correct without write-protecting guest code: a block
 * keeps a copy of the bytes it was decoded from, and every entry compares
 * them with the bytes now in guest memory at the block's linear address
 * (found through the fetch TLB, so paging and privilege checks are those of
 * an ordinary fetch). Decoding is a pure function of the bytes and the code
 * size, so equal bytes mean an equal decode, whatever wrote the page and
 * whichever mapping leads there. A write into the running block itself
 * (self-modifying code) is caught by the write path (emu_smc_note) and ends
 * the block after the writing instruction, as the SDM asks for stores to
 * the instruction stream (vol. 3 §11.6).
 *
 * Interrupts and single-step: pending interrupts are taken between blocks;
 * every instruction that changes interrupt, paging, mode or control state
 * ends its block, so a new interrupt waits at most one block. When the
 * trace, TF, an interrupt shadow or a page-straddling instruction is
 * involved, the caller falls back to emu_step. */
#include <stdlib.h>
#include <string.h>

#include "emu.h"

/* Blocks are found through a direct-mapped table of headers; their ops and
 * bytes live in an arena that is emptied as a whole when full (as QEMU
 * flushes its translation buffer), so small blocks take little room. */
#define BLOCK_BITS 14
#define BLOCK_COUNT (1u << BLOCK_BITS)
#define ARENA_SIZE (16u << 20) /* touched only as blocks are built */

struct emu_block {
	uint64_t rip;               /* CS offset of the first instruction */
	struct emu_block_op *op;    /* n ops, then nbytes code bytes; in the arena */
	uint8_t mode;               /* code size it was decoded for */
	uint8_t n;                  /* instructions; 0: empty */
	uint16_t nbytes;
};

struct emu_bcache {
	struct emu_block table[BLOCK_COUNT];
	size_t used;
	_Alignas(16) uint8_t arena[ARENA_SIZE];
};

struct emu_bcache *emu_bcache_new(void)
{
	return calloc(1, sizeof(struct emu_bcache));
}

void emu_bcache_free(struct emu_bcache *bc)
{
	free(bc);
}

static const uint8_t *block_bytes(const struct emu_block *b)
{
	return (const uint8_t *)(b->op + b->n + 1); /* after the end op */
}

/* Instructions after which the block goes on: they change neither control
 * flow nor the state that decoding, interrupts or translation depend on. */
static bool continues(unsigned mnem)
{
	switch (mnem) {
	case M_ADD: case M_OR: case M_ADC: case M_SBB: case M_AND: case M_SUB: case M_XOR:
	case M_CMP: case M_TEST: case M_INC: case M_DEC: case M_NOT: case M_NEG:
	case M_MUL: case M_IMUL1: case M_IMUL: case M_DIV: case M_IDIV:
	case M_ROL: case M_ROR: case M_RCL: case M_RCR: case M_SHL: case M_SHR: case M_SAR:
	case M_SHLD: case M_SHRD:
	case M_MOV: case M_MOVZX: case M_MOVSX: case M_MOVSXD: case M_LEA:
	case M_XCHG: case M_CMPXCHG: case M_CMPXCHG8B: case M_XADD: case M_BSWAP: case M_CBW:
	case M_CWD: case M_XLAT:
	case M_BT: case M_BTS: case M_BTR: case M_BTC: case M_BSF: case M_BSR: case M_POPCNT:
	case M_SETCC: case M_CMOV:
	case M_PUSH: case M_POP: case M_PUSHSEG: case M_PUSHA: case M_POPA: case M_ENTER: case M_LEAVE:
	case M_MOVS: case M_CMPS: case M_STOS: case M_LODS: case M_SCAS:
	case M_NOP: case M_CMC: case M_CLC: case M_STC: case M_CLD: case M_STD: case M_SAHF:
	case M_LAHF: case M_FENCE:
		return true;
	default:
		return mnem >= M_MOVUPS && mnem <= M_CVTPD2DQ; /* SSE: data only */
	}
}

static unsigned block_index(uint64_t rip)
{
	return (unsigned)((rip ^ (rip >> BLOCK_BITS)) & (BLOCK_COUNT - 1));
}

/* Decodes a block at rip from the code bytes at host (avail of them up to
 * the page end or the CS limit). Returns false when not even the first
 * instruction decodes inside the page: the slow path then raises the fault
 * or fetches across the page boundary. */
static bool build(struct emu_cpu *cpu, struct emu_block *b, uint64_t rip, const uint8_t *host, unsigned avail)
{
	struct emu_bcache *bc = cpu->bcache;
	size_t worst = (EMU_BLOCK_INSNS + 1) * sizeof(struct emu_block_op) + EMU_BLOCK_BYTES;
	if (bc->used + worst > ARENA_SIZE) {
		memset(bc->table, 0, sizeof(bc->table));
		bc->used = 0;
	}
	struct emu_block_op *ops = (struct emu_block_op *)(void *)(bc->arena + bc->used);
	unsigned off = 0, n = 0;
	b->n = 0;
	while (n < EMU_BLOCK_INSNS) {
		struct emu_block_op *op = &ops[n];
		unsigned room = avail - off;
		if (room > EMU_INSN_MAX)
			room = EMU_INSN_MAX;
		if (room == 0 || emu_decode(host + off, room, cpu->code_size, &op->in) != EMU_DEC_OK)
			break;
		if (off + op->in.len > EMU_BLOCK_BYTES)
			break;
		op->gfn = emu_insn_handler(op->in.mnem);
		if (!op->gfn)
			break; /* not implemented: emu_step reports it */
		op->fn = emu_fast_handler(op, cpu->code_size);
		if (!op->fn)
			op->fn = emu_generic_handler();
		op->idx = (uint8_t)n;
		op->next = (rip + off + op->in.len) & emu_mask(cpu->code_size);
		off += op->in.len;
		n++;
		if (!continues(op->in.mnem))
			break;
	}
	if (n == 0)
		return false;
	struct emu_block_op *end = &ops[n];
	end->fn = emu_block_end_handler();
	end->idx = (uint8_t)n;
	end->next = ops[n - 1].next;
	memcpy(ops + n + 1, host, off);
	b->rip = rip;
	b->op = ops;
	b->mode = cpu->code_size;
	b->nbytes = (uint16_t)off;
	b->n = (uint8_t)n;
	bc->used += ((n + 1) * sizeof(struct emu_block_op) + off + 15) & ~(size_t)15;
	return true;
}

/* The host address of the code at CS:rip with at least `need` bytes
 * available, or NULL (then *avail is meaningless). Never faults. */
static const uint8_t *code_at(struct emu_cpu *cpu, uint64_t rip, unsigned *avail)
{
	uint64_t lin = rip;
	unsigned lim = 4096 - (unsigned)(rip & 0xfff);
	if (!emu_code64(cpu)) {
		const struct x86_segment *cs = &cpu->seg[SEG_CS];
		if (rip > cs->limit)
			return NULL;
		lin = (cs->base + rip) & 0xffffffffULL;
		lim = 4096 - (unsigned)(lin & 0xfff);
		if (cs->limit - rip + 1 < lim)
			lim = (unsigned)(cs->limit - rip + 1);
	}
	*avail = lim;
	/* the fetch TLB's hit path inline; emu_fetch_host fills it on a miss */
	const struct emu_tlb_entry *e = &cpu->tlb.e[ACC_FETCH][(lin >> 12) & (EMU_TLB_SIZE - 1)];
	if (e->tag == emu_tlb_tag(cpu, lin, ACC_FETCH))
		return (const uint8_t *)(uintptr_t)(lin + e->addend);
	return emu_fetch_host(cpu, lin);
}

/* Are the n bytes at a and b equal? Word compares: this runs at every
 * block entry, and blocks are a few dozen bytes. */
static bool same_code(const uint8_t *a, const uint8_t *b, unsigned n)
{
	uint64_t x, y;
	uint32_t u, v;
	if (n < 8) { /* two overlapping 4-byte compares, or bytes */
		if (n < 4)
			return memcmp(a, b, n) == 0;
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	for (unsigned i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	/* the last 8 bytes, overlapping the loop's: nothing read past the end */
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

int emu_run_block(struct emu_cpu *cpu)
{
	uint64_t rip = cpu->rip;
	unsigned avail;
	const uint8_t *host = code_at(cpu, rip, &avail);
	if (!host)
		return -1;
	struct emu_block *b = &cpu->bcache->table[block_index(rip)];
	if (b->n == 0 || b->rip != rip || b->mode != cpu->code_size || b->nbytes > avail ||
	    !same_code(block_bytes(b), host, b->nbytes)) {
		if (!build(cpu, b, rip, host, avail))
			return -1;
	}

	cpu->smc_lo = (uintptr_t)host;
	cpu->smc_hi = (uintptr_t)host + b->nbytes;
	cpu->block_stop = false;
	cpu->iundef = false;
	const struct emu_block_op *first = &b->op[0];
	cpu->next_rip = first->next;
	int r = first->fn(cpu, &first->in);
	cpu->smc_lo = cpu->smc_hi = 0;
	if (r >= 0) {
		cpu->rip = cpu->next_rip;
		cpu->icount += (uint64_t)r;
		return r;
	}
	int i = -1 - r;
	const struct emu_block_op *op = &b->op[i];
	uint64_t at = (op->next - op->in.len) & emu_mask(cpu->code_size);
	cpu->rip = at;
	cpu->ilen = op->in.len;
	memcpy(cpu->ibytes, host + (at - rip), op->in.len);
	cpu->icount += (uint64_t)i;
	return emu_finish_fault(cpu) ? i : -2;
}
