/* parse.h - strict parsers for the values flags take.
 *
 * Each returns 0 and stores the value, or -EINVAL (junk, missing or unknown
 * suffix) / -ERANGE (out of range) and leaves *out alone. Leading or
 * trailing white space is junk. None prints; the cli module names the flag. */
#ifndef WEIR_PARSE_H
#define WEIR_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Sizes: "512", "64K", "16M", "1G", "1T" (binary multiples; an optional
 * trailing "B" or "iB" is accepted: "64KiB"). Must be >= 1. */
int parse_size(const char *s, uint64_t *out);

/* Durations: "250us", "100ms", "2s", "1.5m", "1h", "0.5" (bare = seconds),
 * also "ns" and "d". Must be >= 0 and fit in int64 nanoseconds. */
int parse_duration(const char *s, int64_t *out_ns);

/* Counts: "500", "10k" or "10K" (x1000), "2.5k", "1M" (x10^6), "1G"
 * (x10^9): the decimal suffixes of rates, not the binary ones of sizes. A
 * fraction is taken when the result is whole ("1.0", "2.5k"); "1.5" or
 * "2.0005k" is -EINVAL. The value must lie in [min, max]. */
int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A delimiter: one byte, or an escape: \n \t \r \0 \\ \xHH. */
int parse_delim(const char *s, unsigned char *out);

/* Rates: "100", "100/s", "2.5k/s", "300/m", "10/h", "5/15s". With
 * `binary` the suffixes k/K M G are x1024 ("10M/s", "512K/s"), otherwise
 * x1000 ("2.5k/s"). Result in units per second, > 0 and at most 1e12. */
int parse_rate(const char *s, int binary, double *out_per_sec);

#endif
