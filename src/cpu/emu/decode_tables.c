/* The opcode maps as data, in the notation of SDM vol. 2 appendix A
 * (tables A-2 one-byte map, A-3 two-byte map, A-6 group opcodes).
 * Entries not listed are undefined (or not implemented) and decode as #UD.
 * Group opcodes name their group; emu_group_entry() picks the row by the
 * ModRM reg field (and, for groups 7, 9 and 15, by mod/rm too). */
#include "decode.h"

#define N {OK_NONE, SZ_0, 0}
#define Eb {OK_E, SZ_B, 0}
#define Ew {OK_E, SZ_W, 0}
#define Ed {OK_E, SZ_D, 0}
#define Ev {OK_E, SZ_V, 0}
#define Ey {OK_E, SZ_Y, 0}
#define Gb {OK_G, SZ_B, 0}
#define Gw {OK_G, SZ_W, 0}
#define Gv {OK_G, SZ_V, 0}
#define Gz {OK_G, SZ_Z, 0}
#define M0 {OK_M, SZ_0, 0}
#define Mb {OK_M, SZ_B, 0}
#define Mw {OK_M, SZ_W, 0}
#define Mq {OK_M, SZ_Q, 0}
#define Mv {OK_M, SZ_V, 0}
#define Mp {OK_M, SZ_P, 0}
#define Ms {OK_M, SZ_S, 0}
#define Rv {OK_R, SZ_V, 0}
#define Ry {OK_R, SZ_Y, 0}
#define Ib {OK_I, SZ_B, 0}
#define Iw {OK_I, SZ_W, 0}
#define Iz {OK_I, SZ_Z, 0}
#define Iv {OK_I, SZ_V, 0}
#define Jb {OK_J, SZ_B, 0}
#define Jz {OK_J, SZ_Z, 0}
#define Ob {OK_O, SZ_B, 0}
#define Ov {OK_O, SZ_V, 0}
#define Zb {OK_Z, SZ_B, 0}
#define Zv {OK_Z, SZ_V, 0}
#define Zy {OK_Z, SZ_Y, 0}
#define Ap {OK_A, SZ_P, 0}
#define Sw {OK_S, SZ_W, 0}
#define Cy {OK_C, SZ_Y, 0}
#define Dy {OK_D, SZ_Y, 0}
#define Xb {OK_X, SZ_B, 0}
#define Xv {OK_X, SZ_V, 0}
#define Xz {OK_X, SZ_Z, 0}
#define Yb {OK_Y, SZ_B, 0}
#define Yv {OK_Y, SZ_V, 0}
#define Yz {OK_Y, SZ_Z, 0}
#define One {OK_ONE, SZ_B, 0}
#define AL {OK_REG, SZ_B, 0}
#define CL {OK_REG, SZ_B, 1}
#define DX {OK_REG, SZ_W, 2}
#define rAX {OK_REG, SZ_V, 0}
#define eAX {OK_REG, SZ_Z, 0}
#define SR(s) {OK_SREG, SZ_W, s}
#define Gd {OK_G, SZ_D, 0}
#define Gy {OK_G, SZ_Y, 0}
#define My {OK_M, SZ_Y, 0}
#define Md {OK_M, SZ_D, 0}
#define Mx {OK_M, SZ_X, 0}
#define Vx {OK_V, SZ_X, 0}
#define Vq {OK_V, SZ_Q, 0}
#define Vd {OK_V, SZ_D, 0}
#define Vy {OK_V, SZ_Y, 0}
#define Wx {OK_W, SZ_X, 0}
#define Wq {OK_W, SZ_Q, 0}
#define Wd {OK_W, SZ_D, 0}
#define Ux {OK_U, SZ_X, 0}

/* ES CS SS DS FS GS in x86_state.h order */
#define S_ES 0
#define S_CS 1
#define S_SS 2
#define S_DS 3
#define S_FS 4
#define S_GS 5

#define D0(m, f) {M_##m, (f), 0, {N, N, N}}
#define D1(m, f, a) {M_##m, (f), 0, {a, N, N}}
#define D2(m, f, a, b) {M_##m, (f), 0, {a, b, N}}
#define D3(m, f, a, b, c) {M_##m, (f), 0, {a, b, c}}
#define G(g, f, a, b) {M_INVALID, DF_MODRM | DF_GROUP | (f), (g), {a, b, N}}

#define MR DF_MODRM
#define LK (DF_MODRM | DF_LOCK)

enum { GRP_1 = 1, GRP_1A, GRP_2, GRP_3B, GRP_3V, GRP_4, GRP_5, GRP_6, GRP_7, GRP_8, GRP_9, GRP_11B,
       GRP_11V, GRP_12, GRP_13, GRP_14, GRP_15, GRP_COUNT };

