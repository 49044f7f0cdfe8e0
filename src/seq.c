/* seq.c - ordering completed batches for the writer; see seq.h. */
#include "seq.h"

#include <errno.h>
#include <stdlib.h>

#include "batch.h"
#include "sync.h"

struct seq {
    pthread_mutex_t mu;
    pthread_cond_t ready;    /* signalled when the writer may have work */
    bool ordered;
    size_t slots;
    struct batch **ring;     /* ordered: piece % slots */
    uint64_t next;           /* ordered: the piece the writer wants */
    struct batch *head, *tail; /* unordered: completion order */
    unsigned producers;      /* workers still running */
};

struct seq *seq_new(size_t slots, bool ordered, unsigned producers)
{
    struct seq *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ring = calloc(slots, sizeof *s->ring);
    if (!s->ring || sync_mutex_init(&s->mu) || sync_cond_init(&s->ready)) {
        free(s->ring);
        free(s);
        return NULL;
    }
    s->slots = slots;
    s->ordered = ordered;
    s->producers = producers;
    return s;
}

void seq_free(struct seq *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->slots; i++)
        batch_free(s->ring[i]);
    while (s->head) {
        struct batch *b = s->head;
        s->head = b->next;
        batch_free(b);
    }
    pthread_cond_destroy(&s->ready);
    pthread_mutex_destroy(&s->mu);
    free(s->ring);
    free(s);
}

void seq_put(struct seq *s, struct batch *b)
{
    sync_lock(&s->mu);
    bool wake;
    if (s->ordered) {
        s->ring[b->piece % s->slots] = b;
        wake = b->piece == s->next;
    } else {
        b->next = NULL;
        if (s->tail)
            s->tail->next = b;
        else
            s->head = b;
        s->tail = b;
        wake = true;
    }
    if (wake)
        pthread_cond_signal(&s->ready);
    sync_unlock(&s->mu);
}

void seq_producer_done(struct seq *s)
{
    sync_lock(&s->mu);
    if (--s->producers == 0)
        pthread_cond_signal(&s->ready);
    sync_unlock(&s->mu);
}

/* The ready batch, unlinked, or NULL. Called under the lock. */
static struct batch *ready_batch(struct seq *s)
{
    struct batch *b;
    if (s->ordered) {
        struct batch **slot = &s->ring[s->next % s->slots];
        b = *slot;
        if (b) {
            *slot = NULL;
            s->next++;
        }
    } else {
        b = s->head;
        if (b) {
            s->head = b->next;
            if (!s->head)
                s->tail = NULL;
        }
    }
    return b;
}

int seq_take(struct seq *s, bool wait, struct batch **out)
{
    int rc = 0;
    sync_lock(&s->mu);
    struct batch *b;
    while (!(b = ready_batch(s))) {
        if (s->producers == 0) {
            rc = -EPIPE;
            break;
        }
        if (!wait) {
            rc = -EAGAIN;
            break;
        }
        pthread_cond_wait(&s->ready, &s->mu);
    }
    *out = b;
    sync_unlock(&s->mu);
    return rc;
}
