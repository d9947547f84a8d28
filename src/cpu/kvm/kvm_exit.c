/* Serving KVM exits: the heart of trap-and-emulate. Port I/O and MMIO go to
 * the io bus; a guest that stops or crashes ends the run; an exit reason
 * vmon does not expect is a crash with a register dump, never a hang. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu/emu/decode.h" /* pure: names the instruction KVM could not emulate */
#include "cpu/kvm/kvm_internal.h"
#include "util/log.h"
#include "vm.h"

static const char *exit_reason_name(uint32_t r)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION", [KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL", [KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_SET_TPR] = "SET_TPR", [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI", [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
		[KVM_EXIT_X86_RDMSR] = "X86_RDMSR", [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	};
	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "?";
}

/* KVM_EXIT_INTERNAL_ERROR's data words, as " data a b c" (or ""). */
struct data_text {
	char text[160];
};

static struct data_text internal_data(const struct kvm_run *run)
{
	struct data_text d = { "" };
	size_t n = 0;
	unsigned ndata = run->internal.ndata;
	if (ndata > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		ndata = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	if (ndata)
		n = (size_t)snprintf(d.text, sizeof(d.text), ", data");
	for (unsigned i = 0; i < ndata && n + 20 < sizeof(d.text); i++)
		n += (size_t)snprintf(d.text + n, sizeof(d.text) - n, " %llx",
				      (unsigned long long)run->internal.data[i]);
	return d;
}

/* An emulation failure that comes with the instruction's bytes (api.rst,
 * KVM_INTERNAL_ERROR_EMULATION): name the instruction. A KVM that emulates
 * guest ring 0 in software (kvm-pvm) ends a run this way on an instruction
 * its emulator lacks, SSE and x87 among them. Returns false when the exit
 * carries no bytes. */
static bool describe_emulation_failure(struct kvm_vcpu *v)
{
	const struct kvm_run *run = v->run;
	if (run->emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION || run->emulation_failure.ndata < 3 ||
	    !(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return false;
	unsigned size = run->emulation_failure.insn_size;
	if (size == 0 || size > sizeof(run->emulation_failure.insn_bytes))
		return false;
	struct kvm_sregs sregs;
	unsigned mode = 8;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0)
		mode = sregs.cs.l ? 8 : sregs.cs.db ? 4 : 2;
	struct emu_insn in;
	char text[96] = "an instruction vmon cannot decode either";
	if (emu_decode(run->emulation_failure.insn_bytes, size, mode, &in) == EMU_DEC_OK) {
		emu_disasm(&in, 0, text, sizeof(text));
		size = in.len;
	}
	char bytes[3 * 15 + 1] = "";
	size_t n = 0;
	for (unsigned i = 0; i < size; i++)
		n += (size_t)snprintf(bytes + n, sizeof(bytes) - n, "%s%02x", i ? " " : "",
				      run->emulation_failure.insn_bytes[i]);
	kvm_vcpu_crash(v, "the host's KVM could not emulate `%s` (%s; a KVM that emulates guest ring 0 in software "
			  "may lack it: run it at ring 3, or use --accel emu)", text, bytes);
	return true;
}

void kvm_vcpu_crash(struct kvm_vcpu *v, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	struct kvm_regs regs;
	struct kvm_sregs sregs;
	bool have = ioctl(v->fd, KVM_GET_REGS, &regs) == 0 && ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0;
	if (have) {
		struct x86_state st;
		kvm_regs_to_state(&regs, &sregs, &st);
		log_error("guest crashed: vCPU %u: %s at %04x:%016llx", v->index, what,
			  st.seg[SEG_CS].selector, (unsigned long long)st.rip);
		flockfile(stderr);
		x86_state_dump(stderr, &st);
		funlockfile(stderr);
	} else {
		log_error("guest crashed: vCPU %u: %s (registers unavailable: %s)", v->index, what,
			  strerror(errno));
	}
	vm_request_stop(v->ks->vm, VM_OUTCOME_CRASH, 0);
}

/* KVM_EXIT_IO: count accesses of size bytes each (more than one for string
 * I/O with REP), data in the kvm_run page at data_offset. */
static bool handle_io(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->io.size;
	uint64_t count = run->io.count;
	uint64_t off = run->io.data_offset;
	if ((size != 1 && size != 2 && size != 4) || off > v->ks->run_size ||
	    count > (v->ks->run_size - off) / size) {
		kvm_vcpu_crash(v, "malformed I/O exit (port 0x%x size %u count %llu)", run->io.port, size,
			       (unsigned long long)count);
		return false;
	}
	uint8_t *data = (uint8_t *)run + off;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	for (uint64_t i = 0; i < count; i++, data += size) {
		uint64_t value = 0;
		if (out)
			memcpy(&value, data, size); /* x86: little-endian */
		io_bus_access(&v->ks->vm->bus, IO_SPACE_PIO, run->io.port, size, out, &value);
		if (!out)
			memcpy(data, &value, size);
	}
	return true;
}

static bool handle_mmio(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	if (len == 0 || len > sizeof(run->mmio.data)) {
		kvm_vcpu_crash(v, "malformed MMIO exit (0x%llx len %u)",
			       (unsigned long long)run->mmio.phys_addr, len);
		return false;
	}
	uint64_t value = 0;
	if (run->mmio.is_write)
		memcpy(&value, run->mmio.data, len);
	io_bus_access(&v->ks->vm->bus, IO_SPACE_MMIO, run->mmio.phys_addr, len, run->mmio.is_write, &value);
	if (!run->mmio.is_write)
		memcpy(run->mmio.data, &value, len);
	return true;
}

static bool handle_system_event(struct kvm_vcpu *v)
{
	struct vm *vm = v->ks->vm;
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		log_info("guest powered off");
		vm_request_stop(vm, VM_OUTCOME_POWEROFF, 0);
		return false;
	case KVM_SYSTEM_EVENT_RESET:
		/* A reboot ends vmon with the reset status: the user restarts it. */
		log_info("guest reset");
		vm_request_stop(vm, VM_OUTCOME_RESET, 0);
		return false;
	case KVM_SYSTEM_EVENT_CRASH:
		kvm_vcpu_crash(v, "guest reported a crash (system event)");
		return false;
	default:
		kvm_vcpu_crash(v, "unexpected system event %u", v->run->system_event.type);
		return false;
	}
}

bool kvm_exit_handle(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_INTR:
		return true; /* normally reported as EINTR from KVM_RUN instead */
	case KVM_EXIT_HLT:
		/* KVM only exits on HLT without an in-kernel LAPIC, which vmon
		 * always creates; with one, a halted vCPU waits in the kernel for
		 * an interrupt, as on hardware. Kept for completeness. */
		log_info("vCPU %u halted", v->index);
		vm_request_stop(v->ks->vm, VM_OUTCOME_POWEROFF, 0);
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* On AMD, KVM re-INITs the vCPU before this exit: the dump then
		 * shows the reset state, not the faulting one. */
		kvm_vcpu_crash(v, "triple fault (KVM_EXIT_SHUTDOWN; on AMD hosts the registers below are "
				  "the post-INIT state)");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(v);
	case KVM_EXIT_FAIL_ENTRY:
		kvm_vcpu_crash(v, "KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (describe_emulation_failure(v))
			return false;
		kvm_vcpu_crash(v, "KVM_EXIT_INTERNAL_ERROR suberror %u%s", run->internal.suberror,
			       internal_data(run).text);
		return false;
	default:
		kvm_vcpu_crash(v, "unexpected exit reason %u (%s)", run->exit_reason,
			       exit_reason_name(run->exit_reason));
		return false;
	}
}
