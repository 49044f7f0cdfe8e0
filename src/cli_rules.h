/* cli_rules.h - what the command line gave to struct options: values
 * checked, defaults filled, conflicting or pointless flags refused.
 * Private to the cli module. */
#ifndef WEIR_CLI_RULES_H
#define WEIR_CLI_RULES_H

#include "cli_flags.h"
#include "options.h"

/* Fills O from A and COMMAND (CMD, NULL-terminated, or NULL for none):
 * CLI_RUN, or CLI_USAGE after printing the one usage error (the order of
 * the checks decides which, when several flags are wrong). */
enum cli_action cli_rules_apply(const struct cli_args *a, char *const *cmd, struct options *o);

#endif
