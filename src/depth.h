/* depth.h - how deep a queue has been over time: the deepest it got, its
 * time-weighted mean depth, and the share of the time it was full.
 *
 * Plain data with no lock of its own: the queue updates it under its
 * mutex, before every change of its depth. Time is a parameter
 * (monotonic ns), so unit tests drive it. */
#ifndef WEIR_DEPTH_H
#define WEIR_DEPTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct depth {
    int64_t t_start, t_last; /* when accounting began, and last ran */
    double area;             /* integral of depth over time, record*ns */
    int64_t full_ns;         /* time spent full */
    size_t max;              /* the deepest */
};

void depth_init(struct depth *d, int64_t now);

/* The queue held `count` records (`full`: at a bound) from the last call
 * until `now`; call before it changes. */
void depth_pass(struct depth *d, size_t count, bool full, int64_t now);

/* It now holds `count` records (after a push). */
void depth_reached(struct depth *d, size_t count);

/* The mean depth and the share of time full, 0..1, up to the last call;
 * `count` (the depth now) stands for the mean before any time passed. */
void depth_figures(const struct depth *d, size_t count, double *mean, double *full_share);

#endif
