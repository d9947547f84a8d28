/* What the user asked for: the command line parsed into one struct. */
#ifndef VMON_VM_CONFIG_H
#define VMON_VM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/log.h"

enum accel_kind { ACCEL_KVM, ACCEL_EMU };
enum boot_mode { BOOT_MODE_REAL, BOOT_MODE_PROT32, BOOT_MODE_PAGED32, BOOT_MODE_LONG64 };
/* CONSOLE_VIRTIO: the console (stdin, stdout, the escape keys) is
 * virtio-console's hvc0; COM1 then has no host side. */
enum console_kind { CONSOLE_SERIAL, CONSOLE_NONE, CONSOLE_VIRTIO };

#define VM_CONFIG_DEFAULT_MEM (256ULL << 20)
#define VM_CONFIG_MAX_MEM (64ULL << 30)
#define VM_CONFIG_MAX_CPUS 64
#define VM_CONFIG_DEFAULT_RAW_ADDR 0x10000ULL
#define VM_CONFIG_MAX_NETS 4

/* --net tap=NAME[,mac=MAC] */
struct vm_net_config {
	char tap[16];         /* IFNAMSIZ */
	uint8_t mac[6];       /* given, or 52:54:00 and a hash of the name */
};

#define VM_CONFIG_MAX_DISKS 8

/* --disk FILE[,ro]: a virtio-blk disk */
struct vm_disk {
	char path[PATH_MAX];  /* FILE without its options */
	bool ro;
};

/* --vsock: the host side's Unix socket when uds= is not given, and the
 * longest PATH (sun_path holds 108 bytes with its NUL; PATH_<port> adds
 * at most 11). */
#define VM_CONFIG_DEFAULT_VSOCK_UDS "vmon-vsock.sock"
#define VM_CONFIG_MAX_VSOCK_UDS 96

struct vm_config {
	enum accel_kind accel;
	unsigned cpus;
	uint64_t mem_size;
	enum console_kind console;
	enum log_level log_level;
	const char *trace;    /* --trace FILE: per-instruction trace (emu only) */
	struct vm_disk disks[VM_CONFIG_MAX_DISKS]; /* in command-line order: /dev/vda, vdb, ... */
	unsigned ndisks;
	uint32_t vsock_cid;   /* --vsock cid=N: the guest's CID (>= 3); 0: no virtio-vsock */
	char vsock_uds[VM_CONFIG_MAX_VSOCK_UDS + 1]; /* --vsock ...,uds=PATH */

	/* --kernel boot */
	const char *kernel;
	const char *initrd;
	const char *append;
	bool boot32;          /* --boot32: a bzImage's 32-bit entry even when it has the 64-bit one */

	/* --raw boot */
	const char *raw;
	enum boot_mode mode;
	bool mode_set;
	uint64_t addr;
	uint64_t entry;
	bool entry_set;

	struct vm_net_config net[VM_CONFIG_MAX_NETS];
	unsigned nets;
	bool rng;             /* --rng: virtio-rng */
};

void vm_config_defaults(struct vm_config *cfg);
const char *boot_mode_name(enum boot_mode mode);
const char *accel_name(enum accel_kind accel);

#endif
