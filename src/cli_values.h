/* cli_values.h - the value of one flag (struct cli_value) checked with
 * parse.c and converted. Each function leaves *out alone and returns 0
 * when the flag was not given, sets *out and returns 0 for a good value,
 * and returns -1 after printing a usage error that names the flag, says
 * what was expected and repeats what was given. Private to the cli
 * module. */
#ifndef WEIR_CLI_VALUES_H
#define WEIR_CLI_VALUES_H

#include <stdint.h>

#include "cli_flags.h"

/* A size (64K, 16M) from 1 to max bytes. */
int cli_want_size(const struct cli_value *a, uint64_t max, size_t *out);

/* A count (500, 10k) from min to max. */
int cli_want_count(const struct cli_value *a, uint64_t min, uint64_t max, uint64_t *out);

/* A rate above zero, per second; of bytes (10M/s) when binary. */
int cli_want_rate(const struct cli_value *a, int binary, double *out);

/* A duration above zero, in ns. */
int cli_want_duration(const struct cli_value *a, int64_t *ns);

/* One of the words of the flag's type (flags.def): its index into *i. */
int cli_want_word(const struct cli_value *a, int *i);

/* Refuses A's value as none of the words of its type (flags.def); -1. */
int cli_bad_word(const struct cli_value *a);

#endif
