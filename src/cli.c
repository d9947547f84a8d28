#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "util/parse.h"

/* One table declares every `vmon run` option: name, argument, help text and
 * the function that stores it in vm_config. --help is printed from it. */
struct cli_option {
	const char *name;     /* without the leading "--" */
	const char *argname;  /* NULL: the option takes no argument */
	const char *help;
	int (*set)(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
	const char *group;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_accel(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "kvm") == 0)
		cfg->accel = ACCEL_KVM;
	else if (strcmp(arg, "emu") == 0)
		cfg->accel = ACCEL_EMU;
	else
		return fail(err, errlen, "--accel: unknown engine '%s' (expected kvm or emu)", arg);
	return 0;
}

static int set_cpus(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	uint64_t n;
	if (parse_u64(arg, &n) < 0 || n == 0 || n > VM_CONFIG_MAX_CPUS)
		return fail(err, errlen, "--cpus: '%s' is not a number of vCPUs from 1 to %d", arg,
			    VM_CONFIG_MAX_CPUS);
	cfg->cpus = (unsigned)n;
	return 0;
}

static int set_mem(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	uint64_t n;
	int r = parse_size(arg, &n);
	if (r < 0)
		return fail(err, errlen, "--mem: '%s' is not a size (examples: 64M, 2G)", arg);
	/* 1 MiB is the smallest PC: the real-mode address space. */
	if (n < (1ULL << 20) || n > VM_CONFIG_MAX_MEM)
		return fail(err, errlen, "--mem: '%s' is out of range (1M to %lluG)", arg,
			    VM_CONFIG_MAX_MEM >> 30);
	if (n & 0xfff)
		return fail(err, errlen, "--mem: '%s' is not a multiple of 4K", arg);
	cfg->mem_size = n;
	return 0;
}

static int set_console(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "serial") == 0)
		cfg->console = CONSOLE_SERIAL;
	else if (strcmp(arg, "none") == 0)
		cfg->console = CONSOLE_NONE;
	else if (strcmp(arg, "virtio") == 0)
		cfg->console = CONSOLE_VIRTIO;
	else
		return fail(err, errlen, "--console: unknown console '%s' (expected serial, virtio or none)", arg);
	return 0;
}

/* --vsock cid=N[,uds=PATH]: keys separated by commas, so PATH has none. */
static int set_vsock(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	bool have_cid = false;
	snprintf(cfg->vsock_uds, sizeof(cfg->vsock_uds), "%s", VM_CONFIG_DEFAULT_VSOCK_UDS);
	for (const char *p = arg; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > 4 && strncmp(p, "cid=", 4) == 0) {
			char num[24];
			uint64_t n;
			/* 0-2 are the hypervisor, local and host; U32_MAX is VMADDR_CID_ANY. */
			if (len - 4 >= sizeof(num) || (memcpy(num, p + 4, len - 4), num[len - 4] = '\0',
						       parse_u64(num, &n) < 0) || n < 3 || n >= 0xffffffffULL)
				return fail(err, errlen, "--vsock: cid '%.*s' is not a CID from 3 to 4294967294",
					    (int)(len - 4), p + 4);
			cfg->vsock_cid = (uint32_t)n;
			have_cid = true;
		} else if (len > 4 && strncmp(p, "uds=", 4) == 0) {
			if (len - 4 > VM_CONFIG_MAX_VSOCK_UDS)
				return fail(err, errlen, "--vsock: uds path longer than %d bytes",
					    VM_CONFIG_MAX_VSOCK_UDS);
			memcpy(cfg->vsock_uds, p + 4, len - 4);
			cfg->vsock_uds[len - 4] = '\0';
		} else {
			return fail(err, errlen, "--vsock: unknown '%.*s' (expected cid=N[,uds=PATH])", (int)len, p);
		}
		p += len + (end ? 1 : 0);
		if (end && !*p)
			return fail(err, errlen, "--vsock: trailing comma in '%s'", arg);
	}
	if (!have_cid)
		return fail(err, errlen, "--vsock: '%s' has no cid=N", arg);
	return 0;
}

