/* The KVM engine: /dev/kvm, one VM, guest RAM in memory slots, the in-kernel
 * irqchip and PIT, and one thread per vCPU (kvm_vcpu.c) looping on KVM_RUN.
 * API reference: Documentation/virt/kvm/api.rst. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cpu/engine.h"
#include "cpu/kvm/kvm_internal.h"
#include "machine/pc.h"
#include "util/log.h"
#include "vm.h"

/* Where KVM may put the real-mode TSS and identity page table it needs on
 * Intel hosts (api.rst, KVM_SET_TSS_ADDR): inside the 3-4 GiB MMIO hole,
 * just below the BIOS area, never used by a device. */
#define KVM_TSS_ADDR 0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		log_error("open /dev/kvm: %s — this host offers no KVM (load kvm_intel or kvm_amd, "
			  "enable virtualization in the firmware, or use --accel emu)", strerror(e));
		break;
	case EACCES:
	case EPERM:
		log_error("open /dev/kvm: %s — add yourself to group kvm (or use --accel emu)", strerror(e));
		break;
	default:
		log_error("open /dev/kvm: %s", strerror(e));
	}
	return -e;
}

static int fetch_supported_cpuid(struct kvm_engine_state *ks)
{
	/* The kernel says E2BIG until the buffer is large enough. */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(ks->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			ks->cpuid = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG) {
			log_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
			return -e;
		}
	}
	log_error("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
	return -E2BIG;
}

static int add_memory(struct kvm_engine_state *ks)
{
	const struct guest_mem *mem = &ks->vm->mem;
	for (unsigned i = 0; i < mem->nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = mem->region[i].gpa,
			.memory_size = mem->region[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)mem->region[i].host,
		};
		if (ioctl(ks->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			int e = errno;
			log_error("KVM_SET_USER_MEMORY_REGION slot %u (0x%llx, %llu MiB): %s", i,
				  (unsigned long long)r.guest_phys_addr,
				  (unsigned long long)(r.memory_size >> 20), strerror(e));
			return -e;
		}
	}
	return 0;
}

