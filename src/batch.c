/* batch.c - chunks and batches; see batch.h for ownership. */
#include "batch.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

struct chunk_pool {
    pthread_mutex_t mu; /* guards free, count */
    struct chunk *free; /* stack of free chunks */
    size_t count, keep;
    size_t size; /* cap of pooled chunks */
};

struct chunk_pool *chunk_pool_new(size_t size, size_t keep)
{
    struct chunk_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    if (sync_mutex_init(&pool->mu) != 0) {
        free(pool);
        return NULL;
    }
    pool->size = size;
    pool->keep = keep;
    return pool;
}

void chunk_pool_free(struct chunk_pool *pool)
{
    if (!pool)
        return;
    while (pool->free) {
        struct chunk *c = pool->free;
        pool->free = c->next;
        free(c);
    }
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

struct chunk *chunk_new(struct chunk_pool *pool, size_t cap)
{
    struct chunk *c = NULL;
    if (pool && cap == pool->size) {
        sync_lock(&pool->mu);
        c = pool->free;
        if (c) {
            pool->free = c->next;
            pool->count--;
        }
        sync_unlock(&pool->mu);
    } else {
        pool = NULL;
    }
    if (!c) {
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
    }
    c->pool = pool;
    c->cap = cap;
    c->len = 0;
    atomic_init(&c->refs, 1);
    return c;
}

void chunk_ref(struct chunk *c)
{
    /* relaxed: the caller already holds a reference, so nobody frees c meanwhile */
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void chunk_unref(struct chunk *c)
{
    /* acq_rel: every holder's use of the data happens before the last one
     * frees or recycles it */
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    struct chunk_pool *pool = c->pool;
    if (pool) {
        sync_lock(&pool->mu);
        if (pool->count < pool->keep) {
            c->next = pool->free;
            pool->free = c;
            pool->count++;
            c = NULL;
        }
        sync_unlock(&pool->mu);
    }
    free(c);
}

struct batch *batch_new(struct chunk *c, size_t cap)
{
    if (cap == 0)
        cap = 1;
    struct batch *b = malloc(sizeof *b + cap * sizeof(struct rec));
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->recs = (struct rec *)(b + 1);
    b->chunk = c;
    chunk_ref(c);
    return b;
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    chunk_unref(b->chunk);
    free(b->segs);
    free(b->failed);
    free(b->faults);
    if (b->ochunk)
        chunk_unref(b->ochunk);
    else
        free(b->obuf);
    free(b);
}

struct batch *batch_split(struct batch *b, size_t k)
{
    struct batch *h = batch_new(b->chunk, k);
    if (!h)
        return NULL;
    memcpy(h->recs, b->recs, k * sizeof *h->recs);
    h->n = k;
    for (size_t i = 0; i < k; i++)
        h->bytes += (size_t)b->recs[i].len + 1; /* only the last record can be open */
    h->recno0 = b->recno0;
    h->t_in = b->t_in;
    h->t_queued = b->t_queued;
    b->recs += k;
    b->n -= k;
    b->bytes -= h->bytes;
    b->recno0 += k;
    return h;
}

int batch_compact(struct batch *b)
{
    if (b->n == 0 || b->bytes >= b->chunk->cap / 2)
        return 0;
    size_t first = b->recs[0].off, last = b->n - 1;
    size_t span = b->recs[last].off + batch_rec_size(b, last) - first;
    struct chunk *c = chunk_new(NULL, span);
    if (!c)
        return -ENOMEM;
    memcpy(c->data, b->chunk->data + first, span);
    c->len = span;
    for (size_t i = 0; i < b->n; i++)
        b->recs[i].off -= (uint32_t)first;
    chunk_unref(b->chunk);
    b->chunk = c;
    return 0;
}

struct batch *batch_join(struct batch *list)
{
    if (!list->next)
        return list;
    size_t n = 0, bytes = 0;
    for (struct batch *e = list; e; e = e->next) {
        n += e->n;
        bytes += e->bytes;
    }
    struct chunk *c = chunk_new(NULL, bytes);
    struct batch *j = c ? batch_new(c, n) : NULL;
    chunk_unref(c); /* j holds it */
    if (!j)
        return NULL;
    j->recno0 = list->recno0;
    j->piece = list->piece;
    j->t_in = list->t_in;
    j->t_queued = list->t_queued;
    while (list) {
        struct batch *e = list;
        list = e->next;
        size_t first = e->recs[0].off;
        memcpy(c->data + c->len, e->chunk->data + first, e->bytes);
        for (size_t i = 0; i < e->n; i++)
            j->recs[j->n++] =
                (struct rec){(uint32_t)(e->recs[i].off - first + c->len), e->recs[i].len};
        c->len += e->bytes;
        j->open_end = e->open_end;
        batch_free(e);
    }
    j->bytes = bytes;
    return j;
}

int batch_reserve(struct batch *b, size_t cap)
{
    if (cap <= b->ocap)
        return 0;
    /* A buffer of a fair share of a chunk comes from the input's chunk pool:
     * malloc gives one that size fresh pages (mmap, or a heap trimmed at each
     * free) and the page faults made upper on 100-byte lines 50% slower. */
    struct chunk_pool *pool = b->chunk->pool;
    struct chunk *c = NULL;
    char *p;
    if (pool && cap <= pool->size && cap >= pool->size / 4) {
        c = chunk_new(pool, pool->size);
        if (!c)
            return -ENOMEM;
        p = c->data;
        cap = c->cap;
    } else if (!(p = malloc(cap))) {
        return -ENOMEM;
    }
    if (b->olen)
        memcpy(p, b->obuf, b->olen);
    if (b->ochunk)
        chunk_unref(b->ochunk);
    else
        free(b->obuf);
    b->obuf = p;
    b->ocap = cap;
    b->ochunk = c;
    return 0;
}

int batch_fail_record(struct batch *b, size_t i)
{
    if (!b->failed && !(b->failed = calloc(b->n, sizeof *b->failed)))
        return -ENOMEM;
    b->failed[i] = true;
    b->n_failed++;
    return 0;
}

int batch_fail_job(struct batch *b, size_t i, struct batch_fault f)
{
    if (!b->faults && !(b->faults = calloc(b->n, sizeof *b->faults)))
        return -ENOMEM;
    b->faults[i] = f;
    return batch_fail_record(b, i);
}

int batch_emit(struct batch *b, const char *p, size_t len)
{
    if (len == 0)
        return 0;
    b->bytes_out += len;
    if (b->nsegs && b->segs[b->nsegs - 1].p + b->segs[b->nsegs - 1].len == p) {
        b->segs[b->nsegs - 1].len += len;
        return 0;
    }
    if (b->nsegs == b->segcap) {
        size_t cap = b->segcap ? b->segcap * 2 : 16;
        struct seg *s = realloc(b->segs, cap * sizeof *s);
        if (!s)
            return -ENOMEM;
        b->segs = s;
        b->segcap = cap;
    }
    b->segs[b->nsegs++] = (struct seg){p, len};
    return 0;
}
