/* queue_int.h - the queue's insides, shared by queue.c, queue_keyed.c (the
 * pop through a --key gate) and queue_evict.c (drop-oldest's push) only. Everything here is used
 * with q->mu held. */
#ifndef WEIR_QUEUE_INT_H
#define WEIR_QUEUE_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "depth.h"
#include "queue.h"
#include "sync.h"

#define SPIN_NS 100000 /* how long a waiter spins before sleeping */

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t room; /* signalled when records leave */
    pthread_cond_t work; /* signalled when batches arrive or slots free */
    struct batch *head, *tail;
    size_t count, bytes; /* records and bytes queued */
    size_t capacity, capacity_bytes;
    size_t inflight, out;         /* bound on and number of popped, unreleased batches */
    unsigned idle;                /* poppers waiting for a batch to arrive */
    unsigned want_idle;           /* queue_wait_idle waits for this many (on `room`) */
    _Atomic uint64_t idle_events; /* poppers that found it empty (queue_idle_events) */
    uint64_t next_piece;          /* number of the next popped batch */
    bool closed, interrupted, aborted;
    struct depth depth;        /* over time, for the figures */
    size_t want, want_bytes;   /* room the waiting pusher needs before waking */
    bool pusher_waits;         /* for room: the queue counts as full */
    _Atomic unsigned long gen; /* bumped on every change: lets waiters spin */
    unsigned spinners;         /* threads spinning now: one at most */
    bool spin_ok;              /* spinning has been paying off */
    struct queue_gate gate;    /* --key: who runs what a pop takes (queue_keyed.c) */
    size_t parked;             /* records the gate keeps, still counted in count */
};

/* Waits on cv until signalled or `deadline`, spinning first for poppers
 * (spin_until non-NULL); see queue.c. */
void queue_wait_on(struct queue *q, pthread_cond_t *cv, int64_t deadline, int64_t *spin_until);
/* A popper waits for work (or a free in-flight slot), counted idle when
 * the queue is empty (queue_idle_events, queue_wait_idle). */
void queue_wait_work(struct queue *q, int64_t *spin_until);
/* Appends b (all of it) to the queue, waking a popper. */
void queue_append(struct queue *q, struct batch *b);
/* Wakes the pusher when the room it waits for is there. */
void queue_room_freed(struct queue *q);
/* Depth statistics: called before every change. */
void queue_account(struct queue *q);
/* Takes up to max_records (0: all) of the head batch. */
struct batch *queue_take_head(struct queue *q, size_t max_records);

#endif