static int set_log_level(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (log_parse_level(arg, &cfg->log_level) < 0)
		return fail(err, errlen, "--log-level: unknown level '%s' (expected error, warn, info or debug)", arg);
	return 0;
}

static int set_trace(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return fail(err, errlen, "--trace: empty file name");
	cfg->trace = arg;
	return 0;
}

/* FILE[,ro]: the last ",ro" is the option, everything before it the
 * file name (which may hold other commas). */
static int set_disk(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (cfg->ndisks == VM_CONFIG_MAX_DISKS)
		return fail(err, errlen, "--disk: '%s': more than %d disks", arg, VM_CONFIG_MAX_DISKS);
	size_t n = strlen(arg);
	bool ro = n >= 3 && strcmp(arg + n - 3, ",ro") == 0;
	if (ro)
		n -= 3;
	if (n == 0)
		return fail(err, errlen, "--disk: '%s': empty file name", arg);
	struct vm_disk *d = &cfg->disks[cfg->ndisks];
	if (n >= sizeof(d->path))
		return fail(err, errlen, "--disk: file name longer than %zu bytes", sizeof(d->path) - 1);
	memcpy(d->path, arg, n);
	d->path[n] = '\0';
	d->ro = ro;
	cfg->ndisks++;
	return 0;
}

static int set_kernel(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return fail(err, errlen, "--kernel: empty file name");
	cfg->kernel = arg;
	return 0;
}

static int set_initrd(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return fail(err, errlen, "--initrd: empty file name");
	cfg->initrd = arg;
	return 0;
}

static int set_append(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	cfg->append = arg;
	return 0;
}

static int set_boot32(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	cfg->boot32 = true;
	return 0;
}

static int set_raw(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return fail(err, errlen, "--raw: empty file name");
	cfg->raw = arg;
	return 0;
}

static int set_mode(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	static const enum boot_mode modes[] = { BOOT_MODE_REAL, BOOT_MODE_PROT32, BOOT_MODE_PAGED32,
						BOOT_MODE_LONG64 };
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(arg, boot_mode_name(modes[i])) == 0) {
			cfg->mode = modes[i];
			cfg->mode_set = true;
			return 0;
		}
	}
	return fail(err, errlen, "--mode: unknown mode '%s' (expected real, prot32, paged32 or long64)", arg);
}

static int set_addr(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (parse_u64(arg, &cfg->addr) < 0)
		return fail(err, errlen, "--addr: '%s' is not an address", arg);
	return 0;
}

static int set_entry(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (parse_u64(arg, &cfg->entry) < 0)
		return fail(err, errlen, "--entry: '%s' is not an address", arg);
	cfg->entry_set = true;
	return 0;
}

/* FNV-1a: a fixed MAC for a given tap name, so a guest keeps its address
 * from run to run. */
static void default_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u;
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	/* 52:54:00: locally administered, unicast (IEEE 802 §8.2.2) */
	mac[0] = 0x52, mac[1] = 0x54, mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16), mac[4] = (uint8_t)(h >> 8), mac[5] = (uint8_t)h;
}

static int parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		if (i < 5 && p[2] != ':')
			return -EINVAL;
		unsigned v = 0;
		for (unsigned j = 0; j < 2; j++) {
			char c = p[j];
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
			if (d == 16)
				return -EINVAL;
			v = v << 4 | d;
		}
		mac[i] = (uint8_t)v;
	}
	return 0;
}

