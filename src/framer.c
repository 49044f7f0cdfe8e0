/* framer.c - records and batches from a byte stream; see framer.h. */
#include "framer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
#endif

/* Bit i set: byte i of the 64 at p is the delimiter. */
typedef uint64_t (*mask64_fn)(const char *p, unsigned char delim);

/* Bit i set: p[i] is the delimiter, for i < len <= 64. */
static inline uint64_t delim_mask_tail(const char *p, size_t len, unsigned char delim)
{
    uint64_t m = 0;
    for (size_t i = 0; i < len; i++)
        m |= (uint64_t)((unsigned char)p[i] == delim) << i;
    return m;
}

#if defined(__x86_64__) && defined(__SSE2__)
static uint64_t mask64_sse2(const char *p, unsigned char delim)
{
    const __m128i d = _mm_set1_epi8((char)delim);
    uint64_t m = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, d)) << (16 * i);
    }
    return m;
}

__attribute__((target("avx2"))) static uint64_t mask64_avx2(const char *p, unsigned char delim)
{
    const __m256i d = _mm256_set1_epi8((char)delim);
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    uint32_t mlo = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, d));
    uint32_t mhi = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, d));
    return (uint64_t)mhi << 32 | mlo;
}

static mask64_fn pick_mask64(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? mask64_avx2 : mask64_sse2;
}
#else
static uint64_t mask64_scalar(const char *p, unsigned char delim)
{
    return delim_mask_tail(p, 64, delim);
}

static mask64_fn pick_mask64(void)
{
    return mask64_scalar;
}
#endif

struct framer {
    struct framer_config cfg;
    struct chunk *chunk; /* being filled; NULL before the first read */
    size_t rec_start;    /* offset of the record not yet complete */
    size_t scan_pos;     /* where the delimiter search resumes */
    bool skipping;       /* the open record is oversize: its bytes are passed on */
    uint64_t next_recno; /* number of the next record, 1-based */
    struct batch *cur;   /* batch being filled, or NULL */
    int64_t now;         /* read time of the bytes being framed */
    mask64_fn mask64;    /* delimiter bits of 64 bytes, for this CPU */
};

struct framer *framer_new(const struct framer_config *cfg)
{
    struct framer *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cfg = *cfg;
    f->next_recno = 1;
    f->mask64 = pick_mask64();
    return f;
}

void framer_free(struct framer *f)
{
    if (!f)
        return;
    batch_free(f->cur);
    chunk_unref(f->chunk);
    free(f);
}

uint64_t framer_records(const struct framer *f)
{
    return f->next_recno - 1;
}

int framer_space(struct framer *f, char **p, size_t *room)
{
    struct chunk *c = f->chunk;
    size_t partial = c ? c->len - f->rec_start : 0;
    if (!c || c->cap - c->len < f->cfg.chunk_size / 8) {
        size_t cap = f->cfg.chunk_size;
        while (cap < 2 * partial)
            cap *= 2;
        struct chunk *n = chunk_new(f->cfg.pool, cap);
        if (!n)
            return -ENOMEM;
        if (partial)
            memcpy(n->data, c->data + f->rec_start, partial);
        n->len = partial;
        f->scan_pos -= f->rec_start;
        f->rec_start = 0;
        chunk_unref(c);
        f->chunk = c = n;
    }
    *p = c->data + c->len;
    *room = c->cap - c->len;
    return 0;
}

static int flush_batch(struct framer *f)
{
    struct batch *b = f->cur;
    if (!b)
        return 0;
    f->cur = NULL;
    return f->cfg.on_batch(f->cfg.ctx, b);
}

