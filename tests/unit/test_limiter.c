/* test_limiter.c - the token bucket and the policy's token decision, driven
 * by a fake clock (int64 ns); nothing sleeps. Covers: invalid init, steady
 * rate, burst after idle, takes above the burst (debt), 10^9-unit runs at
 * 1/h .. 10M/s and 10 GiB/s with exact rate checks, extreme clocks and
 * rates, the sliding-window bound over seeded random patterns, and
 * policy_on_token for every policy. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "common.h"
#include "limiter.h"
#include "policy.h"
#include "tap.h"

__extension__ typedef __int128 i128;

#define MS NS_PER_MS
#define SEC NS_PER_SEC
#define HOUR (3600 * SEC)

/* xorshift64*: a seeded, repeatable PRNG */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t rng_below(uint64_t n)
{
    return rng() % n;
}

static void test_init(void)
{
    struct limiter l;
    is_int(limiter_init(&l, 0, 1, 0), -EINVAL, "init: rate 0 refused");
    is_int(limiter_init(&l, -5, 1, 0), -EINVAL, "init: negative rate refused");
    is_int(limiter_init(&l, -INFINITY, 1, 0), -EINVAL, "init: -inf rate refused");
    is_int(limiter_init(&l, NAN, 1, 0), -EINVAL, "init: NaN rate refused");
    is_int(limiter_init(&l, 10, 0, 0), -EINVAL, "init: burst 0 refused");
    is_int(limiter_init(&l, 10, 0.999, 0), -EINVAL, "init: burst below 1 refused");
    is_int(limiter_init(&l, 10, -1, 0), -EINVAL, "init: negative burst refused");
    is_int(limiter_init(&l, 10, NAN, 0), -EINVAL, "init: NaN burst refused");
    is_int(limiter_init(&l, 10, 1, 0), 0, "init: rate 10 burst 1 accepted");
    is_int(limiter_init(&l, 1e-300, 1, 0), 0, "init: tiny rate accepted");
    is_int(limiter_init(&l, INFINITY, INFINITY, 0), 0, "init: infinite rate and burst clamped");
    ok(limiter_available(&l, 0) == UINT64_C(1) << 63, "init: infinite burst capped at 2^63");
    is_int(limiter_init(&l, 25, 2.5, 0), 0, "init: fractional burst accepted");
    is_int(limiter_available(&l, HOUR), 2, "init: burst 2.5 floors to 2 whole units");
}

/* 1000/s, burst 1: a take every 1 ms exactly, and never a ns earlier. */
static void test_steady(void)
{
    struct limiter l;
    int64_t t0 = 5 * SEC, t = t0;
    limiter_init(&l, 1000, 1, t0);
    is_int(limiter_ready(&l, t0, 1), t0, "steady: full bucket admits at once");
    int exact = 1, tight = 1;
    for (int64_t k = 0; k < 10000; k++) {
        int64_t r = limiter_ready(&l, t, 1);
        exact &= r == t0 + k * MS;
        tight &= k == 0 || limiter_ready(&l, r - 1, 1) == r;
        limiter_take(&l, r, 1);
        t = r;
    }
    ok(exact, "steady: 1000/s admits the k-th unit at exactly k ms");
    ok(tight, "steady: limiter_ready is the earliest ns");

    /* 2.5k/s burst 250 with 3-unit takes: after 1 s, 250 + 2500 units */
    limiter_init(&l, 2500, 250, 0);
    uint64_t taken = 0;
    for (t = 0; t <= SEC; t += 100 * 1000) { /* every 100 us */
        while (limiter_ready(&l, t, 3) <= t) {
            limiter_take(&l, t, 3);
            taken += 3;
        }
    }
    ok(taken <= 250 + 2500 && taken > 250 + 2500 - 3,
       "steady: 2.5k/s burst 250 over 1 s admits %llu", (unsigned long long)taken);

    /* 5/15s: one unit every 3 s exactly, though 1/3 is inexact as a double */
    limiter_init(&l, 5.0 / 15, 1, 0);
    t = 0;
    for (int k = 0; k < 1000; k++) {
        t = limiter_ready(&l, t, 1);
        limiter_take(&l, t, 1);
    }
    /* the double is a hair under 1/3, so the interval a hair over 3 s; with
     * burst 1 each take lands on the next whole ns */
    ok(t >= 999 * 3 * SEC && t <= 999 * 3 * SEC + 999,
       "steady: 5/15s admits the 1000th unit at 2997 s (+%lld ns)", (long long)(t - 999 * 3 * SEC));
}

