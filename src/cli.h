/* The command line: `vmon run [options]`, `vmon --help`, `vmon --version`.
 * Parsing is pure (no I/O, no exit) so it can be unit-tested; main() prints. */
#ifndef VMON_CLI_H
#define VMON_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "vm_config.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_RUN_HELP, CLI_VERSION, CLI_ERROR };

/* Fills cfg from argv. On CLI_ERROR, err holds one line naming the option
 * and the bad value (without the "vmon: " prefix). */
enum cli_action cli_parse(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen);

void cli_print_help(FILE *out);
void cli_print_run_help(FILE *out);

#endif