static int set_net(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	if (cfg->nets == VM_CONFIG_MAX_NETS)
		return fail(err, errlen, "--net: at most %d network devices ('%s')", VM_CONFIG_MAX_NETS, arg);
	if (strncmp(arg, "tap=", 4) != 0)
		return fail(err, errlen, "--net: '%s' is not tap=NAME[,mac=MAC]", arg);
	struct vm_net_config *n = &cfg->net[cfg->nets];
	const char *name = arg + 4;
	size_t nlen = strcspn(name, ",");
	if (nlen == 0 || nlen >= sizeof(n->tap))
		return fail(err, errlen, "--net: '%s': the tap name is 1 to %zu characters", arg, sizeof(n->tap) - 1);
	memcpy(n->tap, name, nlen);
	n->tap[nlen] = '\0';
	for (unsigned i = 0; i < cfg->nets; i++)
		if (strcmp(cfg->net[i].tap, n->tap) == 0)
			return fail(err, errlen, "--net: tap '%s' given twice", n->tap);
	default_mac(n->tap, n->mac);
	for (const char *p = name + nlen; *p == ',';) {
		p++;
		size_t len = strcspn(p, ",");
		if (strncmp(p, "mac=", 4) != 0)
			return fail(err, errlen, "--net: '%s': unknown setting '%.*s' (expected mac=MAC)", arg, (int)len,
				    p);
		if (parse_mac(p + 4, len - 4, n->mac) < 0)
			return fail(err, errlen, "--net: '%.*s' is not a MAC address like 52:54:00:12:34:56", (int)len - 4,
				    p + 4);
		if ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] | n->mac[4] | n->mac[5]))
			return fail(err, errlen, "--net: '%.*s' is not a unicast MAC address", (int)len - 4, p + 4);
		p += len;
	}
	cfg->nets++;
	return 0;
}

static int set_rng(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	cfg->rng = true;
	return 0;
}

