/* test_queue.c - the bounded queue between intake and the workers
 * (queue.h): both bounds hold, an empty queue takes one big record, a
 * push admits the prefix that fits, deadlines are honoured, drop-oldest
 * evicts exactly the oldest, close drains and abort stops, the in-flight
 * bound holds, batches are numbered in pop order; and under many threads
 * every record comes out exactly once.
 *
 * Records are made here: record number k has the payload k in decimal,
 * zero-padded to the record's width, so every record can be identified
 * after splits. Waits use sleeps only to let a thread reach its blocking
 * call; no outcome depends on them. A watchdog alarm ends a hung run. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "mkbatch.h"
#include "queue.h"
#include "tap.h"

/* The record numbers of a list of batches linked by ->next, as "1,2,3";
 * "?" marks a record whose payload does not match recno0 + i. */
static void render(const struct batch *b, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (; b; b = b->next) {
        for (size_t i = 0; i < b->n && at < len; i++) { /* stops when buf is full */
            uint64_t v = rec_value(b, i);
            int w = snprintf(buf + at, len - at, "%s%" PRIu64 "%s", at ? "," : "", v,
                             v == b->recno0 + i ? "" : "?");
            at += (size_t)w;
        }
    }
}

static void free_list(struct batch *b)
{
    while (b) {
        struct batch *next = b->next;
        batch_free(b);
        b = next;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Joins t. If it is still blocked after a generous 30 s (a wake-up was
 * lost), fails, aborts q to set it free, and joins it then: a clear
 * failure rather than a hung suite. */
static void join(pthread_t t, struct queue *q, const char *what)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 30;
    if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
        ok(0, "%s: the thread is still blocked after 30 s", what);
        queue_abort(q);
        pthread_join(t, NULL);
    }
}

/* Pops one batch (no limit) and checks it holds `want`; releases it. */
static void pop_is(struct queue *q, size_t max, const char *want, const char *what)
{
    struct batch *b = NULL;
    char got[512];
    int rc = queue_pop(q, max, &b);
    if (rc) {
        ok(0, "%s: pop returned %d", what, rc);
        return;
    }
    render(b, got, sizeof got);
    is_str(got, want, "%s", what);
    batch_free(b);
    queue_release(q);
}

static void test_push_pop(void)
{
    struct queue *q = queue_new(10, 1 << 20, 10);
    ok(q != NULL, "queue_new");
    struct batch *b = mk(1, 3, 3);
    is_int(queue_push(q, &b, 0), 3, "push 3 records into an empty queue: all admitted");
    ok(b == NULL, "fully admitted: the caller's pointer is cleared");
    b = NULL;
    is_int(queue_pop(q, 0, &b), 0, "pop");
    char got[64];
    render(b, got, sizeof got);
    is_str(got, "1,2,3", "pop returns the pushed records");
    is_int(b->piece, 0, "first popped batch is piece 0");
    ok(b->next == NULL, "a popped batch is unlinked");
    batch_free(b);
    queue_release(q);
    queue_free(q);
    queue_free(NULL);
}

static void test_prefix(void)
{
    struct queue *q = queue_new(5, 1 << 20, 10);
    struct batch *b = mk(1, 3, 3);
    queue_push(q, &b, 0);
    b = mk(4, 4, 3);
    struct batch *mine = b;
    is_int(queue_push(q, &b, 0), 2, "record bound 5, 3 queued: a push of 4 admits 2");
    ok(b == mine, "the rest stays with the caller in the same batch");
    char got[64];
    render(b, got, sizeof got);
    is_str(got, "6,7", "the rest is the tail: records 6 and 7");
    is_int(b->recno0, 6, "the rest starts at record 6");
    is_int(b->bytes, 8, "the rest's bytes are its two records");

    struct batch *c = mk(99, 1, 3);
    struct batch *c0 = c;
    is_int(queue_push(q, &c, 0), 0, "a full queue admits nothing with deadline 0");
    ok(c == c0 && c->n == 1, "nothing admitted: the batch is left whole");
    int64_t past = now_ns() - NS_PER_SEC;
    is_int(queue_push(q, &c, past), 0, "a deadline in the past does not wait either");
    batch_free(c);

    pop_is(q, 0, "1,2,3", "pop: the first batch");
    pop_is(q, 0, "4,5", "pop: the admitted prefix");
    is_int(queue_push(q, &b, 0), 2, "after the pops the rest fits");
    pop_is(q, 0, "6,7", "pop: the rest");
    queue_free(q);
}