static void test_idle_burst(void)
{
    struct limiter l;
    limiter_init(&l, 10, 5, 0);
    is_int(limiter_available(&l, 0), 5, "idle: starts full");
    limiter_take(&l, 0, 5);
    is_int(limiter_available(&l, 0), 0, "idle: empty after taking the burst");
    is_int(limiter_ready(&l, 0, 1), 100 * MS, "idle: next unit after 100 ms");
    is_int(limiter_available(&l, 250 * MS), 2, "idle: 2 units after 250 ms");
    int64_t t = HOUR;
    is_int(limiter_available(&l, t), 5, "idle: an hour idle banks only the burst");
    int n = 0;
    while (limiter_ready(&l, t, 1) <= t && n < 100) {
        limiter_take(&l, t, 1);
        n++;
    }
    is_int(n, 5, "idle: after an hour, 5 unit takes at one instant, no more");
    is_int(limiter_ready(&l, t, 1), t + 100 * MS, "idle: then the rate again");
    is_int(limiter_available(&l, 365 * 24 * HOUR), 5, "idle: a year idle banks only the burst");

    /* time never runs back: an earlier now counts as the latest seen */
    limiter_init(&l, 1000, 1, 0);
    limiter_take(&l, 10 * SEC, 1);
    is_int(limiter_ready(&l, 5 * SEC, 1), 10 * SEC + MS, "idle: an earlier now does not refill");
    is_int(limiter_available(&l, 5 * SEC), 0, "idle: nor does it show units");
}

/* Byte takes larger than the burst pass once the bucket is full and leave
 * debt that delays what follows. */
static void test_oversize(void)
{
    struct limiter l;
    limiter_init(&l, 1000, 100, 0); /* 1000 B/s, burst 100 B: 1 ms a byte */
    limiter_take(&l, 0, 50);
    is_int(limiter_available(&l, 0), 50, "oversize: 50 of 100 left");
    is_int(limiter_ready(&l, 0, 100), 50 * MS,
           "oversize: burst-sized take waits for a full bucket");
    is_int(limiter_ready(&l, 0, 250), 50 * MS, "oversize: 250 > burst waits for a full bucket");
    is_int(limiter_ready(&l, 0, 50), 0, "oversize: 50 fits now");
    limiter_take(&l, 50 * MS, 250);
    is_int(limiter_available(&l, 50 * MS), 0, "oversize: nothing left after it");
    is_int(limiter_available(&l, 200 * MS), 0, "oversize: still in debt 150 ms later");
    is_int(limiter_ready(&l, 50 * MS, 1), 201 * MS,
           "oversize: 150 B debt + 1 B delays the next take");
    is_int(limiter_ready(&l, 50 * MS, 100), 300 * MS, "oversize: a full bucket after 250 ms");
    is_int(limiter_ready(&l, 50 * MS, 1000), 300 * MS, "oversize: and so does another big take");
    is_int(limiter_available(&l, 300 * MS), 100, "oversize: full again at 300 ms");

    /* burst 1, 10^9-byte takes at 1e6 B/s: one every 1000 s, no deadlock */
    limiter_init(&l, 1e6, 1, 0);
    int64_t t = 0;
    int good = 1;
    for (int k = 0; k < 10; k++) {
        t = limiter_ready(&l, t, 1000000000);
        good &= t == k * 1000 * SEC;
        limiter_take(&l, t, 1000000000);
    }
    ok(good, "oversize: 10^9 B takes with burst 1 pass every 1000 s");
    is_int(limiter_ready(&l, t, 1), t + 1000 * SEC, "oversize: debt delays even a 1 B take");

    /* a take of UINT64_MAX units: saturates, never wraps */
    limiter_init(&l, 1000, 10, 0);
    limiter_take(&l, 0, UINT64_MAX);
    is_int(limiter_available(&l, INT64_MAX), 0, "oversize: 2^64-1 units leave debt for all time");
    ok(limiter_ready(&l, 0, 1) == NS_FOREVER, "oversize: next ready saturates to NS_FOREVER");
}

