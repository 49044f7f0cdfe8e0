/* held.h - what a source has fetched and not yet settled, by record
 * number: a ring of items numbered on from 1 in the order they were
 * pushed, each settled (taken out) in any order; the oldest not yet taken
 * is the ring's base, so the ring spans [base, next) and grows (doubling)
 * when a push needs room.
 *
 * Items are opaque, non-NULL pointers (the broker's messages); the ring
 * never looks at them. Ownership: a push hands the item to the ring, a
 * take hands it back; held_free frees the ring alone, so items still held
 * are the caller's to take first. Each item keeps a time (ns, the
 * caller's clock: pushed, or last found due) and a mark (to be handed
 * back later). Plain data, no locking: the caller serialises every call. */
#ifndef WEIR_HELD_H
#define WEIR_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct held;

/* Room for cap items (rounded up to a power of two) to start with; NULL
 * when out of memory. held_free(NULL) does nothing. */
struct held *held_new(size_t cap);
void held_free(struct held *h);

uint64_t held_next(const struct held *h); /* the number the next push gets */
size_t held_count(const struct held *h);  /* items held */

/* Room for n more pushes, so that they cannot fail: 0, or -ENOMEM with
 * nothing changed. */
int held_reserve(struct held *h, size_t n);

/* Holds item as number held_next(h), at time now; 0 or -ENOMEM. */
int held_push(struct held *h, void *item, int64_t now);

/* Marks the items held in [r, end) to be handed back later; returns how
 * many were not marked already. */
uint64_t held_mark_back(struct held *h, uint64_t r, uint64_t end);

/* Takes up to max items held in [*r, end) (with back_only, only the
 * marked ones) into items, in number order, and moves *r past the last
 * number looked at; returns how many. Call again while it returns max. */
size_t held_take(struct held *h, uint64_t *r, uint64_t end, bool back_only, void **items,
                 size_t max);

/* Up to max items from number *r on whose time is `every` or more before
 * now: copies them into items (still held), sets their time to now, and
 * moves *r past the last number looked at; returns how many. */
size_t held_due(struct held *h, uint64_t *r, int64_t now, int64_t every, void **items, size_t max);

#endif