static void test_byte_bound(void)
{
    /* 100 records but 10 bytes: records of 3 + '\n' = 4 bytes */
    struct queue *q = queue_new(100, 10, 10);
    struct batch *b = mk(1, 3, 3);
    is_int(queue_push(q, &b, 0), 2, "byte bound 10: of three 4-byte records two fit");
    ok(b && b->n == 1 && b->recno0 == 3, "the third stays with the caller");
    is_int(queue_push(q, &b, 0), 0, "8 of 10 bytes queued: a 4-byte record does not fit");
    pop_is(q, 0, "1,2", "pop the two");
    is_int(queue_push(q, &b, 0), 1, "now it fits");
    pop_is(q, 0, "3", "pop it");

    /* exactly at the bound is allowed */
    b = mk(10, 2, 4); /* 5 + 5 = 10 bytes */
    is_int(queue_push(q, &b, 0), 2, "records filling the byte bound exactly are admitted");
    pop_is(q, 0, "10,11", "pop them");
    queue_free(q);
}

static void test_oversize_into_empty(void)
{
    struct queue *q = queue_new(100, 10, 10);
    struct batch *b = mk(1, 2, 49); /* 50 bytes each, bound 10 */
    is_int(queue_push(q, &b, 0), 1, "an empty queue takes one record over the byte bound");
    ok(b && b->n == 1, "but only one: the second stays with the caller");
    struct batch *s = mk(7, 1, 3);
    is_int(queue_push(q, &s, 0), 0, "the queue is then full: a small record waits");
    struct batch *p = NULL;
    is_int(queue_pop(q, 0, &p), 0, "pop the big record");
    ok(p && p->n == 1 && p->bytes == 50, "it is whole (50 bytes)");
    batch_free(p);
    queue_release(q);
    is_int(queue_push(q, &b, 0), 1, "empty again: the second big record goes in");
    pop_is(q, 0, "2", "pop the second");
    is_int(queue_push(q, &s, 0), 1, "the small record goes in");
    pop_is(q, 0, "7", "pop it");
    queue_free(q);
}

static void test_deadline(void)
{
    struct queue *q = queue_new(2, 1 << 20, 10);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    b = mk(3, 1, 3);
    int64_t t0 = now_ns();
    long n = queue_push(q, &b, t0 + 50 * NS_PER_MS);
    int64_t waited = now_ns() - t0;
    is_int(n, 0, "a full queue: a push with a deadline admits nothing");
    ok(waited >= 50 * NS_PER_MS, "it waited until the deadline (%.1f ms >= 50 ms)",
       (double)waited / 1e6);
    ok(waited < 30 * NS_PER_SEC, "and returned after it (%.1f ms)", (double)waited / 1e6);
    ok(b != NULL && b->n == 1, "the record stays with the caller");
    batch_free(b);
    queue_free(q);
}

struct popper {
    struct queue *q;
    size_t max;
    int rc;
    struct batch *b;
    atomic_bool done;
};

static void *popper_main(void *arg)
{
    struct popper *p = arg;
    p->rc = queue_pop(p->q, p->max, &p->b);
    atomic_store(&p->done, true);
    return NULL;
}

struct pusher {
    struct queue *q;
    struct batch *b;
    int64_t deadline;
    long admitted;
};

static void *pusher_main(void *arg)
{
    struct pusher *p = arg;
    p->admitted = queue_push(p->q, &p->b, p->deadline);
    return NULL;
}

static void test_forever_released_by_pop(void)
{
    struct queue *q = queue_new(2, 1 << 20, 10);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    struct pusher pu = {.q = q, .b = mk(3, 1, 3), .deadline = NS_FOREVER};
    pthread_t t;
    pthread_create(&t, NULL, pusher_main, &pu);
    sleep_ms(20); /* most likely blocked by now; the outcome is the same if not */
    struct batch *x = NULL;
    is_int(queue_pop(q, 1, &x), 0, "pop one record off the full queue");
    char got[64];
    render(x, got, sizeof got);
    is_str(got, "1", "popped with max_records 1: record 1 only");
    batch_free(x);
    queue_release(q);
    join(t, q, "push released by a pop");
    is_int(pu.admitted, 1, "a NS_FOREVER push on a full queue is admitted once a pop makes room");
    ok(pu.b == NULL, "all of it");
    batch_free(pu.b);
    pop_is(q, 0, "2", "then record 2 (the rest of the split head)");
    pop_is(q, 0, "3", "then the pushed record");
    queue_free(q);
}

static void test_pop_waits_for_push(void)
{
    struct queue *q = queue_new(4, 1 << 20, 10);
    struct popper p = {.q = q};
    pthread_t t;
    pthread_create(&t, NULL, popper_main, &p);
    sleep_ms(20);
    struct batch *b = mk(5, 2, 3);
    is_int(queue_push(q, &b, 0), 2, "push while a popper waits");
    join(t, q, "pop released by a push");
    is_int(p.rc, 0, "the waiting pop returns the batch");
    ok(p.b && p.b->n == 2 && p.b->recno0 == 5, "records 5 and 6");
    batch_free(p.b);
    queue_release(q);

    /* a pop waiting on an empty queue ends with -EPIPE at close */
    struct popper p2 = {.q = q};
    pthread_create(&t, NULL, popper_main, &p2);
    sleep_ms(20);
    queue_close(q);
    join(t, q, "pop released by close");
    is_int(p2.rc, -EPIPE, "close wakes a waiting pop with -EPIPE");
    queue_free(q);
}

