/* hist.c - log-linear histogram; see hist.h. */
#include "hist.h"

#include <stdlib.h>

#define SUB_BITS 6
#define SUB (1u << SUB_BITS)                 /* buckets per power of two */
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB) /* covers all of uint64 */

struct hist {
    uint64_t count;    /* values recorded */
    double sum;        /* of the values recorded */
    uint64_t min, max; /* extremes recorded */
    uint64_t bucket[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
    if (v < SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - SUB_BITS;
    return (shift + 1) * SUB + (unsigned)((v >> shift) & (SUB - 1));
}

/* Lowest value and width of bucket i. */
static void bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
    if (i < SUB) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned shift = i / SUB - 1;
    *lo = ((uint64_t)(SUB + i % SUB)) << shift;
    *width = UINT64_C(1) << shift;
}

struct hist *hist_new(void)
{
    struct hist *h = calloc(1, sizeof *h);
    if (h)
        h->min = UINT64_MAX;
    return h;
}

void hist_free(struct hist *h)
{
    free(h);
}

void hist_add(struct hist *h, uint64_t v, uint64_t count)
{
    if (count == 0)
        return;
    h->bucket[bucket_of(v)] += count;
    h->count += count;
    h->sum += (double)v * (double)count;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t hist_count(const struct hist *h)
{
    return h->count;
}

uint64_t hist_max(const struct hist *h)
{
    return h->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* the rank-th smallest value, 1-based, nearest-rank definition */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t lo, width;
            bucket_range(i, &lo, &width);
            uint64_t v = lo + width / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

double hist_sum(const struct hist *h)
{
    return h->sum;
}

void hist_below(const struct hist *h, const uint64_t *bounds, size_t n, uint64_t *out)
{
    uint64_t seen = 0;
    size_t k = 0;
    for (unsigned i = 0; i < NBUCKETS && k < n; i++) {
        uint64_t lo, width;
        bucket_range(i, &lo, &width);
        while (k < n && lo + width / 2 >= bounds[k])
            out[k++] = seen;
        seen += h->bucket[i];
    }
    while (k < n)
        out[k++] = seen;
}
