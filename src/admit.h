/* admit.h - admission: fresh records from the framer into the queue,
 * through the rate limiters and the overflow policy.
 *
 * For each batch: the token buckets say how many head records may go now
 * or when the next ones may; the policy says whether to wait for them
 * (the tokens are then reserved first, so a late wake-up is credited to
 * the next records, as Go's x/time/rate does), shed them, or stop. Records
 * that have their tokens are pushed into the queue, waiting for room as
 * long as the policy allows; what is not admitted is shed (shed.h).
 *
 * Whether intake must stop, and what the records it cannot admit then
 * count as, comes from the run state (run.h), which the fail policy's
 * overload stops in turn. Time comes from the config's clock (the real
 * one unless a unit test gives its own); the queue's own waits use the
 * monotonic clock. Used by one thread (intake); the figures may be read
 * from any thread. */
#ifndef WEIR_ADMIT_H
#define WEIR_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct batch;
struct queue;
struct reporter;
struct run;
struct shed;

struct admit_config {
    enum policy policy;
    int64_t timeout_ns;   /* -t, for timeout and fail */
    double rate, burst;   /* records per second (0: no limit) and bucket size */
    double byte_rate;     /* bytes per second (0: no limit) */
    double byte_burst;    /* byte bucket size */
    struct queue *queue;  /* where admitted records go */
    struct shed *shed;    /* where the others go */
    struct reporter *rep; /* for running out of memory */
    struct run *run;      /* read for a stop; stopped at an overload */
    /* The clock, NULL for the real one: monotonic ns, and a sleep that
     * returns early once the run stops (run_sleep_until). */
    int64_t (*now)(void *ctx);
    void (*sleep_until)(void *ctx, int64_t deadline);
    void *ctx;
};

struct admit_figures {
    uint64_t limiter_wait_ns; /* time spent waiting for tokens */
    uint64_t limiter_waits;   /* records that waited for a token */
};

/* NULL when out of memory. The limiters start full at cfg->now(). */
struct admit *admit_new(const struct admit_config *cfg);
void admit_free(struct admit *a);

/* Admits what it can of b (taking ownership) and sheds the rest. Returns
 * false once intake must stop: the fail policy tripped (the run is then
 * stopped as RUN_OVERLOAD, exit 75), or the run stopped otherwise. */
bool admit_batch(struct admit *a, struct batch *b);

void admit_figures(struct admit *a, struct admit_figures *out); /* any thread */

#endif