static int create_platform(struct kvm_engine_state *ks)
{
	if (ioctl(ks->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		int e = errno;
		log_error("KVM_SET_TSS_ADDR: %s", strerror(e));
		return -e;
	}
	if (ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_ADDR;
		if (ioctl(ks->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
			int e = errno;
			log_error("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(e));
			return -e;
		}
	}
	/* Emulation failures then carry the instruction's bytes, which the
	 * crash report decodes (kvm_exit.c); optional: older KVMs lack it. */
	if (ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = { 1 } };
		if (ioctl(ks->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			log_info("KVM_CAP_EXIT_ON_EMULATION_FAILURE: %s (crash reports give raw data)", strerror(errno));
	}
	/* The in-kernel LAPICs, IOAPIC and PIC: INIT/SIPI between vCPUs and
	 * interrupt delivery happen without leaving the kernel. */
	if (ioctl(ks->vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		int e = errno;
		log_error("KVM_CREATE_IRQCHIP: %s", strerror(e));
		return -e;
	}
	int r = kvm_irq_routing_init(ks);
	if (r < 0)
		return r;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(ks->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		int e = errno;
		log_error("KVM_CREATE_PIT2: %s", strerror(e));
		return -e;
	}
	return 0;
}

static void kick_handler(int sig) { (void)sig; }

static int kvm_create(struct vm *vm)
{
	struct kvm_engine_state *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	ks->vm = vm;
	ks->sys_fd = ks->vm_fd = -1;
	vm->engine_data = ks;

	int r = ks->sys_fd = open_kvm();
	if (r < 0)
		return r;
	int api = ioctl(ks->sys_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		log_error("/dev/kvm: API version %d, vmon needs %d", api, KVM_API_VERSION);
		return -EINVAL;
	}
	static const struct { int cap; const char *name; } needed[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	for (unsigned i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
			log_error("/dev/kvm: the host's KVM lacks %s", needed[i].name);
			return -ENOTSUP;
		}
	}
	/* Only PCI devices need these: without them send_msi warns and
	 * add_ioeventfd says -ENOTSUP (the device then serves the write). */
	ks->has_signal_msi = ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) > 0;
	ks->has_ioeventfd = ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
	int max_vcpus = ioctl(ks->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus > 0 && vm->cfg->cpus > (unsigned)max_vcpus) {
		log_error("--cpus %u: the host's KVM allows at most %d vCPUs", vm->cfg->cpus, max_vcpus);
		return -EINVAL;
	}
	int sz = ioctl(ks->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		log_error("KVM_GET_VCPU_MMAP_SIZE: %s", sz < 0 ? strerror(errno) : "too small");
		return -EINVAL;
	}
	ks->run_size = (size_t)sz;
	if ((r = fetch_supported_cpuid(ks)) < 0 || (r = kvm_fw_plan(ks)) < 0)
		return r;

	ks->vm_fd = ioctl(ks->sys_fd, KVM_CREATE_VM, 0);
	if (ks->vm_fd < 0) {
		int e = errno;
		log_error("KVM_CREATE_VM: %s", strerror(e));
		return -e;
	}
	if ((r = create_platform(ks)) < 0 || (r = add_memory(ks)) < 0)
		return r;

	/* The kick only has to interrupt KVM_RUN (which never restarts). No
	 * vCPU blocks in write(): the UART's own thread writes stdout, and a
	 * vCPU waiting for room in its buffer is let go by
	 * uart16550_release() (vm_stop). */
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(KVM_KICK_SIGNAL, &sa, NULL);

	/* kvm-pvm runs guest ring 0 through the host's instruction emulator:
	 * fine for short bare-metal guests, but a Linux kernel decompresses
	 * and boots at ring 0 (for hours there, if its emulator lets it). */
	if (vm->boot_linux && access("/sys/module/kvm_pvm", F_OK) == 0)
		log_warn("/dev/kvm is kvm-pvm, a software-assisted KVM that emulates guest ring 0 (about a "
			 "million instructions a second, no SSE there): Linux will take very long to boot, if "
			 "at all; --accel emu boots it in seconds");

	ks->nvcpus_planned = vm->cfg->cpus;
	ks->vcpus = calloc(vm->cfg->cpus, sizeof(ks->vcpus[0]));
	if (!ks->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->cfg->cpus; i++) {
		r = kvm_vcpu_create(ks, i);
		ks->nvcpus++; /* counted even when half-built, so destroy cleans it */
		if (r < 0)
			return r;
	}
	/* vCPU 0 is the bootstrap processor (KVM's default boot CPU id); the
	 * others stay in wait-for-SIPI until it sends INIT and SIPI. */
	return kvm_vcpu_load_boot_state(&ks->vcpus[0], &vm->boot_state,
					vm->boot_needs_paging_outside_long_mode);
}

static int kvm_start(struct vm *vm)
{
	struct kvm_engine_state *ks = vm->engine_data;
	for (unsigned i = 0; i < ks->nvcpus; i++) {
		struct kvm_vcpu *v = &ks->vcpus[i];
		int r = pthread_create(&v->thread, NULL, kvm_vcpu_thread, v);
		if (r != 0) {
			log_error("vCPU %u: cannot start its thread: %s", i, strerror(r));
			return -r;
		}
		v->thread_started = true;
	}
	return 0;
}

static void kvm_stop(struct vm *vm)
{
	struct kvm_engine_state *ks = vm->engine_data;
	if (!ks)
		return;
	for (unsigned i = 0; i < ks->nvcpus; i++)
		if (ks->vcpus[i].thread_started)
			kvm_vcpu_kick(&ks->vcpus[i]);
	for (unsigned i = 0; i < ks->nvcpus; i++) {
		struct kvm_vcpu *v = &ks->vcpus[i];
		if (v->thread_started) {
			pthread_join(v->thread, NULL);
			v->thread_started = false;
		}
	}
}

static void kvm_destroy(struct vm *vm)
{
	struct kvm_engine_state *ks = vm->engine_data;
	if (!ks)
		return;
	kvm_stop(vm);
	for (unsigned i = 0; i < ks->nvcpus; i++)
		kvm_vcpu_destroy(&ks->vcpus[i], ks->run_size);
	free(ks->vcpus);
	free(ks->cpuid);
	free(ks->msr_list);
	if (ks->vm_fd >= 0)
		close(ks->vm_fd);
	kvm_irq_destroy(ks);
	if (ks->sys_fd >= 0)
		close(ks->sys_fd);
	free(ks);
	vm->engine_data = NULL;
}

static void kvm_set_irq(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_engine_state *ks = vm->engine_data;
	if (!ks || ks->vm_fd < 0)
		return;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	if (ioctl(ks->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

/* api.rst, KVM_SIGNAL_MSI: the in-kernel LAPICs take the message as the
 * guest's MSI write would deliver it. */
static void kvm_send_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_engine_state *ks = vm->engine_data;
	if (ks && ks->vm_fd >= 0)
		kvm_irq_send_msi(ks, addr, data);
}

/* api.rst, KVM_IOEVENTFD: an MMIO write of len bytes at gpa, any value
 * (no datamatch), signals fd inside the kernel; the vCPU does not exit. */
static int ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd, uint32_t flags)
{
	struct kvm_engine_state *ks = vm->engine_data;
	if (!ks || ks->vm_fd < 0)
		return -ENODEV;
	if (!ks->has_ioeventfd)
		return -ENOTSUP;
	struct kvm_ioeventfd io = { .addr = gpa, .len = len, .fd = fd, .flags = flags };
	return ioctl(ks->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int kvm_add_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	int r = ioeventfd(vm, gpa, len, fd, 0);
	if (r < 0 && r != -ENODEV && r != -ENOTSUP)
		log_warn("KVM_IOEVENTFD %#llx/%u: %s", (unsigned long long)gpa, len, strerror(-r));
	return r;
}

static void kvm_del_ioeventfd(struct vm *vm, uint64_t gpa, unsigned len, int fd)
{
	int r = ioeventfd(vm, gpa, len, fd, KVM_IOEVENTFD_FLAG_DEASSIGN);
	/* ENOENT: it was not added, which the contract makes a no-op */
	if (r < 0 && r != -ENOENT && r != -ENODEV && r != -ENOTSUP)
		log_warn("KVM_IOEVENTFD deassign %#llx/%u: %s", (unsigned long long)gpa, len, strerror(-r));
}

const struct cpu_engine kvm_engine = {
	.name = "kvm",
	.create = kvm_create,
	.start = kvm_start,
	.stop = kvm_stop,
	.destroy = kvm_destroy,
	.set_irq = kvm_set_irq,
	.send_msi = kvm_send_msi,
	.add_ioeventfd = kvm_add_ioeventfd,
	.del_ioeventfd = kvm_del_ioeventfd,
};
