#include "cpu/x86_state.h"

#include <inttypes.h>

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };

const char *x86_state_mode_name(const struct x86_state *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return "real mode";
	if (s->efer & X86_EFER_LMA)
		return s->seg[SEG_CS].l ? "long mode (64-bit)" : "long mode (compatibility)";
	if (s->cr0 & X86_CR0_PG)
		return (s->cr4 & X86_CR4_PAE) ? "protected mode, PAE paging" : "protected mode, 32-bit paging";
	return s->seg[SEG_CS].db ? "protected mode (32-bit)" : "protected mode (16-bit)";
}

void x86_state_dump(FILE *out, const struct x86_state *s)
{
	fprintf(out, "  mode: %s\n", x86_state_mode_name(s));
	for (int i = 0; i < 16; i += 4)
		fprintf(out, "  %-3s=%016" PRIx64 " %-3s=%016" PRIx64 " %-3s=%016" PRIx64 " %-3s=%016" PRIx64 "\n",
			gpr_names[i], s->gpr[i], gpr_names[i + 1], s->gpr[i + 1],
			gpr_names[i + 2], s->gpr[i + 2], gpr_names[i + 3], s->gpr[i + 3]);
	fprintf(out, "  rip=%016" PRIx64 " rflags=%08" PRIx64 "\n", s->rip, s->rflags);
	for (int i = 0; i < SEG_COUNT; i++) {
		const struct x86_segment *g = &s->seg[i];
		fprintf(out, "  %-4s sel=%04x base=%016" PRIx64 " limit=%08x type=%x s=%u dpl=%u p=%u db=%u l=%u g=%u\n",
			seg_names[i], g->selector, g->base, g->limit, g->type, g->s, g->dpl,
			g->present, g->db, g->l, g->g);
	}
	fprintf(out, "  gdt=%016" PRIx64 "/%04x idt=%016" PRIx64 "/%04x\n",
		s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit);
	fprintf(out, "  cr0=%016" PRIx64 " cr2=%016" PRIx64 " cr3=%016" PRIx64 " cr4=%016" PRIx64 "\n",
		s->cr0, s->cr2, s->cr3, s->cr4);
	fprintf(out, "  efer=%016" PRIx64 " apic_base=%016" PRIx64 "\n", s->efer, s->apic_base);
}