static void test_interrupt(void)
{
    struct queue *q = queue_new(1, 1 << 20, 10);
    struct batch *b = mk(1, 1, 3);
    queue_push(q, &b, 0);
    struct pusher p = {.q = q, .b = mk(2, 1, 3), .deadline = NS_FOREVER};
    pthread_t t;
    pthread_create(&t, NULL, pusher_main, &p);
    sleep_ms(20);
    queue_interrupt(q);
    join(t, q, "push released by interrupt");
    is_int(p.admitted, 0, "interrupt: a push blocked on a full queue returns, nothing admitted");
    ok(p.b && p.b->n == 1 && p.b->recno0 == 2, "interrupt: the record stays with the pusher");
    is_int(queue_push(q, &p.b, NS_FOREVER), 0, "after interrupt a NS_FOREVER push does not wait");
    batch_free(p.b);
    pop_is(q, 0, "1", "interrupt does not lose queued records");
    b = mk(3, 1, 3);
    is_int(queue_push(q, &b, NS_FOREVER), 1, "after interrupt a push that fits is still admitted");
    pop_is(q, 0, "3", "and popped");
    queue_free(q);
}

/* queue_room: a source that can leave records where they are waits for
 * room for `want` records, and learns how much there is. */
struct roomer {
    struct queue *q;
    size_t want, records, bytes;
};

static void *roomer_main(void *arg)
{
    struct roomer *r = arg;
    queue_room(r->q, r->want, NS_FOREVER, &r->records, &r->bytes);
    return NULL;
}

static void test_room(void)
{
    struct queue *q = queue_new(4, 1000, 10);
    size_t records, bytes;
    queue_room(q, 2, NS_FOREVER, &records, &bytes);
    ok(records == 4 && bytes == 1000, "room: an empty queue has all its room (%zu, %zu)", records,
       bytes);
    struct batch *b = mk(1, 3, 3);
    queue_push(q, &b, 0);
    queue_room(q, 1, NS_FOREVER, &records, &bytes);
    ok(records == 1 && bytes == 1000 - 12, "room: what is left (%zu records, %zu bytes)", records,
       bytes);
    int64_t t0 = now_ns();
    queue_room(q, 2, now_ns() + 30 * NS_PER_MS, &records, &bytes);
    ok(records == 1 && now_ns() - t0 >= 30 * NS_PER_MS,
       "room: waits until the deadline for room that does not come");
    struct roomer r = {.q = q, .want = 3};
    pthread_t t;
    pthread_create(&t, NULL, roomer_main, &r);
    sleep_ms(20);
    pop_is(q, 1, "1", "room: a pop of one record");
    sleep_ms(20);
    pop_is(q, 1, "2", "room: and another");
    join(t, q, "room released by pops");
    ok(r.records >= 3, "room: the waiter wakes once there is room for what it wants (%zu)",
       r.records);
    b = mk(4, 3, 3);
    queue_push(q, &b, 0);
    r.records = 0;
    pthread_create(&t, NULL, roomer_main, &r);
    sleep_ms(20);
    queue_interrupt(q);
    join(t, q, "room released by interrupt");
    ok(r.records == 0, "room: an interrupt ends the wait with no room");
    queue_free(q);
}

static void test_close_drain(void)
{
    struct queue *q = queue_new(10, 1 << 20, 10);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    b = mk(3, 3, 3);
    queue_push(q, &b, 0);
    queue_close(q);
    b = mk(6, 1, 3);
    is_int(queue_push(q, &b, NS_FOREVER), 0, "after close a push admits nothing, at once");
    ok(b && b->n == 1, "and leaves the batch with the caller");
    batch_free(b);
    pop_is(q, 0, "1,2", "close: queued batches still come out, in order");
    pop_is(q, 2, "3,4", "close: max_records still splits");
    pop_is(q, 0, "5", "close: the last record");
    struct batch *x = NULL;
    is_int(queue_pop(q, 0, &x), -EPIPE, "closed and drained: -EPIPE");
    is_int(queue_pop(q, 0, &x), -EPIPE, "and again -EPIPE");
    queue_free(q);
}