/* Takes n units at each limiter_ready `iters` times at num/den units per
 * second from a full bucket at t0. At the last take the bucket held what it
 * needed, and a ns before it did not, so the units accounted for (all taken
 * but the last, plus what the last needed, less the initial burst) must
 * equal rate * elapsed within one unit, plus the one ns the clock resolves
 * (more than a unit above 1e9/s) and the interval's one rounding (under a
 * tick, 2^-48 ns, a unit: 3.6 ns over 10^15 units). Never more than the
 * rate. With an interval that is a whole number of ns: exactly.
 *
 * Takes of n < burst keep the bucket below full. Waiting for a full bucket
 * each time (n >= burst) loses the part of a ns the bucket spends full,
 * which the window bound demands, so those runs use whole-ns intervals. */
static void long_run(const char *name, int64_t num, int64_t den, uint64_t burst, uint64_t n,
                     int64_t iters, int64_t t0)
{
    struct limiter l;
    limiter_init(&l, (double)num / (double)den, (double)burst, t0);
    int64_t t = t0, last = t0;
    uint64_t total = 0;
    int monotone = 1;
    for (int64_t i = 0; i < iters; i++) {
        int64_t r = limiter_ready(&l, t, n);
        monotone &= r >= t && r < NS_FOREVER;
        limiter_take(&l, r, n);
        total += n;
        last = t = r;
    }
    i128 accounted = (i128)total - (i128)(n > burst ? n : burst);
    i128 elapsed = (i128)last - t0;
    /* accounted vs elapsed * num / (den * 1e9), scaled by den * 1e9 */
    i128 lhs = accounted * den * SEC, rhs = elapsed * num, unit = (i128)den * SEC;
    ok(monotone, "%s: %lld takes of %llu, all ready times finite and ordered", name,
       (long long)iters, (unsigned long long)n);
    i128 slack = unit + num + ((i128)num * total >> 48) + 1; /* 1 unit, 1 ns, 1 tick a unit */
    ok(lhs <= rhs + unit && lhs >= rhs - slack,
       "%s: %llu units in %.6g s, rate exact within 1 unit (off by %.3g)", name,
       (unsigned long long)total, (double)elapsed / 1e9, (double)(lhs - rhs) / (double)unit);
    if (den == 1 && SEC % num == 0) /* rate and interval both exact */
        ok(elapsed == accounted * ((i128)den * SEC / num),
           "%s: no drift: last take at exactly %lld ns", name,
           (long long)(accounted * ((i128)den * SEC / num)));
}

static void test_long_runs(void)
{
    const int64_t M = 1000000;
    /* 10^6 unit takes: each one at its own ready time */
    long_run("10M/s b1", 10 * M, 1, 1, 1, M, 0);
    long_run("1000/s b1", 1000, 1, 1, 1, M, 0);
    long_run("1/s b1", 1, 1, 1, 1, M, 0);
    long_run("3M/s b3", 3 * M, 1, 3, 1, M, 0); /* 333.3 ns: not a whole ns */
    long_run("7/s b2", 7, 1, 2, 1, M, -INT64_C(4000000000000000000));
    /* 1/h: 2*10^6 units already span 228 years, most of int64 ns */
    long_run("1/h b1", 1, 3600, 1, 1, 2 * M, -INT64_C(4000000000000000000));
    /* 10^9 units: 10^6 takes of 1000 (within burst) or 10^3 of 10^6 (debt) */
    long_run("10M/s b1000", 10 * M, 1, 1000, 1000, M, 0); /* full-bucket waits, whole ns */
    long_run("10M/s b1 debt", 10 * M, 1, 1, M, 1000, 0);
    long_run("1000/s b1000", 1000, 1, 1000, 1000, M, 12345);
    long_run("1/s b1500", 1, 1, 1500, 1000, M, -INT64_C(4000000000000000000));
    long_run("3M/s b2000", 3 * M, 1, 2000, 1000, M, 0);
    long_run("1/h b2000", 1, 3600, 2000, 1000, 2000, -INT64_C(4000000000000000000));
    /* bytes: 10 GiB/s with 1 MiB burst and 64 KiB chunks, 6.5e10 B */
    long_run("10GiB/s", INT64_C(10) << 30, 1, 1 << 20, 1 << 16, M, 0);
    long_run("10GB/s b2e12", INT64_C(10000000000), 1, INT64_C(2000000000000),
             INT64_C(1000000000000), 1000, 0);
}