/* The six classic ALU encodings of one operation (SDM table A-2 rows 0-3). */
#define ALU6(op, m, lk)                                                                          \
	[(op) + 0] = D2(m, lk, Eb, Gb), [(op) + 1] = D2(m, lk, Ev, Gv), [(op) + 2] = D2(m, MR, Gb, Eb), \
	[(op) + 3] = D2(m, MR, Gv, Ev), [(op) + 4] = D2(m, 0, AL, Ib), [(op) + 5] = D2(m, DF_SIGNED, rAX, Iz)

#define R8(op, ...) [(op) + 0] = __VA_ARGS__, [(op) + 1] = __VA_ARGS__, [(op) + 2] = __VA_ARGS__,     \
	[(op) + 3] = __VA_ARGS__, [(op) + 4] = __VA_ARGS__, [(op) + 5] = __VA_ARGS__,                   \
	[(op) + 6] = __VA_ARGS__, [(op) + 7] = __VA_ARGS__
#define R16(op, ...) R8(op, __VA_ARGS__), R8((op) + 8, __VA_ARGS__)

const struct emu_opdesc emu_map1[256] = {
	ALU6(0x00, ADD, LK), ALU6(0x08, OR, LK), ALU6(0x10, ADC, LK), ALU6(0x18, SBB, LK),
	ALU6(0x20, AND, LK), ALU6(0x28, SUB, LK), ALU6(0x30, XOR, LK), ALU6(0x38, CMP, MR),
	[0x06] = D1(PUSHSEG, DF_I64, SR(S_ES)), [0x07] = D1(POPSEG, DF_I64, SR(S_ES)),
	[0x0e] = D1(PUSHSEG, DF_I64, SR(S_CS)),
	[0x16] = D1(PUSHSEG, DF_I64, SR(S_SS)), [0x17] = D1(POPSEG, DF_I64, SR(S_SS)),
	[0x1e] = D1(PUSHSEG, DF_I64, SR(S_DS)), [0x1f] = D1(POPSEG, DF_I64, SR(S_DS)),
	[0x27] = D0(DAA, DF_I64), [0x2f] = D0(DAS, DF_I64), [0x37] = D0(AAA, DF_I64), [0x3f] = D0(AAS, DF_I64),
	R8(0x40, D1(INC, DF_I64, Zv)), R8(0x48, D1(DEC, DF_I64, Zv)),
	R8(0x50, D1(PUSH, DF_D64, Zv)), R8(0x58, D1(POP, DF_D64, Zv)),
	[0x60] = D0(PUSHA, DF_I64), [0x61] = D0(POPA, DF_I64),
	[0x62] = D2(BOUND, MR | DF_I64, Gv, Mv), [0x63] = D2(ARPL, MR | DF_I64, Ew, Gw),
	[0x68] = D1(PUSH, DF_D64 | DF_SIGNED, Iz), [0x69] = D3(IMUL, MR | DF_SIGNED, Gv, Ev, Iz),
	[0x6a] = D1(PUSH, DF_D64 | DF_SIGNED, Ib), [0x6b] = D3(IMUL, MR | DF_SIGNED, Gv, Ev, Ib),
	[0x6c] = D2(INS, DF_STRING, Yb, DX), [0x6d] = D2(INS, DF_STRING, Yz, DX),
	[0x6e] = D2(OUTS, DF_STRING, DX, Xb), [0x6f] = D2(OUTS, DF_STRING, DX, Xz),
	R16(0x70, D1(JCC, DF_F64 | DF_COND, Jb)),
	[0x80] = G(GRP_1, 0, Eb, Ib), [0x81] = G(GRP_1, DF_SIGNED, Ev, Iz),
	[0x82] = G(GRP_1, DF_I64, Eb, Ib), [0x83] = G(GRP_1, DF_SIGNED, Ev, Ib),
	[0x84] = D2(TEST, MR, Eb, Gb), [0x85] = D2(TEST, MR, Ev, Gv),
	[0x86] = D2(XCHG, LK, Eb, Gb), [0x87] = D2(XCHG, LK, Ev, Gv),
	[0x88] = D2(MOV, MR, Eb, Gb), [0x89] = D2(MOV, MR, Ev, Gv), [0x8a] = D2(MOV, MR, Gb, Eb),
	[0x8b] = D2(MOV, MR, Gv, Ev), [0x8c] = D2(MOVSEG, MR, Ev, Sw), [0x8d] = D2(LEA, MR, Gv, M0),
	[0x8e] = D2(MOVSEG, MR, Sw, Ew), [0x8f] = G(GRP_1A, DF_D64, N, N),
	[0x90] = D0(NOP, 0), [0x91] = D2(XCHG, 0, Zv, rAX), [0x92] = D2(XCHG, 0, Zv, rAX),
	[0x93] = D2(XCHG, 0, Zv, rAX), [0x94] = D2(XCHG, 0, Zv, rAX), [0x95] = D2(XCHG, 0, Zv, rAX),
	[0x96] = D2(XCHG, 0, Zv, rAX), [0x97] = D2(XCHG, 0, Zv, rAX),
	[0x98] = D0(CBW, 0), [0x99] = D0(CWD, 0), [0x9a] = D1(CALLF, DF_I64, Ap), [0x9b] = D0(FWAIT, 0),
	[0x9c] = D0(PUSHF, DF_D64), [0x9d] = D0(POPF, DF_D64), [0x9e] = D0(SAHF, 0), [0x9f] = D0(LAHF, 0),
	[0xa0] = D2(MOV, 0, AL, Ob), [0xa1] = D2(MOV, 0, rAX, Ov), [0xa2] = D2(MOV, 0, Ob, AL),
	[0xa3] = D2(MOV, 0, Ov, rAX),
	[0xa4] = D2(MOVS, DF_STRING, Yb, Xb), [0xa5] = D2(MOVS, DF_STRING, Yv, Xv),
	[0xa6] = D2(CMPS, DF_STRING, Xb, Yb), [0xa7] = D2(CMPS, DF_STRING, Xv, Yv),
	[0xa8] = D2(TEST, 0, AL, Ib), [0xa9] = D2(TEST, DF_SIGNED, rAX, Iz),
	[0xaa] = D2(STOS, DF_STRING, Yb, AL), [0xab] = D2(STOS, DF_STRING, Yv, rAX),
	[0xac] = D2(LODS, DF_STRING, AL, Xb), [0xad] = D2(LODS, DF_STRING, rAX, Xv),
	[0xae] = D2(SCAS, DF_STRING, AL, Yb), [0xaf] = D2(SCAS, DF_STRING, rAX, Yv),
	R8(0xb0, D2(MOV, 0, Zb, Ib)), R8(0xb8, D2(MOV, 0, Zv, Iv)),
	[0xc0] = G(GRP_2, 0, Eb, Ib), [0xc1] = G(GRP_2, 0, Ev, Ib),
	[0xc2] = D1(RET, DF_F64, Iw), [0xc3] = D0(RET, DF_F64),
	[0xc4] = D3(LSEG, MR | DF_I64, Gz, Mp, SR(S_ES)), [0xc5] = D3(LSEG, MR | DF_I64, Gz, Mp, SR(S_DS)),
	[0xc6] = G(GRP_11B, 0, Eb, Ib), [0xc7] = G(GRP_11V, DF_SIGNED, Ev, Iz),
	[0xc8] = D2(ENTER, DF_D64, Iw, Ib), [0xc9] = D0(LEAVE, DF_D64),
	[0xca] = D1(RETF, 0, Iw), [0xcb] = D0(RETF, 0), [0xcc] = D0(INT3, 0), [0xcd] = D1(INT, 0, Ib),
	[0xce] = D0(INTO, DF_I64), [0xcf] = D0(IRET, 0),
	[0xd0] = G(GRP_2, 0, Eb, One), [0xd1] = G(GRP_2, 0, Ev, One),
	[0xd2] = G(GRP_2, 0, Eb, CL), [0xd3] = G(GRP_2, 0, Ev, CL),
	[0xd4] = D1(AAM, DF_I64, Ib), [0xd5] = D1(AAD, DF_I64, Ib), [0xd6] = D0(SALC, DF_I64),
	[0xd7] = D0(XLAT, 0),
	R8(0xd8, D0(FPU, MR)),
	[0xe0] = D1(LOOPNE, DF_F64, Jb), [0xe1] = D1(LOOPE, DF_F64, Jb), [0xe2] = D1(LOOP, DF_F64, Jb),
	[0xe3] = D1(JRCXZ, DF_F64, Jb),
	[0xe4] = D2(IN, 0, AL, Ib), [0xe5] = D2(IN, 0, eAX, Ib),
	[0xe6] = D2(OUT, 0, Ib, AL), [0xe7] = D2(OUT, 0, Ib, eAX),
	[0xe8] = D1(CALL, DF_F64 | DF_SIGNED, Jz), [0xe9] = D1(JMP, DF_F64 | DF_SIGNED, Jz),
	[0xea] = D1(JMPF, DF_I64, Ap), [0xeb] = D1(JMP, DF_F64, Jb),
	[0xec] = D2(IN, 0, AL, DX), [0xed] = D2(IN, 0, eAX, DX),
	[0xee] = D2(OUT, 0, DX, AL), [0xef] = D2(OUT, 0, DX, eAX),
	[0xf1] = D0(INT1, 0), [0xf4] = D0(HLT, DF_PRIV), [0xf5] = D0(CMC, 0),
	[0xf6] = G(GRP_3B, 0, Eb, N), [0xf7] = G(GRP_3V, 0, Ev, N),
	[0xf8] = D0(CLC, 0), [0xf9] = D0(STC, 0), [0xfa] = D0(CLI, 0), [0xfb] = D0(STI, 0),
	[0xfc] = D0(CLD, 0), [0xfd] = D0(STD, 0),
	[0xfe] = G(GRP_4, 0, Eb, N), [0xff] = G(GRP_5, 0, N, N),
};

