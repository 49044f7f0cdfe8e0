/* queue_evict.c - drop-oldest's push (queue_push_evict; see queue.h): the
 * oldest queued records give way to new ones, and when nothing queued is
 * left to evict (records waiting for their key fill the bounds), the new
 * batch's own oldest records do. Under the queue's lock, as queue.c. */
#include <errno.h>

#include "batch.h"
#include "queue_int.h"

/* Moves the first k records of the queue's head batch to *list. */
static int evict_head(struct queue *q, size_t k, struct batch ***list)
{
    struct batch *h = q->head, *e;
    if (k >= h->n) {
        q->head = h->next;
        if (!q->head)
            q->tail = NULL;
        e = h;
    } else {
        e = batch_split(h, k);
        if (!e)
            return -ENOMEM;
    }
    q->count -= e->n;
    q->bytes -= e->bytes;
    e->next = NULL;
    **list = e;
    *list = &e->next;
    return 0;
}

/* Nothing queued is left to evict and b still does not fit: records
 * waiting for their key (--key) fill the bounds. b's own oldest records
 * give way, listed at *tail; returns what of b is left to append (NULL:
 * none; on -ENOMEM in *rc, b whole). Under the lock. */
static struct batch *evict_own(struct queue *q, struct batch *b, struct batch ***tail, int *rc)
{
    size_t k = 0, n = q->count + b->n, bytes = q->bytes + b->bytes;
    size_t keep = q->count == 0; /* an empty queue takes one record, however big */
    while (k + keep < b->n && (n > q->capacity || bytes > q->capacity_bytes)) {
        bytes -= batch_rec_size(b, k++);
        n--;
    }
    if (k == 0)
        return b;
    struct batch *gone = k == b->n ? b : batch_split(b, k);
    if (!gone) {
        *rc = -ENOMEM;
        return b;
    }
    gone->next = NULL;
    **tail = gone;
    *tail = &gone->next;
    return gone == b ? NULL : b;
}

int queue_push_evict(struct queue *q, struct batch *b, struct batch **evicted)
{
    struct batch **tail = evicted;
    *evicted = NULL;
    /* b alone over the bounds: its own oldest records give way */
    size_t drop = b->n > q->capacity ? b->n - q->capacity : 0;
    size_t bytes = b->bytes;
    for (size_t i = 0; i < drop; i++)
        bytes -= batch_rec_size(b, i);
    while (drop + 1 < b->n && bytes > q->capacity_bytes)
        bytes -= batch_rec_size(b, drop++);
    struct batch *own = NULL; /* b's own oldest records, listed after the queue's */
    if (drop && !(own = batch_split(b, drop)))
        return -ENOMEM;
    int rc = 0;
    sync_lock(&q->mu);
    queue_account(q);
    while (q->head && (q->count + b->n > q->capacity || q->bytes + b->bytes > q->capacity_bytes)) {
        size_t need_n = q->count + b->n > q->capacity ? q->count + b->n - q->capacity : 0;
        size_t over =
            q->bytes + b->bytes > q->capacity_bytes ? q->bytes + b->bytes - q->capacity_bytes : 0;
        size_t k = 0, freed = 0;
        struct batch *h = q->head;
        while (k < h->n && (k < need_n || freed < over))
            freed += batch_rec_size(h, k++);
        rc = evict_head(q, k, &tail);
        if (rc)
            break;
    }
    if (rc == 0)
        b = evict_own(q, b, &tail, &rc); /* NULL: all of it gave way */
    if (rc == 0 && b)
        queue_append(q, b);
    sync_unlock(&q->mu);
    if (own) {
        own->next = NULL;
        *tail = own;
    }
    return rc;
}