static void test_abort(void)
{
    struct queue *q = queue_new(10, 1 << 20, 10);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    queue_abort(q);
    struct batch *x = NULL;
    is_int(queue_pop(q, 0, &x), -EPIPE, "abort: pops return -EPIPE though batches remain");
    b = mk(3, 1, 3);
    is_int(queue_push(q, &b, NS_FOREVER), 0, "abort: pushes admit nothing and do not wait");
    batch_free(b);
    queue_free(q); /* frees the two queued records (leak-checked under ASan) */

    /* abort wakes a pop waiting on an empty queue, and one waiting for a slot */
    q = queue_new(10, 1 << 20, 1);
    b = mk(1, 1, 3);
    queue_push(q, &b, 0);
    b = mk(2, 1, 3);
    queue_push(q, &b, 0);
    is_int(queue_pop(q, 0, &x), 0, "inflight 1: the first pop");
    struct popper p = {.q = q};
    pthread_t t;
    pthread_create(&t, NULL, popper_main, &p);
    sleep_ms(20);
    queue_abort(q);
    join(t, q, "pop waiting for a slot released by abort");
    is_int(p.rc, -EPIPE, "abort wakes a pop waiting for an in-flight slot with -EPIPE");
    batch_free(x);
    queue_release(q);
    queue_free(q);

    q = queue_new(10, 1 << 20, 4);
    struct popper p2 = {.q = q};
    pthread_create(&t, NULL, popper_main, &p2);
    sleep_ms(20);
    queue_abort(q);
    join(t, q, "pop on an empty queue released by abort");
    is_int(p2.rc, -EPIPE, "abort wakes a pop waiting on an empty queue with -EPIPE");
    queue_free(q);

    /* abort wakes a blocked push */
    q = queue_new(1, 1 << 20, 4);
    b = mk(1, 1, 3);
    queue_push(q, &b, 0);
    struct pusher pu = {.q = q, .b = mk(2, 1, 3), .deadline = NS_FOREVER};
    pthread_create(&t, NULL, pusher_main, &pu);
    sleep_ms(20);
    queue_abort(q);
    join(t, q, "push released by abort");
    is_int(pu.admitted, 0, "abort wakes a blocked push, nothing admitted");
    batch_free(pu.b);
    queue_free(q);
}

static void test_inflight(void)
{
    struct queue *q = queue_new(10, 1 << 20, 2);
    for (uint64_t i = 0; i < 3; i++) {
        struct batch *b = mk(1 + i, 1, 3);
        queue_push(q, &b, 0);
    }
    struct batch *a = NULL, *b = NULL;
    queue_pop(q, 0, &a);
    queue_pop(q, 0, &b);
    struct popper p = {.q = q};
    pthread_t t;
    pthread_create(&t, NULL, popper_main, &p);
    sleep_ms(50);
    ok(!atomic_load(&p.done), "inflight 2: a third pop waits while two batches are out");
    queue_release(q);
    join(t, q, "pop released by queue_release");
    ok(atomic_load(&p.done) && p.rc == 0, "queue_release lets the third pop through");
    ok(p.b && p.b->recno0 == 3 && p.b->piece == 2, "it gets record 3 as piece 2");
    is_int(a->piece, 0, "pieces in pop order: 0");
    is_int(b->piece, 1, "pieces in pop order: 1");
    batch_free(a);
    batch_free(b);
    batch_free(p.b);
    queue_release(q);
    queue_release(q);
    queue_free(q);
}

/* A block (pop_block, for --pipe) joins batches only while their record
 * numbers run on: records missing in between (failed or shed before
 * admission) end it, or the joined block would number its records wrong. */
static void test_pop_block(void)
{
    struct queue *q = queue_new(100, 1 << 20, 10);
    struct batch *in[3] = {mk(1, 3, 3), mk(4, 2, 3), mk(8, 2, 3)}; /* 6 and 7 are missing */
    for (int i = 0; i < 3; i++)
        queue_push(q, &in[i], 0);
    struct batch *b = NULL;
    char got[64];
    queue_pop_block(q, 0, 1 << 20, &b);
    render(b, got, sizeof got);
    is_str(got, "1,2,3,4,5", "the first block: records 1-5, up to the gap");
    free_list(b);
    queue_release(q);
    queue_pop_block(q, 0, 1 << 20, &b);
    render(b, got, sizeof got);
    is_str(got, "8,9", "the next block starts after it");
    free_list(b);
    queue_release(q);
    in[0] = mk(10, 3, 3);
    in[1] = mk(13, 3, 3);
    queue_push(q, &in[0], 0);
    queue_push(q, &in[1], 0);
    queue_pop_block(q, 4, 1 << 20, &b);
    render(b, got, sizeof got);
    is_str(got, "10,11,12,13", "a block of 4 records takes one of the next batch");
    free_list(b);
    queue_release(q);
    queue_pop_block(q, 0, 8, &b);
    render(b, got, sizeof got);
    is_str(got, "14,15", "a block of 8 bytes: two records of 4");
    free_list(b);
    queue_release(q);
    queue_free(q);
}