/* The two-byte map (0F xx) without mandatory prefixes. SSE and MMX rows,
 * whose meaning depends on a 66/F3/F2 prefix, are in emu_map2_pfx below; VMX
 * and SSE3+ rows are absent (not advertised by CPUID, so #UD). */
const struct emu_opdesc emu_map2[256] = {
	[0x00] = G(GRP_6, 0, N, N), [0x01] = G(GRP_7, 0, N, N),
	[0x02] = D2(LAR, MR, Gv, Ew), [0x03] = D2(LSL, MR, Gv, Ew),
	[0x05] = D0(SYSCALL, 0), [0x06] = D0(CLTS, DF_PRIV), [0x07] = D0(SYSRET, DF_PRIV),
	[0x08] = D0(INVD, DF_PRIV), [0x09] = D0(WBINVD, DF_PRIV), [0x0b] = D0(UD2, 0),
	[0x77] = D0(EMMS, DF_MMX),
	[0x0d] = D1(NOP, MR, M0),
	R8(0x18, D1(NOP, MR, Ev)),
	[0x20] = D2(MOVCR, MR | DF_F64 | DF_PRIV, Ry, Cy), [0x21] = D2(MOVDR, MR | DF_F64 | DF_PRIV, Ry, Dy),
	[0x22] = D2(MOVCR, MR | DF_F64 | DF_PRIV, Cy, Ry), [0x23] = D2(MOVDR, MR | DF_F64 | DF_PRIV, Dy, Ry),
	[0x30] = D0(WRMSR, DF_PRIV), [0x31] = D0(RDTSC, 0), [0x32] = D0(RDMSR, DF_PRIV),
	[0x33] = D0(RDPMC, 0), [0x34] = D0(SYSENTER, 0), [0x35] = D0(SYSEXIT, DF_PRIV),
	R16(0x40, D2(CMOV, MR | DF_COND, Gv, Ev)),
	R16(0x80, D1(JCC, DF_F64 | DF_COND | DF_SIGNED, Jz)),
	R16(0x90, D1(SETCC, MR | DF_COND, Eb)),
	[0xa0] = D1(PUSHSEG, DF_D64, SR(S_FS)), [0xa1] = D1(POPSEG, DF_D64, SR(S_FS)),
	[0xa2] = D0(CPUID, 0), [0xa3] = D2(BT, MR, Ev, Gv),
	[0xa4] = D3(SHLD, MR, Ev, Gv, Ib), [0xa5] = D3(SHLD, MR, Ev, Gv, CL),
	[0xa8] = D1(PUSHSEG, DF_D64, SR(S_GS)), [0xa9] = D1(POPSEG, DF_D64, SR(S_GS)),
	[0xaa] = D0(RSM, 0), [0xab] = D2(BTS, LK, Ev, Gv),
	[0xac] = D3(SHRD, MR, Ev, Gv, Ib), [0xad] = D3(SHRD, MR, Ev, Gv, CL),
	[0xae] = G(GRP_15, 0, N, N), [0xaf] = D2(IMUL, MR, Gv, Ev),
	[0xb0] = D2(CMPXCHG, LK, Eb, Gb), [0xb1] = D2(CMPXCHG, LK, Ev, Gv),
	[0xb2] = D3(LSEG, MR, Gv, Mp, SR(S_SS)), [0xb3] = D2(BTR, LK, Ev, Gv),
	[0xb4] = D3(LSEG, MR, Gv, Mp, SR(S_FS)), [0xb5] = D3(LSEG, MR, Gv, Mp, SR(S_GS)),
	[0xb6] = D2(MOVZX, MR, Gv, Eb), [0xb7] = D2(MOVZX, MR, Gv, Ew),
	[0xb8] = D2(POPCNT, MR, Gv, Ev), [0xb9] = D2(UD1, MR, Gv, Ev), [0xba] = G(GRP_8, 0, Ev, Ib),
	[0xbb] = D2(BTC, LK, Ev, Gv), [0xbc] = D2(BSF, MR, Gv, Ev), [0xbd] = D2(BSR, MR, Gv, Ev),
	[0xbe] = D2(MOVSX, MR, Gv, Eb), [0xbf] = D2(MOVSX, MR, Gv, Ew),
	[0xc0] = D2(XADD, LK, Eb, Gb), [0xc1] = D2(XADD, LK, Ev, Gv),
	[0xc7] = G(GRP_9, 0, N, N),
	R8(0xc8, D1(BSWAP, 0, Zy)),
};

