/* snapshot.h - the figures of a run at one moment (struct stats, stats.h),
 * gathered from each part's own: outcomes (output, shed), intake, the
 * queue, the workers, admission's limiters, the broker.
 *
 * Any thread, while the run goes on: each part's figures are atomics or
 * copied under its lock. The outcomes are read before the records read,
 * so in_flight is never negative and records in = done + dropped + timed
 * out + failed + in flight holds in every snapshot. */
#ifndef WEIR_SNAPSHOT_H
#define WEIR_SNAPSHOT_H

#include <stdint.h>

struct admit;
struct broker;
struct intake;
struct options;
struct output;
struct pool;
struct queue;
struct shed;
struct stats;

/* The parts of a run (plain data; broker may be NULL). */
struct snapshot_parts {
    const struct options *o;
    struct intake *intake;
    struct admit *admit;
    struct queue *queue;
    struct pool *workers;
    struct output *out;
    struct shed *shed;
    struct broker *broker;
};

/* Fills *s: `elapsed_ns` since the run started (to its end, once over),
 * exit_code -1 while running. */
void snapshot_take(const struct snapshot_parts *p, int64_t elapsed_ns, int exit_code,
                   struct stats *s);

#endif
