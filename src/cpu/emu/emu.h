/* The software CPU: one vCPU's architectural state and the internal
 * interfaces between decoder, executor, soft MMU and exception delivery.
 *
 * Error convention: every function that can raise a guest exception returns
 * int, EMU_OK (0) or EMU_EXC after recording the exception in cpu->exc with
 * emu_raise(). Callers propagate it with EMU_TRY(); the step loop delivers
 * it through the IDT. No longjmp anywhere. */
#ifndef VMON_CPU_EMU_EMU_H
#define VMON_CPU_EMU_EMU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/x86_state.h"
#include "decode.h"
#include "lapic.h"

struct vm;
struct emu_machine;
struct emu_cpu;

#define EMU_MUST __attribute__((warn_unused_result))
#define EMU_OK 0
#define EMU_EXC 1
#define EMU_TRY(x)                   \
	do {                         \
		int r_ = (x);        \
		if (r_)              \
			return r_;   \
	} while (0)

/* Exception vectors, SDM vol. 3 table 6-1. */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
	EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14,
	EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* EFLAGS bits, SDM vol. 1 §3.4.3. */
enum {
	FL_CF = 1 << 0, FL_PF = 1 << 2, FL_AF = 1 << 4, FL_ZF = 1 << 6, FL_SF = 1 << 7,
	FL_TF = 1 << 8, FL_IF = 1 << 9, FL_DF = 1 << 10, FL_OF = 1 << 11, FL_IOPL = 3 << 12,
	FL_NT = 1 << 14, FL_RF = 1 << 16, FL_VM = 1 << 17, FL_AC = 1 << 18, FL_VIF = 1 << 19,
	FL_VIP = 1 << 20, FL_ID = 1 << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Lazy flags: the last flag-setting ALU operation, evaluated on demand. */
enum emu_lf_op { LF_NONE, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC,
		 LF_SHL, LF_SHR, LF_SAR /* b = the masked count, 1..width*8-1 */ };

struct emu_lazy {
	uint8_t op;     /* enum emu_lf_op; LF_NONE: rflags holds the truth */
	uint8_t width;  /* operand bytes */
	uint8_t cf_in;  /* ADC/SBB carry-in; INC/DEC: the preserved CF */
	uint64_t res, a, b;
};

/* Soft TLB: direct-mapped, one array per access kind. tag = linear page |
 * TLB_VALID | the privilege of the access that filled it (emu_tlb_tag);
 * host = lin + addend. */
#define EMU_TLB_BITS 8
#define EMU_TLB_SIZE (1u << EMU_TLB_BITS)
#define EMU_TLB_VALID 1u
#define EMU_TLB_USER 2u  /* an explicit CPL-3 access */
#define EMU_TLB_AC 4u    /* an explicit supervisor data access with EFLAGS.AC = 1 (SMAP) */
enum emu_acc { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2, ACC_KIND = 3, ACC_SUPER = 4 };

struct emu_tlb_entry {
	uint64_t tag;
	uintptr_t addend;
};

struct emu_tlb {
	struct emu_tlb_entry e[3][EMU_TLB_SIZE];
	/* A 2 MiB/4 MiB/1 GiB page was walked since the last full flush: its 4 KiB
	 * slices may sit in many entries, so INVLPG must flush everything. */
	bool has_large;
};

enum emu_run_state { EMU_RUNNING, EMU_HALTED, EMU_WAIT_SIPI };

/* Decoded-instruction cache. Decoding is a pure function of the bytes and
 * the code size, so an entry is reused only when the bytes fetched now equal
 * the bytes it was decoded from: self-modifying code needs no invalidation. */
#define EMU_ICACHE_SIZE 1024
struct emu_icache_entry {
	uint8_t bytes[16];
	uint8_t mode;
	struct emu_insn insn; /* insn.len == 0: empty */
};

/* Decoded blocks (block.c): straight-line code inside one page, decoded
 * once, revalidated against the guest's bytes on every entry. */
#define EMU_BLOCK_INSNS 32
#define EMU_BLOCK_BYTES 128
typedef int (*emu_handler)(struct emu_cpu *cpu, const struct emu_insn *in);
struct emu_block_op {
	emu_handler fn;     /* fast.c's: chains to the next op (see emu_block_next) */
	emu_handler gfn;    /* with fn = the generic wrapper: the group handler */
	uint64_t next;      /* RIP after this instruction */
	uint8_t r0, r1, w;  /* for fast.c: register operands and operand width */
	uint8_t idx;        /* position in the block */
	struct emu_insn in;
};
struct emu_bcache;
struct emu_bcache *emu_bcache_new(void); /* NULL: out of memory (no fast path) */
void emu_bcache_free(struct emu_bcache *bc);

struct emu_msrs {
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat, tsc_offset, tsc_aux, misc_enable;
	/* msr.c: tsc_offset is IA32_TSC_ADJUST; tsc_epoch the host
	 * CLOCK_MONOTONIC ns at which every vCPU's TSC read 0 */
	uint64_t tsc_epoch;
	uint64_t mtrr_def, mtrr_var[16], mtrr_fix[11], mcg_status;
	uint32_t pkrs;      /* IA32_PKRS: protection-key rights for supervisor pages */
};
#define EMU_MISC_ENABLE_LIMIT_CPUID (1ULL << 22) /* CPUID leaf 0 reports 2 (cpuid.c) */
#define EMU_MISC_ENABLE_XD_DISABLE (1ULL << 34) /* CPUID hides NX (cpuid.c) */

/* x87 and SSE state (SDM vol. 1 §8.1, §10.2). vmon executes the x87
 * control instructions and the SSE/SSE2 moves and integer operations; the
 * register stack is kept as raw 80-bit values for FNSAVE/FXSAVE. */
struct emu_fpu {
	uint16_t fcw, fsw, ftw; /* ftw: the full tag word, two bits per physical register */
	uint16_t fop, fcs, fds;
	uint64_t fip, fdp;
	uint8_t st[8][10];      /* physical registers R0-R7 */
	uint32_t mxcsr;
	uint8_t xmm[16][16];
};
#define EMU_CR4_OSXMMEXCPT (1u << 10) /* SDM vol. 3 §2.5 */
#define EMU_CR4_SMEP (1u << 20)
#define EMU_CR4_SMAP (1u << 21)
#define EMU_CR4_PKE (1u << 22)
#define EMU_CR4_PKS (1u << 24)
#define EMU_MXCSR_MASK 0xffffu  /* writable MXCSR bits (DAZ included) */
#define EMU_MXCSR_RESET 0x1f80u
void emu_fpu_reset(struct emu_fpu *f); /* power-on/INIT state (SDM vol. 3 table 9-1) */
/* Every register non-empty, its full tag from its contents: what an MMX
 * instruction leaves (SDM vol. 1 §9.5.1; fpu.c). */
void emu_fpu_tags_valid(struct emu_fpu *f);

struct emu_cpu {
	uint64_t gpr[16];
	uint64_t rip;       /* start of the current instruction */
	uint64_t next_rip;  /* where execution continues when it completes */
	uint64_t rflags;    /* arithmetic bits stale while lf.op != LF_NONE */
	struct emu_lazy lf;
	struct x86_segment seg[SEG_COUNT];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t apic_base; /* IA32_APIC_BASE */
	uint64_t dr[8];
	uint32_t pkru;      /* protection-key rights for user pages (SDM vol. 3 §4.6.2) */
	struct emu_msrs msr;
	struct emu_fpu fpu;
	uint8_t cpl;
	uint8_t code_size;  /* 2, 4 or 8: current CS default */
	uint8_t irq_shadow; /* STI / MOV SS blocking for one instruction */
	bool vendor_amd;    /* CPUID says AuthenticAMD: AMD's SYSCALL/SYSENTER rules (syscall.c) */
	bool yield;         /* PAUSE: let the other vCPUs run (spin-wait hint) */
	bool nmi_pending;
	bool nmi_blocked;   /* from NMI delivery until the next IRET (SDM vol. 3 §6.7.1) */
	/* debug.c: DR6 bits of a trap-class #DB due after this instruction
	 * (data breakpoints, the TSS T flag); held over one instruction after
	 * MOV SS / POP SS (SDM vol. 3 §6.8.3). dbg: DR7 enables a breakpoint
	 * (EMU_DBG_EXEC/EMU_DBG_DATA): the step path and the memory checks. */
	uint32_t db_pending;
	bool db_hold;
	bool db_gd;         /* the #DB being raised is a general-detect fault */
	uint8_t dbg;
	uint8_t task_depth; /* task.c: nested task switches delivering faults */
	enum emu_run_state state;

