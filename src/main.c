/* vmon: command line in, exit status out. The only file that exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "cli.h"
#include "console.h"
#include "dev/virtio/virtio_console.h"
#include "util/log.h"
#include "vm.h"

/* Guest RAM is mapped lazily, so a --mem beyond the host's RAM starts, and
 * the host kills vmon (or swaps) only when the guest touches it: say so
 * once, when the guest is about to run (a run refused before that keeps its
 * one error line). */
static void warn_mem_over_host(const struct vm_config *cfg)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return;
	uint64_t host = (uint64_t)si.totalram * si.mem_unit;
	if (cfg->mem_size > host)
		log_warn("--mem: %llu MiB is more than this host's RAM (%llu MiB): the guest may be killed "
			 "when it uses it", (unsigned long long)(cfg->mem_size >> 20),
			 (unsigned long long)(host >> 20));
}

static int run(const struct vm_config *cfg)
{
	/* Every thread inherits this mask: stop signals are taken only here, by
	 * sigwaitinfo(), never in the middle of a vCPU loop. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, VM_STOP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE, not a death */

	static struct vm vm; /* large; lives for the whole run */
	if (vm_create(&vm, cfg) < 0) {
		vm_destroy(&vm);
		return 2;
	}
	if (vm.engine->create(&vm) < 0) {
		vm.engine->destroy(&vm);
		vm_destroy(&vm);
		return 2;
	}
	warn_mem_over_host(cfg);
	if (vm.engine->start(&vm) < 0 || vm_start_io(&vm) < 0) {
		/* Threads already started must see the run as over before stop()
		 * kicks them, or they would re-enter their loop forever. */
		vm_request_stop(&vm, VM_OUTCOME_SETUP, 0);
		vm_stop(&vm);
		vm.engine->destroy(&vm);
		vm_destroy(&vm);
		return 2;
	}
	/* COM1's input: stdin, raw when it is a terminal (restored below on
	 * every outcome: poweroff, crash, signal). */
	static struct console console;
	struct console_sink sink =
		cfg->console == CONSOLE_VIRTIO ? virtio_console_sink(vm.vcon) : console_sink_uart(vm.uart);
	if (cfg->console != CONSOLE_NONE && console_start(&console, &vm, &sink, STDIN_FILENO) < 0)
		vm_request_stop(&vm, VM_OUTCOME_SETUP, 0);
	while (!vm_stopping(&vm)) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
			vm_request_stop(&vm, VM_OUTCOME_SIGNAL, sig);
	}
	console_stop(&console);
	vm_stop(&vm);
	int status = vm_exit_status(&vm);
	vm.engine->destroy(&vm);
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[512];
	switch (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CLI_HELP:
		cli_print_help(stdout);
		return 0;
	case CLI_RUN_HELP:
		cli_print_run_help(stdout);
		return 0;
	case CLI_VERSION:
		printf("vmon %s\n", VMON_VERSION);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "vmon: %s\n", err);
		return 2;
	case CLI_RUN:
		break;
	}
	log_set_level(cfg.log_level);
	/* Guest output is written unbuffered by the UART; keep stdio out of its way. */
	setvbuf(stdout, NULL, _IONBF, 0);
	return run(&cfg);
}
