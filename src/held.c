/* held.c - the ring of held items; see held.h.
 *
 * Item number r sits at slot r & (cap - 1); cap is a power of two and at
 * least next - base, so the numbers held never collide. A slot whose item
 * was taken is empty (NULL); base moves past empty slots as takes free
 * them. No locking here: the broker calls it under its `mu`. */
#include "held.h"

#include <errno.h>
#include <stdlib.h>

#include "common.h"

struct slot {
    void *item;    /* NULL once taken */
    int64_t since; /* pushed, or last found due (ns) */
    bool back;     /* marked to be handed back */
};

struct held {
    struct slot *ring; /* cap slots */
    size_t cap;        /* a power of two */
    uint64_t base;     /* the oldest number not yet taken (== next when none is held) */
    uint64_t next;     /* the number the next push gets */
    size_t count;      /* items held */
};

/* Slots at most: a power of two whose bytes a size_t still counts. */
#define CAP_MOST ((SIZE_MAX >> 5) + 1)
_Static_assert(sizeof(struct slot) <= 32, "CAP_MOST slots must fit in memory's size");

struct held *held_new(size_t cap)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    for (h->cap = 1; h->cap < cap && h->cap < CAP_MOST;)
        h->cap *= 2;
    h->ring = calloc(h->cap, sizeof *h->ring);
    if (!h->ring) {
        free(h);
        return NULL;
    }
    h->base = h->next = 1;
    return h;
}

void held_free(struct held *h)
{
    if (!h)
        return;
    free(h->ring);
    free(h);
}

uint64_t held_next(const struct held *h)
{
    return h->next;
}

size_t held_count(const struct held *h)
{
    return h->count;
}

static struct slot *slot_of(const struct held *h, uint64_t r)
{
    return &h->ring[r & (h->cap - 1)];
}

int held_reserve(struct held *h, size_t n)
{
    size_t used = (size_t)(h->next - h->base);
    if (n <= h->cap - used)
        return 0;
    if (n > CAP_MOST - used)
        return -ENOMEM;
    size_t cap = h->cap;
    while (cap < used + n)
        cap *= 2;
    struct slot *ring = calloc(cap, sizeof *ring);
    if (!ring)
        return -ENOMEM;
    for (uint64_t r = h->base; r < h->next; r++)
        ring[r & (cap - 1)] = *slot_of(h, r);
    free(h->ring);
    h->ring = ring;
    h->cap = cap;
    return 0;
}

int held_push(struct held *h, void *item, int64_t now)
{
    int rc = held_reserve(h, 1);
    if (rc)
        return rc;
    *slot_of(h, h->next++) = (struct slot){.item = item, .since = now};
    h->count++;
    return 0;
}

uint64_t held_mark_back(struct held *h, uint64_t r, uint64_t end)
{
    uint64_t n = 0;
    for (r = MAX(r, h->base); r < MIN(end, h->next); r++) {
        struct slot *s = slot_of(h, r);
        n += s->item && !s->back;
        s->back = s->back || s->item;
    }
    return n;
}

/* Where a walk of [*r, end) over what is held stops; *r moved to base if
 * it was before. */
static uint64_t walk_from(const struct held *h, uint64_t *r, uint64_t end)
{
    *r = MAX(*r, h->base);
    return MIN(end, h->next);
}

size_t held_take(struct held *h, uint64_t *r, uint64_t end, bool back_only, void **items,
                 size_t max)
{
    size_t k = 0;
    uint64_t stop = walk_from(h, r, end);
    for (; *r < stop && k < max; ++*r) {
        struct slot *s = slot_of(h, *r);
        if (s->item && (!back_only || s->back)) {
            items[k++] = s->item;
            s->item = NULL;
        }
    }
    if (*r >= stop) /* nothing held in the rest */
        *r = MAX(*r, end);
    h->count -= k;
    while (h->base < h->next && !slot_of(h, h->base)->item)
        h->base++;
    return k;
}

size_t held_due(struct held *h, uint64_t *r, int64_t now, int64_t every, void **items, size_t max)
{
    size_t k = 0;
    uint64_t stop = walk_from(h, r, UINT64_MAX);
    for (; *r < stop && k < max; ++*r) {
        struct slot *s = slot_of(h, *r);
        if (s->item && now - s->since >= every) {
            items[k++] = s->item;
            s->since = now;
        }
    }
    return k;
}