	/* The exception being raised by the current instruction. */
	struct {
		uint8_t vector;
		uint8_t has_error;
		uint32_t error;
	} exc;

	struct emu_tlb tlb;
	struct emu_icache_entry *icache; /* EMU_ICACHE_SIZE entries, or NULL */
	struct emu_bcache *bcache;       /* decoded blocks, or NULL: no fast path */
	bool irq_poll;      /* look for interrupts at the next block boundary */
	uint8_t irq_skip;   /* blocks until the next look anyway */
	/* Host range of the block being run: a write into it is self-modifying
	 * code and ends the block (emu_smc_note). */
	uintptr_t smc_lo, smc_hi;
	bool block_stop;    /* end the running block after this instruction */
	uint64_t scratch;   /* fast.c's slow-path reads land here */
	struct emu_lapic lapic;
	struct emu_machine *mach;
	struct vm *vm;
	unsigned index;
	uint64_t icount;    /* instructions retired */
	FILE *trace;        /* --trace: one line per instruction, or NULL */

	/* The bytes of the current instruction, for crash messages. */
	uint8_t ibytes[16]; /* EMU_INSN_MAX used; 16 for word-wise compares */
	uint8_t ilen;
	bool iundef;        /* current instruction decoded as #UD */
};

/* --- cpu.c: state, modes, exceptions as values --- */
void emu_cpu_load(struct emu_cpu *cpu, const struct x86_state *st);
void emu_cpu_save(struct emu_cpu *cpu, struct x86_state *st);
void emu_cpu_reset_wait_sipi(struct emu_cpu *cpu);
void emu_cpu_update_mode(struct emu_cpu *cpu);
int emu_raise(struct emu_cpu *cpu, unsigned vector, bool has_error, uint32_t error) EMU_MUST;
static inline int emu_gp(struct emu_cpu *cpu, uint32_t err) { return emu_raise(cpu, EXC_GP, true, err); }
static inline int emu_ud(struct emu_cpu *cpu) { return emu_raise(cpu, EXC_UD, false, 0); }
static inline bool emu_long_mode(const struct emu_cpu *cpu) { return cpu->efer & X86_EFER_LMA; }
static inline bool emu_prot_mode(const struct emu_cpu *cpu) { return cpu->cr0 & X86_CR0_PE; }
static inline bool emu_vm86(const struct emu_cpu *cpu) { return cpu->rflags & FL_VM; }
static inline bool emu_code64(const struct emu_cpu *cpu) { return cpu->code_size == 8; }
/* A 48-bit linear address in canonical form (SDM vol. 1 §3.3.7.1). */
static inline bool emu_canonical(uint64_t a)
{
	return (uint64_t)(((int64_t)(a << 16)) >> 16) == a;
}
static inline uint64_t emu_mask(unsigned width)
{
	return width >= 8 ? ~0ULL : (1ULL << (width * 8)) - 1;
}

/* --- flags.c --- */
uint64_t emu_flags_get(struct emu_cpu *cpu);
void emu_flags_set(struct emu_cpu *cpu, uint64_t value);     /* all bits, no checks */
void emu_flags_materialize(struct emu_cpu *cpu);            /* lazy -> rflags */
bool emu_flag_cf(const struct emu_cpu *cpu);
bool emu_cond(struct emu_cpu *cpu, unsigned cond);          /* SDM vol. 1 table B-1 */
static inline void emu_lf_set(struct emu_cpu *cpu, enum emu_lf_op op, unsigned width, uint64_t res,
			      uint64_t a, uint64_t b, unsigned cf_in)
{
	cpu->lf.op = (uint8_t)op;
	cpu->lf.width = (uint8_t)width;
	cpu->lf.res = res;
	cpu->lf.a = a;
	cpu->lf.b = b;
	cpu->lf.cf_in = (uint8_t)cf_in;
}
/* A condition straight from the lazy record of a CMP/SUB (no carry-in) or
 * a logic operation, the pairs compilers emit before a Jcc; -1 when the
 * full flag computation is needed. */
static inline int emu_lazy_cond(const struct emu_lazy *lf, unsigned cc)
{
	unsigned sh = 64 - lf->width * 8;
	uint64_t m = emu_mask(lf->width);
	uint64_t r = lf->res & m;
	int64_t sr = (int64_t)(r << sh) >> sh;
	if (lf->op == LF_SUB && !lf->cf_in) {
		uint64_t a = lf->a & m, b = lf->b & m;
		int64_t sa = (int64_t)(a << sh) >> sh, sb = (int64_t)(b << sh) >> sh;
		switch (cc) {
		case 1: return a < b;          /* B: CF */
		case 2: return r == 0;         /* E */
		case 3: return a <= b;         /* BE: CF or ZF */
		case 4: return sr < 0;         /* S */
		case 6: return sa < sb;        /* L: SF != OF */
		case 7: return sa <= sb;       /* LE */
		default: return -1;
		}
	}
	if (lf->op == LF_LOGIC) { /* CF = OF = 0 */
		switch (cc) {
		case 0: case 1: return 0;      /* O, B */
		case 2: case 3: return r == 0; /* E, BE */
		case 4: case 6: return sr < 0; /* S, L */
		case 7: return sr <= 0;        /* LE: ZF or SF */
		default: return -1;
		}
	}
	return -1;
}

/* Set the six arithmetic flags eagerly from a mask of bits that are 1. */
void emu_flags_set_arith(struct emu_cpu *cpu, uint64_t arith_bits);
unsigned emu_parity(uint64_t v);

/* --- mmu.c: paging, TLB, physical access --- */
/* The TLB tag for an access to lin: the page and the privilege the cached
 * rights were checked for. User, supervisor with EFLAGS.AC (explicit SMAP
 * data accesses may reach user pages) and supervisor (AC = 0, or an
 * implicit access such as a descriptor-table read) have separate entries,
 * so a change of CPL or AC needs no flush. Every TLB probe (mem.c, fast.c,
 * block.c) uses this one. */
static inline uint64_t emu_tlb_tag(const struct emu_cpu *cpu, uint64_t lin, unsigned acc)
{
	uint64_t t = (lin & ~0xfffULL) | EMU_TLB_VALID;
	if (acc & ACC_SUPER)
		return t;
	if (cpu->cpl == 3)
		return t | EMU_TLB_USER;
	/* SMAP ignores AC for fetches: STAC/CLAC keep the code's entries */
	return t | ((acc & ACC_KIND) != ACC_FETCH && (cpu->rflags & FL_AC) ? EMU_TLB_AC : 0);
}
void emu_tlb_flush(struct emu_cpu *cpu);
void emu_tlb_flush_page(struct emu_cpu *cpu, uint64_t lin);
int emu_translate(struct emu_cpu *cpu, uint64_t lin, unsigned acc, uint64_t *gpa) EMU_MUST;
/* 0 when a translation with these combined rights (key: its protection key,
 * -1 for none) allows the access; else the page-fault error code bits P and
 * PK to add. The one permission check of the soft MMU (SDM vol. 3 §4.6). */
uint32_t emu_page_access_denied(const struct emu_cpu *cpu, unsigned acc, bool w, bool u, bool nx, int key);
int emu_x_pkey(struct emu_cpu *, const struct emu_insn *) EMU_MUST; /* STAC CLAC RDPKRU WRPKRU */
int emu_phys_read(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t *val);
int emu_phys_write(struct emu_cpu *cpu, uint64_t gpa, unsigned size, uint64_t val);

/* --- mem.c: linear and segmented access --- */
int emu_lin_read(struct emu_cpu *cpu, uint64_t lin, unsigned size, void *out, unsigned acc) EMU_MUST;
int emu_lin_write(struct emu_cpu *cpu, uint64_t lin, unsigned size, const void *in, unsigned acc) EMU_MUST;
int emu_seg_linear(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, unsigned acc,
		   uint64_t *lin) EMU_MUST;
int emu_read(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t *val) EMU_MUST;
int emu_write(struct emu_cpu *cpu, unsigned seg, uint64_t off, unsigned size, uint64_t val) EMU_MUST;
int emu_read_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t *val) EMU_MUST;
int emu_write_sys(struct emu_cpu *cpu, uint64_t lin, unsigned size, uint64_t val) EMU_MUST;
/* Fetches up to max bytes at CS:off; returns how many could be read in *got
 * without crossing into an unmapped page (faults only for the first byte). */
