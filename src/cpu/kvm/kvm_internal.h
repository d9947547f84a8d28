/* The KVM engine's private state, shared by its files. */
#ifndef VMON_CPU_KVM_INTERNAL_H
#define VMON_CPU_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cpu/x86_state.h"

struct vm;
struct kvm_engine_state;

#define KVM_MSI_ROUTES 32 /* distinct MSI address/data pairs with an irqfd */

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
	struct kvm_msr_list *msr_list; /* KVM_GET_MSR_INDEX_LIST, or NULL */
	uint64_t mcg_cap;         /* for KVM_X86_SETUP_MCE; 0: not set up */
	bool has_signal_msi;      /* KVM_CAP_SIGNAL_MSI */
	bool has_ioeventfd;       /* KVM_CAP_IOEVENTFD */
	atomic_bool warned_msi;
	/* kvm_irq.c: MSI routes with their irqfds, under msi_lock */
	bool has_irqfd;           /* KVM_CAP_IRQFD, and no route failed */
	bool msi_lock_init;
	pthread_mutex_t msi_lock;
	unsigned nmsi;
	struct kvm_msi_route { uint64_t addr; uint32_t data; int fd; } msi[KVM_MSI_ROUTES];
	unsigned nvcpus;          /* created so far */
	unsigned nvcpus_planned;  /* --cpus, for the CPUID topology */
	struct kvm_vcpu *vcpus;
};

/* The signal that pulls a vCPU thread out of KVM_RUN (see kvm_vcpu_kick). */
#define KVM_KICK_SIGNAL SIGUSR1

/* kvm_irq.c: the GSI routing table (the PC's lines, then MSI routes, each
 * with an irqfd) and MSI delivery. */
int kvm_irq_routing_init(struct kvm_engine_state *ks);
void kvm_irq_send_msi(struct kvm_engine_state *ks, uint64_t addr, uint32_t data);
void kvm_irq_destroy(struct kvm_engine_state *ks);

/* kvm_regs.c: conversions between the neutral state and KVM's structs. */
void kvm_regs_from_state(const struct x86_state *st, struct kvm_regs *regs, struct kvm_sregs *sregs);
void kvm_regs_to_state(const struct kvm_regs *regs, const struct kvm_sregs *sregs, struct x86_state *st);

/* kvm_cpuid.c: the supported CPUID made vCPU `index`'s of `ncpus`. */
void kvm_cpuid_personalise(struct kvm_cpuid2 *c, unsigned index, unsigned ncpus);

/* kvm_fw.c: the firmware's CPU state (MTRRs, PAT, machine-check banks).
 * kvm_fw_plan once, after KVM_GET_SUPPORTED_CPUID and before any vCPU;
 * kvm_fw_load on each vCPU after KVM_SET_CPUID2, before its first KVM_RUN. */
struct x86_fw_msr;
int kvm_fw_plan(struct kvm_engine_state *ks);
int kvm_fw_load(struct kvm_vcpu *v);
/* The pure parts: MAXPHYADDR from CPUID 0x80000008 (36 without it); the
 * firmware MSRs the host takes, into out[n]; MCG_CAP for KVM_CAP_MCE's bank
 * limit; MCE and MCA cleared from CPUID leaf 1. */
unsigned kvm_fw_phys_bits(struct kvm_cpuid2 *c);
unsigned kvm_fw_select_msrs(const struct x86_fw_msr *fw, unsigned n, const uint32_t *list, unsigned nlist,
			    uint32_t cpuid1_edx, struct kvm_msr_entry *out);
uint64_t kvm_fw_mcg_cap(int max_banks);
void kvm_fw_clear_mce(struct kvm_cpuid2 *c);

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
