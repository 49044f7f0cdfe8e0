/* seq.c - ordering finished batches and handing out the writer role; see
 * seq.h. One mutex guards the ring, the list and the role flag. */
#include "seq.h"

#include <stdlib.h>

#include "batch.h"
#include "sync.h"

struct seq {
    pthread_mutex_t mu;
    bool ordered;
    bool writing; /* a worker holds the writer role */
    size_t slots;
    struct batch **ring;       /* ordered: finished batches at piece % slots */
    uint64_t next;             /* batches handed out so far; ordered: the next piece */
    struct batch *head, *tail; /* unordered: finished batches, in completion order */
    struct batch *last;        /* unordered: the open-ended last record, held back */
};

struct seq *seq_new(size_t slots, bool ordered)
{
    struct seq *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ring = calloc(slots, sizeof *s->ring);
    if (!s->ring || sync_mutex_init(&s->mu) != 0) {
        free(s->ring);
        free(s);
        return NULL;
    }
    s->slots = slots;
    s->ordered = ordered;
    return s;
}

void seq_free(struct seq *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->slots; i++)
        batch_free(s->ring[i]);
    batch_free(s->last);
    while (s->head) {
        struct batch *b = s->head;
        s->head = b->next;
        batch_free(b);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->ring);
    free(s);
}

/* The batch ready to write, unlinked, or NULL. Called under the lock. */
static struct batch *ready(struct seq *s)
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
            s->next++;
        } else if (s->last && s->last->piece == s->next) { /* all before it are out */
            b = s->last;
            s->last = NULL;
            s->next++;
        }
    }
    return b;
}

struct batch *seq_put(struct seq *s, struct batch *b)
{
    struct batch *w = NULL;
    sync_lock(&s->mu);
    if (s->ordered) {
        s->ring[b->piece % s->slots] = b;
    } else if (b->open_end) {
        /* A record without its delimiter must come last, or the next
         * record would run into it. It is the last piece taken from the
         * queue, so it goes once every piece before it has gone. */
        s->last = b;
    } else {
        b->next = NULL;
        if (s->tail)
            s->tail->next = b;
        else
            s->head = b;
        s->tail = b;
    }
    if (!s->writing) {
        w = ready(s);
        s->writing = w != NULL;
    }
    sync_unlock(&s->mu);
    return w;
}

struct batch *seq_next(struct seq *s, bool release)
{
    sync_lock(&s->mu);
    struct batch *w = ready(s);
    if (!w && release)
        s->writing = false;
    sync_unlock(&s->mu);
    return w;
}

bool seq_try_role(struct seq *s)
{
    sync_lock(&s->mu);
    bool got = !s->writing;
    s->writing = true;
    sync_unlock(&s->mu);
    return got;
}