static void test_extremes(void)
{
    struct limiter l;
    /* the whole int64 clock in one step. 1/3600 as a double is a hair
     * under 1/3600, so the hour comes up to a ns late. */
    limiter_init(&l, 1.0 / 3600, 3, INT64_MIN);
    limiter_take(&l, INT64_MIN, 3);
    int64_t r = limiter_ready(&l, INT64_MIN, 1) - INT64_MIN;
    ok(r == HOUR || r == HOUR + 1, "extreme: clock at INT64_MIN, hour + %lld ns",
       (long long)(r - HOUR));
    is_int(limiter_available(&l, INT64_MAX), 3, "extreme: INT64_MIN to INT64_MAX refills to burst");
    limiter_take(&l, INT64_MAX - HOUR / 2, 3);
    ok(limiter_ready(&l, INT64_MAX - HOUR / 2, 1) == NS_FOREVER,
       "extreme: a token past INT64_MAX saturates to NS_FOREVER");

    /* one unit per 31700 years: the second never comes */
    limiter_init(&l, 1e-12, 1, 0);
    limiter_take(&l, 0, 1);
    ok(limiter_ready(&l, 0, 1) == NS_FOREVER, "extreme: 1e-12/s refills never");
    limiter_init(&l, 1e-300, 1, 0);
    limiter_take(&l, 0, 1);
    ok(limiter_ready(&l, 0, 1) == NS_FOREVER, "extreme: 1e-300/s refills never");

    /* burst 10^12 at 1/h: the whole burst at once, then 1/h */
    limiter_init(&l, 1.0 / 3600, 1e12, 0);
    is_int(limiter_available(&l, 0), INT64_C(1000000000000), "extreme: burst 1e12 available");
    is_int(limiter_ready(&l, 0, 1000000000000), 0, "extreme: burst 1e12 admitted at once");
    limiter_take(&l, 0, 1000000000000);
    r = limiter_ready(&l, 0, 1);
    ok(r == HOUR || r == HOUR + 1, "extreme: then one an hour");
    r = limiter_ready(&l, 0, 1000);
    ok(r == 1000 * HOUR || r == 1000 * HOUR + 1, "extreme: 1000 in 1000 h");
    is_int(limiter_available(&l, 2 * HOUR + 1), 2, "extreme: 2 after 2 h");

    /* parse_rate's ceiling, 1e12/s, and beyond */
    limiter_init(&l, 1e12, 1000, 0);
    limiter_take(&l, 0, 1000);
    /* 1 ps a unit is 2^48/1000 ticks, rounded up: never faster than set */
    is_int(limiter_available(&l, 1), 999, "extreme: 1e12/s refills 999 in 1 ns, not 1000");
    is_int(limiter_ready(&l, 0, 1000), 2, "extreme: and 1000 in 2 ns");
    limiter_init(&l, 1e30, 1, 0);
    limiter_take(&l, 0, 1);
    is_int(limiter_ready(&l, 0, 1), 1, "extreme: 1e30/s waits at most a ns");
}

/* Random patterns: any window [t_i, t_j] of takes admits at most
 * burst + rate * (t_j - t_i); ready is the earliest ns; available <= burst. */
#define NTAKES 1500

/* The time to the next arrival: none (half the time: take as soon as
 * ready), a few ns, under one unit, up to 3 bursts, or about one burst. */
static int64_t next_gap(int64_t interval, uint64_t burst)
{
    uint64_t u = (uint64_t)interval;
    switch (rng_below(8)) {
    case 0:
        return (int64_t)rng_below(64);
    case 1:
        return (int64_t)rng_below(u);
    case 2:
        return (int64_t)rng_below(u * burst * 3);
    case 3:
        return (int64_t)(rng_below(u * 2) + u * burst);
    default:
        return 0;
    }
}

