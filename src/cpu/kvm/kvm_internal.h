/* The KVM engine's private state, shared by its files. */
#ifndef VMON_CPU_KVM_INTERNAL_H
#define VMON_CPU_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "cpu/x86_state.h"

struct vm;
struct kvm_engine_state;

struct kvm_vcpu {
	struct kvm_engine_state *ks;
	unsigned index;         /* also its APIC id */
	int fd;
	struct kvm_run *run;    /* shared with the kernel, ks->run_size bytes */
	pthread_t thread;
	bool thread_started;
	bool first_run_done;
};

struct kvm_engine_state {
	struct vm *vm;
	int sys_fd;             /* /dev/kvm */
	int vm_fd;
	size_t run_size;        /* KVM_GET_VCPU_MMAP_SIZE */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	unsigned nvcpus;          /* created so far */
	unsigned nvcpus_planned;  /* --cpus, for the CPUID topology */
	struct kvm_vcpu *vcpus;
};

/* The signal that pulls a vCPU thread out of KVM_RUN (see kvm_vcpu_kick). */
#define KVM_KICK_SIGNAL SIGUSR1

/* kvm_regs.c: conversions between the neutral state and KVM's structs. */
void kvm_regs_from_state(const struct x86_state *st, struct kvm_regs *regs, struct kvm_sregs *sregs);
void kvm_regs_to_state(const struct kvm_regs *regs, const struct kvm_sregs *sregs, struct x86_state *st);

/* kvm_cpuid.c: the supported CPUID made vCPU `index`'s of `ncpus`. */
void kvm_cpuid_personalise(struct kvm_cpuid2 *c, unsigned index, unsigned ncpus);

/* kvm_vcpu.c */
int kvm_vcpu_create(struct kvm_engine_state *ks, unsigned index);
int kvm_vcpu_load_boot_state(struct kvm_vcpu *v, const struct x86_state *st, bool paging_outside_long_mode);
void *kvm_vcpu_thread(void *arg);
void kvm_vcpu_kick(struct kvm_vcpu *v);
void kvm_vcpu_destroy(struct kvm_vcpu *v, size_t run_size);

/* kvm_exit.c: serves one exit; returns false when the vCPU must stop. */
bool kvm_exit_handle(struct kvm_vcpu *v);
void kvm_vcpu_crash(struct kvm_vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
