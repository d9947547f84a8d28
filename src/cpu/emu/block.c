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
#include <string.h>

#include "emu.h"

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
	return (unsigned)((rip ^ (rip >> EMU_BLOCK_BITS)) & (EMU_BLOCK_COUNT - 1));
}

/* Decodes a block at rip from the code bytes at host (avail of them up to
 * the page end or the CS limit). Returns false when not even the first
 * instruction decodes inside the page: the slow path then raises the fault
 * or fetches across the page boundary. */
static bool build(struct emu_cpu *cpu, struct emu_block *b, uint64_t rip, const uint8_t *host, unsigned avail)
{
	unsigned off = 0, n = 0;
	b->n = 0;
	while (n < EMU_BLOCK_INSNS) {
		struct emu_block_op *op = &b->op[n];
		unsigned room = avail - off;
		if (room > EMU_INSN_MAX)
			room = EMU_INSN_MAX;
		if (room == 0 || emu_decode(host + off, room, cpu->code_size, &op->in) != EMU_DEC_OK)
			break;
		if (off + op->in.len > EMU_BLOCK_BYTES)
			break;
		op->fn = emu_fast_handler(op, cpu->code_size);
		if (!op->fn)
			op->fn = emu_insn_handler(op->in.mnem);
		if (!op->fn)
			break; /* not implemented: emu_step reports it */
		off += op->in.len;
		n++;
		if (!continues(op->in.mnem))
			break;
	}
	if (n == 0)
		return false;
	memcpy(b->bytes, host, off);
	b->rip = rip;
	b->mode = cpu->code_size;
	b->nbytes = (uint16_t)off;
	b->n = (uint8_t)n;
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
	const uint8_t *p = emu_fetch_host(cpu, lin);
	*avail = lim;
	return p;
}

int emu_run_block(struct emu_cpu *cpu)
{
	uint64_t rip = cpu->rip;
	unsigned avail;
	const uint8_t *host = code_at(cpu, rip, &avail);
	if (!host)
		return -1;
	struct emu_block *b = &cpu->blocks[block_index(rip)];
	if (b->n == 0 || b->rip != rip || b->mode != cpu->code_size || b->nbytes > avail ||
	    memcmp(b->bytes, host, b->nbytes) != 0) {
		if (!build(cpu, b, rip, host, avail))
			return -1;
	}

	uint64_t mask = emu_mask(cpu->code_size);
	cpu->smc_lo = (uintptr_t)host;
	cpu->smc_hi = (uintptr_t)host + b->nbytes;
	cpu->smc_hit = false;
	cpu->iundef = false;
	unsigned i, n = b->n;
	int ran = 0;
	for (i = 0; i < n; i++) {
		const struct emu_block_op *op = &b->op[i];
		uint64_t next = (rip + op->in.len) & mask;
		struct emu_lazy lf_save = cpu->lf;
		uint64_t flags_save = cpu->rflags;
		cpu->next_rip = next;
		int r = op->fn(cpu, &op->in);
		if (r != EMU_OK) {
			/* as emu_step: a faulting instruction leaves no flag changes */
			cpu->lf = lf_save;
			cpu->rflags = flags_save;
			cpu->ilen = op->in.len;
			memcpy(cpu->ibytes, (const uint8_t *)cpu->smc_lo + (rip - b->rip), op->in.len);
			cpu->smc_lo = cpu->smc_hi = 0;
			return emu_finish_fault(cpu) ? ran : -2;
		}
		cpu->rip = cpu->next_rip;
		ran++;
		if (cpu->rip != next || cpu->smc_hit || cpu->state != EMU_RUNNING)
			break;
		rip = next;
	}
	cpu->icount += (uint64_t)ran;
	cpu->smc_lo = cpu->smc_hi = 0;
	return ran;
}