static void window_run(uint64_t seed, int64_t num, int64_t den, uint64_t burst, int64_t base)
{
    static int64_t at[NTAKES];
    static uint64_t cum[NTAKES + 1];
    struct limiter l;
    rng_state = seed;
    limiter_init(&l, (double)num / (double)den, (double)burst, base);
    int64_t interval = (int64_t)((i128)den * SEC / num) + 1, t = base;
    int capped = 1, tight = 1;
    cum[0] = 0;
    for (int i = 0; i < NTAKES; i++) {
        t += next_gap(interval, burst);
        uint64_t n = 1 + rng_below(rng_below(4) ? burst : (burst + 3) / 4);
        int64_t r = limiter_ready(&l, t, n);
        if (r > t)
            tight &= limiter_ready(&l, r - 1, n) == r && limiter_available(&l, r - 1) < n;
        capped &= limiter_available(&l, r) <= burst && limiter_available(&l, r) >= n;
        limiter_take(&l, r, n);
        capped &= limiter_available(&l, r) <= burst;
        at[i] = t = r;
        cum[i + 1] = cum[i] + n;
    }
    uint64_t worst_excess = 0;
    int bounded = 1;
    for (int i = 0; i < NTAKES; i++) {
        for (int j = i; j < NTAKES; j++) {
            /* admitted in [at_i, at_j] <= burst + floor(elapsed * num / (den * 1e9)) */
            uint64_t got = cum[j + 1] - cum[i];
            i128 bound = (i128)burst + ((i128)at[j] - at[i]) * num / ((i128)den * SEC);
            if ((i128)got > bound) {
                bounded = 0;
                if ((uint64_t)((i128)got - bound) > worst_excess)
                    worst_excess = (uint64_t)((i128)got - bound);
            }
        }
    }
    ok(bounded, "window seed %llu rate %lld/%llds burst %llu: every window within burst + rate*T%s",
       (unsigned long long)seed, (long long)num, (long long)den, (unsigned long long)burst,
       bounded ? "" : " (exceeded)");
    if (!bounded)
        printf("#   worst excess %llu units\n", (unsigned long long)worst_excess);
    ok(tight, "window seed %llu: ready is the earliest ns", (unsigned long long)seed);
    ok(capped, "window seed %llu: available never exceeds the burst", (unsigned long long)seed);
}

static void test_windows(void)
{
    window_run(1, 1000, 1, 10, 0);
    window_run(2, 7, 1, 3, -SEC);
    window_run(3, 1, 3, 2, INT64_C(1) << 60); /* 1/3 per second: inexact double */
    window_run(4, 2500000, 1, 1, 0);
    window_run(5, 3000000, 1, 7, 0);                 /* 333.3 ns a unit */
    window_run(6, INT64_C(10) << 30, 1, 1 << 20, 0); /* bytes, 10 GiB/s */
    window_run(7, 1, 3600, 4, 0);
    window_run(8, 10000000, 1, 1000000, 0);
}

