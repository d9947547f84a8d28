/* Specialised handlers for the instruction forms compilers emit most (MOV,
 * the ALU operations, LEA, INC/DEC, PUSH/POP, Jcc/JMP/CALL/RET), chosen
 * once when a block is decoded (block.c) instead of re-dispatching on the
 * operand kinds at every execution. Each does exactly what the generic
 * handler does for that form; anything unusual (segmentation outside
 * 64-bit mode, a TLB miss, a page-straddling access, high-byte registers,
 * 16-bit operands) takes the generic path, so the general handlers stay
 * the single definition of the semantics. The differential tests run
 * through these handlers.
 *
 * Fault safety: these handlers touch memory before they change registers
 * or flags, so a fault leaves the instruction without effect.
 *
 * Dispatch is threaded: every handler here ends with a tail call to the
 * next op's handler (emu_block_next), so there is no central loop and each
 * handler's indirect jump is predicted on its own; generic handlers run
 * inside the chain through f_generic. */
#include <stddef.h>
#include <string.h>

#include "emu.h"

/* The block op an instruction belongs to: fast handlers are only installed
 * in blocks, whose ops carry the operands' register numbers. */
static inline const struct emu_block_op *op_of(const struct emu_insn *in)
{
	return (const struct emu_block_op *)(const void *)((const char *)in - offsetof(struct emu_block_op, in));
}

/* The host address of w bytes at linear lin when the TLB maps them inside
 * one page for this kind of access; NULL sends the caller to the slow path. */
static inline uint8_t *tlb_host(struct emu_cpu *cpu, uint64_t lin, unsigned w, unsigned kind)
{
	if ((lin & 0xfff) + w > 4096)
		return NULL;
	const struct emu_tlb_entry *e = &cpu->tlb.e[kind][(lin >> 12) & (EMU_TLB_SIZE - 1)];
	return e->tag == emu_tlb_tag(cpu, lin, kind) ? (uint8_t *)(uintptr_t)(lin + e->addend) : NULL;
}

static inline uint64_t load_w(const uint8_t *h, unsigned w)
{
	uint8_t b;
	uint16_t s;
	uint32_t d;
	uint64_t q;
	switch (w) {
	case 1: memcpy(&b, h, 1); return b;
	case 2: memcpy(&s, h, 2); return s;
	case 4: memcpy(&d, h, 4); return d;
	default: memcpy(&q, h, 8); return q;
	}
}

static inline void store_w(uint8_t *h, unsigned w, uint64_t v)
{
	uint8_t b = (uint8_t)v;
	uint16_t s = (uint16_t)v;
	uint32_t d = (uint32_t)v;
	switch (w) {
	case 1: memcpy(h, &b, 1); break;
	case 2: memcpy(h, &s, 2); break;
	case 4: memcpy(h, &d, 4); break;
	default: memcpy(h, &v, 8); break;
	}
}

/* Linear address of a memory operand in 64-bit mode (only FS and GS have
 * a base there, SDM vol. 3 §3.4.4). */
static inline uint64_t lin64(const struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off)
{
	return in->seg >= SEG_FS ? off + cpu->seg[in->seg].base : off;
}

/* The slow path reads into cpu->scratch so that no handler's local has its
 * address taken: that would keep the compiler from making the handler's
 * jump to the next one a tail call. */
static inline int mem_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned w, uint64_t *v)
{
	uint64_t off = emu_ea(cpu, in);
	if (emu_code64(cpu)) {
		const uint8_t *h = tlb_host(cpu, lin64(cpu, in, off), w, ACC_READ);
		if (h) {
			*v = load_w(h, w);
			return EMU_OK;
		}
	}
	int r = emu_read(cpu, in->seg, off, w, &cpu->scratch);
	*v = cpu->scratch;
	return r;
}

