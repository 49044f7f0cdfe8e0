/* test_hist.c - the latency histogram (hist.h): the percentiles in the
 * stats summary are exact for small values and within 1% of the truth
 * otherwise, on whatever distribution the latencies follow. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "hist.h"
#include "tap.h"

/* xorshift64*: a seeded generator, so every run sees the same numbers. */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static double rng_unit(void) /* uniform in (0, 1) */
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank q-quantile of sorted v[0..n). */
static uint64_t exact_quantile(const uint64_t *v, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static double rel_err(uint64_t got, uint64_t want)
{
    if (want == 0)
        return got == 0 ? 0 : 1;
    return fabs((double)got - (double)want) / (double)want;
}

static const double qs[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999};

/* Checks every quantile in qs against the sorted sample. */
static void check_quantiles(const char *what, const struct hist *h, uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    double worst = 0, worst_q = 0;
    uint64_t worst_got = 0, worst_want = 0;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        uint64_t want = exact_quantile(v, n, qs[i]);
        uint64_t got = hist_quantile(h, qs[i]);
        double e = rel_err(got, want);
        if (e >= worst) {
            worst = e;
            worst_q = qs[i];
            worst_got = got;
            worst_want = want;
        }
    }
    ok(worst < 0.01,
       "%s: all percentiles within 1%% (worst q=%g: got %" PRIu64 ", want %" PRIu64 ", %.4f%%)",
       what, worst_q, worst_got, worst_want, 100 * worst);
    is_int(hist_count(h), n, "%s: count", what);
    is_int(hist_max(h), v[n - 1], "%s: max", what);
    is_int(hist_quantile(h, 0), v[0], "%s: q=0 is the minimum", what);
    is_int(hist_quantile(h, 1), v[n - 1], "%s: q=1 is the maximum", what);
}

static void test_empty(void)
{
    struct hist *h = hist_new();
    ok(h != NULL, "hist_new");
    is_int(hist_count(h), 0, "empty: count 0");
    is_int(hist_max(h), 0, "empty: max 0");
    is_int(hist_quantile(h, 0), 0, "empty: q=0 gives 0");
    is_int(hist_quantile(h, 0.5), 0, "empty: p50 gives 0");
    is_int(hist_quantile(h, 1), 0, "empty: q=1 gives 0");
    hist_add(h, 12345, 0);
    is_int(hist_count(h), 0, "adding zero copies records nothing");
    is_int(hist_max(h), 0, "adding zero copies leaves max alone");
    hist_free(h);
    hist_free(NULL);
    ok(1, "hist_free(NULL) does nothing");
}

static void test_exact_small(void)
{
    struct hist *h = hist_new();
    for (uint64_t v = 0; v < 64; v++)
        hist_add(h, v, 1);
    /* 64 values 0..63: the nearest-rank quantile k/64 is exactly k-1 */
    int bad = 0;
    for (unsigned k = 1; k <= 64; k++) {
        uint64_t got = hist_quantile(h, (double)k / 64);
        if (got != k - 1) {
            if (!bad)
                printf("# q=%u/64 gave %" PRIu64 ", want %u\n", k, got, k - 1);
            bad++;
        }
    }
    is_int(bad, 0, "values below 64 come back exactly");
    is_int(hist_count(h), 64, "count of 0..63");
    is_int(hist_max(h), 63, "max of 0..63");
    hist_free(h);

    for (uint64_t v = 0; v < 64; v++) {
        h = hist_new();
        hist_add(h, v, 1000);
        if (hist_quantile(h, 0.5) != v || hist_quantile(h, 0.999) != v)
            break;
        hist_free(h);
        h = NULL;
    }
    ok(h == NULL, "a constant below 64 is every percentile");
    hist_free(h);

    h = hist_new();
    hist_add(h, 3, 90);
    hist_add(h, 7, 10);
    is_int(hist_quantile(h, 0.5), 3, "90x3 + 10x7: p50 is 3");
    is_int(hist_quantile(h, 0.9), 3, "90x3 + 10x7: p90 is 3 (the 90th value)");
    is_int(hist_quantile(h, 0.91), 7, "90x3 + 10x7: p91 is 7");
    is_int(hist_quantile(h, 0.99), 7, "90x3 + 10x7: p99 is 7");
    hist_free(h);
}

