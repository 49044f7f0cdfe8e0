/* depth.c - a queue's depth over time; see depth.h. */
#include "depth.h"

void depth_init(struct depth *d, int64_t now)
{
    *d = (struct depth){.t_start = now, .t_last = now};
}

void depth_pass(struct depth *d, size_t count, bool full, int64_t now)
{
    int64_t dt = now - d->t_last;
    d->area += (double)count * (double)dt;
    if (full)
        d->full_ns += dt;
    d->t_last = now;
}

void depth_reached(struct depth *d, size_t count)
{
    if (count > d->max)
        d->max = count;
}

void depth_figures(const struct depth *d, size_t count, double *mean, double *full_share)
{
    double span = (double)(d->t_last - d->t_start);
    *mean = span > 0 ? d->area / span : (double)count;
    *full_share = span > 0 ? (double)d->full_ns / span : 0;
}
