/* ops.h - the built-in operations (--op): cat, upper, lower, grep:ERE,
 * grepv:ERE, sleep:DUR, spin:DUR, applied in order to each record; and
 * the stage kind that runs them (stage.h).
 *
 * A chain is compiled once per worker (glibc serialises regexec on a
 * shared pattern) and used by that worker's thread only (sleep sets the
 * thread's timer slack and learns its wake-up latency). */
#ifndef WEIR_OPS_H
#define WEIR_OPS_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct ops;
struct stage_kind;

/* The stage kind of -e: whole batches at a time, or one record at a time
 * when the chain sleeps or spins (ops_slow); an identity with cat alone. */
extern const struct stage_kind ops_kind;

/* Bounded repetitions ({n}, {n,}, {n,m}) make copies of what they
 * repeat, and stacked (a{1,10}{1,10}) or nested ((a{1,10}){1,10}) they
 * multiply: glibc's regcomp then takes time and memory growing with the
 * square of the copies (seconds and gigabytes for a{1,1000}{1,1000}). A
 * pattern whose repetitions make more copies than this of any part of it
 * is refused before it is compiled. */
#define OPS_REPEAT_MAX 1000

/* Checks the ERE `ere`: 0 when no part of it is repeated more than
 * OPS_REPEAT_MAX times by bounded repetitions, -E2BIG when one is, or
 * -ENOMEM. Only counts; whether `ere` is valid is regcomp's to say. */
int ops_check_repeats(const char *ere);

/* Compiles specs[0..n) for records ending in delim into *out. 0, -EINVAL
 * with a message naming the bad operation in msg, or -ENOMEM. */
int ops_new(const char *const *specs, size_t n, unsigned char delim, struct ops **out, char *msg,
            size_t msglen);
void ops_free(struct ops *o);

/* True when the chain sleeps or spins: such records are handed out one by
 * one so that all workers share the load. */
bool ops_slow(const struct ops *o);

/* True when the chain leaves records as they are (only cat). */
bool ops_identity(const struct ops *o);

/* Applies the chain to every record of b and fills b's output: segments
 * into b's chunk for records kept as they are, into b->obuf for records
 * upper or lower changed. The chunk stays as read, so that a batch shed
 * after processing goes to the rejects file as it came in. Returns 0 or
 * -ENOMEM. */
int ops_run(struct ops *o, struct batch *b);

#endif
