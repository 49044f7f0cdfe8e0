/* limiter.c - the token bucket: exact integer state advanced by `now`.
 *
 * Representation. Time inside the limiter is counted in ticks of 2^-48 ns.
 * limiter_init turns the rate (a double) into `interval`, the ticks one
 * unit takes to accrue: 1e9 * 2^48 / rate, computed exactly from the
 * double's binary value and rounded up, once. That is the only rounding
 * anywhere: ns-per-unit is the fraction interval / 2^48, and every later
 * step adds, subtracts, shifts and divides integers, so 10^9 takes drift
 * by nothing beyond it (under 2^-48 ns per unit, and never faster than the
 * set rate). Rounding up keeps "at most burst + rate*T" true for the rate
 * as given.
 *
 * State. At time `last` (ns) the bucket holds burst - deficit whole units
 * plus partial/interval of the next one; deficit > burst is debt left by a
 * take larger than the burst. Advancing to `now` adds (now - last) * 2^48
 * ticks to `partial` and turns whole intervals into units, capped at a
 * full bucket, where `partial` is dropped: idle time banks no more than
 * the burst. This is GCRA (theoretical arrival time) written as a level,
 * so a burst of 10^12 units at 1/h needs no span of 10^12 hours.
 *
 * Ranges. The burst is floored to whole units and capped at 2^63; the
 * interval is clamped to [1 tick, 2^64 ns] (above 2.8e23/s a unit is one
 * tick; below one unit per 584 years none comes within int64 time). Any
 * int64 `now` works; ready times past INT64_MAX saturate to NS_FOREVER.
 * Intermediates need at most 113 bits (unsigned __int128). A `now` earlier
 * than one already seen counts as that earlier time: time never runs back.
 * Not thread-safe; one thread owns a limiter. */
#include "limiter.h"

#include <errno.h>
#include <math.h>

#include "common.h"

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

#define TICK_SHIFT 48                               /* 2^48 ticks per ns */
#define INTERVAL_MAX ((u128)1 << (64 + TICK_SHIFT)) /* 2^64 ns per unit */
#define BURST_MAX (UINT64_C(1) << 63)
#define U128_MAX (~(u128)0)

/* 1e9 * 2^48 / rate ticks, rounded up, clamped to [1, INTERVAL_MAX]. The
 * rate is m * 2^(e-53) exactly with m < 2^53, so the interval is
 * 1e9 * 2^s / m with s = 48 + 53 - e: long division by m, one bit of s at a
 * time, stopping as soon as the quotient passes the clamp. */
static u128 interval_of(double rate)
{
    if (isinf(rate))
        return 1;
    int e;
    double f = frexp(rate, &e); /* rate = f * 2^e, 0.5 <= f < 1 */
    double mant = ldexp(f, 53); /* an integer below 2^53 */
    uint64_t m = (uint64_t)mant;
    int s = TICK_SHIFT + 53 - e;
    if (s < 0) /* rate > 2^100/s: m * 2^-s > 1e9, under one tick */
        return 1;
    u128 q = (uint64_t)NS_PER_SEC / m;
    uint64_t r = (uint64_t)NS_PER_SEC % m;
    for (int i = 0; i < s; i++) {
        q <<= 1;
        r <<= 1; /* r < m < 2^53: no overflow */
        if (r >= m) {
            r -= m;
            q++;
        }
        if (q >= INTERVAL_MAX)
            return INTERVAL_MAX;
    }
    if (r)
        q++;
    return q < 1 ? 1 : q;
}

/* Accrues the time from l->last to now. */
static void advance(struct limiter *l, int64_t now)
{
    if (now <= l->last)
        return;
    if (l->deficit == 0) { /* full: idle time banks nothing */
        l->last = now;
        return;
    }
    /* 0 < now - last < 2^64, exact in unsigned arithmetic */
    u128 elapsed = (uint64_t)now - (uint64_t)l->last;
    u128 acc = l->partial + (elapsed << TICK_SHIFT); /* < 2^113 */
    u128 whole;
    if (acc < l->interval) /* the common cases, without a 128-bit divide */
        whole = 0;
    else if (acc - l->interval < l->interval)
        whole = 1;
    else
        whole = acc / l->interval;
    if (whole >= l->deficit) {
        l->deficit = 0;
        l->partial = 0;
    } else {
        l->deficit -= (uint64_t)whole;
        l->partial = acc - whole * l->interval;
    }
    l->last = now;
}

int limiter_init(struct limiter *l, double rate_per_s, double burst, int64_t now)
{
    if (!(rate_per_s > 0) || !(burst >= 1)) /* also refuses NaN */
        return -EINVAL;
    l->interval = interval_of(rate_per_s);
    l->partial = 0;
    l->burst = burst >= (double)BURST_MAX ? BURST_MAX : (uint64_t)burst;
    l->deficit = 0;
    l->last = now;
    return 0;
}

uint64_t limiter_available(const struct limiter *l, int64_t now)
{
    struct limiter s = *l;
    advance(&s, now);
    return s.deficit >= s.burst ? 0 : s.burst - s.deficit;
}

int64_t limiter_ready(const struct limiter *l, int64_t now, uint64_t n)
{
    struct limiter s = *l;
    advance(&s, now);
    /* a take of n <= burst needs n units; a larger one, a full bucket */
    uint64_t allowed = s.burst - MIN(n, s.burst); /* deficit that admits it */
    if (s.deficit <= allowed)
        return s.last;
    uint64_t units = s.deficit - allowed; /* whole units still to accrue */
    if (units > U128_MAX / s.interval)
        return NS_FOREVER;
    u128 ticks = units * s.interval - s.partial; /* > 0: partial < interval */
    u128 ns = (ticks >> TICK_SHIFT) + ((ticks & (((u128)1 << TICK_SHIFT) - 1)) != 0);
    i128 at = (i128)s.last + (i128)ns; /* ns < 2^80 */
    return at >= NS_FOREVER ? NS_FOREVER : (int64_t)at;
}

void limiter_take(struct limiter *l, int64_t now, uint64_t n)
{
    advance(l, now);
    l->deficit = n > UINT64_MAX - l->deficit ? UINT64_MAX : l->deficit + n;
}
