/* test_admit.c - admission driven by a fake clock: every policy against a
 * full queue and a late token, interruption, and the achieved rate with
 * late wake-ups (weir(1), POLICIES and RATE LIMITING). The fake sleep
 * advances the fake clock to its deadline plus a lateness, as a real
 * wake-up would; the queue's own waits (room under timeout and drop) run
 * on the monotonic clock, so those tests give records a read time in the
 * past (no wait) or far in the future (ample wait). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "admit.h"
#include "batch.h"
#include "common.h"
#include "queue.h"
#include "report.h"
#include "run.h"
#include "shed.h"

#include "mkbatch.h"
#include "tap.h"

struct fake {
    int64_t now;  /* the fake clock */
    int64_t late; /* how late each sleep wakes up */
    int sleeps;
    int stop_after;  /* stop the run after this many sleeps (0: never) */
    struct run *run; /* stopped then, as by a signal */
};

static int64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t deadline)
{
    struct fake *f = ctx;
    f->sleeps++;
    if (deadline > f->now)
        f->now = deadline + f->late;
    if (f->stop_after && f->sleeps >= f->stop_after)
        run_stop_signal(f->run, SIGINT);
}

struct rig {
    struct fake f;
    struct reporter rep;
    struct queue *q;
    struct shed *shed;
    struct admit *a;
};

static void rig_open(struct rig *r, enum policy pol, size_t capacity, double rate, double burst)
{
    memset(r, 0, sizeof *r);
    r->f.now = 1000 * NS_PER_SEC;
    r->q = queue_new(capacity, SIZE_MAX, 4);
    run_new(&r->f.run);
    r->shed = shed_new(NULL, NULL, &r->rep, NULL);
    struct admit_config c = {
        .policy = pol,
        .timeout_ns = 200 * NS_PER_MS,
        .rate = rate,
        .burst = burst,
        .queue = r->q,
        .shed = r->shed,
        .rep = &r->rep,
        .now = fake_now,
        .sleep_until = fake_sleep,
        .run = r->f.run,
        .ctx = &r->f,
    };
    r->a = admit_new(&c);
}

/* Pops everything queued: the count, and the first record's number. */
static size_t drain(struct rig *r, uint64_t *first)
{
    size_t n = 0;
    struct batch *b;
    *first = 0;
    while (queue_trypop(r->q, 0, &b) == 0) {
        if (n == 0)
            *first = rec_value(b, 0);
        n += b->n;
        batch_free(b);
        queue_release(r->q);
    }
    return n;
}

static void rig_close(struct rig *r)
{
    uint64_t first;
    drain(r, &first);
    admit_free(r->a);
    shed_free(r->shed);
    queue_free(r->q);
    run_free(r->f.run);
}

/* A batch of n records, read `age` ns ago on the monotonic clock (the
 * queue's) and at the fake now. */
static struct batch *fresh(struct rig *r, uint64_t first, size_t n, int64_t age)
{
    struct batch *b = mk(first, n, 4);
    b->t_in = now_ns() - age;
    (void)r;
    return b;
}

static void test_full_queue(void)
{
    static const struct {
        enum policy pol;
        enum outcome as;
        uint64_t first; /* first record left in the queue */
        const char *name;
    } cases[] = {
        {POLICY_DROP, OUTCOME_DROPPED, 1, "drop sheds the newest"},
        {POLICY_DROP_OLDEST, OUTCOME_DROPPED, 7, "drop-oldest evicts the oldest"},
        {POLICY_TIMEOUT, OUTCOME_TIMED_OUT, 1, "timeout sheds after the wait"},
        {POLICY_FAIL, OUTCOME_FAILED, 1, "fail stops"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rig r;
        rig_open(&r, cases[i].pol, 4, 0, 0);
        bool go = admit_batch(r.a, fresh(&r, 1, 10, NS_PER_SEC)); /* waits are over */
        uint64_t first;
        is_int(drain(&r, &first), 4, "%s: the queue holds its capacity", cases[i].name);
        is_int(first, cases[i].first, "%s: first record queued", cases[i].name);
        is_int(shed_count(r.shed, cases[i].as), 6, "%s: 6 records shed as the policy says",
               cases[i].name);
        ok(go == (cases[i].pol != POLICY_FAIL), "%s: intake goes on unless fail", cases[i].name);
        ok(run_has(r.f.run, RUN_OVERLOAD) == (cases[i].pol == POLICY_FAIL), "%s: overload flag",
           cases[i].name);
        rig_close(&r);
    }
}

/* The grace: drop waits for room while the workers take their turn. */
static void test_drop_grace(void)
{
    struct rig r;
    rig_open(&r, POLICY_DROP, 4, 0, 0);
    int64_t t0 = now_ns();
    admit_batch(r.a, fresh(&r, 1, 10, 0));
    ok(now_ns() - t0 >= POLICY_DROP_GRACE_NS, "drop: a full queue gets the grace before shedding");
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 6, "drop: then sheds what still does not fit");
    rig_close(&r);
}