static void test_policy(void)
{
    const int64_t arrived = 1000 * SEC, to = 2 * SEC;
    is_int(policy_on_token(POLICY_BLOCK, arrived, arrived, to), TOKEN_WAIT,
           "policy block: token now");
    is_int(policy_on_token(POLICY_BLOCK, arrived, arrived + HOUR, to), TOKEN_WAIT,
           "policy block: waits an hour");
    is_int(policy_on_token(POLICY_BLOCK, arrived, NS_FOREVER, to), TOKEN_WAIT,
           "policy block: waits even for NS_FOREVER");

    is_int(policy_on_token(POLICY_TIMEOUT, arrived, arrived, to), TOKEN_WAIT,
           "policy timeout: token now");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, arrived + to - 1, to), TOKEN_WAIT,
           "policy timeout: waits for a token inside the deadline");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, arrived + to, to), TOKEN_WAIT,
           "policy timeout: waits for a token exactly at the deadline");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, arrived + to + 1, to), TOKEN_SHED,
           "policy timeout: sheds at once when the token comes 1 ns late");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, NS_FOREVER, to), TOKEN_SHED,
           "policy timeout: sheds when the token never comes");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, arrived + HOUR, NS_FOREVER), TOKEN_WAIT,
           "policy timeout: a huge timeout does not overflow");
    is_int(policy_shed_outcome(POLICY_TIMEOUT), OUTCOME_TIMED_OUT,
           "policy timeout: shed counts as timed out");

    is_int(policy_on_token(POLICY_DROP, arrived, arrived, to), TOKEN_WAIT,
           "policy drop: token now is taken");
    is_int(policy_on_token(POLICY_DROP, arrived, arrived + 1, to), TOKEN_SHED,
           "policy drop: sheds a record whose token is 1 ns away");
    is_int(policy_shed_outcome(POLICY_DROP), OUTCOME_DROPPED,
           "policy drop: shed counts as dropped");
    is_int(policy_on_token(POLICY_DROP_OLDEST, arrived, arrived, to), TOKEN_WAIT,
           "policy drop-oldest: token now is taken");
    is_int(policy_on_token(POLICY_DROP_OLDEST, arrived, arrived + 1, to), TOKEN_SHED,
           "policy drop-oldest: sheds a record whose token is 1 ns away");
    is_int(policy_shed_outcome(POLICY_DROP_OLDEST), OUTCOME_DROPPED,
           "policy drop-oldest: shed counts as dropped");

    is_int(policy_on_token(POLICY_FAIL, arrived, arrived, to), TOKEN_WAIT,
           "policy fail: token now");
    is_int(policy_on_token(POLICY_FAIL, arrived, arrived + to, to), TOKEN_WAIT,
           "policy fail: waits within the deadline");
    is_int(policy_on_token(POLICY_FAIL, arrived, arrived + to + 1, to), TOKEN_STOP,
           "policy fail: stops when the token is past the deadline");
    is_int(policy_on_token(POLICY_FAIL, arrived, arrived + 1, 0), TOKEN_STOP,
           "policy fail: with no timeout, stops at the first wait");
    is_int(policy_shed_outcome(POLICY_FAIL), OUTCOME_FAILED, "policy fail: counts as failed");

    /* the limiter and the policy together: timeout 150 ms at 10/s burst 1 */
    struct limiter l;
    limiter_init(&l, 10, 1, 0);
    limiter_take(&l, 0, 1);
    int64_t r = limiter_ready(&l, 10 * MS, 1);
    is_int(r, 100 * MS, "policy+limiter: next token at 100 ms");
    is_int(policy_on_token(POLICY_TIMEOUT, 10 * MS, r, 150 * MS), TOKEN_WAIT,
           "policy+limiter: timeout waits 90 ms for it");
    limiter_take(&l, r, 1);
    r = limiter_ready(&l, 20 * MS, 1);
    is_int(policy_on_token(POLICY_TIMEOUT, 20 * MS, r, 150 * MS), TOKEN_SHED,
           "policy+limiter: the next is 180 ms away, shed at once");
}

/* Reserve, then wait: a take made before its units are there leaves the
 * bucket in debt, and a wake-up late by less than an interval costs the
 * next take nothing. */
static void test_reserve(void)
{
    struct limiter l;
    int64_t t0 = 5 * SEC, t = t0;
    limiter_init(&l, 1000, 1, t0);
    limiter_take(&l, t0, 1); /* the burst */
    int exact = 1;
    for (int64_t k = 1; k <= 1000; k++) {
        int64_t r = limiter_ready(&l, t, 1);
        exact &= r == t0 + k * MS;
        limiter_take(&l, t, 1); /* reserved at t, before the wait */
        t = r + 80 * 1000;      /* woken 80 us late */
    }
    ok(exact, "reserve: 1000/s burst 1, wake-ups 80 us late: unit k still at exactly k ms");
    is_int(limiter_available(&l, t0 + 1000 * MS), 0, "reserve: the bucket is empty at the last");
}

int main(void)
{
    test_init();
    test_reserve();
    test_steady();
    test_idle_burst();
    test_oversize();
    test_long_runs();
    test_extremes();
    test_windows();
    test_policy();
    return done_testing();
}