static void test_pop_split(void)
{
    struct queue *q = queue_new(5, 1 << 20, 10);
    struct batch *b = mk(1, 5, 3);
    queue_push(q, &b, 0);
    struct batch *x[3] = {NULL, NULL, NULL};
    queue_pop(q, 2, &x[0]);
    queue_pop(q, 2, &x[1]);
    queue_pop(q, 0, &x[2]);
    char got[64];
    render(x[0], got, sizeof got);
    is_str(got, "1,2", "pop max 2: records 1-2");
    render(x[1], got, sizeof got);
    is_str(got, "3,4", "pop max 2: records 3-4");
    render(x[2], got, sizeof got);
    is_str(got, "5", "pop no limit: the remaining record 5");
    ok(x[0]->piece == 0 && x[1]->piece == 1 && x[2]->piece == 2,
       "split pops numbered 0 1 2 (got %" PRIu64 " %" PRIu64 " %" PRIu64 ")", x[0]->piece,
       x[1]->piece, x[2]->piece);
    ok(x[0]->bytes == 8 && x[1]->bytes == 8 && x[2]->bytes == 4, "split pops carry their bytes");
    for (int i = 0; i < 3; i++) {
        batch_free(x[i]);
        queue_release(q);
    }
    /* the split pieces gave back their room: all 5 fit again, at once */
    b = mk(6, 5, 3);
    is_int(queue_push(q, &b, 0), 5, "after split pops the queue is empty again");
    queue_free(q);

    /* the open last record keeps its delimiter state through a pop split */
    q = queue_new(10, 1 << 20, 10);
    b = mk(1, 3, 3);
    b->open_end = true;
    b->bytes -= 1;
    queue_push(q, &b, 0);
    queue_pop(q, 2, &x[0]);
    queue_pop(q, 0, &x[1]);
    ok(!x[0]->open_end && x[0]->bytes == 8, "head split of an open batch is closed, 8 bytes");
    ok(x[1]->open_end && x[1]->bytes == 3, "the tail keeps open_end, 3 bytes");
    batch_free(x[0]);
    batch_free(x[1]);
    queue_release(q);
    queue_release(q);
    queue_free(q);
}

static void test_trypop(void)
{
    struct queue *q = queue_new(10, 1 << 20, 2);
    struct batch *x = NULL, *y = NULL, *z = NULL;
    is_int(queue_trypop(q, 0, &x), -EAGAIN, "trypop on an empty queue: -EAGAIN, no wait");
    for (uint64_t i = 0; i < 3; i++) {
        struct batch *b = mk(1 + 2 * i, 2, 3);
        queue_push(q, &b, 0);
    }
    is_int(queue_trypop(q, 1, &x), 0, "trypop with a batch queued");
    ok(x && x->n == 1 && x->recno0 == 1 && x->piece == 0, "trypop max 1: record 1 as piece 0");
    is_int(queue_trypop(q, 0, &y), 0, "trypop again");
    ok(y && y->n == 1 && y->recno0 == 2 && y->piece == 1,
       "the rest of the split: record 2, piece 1");
    is_int(queue_trypop(q, 0, &z), -EAGAIN, "inflight 2 reached: trypop gives -EAGAIN");
    batch_free(x);
    queue_release(q);
    is_int(queue_trypop(q, 0, &z), 0, "after a release trypop gets the next batch");
    ok(z && z->recno0 == 3 && z->n == 2 && z->piece == 2, "records 3-4 as piece 2");
    batch_free(y);
    batch_free(z);
    queue_release(q);
    queue_release(q);
    queue_close(q);
    is_int(queue_trypop(q, 0, &x), 0, "closed: trypop still drains");
    batch_free(x);
    queue_release(q);
    is_int(queue_trypop(q, 0, &x), -EPIPE, "closed and drained: trypop gives -EPIPE");
    queue_free(q);

    q = queue_new(10, 1 << 20, 2);
    struct batch *b = mk(1, 1, 3);
    queue_push(q, &b, 0);
    queue_abort(q);
    is_int(queue_trypop(q, 0, &x), -EPIPE, "aborted: trypop gives -EPIPE");
    queue_free(q);
}

/* A blocked NS_FOREVER push of a batch gets all its records in as pops
 * free room one record at a time. Pops never wait here (trypop), so a
 * lost wake-up shows as a failure at the 30 s deadline, not a hang. */

/* Pops record by record (without blocking) until `want` records came or
 * 30 s passed, releasing each; their renderings go to all, comma-separated.
 * Returns the number of records popped. */
