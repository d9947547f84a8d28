/* The raw-KVM floor for bench/exits: the fewest lines that run a flat 32-bit
 * guest on KVM and serve its exits — no device model, no bus, no threads.
 * Usage: raw_kvm GUEST.bin   (loaded and entered at 0x10000, prot32, flat)
 * Port 0x3f8 writes go to stdout, a write to 0xf4 ends the run, every other
 * port or MMIO access is ignored. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM (16u << 20)

static void die(const char *what)
{
	perror(what);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: raw_kvm GUEST.bin\n");
		return 2;
	}
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	int vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vmfd < 0)
		die("KVM_CREATE_VM");
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		die(argv[1]);
	size_t n = fread(mem + 0x10000, 1, MEM - 0x10000, f);
	fclose(f);
	if (n == 0)
		die("empty guest");
	struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = MEM,
						      .userspace_addr = (uintptr_t)mem };
	/* The same in-kernel platform as vmon (irqchip), so the ratio measures
	 * the VMM's own exit path and nothing else. */
	if (ioctl(vmfd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 || ioctl(vmfd, KVM_CREATE_IRQCHIP) < 0 ||
	    ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM setup");
	int vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
				    .db = 1, .s = 1, .g = 1 };
	struct kvm_segment data = code;
	data.selector = 16;
	data.type = 3;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x31; /* PE | ET | NE, as vmon's prot32 */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs r = { .rip = 0x10000, .rsp = 0xf000, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0xf4)
				return ((((uint8_t *)run)[run->io.data_offset] << 1) | 1) & 0xff;
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x3f8)
				(void)!write(1, (uint8_t *)run + run->io.data_offset, 1);
			if (run->io.direction == KVM_EXIT_IO_IN) /* nothing here: all ones */
				memset((uint8_t *)run + run->io.data_offset, 0xff, (size_t)run->io.size * run->io.count);
			break;
		case KVM_EXIT_MMIO:
			break;
		default:
			fprintf(stderr, "raw_kvm: exit reason %u\n", run->exit_reason);
			return 4;
		}
	}
}
