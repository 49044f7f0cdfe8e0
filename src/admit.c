/* admit.c - rate limiters, policy and queue push for fresh records; see
 * admit.h. Only the intake thread calls admit_batch; the figures are
 * atomic for the threads that read them, the overload is the run's. */
#include "admit.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "batch.h"
#include "common.h"
#include "limiter.h"
#include "queue.h"
#include "report.h"
#include "run.h"
#include "shed.h"

struct admit {
    struct admit_config cfg;
    struct limiter records; /* --rate bucket, when cfg.rate > 0 */
    struct limiter bytes;   /* --byte-rate bucket, when cfg.byte_rate > 0 */
    _Atomic uint64_t wait_ns, waits;
    uint64_t grace_spent; /* queue_idle_events when the drop grace last ran out */
};

static int64_t real_now(void *ctx)
{
    (void)ctx;
    return now_ns();
}

static void real_sleep_until(void *ctx, int64_t deadline)
{
    run_sleep_until(ctx, deadline);
}

struct admit *admit_new(const struct admit_config *cfg)
{
    struct admit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    if (!cfg->now) {
        a->cfg.now = real_now;
        a->cfg.sleep_until = real_sleep_until;
        a->cfg.ctx = cfg->run;
    }
    a->grace_spent = UINT64_MAX;
    int64_t now = a->cfg.now(a->cfg.ctx);
    /* cli.c has checked rate > 0 and burst >= 1 */
    if (cfg->rate > 0)
        limiter_init(&a->records, cfg->rate, cfg->burst, now);
    if (cfg->byte_rate > 0)
        limiter_init(&a->bytes, cfg->byte_rate, cfg->byte_burst, now);
    return a;
}

void admit_free(struct admit *a)
{
    free(a);
}

void admit_figures(struct admit *a, struct admit_figures *out)
{
    out->limiter_wait_ns = atomic_load_explicit(&a->wait_ns, memory_order_relaxed);
    out->limiter_waits = atomic_load_explicit(&a->waits, memory_order_relaxed);
}

/* Whether intake must stop, and what records not admitted count as. */
static bool stopped(struct admit *a, enum outcome *as)
{
    *as = policy_shed_outcome(a->cfg.policy);
    return run_stopped(a->cfg.run, as);
}

/* What record b that cannot be admitted counts as; its reason is set. */
static enum outcome refused(struct admit *a, struct batch *b)
{
    enum outcome as;
    if (stopped(a, &as) && !run_has(a->cfg.run, RUN_OVERLOAD)) /* fail's own stop: full */
        b->reason = REASON_STOPPED;
    else
        b->reason = a->cfg.policy == POLICY_TIMEOUT ? REASON_DEADLINE : REASON_QUEUE_FULL;
    return as;
}

/* The fewest tokens worth waiting for: admitting one record per token as
 * they trickle in would wake intake for every record, so a short slice
 * waits for up to 1 ms worth of tokens (never more than the burst, nor
 * than it needs). The bucket's bound is unchanged. */
static uint64_t min_slice(double rate, double burst, uint64_t need)
{
    uint64_t slice = (uint64_t)MAX(1.0, MIN(burst, rate / 1000));
    return MIN(slice, need);
}

/* The head records of b to admit next (1..b->n), and *when they have their
 * tokens (<= now: at once). */
static size_t next_slice(struct admit *a, const struct batch *b, int64_t now, int64_t *when)
{
    size_t k = b->n;
    *when = now;
    if (a->cfg.rate > 0) {
        uint64_t avail = limiter_available(&a->records, now);
        uint64_t least = min_slice(a->cfg.rate, a->cfg.burst, k);
        if (avail < least) {
            k = (size_t)least;
            *when = limiter_ready(&a->records, now, least);
        } else if (avail < k) {
            k = (size_t)avail;
        }
    }
    if (a->cfg.byte_rate > 0) {
        uint64_t avail = limiter_available(&a->bytes, now), sum = 0, all = 0;
        size_t i = 0;
        for (; i < k && sum + batch_rec_size(b, i) <= avail; i++)
            sum += batch_rec_size(b, i);
        if (i < k) {
            for (size_t j = 0; j < k; j++)
                all += batch_rec_size(b, j);
            uint64_t least = min_slice(a->cfg.byte_rate, a->cfg.byte_burst, all);
            if (sum < least) { /* wait for the fewest records worth `least` bytes */
                for (; sum < least; i++)
                    sum += batch_rec_size(b, i);
                *when = MAX(*when, limiter_ready(&a->bytes, now, sum));
            }
            k = i;
        }
    }
    return k;
}

