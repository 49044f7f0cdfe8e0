/* cli_nats.h - the NATS JetStream flags to struct options. Private to the
 * cli module. */
#ifndef WEIR_CLI_NATS_H
#define WEIR_CLI_NATS_H

#include "cli_flags.h"
#include "options.h"

/* Checks and copies the NATS flags of A into O, after the other flags
 * (it compares with -z, --rejects and --decompress): 0, or -1 after
 * printing the usage error. */
int cli_nats_apply(const struct cli_args *a, struct options *o);

#endif