/* add_record's general path. */
static int add_record_slow(struct framer *f, size_t start, size_t len, bool open_end)
{
    uint64_t recno = f->next_recno++;
    size_t size = len + !open_end;
    if (len > f->cfg.max_record) {
        int rc = flush_batch(f);
        if (rc == 0)
            rc =
                f->cfg.on_oversize(f->cfg.ctx, recno, f->chunk->data + start, size, true, open_end);
        return rc;
    }
    struct batch *b = f->cur;
    if (b && (b->n == f->cfg.batch_records || b->bytes + size > f->cfg.batch_bytes)) {
        int rc = flush_batch(f);
        if (rc)
            return rc;
        b = NULL;
    }
    if (!b) {
        b = f->cur = batch_new(f->chunk, f->cfg.batch_records);
        if (!b)
            return -ENOMEM;
        b->recno0 = recno;
        b->t_in = f->now;
    }
    b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)len};
    b->bytes += size;
    b->open_end = open_end;
    return 0;
}

/* Adds complete record [start, start+len) (delimiter present unless
 * open_end) to the current batch. Inline for the common case, a record of
 * normal size that fits; the rest (a new batch, an oversize record, the
 * open last record) goes the slow way. */
static inline int add_record(struct framer *f, size_t start, size_t len, bool open_end)
{
    struct batch *b = f->cur;
    if (open_end || !b || b->n == f->cfg.batch_records || b->bytes + len + 1 > f->cfg.batch_bytes ||
        len > f->cfg.max_record)
        return add_record_slow(f, start, len, open_end);
    b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)len};
    b->bytes += len + 1;
    f->next_recno++;
    return 0;
}

int framer_commit(struct framer *f, size_t n, int64_t now)
{
    struct chunk *c = f->chunk;
    const unsigned char delim = f->cfg.delim;
    char *data = c->data;
    size_t end = c->len + n;
    size_t pos = f->scan_pos;
    int rc = 0;
    c->len = end;
    f->now = now;
    /* delimiters are found 64 bytes at a time, then walked bit by bit */
    mask64_fn mask64 = f->mask64;
    for (size_t blk = pos; blk < end; blk += 64) {
        uint64_t m = end - blk >= 64 ? mask64(data + blk, delim)
                                     : delim_mask_tail(data + blk, end - blk, delim);
        for (; m; m &= m - 1) {
            size_t at = blk + (size_t)__builtin_ctzll(m);
            if (f->skipping) {
                rc = f->cfg.on_oversize(f->cfg.ctx, f->next_recno++, data + f->rec_start,
                                        at + 1 - f->rec_start, true, false);
                f->skipping = false;
            } else {
                rc = add_record(f, f->rec_start, at - f->rec_start, false);
            }
            f->rec_start = at + 1;
            if (rc) {
                pos = f->rec_start;
                goto out;
            }
        }
    }
    pos = end;
    if (!f->skipping && end - f->rec_start > f->cfg.max_record) {
        rc = flush_batch(f);
        if (rc)
            goto out;
        f->skipping = true;
    }
    if (f->skipping) {
        /* pass the oversize bytes on and reuse their space */
        if (end > f->rec_start)
            rc = f->cfg.on_oversize(f->cfg.ctx, f->next_recno, data + f->rec_start,
                                    end - f->rec_start, false, false);
        c->len = pos = f->rec_start;
        if (rc)
            goto out;
    }
    rc = flush_batch(f);
out:
    f->scan_pos = pos;
    return rc;
}

int framer_stop(struct framer *f)
{
    if (!f->skipping) {
        struct chunk *c = f->chunk;
        if (!c || c->len <= f->rec_start || !f->cfg.on_cut)
            return 0;
        size_t start = f->rec_start;
        f->rec_start = f->scan_pos = c->len;
        return f->cfg.on_cut(f->cfg.ctx, f->next_recno++, c->data + start, c->len - start);
    }
    f->skipping = false;
    return f->cfg.on_oversize(f->cfg.ctx, f->next_recno++, "", 0, true, true);
}

int framer_finish(struct framer *f, int64_t now)
{
    int rc = 0;
    f->now = now;
    if (f->skipping) {
        rc = framer_stop(f);
    } else if (f->chunk && f->chunk->len > f->rec_start) {
        rc = add_record(f, f->rec_start, f->chunk->len - f->rec_start, true);
        f->rec_start = f->scan_pos = f->chunk->len;
    }
    if (rc == 0)
        rc = flush_batch(f);
    return rc;
}