static const struct cli_option options[] = {
	{ "accel", "kvm|emu", "CPU engine (default kvm)", set_accel, "Machine" },
	{ "cpus", "N", "vCPUs, 1-64 (default 1)", set_cpus, "Machine" },
	{ "mem", "SIZE", "guest RAM, 1M-64G (--mode long64: 9G at most), e.g. 64M, 2G (default 256M)", set_mem,
	  "Machine" },
	{ "console", "serial|virtio|none", "serial: COM1 on stdin/stdout (default); virtio: hvc0 there; none", set_console,
	  "Machine" },
	{ "log-level", "LEVEL", "error|warn|info|debug on stderr (default warn)", set_log_level, "Machine" },
	{ "trace", "FILE", "emu only: one line per instruction (address, bytes, disassembly, changes)", set_trace,
	  "Machine" },
	{ "disk", "FILE[,ro]", "a raw image as a virtio-blk disk, up to 8 (/dev/vda, vdb...); ,ro: read-only",
	  set_disk, "Devices" },
	{ "vsock", "cid=N[,uds=PATH]", "virtio-vsock, guest CID N >= 3; host side: Unix socket PATH", set_vsock,
	  "Devices" },
	{ "kernel", "FILE", "a Linux bzImage, an ELF32, ELF64 or Multiboot (v1) image (told by content)",
	  set_kernel, "Kernel boot" },
	{ "initrd", "FILE", "Linux: initial ramdisk; Multiboot: modules \"FILE ARGS,FILE2\" (,, = comma)",
	  set_initrd, "Kernel boot" },
	{ "append", "CMDLINE", "the kernel command line (Linux, Multiboot)", set_append, "Kernel boot" },
	{ "boot32", NULL, "Linux: the 32-bit entry (paging off) even if the kernel has a 64-bit one",
	  set_boot32, "Kernel boot" },
	{ "raw", "FILE", "a flat binary, loaded at --addr and entered at --entry", set_raw, "Raw boot" },
	{ "mode", "MODE", "real|prot32|paged32|long64: the CPU mode at entry", set_mode, "Raw boot" },
	{ "addr", "A", "guest-physical load address (default 0x10000)", set_addr, "Raw boot" },
	{ "entry", "A", "entry address (default: the load address)", set_entry, "Raw boot" },
	{ "net", "tap=NAME[,mac=M]", "virtio-net on host tap NAME, up to 4 (MAC default 52:54:00 + hash of NAME)",
	  set_net, "Devices" },
	{ "rng", NULL, "virtio-rng: the guest's /dev/hwrng, from the host's getrandom()", set_rng, "Devices" },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct cli_option *find_option(const char *name, size_t len)
{
	for (unsigned i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			return &options[i];
	return NULL;
}

/* Options of one boot kind given with the other are refused, as a demanding
 * user expects: a silently ignored --addr or --append hides a mistake. */
static const struct {
	const char *option, *needs, *why;
} only_with[] = {
	{ "initrd", "kernel", "a --raw image gets no ramdisk" },
	{ "append", "kernel", "a --raw image gets no command line" },
	{ "mode", "raw", "a kernel image defines its own entry mode" },
	{ "addr", "raw", "a kernel image says where it loads" },
	{ "entry", "raw", "a kernel image has its own entry point" },
	{ "boot32", "kernel", "it picks the entry of a Linux kernel" },
};

/* Options given once per device. */
static const char *const repeatable_options[] = { "disk", "net" };

static bool repeatable(const struct cli_option *o)
{
	for (unsigned i = 0; i < sizeof(repeatable_options) / sizeof(repeatable_options[0]); i++)
		if (strcmp(o->name, repeatable_options[i]) == 0)
			return true;
	return false;
}

static bool given(const bool *seen, const char *name)
{
	const struct cli_option *o = find_option(name, strlen(name));
	return o && seen[o - options];
}

static enum cli_action parse_run(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen)
{
	bool seen[NOPTIONS] = { false };
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return CLI_RUN_HELP;
		if (strncmp(a, "--", 2) != 0) {
			fail(err, errlen, "run: unexpected argument '%s' (see vmon run --help)", a);
			return CLI_ERROR;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct cli_option *o = find_option(name, nlen);
		if (!o) {
			fail(err, errlen, "run: unknown option '--%.*s' (see vmon run --help)", (int)nlen, name);
			return CLI_ERROR;
		}
		const char *arg = NULL;
		if (!o->argname && eq) {
			fail(err, errlen, "--%s: takes no value ('%s')", o->name, eq + 1);
			return CLI_ERROR;
		} else if (!o->argname)
			arg = "";
		else if (eq)
			arg = eq + 1;
		else if (i + 1 < argc)
			arg = argv[++i];
		if (!arg) {
			fail(err, errlen, "--%s: missing value (%s)", o->name, o->argname);
			return CLI_ERROR;
		}
		/* Each option at most once: a second --mem would otherwise win
		 * silently over the first (documented in --help). */
		if (seen[o - options] && !repeatable(o)) {
			fail(err, errlen, "--%s: given twice ('%s'); each option may appear once", o->name, arg);
			return CLI_ERROR;
		}
		seen[o - options] = true;
		if (o->set(cfg, arg, err, errlen) < 0)
			return CLI_ERROR;
	}

	/* Cross-option rules. */
	if (cfg->kernel && cfg->raw) {
		fail(err, errlen, "run: --kernel and --raw exclude each other");
		return CLI_ERROR;
	}
	if (!cfg->kernel && !cfg->raw) {
		fail(err, errlen, "run: nothing to boot: give --kernel FILE or --raw FILE --mode MODE");
		return CLI_ERROR;
	}
	if (cfg->raw && !cfg->mode_set) {
		fail(err, errlen, "--raw: needs --mode real|prot32|paged32|long64");
		return CLI_ERROR;
	}
	for (unsigned i = 0; i < sizeof(only_with) / sizeof(only_with[0]); i++) {
		if (given(seen, only_with[i].option) && !given(seen, only_with[i].needs)) {
			fail(err, errlen, "--%s: only with --%s (%s)", only_with[i].option, only_with[i].needs,
			     only_with[i].why);
			return CLI_ERROR;
		}
	}
	if (cfg->trace && cfg->accel != ACCEL_EMU) {
		fail(err, errlen, "--trace: only with --accel emu (KVM runs guest code natively)");
		return CLI_ERROR;
	}
	if (!cfg->entry_set)
		cfg->entry = cfg->addr;
	return CLI_RUN;
}

enum cli_action cli_parse(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen)
{
	vm_config_defaults(cfg);
	err[0] = '\0';
	if (argc < 2) {
		fail(err, errlen, "no command (see vmon --help)");
		return CLI_ERROR;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
		return CLI_HELP;
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0)
		return CLI_VERSION;
	if (strcmp(cmd, "run") == 0)
		return parse_run(argc - 2, argv + 2, cfg, err, errlen);
	fail(err, errlen, "unknown command '%s' (see vmon --help)", cmd);
	return CLI_ERROR;
}

static const char exit_status_help[] =
	"Exit status: 0 the guest powered off (or Ctrl-A x); (v<<1)|1 the guest wrote v to\n"
	"port 0xf4; 2 vmon could not start the guest; 4 the guest crashed; 6 the guest\n"
	"reset itself (reboot); 128+n stopped by signal n.\n";

void cli_print_help(FILE *out)
{
	fputs("Usage: vmon run [machine options] (--kernel FILE [--initrd FILE] [--append CMDLINE]\n"
	      "                                  | --raw FILE --mode MODE [--addr A] [--entry A])\n"
	      "       vmon run --help     options of run\n"
	      "       vmon --version\n"
	      "\n"
	      "vmon is a virtual machine monitor: it runs an x86 guest (a Linux bzImage, an ELF\n"
	      "or Multiboot kernel, or a flat binary) on KVM (--accel kvm, the default) or on\n"
	      "its own software CPU (--accel emu).\n"
	      "\n",
	      out);
	fputs(exit_status_help, out);
}

/* The README's "Usage" block is exactly this text (tests/system/run.sh
 * compares them). */
void cli_print_run_help(FILE *out)
{
	fputs("vmon run [machine options] (--kernel FILE [--initrd FILE] [--append CMDLINE]\n"
	      "                           | --raw FILE --mode MODE [--addr A] [--entry A])\n",
	      out);
	const char *group = NULL;
	for (unsigned i = 0; i < NOPTIONS; i++) {
		const struct cli_option *o = &options[i];
		if (!group || strcmp(group, o->group) != 0) {
			group = o->group;
			fprintf(out, "\n%s:\n", group);
		}
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->argname ? " " : "", o->argname ? o->argname : "");
		fprintf(out, "  %-22s %s\n", left, o->help);
	}
	fputs("\nNumbers are decimal or 0x-hex (010 is ten); sizes take K, M, G. Options take\n"
	      "--opt value or --opt=value, each at most once (--disk: once per disk, up to 8;\n"
	      "--net: up to 4); an option of the other boot kind (--initrd, --append with\n"
	      "--raw; --mode, --addr, --entry with --kernel) is refused.\n"
	      "Console: --console none discards the guest's COM1 output and does not read stdin;\n"
	      "end such a guest with Ctrl-C (SIGINT) or SIGTERM. With --console serial and a\n"
	      "terminal on stdin: raw mode, Ctrl-A x quits (status 0), Ctrl-A h lists the keys,\n"
	      "Ctrl-A Ctrl-A sends Ctrl-A. Piped stdin is held until the guest's driver takes\n"
	      "input (receive interrupt on, or polling the line status), so no byte is lost.\n"
	      "--net: a tap that exists and is yours (ip tuntap add dev NAME mode tap user U),\n"
	      "or CAP_NET_ADMIN to create it; the guest's eth0 gets the MAC.\n"
	      "--console virtio: the same keys, stdin and stdout on hvc0 (console=hvc0); COM1's\n"
	      "output is discarded. --vsock: PATH defaults to ./" VM_CONFIG_DEFAULT_VSOCK_UDS "; a host program\n"
	      "connects to PATH and sends \"CONNECT <port>\\n\" (answer \"OK <port>\\n\"); the guest's\n"
	      "connections to CID 2 port P go to PATH_P (Firecracker's scheme).\n",
	      out);
	fputs(exit_status_help, out);
	fputs("vmon --help | vmon run --help | vmon --version\n", out);
}