static inline int mem_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned w, uint64_t v)
{
	uint64_t off = emu_ea(cpu, in);
	if (emu_code64(cpu)) {
		uint8_t *h = tlb_host(cpu, lin64(cpu, in, off), w, ACC_WRITE);
		if (h) {
			emu_smc_note(cpu, (uintptr_t)h, w);
			store_w(h, w, v);
			return EMU_OK;
		}
	}
	return emu_write(cpu, in->seg, off, w, v);
}

/* Register results of 4 or 8 bytes (32-bit writes zero-extend). */
static inline void reg_put(struct emu_cpu *cpu, unsigned r, unsigned w, uint64_t v)
{
	cpu->gpr[r] = w == 8 ? v : (uint32_t)v;
}

static inline uint64_t reg_val(const struct emu_cpu *cpu, unsigned r, unsigned w)
{
	return cpu->gpr[r] & emu_mask(w);
}

/* Threaded dispatch: a fast handler ends by jumping straight to the next
 * op's handler (a tail call), so each handler's own indirect jump learns
 * its successors; the chain returns how many ops completed, or -1 - i when
 * op i faulted (cpu->exc holds the fault). */
#define FAULT() return -1 - (int)op->idx
#define FTRY(x)                          \
	do {                             \
		if ((x) != EMU_OK)       \
			FAULT();         \
	} while (0)
#define NEXT() return emu_block_next(cpu, op)
#define DONE() return (int)op->idx + 1
#define THIS_OP() const struct emu_block_op *op = op_of(in)

/* --- MOV and LEA --- */
static int f_mov_rr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	reg_put(cpu, op->r0, op->w, cpu->gpr[op->r1]);
	NEXT();
}

static int f_mov_ri(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	reg_put(cpu, op->r0, op->w, in->imm);
	NEXT();
}

static int f_mov_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	uint64_t v;
	FTRY(mem_read(cpu, in, op->w, &v));
	reg_put(cpu, op->r0, op->w, v);
	NEXT();
}

static int f_mov_mr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(mem_write(cpu, in, op->w, cpu->gpr[op->r1]));
	NEXT();
}

static int f_mov_mi(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(mem_write(cpu, in, op->w, in->imm));
	NEXT();
}

static int f_movzx_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	uint64_t v;
	FTRY(mem_read(cpu, in, in->opw[1], &v));
	reg_put(cpu, op->r0, op->w, v);
	NEXT();
}

static int f_movzx_rr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	reg_put(cpu, op->r0, op->w, reg_val(cpu, op->r1, in->opw[1]));
	NEXT();
}

static uint64_t sext(uint64_t v, unsigned w)
{
	switch (w) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	default: return (uint64_t)(int64_t)(int32_t)v;
	}
}

static int f_movsx_rm(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	uint64_t v;
	FTRY(mem_read(cpu, in, in->opw[1], &v));
	reg_put(cpu, op->r0, op->w, sext(v, in->opw[1]));
	NEXT();
}

static int f_movsx_rr(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	reg_put(cpu, op->r0, op->w, sext(cpu->gpr[op->r1], in->opw[1]));
	NEXT();
}

static int f_lea(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	reg_put(cpu, op->r0, op->w, emu_ea(cpu, in));
	NEXT();
}

static int f_nop(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	NEXT();
}

/* --- ALU: ADD OR AND SUB XOR CMP TEST (ADC/SBB need the carry: generic) ---
 * One function per operation and operand form; the flags are recorded
 * after the last memory access. */
#define ALU_OP_ADD(a, b) ((a) + (b))
#define ALU_OP_SUB(a, b) ((a) - (b))
#define ALU_OP_AND(a, b) ((a) & (b))
#define ALU_OP_OR(a, b) ((a) | (b))
#define ALU_OP_XOR(a, b) ((a) ^ (b))
#define ALU_LF_ADD LF_ADD
#define ALU_LF_SUB LF_SUB
#define ALU_LF_AND LF_LOGIC
#define ALU_LF_OR LF_LOGIC
#define ALU_LF_XOR LF_LOGIC

