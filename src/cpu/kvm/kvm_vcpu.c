/* One KVM vCPU: created with its CPUID and the firmware's MSRs, loaded with the boot state, and run
 * by its own thread looping on KVM_RUN until the machine stops. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/kvm/kvm_internal.h"
#include "util/log.h"
#include "vm.h"

static const char paging_limit_msg[] =
	"the host's KVM cannot run paging outside long mode (a nested, software-assisted KVM); "
	"run this guest with --accel emu";

/* The host's supported CPUID, personalised for this vCPU (kvm_cpuid.c). */
static int set_cpuid(struct kvm_vcpu *v)
{
	const struct kvm_cpuid2 *src = v->ks->cpuid;
	size_t bytes = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(bytes);
	if (!c)
		return -ENOMEM;
	memcpy(c, src, bytes);
	kvm_cpuid_personalise(c, v->index, v->ks->nvcpus_planned);
	int r = 0;
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		r = -errno;
		log_error("vCPU %u: KVM_SET_CPUID2: %s", v->index, strerror(-r));
	}
	free(c);
	return r;
}

int kvm_vcpu_create(struct kvm_engine_state *ks, unsigned index)
{
	struct kvm_vcpu *v = &ks->vcpus[index];
	v->ks = ks;
	v->index = index;
	v->fd = -1;
	v->fd = ioctl(ks->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		int e = errno;
		log_error("vCPU %u: KVM_CREATE_VCPU: %s", index, strerror(e));
		return -e;
	}
	void *run = mmap(NULL, ks->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED) {
		int e = errno;
		log_error("vCPU %u: mmap of kvm_run: %s", index, strerror(e));
		return -e;
	}
	v->run = run;
	int r = set_cpuid(v);
	return r < 0 ? r : kvm_fw_load(v);
}

int kvm_vcpu_load_boot_state(struct kvm_vcpu *v, const struct x86_state *st, bool paging_outside_long_mode)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		int e = errno;
		log_error("vCPU %u: KVM_GET_SREGS: %s", v->index, strerror(e));
		return -e;
	}
	kvm_regs_from_state(st, &regs, &sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0) {
		int e = errno;
		if (paging_outside_long_mode)
			log_error("--mode paged32: %s (KVM_SET_SREGS: %s)", paging_limit_msg, strerror(e));
		else
			log_error("vCPU %u: KVM_SET_SREGS: %s", v->index, strerror(e));
		return -e;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0) {
		int e = errno;
		log_error("vCPU %u: KVM_SET_REGS: %s", v->index, strerror(e));
		return -e;
	}
	/* Read back: a KVM that cannot do what was asked may silently drop it. */
	struct kvm_sregs back;
	if (ioctl(v->fd, KVM_GET_SREGS, &back) < 0) {
		int e = errno;
		log_error("vCPU %u: KVM_GET_SREGS: %s", v->index, strerror(e));
		return -e;
	}
	if (back.cr0 != sregs.cr0 || back.cr4 != sregs.cr4 || back.efer != sregs.efer ||
	    back.cr3 != sregs.cr3) {
		if (paging_outside_long_mode)
			log_error("--mode paged32: %s (CR0 0x%llx read back as 0x%llx)", paging_limit_msg,
				  (unsigned long long)sregs.cr0, (unsigned long long)back.cr0);
		else
			log_error("vCPU %u: KVM did not accept the boot state (cr0 0x%llx->0x%llx "
				  "cr4 0x%llx->0x%llx efer 0x%llx->0x%llx)", v->index,
				  (unsigned long long)sregs.cr0, (unsigned long long)back.cr0,
				  (unsigned long long)sregs.cr4, (unsigned long long)back.cr4,
				  (unsigned long long)sregs.efer, (unsigned long long)back.efer);
		return -ENOTSUP;
	}
	return 0;
}

void *kvm_vcpu_thread(void *arg)
{
	struct kvm_vcpu *v = arg;
	struct vm *vm = v->ks->vm;
	sigset_t unblock;
	sigemptyset(&unblock);
	sigaddset(&unblock, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);

	while (!vm_stopping(vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			int e = errno;
			if (e == EINTR || e == EAGAIN)
				continue; /* kicked, or a signal: re-check vm_stopping */
			if (v->index == 0 && !v->first_run_done && vm->boot_needs_paging_outside_long_mode) {
				log_error("--mode paged32: %s (KVM_RUN: %s)", paging_limit_msg, strerror(e));
				vm_request_stop(vm, VM_OUTCOME_SETUP, 0);
			} else {
				kvm_vcpu_crash(v, "KVM_RUN: %s", strerror(e));
			}
			break;
		}
		bool first = !v->first_run_done;
		v->first_run_done = true;
		/* An entry that fails at once on a paged32 boot is the host's limit,
		 * not the guest's fault. */
		if (first && v->index == 0 && vm->boot_needs_paging_outside_long_mode &&
		    (v->run->exit_reason == KVM_EXIT_FAIL_ENTRY ||
		     v->run->exit_reason == KVM_EXIT_INTERNAL_ERROR)) {
			log_error("--mode paged32: %s (exit reason %u at entry)", paging_limit_msg,
				  v->run->exit_reason);
			vm_request_stop(vm, VM_OUTCOME_SETUP, 0);
			break;
		}
		if (!kvm_exit_handle(v))
			break;
	}
	return NULL;
}

void kvm_vcpu_kick(struct kvm_vcpu *v)
{
	/* immediate_exit first: a signal that lands just before KVM_RUN would
	 * otherwise be lost (api.rst, "immediate_exit"). */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

void kvm_vcpu_destroy(struct kvm_vcpu *v, size_t run_size)
{
	if (v->run)
		munmap(v->run, run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
