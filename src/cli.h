/* cli.h - the command line: argv to struct options. The only module that
 * knows argtable2. */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include "options.h"

enum cli_action {
    CLI_RUN,      /* options are ready */
    CLI_EXIT,     /* --help or --version printed: exit 0 */
    CLI_USAGE,    /* an error line was printed: exit 2 */
    CLI_NOTFOUND, /* COMMAND not found, reported: exit 127 */
    CLI_NOEXEC,   /* COMMAND found but not executable, reported: exit 126 */
    CLI_FAIL,     /* out of memory, reported: exit 1 */
};

enum cli_action cli_parse(int argc, char **argv, struct options *o);

#endif