/* SSE/SSE2 rows of the two-byte map by mandatory prefix (SDM table A-3,
 * columns none / 66 / F3 / F2). XM: an SSE instruction (CR0/CR4 checks,
 * 128-bit memory operands 16-byte aligned unless UA); MX: the MMX forms of
 * the integer rows (no prefix), on the MMX registers (mmx.c). */
#define XM (DF_MODRM | DF_SSE)
#define UA (DF_MODRM | DF_SSE | DF_UA)
#define P66(m, a, b) {[EMU_PFX_66] = {M_##m, XM, 0, {a, b, N}}}
/* Rows with an MMX form without prefix (Pq, Qq; Qd: a 32-bit memory
 * operand) and the SSE2 form with 66 (Vx, Wx). */
#define MX (DF_MODRM | DF_MMX)
#define Pq {OK_P, SZ_Q, 0}
#define Qq {OK_Q, SZ_Q, 0}
#define Qd {OK_Q, SZ_D, 0}
#define Nq {OK_N, SZ_Q, 0}
#define MMX66(m) {[EMU_PFX_NP] = {M_##m, MX, 0, {Pq, Qq, N}}, [EMU_PFX_66] = {M_##m, XM, 0, {Vx, Wx, N}}}
#define MMX66D(m) {[EMU_PFX_NP] = {M_##m, MX, 0, {Pq, Qd, N}}, [EMU_PFX_66] = {M_##m, XM, 0, {Vx, Wx, N}}}
/* xxxPS / xxxPD / xxxSS / xxxSD rows: Vps,Wps  Vpd,Wpd  Vss,Wss  Vsd,Wsd */
#define FP4(m) {D2(m##PS, XM, Vx, Wx), D2(m##PD, XM, Vx, Wx), D2(m##SS, XM, Vd, Wd), D2(m##SD, XM, Vq, Wq)}
#define PSPD(ps, pd) {[EMU_PFX_NP] = D2(ps, XM, Vx, Wx), [EMU_PFX_66] = D2(pd, XM, Vx, Wx)}

