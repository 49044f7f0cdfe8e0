/* lanes.c - per-key lanes; see lanes.h. One mutex guards the table of
 * keys (open addressing, linear probing, deletion by backward shift; sized
 * once for `most` keys, so it never grows) and the sticky inboxes. */
#include "lanes.h"

#include <errno.h>
#include <stdlib.h>

#include "batch.h"
#include "common.h"
#include "sync.h"

struct lane {
    uint64_t key;
    unsigned inwork;           /* records of the key in work */
    struct batch *head, *tail; /* records of the key waiting for a place */
    bool used;
};

struct fifo {
    struct batch *head, *tail;
};

struct lanes {
    pthread_mutex_t mu;
    unsigned limit, workers;
    bool sticky;
    struct lane *tab;
    size_t mask;        /* table size - 1 (a power of two) */
    size_t live;        /* keys in work or waiting */
    struct fifo *inbox; /* sticky: records taken by another worker, per owner */
    uint64_t waits, keys_max, waiting;
};

struct lanes *lanes_new(unsigned limit, unsigned workers, bool sticky, size_t most)
{
    struct lanes *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    size_t size = 16;
    while (size < 2 * most + 2 && size < (SIZE_MAX >> 2))
        size *= 2;
    l->tab = calloc(size, sizeof *l->tab);
    l->inbox = calloc(MAX(workers, 1), sizeof *l->inbox);
    if (!l->tab || !l->inbox || sync_mutex_init(&l->mu) != 0) {
        free(l->tab);
        free(l->inbox);
        free(l);
        return NULL;
    }
    l->mask = size - 1;
    l->limit = MAX(limit, 1);
    l->workers = MAX(workers, 1);
    l->sticky = sticky;
    return l;
}

void lanes_free(struct lanes *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->tab);
    free(l->inbox);
    free(l);
}

static void push(struct batch **head, struct batch **tail, struct batch *b)
{
    b->next = NULL;
    if (*tail)
        (*tail)->next = b;
    else
        *head = b;
    *tail = b;
}

static struct batch *pop(struct batch **head, struct batch **tail)
{
    struct batch *b = *head;
    if (b) {
        *head = b->next;
        if (!*head)
            *tail = NULL;
        b->next = NULL;
    }
    return b;
}

/* Where probing for `key` starts. */
static size_t home(const struct lanes *l, uint64_t key)
{
    return (size_t)(key ^ (key >> 29)) & l->mask;
}

/* The lane of `key`, made when `make` (NULL when absent and not made). */
static struct lane *find(struct lanes *l, uint64_t key, bool make)
{
    size_t i = home(l, key);
    for (; l->tab[i].used; i = (i + 1) & l->mask)
        if (l->tab[i].key == key)
            return &l->tab[i];
    if (!make || l->live >= l->mask) /* sized for `most`: cannot happen */
        return NULL;
    l->tab[i] = (struct lane){.key = key, .used = true};
    l->live++;
    l->keys_max = MAX(l->keys_max, (uint64_t)l->live);
    return &l->tab[i];
}

/* Removes a lane with nothing in work or waiting (backward shift). */
static void forget(struct lanes *l, struct lane *ln)
{
    size_t i = (size_t)(ln - l->tab), j = i;
    l->live--;
    for (;;) {
        l->tab[i].used = false;
        for (;;) {
            j = (j + 1) & l->mask;
            if (!l->tab[j].used)
                return;
            size_t h = home(l, l->tab[j].key);
            /* move j to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
                break;
        }
        l->tab[i] = l->tab[j];
        i = j;
    }
}

/* b goes into work in its lane, or waits there; with mu held. */
static struct batch *enter_lane(struct lanes *l, struct batch *b)
{
    struct lane *ln = find(l, b->key, true);
    if (!ln || ln->inwork < l->limit) {
        if (ln)
            ln->inwork++;
        return b;
    }
    push(&ln->head, &ln->tail, b);
    l->waits++;
    l->waiting++;
    return NULL;
}

struct batch *lanes_enter(struct lanes *l, unsigned w, struct batch *b, unsigned *owner)
{
    sync_lock(&l->mu);
    *owner = w;
    if (l->sticky) {
        unsigned o = (unsigned)(b->key % l->workers);
        if (o != w || l->inbox[o].head) { /* behind what already waits for o */
            push(&l->inbox[o].head, &l->inbox[o].tail, b);
            l->waiting++;
            *owner = o;
            sync_unlock(&l->mu);
            return NULL;
        }
    }
    struct batch *run = enter_lane(l, b);
    sync_unlock(&l->mu);
    return run;
}

struct batch *lanes_leave(struct lanes *l, unsigned w, uint64_t key)
{
    (void)w;
    sync_lock(&l->mu);
    struct batch *next = NULL;
    struct lane *ln = find(l, key, false);
    if (ln) {
        next = pop(&ln->head, &ln->tail);
        if (next)
            l->waiting--; /* it takes the place this one leaves */
        else if (--ln->inwork == 0)
            forget(l, ln);
    }
    sync_unlock(&l->mu);
    return next;
}

struct batch *lanes_next(struct lanes *l, unsigned w)
{
    struct batch *run = NULL;
    sync_lock(&l->mu);
    if (l->sticky && w < l->workers) {
        struct fifo *in = &l->inbox[w];
        struct batch *b;
        while (!run && (b = pop(&in->head, &in->tail))) {
            l->waiting--;
            run = enter_lane(l, b);
        }
    }
    sync_unlock(&l->mu);
    return run;
}

bool lanes_has_mail(struct lanes *l, unsigned w)
{
    sync_lock(&l->mu);
    bool mail = l->sticky && w < l->workers && l->inbox[w].head;
    sync_unlock(&l->mu);
    return mail;
}

struct batch *lanes_drain(struct lanes *l)
{
    struct batch *head = NULL, *tail = NULL, *b;
    sync_lock(&l->mu);
    for (size_t i = 0; i <= l->mask; i++)
        while (l->tab[i].used && (b = pop(&l->tab[i].head, &l->tab[i].tail)))
            push(&head, &tail, b);
    for (unsigned w = 0; w < l->workers; w++)
        while ((b = pop(&l->inbox[w].head, &l->inbox[w].tail)))
            push(&head, &tail, b);
    l->waiting = 0;
    sync_unlock(&l->mu);
    return head;
}

void lanes_figures(struct lanes *l, struct lanes_figures *out)
{
    sync_lock(&l->mu);
    out->waits = l->waits;
    out->keys_max = l->keys_max;
    out->waiting = l->waiting;
    sync_unlock(&l->mu);
}