static size_t pop_singly(struct queue *q, size_t want, char *all, size_t len)
{
    size_t got = 0;
    int64_t deadline = now_ns() + 30 * NS_PER_SEC;
    all[0] = '\0';
    while (got < want && now_ns() < deadline) {
        struct batch *b;
        if (queue_trypop(q, 1, &b) != 0) {
            sched_yield();
            continue;
        }
        char one[32];
        render(b, one, sizeof one);
        snprintf(all + strlen(all), len - strlen(all), "%s%s", got ? "," : "", one);
        got += b->n;
        batch_free(b);
        queue_release(q);
    }
    return got;
}

static void test_forever_push_through_pops(void)
{
    struct queue *q = queue_new(4, 1 << 20, 100);
    for (uint64_t i = 1; i <= 4; i++) {
        struct batch *b = mk(i, 1, 3);
        queue_push(q, &b, 0);
    }
    struct pusher pu = {.q = q, .b = mk(5, 3, 3), .deadline = NS_FOREVER};
    pthread_t t;
    pthread_create(&t, NULL, pusher_main, &pu);
    char all[256];
    size_t got = pop_singly(q, 7, all, sizeof all);
    is_str(all, "1,2,3,4,5,6,7", "a blocked batch push is admitted as pops make room, in order");
    if (got < 7)
        queue_interrupt(q); /* let the pusher go before joining it */
    join(t, q, "forever push through pops");
    is_int(pu.admitted, 3, "the blocked push admitted all 3 records");
    ok(pu.b == NULL, "and left nothing with the caller");
    batch_free(pu.b);
    queue_free(q);

    /* bytes: 10-byte bound, a blocked push of two 4-byte records */
    q = queue_new(100, 10, 100);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    struct pusher pb = {.q = q, .b = mk(3, 2, 3), .deadline = NS_FOREVER};
    pthread_create(&t, NULL, pusher_main, &pb);
    got = pop_singly(q, 4, all, sizeof all);
    is_str(all, "1,2,3,4", "a push blocked on the byte bound is admitted as pops free bytes");
    if (got < 4)
        queue_interrupt(q);
    join(t, q, "forever push through pops, byte bound");
    batch_free(pb.b);
    queue_free(q);
}

/* queue_push_evict, then pops everything: "evicted ; queued". */
static void evict_case(struct queue *q, struct batch *b, const char *want_evicted, const char *what)
{
    struct batch *ev = (struct batch *)1;
    int rc = queue_push_evict(q, b, &ev);
    is_int(rc, 0, "%s: push_evict", what);
    char got[256];
    render(ev, got, sizeof got);
    is_str(got, want_evicted, "%s: evicted", what);
    free_list(ev);
}

static void drain_is(struct queue *q, const char *want, const char *what)
{
    char all[512] = "", got[256];
    struct batch *b;
    queue_close(q);
    while (queue_pop(q, 0, &b) == 0) {
        render(b, got, sizeof got);
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? "," : "", got);
        batch_free(b);
        queue_release(q);
    }
    is_str(all, want, "%s", what);
}

static void test_evict(void)
{
    struct queue *q = queue_new(4, 1 << 20, 10);
    struct batch *b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    b = mk(3, 2, 3);
    queue_push(q, &b, 0);
    evict_case(q, mk(5, 1, 3), "1", "full by count, one in: the oldest record goes");
    evict_case(q, mk(6, 3, 3), "2,3,4", "three in: the three oldest go, across batches");
    evict_case(q, mk(9, 1, 3), "5", "one in: the oldest goes from a batch of one");
    drain_is(q, "6,7,8,9", "the freshest four remain, in order");
    queue_free(q);

    q = queue_new(4, 1 << 20, 10);
    evict_case(q, mk(1, 3, 3), "", "room enough: nothing evicted");
    evict_case(q, mk(4, 1, 3), "", "exactly full: nothing evicted");
    drain_is(q, "1,2,3,4", "all four queued");
    queue_free(q);

    /* part of the head batch goes */
    q = queue_new(3, 1 << 20, 10);
    b = mk(1, 3, 3);
    queue_push(q, &b, 0);
    evict_case(q, mk(4, 1, 3), "1", "head batch of three: only its first record goes");
    drain_is(q, "2,3,4", "the rest of the head batch stays");
    queue_free(q);

    /* a batch alone bigger than the queue: its own oldest go too */
    q = queue_new(4, 1 << 20, 10);
    evict_case(q, mk(1, 6, 3), "1,2", "empty queue, 6 in: the batch's 2 oldest go");
    drain_is(q, "3,4,5,6", "the batch's freshest 4 are queued");
    queue_free(q);

    q = queue_new(4, 1 << 20, 10);
    b = mk(1, 2, 3);
    queue_push(q, &b, 0);
    {
        struct batch *ev = NULL;
        is_int(queue_push_evict(q, mk(10, 6, 3), &ev), 0, "queued 1-2, 6 more in: push_evict");
        char got[256];
        render(ev, got, sizeof got);
        /* the same records, whatever the order */
        int has_all = strstr(got, "1") && strstr(got, "2") && strstr(got, "10") &&
                      strstr(got, "11") && strlen(got) == strlen("1,2,10,11");
        ok(has_all, "evicted exactly the queued two and the batch's two oldest (got %s)", got);
        /* the queued records are older than the batch's: they come first,
         * so the rejects file keeps input order */
        is_str(got, "1,2,10,11", "evicted records listed oldest first (input order)");
        free_list(ev);
    }
    drain_is(q, "12,13,14,15", "the freshest four remain");
    queue_free(q);

    /* byte bound: 12 bytes, 4-byte records */
    q = queue_new(100, 12, 10);
    b = mk(1, 3, 3);
    queue_push(q, &b, 0);
    evict_case(q, mk(4, 1, 3), "1", "full by bytes: one 4-byte record out for one in");
    evict_case(q, mk(5, 1, 7), "2,3", "an 8-byte record in: two 4-byte records out");
    drain_is(q, "4,5", "what remains fits the byte bound");
    queue_free(q);

    /* byte bound, a batch alone over it: its oldest go, at least one stays */
    q = queue_new(100, 12, 10);
    evict_case(q, mk(1, 5, 3), "1,2", "20 bytes into 12: the two oldest go");
    drain_is(q, "3,4,5", "12 bytes remain");
    queue_free(q);
    q = queue_new(100, 12, 10);
    evict_case(q, mk(1, 2, 19), "1", "two 20-byte records into 12: one goes");
    drain_is(q, "2", "one oversize record stays (an empty queue takes one)");
    queue_free(q);
}