/* Takes h's tokens at `now`, before any wait for them: a bucket that is
 * short goes into debt, repaid by the time next_slice said. */
static void take_tokens(struct admit *a, const struct batch *h, int64_t now)
{
    if (a->cfg.rate > 0)
        limiter_take(&a->records, now, h->n);
    if (a->cfg.byte_rate > 0)
        limiter_take(&a->bytes, now, h->bytes);
}

/* Passes the rate limiters: returns the head of *bp that has its tokens
 * (NULL when none: shed, stopped or out of memory, with what remains of
 * the batch left in *bp for the caller to shed). */
static struct batch *pass_limiters(struct admit *a, struct batch **bp)
{
    struct batch *b = *bp;
    if (a->cfg.rate <= 0 && a->cfg.byte_rate <= 0) {
        *bp = NULL;
        return b;
    }
    int64_t now = a->cfg.now(a->cfg.ctx), when;
    size_t k = next_slice(a, b, now, &when);
    if (when > now) {
        switch (policy_on_token(a->cfg.policy, b->t_in, when, a->cfg.timeout_ns)) {
        case TOKEN_WAIT:
            break;
        case TOKEN_STOP:
            run_stop(a->cfg.run, RUN_OVERLOAD);
            return NULL;
        case TOKEN_SHED: /* the records behind it would wait even longer */
            b->reason = REASON_NO_TOKEN;
            shed_batch(a->cfg.shed, b, policy_shed_outcome(a->cfg.policy));
            *bp = NULL;
            return NULL;
        }
    }
    struct batch *h = b;
    if (k < b->n) {
        if (!(h = batch_split(b, k))) {
            report_error(a->cfg.rep, "out of memory while admitting records");
            return NULL;
        }
        batch_compact(h); /* on failure it just stays in the big chunk */
    } else {
        *bp = NULL;
    }
    take_tokens(a, h, now);
    if (when > now) {
        atomic_fetch_add_explicit(&a->waits, h->n, memory_order_relaxed);
        a->cfg.sleep_until(a->cfg.ctx, when);
        int64_t waited = a->cfg.now(a->cfg.ctx) - now;
        atomic_fetch_add_explicit(&a->wait_ns, (uint64_t)waited, memory_order_relaxed);
        enum outcome as;
        if (stopped(a, &as)) { /* its tokens are spent: no matter */
            h->reason = REASON_STOPPED;
            shed_batch(a->cfg.shed, h, as);
            return NULL;
        }
    }
    return h;
}

/* Pushes b into the queue, waiting for room as long as the policy allows;
 * returns what was not admitted (NULL when all was). drop's grace is for
 * workers that keep up: once it runs out, it is granted again only after a
 * worker has found the queue empty, so a sustained overload sheds at once
 * instead of holding every read for the grace (and pacing the producer). */
static struct batch *push(struct admit *a, struct batch *b)
{
    uint64_t idle = queue_idle_events(a->cfg.queue);
    bool grace = idle != a->grace_spent;
    int64_t deadline = policy_deadline(a->cfg.policy, b->t_in, a->cfg.timeout_ns, grace);
    queue_push(a->cfg.queue, &b, deadline);
    if (b)
        a->grace_spent = idle;
    enum outcome as;
    if (b && a->cfg.policy == POLICY_DROP_OLDEST && !stopped(a, &as)) {
        struct batch *evicted;
        int rc = queue_push_evict(a->cfg.queue, b, &evicted);
        shed_list(a->cfg.shed, evicted, OUTCOME_DROPPED, REASON_QUEUE_FULL);
        if (rc == 0)
            b = NULL;
    }
    return b;
}

bool admit_batch(struct admit *a, struct batch *b)
{
    enum outcome as;
    while (b && !stopped(a, &as)) {
        struct batch *go = pass_limiters(a, &b);
        if (!go)
            break;
        struct batch *rest = push(a, go);
        if (rest) {
            if (a->cfg.policy == POLICY_FAIL && !stopped(a, &as))
                run_stop(a->cfg.run, RUN_OVERLOAD);
            shed_batch(a->cfg.shed, rest, refused(a, rest));
        }
    }
    if (b) /* not admitted: overload, a stop, or no memory to split */
        shed_batch(a->cfg.shed, b, refused(a, b));
    return !stopped(a, &as);
}