int emu_fetch(struct emu_cpu *cpu, uint64_t off, uint8_t *buf, unsigned max, unsigned *got) EMU_MUST;
/* The host address of 16 code bytes at CS:off when the fetch TLB already
 * maps them within one page and the CS limit allows; NULL otherwise (then
 * emu_fetch does the checks). Never faults. */
const uint8_t *emu_fetch_peek(struct emu_cpu *cpu, uint64_t off);
/* The host address of the code byte at linear address lin, filling the
 * fetch TLB if needed; NULL if the fetch would fault or is not RAM. */
const uint8_t *emu_fetch_host(struct emu_cpu *cpu, uint64_t lin);

/* --- seg.c: descriptors and segment loads (SDM vol. 3 chapter 3, 5) --- */
struct emu_desc {
	uint64_t raw[2];  /* 16 bytes for long-mode system descriptors */
	struct x86_segment seg;
};
int emu_desc_read(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d, unsigned vec) EMU_MUST;
int emu_desc_set_accessed(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d) EMU_MUST;
void emu_desc_decode(uint64_t lo, uint64_t hi, struct x86_segment *seg);
void emu_seg_real(struct emu_cpu *cpu, unsigned sreg, uint16_t sel);
int emu_load_seg(struct emu_cpu *cpu, unsigned sreg, uint16_t sel) EMU_MUST;
/* Far transfers: load CS for jmp/call (target checks); sets cpl and mode. */
int emu_load_cs_far(struct emu_cpu *cpu, uint16_t sel, struct emu_desc *d, unsigned rpl_cpl) EMU_MUST;
void emu_set_cs(struct emu_cpu *cpu, uint16_t sel, const struct x86_segment *s, unsigned cpl);