static void *consumer(void *arg)
{
    struct rig *r = arg;
    struct batch *b;
    while (queue_pop(r->q, 0, &b) == 0) {
        batch_free(b);
        queue_release(r->q);
    }
    return NULL;
}

static void *pop_once(void *arg)
{
    struct rig *r = arg;
    struct batch *b;
    if (queue_pop(r->q, 0, &b) == 0) {
        batch_free(b);
        queue_release(r->q);
    }
    return NULL;
}

/* A sustained overload: once the grace has run out, a full queue sheds at
 * once, until a worker finds the queue empty (it has caught up). */
static void test_drop_overload_sheds_at_once(enum policy pol, const char *name)
{
    struct rig r;
    rig_open(&r, pol, 4, 0, 0);
    admit_batch(r.a, fresh(&r, 1, 10, 0)); /* spends the grace */
    int64_t t0 = now_ns();
    for (int i = 0; i < 50; i++) /* with the grace each would take 5 ms */
        admit_batch(r.a, fresh(&r, 11, 10, 0));
    ok(now_ns() - t0 < 50 * POLICY_DROP_GRACE_NS / 2,
       "%s: a full queue after the grace ran out sheds at once (50 reads in %.1f ms)", name,
       (double)(now_ns() - t0) / NS_PER_MS);
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 506, "%s: 6 + 50 x 10 records shed", name);
    uint64_t first;
    drain(&r, &first);
    uint64_t idle = queue_idle_events(r.q);
    pthread_t t;
    pthread_create(&t, NULL, pop_once, &r);
    while (queue_idle_events(r.q) == idle)
        sched_yield();
    t0 = now_ns();
    admit_batch(r.a, fresh(&r, 21, 12, 0));
    pthread_join(t, NULL);
    ok(now_ns() - t0 >= POLICY_DROP_GRACE_NS, "%s: a worker found the queue empty: grace again",
       name);
    rig_close(&r);
}

static void test_drop_burst_absorbed(void)
{
    struct rig r;
    rig_open(&r, POLICY_DROP, 16, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, consumer, &r);
    /* read "in the future": the grace lasts a second, ample for a worker */
    for (int i = 0; i < 20; i++)
        admit_batch(r.a, fresh(&r, 1, 500, -NS_PER_SEC));
    queue_close(r.q);
    pthread_join(t, NULL);
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 0,
           "drop: bursts of 500 into a queue of 16 that a worker drains lose nothing");
    rig_close(&r);
}

static void test_late_token(void)
{
    struct rig r;
    rig_open(&r, POLICY_DROP, 100, 10, 1);
    struct batch *b = fresh(&r, 1, 5, 0);
    b->t_in = r.f.now;
    admit_batch(r.a, b);
    uint64_t first;
    is_int(drain(&r, &first), 1, "drop, 10/s burst 1: one record has its token");
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 4, "drop: the others are shed at once");
    is_int(r.f.sleeps, 0, "drop: no wait for a token");
    rig_close(&r);

    rig_open(&r, POLICY_TIMEOUT, 100, 10, 1); /* tokens 100 ms apart, timeout 200 ms */
    b = fresh(&r, 1, 4, 0);
    b->t_in = r.f.now;
    admit_batch(r.a, b);
    is_int(drain(&r, &first), 3, "timeout: tokens within 200 ms are waited for (0, 100, 200 ms)");
    is_int(shed_count(r.shed, OUTCOME_TIMED_OUT), 1, "timeout: the one at 300 ms is shed at once");
    is_int(r.f.sleeps, 2, "timeout: two waits");
    rig_close(&r);

    rig_open(&r, POLICY_FAIL, 100, 10, 1);
    b = fresh(&r, 1, 3, 0);
    b->t_in = r.f.now;
    ok(admit_batch(r.a, b), "fail, timeout 200 ms, tokens 100 ms apart: all wait, intake goes on");
    is_int(shed_count(r.shed, OUTCOME_FAILED), 0, "fail: nothing failed");
    rig_close(&r);
}

