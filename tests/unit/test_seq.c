/* test_seq.c - the sequencer between the workers and stdout (seq.h):
 * ordered mode hands batches out in piece order whatever order workers
 * finish in, unordered mode in completion order; a put hands back a batch
 * only to a worker that thereby becomes the one writer; giving the role
 * back never strands a batch. Threaded tests run the real arrangement:
 * workers pop from a queue, deliver here, and whoever writes releases the
 * queue's in-flight slot. A watchdog alarm ends a hung run. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "queue.h"
#include "seq.h"
#include "tap.h"

static struct batch *mkpiece(uint64_t piece)
{
    struct chunk *c = chunk_new(NULL, 8);
    struct batch *b = batch_new(c, 1);
    chunk_unref(c);
    b->piece = piece;
    return b;
}

/* Puts b; renders what comes back: the piece number, or -1 for NULL. */
static long long put(struct seq *s, uint64_t piece)
{
    struct batch *w = seq_put(s, mkpiece(piece));
    if (!w)
        return -1;
    long long got = (long long)w->piece;
    batch_free(w);
    return got;
}

static long long next(struct seq *s, bool release)
{
    struct batch *w = seq_next(s, release);
    if (!w)
        return -1;
    long long got = (long long)w->piece;
    batch_free(w);
    return got;
}

static void test_ordered(void)
{
    struct seq *s = seq_new(4, true);
    ok(s != NULL, "seq_new");
    is_int(next(s, true), -1, "ordered, empty: nothing to write");
    is_int(put(s, 1), -1, "piece 1 before piece 0: nothing ready, no writer role");
    is_int(put(s, 0), 0, "piece 0: ready, the putter becomes the writer and gets it");
    is_int(next(s, false), 1, "the writer then gets piece 1");
    is_int(next(s, false), -1, "piece 2 not there: nothing (role kept)");
    is_int(put(s, 3), -1, "piece 3 while someone writes: not handed out");
    is_int(put(s, 2), -1, "piece 2 while someone writes: not handed out either");
    is_int(next(s, false), 2, "the writer gets piece 2");
    is_int(next(s, true), 3, "and piece 3");
    is_int(next(s, true), -1, "nothing more: the role is given back");
    is_int(put(s, 5), -1, "piece 5 before 4: nobody gets the role");
    is_int(put(s, 4), 4, "piece 4 (ring wrapped): its putter becomes the writer");
    is_int(next(s, true), 5, "then 5");
    is_int(next(s, true), -1, "then nothing, role given back");
    is_int(put(s, 6), 6, "the next ready piece takes the free role at once");
    is_int(next(s, true), -1, "role given back");
    seq_free(s);
    seq_free(NULL);
}

static void test_unordered(void)
{
    struct seq *s = seq_new(4, false);
    is_int(next(s, true), -1, "unordered, empty: nothing");
    is_int(put(s, 2), 2, "unordered: any piece is ready, its putter writes it");
    is_int(put(s, 0), -1, "while someone writes, a put is queued");
    is_int(put(s, 1), -1, "another put is queued");
    is_int(next(s, false), 0, "the writer gets them in completion order: 0");
    is_int(next(s, false), 1, "then 1");
    is_int(next(s, false), -1, "then nothing (role kept)");
    is_int(put(s, 7), -1, "a put while the role is kept is not handed out");
    is_int(next(s, true), 7, "the writer gets it");
    is_int(next(s, true), -1, "role given back");
    is_int(put(s, 3), 3, "the role is free again");
    is_int(next(s, true), -1, "role given back");
    seq_free(s);
}

static void test_free(void)
{
    /* batches never written are freed by seq_free (leak-checked under ASan) */
    struct seq *s = seq_new(4, true);
    is_int(put(s, 1), -1, "ordered: piece 1 waits for 0");
    is_int(put(s, 2), -1, "and piece 2");
    seq_free(s);
    s = seq_new(4, false);
    is_int(put(s, 1), 1, "unordered: first put writes");
    is_int(put(s, 0), -1, "second put is queued");
    seq_free(s);
    ok(1, "seq_free frees the batches it still holds");
}

/* ---- several threads delivering, as the workers do --------------------- */

struct out {
    atomic_int writers; /* role holders right now: must stay <= 1 */
    atomic_int overlap; /* set if two ever wrote at once */
    uint64_t *log;      /* pieces in the order written (role holder only) */
    size_t n, cap;
};

/* The worker's side of the protocol: put; while handed a batch, write it
 * and ask for the next; give the role back when nothing is ready. */
static void deliver(struct seq *s, struct batch *b, struct out *o, struct queue *q)
{
    struct batch *w = seq_put(s, b);
    while (w) {
        if (atomic_fetch_add(&o->writers, 1) != 0)
            atomic_store(&o->overlap, 1);
        if (o->n < o->cap)
            o->log[o->n] = w->piece;
        o->n++;
        atomic_fetch_sub(&o->writers, 1);
        batch_free(w);
        if (q)
            queue_release(q);
        w = seq_next(s, false);
        if (!w)
            w = seq_next(s, true);
    }
}

