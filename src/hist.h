/* hist.h - log-linear histogram of non-negative integers (latencies in ns).
 *
 * Values below 64 are exact; above, each power of two is split into 64
 * linear buckets, so a reported percentile is within 1/128 (< 0.8%) of a
 * value actually recorded. Not thread-safe: one writer, or external lock. */
#ifndef WEIR_HIST_H
#define WEIR_HIST_H

#include <stddef.h>
#include <stdint.h>

struct hist;

struct hist *hist_new(void);                               /* NULL when out of memory */
void hist_free(struct hist *h);                            /* NULL is fine */
void hist_add(struct hist *h, uint64_t v, uint64_t count); /* count copies of v */
void hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_count(const struct hist *h);
uint64_t hist_max(const struct hist *h); /* 0 when empty */
/* The value at quantile q (0..1): the middle of the bucket holding it,
 * clamped to the recorded min and max; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Sum of the values recorded (as a double: no overflow). */
double hist_sum(const struct hist *h);
/* For ascending bounds[0..n): out[i] = how many values are below
 * bounds[i], to the histogram's resolution (a bucket straddling a bound
 * counts as below it when its middle is). One pass. */
void hist_below(const struct hist *h, const uint64_t *bounds, size_t n, uint64_t *out);

#endif
