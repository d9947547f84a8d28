/* The command line: options into vm_config, every error names its option. */
#include "cli.h"
#include "unit.h"

static enum cli_action parse(struct vm_config *cfg, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"vmon";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return cli_parse(argc, argv, cfg, err, 256);
}

#define PARSE(...) parse(&cfg, err, (const char *const[]){ __VA_ARGS__, NULL })

int main(void)
{
	struct vm_config cfg;
	char err[256];

	CHECK_EQ(PARSE("--help"), CLI_HELP);
	CHECK_EQ(PARSE("--version"), CLI_VERSION);
	CHECK_EQ(PARSE("run", "--help"), CLI_RUN_HELP);
	CHECK_EQ(PARSE("frob"), CLI_ERROR);
	CHECK(strstr(err, "frob") != NULL);

	CHECK_EQ(PARSE("run", "--raw", "g.bin", "--mode", "long64"), CLI_RUN);
	CHECK_EQ(cfg.mode, BOOT_MODE_LONG64);
	CHECK_EQ(cfg.addr, 0x10000);
	CHECK_EQ(cfg.entry, 0x10000);          /* entry defaults to the load address */
	CHECK_EQ(cfg.mem_size, 256ULL << 20);
	CHECK_EQ(cfg.cpus, 1);
	CHECK_EQ(cfg.accel, ACCEL_KVM);
	CHECK_EQ(cfg.console, CONSOLE_SERIAL);

	CHECK_EQ(PARSE("run", "--raw", "g.bin", "--mode=real", "--addr", "0x7c00", "--mem=1M", "--cpus", "4",
		       "--accel", "emu", "--console", "none", "--log-level", "debug"), CLI_RUN);
	CHECK_EQ(cfg.mode, BOOT_MODE_REAL);
	CHECK_EQ(cfg.addr, 0x7c00);
	CHECK_EQ(cfg.entry, 0x7c00);
	CHECK_EQ(cfg.mem_size, 1ULL << 20);
	CHECK_EQ(cfg.cpus, 4);
	CHECK_EQ(cfg.accel, ACCEL_EMU);
	CHECK_EQ(cfg.console, CONSOLE_NONE);
	CHECK_EQ(cfg.log_level, LOG_DEBUG);

	CHECK_EQ(PARSE("run", "--raw", "g.bin", "--mode", "prot32", "--entry", "0x10010"), CLI_RUN);
	CHECK_EQ(cfg.entry, 0x10010);

	CHECK_EQ(PARSE("run", "--kernel", "k.elf", "--append", "a b c", "--initrd", "i.img"), CLI_RUN);
	CHECK(strcmp(cfg.kernel, "k.elf") == 0 && strcmp(cfg.append, "a b c") == 0);
	CHECK(!cfg.boot32);
	/* An option without a value does not take the next argument. */
	CHECK_EQ(PARSE("run", "--boot32", "--kernel", "bz"), CLI_RUN);
	CHECK(cfg.boot32 && strcmp(cfg.kernel, "bz") == 0);

	/* --net repeats (one device each); the MAC is given or 52:54:00 plus
	 * FNV-1a of the name (0xb81bbf83 for "vmtap0", computed apart). */
	CHECK_EQ(PARSE("run", "--kernel", "k"), CLI_RUN);
	CHECK_EQ(cfg.nets, 0);
	CHECK(!cfg.rng);
	CHECK_EQ(PARSE("run", "--kernel", "k", "--net", "tap=vmtap0", "--net=tap=t1,mac=02:AB:cd:00:00:01", "--rng"),
		 CLI_RUN);
	CHECK_EQ(cfg.nets, 2);
	CHECK(cfg.rng);
	CHECK(strcmp(cfg.net[0].tap, "vmtap0") == 0 && strcmp(cfg.net[1].tap, "t1") == 0);
	CHECK(memcmp(cfg.net[0].mac, "\x52\x54\x00\x1b\xbf\x83", 6) == 0);
	CHECK(memcmp(cfg.net[1].mac, "\x02\xab\xcd\x00\x00\x01", 6) == 0);
	CHECK_EQ(PARSE("run", "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net", "tap=c", "--net",
		       "tap=abcdefghijklmno"), CLI_RUN);
	CHECK_EQ(cfg.nets, 4);
	CHECK(strcmp(cfg.net[3].tap, "abcdefghijklmno") == 0);

	/* --disk FILE[,ro], once per disk, in order; the last ",ro" is the
	 * option, other commas belong to the file name. */
	CHECK_EQ(PARSE("run", "--kernel", "bz"), CLI_RUN);
	CHECK_EQ(cfg.ndisks, 0);
	CHECK_EQ(PARSE("run", "--kernel", "bz", "--disk", "root.ext4", "--disk=data.img,ro", "--disk", "a,b.img"),
		 CLI_RUN);
	CHECK_EQ(cfg.ndisks, 3);
	CHECK(strcmp(cfg.disks[0].path, "root.ext4") == 0 && !cfg.disks[0].ro);
	CHECK(strcmp(cfg.disks[1].path, "data.img") == 0 && cfg.disks[1].ro);
	CHECK(strcmp(cfg.disks[2].path, "a,b.img") == 0 && !cfg.disks[2].ro);
	CHECK_EQ(PARSE("run", "--raw", "g", "--mode", "real", "--disk", "x,ro,ro"), CLI_RUN);
	CHECK(strcmp(cfg.disks[0].path, "x,ro") == 0 && cfg.disks[0].ro);
	CHECK_EQ(PARSE("run", "--kernel", "bz", "--disk", "1", "--disk", "2", "--disk", "3", "--disk", "4", "--disk",
		       "5", "--disk", "6", "--disk", "7", "--disk", "8"), CLI_RUN);
	CHECK_EQ(cfg.ndisks, 8);
	CHECK(strcmp(cfg.disks[7].path, "8") == 0);

	static char longname[PATH_MAX + 8];
	memset(longname, 'a', sizeof(longname) - 1);
	CHECK_EQ(PARSE("run", "--kernel", "bz", "--disk", longname), CLI_ERROR);
	CHECK(strstr(err, "--disk: file name longer than") != NULL);

	/* Numbers are decimal or 0x-hex: 010 is ten vCPUs, not eight (issue 10). */
	CHECK_EQ(PARSE("run", "--raw", "g.bin", "--mode", "real", "--cpus", "010", "--addr", "010000"), CLI_RUN);
	CHECK_EQ(cfg.cpus, 10);
	CHECK_EQ(cfg.addr, 10000);
	CHECK_EQ(PARSE("run", "--raw", "g.bin", "--mode", "real", "--mem", "010M"), CLI_RUN);
	CHECK_EQ(cfg.mem_size, 10ULL << 20);

	/* --console virtio; --vsock cid=N[,uds=PATH], the path defaulted. */
	CHECK_EQ(PARSE("run", "--kernel", "k", "--console", "virtio", "--vsock", "cid=3"), CLI_RUN);
	CHECK_EQ(cfg.console, CONSOLE_VIRTIO);
	CHECK_EQ(cfg.vsock_cid, 3);
	CHECK(strcmp(cfg.vsock_uds, "vmon-vsock.sock") == 0);
	CHECK_EQ(PARSE("run", "--kernel", "k", "--vsock=uds=/tmp/v.sock,cid=0x10"), CLI_RUN);
	CHECK_EQ(cfg.vsock_cid, 16);
	CHECK(strcmp(cfg.vsock_uds, "/tmp/v.sock") == 0);
	CHECK_EQ(PARSE("run", "--kernel", "k", "--vsock", "cid=4294967294"), CLI_RUN);
	CHECK_EQ(cfg.vsock_cid, 0xfffffffe);
	CHECK_EQ(PARSE("run", "--kernel", "k"), CLI_RUN);
	CHECK_EQ(cfg.vsock_cid, 0); /* no --vsock: no device */

	/* Errors name the option and the bad value. */
	struct { const char *const *args; const char *needle; } errors[] = {
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "x86", NULL }, "--mode: unknown mode 'x86'" },
		{ (const char *const[]){ "run", "--raw", "g", NULL }, "--mode" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", "0", NULL }, "--mem: '0'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", "1000", NULL }, "--mem: '1000'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", "65G", NULL }, "--mem: '65G'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", "1048577", NULL }, "--mem" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--cpus", "0", NULL }, "--cpus: '0'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--cpus", "65", NULL }, "--cpus: '65'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--accel", "tcg", NULL }, "--accel: unknown engine 'tcg'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--addr", "x", NULL }, "--addr: 'x'" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--console", "vga", NULL }, "--console" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--log-level", "loud", NULL }, "--log-level" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", NULL }, "--mem: missing value" },
		{ (const char *const[]){ "run", "--raw", "g", "--kernel", "k", "--mode", "real", NULL }, "exclude" },
		{ (const char *const[]){ "run", "--kernel", "k", "--mode", "real", NULL }, "--mode: only with --raw" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--initrd", "i", NULL }, "--initrd" },
		{ (const char *const[]){ "run", NULL }, "nothing to boot" },
		{ (const char *const[]){ "run", "--bogus", NULL }, "--bogus" },
		{ (const char *const[]){ "run", "stray", NULL }, "stray" },
		{ (const char *const[]){ "run", "--raw", "", "--mode", "real", NULL }, "--raw: empty" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--trace", "t", NULL }, "--trace: only with --accel emu" },
		/* Each option once: the second value is named. */
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mem", "1G", "--mem=2G", NULL }, "--mem: given twice ('2G')" },
		{ (const char *const[]){ "run", "--kernel", "k", "--kernel", "k2", NULL }, "--kernel: given twice" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--mode", "real", NULL }, "--mode: given twice" },
		/* Options of the other boot kind are refused, not ignored. */
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--append", "quiet", NULL }, "--append: only with --kernel" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--append", "", NULL }, "--append: only with --kernel" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--initrd", "i", NULL }, "--initrd: only with --kernel" },
		{ (const char *const[]){ "run", "--kernel", "k", "--addr", "0x100000", NULL }, "--addr: only with --raw" },
		{ (const char *const[]){ "run", "--kernel", "k", "--entry", "0x100000", NULL }, "--entry: only with --raw" },
		{ (const char *const[]){ "run", "--kernel", "k", "--addr", "0x10000", NULL }, "--addr: only with --raw" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--cpus", "08x", NULL }, "--cpus: '08x'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--boot32=yes", NULL }, "--boot32: takes no value" },
		{ (const char *const[]){ "run", "--raw", "g", "--mode", "real", "--boot32", NULL }, "--boot32: only with --kernel" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "vmtap0", NULL }, "--net: 'vmtap0' is not tap=NAME" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=", NULL }, "--net: 'tap=': the tap name is 1 to 15" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=abcdefghijklmnop", NULL }, "1 to 15 characters" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,mac=52:54:00:12:34", NULL }, "'52:54:00:12:34' is not a MAC" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,mac=52:54:00:12:34:5g", NULL }, "'52:54:00:12:34:5g' is not a MAC" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,mac=52-54-00-12-34-56", NULL }, "is not a MAC" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,mac=01:00:5e:00:00:01", NULL }, "not a unicast MAC" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,mac=00:00:00:00:00:00", NULL }, "not a unicast MAC" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,vhost=on", NULL }, "unknown setting 'vhost=on'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a,", NULL }, "unknown setting ''" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a", "--net", "tap=a", NULL }, "tap 'a' given twice" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net", "tap=c", "--net", "tap=d", "--net", "tap=e", NULL }, "--net: at most 4 network devices ('tap=e')" },
		{ (const char *const[]){ "run", "--kernel", "k", "--net", NULL }, "--net: missing value" },
		{ (const char *const[]){ "run", "--kernel", "k", "--rng", "--rng", NULL }, "--rng: given twice" },
		{ (const char *const[]){ "run", "--kernel", "k", "--rng=1", NULL }, "--rng: takes no value" },
		{ (const char *const[]){ "run", "--kernel", "k", "--disk", "", NULL }, "--disk: '': empty file name" },
		{ (const char *const[]){ "run", "--kernel", "k", "--disk", ",ro", NULL }, "--disk: ',ro': empty file name" },
		{ (const char *const[]){ "run", "--kernel", "k", "--disk", NULL }, "--disk: missing value" },
		{ (const char *const[]){ "run", "--kernel", "k", "--disk", "1", "--disk", "2", "--disk", "3", "--disk", "4",
					 "--disk", "5", "--disk", "6", "--disk", "7", "--disk", "8", "--disk", "9,ro", NULL },
		  "--disk: '9,ro': more than 8 disks" },
		/* --vsock: the CIDs 0-2 (hypervisor, local, host) and VMADDR_CID_ANY are no guest's. */
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=2", NULL }, "--vsock: cid '2'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=4294967295", NULL }, "--vsock: cid '4294967295'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=3x", NULL }, "--vsock: cid '3x'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=", NULL }, "--vsock: unknown 'cid='" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "uds=/x", NULL }, "--vsock: 'uds=/x' has no cid" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=3,", NULL }, "--vsock: trailing comma" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=3,port=5", NULL }, "--vsock: unknown 'port=5'" },
		{ (const char *const[]){ "run", "--kernel", "k", "--vsock", "cid=3,uds=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL }, "--vsock: uds path longer than 96" },
		{ (const char *const[]){ "run", "--kernel", "k", "--console", "virtual", NULL }, "--console: unknown console 'virtual' (expected serial, virtio or none)" },
	};
	for (unsigned i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		enum cli_action a = parse(&cfg, err, errors[i].args);
		CHECK_EQ(a, CLI_ERROR);
		if (!strstr(err, errors[i].needle)) {
			fprintf(stderr, "case %u: error '%s' lacks '%s'\n", i, err, errors[i].needle);
			CHECK(0);
		}
	}
	return unit_report("cli");
}