/* name, operation, write back? */
#define ALU_FORMS(NAME, OP, WB)                                                               \
	static int f_##NAME##_rr(struct emu_cpu *cpu, const struct emu_insn *in)              \
	{                                                                                     \
		THIS_OP();                                                                         \
		unsigned w = op->w;                                                           \
		uint64_t a = reg_val(cpu, op->r0, w), b = reg_val(cpu, op->r1, w);            \
		uint64_t r = ALU_OP_##OP(a, b) & emu_mask(w);                                 \
		emu_lf_set(cpu, ALU_LF_##OP, w, r, a, b, 0);                                  \
		if (WB)                                                                       \
			reg_put(cpu, op->r0, w, r);                                           \
		NEXT();                                                                       \
	}                                                                                     \
	static int f_##NAME##_ri(struct emu_cpu *cpu, const struct emu_insn *in)              \
	{                                                                                     \
		THIS_OP();                                                                         \
		unsigned w = op->w;                                                           \
		uint64_t a = reg_val(cpu, op->r0, w), b = in->imm & emu_mask(w);              \
		uint64_t r = ALU_OP_##OP(a, b) & emu_mask(w);                                 \
		emu_lf_set(cpu, ALU_LF_##OP, w, r, a, b, 0);                                  \
		if (WB)                                                                       \
			reg_put(cpu, op->r0, w, r);                                           \
		NEXT();                                                                       \
	}                                                                                     \
	static int f_##NAME##_rm(struct emu_cpu *cpu, const struct emu_insn *in)              \
	{                                                                                     \
		THIS_OP();                                                                         \
		unsigned w = op->w;                                                           \
		uint64_t a = reg_val(cpu, op->r0, w), b;                                      \
		FTRY(mem_read(cpu, in, w, &b));                                               \
		uint64_t r = ALU_OP_##OP(a, b) & emu_mask(w);                                 \
		emu_lf_set(cpu, ALU_LF_##OP, w, r, a, b, 0);                                  \
		if (WB)                                                                       \
			reg_put(cpu, op->r0, w, r);                                           \
		NEXT();                                                                       \
	}                                                                                     \
	static int f_##NAME##_mr(struct emu_cpu *cpu, const struct emu_insn *in)              \
	{                                                                                     \
		THIS_OP();                                                                         \
		unsigned w = op->w;                                                           \
		uint64_t a, b = reg_val(cpu, op->r1, w);                                      \
		FTRY(mem_read(cpu, in, w, &a));                                               \
		uint64_t r = ALU_OP_##OP(a, b) & emu_mask(w);                                 \
		if (WB)                                                                       \
			FTRY(mem_write(cpu, in, w, r));                                       \
		emu_lf_set(cpu, ALU_LF_##OP, w, r, a, b, 0);                                  \
		NEXT();                                                                       \
	}                                                                                     \
	static int f_##NAME##_mi(struct emu_cpu *cpu, const struct emu_insn *in)              \
	{                                                                                     \
		THIS_OP();                                                                         \
		unsigned w = op->w;                                                           \
		uint64_t a, b = in->imm & emu_mask(w);                                        \
		FTRY(mem_read(cpu, in, w, &a));                                               \
		uint64_t r = ALU_OP_##OP(a, b) & emu_mask(w);                                 \
		if (WB)                                                                       \
			FTRY(mem_write(cpu, in, w, r));                                       \
		emu_lf_set(cpu, ALU_LF_##OP, w, r, a, b, 0);                                  \
		NEXT();                                                                       \
	}

ALU_FORMS(add, ADD, 1)
ALU_FORMS(or, OR, 1)
ALU_FORMS(and, AND, 1)
ALU_FORMS(sub, SUB, 1)
ALU_FORMS(xor, XOR, 1)
ALU_FORMS(cmp, SUB, 0)
ALU_FORMS(test, AND, 0)

enum form { F_RR, F_RI, F_RM, F_MR, F_MI, F_NFORMS };
#define ALU_ROW(NAME) { f_##NAME##_rr, f_##NAME##_ri, f_##NAME##_rm, f_##NAME##_mr, f_##NAME##_mi }
static const emu_handler alu_fast[7][F_NFORMS] = {
	ALU_ROW(add), ALU_ROW(or), ALU_ROW(and), ALU_ROW(sub), ALU_ROW(xor), ALU_ROW(cmp), ALU_ROW(test),
};

static int f_inc_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	unsigned w = op->w;
	uint64_t a = reg_val(cpu, op->r0, w), r = (a + 1) & emu_mask(w);
	emu_lf_set(cpu, LF_INC, w, r, a, 1, emu_flag_cf(cpu));
	reg_put(cpu, op->r0, w, r);
	NEXT();
}

static int f_dec_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	unsigned w = op->w;
	uint64_t a = reg_val(cpu, op->r0, w), r = (a - 1) & emu_mask(w);
	emu_lf_set(cpu, LF_DEC, w, r, a, 1, emu_flag_cf(cpu));
	reg_put(cpu, op->r0, w, r);
	NEXT();
}

/* --- SHL/SHR/SAR of a register by an immediate, 1 or CL: flags lazily
 * (flags.c applies shift.c's rules) --- */
static inline void shift_r(struct emu_cpu *cpu, const struct emu_block_op *op, unsigned c, unsigned kind)
{
	unsigned w = op->w;
	uint64_t a = cpu->gpr[op->r0] & emu_mask(w), r;
	c &= w == 8 ? 63 : 31;
	if (c == 0) { /* no change, flags included; a 32-bit register is still zero-extended */
		reg_put(cpu, op->r0, w, a);
		return;
	}
	if (kind == LF_SHL) {
		r = (a << c) & emu_mask(w);
	} else if (kind == LF_SHR) {
		r = a >> c;
	} else {
		unsigned sh = 64 - 8 * w;
		r = (uint64_t)(((int64_t)(a << sh) >> sh) >> c) & emu_mask(w);
	}
	emu_lf_set(cpu, kind, w, r, a, c, 0);
	reg_put(cpu, op->r0, w, r);
}

static unsigned shift_count(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	switch (in->op[1].kind) {
	case OK_I: return (unsigned)in->imm & 0xff;
	case OK_ONE: return 1;
	default: return (unsigned)cpu->gpr[RCX] & 0xff; /* CL */
	}
}

static int f_shl_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	shift_r(cpu, op, shift_count(cpu, in), LF_SHL);
	NEXT();
}

static int f_shr_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	shift_r(cpu, op, shift_count(cpu, in), LF_SHR);
	NEXT();
}

static int f_sar_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	shift_r(cpu, op, shift_count(cpu, in), LF_SAR);
	NEXT();
}

