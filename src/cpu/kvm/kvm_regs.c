/* struct x86_state <-> struct kvm_regs / kvm_sregs. Pure; unit-tested. */
#include <string.h>

#include "cpu/kvm/kvm_internal.h"

static void seg_to_kvm(const struct x86_segment *s, struct kvm_segment *k)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l,
		.g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static void seg_from_kvm(const struct kvm_segment *k, struct x86_segment *s)
{
	*s = (struct x86_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l,
		.g = k->g, .avl = k->avl, .unusable = k->unusable,
	};
}

void kvm_regs_from_state(const struct x86_state *st, struct kvm_regs *r, struct kvm_sregs *sr)
{
	memset(r, 0, sizeof(*r));
	r->rax = st->gpr[RAX]; r->rcx = st->gpr[RCX]; r->rdx = st->gpr[RDX]; r->rbx = st->gpr[RBX];
	r->rsp = st->gpr[RSP]; r->rbp = st->gpr[RBP]; r->rsi = st->gpr[RSI]; r->rdi = st->gpr[RDI];
	r->r8 = st->gpr[R8];   r->r9 = st->gpr[R9];   r->r10 = st->gpr[R10]; r->r11 = st->gpr[R11];
	r->r12 = st->gpr[R12]; r->r13 = st->gpr[R13]; r->r14 = st->gpr[R14]; r->r15 = st->gpr[R15];
	r->rip = st->rip;
	r->rflags = st->rflags | X86_RFLAGS_FIXED;

	/* Keep what KVM put in fields vmon does not model (interrupt bitmap). */
	seg_to_kvm(&st->seg[SEG_CS], &sr->cs);
	seg_to_kvm(&st->seg[SEG_DS], &sr->ds);
	seg_to_kvm(&st->seg[SEG_ES], &sr->es);
	seg_to_kvm(&st->seg[SEG_FS], &sr->fs);
	seg_to_kvm(&st->seg[SEG_GS], &sr->gs);
	seg_to_kvm(&st->seg[SEG_SS], &sr->ss);
	seg_to_kvm(&st->seg[SEG_TR], &sr->tr);
	seg_to_kvm(&st->seg[SEG_LDTR], &sr->ldt);
	sr->gdt = (struct kvm_dtable){ .base = st->gdt.base, .limit = st->gdt.limit };
	sr->idt = (struct kvm_dtable){ .base = st->idt.base, .limit = st->idt.limit };
	sr->cr0 = st->cr0; sr->cr2 = st->cr2; sr->cr3 = st->cr3; sr->cr4 = st->cr4; sr->cr8 = st->cr8;
	sr->efer = st->efer;
	if (st->apic_base)
		sr->apic_base = st->apic_base;
}

void kvm_regs_to_state(const struct kvm_regs *r, const struct kvm_sregs *sr, struct x86_state *st)
{
	memset(st, 0, sizeof(*st));
	st->gpr[RAX] = r->rax; st->gpr[RCX] = r->rcx; st->gpr[RDX] = r->rdx; st->gpr[RBX] = r->rbx;
	st->gpr[RSP] = r->rsp; st->gpr[RBP] = r->rbp; st->gpr[RSI] = r->rsi; st->gpr[RDI] = r->rdi;
	st->gpr[R8] = r->r8;   st->gpr[R9] = r->r9;   st->gpr[R10] = r->r10; st->gpr[R11] = r->r11;
	st->gpr[R12] = r->r12; st->gpr[R13] = r->r13; st->gpr[R14] = r->r14; st->gpr[R15] = r->r15;
	st->rip = r->rip;
	st->rflags = r->rflags;
	seg_from_kvm(&sr->cs, &st->seg[SEG_CS]);
	seg_from_kvm(&sr->ds, &st->seg[SEG_DS]);
	seg_from_kvm(&sr->es, &st->seg[SEG_ES]);
	seg_from_kvm(&sr->fs, &st->seg[SEG_FS]);
	seg_from_kvm(&sr->gs, &st->seg[SEG_GS]);
	seg_from_kvm(&sr->ss, &st->seg[SEG_SS]);
	seg_from_kvm(&sr->tr, &st->seg[SEG_TR]);
	seg_from_kvm(&sr->ldt, &st->seg[SEG_LDTR]);
	st->gdt = (struct x86_dtable){ .base = sr->gdt.base, .limit = sr->gdt.limit };
	st->idt = (struct x86_dtable){ .base = sr->idt.base, .limit = sr->idt.limit };
	st->cr0 = sr->cr0; st->cr2 = sr->cr2; st->cr3 = sr->cr3; st->cr4 = sr->cr4; st->cr8 = sr->cr8;
	st->efer = sr->efer;
	st->apic_base = sr->apic_base;
}
