/* test_batch.c - chunks and batches (batch.h): reference counts (also
 * under threads), the pool taking chunks back, output buffers from the
 * pool or malloc, kept across a reserve, freed with the batch; and output
 * segments merging when contiguous. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "tap.h"

enum { POOL_SIZE = 4096 };

static void test_refs(void)
{
    struct chunk *c = chunk_new(NULL, 16);
    if (!ok(c != NULL, "chunk_new"))
        return;
    is_int(atomic_load(&c->refs), 1, "a new chunk has one reference");
    chunk_ref(c);
    is_int(atomic_load(&c->refs), 2, "chunk_ref adds one");
    chunk_unref(c);
    is_int(atomic_load(&c->refs), 1, "chunk_unref takes it back");
    chunk_unref(c); /* freed: a leak or a double free shows under ASan */
    chunk_unref(NULL);
}

enum { THREADS = 4, ROUNDS = 100000 };

static void *ref_unref(void *arg)
{
    struct chunk *c = arg;
    for (int i = 0; i < ROUNDS; i++) {
        chunk_ref(c);
        chunk_unref(c);
    }
    return NULL;
}

static void test_refs_threads(void)
{
    struct chunk *c = chunk_new(NULL, 16);
    pthread_t t[THREADS];
    int started = 0;
    for (int i = 0; i < THREADS; i++)
        started += pthread_create(&t[i], NULL, ref_unref, c) == 0;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    is_int(started, THREADS, "%d threads started", THREADS);
    is_int(atomic_load(&c->refs), 1, "%d threads x %d ref/unref pairs leave one reference", THREADS,
           ROUNDS);
    chunk_unref(c);
}

/* A batch of one record over a pooled chunk. */
static struct batch *pooled_batch(struct chunk_pool *pool, struct chunk **input)
{
    struct chunk *c = chunk_new(pool, POOL_SIZE);
    memcpy(c->data, "hello\n", 6);
    c->len = 6;
    struct batch *b = batch_new(c, 1);
    chunk_unref(c); /* the batch holds it */
    b->recs[0] = (struct rec){0, 5};
    b->n = 1;
    b->bytes = 6;
    *input = c;
    return b;
}

static void test_reserve(void)
{
    struct chunk_pool *pool = chunk_pool_new(POOL_SIZE, 4);
    struct chunk *input;
    struct batch *b = pooled_batch(pool, &input);

    is_int(batch_reserve(b, 10), 0, "a small reserve");
    ok(b->obuf && !b->ochunk && b->ocap >= 10, "is malloc'd");
    memcpy(b->obuf, "abc", 3);
    b->olen = 3;
    is_int(batch_reserve(b, 5), 0, "a reserve within the buffer");
    ok(b->ocap >= 10 && !b->ochunk, "leaves it as it is");
    is_int(batch_reserve(b, POOL_SIZE / 2), 0, "a big reserve");
    ok(b->ochunk && b->obuf == b->ochunk->data && b->ocap == POOL_SIZE,
       "takes a chunk from the pool, all of it");
    ok(b->olen == 3 && memcmp(b->obuf, "abc", 3) == 0, "and keeps the bytes used");
    struct chunk *out = b->ochunk;
    batch_free(b);

    /* both chunks went back to the pool: the next two come from it */
    struct chunk *c1 = chunk_new(pool, POOL_SIZE), *c2 = chunk_new(pool, POOL_SIZE);
    ok((c1 == input && c2 == out) || (c1 == out && c2 == input),
       "batch_free gives the input and output chunks back to the pool");
    chunk_unref(c1);
    chunk_unref(c2);

    /* a chunk not from the pool: a big reserve is malloc'd */
    struct chunk *c = chunk_new(NULL, 64);
    b = batch_new(c, 1);
    chunk_unref(c);
    is_int(batch_reserve(b, POOL_SIZE), 0, "a reserve for a batch over an unpooled chunk");
    ok(b->obuf && !b->ochunk, "is malloc'd");
    batch_free(b);
    chunk_pool_free(pool);
}

static void test_emit(void)
{
    struct chunk *c = chunk_new(NULL, 64);
    memcpy(c->data, "a\nb\nc\n", 6);
    struct batch *b = batch_new(c, 3);
    chunk_unref(c);
    int rc = batch_reserve(b, 6);
    if (rc == 0)
        memcpy(b->obuf, "A\nB\n", 4);
    rc |= batch_emit(b, b->obuf, 2);
    rc |= batch_emit(b, b->obuf + 2, 2);
    rc |= batch_emit(b, c->data + 4, 2);
    rc |= batch_emit(b, c->data, 0);
    is_int(rc, 0, "batch_emit");
    is_int(b->nsegs, 2, "contiguous segments merge; empty ones are not kept");
    ok(b->segs[0].p == b->obuf && b->segs[0].len == 4 && b->segs[1].p == c->data + 4,
       "segments point into obuf and the chunk");
    is_int(b->bytes_out, 6, "bytes_out sums them");
    batch_free(b);
}

int main(void)
{
    test_refs();
    test_refs_threads();
    test_reserve();
    test_emit();
    return done_testing();
}