const struct emu_opdesc emu_map2_pfx[256][4] = {
	[0x10] = { D2(MOVUPS, UA, Vx, Wx), D2(MOVUPD, UA, Vx, Wx), D2(MOVSS, XM, Vd, Wd), D2(MOVSD, XM, Vq, Wq) },
	[0x11] = { D2(MOVUPS, UA, Wx, Vx), D2(MOVUPD, UA, Wx, Vx), D2(MOVSS, XM, Wd, Vd), D2(MOVSD, XM, Wq, Vq) },
	/* 0F 12/16 without prefix and mod = 3 are MOVHLPS/MOVLHPS (same mnemonic row here) */
	[0x12] = { D2(MOVLPS, XM, Vq, Wq), D2(MOVLPD, XM, Vq, Mq) },
	[0x13] = { D2(MOVLPS, XM, Mq, Vq), D2(MOVLPD, XM, Mq, Vq) },
	[0x14] = { D2(UNPCKLPS, XM, Vx, Wx), D2(PUNPCKLQDQ, XM, Vx, Wx) }, /* UNPCKLPD = PUNPCKLQDQ */
	[0x15] = { D2(UNPCKHPS, XM, Vx, Wx), D2(PUNPCKHQDQ, XM, Vx, Wx) }, /* UNPCKHPD = PUNPCKHQDQ */
	[0x16] = { D2(MOVHPS, XM, Vq, Wq), D2(MOVHPD, XM, Vq, Mq) },
	[0x17] = { D2(MOVHPS, XM, Mq, Vq), D2(MOVHPD, XM, Mq, Vq) },
	[0x28] = PSPD(MOVAPS, MOVAPD),
	[0x29] = { D2(MOVAPS, XM, Wx, Vx), D2(MOVAPD, XM, Wx, Vx) },
	[0x2b] = { D2(MOVNTPS, XM, Mx, Vx), D2(MOVNTPD, XM, Mx, Vx) },
	[0x2e] = { D2(UCOMISS, XM, Vd, Wd), D2(UCOMISD, XM, Vq, Wq) },
	[0x2f] = { D2(COMISS, XM, Vd, Wd), D2(COMISD, XM, Vq, Wq) },
	[0x50] = { D2(MOVMSKPS, XM, Gd, Ux), D2(MOVMSKPD, XM, Gd, Ux) },
	/* 0F 2A/2C/2D: the MMX forms (no prefix, 66) are absent */
	[0x2a] = { [EMU_PFX_F3] = D2(CVTSI2SS, XM, Vd, Ey), [EMU_PFX_F2] = D2(CVTSI2SD, XM, Vq, Ey) },
	[0x2c] = { [EMU_PFX_F3] = D2(CVTTSS2SI, XM, Gy, Wd), [EMU_PFX_F2] = D2(CVTTSD2SI, XM, Gy, Wq) },
	[0x2d] = { [EMU_PFX_F3] = D2(CVTSS2SI, XM, Gy, Wd), [EMU_PFX_F2] = D2(CVTSD2SI, XM, Gy, Wq) },
	[0x51] = FP4(SQRT), [0x58] = FP4(ADD), [0x59] = FP4(MUL), [0x5c] = FP4(SUB),
	[0x5d] = FP4(MIN), [0x5e] = FP4(DIV), [0x5f] = FP4(MAX),
	[0x5a] = { D2(CVTPS2PD, XM, Vx, Wq), D2(CVTPD2PS, XM, Vx, Wx), D2(CVTSS2SD, XM, Vq, Wd),
		   D2(CVTSD2SS, XM, Vd, Wq) },
	[0x5b] = { D2(CVTDQ2PS, XM, Vx, Wx), D2(CVTPS2DQ, XM, Vx, Wx), D2(CVTTPS2DQ, XM, Vx, Wx) },
	[0xc2] = { D3(CMPPS, XM, Vx, Wx, Ib), D3(CMPPD, XM, Vx, Wx, Ib), D3(CMPSS, XM, Vd, Wd, Ib),
		   D3(CMPSD, XM, Vq, Wq, Ib) },
	[0xe6] = { [EMU_PFX_66] = D2(CVTTPD2DQ, XM, Vx, Wx), [EMU_PFX_F3] = D2(CVTDQ2PD, XM, Vx, Wq),
		   [EMU_PFX_F2] = D2(CVTPD2DQ, XM, Vx, Wx) },
	[0x54] = PSPD(ANDPS, ANDPD), [0x55] = PSPD(ANDNPS, ANDNPD),
	[0x56] = PSPD(ORPS, ORPD), [0x57] = PSPD(XORPS, XORPD),
	[0x60] = MMX66D(PUNPCKLBW), [0x61] = MMX66D(PUNPCKLWD), [0x62] = MMX66D(PUNPCKLDQ),
	[0x64] = MMX66(PCMPGTB), [0x65] = MMX66(PCMPGTW), [0x66] = MMX66(PCMPGTD),
	[0x68] = MMX66(PUNPCKHBW), [0x69] = MMX66(PUNPCKHWD), [0x6a] = MMX66(PUNPCKHDQ),
	[0x63] = MMX66(PACKSSWB), [0x67] = MMX66(PACKUSWB), [0x6b] = MMX66(PACKSSDW),
	[0x6c] = P66(PUNPCKLQDQ, Vx, Wx), [0x6d] = P66(PUNPCKHQDQ, Vx, Wx),
	[0x6e] = { [EMU_PFX_NP] = D2(MOVD, MX, Pq, Ey), [EMU_PFX_66] = D2(MOVD, XM, Vy, Ey) },
	[0x6f] = { [EMU_PFX_NP] = D2(MOVQ, MX, Pq, Qq), [EMU_PFX_66] = D2(MOVDQA, XM, Vx, Wx),
		   [EMU_PFX_F3] = D2(MOVDQU, UA, Vx, Wx) },
	[0x70] = { [EMU_PFX_NP] = D3(PSHUFW, MX, Pq, Qq, Ib), [EMU_PFX_66] = D3(PSHUFD, XM, Vx, Wx, Ib),
		   [EMU_PFX_F3] = D3(PSHUFHW, XM, Vx, Wx, Ib), [EMU_PFX_F2] = D3(PSHUFLW, XM, Vx, Wx, Ib) },
	[0x71] = { [EMU_PFX_NP] = G(GRP_12, DF_MMX, Nq, Ib), [EMU_PFX_66] = G(GRP_12, DF_SSE, Ux, Ib) },
	[0x72] = { [EMU_PFX_NP] = G(GRP_13, DF_MMX, Nq, Ib), [EMU_PFX_66] = G(GRP_13, DF_SSE, Ux, Ib) },
	[0x73] = { [EMU_PFX_NP] = G(GRP_14, DF_MMX, Nq, Ib), [EMU_PFX_66] = G(GRP_14, DF_SSE, Ux, Ib) },
	[0x74] = MMX66(PCMPEQB), [0x75] = MMX66(PCMPEQW), [0x76] = MMX66(PCMPEQD),
	[0x7e] = { [EMU_PFX_NP] = D2(MOVD, MX, Ey, Pq), [EMU_PFX_66] = D2(MOVD, XM, Ey, Vy),
		   [EMU_PFX_F3] = D2(MOVQ, XM, Vq, Wq) },
	[0x7f] = { [EMU_PFX_NP] = D2(MOVQ, MX, Qq, Pq), [EMU_PFX_66] = D2(MOVDQA, XM, Wx, Vx),
		   [EMU_PFX_F3] = D2(MOVDQU, UA, Wx, Vx) },
	[0xc3] = { [EMU_PFX_NP] = D2(MOVNTI, MR, My, Gy) },
	[0xc4] = { [EMU_PFX_NP] = D3(PINSRW, MX, Pq, Ew, Ib), [EMU_PFX_66] = D3(PINSRW, XM, Vx, Ew, Ib) },
	[0xc5] = { [EMU_PFX_NP] = D3(PEXTRW, MX, Gd, Nq, Ib), [EMU_PFX_66] = D3(PEXTRW, XM, Gd, Ux, Ib) },
	[0xc6] = { D3(SHUFPS, XM, Vx, Wx, Ib), D3(SHUFPD, XM, Vx, Wx, Ib) },
	[0xd1] = MMX66(PSRLW), [0xd2] = MMX66(PSRLD), [0xd3] = MMX66(PSRLQ),
	[0xd4] = MMX66(PADDQ), [0xd5] = MMX66(PMULLW), [0xd6] = P66(MOVQ, Wq, Vq),
	[0xd7] = { [EMU_PFX_NP] = D2(PMOVMSKB, MX, Gd, Nq), [EMU_PFX_66] = D2(PMOVMSKB, XM, Gd, Ux) }, [0xd8] = MMX66(PSUBUSB), [0xda] = MMX66(PMINUB),
	[0xdb] = MMX66(PAND), [0xdc] = MMX66(PADDUSB), [0xde] = MMX66(PMAXUB),
	[0xd9] = MMX66(PSUBUSW), [0xdd] = MMX66(PADDUSW),
	[0xdf] = MMX66(PANDN), [0xe0] = MMX66(PAVGB), [0xe3] = MMX66(PAVGW),
	[0xe4] = MMX66(PMULHUW), [0xe5] = MMX66(PMULHW),
	[0xe8] = MMX66(PSUBSB), [0xe9] = MMX66(PSUBSW), [0xea] = MMX66(PMINSW),
	[0xec] = MMX66(PADDSB), [0xed] = MMX66(PADDSW), [0xee] = MMX66(PMAXSW),
	[0xf4] = MMX66(PMULUDQ), [0xf5] = MMX66(PMADDWD),
	[0xe1] = MMX66(PSRAW), [0xe2] = MMX66(PSRAD), [0xe7] = { [EMU_PFX_NP] = D2(MOVNTQ, MX, Mq, Pq), [EMU_PFX_66] = D2(MOVNTDQ, XM, Mx, Vx) },
	[0xeb] = MMX66(POR), [0xef] = MMX66(PXOR),
	[0xf1] = MMX66(PSLLW), [0xf2] = MMX66(PSLLD), [0xf3] = MMX66(PSLLQ),
	[0xf6] = MMX66(PSADBW), [0xf7] = { [EMU_PFX_NP] = D2(MASKMOVQ, MX, Pq, Nq) },
	[0xf8] = MMX66(PSUBB), [0xf9] = MMX66(PSUBW), [0xfa] = MMX66(PSUBD),
	[0xfb] = MMX66(PSUBQ), [0xfc] = MMX66(PADDB), [0xfd] = MMX66(PADDW),
	[0xfe] = MMX66(PADDD),
};

