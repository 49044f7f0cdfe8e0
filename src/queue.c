/* queue.c - bounded batch queue; see queue.h for the design.
 *
 * One mutex guards everything; `room` wakes the pusher, `work` wakes
 * poppers (for new batches or a freed in-flight slot). No other lock is
 * ever taken while it is held. */
#include "queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "batch.h"
#include "common.h"
#include "queue_int.h"
#include "sync.h"

struct queue *queue_new(size_t capacity, size_t capacity_bytes, size_t inflight)
{
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    if (sync_mutex_init(&q->mu) != 0) {
        free(q);
        return NULL;
    }
    if (sync_cond_init(&q->room) != 0) {
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    if (sync_cond_init(&q->work) != 0) {
        pthread_cond_destroy(&q->room);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    q->capacity = capacity ? capacity : 1;
    q->capacity_bytes = capacity_bytes ? capacity_bytes : 1;
    q->inflight = inflight ? inflight : 1;
    depth_init(&q->depth, now_ns());
    q->spin_ok = true;
    return q;
}

void queue_free(struct queue *q)
{
    if (!q)
        return;
    while (q->head) {
        struct batch *b = q->head;
        q->head = b->next;
        batch_free(b);
    }
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* Full: at a bound, or with less room than the pusher waiting needs
 * (the byte bound stops a batch well before the bytes reach it). */
static bool is_full(const struct queue *q)
{
    return q->count >= q->capacity || q->bytes >= q->capacity_bytes || q->pusher_waits;
}

/* Waits on cv until signalled or `deadline`. While batches stream
 * through, what a waiter needs usually comes within microseconds, and a
 * futex sleep and wake-up per batch would cost more than the work: so it
 * first spins until *spin_until (set on its first wait, so that a caller
 * looping on its condition spins SPIN_NS in all), returning as soon as the
 * queue changes. Spinning is adaptive: after a spin that came to nothing,
 * waiters sleep at once until a wait again ends within SPIN_NS (a paced or
 * idle stream must not burn a core). One spinner at most, and only
 * poppers spin (spin_until NULL: no spinning): a pusher waits for workers
 * that need every core. Called and returns with the lock held. */
void queue_wait_on(struct queue *q, pthread_cond_t *cv, int64_t deadline, int64_t *spin_until)
{
    int64_t now = now_ns();
    if (spin_until && *spin_until == 0)
        *spin_until = now + SPIN_NS;
    if (spin_until && q->spin_ok && now < *spin_until && q->spinners == 0) {
        unsigned long gen = atomic_load_explicit(&q->gen, memory_order_relaxed);
        int64_t until = MIN(*spin_until, deadline);
        q->spinners++;
        sync_unlock(&q->mu);
        for (unsigned i = 1; atomic_load_explicit(&q->gen, memory_order_relaxed) == gen; i++) {
            cpu_relax();
            if (i % 64 == 0 && now_ns() > until)
                break;
        }
        sync_lock(&q->mu);
        q->spinners--;
        if (atomic_load_explicit(&q->gen, memory_order_relaxed) != gen)
            return;
        q->spin_ok = false;
    }
    if (deadline == NS_FOREVER)
        sync_cond_wait(cv, &q->mu);
    else
        sync_cond_timedwait(cv, &q->mu, deadline);
    if (now_ns() - now < SPIN_NS)
        q->spin_ok = true;
}

/* Wakes the pusher when the room it waits for is there. */
void queue_room_freed(struct queue *q)
{
    size_t free_bytes = q->capacity_bytes - MIN(q->bytes, q->capacity_bytes);
    if (q->count == 0 || (q->capacity - q->count >= q->want && free_bytes >= q->want_bytes))
        pthread_cond_signal(&q->room);
}

static void changed(struct queue *q)
{
    atomic_fetch_add_explicit(&q->gen, 1, memory_order_relaxed);
}

/* Depth statistics: called under the lock before every change. */
void queue_account(struct queue *q)
{
    changed(q);
    depth_pass(&q->depth, q->count, is_full(q), now_ns());
}

void queue_append(struct queue *q, struct batch *b)
{
    b->next = NULL;
    b->t_queued = q->depth.t_last; /* queue_account() has just read the clock */
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->count += b->n;
    q->bytes += b->bytes;
    depth_reached(&q->depth, q->count);
    pthread_cond_signal(&q->work);
}

/* How many head records of b fit now. */
static size_t fits(const struct queue *q, const struct batch *b)
{
    if (q->count >= q->capacity)
        return 0;
    size_t k = MIN(b->n, q->capacity - q->count);
    if (q->bytes + b->bytes <= q->capacity_bytes && k == b->n)
        return k;
    size_t bytes = q->bytes, i = 0;
    for (; i < k; i++) {
        size_t sz = batch_rec_size(b, i);
        if (bytes + sz > q->capacity_bytes && !(q->count == 0 && i == 0))
            break;
        bytes += sz;
    }
    return i;
}

long queue_push(struct queue *q, struct batch **bp, int64_t deadline)
{
    long admitted = 0;
    sync_lock(&q->mu);
    for (;;) {
        struct batch *b = *bp;
        size_t k = q->closed ? 0 : fits(q, b);
        if (k == b->n) {
            queue_account(q);
            queue_append(q, b);
            admitted += (long)k;
            *bp = NULL;
            break;
        }
        if (k > 0) {
            struct batch *h = batch_split(b, k);
            if (h) {
                batch_compact(h); /* on failure it just stays in the big chunk */
                queue_account(q);
                queue_append(q, h);
                admitted += (long)k;
                continue;
            }
            /* no memory to split: wait for room for the whole batch */
        }
        if (q->closed || q->interrupted)
            break;
        /* A deadline never gives up while an idle popper has yet to take
         * its turn: it is about to make room. */
        bool turn_due = q->idle > 0 && q->head && q->out < q->inflight;
        if (deadline <= now_ns() && !turn_due)
            break;
        /* A blocking push waits for room for the whole batch (the framer
         * makes batches that fit the queue) rather than waking for every
         * slot; one with a deadline takes any room at once. */
        bool all = deadline == NS_FOREVER || k > 0;
        q->want = all ? MIN(b->n, q->capacity) : 1;
        q->want_bytes = all ? MIN(b->bytes, q->capacity_bytes) : 1;
        queue_account(q);
        q->pusher_waits = true;
        queue_wait_on(q, &q->room, turn_due ? NS_FOREVER : deadline, NULL);
        queue_account(q);
        q->pusher_waits = false;
    }
    sync_unlock(&q->mu);
    return admitted;
}

/* Takes up to max_records (0: all) of the head batch, splitting it when
 * it is bigger (unless memory is short: then all of it). Under the lock. */
struct batch *queue_take_head(struct queue *q, size_t max_records)
{
    struct batch *b = q->head;
    struct batch *part = max_records && b->n > max_records ? batch_split(b, max_records) : NULL;
    if (part)
        return part;
    q->head = b->next;
    if (!q->head)
        q->tail = NULL;
    b->next = NULL;
    return b;
}

/* How many head records of b fit a block that has `recs` records and
 * `bytes` bytes so far (a block's first record always fits). */
static size_t block_fit(const struct batch *b, size_t recs, size_t bytes, size_t max_records,
                        size_t max_bytes)
{
    size_t k = 0;
    while (k < b->n && (!max_records || recs + k < max_records)) {
        size_t sz = batch_rec_size(b, k);
        if (bytes + sz > max_bytes && recs + k > 0)
            break;
        bytes += sz;
        k++;
    }
    return k;
}

/* Takes consecutive head batches, as a list, up to a block's bounds and
 * up to a gap in their record numbers (records shed or failed before
 * admission): joined, the block numbers its records on from the first. */
static struct batch *take_block(struct queue *q, size_t max_records, size_t max_bytes)
{
    struct batch *list = NULL, **tail = &list;
    size_t recs = 0, bytes = 0;
    while (q->head && (!list || q->head->recno0 == list->recno0 + recs)) {
        size_t k = block_fit(q->head, recs, bytes, max_records, max_bytes);
        if (k == 0)
            break;
        bool whole = k == q->head->n;
        struct batch *b = queue_take_head(q, k);
        *tail = b;
        tail = &b->next;
        recs += b->n;
        bytes += b->bytes;
        if (!whole)
            break;
    }
    return list;
}

void queue_wait_work(struct queue *q, int64_t *spin_until)
{
    bool idle = !q->head; /* waiting for work, not for a slot */
    q->idle += idle;
    if (idle)
        atomic_fetch_add_explicit(&q->idle_events, 1, memory_order_relaxed);
    if (q->want_idle && q->idle >= q->want_idle)
        pthread_cond_broadcast(&q->room);
    queue_wait_on(q, &q->work, NS_FOREVER, spin_until);
    q->idle -= idle;
}

static int pop(struct queue *q, size_t max_records, size_t max_bytes, bool wait, struct batch **out)
{
    int rc = 0;
    int64_t spin_until = 0;
    sync_lock(&q->mu);
    while (!q->aborted && (q->out >= q->inflight || (!q->head && !q->closed))) {
        if (!wait) {
            rc = -EAGAIN;
            goto out;
        }
        queue_wait_work(q, &spin_until);
    }
    if (q->aborted || !q->head) {
        rc = -EPIPE;
        goto out;
    }
    queue_account(q);
    struct batch *b =
        max_bytes ? take_block(q, max_records, max_bytes) : queue_take_head(q, max_records);
    b->piece = q->next_piece++;
    for (struct batch *e = b; e; e = e->next) {
        q->count -= e->n;
        q->bytes -= e->bytes;
    }
    q->out++;
    *out = b;
    queue_room_freed(q);
    if (q->head && q->out < q->inflight)
        pthread_cond_signal(&q->work); /* pass the wake-up on */
out:
    sync_unlock(&q->mu);
    return rc;
}

int queue_pop(struct queue *q, size_t max_records, struct batch **out)
{
    return pop(q, max_records, 0, true, out);
}

int queue_pop_block(struct queue *q, size_t max_records, size_t max_bytes, struct batch **list)
{
    return pop(q, max_records, max_bytes, true, list);
}

int queue_trypop(struct queue *q, size_t max_records, struct batch **out)
{
    return pop(q, max_records, 0, false, out);
}

void queue_release(struct queue *q)
{
    sync_lock(&q->mu);
    changed(q);
    q->out--;
    pthread_cond_signal(&q->work);
    sync_unlock(&q->mu);
}

void queue_close(struct queue *q)
{
    sync_lock(&q->mu);
    changed(q);
    q->closed = true;
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->room);
    sync_unlock(&q->mu);
}

void queue_interrupt(struct queue *q)
{
    sync_lock(&q->mu);
    changed(q);
    q->interrupted = true;
    pthread_cond_broadcast(&q->room);
    sync_unlock(&q->mu);
}

void queue_abort(struct queue *q)
{
    sync_lock(&q->mu);
    changed(q);
    q->aborted = q->closed = q->interrupted = true;
    pthread_cond_broadcast(&q->work);
    pthread_cond_broadcast(&q->room);
    sync_unlock(&q->mu);
}

struct batch *queue_take_all(struct queue *q)
{
    sync_lock(&q->mu);
    queue_account(q);
    struct batch *list = q->head;
    q->head = q->tail = NULL;
    q->count = q->bytes = 0;
    sync_unlock(&q->mu);
    return list;
}

void queue_stats(struct queue *q, struct queue_stats *out)
{
    sync_lock(&q->mu);
    queue_account(q);
    out->max_records = q->depth.max;
    depth_figures(&q->depth, q->count, &out->mean_records, &out->full_share);
    out->records = q->count;
    out->bytes = q->bytes;
    sync_unlock(&q->mu);
}

void queue_room(struct queue *q, size_t want, int64_t deadline, size_t *records, size_t *bytes)
{
    sync_lock(&q->mu);
    want = MAX(MIN(want, q->capacity), 1);
    while (!q->interrupted && q->count > 0 &&
           (q->capacity - MIN(q->count, q->capacity) < want || q->bytes >= q->capacity_bytes) &&
           now_ns() < deadline) {
        q->want = want;
        q->want_bytes = 1;
        queue_account(q);
        q->pusher_waits = true;
        queue_wait_on(q, &q->room, deadline, NULL);
        queue_account(q);
        q->pusher_waits = false;
    }
    *records = q->capacity - MIN(q->count, q->capacity);
    *bytes = q->capacity_bytes - MIN(q->bytes, q->capacity_bytes);
    sync_unlock(&q->mu);
}

uint64_t queue_idle_events(struct queue *q)
{
    return atomic_load_explicit(&q->idle_events, memory_order_relaxed);
}

void queue_wait_idle(struct queue *q, unsigned n, int64_t deadline)
{
    sync_lock(&q->mu);
    q->want_idle = n;
    while (q->idle < n && !q->head && now_ns() < deadline)
        sync_cond_timedwait(&q->room, &q->mu, deadline);
    q->want_idle = 0;
    sync_unlock(&q->mu);
}