static void test_uniform(void)
{
    size_t n = 1000000;
    uint64_t *v = malloc(n * sizeof *v);
    struct hist *h = hist_new();
    for (size_t i = 0; i < n; i++) {
        v[i] = i + 1; /* 1..1e6, added in a scrambled order */
        hist_add(h, (i * 7919 % n) + 1, 1);
    }
    check_quantiles("uniform 1..1e6", h, v, n);
    free(v);
    hist_free(h);
}

static void test_exponential(void)
{
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof *v);
    struct hist *h = hist_new();
    for (size_t i = 0; i < n; i++) {
        /* mean 2 ms in ns, like a latency distribution */
        v[i] = (uint64_t)(-log(rng_unit()) * 2e6);
        hist_add(h, v[i], 1);
    }
    check_quantiles("exponential mean 2ms", h, v, n);
    free(v);
    hist_free(h);
}

static void test_lognormal_wide(void)
{
    /* spans many powers of two: from ~1 us to ~10 s */
    size_t n = 100000;
    uint64_t *v = malloc(n * sizeof *v);
    struct hist *h = hist_new();
    for (size_t i = 0; i < n; i++) {
        double z = sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
        v[i] = (uint64_t)exp(13.8 + 2.5 * z) + 1;
        hist_add(h, v[i], 1);
    }
    check_quantiles("log-normal 1us..10s", h, v, n);
    free(v);
    hist_free(h);
}

static void test_constants(void)
{
    static const uint64_t c[] = {
        64, 65, 100, 1000, 4097, 123456789, UINT64_C(1) << 40, (UINT64_C(1) << 40) + 12345};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct hist *h = hist_new();
        hist_add(h, c[i], 500);
        uint64_t p50 = hist_quantile(h, 0.5), p99 = hist_quantile(h, 0.99);
        /* clamped to [min, max], which are both c: exact */
        ok(p50 == c[i] && p99 == c[i] && hist_max(h) == c[i],
           "constant %" PRIu64 ": p50 %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64, c[i], p50, p99,
           hist_max(h));
        hist_free(h);
    }

    /* two constants far apart: the low half and the high half */
    struct hist *h = hist_new();
    hist_add(h, 1000, 50);
    hist_add(h, 1000000, 50);
    ok(rel_err(hist_quantile(h, 0.5), 1000) < 0.01, "bimodal: p50 %" PRIu64 " ~ 1000",
       hist_quantile(h, 0.5));
    ok(rel_err(hist_quantile(h, 0.51), 1000000) < 0.01, "bimodal: p51 %" PRIu64 " ~ 1000000",
       hist_quantile(h, 0.51));
    is_int(hist_quantile(h, 0), 1000, "bimodal: q=0 is the min");
    is_int(hist_quantile(h, 1), 1000000, "bimodal: q=1 is the max");
    hist_free(h);
}

