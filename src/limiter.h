/* limiter.h - a token bucket as a pure function of its state and `now`.
 *
 * Classic semantics (as Go's x/time/rate): the bucket holds at most
 * `burst` tokens and starts full; tokens accrue at `rate` per second; idle
 * time never banks more than `burst`; over any interval T at most
 * burst + rate*T units are taken. A take larger than the burst is allowed
 * once the bucket is full and leaves it in debt, so it delays what follows
 * instead of deadlocking. Time is int64 nanoseconds (monotonic) passed in
 * by the caller; nothing here reads a clock or sleeps. Not thread-safe:
 * the one intake thread owns it. Exact integer arithmetic: no drift. */
#ifndef WEIR_LIMITER_H
#define WEIR_LIMITER_H

#include <stdint.h>

struct limiter {
    /* internal state; a plain struct so callers can embed it. Time inside
     * is counted in ticks of 2^-48 ns; limiter.c explains the scheme. The
     * 128-bit fields are a GNU C extension (gcc, clang). */
    __extension__ unsigned __int128 interval; /* ticks per unit (1/rate), >= 1 */
    __extension__ unsigned __int128 partial;  /* ticks accrued toward the next unit */
    uint64_t burst;                           /* bucket size in whole units, >= 1 */
    uint64_t deficit;                         /* units short of full at `last`; > burst: debt */
    int64_t last;                             /* ns up to which accrual is counted */
};

/* rate_per_s > 0, burst >= 1. Returns 0 or -EINVAL. The bucket starts
 * full at `now`. */
int limiter_init(struct limiter *l, double rate_per_s, double burst, int64_t now);

/* Whole units that could be taken at `now` (at most the burst). */
uint64_t limiter_available(const struct limiter *l, int64_t now);

/* The earliest time >= now at which n units may be taken (for n above the
 * burst: when the bucket is full). */
int64_t limiter_ready(const struct limiter *l, int64_t now, uint64_t n);

/* Takes n units at now. When they are not there yet the bucket goes into
 * debt, repaid by limiter_ready(now, n) as asked before the take: so a
 * caller reserves first and then waits, as Go's x/time/rate does, and a
 * late wake-up is credited to the next take instead of being lost to the
 * bucket's cap. */
void limiter_take(struct limiter *l, int64_t now, uint64_t n);

#endif
