/* mkbatch.h - batches of numbered records for the unit tests. Header-only:
 * include it once, after batch.h. */
#ifndef WEIR_MKBATCH_H
#define WEIR_MKBATCH_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A batch of n records numbered first.., each `width` payload bytes plus
 * a '\n', in a chunk of its own. */
static struct batch *mk(uint64_t first, size_t n, size_t width)
{
    struct chunk *c = chunk_new(NULL, n * (width + 1) + 32);
    struct batch *b = batch_new(c, n);
    chunk_unref(c); /* the batch holds the reference now */
    for (size_t i = 0; i < n; i++) {
        char num[128];
        snprintf(num, sizeof num, "%0*" PRIu64, (int)width, first + i);
        size_t off = i * (width + 1);
        memcpy(c->data + off, num, width); /* width >= digits in every test */
        c->data[off + width] = '\n';
        b->recs[i] = (struct rec){(uint32_t)off, (uint32_t)width};
    }
    c->len = n * (width + 1);
    b->n = n;
    b->bytes = n * (width + 1);
    b->recno0 = first;
    return b;
}

/* The number record i of b holds. */
static inline uint64_t rec_value(const struct batch *b, size_t i)
{
    uint64_t v = 0;
    const char *p = b->chunk->data + b->recs[i].off;
    for (uint32_t k = 0; k < b->recs[i].len; k++)
        v = v * 10 + (uint64_t)(p[k] - '0');
    return v;
}

#endif