static void test_stats(void)
{
    struct queue *q = queue_new(8, 1 << 20, 10);
    struct queue_stats st;
    queue_stats(q, &st);
    is_int(st.max_records, 0, "stats: a new queue has max 0");
    ok(st.mean_records == 0, "stats: a new queue has mean 0 (%g)", st.mean_records);
    struct batch *b = mk(1, 3, 3);
    queue_push(q, &b, 0);
    b = mk(4, 2, 3);
    queue_push(q, &b, 0);
    pop_is(q, 0, "1,2,3", "stats: pop");
    b = mk(6, 1, 3);
    queue_push(q, &b, 0);
    queue_stats(q, &st);
    is_int(st.max_records, 5, "stats: max is the deepest the queue has been (5)");
    ok(st.mean_records >= 0 && st.mean_records <= 5, "stats: 0 <= mean %g <= max", st.mean_records);
    ok(st.full_share >= 0 && st.full_share <= 1, "stats: full share %g in [0, 1]", st.full_share);
    b = mk(7, 5, 3);
    queue_push(q, &b, 0);
    queue_stats(q, &st);
    is_int(st.max_records, 8, "stats: filled to capacity, max 8");
    ok(st.mean_records <= 8 && st.full_share <= 1, "stats: mean %g <= 8", st.mean_records);
    queue_free(q);
}

/* ---- stress: 1 producer, 4 consumers ---------------------------------- */

#define STRESS_RECORDS 200000
#define STRESS_WIDTH 6
#define STRESS_CONSUMERS 4

struct logent {
    uint64_t piece, recno0;
    size_t n;
};

struct stress {
    struct queue *q;
    struct chunk *chunk;
    unsigned char *seen;  /* times each record was popped (atomic adds) */
    atomic_int bad_value; /* a record whose payload is not recno0 + i */
    atomic_size_t npop;
    struct logent *log; /* every pop, by pop counter */
    atomic_size_t records_out;
};

struct consumer {
    struct stress *s;
    uint64_t rng;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct stress *s = c->s;
    struct batch *b;
    for (;;) {
        uint64_t r = xorshift(&c->rng);
        size_t max = r % 4 == 0 ? 0 : (size_t)(r % 50) + 1;
        if (queue_pop(s->q, max, &b) != 0)
            break;
        for (size_t i = 0; i < b->n; i++) {
            uint64_t v = rec_value(b, i);
            if (v != b->recno0 + i || v == 0 || v > STRESS_RECORDS)
                atomic_store(&s->bad_value, 1);
            else
                __atomic_fetch_add(&s->seen[v - 1], 1, __ATOMIC_RELAXED);
        }
        size_t k = atomic_fetch_add(&s->npop, 1);
        if (k < STRESS_RECORDS)
            s->log[k] = (struct logent){b->piece, b->recno0, b->n};
        atomic_fetch_add(&s->records_out, b->n);
        batch_free(b);
        queue_release(s->q);
    }
    return NULL;
}