static void test_merge(void)
{
    size_t n = 100000;
    uint64_t *v = malloc(n * sizeof *v);
    struct hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *empty = hist_new();
    for (size_t i = 0; i < n; i++) {
        v[i] = (uint64_t)(-log(rng_unit()) * 5e5) + 10;
        hist_add(i % 3 ? a : b, v[i], 1);
        hist_add(all, v[i], 1);
    }
    hist_merge(a, b);
    hist_merge(a, empty);
    check_quantiles("merged thirds", a, v, n);
    int same = 1;
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        same &= hist_quantile(a, qs[i]) == hist_quantile(all, qs[i]);
    ok(same, "merging per-thread histograms gives the same percentiles as one");

    /* into an empty one: takes min and max too */
    hist_merge(empty, b);
    is_int(hist_count(empty), hist_count(b), "merge into empty: count");
    is_int(hist_max(empty), hist_max(b), "merge into empty: max");
    is_int(hist_quantile(empty, 0), hist_quantile(b, 0), "merge into empty: min");

    /* min and max follow the merge */
    struct hist *lo = hist_new(), *hi = hist_new();
    hist_add(lo, 5, 1);
    hist_add(hi, 5000000, 1);
    hist_merge(hi, lo);
    is_int(hist_quantile(hi, 0), 5, "merge: min comes from the source");
    is_int(hist_max(hi), 5000000, "merge: max stays");
    hist_merge(lo, hi);
    is_int(hist_max(lo), 5000000, "merge: max comes from the source");
    is_int(hist_count(lo), 3, "merge: counts add");
    free(v);
    hist_free(a);
    hist_free(b);
    hist_free(all);
    hist_free(empty);
    hist_free(lo);
    hist_free(hi);
}

static void test_huge(void)
{
    struct hist *h = hist_new();
    hist_add(h, UINT64_MAX, 1);
    is_int(hist_count(h), 1, "UINT64_MAX: counted");
    ok(hist_max(h) == UINT64_MAX, "UINT64_MAX: max");
    ok(hist_quantile(h, 0.5) == UINT64_MAX, "UINT64_MAX: p50 %" PRIu64, hist_quantile(h, 0.5));

    hist_add(h, UINT64_MAX - 1, 1);
    hist_add(h, UINT64_C(1) << 63, 1);
    hist_add(h, (UINT64_C(1) << 63) - 1, 1);
    hist_add(h, 0, 1);
    is_int(hist_count(h), 5, "huge values: count");
    is_int(hist_quantile(h, 0), 0, "huge values: q=0 is 0");
    ok(hist_quantile(h, 1) == UINT64_MAX, "huge values: q=1 is UINT64_MAX");
    uint64_t p50 = hist_quantile(h, 0.5); /* the 3rd of 5: 2^63 */
    ok(rel_err(p50, UINT64_C(1) << 63) < 0.01, "huge values: p50 %" PRIu64 " ~ 2^63", p50);
    uint64_t p40 = hist_quantile(h, 0.4); /* the 2nd: 2^63 - 1 */
    ok(rel_err(p40, (UINT64_C(1) << 63) - 1) < 0.01, "huge values: p40 %" PRIu64 " ~ 2^63-1", p40);
    uint64_t p80 = hist_quantile(h, 0.8); /* the 4th: UINT64_MAX - 1 */
    ok(rel_err(p80, UINT64_MAX - 1) < 0.01, "huge values: p80 %" PRIu64 " ~ 2^64-2", p80);
    hist_free(h);

    /* every power of two and its neighbours lands in a bucket near it */
    int bad = 0;
    for (unsigned s = 6; s < 64; s++) {
        uint64_t vals[3] = {(UINT64_C(1) << s) - 1, UINT64_C(1) << s, (UINT64_C(1) << s) + 1};
        for (int i = 0; i < 3; i++) {
            h = hist_new();
            hist_add(h, 1, 1); /* so the clamp to min/max does not hide the bucket */
            hist_add(h, vals[i], 1);
            hist_add(h, UINT64_MAX, 1);
            uint64_t got = hist_quantile(h, 0.5);
            if (rel_err(got, vals[i]) >= 0.01) {
                if (!bad)
                    printf("# 2^%u%+d: p50 %" PRIu64 "\n", s, i - 1, got);
                bad++;
            }
            hist_free(h);
        }
    }
    is_int(bad, 0, "values around every power of two: within 1%%");
}

int main(void)
{
    test_empty();
    test_exact_small();
    test_uniform();
    test_exponential();
    test_lognormal_wide();
    test_constants();
    test_merge();
    test_huge();
    return done_testing();
}
