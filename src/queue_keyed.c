/* queue_keyed.c - pops through a --key gate; see queue.h. Records the
 * gate keeps stay counted in q->count and q->bytes (so a hot key fills
 * the queue and the policy applies) and in q->out (they were popped, and
 * numbered, in input order), until they go into work; the in-flight bound
 * counts only the others (in work, or done and waiting for the writer), so
 * records admitted and not written stay within capacity + workers + 1.
 * Lock order: the
 * queue's mutex, then the gate's (lanes.c). */
#include <errno.h>

#include "batch.h"
#include "common.h"
#include "queue_int.h"

void queue_set_gate(struct queue *q, const struct queue_gate *g)
{
    q->gate = *g;
}

/* b leaves the bounds for work; with the lock held. */
static void uncharge(struct queue *q, const struct batch *b)
{
    q->count -= b->n;
    q->bytes -= b->bytes;
    queue_room_freed(q);
}

/* How many head records of the head batch make w's next piece: one, or
 * with max_bytes the run that shares the first one's key. */
static size_t run_of_key(struct queue *q, size_t max_records, size_t max_bytes)
{
    const struct batch *h = q->head;
    if (!max_bytes || h->n == 1)
        return 1;
    uint64_t key = q->gate.key(q->gate.ctx, h, 0);
    size_t k = 1, bytes = batch_rec_size(h, 0);
    while (k < h->n && (!max_records || k < max_records) &&
           bytes + batch_rec_size(h, k) <= max_bytes && q->gate.key(q->gate.ctx, h, k) == key)
        bytes += batch_rec_size(h, k++);
    return k;
}

/* Takes w's next piece from the head and passes it through the gate: true
 * when w runs it. With the lock held. */
static bool take_one(struct queue *q, unsigned w, size_t max_records, size_t max_bytes,
                     struct batch **out)
{
    queue_account(q);
    size_t k = run_of_key(q, max_records, max_bytes);
    struct batch *b = queue_take_head(q, k); /* the gate finds the key again, from record 0 */
    b->piece = q->next_piece++;
    q->out++;
    bool wake = false;
    if (!q->gate.enter(q->gate.ctx, w, b, &wake)) {
        q->parked += b->n;
        if (wake)
            pthread_cond_broadcast(&q->work); /* its owner must look at its mail */
        return false;
    }
    uncharge(q, b);
    *out = b;
    return true;
}

int queue_pop_for(struct queue *q, unsigned w, size_t max_records, size_t max_bytes,
                  struct batch **out)
{
    int64_t spin_until = 0;
    int rc = 0;
    sync_lock(&q->mu);
    for (;;) {
        struct batch *m = q->gate.mail(q->gate.ctx, w);
        if (m) {
            queue_account(q);
            q->parked -= m->n;
            uncharge(q, m);
            *out = m;
            break;
        }
        if (q->aborted || (q->closed && !q->head)) {
            rc = -EPIPE;
            break;
        }
        if (q->head && q->out - q->parked < q->inflight) {
            if (take_one(q, w, max_records, max_bytes, out))
                break;
            continue;
        }
        queue_wait_work(q, &spin_until);
    }
    if (rc == 0 && q->head && q->out - q->parked < q->inflight)
        pthread_cond_signal(&q->work); /* pass the wake-up on */
    sync_unlock(&q->mu);
    return rc;
}

void queue_unpark(struct queue *q, const struct batch *b)
{
    sync_lock(&q->mu);
    queue_account(q);
    q->parked -= b->n;
    uncharge(q, b);
    sync_unlock(&q->mu);
}
