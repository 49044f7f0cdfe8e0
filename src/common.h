/* common.h - exit statuses, the monotonic clock and small helpers shared by
 * every module. Nothing here allocates or keeps state.
 *
 * Errors, one convention for the whole tree:
 * - A function that can fail returns 0 (or a count) on success and a
 *   negative errno-style code on failure (-ENOMEM, -EINVAL, -errno of the
 *   system call). A positive return is an outcome that is not an error,
 *   named in its header (BROKER_IDLE). A constructor that can fail only
 *   for want of memory or of a thread primitive (a mutex, a condition
 *   variable) returns NULL instead; one that can fail otherwise returns the
 *   code and hands the object out through a pointer, set only on success.
 * - Where there is more to say than an errno (a bad regular expression),
 *   the caller passes a message buffer, filled when the code is -EINVAL.
 * - Mechanism modules (queue, framer, limiter, policy, stream, rejects,
 *   ops, ...) never print and never exit. The engine (pipeline, admit,
 *   output, shed, the stages) prints through report() in report.h, the
 *   one way a thread reports; besides, only the summary, the snapshots and
 *   the progress line (stats.c, monitor.c, term.c) reach stderr. Only main.c
 *   exits. Messages start with "weir: " and name the flag, file or record
 *   concerned.
 * - Two exceptions: the command line (cli*.c) prints its usage errors with
 *   cli_usage, before report() has anyone to report to; and sync.c prints
 *   one line and aborts when a lock operation that cannot fail does (a
 *   corrupted mutex: nothing sane is left to do). */
#ifndef WEIR_COMMON_H
#define WEIR_COMMON_H

#include <stdint.h>
#include <time.h>

#define WEIR_VERSION "0.1.0"

/* Every exit status weir uses; main.c is the only place that exits. */
enum weir_exit {
    EXIT_DONE = 0,       /* all input handled (shedding under drop/timeout is not an error) */
    EXIT_RUNTIME = 1,    /* I/O error, corrupt input, --on-error fail */
    EXIT_USAGE = 2,      /* bad flag or value */
    EXIT_OVERLOAD = 75,  /* the fail policy tripped (EX_TEMPFAIL) */
    EXIT_NOEXEC = 126,   /* COMMAND found but not executable */
    EXIT_NOTFOUND = 127, /* COMMAND not found */
    EXIT_SIGINT = 130,   /* interrupted by SIGINT */
    EXIT_EPIPE = 141,    /* stdout closed early */
    EXIT_SIGTERM = 143,  /* interrupted by SIGTERM */
};

#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)
#define NS_FOREVER INT64_MAX /* a deadline that never comes */

/* Monotonic time in nanoseconds; the only clock weir reads. */
static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static inline struct timespec ns_to_timespec(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC};
    return ts;
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