/* --- stack and near branches, 64-bit mode with a 64-bit operand size --- */
/* A 64-bit push through the TLB (the generic path on a miss), and a read
 * of the stack top into cpu->scratch with RSP unchanged. */
static inline int push64(struct emu_cpu *cpu, uint64_t v)
{
	uint64_t sp = cpu->gpr[RSP] - 8;
	uint8_t *h = tlb_host(cpu, sp, 8, ACC_WRITE);
	if (!h)
		return emu_push(cpu, 8, v);
	emu_smc_note(cpu, (uintptr_t)h, 8);
	store_w(h, 8, v);
	cpu->gpr[RSP] = sp;
	return EMU_OK;
}

static inline int top64(struct emu_cpu *cpu)
{
	uint64_t sp = cpu->gpr[RSP];
	const uint8_t *h = tlb_host(cpu, sp, 8, ACC_READ);
	if (!h)
		return emu_read(cpu, SEG_SS, sp, 8, &cpu->scratch);
	cpu->scratch = load_w(h, 8);
	return EMU_OK;
}

static int f_push_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(push64(cpu, cpu->gpr[op->r0]));
	NEXT();
}

static int f_pop_r(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(top64(cpu));
	cpu->gpr[RSP] += 8;
	cpu->gpr[op->r0] = cpu->scratch; /* pop rsp: the popped value wins */
	NEXT();
}

/* Branches end their block: they return instead of chaining on. A target
 * must be canonical (#GP(0) before anything changes). */
