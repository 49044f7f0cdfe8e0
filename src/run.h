/* run.h - what every part of a run reads about it: whether it is
 * stopping and why, what the records a stop cuts short count as, and the
 * wake-up of the thread reading input.
 *
 * A stop has causes, any number of them at once, each set once and never
 * cleared: a first SIGINT or SIGTERM, an error that stops intake
 * (--on-error fail, a failing --rejects-subject), the output failing, the
 * fail policy's overload. Setting one interrupts the queue's pushes
 * (queue_interrupt) and wakes intake wherever it waits (the self-pipe of
 * run_wake_fd, run_sleep_until). Admission, the shed, the output, the
 * stages and the broker read the run; the pipeline makes it and owns the
 * signals that stop it. Every call is thread-safe (atomics, one write). */
#ifndef WEIR_RUN_H
#define WEIR_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct queue;
struct run;

enum run_cause {
    RUN_SIGNAL = 1 << 0,   /* a first SIGINT or SIGTERM */
    RUN_ERROR = 1 << 1,    /* --on-error fail tripped, or --rejects-subject failed */
    RUN_OUTPUT = 1 << 2,   /* stdout (or --to) failed */
    RUN_OVERLOAD = 1 << 3, /* the fail policy tripped (exit 75) */
};

/* 0 and *out, or -errno (no memory, no pipe). */
int run_new(struct run **out);
void run_free(struct run *r); /* NULL is fine */

/* The queue a stop interrupts (none until this is called). Before any
 * thread starts. */
void run_watch(struct run *r, struct queue *q);

/* Stops the run for `why`. True when that cause is new. */
bool run_stop(struct run *r, enum run_cause why);
/* RUN_SIGNAL for `sig`; a later call keeps the later signal (exit status). */
void run_stop_signal(struct run *r, int sig);
/* RUN_OUTPUT: the output failed with -errno `err` (the first one is kept). */
void run_stop_output(struct run *r, int err);

bool run_has(const struct run *r, enum run_cause c);
int run_signal(const struct run *r);       /* 0, or the stop signal */
int run_output_error(const struct run *r); /* 0, or the output's -errno */

/* What a stop other than an overload makes of the work it cuts short:
 * failed when the output failed (dropped after EPIPE: nobody reads it
 * any more), else dropped. */
enum outcome run_cut_as(const struct run *r);

/* Whether intake must stop; then *as is what the records it does not
 * admit count as: failed after an overload, else run_cut_as. *as is left
 * alone while the run goes on. */
bool run_stopped(const struct run *r, enum outcome *as);

/* Records shed as `why` are unfinished work that a stop cut short, so a
 * source that can take them back should: the run stopped for a signal, an
 * error or the output, and `why` is run_cut_as. Never for an overload
 * alone: the fail policy's failures are final. */
bool run_returns(const struct run *r, enum outcome why);

/* Readable once the run is stopping, for intake's poll. */
int run_wake_fd(const struct run *r);
/* Sleeps until `deadline` (monotonic ns) unless the run is stopping. */
void run_sleep_until(struct run *r, int64_t deadline);

#endif