static int cmp_piece(const void *a, const void *b)
{
    const struct logent *x = a, *y = b;
    return (x->piece > y->piece) - (x->piece < y->piece);
}

static void test_stress(void)
{
    struct stress s = {0};
    s.q = queue_new(1000, 4096, STRESS_CONSUMERS + 1);
    s.seen = calloc(STRESS_RECORDS, sizeof *s.seen);
    s.log = calloc(STRESS_RECORDS, sizeof *s.log);
    size_t w = STRESS_WIDTH + 1;
    s.chunk = chunk_new(NULL, STRESS_RECORDS * w);
    for (size_t i = 0; i < STRESS_RECORDS; i++) {
        char num[16];
        snprintf(num, sizeof num, "%0*zu\n", STRESS_WIDTH, i + 1);
        memcpy(s.chunk->data + i * w, num, w);
    }
    s.chunk->len = STRESS_RECORDS * w;

    pthread_t t[STRESS_CONSUMERS];
    struct consumer c[STRESS_CONSUMERS];
    for (int i = 0; i < STRESS_CONSUMERS; i++) {
        c[i] = (struct consumer){&s, UINT64_C(0x2545F4914F6CDD1D) * (uint64_t)(i + 1)};
        pthread_create(&t[i], NULL, consumer_main, &c[i]);
    }
    /* the producer: batches of 1..300 records into the shared chunk; some
     * pushes do not wait (admitting a prefix), the rest wait forever */
    uint64_t rng = 88172645463325252u;
    size_t next = 0, pushes = 0, partial = 0;
    while (next < STRESS_RECORDS) {
        size_t n = (size_t)(xorshift(&rng) % 300) + 1;
        if (n > STRESS_RECORDS - next)
            n = STRESS_RECORDS - next;
        struct batch *b = batch_new(s.chunk, n);
        for (size_t i = 0; i < n; i++)
            b->recs[i] = (struct rec){(uint32_t)((next + i) * w), STRESS_WIDTH};
        b->n = n;
        b->bytes = n * w;
        b->recno0 = next + 1;
        next += n;
        while (b) {
            bool nowait = xorshift(&rng) % 2;
            long k = queue_push(s.q, &b, nowait ? 0 : NS_FOREVER);
            if (k < 0)
                break;
            pushes++;
            if (b) {
                partial++;
                if (!nowait)
                    break; /* a forever push must admit everything */
                sched_yield();
            }
        }
        if (b) {
            ok(0, "stress: a NS_FOREVER push returned with records left");
            batch_free(b);
        }
    }
    queue_close(s.q);
    for (int i = 0; i < STRESS_CONSUMERS; i++)
        pthread_join(t[i], NULL);
    chunk_unref(s.chunk);

    is_int(atomic_load(&s.records_out), STRESS_RECORDS, "stress: every record popped");
    ok(!atomic_load(&s.bad_value), "stress: every popped record has the payload of its number");
    size_t missing = 0, dup = 0;
    for (size_t i = 0; i < STRESS_RECORDS; i++) {
        unsigned v = s.seen[i]; /* the consumers are joined */
        missing += v == 0;
        dup += v > 1;
    }
    ok(missing == 0 && dup == 0,
       "stress: each of %d records seen exactly once (%zu missing, %zu "
       "twice or more)",
       STRESS_RECORDS, missing, dup);
    size_t npop = atomic_load(&s.npop);
    qsort(s.log, npop, sizeof *s.log, cmp_piece);
    size_t gaps = 0;
    uint64_t want_seq = 1;
    for (size_t i = 0; i < npop; i++) {
        if (s.log[i].piece != i || s.log[i].recno0 != want_seq)
            gaps++;
        want_seq = s.log[i].recno0 + s.log[i].n;
    }
    ok(gaps == 0, "stress: pieces 0..%zu in pop order follow input order (%zu out of place)",
       npop - 1, gaps);
    printf("# stress: %zu pushes (%zu partial), %zu pops\n", pushes, partial, npop);
    struct queue_stats st;
    queue_stats(s.q, &st);
    ok(st.max_records <= 1000, "stress: the record bound held (max depth %" PRIu64 ")",
       st.max_records);
    queue_free(s.q);
    free(s.seen);
    free(s.log);
}

int main(void)
{
    alarm(120); /* watchdog: a hung wait fails the test instead of hanging prove */
    test_push_pop();
    test_prefix();
    test_byte_bound();
    test_oversize_into_empty();
    test_deadline();
    test_forever_released_by_pop();
    test_pop_waits_for_push();
    test_interrupt();
    test_room();
    test_close_drain();
    test_abort();
    test_inflight();
    test_pop_split();
    test_pop_block();
    test_trypop();
    test_forever_push_through_pops();
    test_evict();
    test_stats();
    test_stress();
    return done_testing();
}