/* Group rows (SDM table A-6). A row without operands takes the parent's. */
static const struct emu_opdesc groups[GRP_COUNT][8] = {
	[GRP_1] = { D0(ADD, DF_LOCK), D0(OR, DF_LOCK), D0(ADC, DF_LOCK), D0(SBB, DF_LOCK),
		    D0(AND, DF_LOCK), D0(SUB, DF_LOCK), D0(XOR, DF_LOCK), D0(CMP, 0) },
	[GRP_1A] = { D1(POP, 0, Ev) },
	[GRP_2] = { D0(ROL, 0), D0(ROR, 0), D0(RCL, 0), D0(RCR, 0),
		    D0(SHL, 0), D0(SHR, 0), D0(SHL, 0), D0(SAR, 0) },
	[GRP_3B] = { D2(TEST, 0, Eb, Ib), D2(TEST, 0, Eb, Ib), D0(NOT, DF_LOCK), D0(NEG, DF_LOCK),
		     D2(MUL, 0, AL, Eb), D2(IMUL1, 0, AL, Eb), D2(DIV, 0, AL, Eb), D2(IDIV, 0, AL, Eb) },
	[GRP_3V] = { D2(TEST, DF_SIGNED, Ev, Iz), D2(TEST, DF_SIGNED, Ev, Iz), D0(NOT, DF_LOCK),
		     D0(NEG, DF_LOCK), D2(MUL, 0, rAX, Ev), D2(IMUL1, 0, rAX, Ev), D2(DIV, 0, rAX, Ev),
		     D2(IDIV, 0, rAX, Ev) },
	[GRP_4] = { D0(INC, DF_LOCK), D0(DEC, DF_LOCK) },
	[GRP_5] = { D1(INC, DF_LOCK, Ev), D1(DEC, DF_LOCK, Ev), D1(CALL, DF_F64, Ev), D1(CALLF, 0, Mp),
		    D1(JMP, DF_F64, Ev), D1(JMPF, 0, Mp), D1(PUSH, DF_D64, Ev) },
	[GRP_6] = { D1(SLDT, 0, Ev), D1(STR, 0, Ev), D1(LLDT, DF_PRIV, Ew), D1(LTR, DF_PRIV, Ew),
		    D1(VERR, 0, Ew), D1(VERW, 0, Ew) },
	[GRP_7] = { D1(SGDT, 0, Ms), D1(SIDT, 0, Ms), D1(LGDT, DF_PRIV, Ms), D1(LIDT, DF_PRIV, Ms),
		    D1(SMSW, 0, Ev), D0(INVALID, 0), D1(LMSW, DF_PRIV, Ew), D1(INVLPG, DF_PRIV, Mb) },
	[GRP_8] = { D0(INVALID, 0), D0(INVALID, 0), D0(INVALID, 0), D0(INVALID, 0),
		    D0(BT, 0), D0(BTS, DF_LOCK), D0(BTR, DF_LOCK), D0(BTC, DF_LOCK) },
	[GRP_9] = { D0(INVALID, 0), D1(CMPXCHG8B, DF_LOCK, Mq) },
	[GRP_11B] = { D0(MOV, 0) },
	[GRP_11V] = { D0(MOV, 0) },
	/* 66 0F 71-73 ib: shifts by an immediate (register forms only) */
	[GRP_12] = { [2] = D0(PSRLW, DF_SSE), [4] = D0(PSRAW, DF_SSE), [6] = D0(PSLLW, DF_SSE) },
	[GRP_13] = { [2] = D0(PSRLD, DF_SSE), [4] = D0(PSRAD, DF_SSE), [6] = D0(PSLLD, DF_SSE) },
	[GRP_14] = { [2] = D0(PSRLQ, DF_SSE), [3] = D0(PSRLDQ, DF_SSE), [6] = D0(PSLLQ, DF_SSE),
		     [7] = D0(PSLLDQ, DF_SSE) },
	[GRP_15] = { D1(FXSAVE, 0, M0), D1(FXRSTOR, 0, M0), D1(LDMXCSR, DF_SSE, Md), D1(STMXCSR, DF_SSE, Md),
		     [7] = D1(CLFLUSH, 0, Mb) },
};