static inline int target_ok(struct emu_cpu *cpu, uint64_t t)
{
	return emu_canonical(t) ? EMU_OK : emu_gp(cpu, 0);
}

static inline int jump64(struct emu_cpu *cpu, uint64_t t)
{
	EMU_TRY(target_ok(cpu, t));
	cpu->next_rip = t;
	return EMU_OK;
}

static int f_jcc64(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	int q = -1;
	if (cpu->lf.op == LF_SUB || cpu->lf.op == LF_LOGIC)
		q = emu_lazy_cond(&cpu->lf, in->cond >> 1);
	bool take = q >= 0 ? (q ^ (in->cond & 1)) : emu_cond(cpu, in->cond);
	if (take)
		FTRY(jump64(cpu, cpu->next_rip + in->imm));
	DONE();
}

static int f_jmp64(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(jump64(cpu, cpu->next_rip + in->imm));
	DONE();
}

/* JMP r/m64 (FF /4): the jump tables of switch statements */
static int f_jmp64_e(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	uint64_t t;
	if (in->has_mem)
		FTRY(mem_read(cpu, in, 8, &t));
	else
		t = cpu->gpr[op->r0];
	FTRY(jump64(cpu, t));
	DONE();
}

static int f_call64(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	uint64_t ret = cpu->next_rip, target = ret + in->imm;
	FTRY(target_ok(cpu, target));
	FTRY(push64(cpu, ret));
	cpu->next_rip = target;
	DONE();
}

static int f_ret64(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	FTRY(top64(cpu));
	uint64_t v = cpu->scratch;
	FTRY(target_ok(cpu, v));
	cpu->gpr[RSP] += 8;
	cpu->next_rip = v;
	(void)in;
	DONE();
}

/* A generic handler inside a chain: the instruction's own RIP for faults
 * and pushes, flags restored if it faults (a generic handler may record
 * flags before a later memory access faults: ADC retried after a
 * copy-on-write #PF must see the old carry), and the chain stops where the
 * instruction changed control flow or the machine's state. */
static int f_generic(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	struct emu_lazy lf_save = cpu->lf;
	uint64_t flags_save = cpu->rflags;
	cpu->rip = (op->next - in->len) & emu_mask(in->mode);
	if (op->gfn(cpu, in) != EMU_OK) {
		cpu->lf = lf_save;
		cpu->rflags = flags_save;
		FAULT();
	}
	cpu->irq_poll = true; /* it may have unmasked or raised an interrupt */
	if (cpu->next_rip != op->next || cpu->state != EMU_RUNNING)
		DONE();
	NEXT();
}

/* After the last op of a block that falls through. */
static int f_end(struct emu_cpu *cpu, const struct emu_insn *in)
{
	THIS_OP();
	(void)cpu;
	return (int)op->idx;
}

emu_handler emu_block_end_handler(void)
{
	return f_end;
}

emu_handler emu_generic_handler(void)
{
	return f_generic;
}

/* Operand n as a fast handler sees it: a general register (its number in
 * *reg), memory, or an immediate. */
enum fkind { K_REG, K_MEM, K_IMM, K_OTHER };

static enum fkind kind_of(const struct emu_insn *in, unsigned n, uint8_t *reg)
{
	const struct emu_opspec *o = &in->op[n];
	switch (o->kind) {
	case OK_E:
	case OK_M:
		if (in->has_mem)
			return K_MEM;
		break;
	case OK_G:
	case OK_R:
	case OK_Z:
	case OK_REG:
		break;
	case OK_I:
		return K_IMM;
	default:
		return K_OTHER;
	}
	unsigned r = emu_op_reg(in, n) & 15;
	/* AH/CH/DH/BH without REX: the generic path knows them */
	if (in->opw[n] == 1 && !in->rex && r >= 4 && r < 8)
		return K_OTHER;
	*reg = (uint8_t)r;
	return K_REG;
}

static int alu_row(unsigned mnem)
{
	switch (mnem) {
	case M_ADD: return 0;
	case M_OR: return 1;
	case M_AND: return 2;
	case M_SUB: return 3;
	case M_XOR: return 4;
	case M_CMP: return 5;
	case M_TEST: return 6;
	default: return -1;
	}
}