static void test_fail_on_token(void)
{
    struct rig r;
    rig_open(&r, POLICY_FAIL, 100, 1, 1);
    struct batch *b = fresh(&r, 1, 3, 0);
    b->t_in = r.f.now;
    ok(!admit_batch(r.a, b), "fail, 1/s: the second token is 1 s away (> 200 ms): stop");
    ok(run_has(r.f.run, RUN_OVERLOAD), "fail: overload flagged");
    is_int(shed_count(r.shed, OUTCOME_FAILED), 2, "fail: the records without a token fail");
    rig_close(&r);
}

static void test_interrupted(void)
{
    struct rig r;
    rig_open(&r, POLICY_BLOCK, 100, 10, 1);
    r.f.stop_after = 1; /* a signal comes during the first wait */
    ok(!admit_batch(r.a, fresh(&r, 1, 5, 0)), "block: a stop during a token wait ends intake");
    uint64_t first;
    is_int(drain(&r, &first), 1, "block: the record with its token was admitted");
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 4, "block: the rest is shed as dropped");
    rig_close(&r);
}

/* Each wake-up is `late` (less than a token's interval: later ones mean
 * the bucket was full, and a bucket of 1 banks no more); the achieved rate
 * must still be the set rate. */
static void test_rate_with_late_wakeups(double rate, int64_t late, int n)
{
    struct rig r;
    rig_open(&r, POLICY_BLOCK, 100000, rate, 1);
    r.f.late = late;
    int64_t start = r.f.now;
    for (int i = 0; i < n; i++) {
        admit_batch(r.a, fresh(&r, (uint64_t)i + 1, 1, 0));
        uint64_t first;
        drain(&r, &first);
    }
    double want = (n - 1) / rate, got = (double)(r.f.now - start) / 1e9;
    ok(got <= want * 1.001 + (double)late / 1e9,
       "%.0f/s burst 1, wake-ups %" PRId64 " us late: %d records in %.4f s (want %.4f)", rate,
       late / 1000, n, got, want);
    is_int(shed_count(r.shed, OUTCOME_DROPPED), 0, "block: nothing shed");
    rig_close(&r);
}

static void test_byte_rate(void)
{
    struct rig r;
    memset(&r, 0, sizeof r);
    r.f.now = 1000 * NS_PER_SEC;
    r.q = queue_new(1000, SIZE_MAX, 4);
    run_new(&r.f.run);
    r.shed = shed_new(NULL, NULL, &r.rep, NULL);
    struct admit_config c = {
        .policy = POLICY_BLOCK,
        .byte_rate = 1000,
        .byte_burst = 100,
        .queue = r.q,
        .shed = r.shed,
        .rep = &r.rep,
        .now = fake_now,
        .sleep_until = fake_sleep,
        .run = r.f.run,
        .ctx = &r.f,
    };
    r.a = admit_new(&c);
    int64_t start = r.f.now;
    admit_batch(r.a, fresh(&r, 1, 50, 0)); /* 50 records of 5 bytes */
    uint64_t first;
    is_int(drain(&r, &first), 50, "byte rate: all admitted");
    is_int(r.f.now - start, 150 * NS_PER_MS, "byte rate 1000/s, burst 100: 250 bytes in 150 ms");
    struct admit_figures af;
    admit_figures(r.a, &af);
    is_int(af.limiter_waits, 30, "byte rate: 30 records waited (the burst took 20)");
    is_int(af.limiter_wait_ns, 150 * NS_PER_MS, "byte rate: the wait is reported");
    rig_close(&r);
}

int main(void)
{
    test_full_queue();
    test_drop_grace();
    test_drop_burst_absorbed();
    test_drop_overload_sheds_at_once(POLICY_DROP, "drop");
    test_drop_overload_sheds_at_once(POLICY_DROP_OLDEST, "drop-oldest");
    test_late_token();
    test_fail_on_token();
    test_interrupted();
    test_rate_with_late_wakeups(200, 80 * 1000, 400);
    test_rate_with_late_wakeups(1000, 80 * 1000, 2000);
    test_rate_with_late_wakeups(200, 1000 * 1000, 400);
    test_byte_rate();
    return done_testing();
}
