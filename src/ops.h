/* ops.h - the built-in operations (--op): cat, upper, lower, grep:ERE,
 * grepv:ERE, sleep:DUR, spin:DUR, applied in order to each record.
 *
 * A chain is compiled once per worker (glibc serialises regexec on a
 * shared pattern) and used by that worker only. */
#ifndef WEIR_OPS_H
#define WEIR_OPS_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct ops;

/* Compiles specs[0..n) for records ending in delim. On error returns NULL and writes a message
 * naming the bad operation to err (NULL with err[0] == 0: out of memory). */
struct ops *ops_new(const char *const *specs, size_t n, unsigned char delim, char *err,
                    size_t errlen);
void ops_free(struct ops *o);

/* True when the chain sleeps or spins: such records are handed out one by
 * one so that all workers share the load. */
bool ops_slow(const struct ops *o);

/* True when the chain leaves records as they are (only cat). */
bool ops_identity(const struct ops *o);

/* Applies the chain to every record of b (transforming bytes in place)
 * and fills b's output. Returns 0 or -ENOMEM. */
int ops_run(struct ops *o, struct batch *b);

#endif
