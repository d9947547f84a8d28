/* The decoder proper: prefixes, opcode map lookup, group refinement,
 * ModRM/SIB/displacement and immediates (SDM vol. 2 chapter 2). Pure: it
 * reads only the buffer it is given and writes only *in. */
#include "decode.h"

#include <string.h>

struct cursor {
	const uint8_t *buf;
	size_t len, pos;
};

/* Can n more bytes be read? The 15-byte limit wins over a short buffer,
 * because the CPU raises #GP for an over-long instruction (SDM vol. 2 §2.3.11)
 * whatever lies behind it. */
static enum emu_decode_status need(const struct cursor *c, size_t n)
{
	if (c->pos + n > EMU_INSN_MAX)
		return EMU_DEC_TOOLONG;
	if (c->pos + n > c->len)
		return EMU_DEC_MORE;
	return EMU_DEC_OK;
}

static uint64_t take(struct cursor *c, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)c->buf[c->pos + i] << (8 * i);
	c->pos += n;
	return v;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	if (bytes >= 8)
		return (int64_t)v;
	unsigned shift = 64 - 8 * bytes;
	return (int64_t)(v << shift) >> shift;
}

static unsigned size_bytes(unsigned sz, const struct emu_insn *in)
{
	switch (sz) {
	case SZ_B: return 1;
	case SZ_W: return 2;
	case SZ_D: return 4;
	case SZ_Q: return 8;
	case SZ_V: return in->opsize;
	case SZ_Z: return in->opsize == 2 ? 2 : 4;
	case SZ_Y: return in->opsize == 8 ? 8 : 4;
	case SZ_P: return in->opsize + 2;
	case SZ_S: return in->mode == 8 ? 10 : 6;
	case SZ_X: return 16;
	default: return 0;
	}
}

static const struct emu_opdesc row_xchg_r8 = { M_XCHG, 0, 0, { { OK_Z, SZ_V, 0 }, { OK_REG, SZ_V, 0 }, { 0, 0, 0 } } };
static const struct emu_opdesc row_pause = { M_PAUSE, 0, 0, { { 0, 0, 0 } } };
static const struct emu_opdesc row_movsxd = { M_MOVSXD, DF_MODRM, 0, { { OK_G, SZ_V, 0 }, { OK_E, SZ_D, 0 }, { 0, 0, 0 } } };
static const struct emu_opdesc row_3byte = { M_INVALID, DF_MODRM, 0, { { 0, 0, 0 } } };
/* SIMD rows of the 0F map with no entry for the prefix given (MMX, SSE3+),
 * decoded only for their length so that a #UD report names the whole
 * instruction. */
static const struct emu_opdesc row_simd = { M_INVALID, DF_MODRM, 0, { { 0, 0, 0 } } };
static const struct emu_opdesc row_simd_ib = { M_INVALID, DF_MODRM, 0, { { 0, 0, 0 }, { 0, 0, 0 }, { OK_I, SZ_B, 0 } } };

static const struct emu_opdesc *simd_row(uint8_t op)
{
	if ((op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6))
		return &row_simd_ib;
	if ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f && op != 0x77) ||
	    op >= 0xd0 || op == 0xc3)
		return &row_simd;
	return NULL;
}

/* ModRM addressing, SDM vol. 2 tables 2-1 (16-bit) and 2-2/2-3 (32/64-bit). */
static enum emu_decode_status decode_modrm_mem(struct cursor *c, struct emu_insn *in)
{
	enum emu_decode_status st;
	unsigned dispsz = 0;
	in->has_mem = 1;
	if (in->addrsize == 2) {
		static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };   /* BX BX BP BP SI DI BP BX */
		static const uint8_t index16[8] = { 6, 7, 6, 7, EMU_NO_REG, EMU_NO_REG, EMU_NO_REG, EMU_NO_REG };
		unsigned rm = in->modrm & 7;
		in->base = base16[rm];
		in->index = index16[rm];
		if (in->mod == 0 && rm == 6) {
			in->base = EMU_NO_REG;
			dispsz = 2;
		} else {
			dispsz = in->mod == 1 ? 1 : in->mod == 2 ? 2 : 0;
		}
		if (in->base == 5) /* BP-based forms default to SS */
			in->seg = 2;
	} else {
		unsigned rm = in->modrm & 7;
		if (rm == 4) {
			if ((st = need(c, 1)))
				return st;
			unsigned sib = (unsigned)take(c, 1);
			unsigned idx = ((sib >> 3) & 7) | (in->rex & 2 ? 8 : 0);
			in->scale = (uint8_t)(sib >> 6);
			in->index = idx == 4 ? EMU_NO_REG : (uint8_t)idx;
			in->base = (uint8_t)((sib & 7) | (in->rex & 1 ? 8 : 0));
			if ((sib & 7) == 5 && in->mod == 0) {
				in->base = EMU_NO_REG;
				dispsz = 4;
			}
		} else if (rm == 5 && in->mod == 0) {
			in->base = EMU_NO_REG;
			in->rip_rel = in->mode == 8;
			dispsz = 4;
		} else {
			in->base = (uint8_t)(rm | (in->rex & 1 ? 8 : 0));
		}
		if (in->mod == 1)
			dispsz = 1;
		else if (in->mod == 2)
			dispsz = 4;
		if (in->base == 4 || in->base == 5) /* rSP/rBP bases default to SS */
			in->seg = 2;
	}
	if (dispsz) {
		if ((st = need(c, dispsz)))
			return st;
		in->disp = sext(take(c, dispsz), dispsz);
	}
	return EMU_DEC_OK;
}

