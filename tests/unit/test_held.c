/* test_held.c - the ring of held items (held.h): numbers from 1 in push
 * order, takes in any order with the base moving past what is gone, one
 * number found by taking [r, r + 1), marks for handing back, the time
 * each item was last found due, growth past the first room across the
 * wrap of the ring, a reservation too big to meet, and a free with items
 * still held (ASan's leak check sees the ring go; the items are ours). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "held.h"
#include "tap.h"

static int items[64]; /* item k is &items[k] */

static void *item(int k)
{
    return &items[k];
}

/* The index of an item, or -1 for NULL. */
static int which(const void *p)
{
    return p ? (int)((const int *)p - items) : -1;
}

/* Takes record r alone: the index of its item, or -1 when none is held. */
static int take_one(struct held *h, uint64_t r)
{
    void *got[1] = {NULL};
    return held_take(h, &r, r + 1, false, got, 1) ? which(got[0]) : -1;
}

/* A ring with room for cap to start with, holding items 1..n at time 0;
 * the run ends here if it cannot be made. */
static struct held *filled(size_t cap, int n)
{
    struct held *h = held_new(cap);
    int k = 1;
    while (h && k <= n && held_push(h, item(k), 0) == 0)
        k++;
    if (!ok(h && k > n, "a ring of %zu filled with %d items", cap, n)) {
        held_free(h);
        exit(done_testing());
    }
    return h;
}

static void test_push_and_take(void)
{
    struct held *h = held_new(4);
    ok(h != NULL, "held_new");
    is_int(held_next(h), 1, "the first push gets number 1");
    is_int(held_count(h), 0, "empty");
    for (int k = 1; k <= 4; k++)
        is_int(held_push(h, item(k), 0), 0, "push %d", k);
    is_int(held_next(h), 5, "four pushed: next is 5");
    is_int(held_count(h), 4, "four held");
    is_int(take_one(h, 3), 3, "record 3 found and taken, out of order");
    is_int(take_one(h, 3), -1, "record 3 again: no longer held");
    is_int(take_one(h, 9), -1, "record 9: never pushed");
    is_int(take_one(h, 0), -1, "record 0: before the first");
    is_int(take_one(h, 1), 1, "record 1 taken");
    is_int(held_count(h), 2, "two held");
    void *got[4];
    uint64_t r = 1;
    size_t n = held_take(h, &r, 5, false, got, 4);
    is_int(n, 2, "taking [1, 5): what is left, two");
    ok(n == 2 && which(got[0]) == 2 && which(got[1]) == 4, "in number order: 2, 4");
    is_int(r, 5, "the walk ends at the range's end");
    is_int(held_count(h), 0, "nothing held");
    held_free(h);
}

static void test_take_in_steps(void)
{
    struct held *h = filled(8, 7);
    void *got[3];
    uint64_t r = 1;
    is_int(held_take(h, &r, 8, false, got, 3), 3, "a step of 3 of 7");
    is_int(r, 4, "stopped after number 3");
    is_int(held_take(h, &r, 8, false, got, 3), 3, "the next 3");
    ok(which(got[0]) == 4 && which(got[2]) == 6, "numbers 4 to 6");
    is_int(held_take(h, &r, 8, false, got, 3), 1, "the last one");
    is_int(held_take(h, &r, 8, false, got, 3), 0, "then none");
    held_free(h);
}

static void test_marks(void)
{
    struct held *h = filled(8, 6);
    take_one(h, 2);
    is_int(held_mark_back(h, 1, 5), 3, "[1, 5) marked: 1, 3, 4 (2 is gone)");
    is_int(held_mark_back(h, 3, 7), 2, "[3, 7): only 5 and 6 are new marks");
    void *got[8];
    uint64_t r = 0;
    size_t n = held_take(h, &r, UINT64_MAX, true, got, 8);
    is_int(n, 5, "taking the marked ones: 1, 3, 4, 5, 6");
    is_int(held_count(h), 0, "nothing left");
    held_push(h, item(7), 0);
    r = 0;
    is_int(held_take(h, &r, UINT64_MAX, true, got, 8), 0,
           "a push into a marked item's old slot is not marked");
    is_int(take_one(h, 7), 7, "record 7 taken unmarked");
    held_free(h);
}

static void test_due(void)
{
    struct held *h = held_new(8);
    held_push(h, item(1), 100);
    held_push(h, item(2), 200);
    held_push(h, item(3), 300);
    void *got[8];
    uint64_t r = 0;
    is_int(held_due(h, &r, 350, 100, got, 8), 2, "at 350, every 100: 1 and 2 are due");
    ok(which(got[0]) == 1 && which(got[1]) == 2, "in number order");
    is_int(held_count(h), 3, "still held");
    r = 0;
    is_int(held_due(h, &r, 400, 100, got, 8), 1, "at 400: only 3 (1 and 2 were kept at 350)");
    r = 0;
    is_int(held_due(h, &r, 450, 100, got, 1), 1, "a step of 1 at 450");
    is_int(r, 2, "stopped after number 1");
    is_int(held_due(h, &r, 450, 100, got, 1), 1, "then number 2");
    is_int(held_due(h, &r, 450, 100, got, 1), 0, "then none (3 is not due)");
    held_free(h);
}

static void test_wrap_and_growth(void)
{
    struct held *h = filled(4, 3);
    take_one(h, 1);
    take_one(h, 2);
    for (int k = 4; k <= 6; k++)
        held_push(h, item(k), 0); /* 5 and 6 wrap around to slots 1 and 2 */
    is_int(held_count(h), 4, "3 to 6 held in a ring of 4, wrapped");
    is_int(take_one(h, 5), 5, "record 5 found across the wrap");
    is_int(held_reserve(h, 3), 0, "room for 3 more: the ring grows");
    for (int k = 7; k <= 20; k++)
        is_int(held_push(h, item(k), k), 0, "push %d", k);
    is_int(held_count(h), 17, "17 held after growing");
    bool all = true;
    for (int k = 20; k >= 3; k--)
        all = all && take_one(h, (uint64_t)k) == (k == 5 ? -1 : k);
    ok(all, "each still at its number after growing");
    is_int(held_count(h), 0, "all taken");
    is_int(held_next(h), 21, "next goes on from 21");
    held_free(h);
}

static void test_full(void)
{
    struct held *h = held_new(2);
    held_push(h, item(1), 0);
    is_int(held_reserve(h, SIZE_MAX), -ENOMEM, "a reservation past any memory: -ENOMEM");
    is_int(held_reserve(h, SIZE_MAX / 2), -ENOMEM, "half of it too");
    is_int(take_one(h, 1), 1, "what was held is untouched");
    is_int(held_push(h, item(2), 0), 0, "and pushes go on");
    held_free(h);
}

static void test_free_held(void)
{
    struct held *h = filled(1, 10);
    held_free(h); /* items still held: the ring goes, the items stay ours */
    ok(items[1] == 0, "freed with 10 items held; the items are untouched");
    held_free(NULL);
    ok(1, "held_free(NULL) does nothing");
}

int main(void)
{
    test_push_and_take();
    test_take_in_steps();
    test_marks();
    test_due();
    test_wrap_and_growth();
    test_full();
    test_free_held();
    return done_testing();
}
