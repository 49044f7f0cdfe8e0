/* monitor.h - what a run shows while it goes on: a snapshot every
 * --interval, the --progress line, the --metrics file. The main thread
 * owns the monitor: it asks when the next duty is due, sleeps until then
 * (or until a signal), and hands in a fresh stats snapshot. */
#ifndef WEIR_MONITOR_H
#define WEIR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "options.h"
#include "stats.h"

struct monitor;

struct monitor_config {
    enum stats_format stats; /* snapshot format; STATS_NONE: no snapshots */
    int64_t interval_ns;     /* -i: a snapshot this often, 0: none */
    enum progress progress;  /* the live line, and how it is drawn */
    const char *metrics_path;
    int64_t metrics_ns;  /* the metrics file is rewritten this often */
    uint64_t input_size; /* bytes stdin holds from here (a regular file), 0: unknown */
    int64_t start;       /* when the run started */
};

/* 0 and *out, or -errno when the metrics file cannot be written (its
 * first version, from `first`, is written here, so a bad path fails
 * before any input is read). */
int monitor_new(const struct monitor_config *c, const struct stats *first, struct monitor **out);
void monitor_free(struct monitor *m); /* NULL is fine */

/* When the next duty is due (NS_FOREVER: never). */
int64_t monitor_deadline(const struct monitor *m);
/* Does the duties due at `now`, from snapshot s. */
void monitor_tick(struct monitor *m, int64_t now, const struct stats *s);
/* SIGUSR1: a snapshot at once, in the --stats format. */
void monitor_snapshot(struct monitor *m, const struct stats *s);
/* The run is over: the progress line is cleared (before the summary),
 * the metrics file written a last time from the final figures. */
void monitor_end(struct monitor *m, const struct stats *final);

#endif