static enum emu_decode_status decode_prefixes(struct cursor *c, struct emu_insn *in)
{
	enum emu_decode_status st;
	for (;;) {
		if ((st = need(c, 1)))
			return st;
		uint8_t b = c->buf[c->pos];
		switch (b) {
		case 0x66: in->opsize_prefix = 1; break;
		case 0x67: in->addrsize_prefix = 1; break;
		case 0xf0: in->lock = 1; break;
		case 0xf2: in->rep = EMU_REP_F2; break;
		case 0xf3: in->rep = EMU_REP_F3; break;
		case 0x26: in->segovr = 0; break;
		case 0x2e: in->segovr = 1; break;
		case 0x36: in->segovr = 2; break;
		case 0x3e: in->segovr = 3; break;
		case 0x64: in->segovr = 4; break;
		case 0x65: in->segovr = 5; break;
		default:
			if (in->mode == 8 && (b & 0xf0) == 0x40) {
				in->rex = b;
				c->pos++;
				continue;
			}
			return EMU_DEC_OK;
		}
		/* A REX prefix counts only right before the opcode (SDM vol. 2 §2.2.1). */
		in->rex = 0;
		c->pos++;
	}
}

static void set_sizes(struct emu_insn *in)
{
	unsigned f = in->flags;
	if (in->mode == 8) {
		if (f & DF_F64)
			in->opsize = 8;
		else if (in->rex & 8)
			in->opsize = 8;
		else if (in->opsize_prefix)
			in->opsize = 2;
		else
			in->opsize = (f & DF_D64) ? 8 : 4;
		in->addrsize = in->addrsize_prefix ? 4 : 8;
	} else {
		in->opsize = ((in->mode == 4) ^ in->opsize_prefix) ? 4 : 2;
		in->addrsize = ((in->mode == 4) ^ in->addrsize_prefix) ? 4 : 2;
	}
}

static enum emu_decode_status decode_operands(struct cursor *c, struct emu_insn *in)
{
	enum emu_decode_status st;
	unsigned nimm = 0;
	for (int i = 0; i < 3; i++) {
		const struct emu_opspec *o = &in->op[i];
		in->opw[i] = (uint8_t)size_bytes(o->size, in);
		unsigned n = 0;
		switch (o->kind) {
		case OK_M:
			if (!in->has_mem)
				return EMU_DEC_UD;
			break;
		case OK_U:
		case OK_N:
			if (in->has_mem)
				return EMU_DEC_UD;
			break;
		case OK_R:
			/* MOV to/from CR/DR ignore mod (SDM vol. 2, MOV—Move to/from Control Registers). */
			if (in->has_mem && in->mnem != M_MOVCR && in->mnem != M_MOVDR)
				return EMU_DEC_UD;
			break;
		case OK_I:
			n = in->opw[i];
			break;
		case OK_J:
			n = in->opw[i];
			break;
		case OK_O:
			n = in->addrsize;
			break;
		case OK_A:
			n = in->opsize == 2 ? 2 : 4;
			break;
		default:
			break;
		}
		if (!n)
			continue;
		if ((st = need(c, n)))
			return st;
		uint64_t v = take(c, n);
		if (o->kind == OK_A) {
			in->imm = v;
			if ((st = need(c, 2)))
				return st;
			in->imm2 = take(c, 2);
		} else if (o->kind == OK_O) {
			in->imm = v;
		} else if (nimm++ == 0) {
			in->imm = (uint64_t)sext(v, n);
		} else {
			in->imm2 = v;
		}
	}
	return EMU_DEC_OK;
}