/* --- operand.c: registers, effective addresses, operand access --- */
uint64_t emu_reg_get(const struct emu_cpu *cpu, const struct emu_insn *in, unsigned r, unsigned w);
void emu_reg_set(struct emu_cpu *cpu, const struct emu_insn *in, unsigned r, unsigned w, uint64_t v);
/* The effective address (offset in in->seg) of the memory operand. */
static inline uint64_t emu_ea(const struct emu_cpu *cpu, const struct emu_insn *in)
{
	uint64_t a = (uint64_t)in->disp;
	if (in->rip_rel)
		a += cpu->next_rip;
	if (in->base != EMU_NO_REG)
		a += cpu->gpr[in->base];
	if (in->index != EMU_NO_REG)
		a += cpu->gpr[in->index] << in->scale;
	return a & emu_mask(in->addrsize);
}
int emu_op_read(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, uint64_t *v) EMU_MUST;
int emu_op_write(struct emu_cpu *cpu, const struct emu_insn *in, unsigned n, uint64_t v) EMU_MUST;
uint64_t emu_addr_mask(unsigned addrsize);
/* The register number of operand n (G, Z, REG, E with mod 3). */
unsigned emu_op_reg(const struct emu_insn *in, unsigned n);

/* --- stack.c --- */
int emu_push(struct emu_cpu *cpu, unsigned size, uint64_t v) EMU_MUST;
int emu_pop(struct emu_cpu *cpu, unsigned size, uint64_t *v) EMU_MUST;
unsigned emu_stack_width(const struct emu_cpu *cpu);