emu_handler emu_fast_handler(struct emu_block_op *op, unsigned code_size)
{
	const struct emu_insn *in = &op->in;
	uint8_t r0 = 0, r1 = 0;
	unsigned w = in->opw[0];
	bool wide = w == 4 || w == 8;
	enum fkind k0 = kind_of(in, 0, &r0), k1 = in->op[1].kind ? kind_of(in, 1, &r1) : K_OTHER;
	op->r0 = r0;
	op->r1 = r1;
	op->w = (uint8_t)w;
	bool b64 = code_size == 8;

	switch (in->mnem) {
	case M_MOV:
		if (k0 == K_REG && wide && k1 == K_REG && in->opw[1] == w)
			return f_mov_rr;
		if (k0 == K_REG && wide && k1 == K_IMM)
			return f_mov_ri;
		if (k0 == K_REG && wide && k1 == K_MEM)
			return f_mov_rm;
		if (k0 == K_MEM && k1 == K_REG)
			return f_mov_mr;
		if (k0 == K_MEM && k1 == K_IMM)
			return f_mov_mi;
		return NULL;
	case M_MOVZX:
	case M_MOVSX:
	case M_MOVSXD:
		if (k0 != K_REG || !wide || (k1 != K_REG && k1 != K_MEM) || in->opw[1] >= w)
			return NULL;
		if (in->mnem == M_MOVZX)
			return k1 == K_REG ? f_movzx_rr : f_movzx_rm;
		return k1 == K_REG ? f_movsx_rr : f_movsx_rm;
	case M_LEA:
		return k0 == K_REG && wide ? f_lea : NULL;
	case M_NOP:
		return f_nop;
	case M_SHL:
	case M_SHR:
	case M_SAR:
		if (k0 != K_REG || !wide)
			return NULL;
		if (in->op[1].kind != OK_I && in->op[1].kind != OK_ONE &&
		    !(in->op[1].kind == OK_REG && in->op[1].reg == RCX))
			return NULL;
		return in->mnem == M_SHL ? f_shl_r : in->mnem == M_SHR ? f_shr_r : f_sar_r;
	case M_INC:
	case M_DEC:
		if (k0 != K_REG || !wide)
			return NULL;
		return in->mnem == M_INC ? f_inc_r : f_dec_r;
	case M_PUSH:
		return b64 && k0 == K_REG && in->opsize == 8 ? f_push_r : NULL;
	case M_POP:
		return b64 && k0 == K_REG && in->opsize == 8 ? f_pop_r : NULL;
	case M_JCC:
		return b64 && in->opsize == 8 ? f_jcc64 : NULL;
	case M_JMP:
		if (!b64 || in->opsize != 8)
			return NULL;
		if (in->op[0].kind == OK_J)
			return f_jmp64;
		return k0 == K_REG || k0 == K_MEM ? f_jmp64_e : NULL;
	case M_CALL:
		return b64 && in->op[0].kind == OK_J && in->opsize == 8 ? f_call64 : NULL;
	case M_RET: /* C3 only; RET imm16 goes the generic way */
		return b64 && in->opsize == 8 && in->op[0].kind == OK_NONE ? f_ret64 : NULL;
	default:
		break;
	}
	int row = alu_row(in->mnem);
	if (row < 0)
		return NULL;
	if (k0 == K_REG && wide && k1 == K_REG && in->opw[1] == w)
		return alu_fast[row][F_RR];
	if (k0 == K_REG && wide && k1 == K_IMM)
		return alu_fast[row][F_RI];
	if (k0 == K_REG && wide && k1 == K_MEM)
		return alu_fast[row][F_RM];
	if (k0 == K_MEM && k1 == K_REG && in->opw[1] == w)
		return alu_fast[row][F_MR];
	if (k0 == K_MEM && k1 == K_IMM)
		return alu_fast[row][F_MI];
	return NULL;
}