/* Checks the log: every piece 0..n-1 once, and in order when ordered. */
static void check_log(const struct out *o, size_t n, bool ordered, const char *what)
{
    unsigned char *seen = calloc(n, 1);
    size_t in_order = 0, once = 0;
    for (size_t i = 0; i < o->n && i < o->cap; i++) {
        if (o->log[i] < n)
            seen[o->log[i]]++;
        in_order += o->log[i] == i;
    }
    for (size_t i = 0; i < n; i++)
        once += seen[i] == 1;
    is_int(o->n, n, "%s: every piece written", what);
    is_int(once, n, "%s: each piece written exactly once", what);
    ok(!atomic_load(&o->overlap), "%s: one writer at a time", what);
    if (ordered)
        is_int(in_order, n, "%s: written in piece order", what);
    else
        printf("# %s: %zu of %zu written in piece order\n", what, in_order, n);
    free(seen);
}

#define PUT_PIECES 64
#define PUT_THREADS 4

struct putter {
    struct seq *s;
    struct out *o;
    int id;
};

static void *putter_main(void *arg)
{
    struct putter *p = arg;
    /* thread i delivers pieces i, i+4, i+8, ... from the highest down */
    for (int k = PUT_PIECES - PUT_THREADS + p->id; k >= 0; k -= PUT_THREADS) {
        deliver(p->s, mkpiece((uint64_t)k), p->o, NULL);
        if (k % 3 == 0)
            sched_yield();
    }
    return NULL;
}

static void test_threads_out_of_order(void)
{
    for (int ordered = 1; ordered >= 0; ordered--) {
        char what[64];
        snprintf(what, sizeof what, "%s, %d threads delivering in reverse",
                 ordered ? "ordered" : "unordered", PUT_THREADS);
        struct seq *s = seq_new(PUT_PIECES, ordered);
        struct out o = {.cap = PUT_PIECES};
        o.log = calloc(o.cap, sizeof *o.log);
        pthread_t t[PUT_THREADS];
        struct putter p[PUT_THREADS];
        for (int i = 0; i < PUT_THREADS; i++) {
            p[i] = (struct putter){s, &o, i};
            pthread_create(&t[i], NULL, putter_main, &p[i]);
        }
        for (int i = 0; i < PUT_THREADS; i++)
            pthread_join(t[i], NULL);
        check_log(&o, PUT_PIECES, ordered, what);
        is_int(next(s, true), -1, "%s: nothing stranded in the sequencer", what);
        free(o.log);
        seq_free(s);
    }
}

/* ---- stress: queue -> workers -> seq -> output ------------------------- */

#define STRESS_BATCHES 20000
#define STRESS_WORKERS 4

struct stress {
    struct queue *q;
    struct seq *s;
    struct out o;
};

struct worker {
    struct stress *st;
    uint64_t rng;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct batch *b;
    while (queue_pop(w->st->q, 0, &b) == 0) {
        /* uneven work: some batches take much longer than others */
        unsigned spins = (unsigned)(xorshift(&w->rng) % 8 == 0 ? 20000 : 50);
        volatile unsigned sink = 0;
        for (unsigned i = 0; i < spins; i++)
            sink += i;
        (void)sink;
        if (xorshift(&w->rng) % 16 == 0)
            sched_yield();
        deliver(w->st->s, b, &w->st->o, w->st->q);
    }
    return NULL;
}

static void *producer_main(void *arg)
{
    struct queue *q = arg;
    struct chunk *c = chunk_new(NULL, 64);
    c->len = 64;
    memset(c->data, '\n', 64);
    for (uint64_t i = 0; i < STRESS_BATCHES; i++) {
        struct batch *b = batch_new(c, 1);
        b->recs[0] = (struct rec){0, 0};
        b->n = 1;
        b->bytes = 1;
        b->recno0 = i + 1;
        queue_push(q, &b, NS_FOREVER);
        batch_free(b); /* NULL: a forever push admits all */
    }
    chunk_unref(c);
    queue_close(q);
    return NULL;
}

static void stress(bool ordered)
{
    char what[64];
    snprintf(what, sizeof what, "stress %s, %d workers, %d batches",
             ordered ? "ordered" : "unordered", STRESS_WORKERS, STRESS_BATCHES);
    size_t inflight = STRESS_WORKERS + 1;
    struct stress st = {
        .q = queue_new(64, 1 << 20, inflight),
        .s = seq_new(inflight, ordered), /* the in-flight bound keeps pieces within the ring */
        .o = {.cap = STRESS_BATCHES},
    };
    st.o.log = calloc(st.o.cap, sizeof *st.o.log);
    pthread_t wt[STRESS_WORKERS], pt;
    struct worker w[STRESS_WORKERS];
    for (int i = 0; i < STRESS_WORKERS; i++) {
        w[i] = (struct worker){&st, UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(i + 1)};
        pthread_create(&wt[i], NULL, worker_main, &w[i]);
    }
    pthread_create(&pt, NULL, producer_main, st.q);
    pthread_join(pt, NULL);
    for (int i = 0; i < STRESS_WORKERS; i++)
        pthread_join(wt[i], NULL);
    check_log(&st.o, STRESS_BATCHES, ordered, what);
    is_int(next(st.s, true), -1, "%s: nothing stranded in the sequencer", what);
    free(st.o.log);
    seq_free(st.s);
    queue_free(st.q);
}

int main(void)
{
    alarm(300); /* watchdog: a hung wait fails the test instead of hanging prove */
    test_ordered();
    test_unordered();
    test_free();
    test_threads_out_of_order();
    stress(true);
    stress(false);
    return done_testing();
}