/* --- interrupt.c --- */
/* Delivers vector through the IDT/IVT. soft: INT n/INT3/INTO (privilege
 * check against the gate DPL); ret_rip: the RIP to push. */
int emu_deliver(struct emu_cpu *cpu, unsigned vector, bool soft, bool has_error, uint32_t error,
		uint64_t ret_rip) EMU_MUST;
/* Delivers cpu->exc, escalating to #DF and triple fault (SDM vol. 3 §6.15
 * table 6-5). Returns false on triple fault. */
bool emu_deliver_exception(struct emu_cpu *cpu);

/* Stack for privilege level dpl (or IST slot ist) from the current TSS;
 * #TS when the TSS is too short. */
int emu_tss_stack(struct emu_cpu *cpu, unsigned dpl, unsigned ist, uint16_t *ss, uint64_t *sp) EMU_MUST;
/* far.c: switch to the inner stack for dpl (CPL becomes dpl). */
int emu_switch_stack(struct emu_cpu *cpu, unsigned dpl, unsigned ist) EMU_MUST;
void emu_null_outer_data_segs(struct emu_cpu *cpu);

/* --- task.c: hardware task switching (SDM vol. 3 chapter 8) --- */
enum emu_task_src { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
/* The fields of a TSS (figure 8-2, 32-bit; figure 8-11, 16-bit). sel:
 * ES CS SS DS FS GS; gpr in the order EAX ECX EDX EBX ESP EBP ESI EDI. */
struct emu_tss_image {
	uint32_t eip, eflags, cr3, gpr[8];
	uint16_t link, ldt, sel[6];
	bool trap;
};
void emu_tss_decode(const uint8_t *buf, bool tss32, struct emu_tss_image *t);
/* Writes the dynamic fields (the ones a switch saves: EIP..GS / IP..DS)
 * into buf, a whole TSS image; returns their range [begin, *end). */
void emu_tss_encode_dynamic(uint8_t *buf, bool tss32, const struct emu_tss_image *t);
unsigned emu_tss_dynamic_range(bool tss32, unsigned *end);
/* Switches to the task of TSS selector sel. ext: the EXT bit of error
 * codes; ret_eip: the EIP saved for the old task; has_error/error: the
 * exception's error code, pushed on the new task's stack. */
int emu_task_switch(struct emu_cpu *cpu, uint16_t sel, enum emu_task_src src, uint32_t ext, uint64_t ret_eip,
		    bool has_error, uint32_t error) EMU_MUST;
/* JMP/CALL far to a TSS descriptor or task gate d (selector sel). */
int emu_task_far(struct emu_cpu *cpu, const struct emu_desc *d, uint16_t sel, bool call, uint64_t ret_eip) EMU_MUST;

/* --- debug.c: debug registers and debug exceptions (SDM vol. 3 chapter 17) --- */
#define EMU_DR6_BD (1u << 13)
#define EMU_DR6_BS (1u << 14)
#define EMU_DR6_BT (1u << 15)
#define EMU_DR6_FIXED 0xffff0ff0u /* reads as 1 (no RTM: bit 16 too) */
#define EMU_DR7_FIXED 0x400u
enum { EMU_DBG_EXEC = 1, EMU_DBG_DATA = 2, EMU_DBG_IO = 4 };
/* DR7 decoded for breakpoint n (0-3): enabled (L or G), RW (0 exec, 1
 * write, 2 I/O, 3 read/write) and the length in bytes. */
struct emu_bp {
	bool on;
	uint8_t rw, len;
};
struct emu_bp emu_dr7_bp(uint64_t dr7, unsigned n);
/* The EMU_DBG_* kinds DR7 enables. */
unsigned emu_dr7_kinds(uint64_t dr7);
/* B0-B3 bits of the breakpoints dr[0..3]/dr7 that an access of size bytes
 * at lin matches; kind: 0 the instruction at lin, 1 a write, 3 a read, 2
 * a port access (lin = the port). */
unsigned emu_bp_match(const uint64_t *dr, uint64_t dr7, uint64_t lin, unsigned size, unsigned kind);
/* MOV to/from DRn (system.c's M_MOVDR). */
int emu_mov_dr(struct emu_cpu *cpu, const struct emu_insn *in) EMU_MUST;
/* A data access in the memory path, when cpu->dbg has EMU_DBG_DATA. */
void emu_dbg_access(struct emu_cpu *cpu, uint64_t lin, unsigned size, unsigned acc);
/* A port access by IN/OUT/INS/OUTS, when cpu->dbg has EMU_DBG_IO. */
void emu_dbg_port(struct emu_cpu *cpu, uint16_t port, unsigned size);
/* Before an instruction: an instruction breakpoint at RIP raises the #DB
 * fault (RF clear); returns EMU_EXC then. */
int emu_dbg_insn_check(struct emu_cpu *cpu) EMU_MUST;
/* After an instruction: the DR6 bits of a trap-class #DB now due (single
 * step bs, pending data breakpoints), 0 if none or it is held. */
uint32_t emu_dbg_trap_bits(struct emu_cpu *cpu, bool bs, bool ss_shadow);
/* Raises #DB with these DR6 bits set (B0-B3 replaced). */
int emu_dbg_raise(struct emu_cpu *cpu, uint32_t dr6_bits) EMU_MUST;
/* The DR6/DR7 update of a #DB entry without raising one: for the #DB that
 * ICEBP (INT1) has just delivered, which also reports the traps due at
 * its boundary. */
void emu_dbg_enter(struct emu_cpu *cpu, uint32_t dr6_bits);

/* --- exec.c --- */
/* Executes one instruction (or delivers one interrupt). Returns false when
 * the vCPU shut down (triple fault); the crash has been reported. */
bool emu_step(struct emu_cpu *cpu);
/* Executes up to `budget` instructions (at least one, or one interrupt
 * delivery): blocks where possible, emu_step otherwise. Returns how many
 * instructions retired, or -1 when the vCPU shut down. */
long emu_run(struct emu_cpu *cpu, long budget);
/* The handler for a mnemonic, NULL if not implemented. */
emu_handler emu_insn_handler(unsigned mnem);
/* Delivers cpu->exc raised by the current instruction; on a triple fault
 * reports the crash and returns false. */
bool emu_finish_fault(struct emu_cpu *cpu);

/* --- block.c --- */
/* Runs the decoded block at RIP. Returns the instructions retired (0 when
 * the first one faulted and the fault was delivered), -1 when there is no
 * block here (use emu_step), -2 on triple fault (crash reported). */
int emu_run_block(struct emu_cpu *cpu);
/* Threaded dispatch inside a block (fast.c): run the op after op, unless a
 * store asked the block to stop. Returns ops completed, or -1 - i when op i
 * faulted. */
static inline int emu_block_next(struct emu_cpu *cpu, const struct emu_block_op *op)
{
	if (cpu->block_stop)
		return (int)op->idx + 1;
	const struct emu_block_op *n = op + 1;
	cpu->next_rip = n->next;
	return n->fn(cpu, &n->in);
}
/* The chain's end, and the wrapper that runs a generic handler (op->gfn). */
emu_handler emu_block_end_handler(void);
emu_handler emu_generic_handler(void);
/* fast.c: a specialised handler for op->in in a block of this code size
 * (and op->r0/r1/w filled for it), or NULL for the generic one. */
emu_handler emu_fast_handler(struct emu_block_op *op, unsigned code_size);
/* A RAM write at host address h of n bytes: note self-modifying code. */
static inline void emu_smc_note(struct emu_cpu *cpu, uintptr_t h, unsigned n)
{
	if (h < cpu->smc_hi && h + n > cpu->smc_lo)
		cpu->block_stop = true;
}

/* Executor groups: one handler per mnemonic family. */
int emu_x_alu(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_unary(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_mov(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_data(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_flagop(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_bcd(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_muldiv(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_shift(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_bits(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_stack(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_control(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_far(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_int(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_iret(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_string(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_io(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_system(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_desc(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_msr(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_cpuid(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_syscall(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
int emu_x_fpu(struct emu_cpu *, const struct emu_insn *) EMU_MUST;     /* fpu.c: x87 control, FXSAVE */
int emu_x_sse(struct emu_cpu *, const struct emu_insn *) EMU_MUST;     /* sse.c */
/* sse_fp.c: FP arithmetic, compares, conversions (M_ADDPS..M_CVTPD2DQ), after emu_sse_check */
int emu_x_sse_fp(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
/* The mnemonics sse.c executes. */
#define EMU_SSE_MNEMONICS(X)                                                                       \
	X(MOVUPS) X(MOVUPD) X(MOVAPS) X(MOVAPD) X(MOVSS) X(MOVSD) X(MOVLPS) X(MOVLPD) X(MOVHPS)      \
	X(MOVHPD) X(MOVNTPS) X(MOVNTPD) X(MOVD) X(MOVQ) X(MOVDQA) X(MOVDQU) X(MOVNTDQ) X(MOVNTI)     \
	X(MOVMSKPS) X(MOVMSKPD) X(ANDPS) X(ANDPD) X(ANDNPS) X(ANDNPD) X(ORPS) X(ORPD) X(XORPS)       \
	X(XORPD) X(PAND) X(PANDN) X(POR) X(PXOR) X(PCMPEQB) X(PCMPEQW) X(PCMPEQD) X(PCMPGTB)         \
	X(PCMPGTW) X(PCMPGTD) X(PMOVMSKB) X(PADDB) X(PADDW) X(PADDD) X(PADDQ) X(PSUBB) X(PSUBW)      \
	X(PSUBD) X(PSUBQ) X(PADDUSB) X(PSUBUSB) X(PMULLW) X(PMINUB) X(PMAXUB) X(PSADBW) X(PSHUFD)    \
	X(PSHUFLW) X(PSHUFHW) X(SHUFPS) X(SHUFPD) X(PUNPCKLBW) X(PUNPCKLWD) X(PUNPCKLDQ)            \
	X(PUNPCKLQDQ) X(PUNPCKHBW) X(PUNPCKHWD) X(PUNPCKHDQ) X(PUNPCKHQDQ) X(UNPCKLPS) X(UNPCKHPS)  \
	X(PSLLW) X(PSLLD) X(PSLLQ) X(PSRLW) X(PSRLD) X(PSRLQ) X(PSRAW) X(PSRAD) X(PSLLDQ) X(PSRLDQ)  \
	X(PADDSB) X(PADDSW) X(PSUBSB) X(PSUBSW) X(PADDUSW) X(PSUBUSW) X(PMINSW) X(PMAXSW) X(PAVGB)  \
	X(PAVGW) X(PMULHW) X(PMULHUW) X(PMULUDQ) X(PMADDWD) X(PACKSSWB) X(PACKUSWB) X(PACKSSDW)     \
	X(PEXTRW) X(PINSRW) X(UCOMISS) X(UCOMISD) X(COMISS) X(COMISD) \
	X(EMMS) X(PSHUFW) X(MOVNTQ) X(MASKMOVQ) \
	X(ADDPS) X(ADDPD) X(ADDSS) X(ADDSD) X(SUBPS) X(SUBPD) X(SUBSS) X(SUBSD) X(MULPS) X(MULPD)  \
	X(MULSS) X(MULSD) X(DIVPS) X(DIVPD) X(DIVSS) X(DIVSD) X(SQRTPS) X(SQRTPD) X(SQRTSS)        \
	X(SQRTSD) X(MINPS) X(MINPD) X(MINSS) X(MINSD) X(MAXPS) X(MAXPD) X(MAXSS) X(MAXSD)          \
	X(CMPPS) X(CMPPD) X(CMPSS) X(CMPSD) X(CVTSI2SS) X(CVTSI2SD) X(CVTTSS2SI) X(CVTTSD2SI)      \
	X(CVTSS2SI) X(CVTSD2SI) X(CVTSS2SD) X(CVTSD2SS) X(CVTPS2PD) X(CVTPD2PS) X(CVTDQ2PS)        \
	X(CVTPS2DQ) X(CVTTPS2DQ) X(CVTDQ2PD) X(CVTTPD2DQ) X(CVTPD2DQ)                             
/* sse.c: the packed-integer operation mnem (PSHUFD/LW/HW with imm) on two
 * 16-byte values, a = a op b; false if mnem is not one. mmx.c runs the MMX
 * forms through it on the low 64 bits. */
bool emu_sse_int_op(unsigned mnem, unsigned imm, uint8_t a[16], const uint8_t b[16]);
/* mmx.c: the MMX forms (rows tagged DF_MMX), reached through emu_x_sse. */
int emu_x_mmx(struct emu_cpu *, const struct emu_insn *) EMU_MUST;
/* fpu.c: the device-not-available / SSE-enabled checks of SDM vol. 3 §2.5
 * table 2-2 and §13.1. */
int emu_sse_check(struct emu_cpu *cpu) EMU_MUST;
/* Reads/writes size bytes of the memory operand; align: #GP(0) unless the
 * linear address is a multiple of it (0 or 1: no check). */
int emu_mem_read_buf(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off, void *buf, unsigned size,
		     unsigned align) EMU_MUST;
int emu_mem_write_buf(struct emu_cpu *cpu, const struct emu_insn *in, uint64_t off, const void *buf,
		      unsigned size, unsigned align) EMU_MUST;

/* --- io.c --- */
int emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size) EMU_MUST;
uint64_t emu_port_in(struct emu_cpu *cpu, uint16_t port, unsigned size);
void emu_port_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t v);

/* --- cpuid.c / msr.c --- */
void emu_cpuid(const struct emu_cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4]);
int emu_set_cr(struct emu_cpu *cpu, unsigned cr, uint64_t v) EMU_MUST;
int emu_set_efer(struct emu_cpu *cpu, uint64_t v) EMU_MUST;
uint64_t emu_tsc(const struct emu_cpu *cpu);
void emu_msr_reset(struct emu_cpu *cpu); /* power-on MSR values (keeps tsc_epoch) */
uint64_t emu_host_ns(void);              /* host CLOCK_MONOTONIC in ns */

/* --- engine (emu_engine.c) --- */
void emu_report_crash(struct emu_cpu *cpu, const char *reason);
struct emu_cpu *emu_machine_cpu(struct emu_machine *m, unsigned index);
unsigned emu_machine_ncpus(const struct emu_machine *m);
/* The vector of a pending external (PIC) interrupt for this vCPU, acknowledged, or -1. */
int emu_machine_ext_intr(struct emu_cpu *cpu);
/* Delivers device interrupts that arrived from other threads (I/O APIC). */
void emu_machine_poll_irqs(struct emu_cpu *cpu);
/* A level-triggered vector was EOIed: tell the I/O APIC. */
void emu_machine_eoi(struct emu_machine *m, unsigned vector);

#endif
