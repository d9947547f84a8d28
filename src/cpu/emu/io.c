/* Port I/O: IN/OUT and the protection check shared with INS/OUTS: IOPL,
 * then the TSS I/O permission bitmap (SDM vol. 1 §18.5). Every port access
 * goes to the io bus. */
#include "emu.h"
#include "vm.h"

int emu_io_check(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	if (!emu_prot_mode(cpu))
		return EMU_OK;
	unsigned iopl = (emu_flags_get(cpu) >> 12) & 3;
	if (!emu_vm86(cpu) && cpu->cpl <= iopl)
		return EMU_OK;
	const struct x86_segment *tr = &cpu->seg[SEG_TR];
	/* only 32/64-bit TSSs have a bitmap */
	if (tr->unusable || !tr->present || !(tr->type & 8) || tr->limit < 0x67)
		return emu_gp(cpu, 0);
	uint64_t base, bits;
	EMU_TRY(emu_read_sys(cpu, tr->base + 0x66, 2, &base));
	uint64_t off = base + port / 8;
	if (off + 1 > tr->limit)
		return emu_gp(cpu, 0);
	EMU_TRY(emu_read_sys(cpu, tr->base + off, 2, &bits));
	unsigned mask = ((1u << size) - 1) << (port & 7);
	if (bits & mask)
		return emu_gp(cpu, 0);
	return EMU_OK;
}

uint64_t emu_port_in(struct emu_cpu *cpu, uint16_t port, unsigned size)
{
	uint64_t v = 0;
	if (cpu->dbg & EMU_DBG_IO)
		emu_dbg_port(cpu, port, size); /* I/O breakpoints (debug.c) */
	io_bus_access(&cpu->vm->bus, IO_SPACE_PIO, port, size, false, &v);
	return v & emu_mask(size);
}

void emu_port_out(struct emu_cpu *cpu, uint16_t port, unsigned size, uint64_t v)
{
	v &= emu_mask(size);
	if (cpu->dbg & EMU_DBG_IO)
		emu_dbg_port(cpu, port, size);
	io_bus_access(&cpu->vm->bus, IO_SPACE_PIO, port, size, true, &v);
}

int emu_x_io(struct emu_cpu *cpu, const struct emu_insn *in)
{
	bool out = in->mnem == M_OUT;
	const struct emu_opspec *p = &in->op[out ? 0 : 1];
	uint16_t port = p->kind == OK_I ? (uint16_t)(in->imm & 0xff) : (uint16_t)cpu->gpr[RDX];
	unsigned w = in->opw[out ? 1 : 0];
	EMU_TRY(emu_io_check(cpu, port, w));
	if (out)
		emu_port_out(cpu, port, w, cpu->gpr[RAX]);
	else
		emu_reg_set(cpu, in, RAX, w, emu_port_in(cpu, port, w));
	return EMU_OK;
}
