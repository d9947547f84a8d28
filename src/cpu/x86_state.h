/* The engine-neutral x86 CPU state. Loaders produce it (the initial state of
 * the bootstrap processor); engines load it into their vCPUs and export it
 * back for register dumps. Field meanings follow the Intel SDM vol. 3 §3.4
 * (segment descriptors) and §2.5 (control registers). */
#ifndef VMON_CPU_X86_STATE_H
#define VMON_CPU_X86_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum x86_gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum x86_sreg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

/* A segment register with its hidden (cached descriptor) part. */
struct x86_segment {
	uint64_t base;
	uint32_t limit;    /* byte granular, already scaled by G */
	uint16_t selector;
	uint8_t type;      /* descriptor type field, 4 bits */
	uint8_t s;         /* 1 = code/data, 0 = system */
	uint8_t dpl;
	uint8_t present;
	uint8_t db;        /* default operation size (D/B) */
	uint8_t l;         /* 64-bit code segment */
	uint8_t g;         /* granularity */
	uint8_t avl;
	uint8_t unusable;  /* null selector loaded in protected mode */
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_EM (1u << 2)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_AM (1u << 18)
#define X86_CR0_NW (1u << 29)
#define X86_CR0_CD (1u << 30)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_PSE (1u << 4)
#define X86_CR4_PAE (1u << 5)
#define X86_CR4_PGE (1u << 7)
#define X86_CR4_OSFXSR (1u << 9)
#define X86_CR4_UMIP (1u << 11)
#define X86_EFER_SCE (1u << 0)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define X86_EFER_NXE (1u << 11)
#define X86_RFLAGS_FIXED (1u << 1)
#define X86_RFLAGS_IF (1u << 9)

struct x86_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct x86_segment seg[SEG_COUNT];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t apic_base;
};

/* A readable register dump, several lines, for crash reports. */
void x86_state_dump(FILE *out, const struct x86_state *s);

/* The name of a CPU mode from CR0/EFER/CS ("real", "protected 32-bit", ...). */
const char *x86_state_mode_name(const struct x86_state *s);

#endif