/* Register forms (mod = 3) of groups 7 and 15, by reg then rm. */
static const struct emu_opdesc grp7_reg1[8] = { D0(MONITOR, DF_PRIV), D0(MWAIT, DF_PRIV), D0(CLAC, 0),
						  D0(STAC, 0) };
static const struct emu_opdesc grp7_reg5[8] = { [6] = D0(RDPKRU, 0), [7] = D0(WRPKRU, 0) };
static const struct emu_opdesc grp7_reg7[8] = { D0(SWAPGS, DF_O64 | DF_PRIV), D0(RDTSCP, 0) };
static const struct emu_opdesc grp15_fence = D0(FENCE, 0);
static const struct emu_opdesc invalid_row = D0(INVALID, 0);

const struct emu_opdesc *emu_group_entry(unsigned group, const struct emu_insn *insn)
{
	if (group == 0 || group >= GRP_COUNT)
		return &invalid_row;
	unsigned reg = insn->reg & 7, rm = insn->rm & 7;
	if (insn->mod == 3) {
		switch (group) {
		case GRP_7:
			if (reg == 1)
				return &grp7_reg1[rm];
			if (reg == 5)
				return &grp7_reg5[rm];
			if (reg == 7)
				return &grp7_reg7[rm];
			if (reg == 4 || reg == 6)
				return &groups[group][reg];
			return &invalid_row;
		case GRP_9:
			return &invalid_row; /* RDRAND/RDSEED: not advertised */
		case GRP_15:
			return reg >= 5 ? &grp15_fence : &invalid_row;
		default:
			break;
		}
	}
	return &groups[group][reg];
}

const char *emu_mnem_name(unsigned mnem)
{
	static const char *const names[M_COUNT] = {
#define EMU_X_NAME(n, s) [M_##n] = s,
		EMU_MNEMONICS(EMU_X_NAME)
#undef EMU_X_NAME
	};
	return mnem < M_COUNT ? names[mnem] : "?";
}
