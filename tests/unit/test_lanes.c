/* test_lanes.c - per-key lanes (lanes.h): a key's records go into work
 * one at a time (or `limit` at a time) in the order they were taken,
 * other keys never wait behind them, sticky keys stay on one worker, and
 * the table survives many keys coming and going (checked against a model). */
#include <stdlib.h>

#include "batch.h"
#include "lanes.h"

#include "tap.h"

#define NB 4096
static struct batch pool[NB];
static size_t used;

static struct batch *rec(uint64_t key)
{
    struct batch *b = &pool[used++ % NB];
    *b = (struct batch){.key = key, .recno0 = used};
    return b;
}

static void test_one_at_a_time(void)
{
    struct lanes *l = lanes_new(1, 2, false, 64);
    unsigned owner;
    struct batch *a1 = rec(7), *a2 = rec(7), *a3 = rec(7), *b1 = rec(9);
    ok(lanes_enter(l, 0, a1, &owner) == a1, "a key's first record goes into work");
    ok(lanes_enter(l, 1, a2, &owner) == NULL && owner == 1, "its second waits (limit 1)");
    ok(lanes_enter(l, 1, a3, &owner) == NULL, "and its third");
    ok(lanes_enter(l, 1, b1, &owner) == b1, "another key does not wait behind it");
    ok(lanes_leave(l, 0, 7) == a2, "when the first leaves work, the second comes, on that worker");
    ok(lanes_leave(l, 0, 7) == a3, "then the third: input order");
    ok(lanes_leave(l, 0, 7) == NULL, "then nothing of that key");
    ok(lanes_leave(l, 1, 9) == NULL, "nothing waits for the other key");
    struct lanes_figures f;
    lanes_figures(l, &f);
    is_int(f.waits, 2, "two records waited for their key");
    is_int(f.keys_max, 2, "two keys at once at most");
    is_int(f.waiting, 0, "none waits now");
    ok(lanes_enter(l, 0, a1, &owner) == a1, "a key that has left entirely starts afresh");
    lanes_leave(l, 0, 7);
    lanes_free(l);
}

static void test_limit_two(void)
{
    struct lanes *l = lanes_new(2, 4, false, 64);
    unsigned owner;
    struct batch *r[4] = {rec(1), rec(1), rec(1), rec(1)};
    ok(lanes_enter(l, 0, r[0], &owner) == r[0] && lanes_enter(l, 1, r[1], &owner) == r[1],
       "limit 2: two records of a key in work");
    ok(lanes_enter(l, 2, r[2], &owner) == NULL && lanes_enter(l, 3, r[3], &owner) == NULL,
       "the next two wait");
    ok(lanes_leave(l, 1, 1) == r[2], "the oldest waiting one comes first");
    struct batch *all = lanes_drain(l);
    ok(all == r[3] && all->next == NULL, "drain hands over what still waits");
    lanes_free(l);
}

static void test_sticky(void)
{
    struct lanes *l = lanes_new(1, 2, true, 64);
    unsigned owner;
    struct batch *odd1 = rec(5), *odd2 = rec(5), *even = rec(4);
    ok(lanes_enter(l, 0, odd1, &owner) == NULL && owner == 1,
       "sticky: worker 0 took a record of worker 1's key: it waits for worker 1");
    ok(lanes_has_mail(l, 1) && !lanes_has_mail(l, 0), "in worker 1's inbox");
    ok(lanes_enter(l, 0, even, &owner) == even && owner == 0, "worker 0's own key runs at once");
    ok(lanes_enter(l, 1, odd2, &owner) == NULL && owner == 1,
       "worker 1's own record waits behind its inbox");
    ok(lanes_next(l, 1) == odd1, "worker 1 runs the older one first");
    ok(lanes_next(l, 1) == NULL, "the newer waits for the key (limit 1)");
    ok(lanes_leave(l, 1, 5) == odd2, "and comes when the older leaves work");
    ok(lanes_leave(l, 1, 5) == NULL, "nothing more");
    lanes_leave(l, 0, 4);
    lanes_free(l);
}

/* Many keys in and out, against a model of in-work counts and queues. */
static struct batch *keyed(unsigned k)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    b->key = (uint64_t)k * 0x9e3779b97f4a7c15u; /* spread over the table */
    b->piece = k;
    return b;
}

static void test_model(void)
{
    enum { KEYS = 300, LIMIT = 2, STEPS = 200000 };
    struct lanes *l = lanes_new(LIMIT, 1, false, KEYS);
    static unsigned inwork[KEYS], waiting[KEYS];
    static struct batch *running[KEYS * LIMIT];
    size_t nrun = 0;
    int bad = 0;
    uint64_t seed = 42, w = 0;
    for (int s = 0; s < STEPS && !bad; s++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned k = (unsigned)(seed >> 33) % KEYS, owner;
        if ((seed >> 20) % 2) {
            struct batch *b = lanes_enter(l, 0, keyed(k), &owner);
            if ((b != NULL) != (inwork[k] < LIMIT))
                bad = 1;
            if (b) {
                inwork[k]++;
                running[nrun++] = b;
            } else {
                waiting[k]++;
                w++;
            }
        } else if (nrun) {
            size_t i = (size_t)(seed >> 40) % nrun;
            struct batch *b = running[i];
            unsigned kk = (unsigned)b->piece;
            struct batch *next = lanes_leave(l, 0, b->key);
            running[i] = running[--nrun];
            free(b);
            if ((next != NULL) != (waiting[kk] > 0) || (next && next->piece != kk))
                bad = 2;
            if (next) {
                waiting[kk]--;
                w--;
                running[nrun++] = next;
            } else {
                inwork[kk]--;
            }
        }
    }
    is_int(bad, 0, "%d steps over %d keys agree with the model", STEPS, KEYS);
    struct lanes_figures f;
    lanes_figures(l, &f);
    is_int(f.waiting, w, "the records waiting are counted");
    ok(f.keys_max <= KEYS, "keys_max is at most the keys there are");
    for (struct batch *b = lanes_drain(l), *n; b; b = n) {
        n = b->next;
        free(b);
    }
    while (nrun)
        free(running[--nrun]);
    lanes_free(l);
}

int main(void)
{
    test_one_at_a_time();
    test_limit_two();
    test_sticky();
    test_model();
    return done_testing();
}
