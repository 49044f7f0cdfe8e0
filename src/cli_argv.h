/* cli_argv.h - argv as getopt_long sees it, read with the flag table
 * (cli_flags.h) before argtable2 parses it: where COMMAND starts, and the
 * usage errors argtable2 would word without naming the flag. Private to
 * the cli module. */
#ifndef WEIR_CLI_ARGV_H
#define WEIR_CLI_ARGV_H

#include <stdbool.h>

#include "cli_flags.h"

/* The flag long option NAME (up to '=' or its end, without "--") stands
 * for: an exact match, or the only flag it is a prefix of, as
 * getopt_long takes it; NULL when unknown or ambiguous. *nprefix: how many
 * flags NAME is a prefix of (if it matched none exactly). */
const struct flag *cli_long_flag(const char *name, int *nprefix);

/* The flag of short option C, or NULL. */
const struct flag *cli_short_flag(char c);

/* How many of the arguments after option ARG are its value, 0 or 1, as
 * getopt counts: --name V but not --name=V, -c V, -uj V but not -uj2. An
 * unknown option takes none. */
int cli_option_values(const char *arg);

/* Where COMMAND starts in argv[0..argc): at the first argument after
 * argv[0] that is neither an option nor an option's value ("-" is not an
 * option), or after "--"; argc when there is none. *nopts: how many
 * arguments are weir's own (argv[0] included, "--" not): getopt must see
 * only those, or it would permute COMMAND's own flags (sed -u) into
 * weir's. Pure: reads only argv and the table. */
int cli_command_index(int argc, char *const *argv, int *nopts);

/* Each of these looks at weir's own arguments, argv[1..nopts), for one
 * kind of error, prints it as a usage error and returns true if there is
 * one, else returns false having printed nothing. */

/* An abbreviated long option that stands for several (--rej), which
 * argtable2 calls only invalid. */
bool cli_ambiguous_option(int nopts, char *const *argv);

/* An unknown option (--polcy, -Z, -uZ): named, for a long one with the
 * nearest long option when one is near enough, as git does. */
bool cli_unknown_option(int nopts, char *const *argv);

/* An option given an empty value (--rejects '', --rejects=, -c '', -uj ''):
 * named, with what it expects, where argtable2 would name no flag. */
bool cli_empty_value(int nopts, char *const *argv);

#endif