enum emu_decode_status emu_decode(const uint8_t *buf, size_t len, unsigned mode, struct emu_insn *in)
{
	struct cursor c = { buf, len, 0 };
	enum emu_decode_status st;

	memset(in, 0, sizeof(*in));
	in->mode = (uint8_t)mode;
	in->segovr = EMU_NO_REG;
	in->base = in->index = EMU_NO_REG;
	in->seg = 3; /* DS */
	if ((st = decode_prefixes(&c, in)))
		goto out;

	const struct emu_opdesc *d;
	if ((st = need(&c, 1)))
		goto out;
	uint8_t op = (uint8_t)take(&c, 1);
	if (op == 0x0f) {
		if ((st = need(&c, 1)))
			goto out;
		op = (uint8_t)take(&c, 1);
		if (op == 0x38 || op == 0x3a) {
			/* Three-byte maps: nothing implemented, but decode the length
			 * (all have ModRM; 0F3A adds an imm8) so #UD names all bytes. */
			in->map = op == 0x38 ? 2 : 3;
			if ((st = need(&c, 1)))
				goto out;
			op = (uint8_t)take(&c, 1);
			d = &row_3byte;
		} else {
			in->map = 1;
			d = &emu_map2[op];
			if (d->mnem == M_INVALID && !d->flags) {
				/* SSE rows: the last of F2/F3 decides, else 66 (SDM vol. 2 §2.1.2, §A.3) */
				in->mpfx = in->rep == EMU_REP_F3 ? EMU_PFX_F3 : in->rep == EMU_REP_F2 ? EMU_PFX_F2 :
					   in->opsize_prefix ? EMU_PFX_66 : EMU_PFX_NP;
				const struct emu_opdesc *p = &emu_map2_pfx[op][in->mpfx];
				if (p->flags)
					d = p;
				else if (simd_row(op))
					d = simd_row(op);
			}
		}
	} else {
		d = &emu_map1[op];
		if (op == 0x90 && (in->rex & 1))
			d = &row_xchg_r8;
		else if (op == 0x90 && in->rep == EMU_REP_F3)
			d = &row_pause;
		else if (op == 0x63 && mode == 8)
			d = &row_movsxd;
	}
	in->opcode = op;
	in->desc = d;
	in->mnem = d->mnem;
	in->flags = d->flags;
	memcpy(in->op, d->op, sizeof(in->op));
	if (in->map == 1 && op == 0xb8 && in->rep != EMU_REP_F3)
		in->mnem = M_INVALID; /* POPCNT needs its F3 prefix */

	if (in->flags & DF_MODRM) {
		if ((st = need(&c, 1)))
			goto out;
		in->has_modrm = 1;
		in->modrm = (uint8_t)take(&c, 1);
		in->mod = in->modrm >> 6;
		in->reg = (uint8_t)(((in->modrm >> 3) & 7) | (in->rex & 4 ? 8 : 0));
		in->rm = (uint8_t)((in->modrm & 7) | (in->rex & 1 ? 8 : 0));
		if (in->flags & DF_GROUP) {
			const struct emu_opdesc *g = emu_group_entry(d->group, in);
			in->desc = g;
			in->mnem = g->mnem;
			in->flags = (uint16_t)((d->flags & ~DF_GROUP) | g->flags);
			if (g->op[0].kind != OK_NONE)
				memcpy(in->op, g->op, sizeof(in->op));
		}
	}
	if (in->flags & DF_COND)
		in->cond = op & 0xf;
	set_sizes(in);
	if (in->has_modrm && in->mod != 3 && (st = decode_modrm_mem(&c, in)))
		goto out;
	if (in->map >= 2) {
		if (in->map == 3) {
			if ((st = need(&c, 1)))
				goto out;
			take(&c, 1);
		}
		st = EMU_DEC_UD;
		goto out;
	}
	if (in->segovr != EMU_NO_REG)
		in->seg = in->segovr;
	if ((st = decode_operands(&c, in)))
		goto out;

	if (in->mnem == M_INVALID)
		st = EMU_DEC_UD;
	else if ((in->flags & DF_I64) && mode == 8)
		st = EMU_DEC_UD;
	else if ((in->flags & DF_O64) && mode != 8)
		st = EMU_DEC_UD;
	else if (in->lock && (!(in->flags & DF_LOCK) || !in->has_mem))
		st = EMU_DEC_UD; /* SDM vol. 2, LOCK: #UD unless a listed RMW form with a memory destination */
out:
	in->len = (uint8_t)c.pos;
	if (st == EMU_DEC_UD)
		in->mnem = M_INVALID;
	return st;
}
