/* queue.h - the bounded queue between intake and the workers.
 *
 * DESIGN: one reader pushes batches; any number of workers pop them. The
 * queue is full when it holds `capacity` records or `capacity_bytes` bytes;
 * an empty queue still takes one record larger than the byte bound. Pushes
 * admit as many records as fit, splitting a batch when only its head fits.
 * Pops are limited too: at most `inflight` batches may be out of the queue
 * (taken by a worker and not yet released by the writer), which bounds the
 * completed work that waits for its turn in ordered output. Batches are
 * numbered (batch->piece) in pop order, which is input order.
 *
 * Ownership: a successful push hands the batch to the queue; a push that
 * admits only part of it leaves the rest with the caller; a pop hands the
 * batch to the popper; evicted records are handed to the caller. All calls
 * are thread-safe. Times are CLOCK_MONOTONIC nanoseconds. */
#ifndef WEIR_QUEUE_H
#define WEIR_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct queue;

struct queue_stats {
    uint64_t max_records;    /* deepest the queue has been */
    double mean_records;     /* time-weighted mean depth */
    double full_share;       /* share of time it was full, 0..1 */
    uint64_t records, bytes; /* queued now */
};

/* NULL when out of memory or a thread primitive cannot be made. */
struct queue *queue_new(size_t capacity, size_t capacity_bytes, size_t inflight);
void queue_free(struct queue *q); /* frees any batch still queued */

/* Admits records from the head of *b, waiting for room until `deadline`
 * (0: do not wait; NS_FOREVER: until admitted or interrupted), and past it
 * while a popper that was waiting for work has yet to take its turn (it
 * is about to make room: a full queue with an idle worker is no overload). Returns the
 * number of records admitted; *b is NULL when all were, otherwise it holds
 * the rest. When splitting off the head that fits finds no memory, it
 * waits for room for the whole batch instead. */
long queue_push(struct queue *q, struct batch **b, int64_t deadline);

/* drop-oldest: admits all of b, evicting the oldest queued records to make
 * room; if b alone exceeds the bounds its own oldest records go. Evicted
 * records are returned as a list of batches linked by ->next (*evicted,
 * NULL when none). Returns 0 or -ENOMEM. */
int queue_push_evict(struct queue *q, struct batch *b, struct batch **evicted);

/* Takes up to max_records (0: no limit) from the head, waiting while the
 * queue is empty or the in-flight bound is reached. Returns 0 and *b,
 * -EPIPE once the queue is closed and drained (or aborted). */
int queue_pop(struct queue *q, size_t max_records, struct batch **b);

/* As queue_pop, for a block: consecutive queued batches (as a list linked
 * by ->next, numbered as one piece) holding at most max_records (0: no
 * bound) and max_bytes, without waiting for more to arrive; a first record
 * bigger than max_bytes comes alone. */
int queue_pop_block(struct queue *q, size_t max_records, size_t max_bytes, struct batch **list);

/* As queue_pop, but -EAGAIN instead of waiting. */
int queue_trypop(struct queue *q, size_t max_records, struct batch **b);

/* The writer is done with one popped batch: frees an in-flight slot. */
void queue_release(struct queue *q);

/* No more pushes: poppers drain what is queued, then get -EPIPE. */
void queue_close(struct queue *q);

/* Waiting pushes return at once, and later pushes do not wait. */
void queue_interrupt(struct queue *q);

/* Stop now: pops return -EPIPE even though batches remain (freed later by
 * queue_free). */
void queue_abort(struct queue *q);

/* Empties the queue: its batches, linked by ->next, now the caller's (NULL
 * when none). For the end of a run that stopped with records queued. */
struct batch *queue_take_all(struct queue *q);

void queue_stats(struct queue *q, struct queue_stats *out);

/* Waits until the queue has room for `want` more records (or is empty),
 * is interrupted, or `deadline`; then *records and *bytes say the room.
 * For a source that can leave its records where they are until they fit
 * (the wait counts as the queue being full). */
void queue_room(struct queue *q, size_t want, int64_t deadline, size_t *records, size_t *bytes);

/* --key (queue_keyed.c): the gate decides, for each record a pop takes
 * (under the queue's lock, so in input order), whether the popper runs it
 * now or the gate keeps it to run later (lanes.h). A kept record still
 * counts in both bounds until queue_unpark, but not in the in-flight bound
 * (it is not in work: the output's ring must have room for it, though). */
struct queue_gate {
    /* Popper w took b (one record, or a block of one key's records): true,
     * w runs it; false, the gate keeps it (*wake: another popper has mail). */
    bool (*enter)(void *ctx, unsigned w, struct batch *b, bool *wake);
    /* The key of record i of b (for blocks: a block holds one key). */
    uint64_t (*key)(void *ctx, const struct batch *b, size_t i);
    /* A kept record that popper w may run now, or NULL. */
    struct batch *(*mail)(void *ctx, unsigned w);
    void *ctx;
};
void queue_set_gate(struct queue *q, const struct queue_gate *g); /* before any pop */

/* As queue_pop of one record, for popper w, through the gate: returns 0
 * and a record w runs (its mail first), -EPIPE when the queue is closed
 * and drained (or aborted) and w has no mail. With max_bytes, a block
 * instead: the head records that share the first one's key, up to
 * max_records (0: no bound) and max_bytes, from one queued batch (a block
 * never spans two reads), b->key set. */
int queue_pop_for(struct queue *q, unsigned w, size_t max_records, size_t max_bytes,
                  struct batch **b);

/* A record the gate kept goes into work (handed out by the gate outside a
 * pop): its room in the bounds is freed. */
void queue_unpark(struct queue *q, const struct batch *b);

/* How many times a popper has found the queue empty and waited for work:
 * when it moves, the workers have caught up. Any thread, without the lock. */
uint64_t queue_idle_events(struct queue *q);

/* Waits until n poppers wait for work (or the deadline): started workers
 * count as idle only once they do, and a full queue with an idle worker
 * is no overload, so intake starts after them. */
void queue_wait_idle(struct queue *q, unsigned n, int64_t deadline);

#endif
