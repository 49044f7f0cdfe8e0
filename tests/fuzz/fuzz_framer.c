/* fuzz_framer.c - the framer (framer.h) against a reference splitter.
 *
 * Input: a 7-byte header, then the byte stream.
 *   h[0] delimiter          h[1] max_record (0..255)
 *   h[2] chunk_size - 8     h[3] batch_records - 1 (low 4 bits)
 *   h[4] batch_bytes / 4    h[5] flags: 1 chunk pool, 2 hold batches to the
 *                                end, 4 stop early (framer_stop); bits 3-7:
 *                                reads of at most 1 + 9 * bits bytes
 *   h[6] seed of the read sizes; where an early stop happens (h[6] / 256)
 *
 * The stream is fed through framer_space/framer_commit in reads of
 * pseudo-random sizes, then framer_finish (or framer_stop after a prefix).
 * Every record must come out as the reference cut it: same bytes, same
 * number, in order; records over max_record through on_oversize (their
 * delimiter included, open_end when the stream ended inside them); a last
 * record without delimiter as open_end. After each commit every complete
 * record has been passed on (a trickle is never held back). With `hold`,
 * batches are kept to the end and checked again (chunks must not be
 * reused under them). Any mismatch aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 7

enum { F_POOL = 1, F_HOLD = 2, F_STOP = 4 };

/* A record as the reference cuts it. */
struct ref {
    size_t off, len; /* payload in the stream */
    bool delim;      /* followed by its delimiter */
    bool oversize;   /* len > max_record */
};

struct fz {
    const uint8_t *in; /* the stream */
    size_t in_len;
    unsigned char delim;
    size_t max_record, batch_records, batch_bytes;
    struct ref *refs; /* the reference's records */
    size_t nrefs;
    size_t next;         /* index of the record expected next */
    bool finishing;      /* inside framer_finish/framer_stop */
    uint8_t ov[1 << 16]; /* bytes of the oversize record being passed on */
    size_t ov_len;       /* (an input is far shorter) */
    bool ov_open;        /* pieces came, the last not yet */
    struct batch **held; /* batches kept for a second look */
    size_t nheld;
};

static void fail(const char *what, size_t recno)
{
    fprintf(stderr, "fuzz_framer: %s (record %zu)\n", what, recno);
    abort();
}

/* Cuts in[0..len) as the framer documents. With `to_end` the bytes after
 * the last delimiter are a record (framer_finish); without, only when
 * they are already oversize (framer_stop ends such a record). */
static size_t ref_split(struct fz *z, size_t len, bool to_end)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        bool at_delim = i < len && z->in[i] == z->delim;
        bool tail = i == len && i > start && (to_end || i - start > z->max_record);
        if (!at_delim && !tail)
            continue;
        z->refs[n++] = (struct ref){start, i - start, at_delim, i - start > z->max_record};
        start = i + 1;
    }
    return n;
}

static const struct ref *expect(struct fz *z, uint64_t recno)
{
    if (recno != z->next + 1)
        fail("record out of sequence", (size_t)recno);
    if (z->next >= z->nrefs)
        fail("more records than the reference", (size_t)recno);
    return &z->refs[z->next];
}

static void check_record(struct fz *z, const struct batch *b, size_t i)
{
    const struct ref *r = &z->refs[b->recno0 - 1 + i];
    bool open = b->open_end && i + 1 == b->n;
    if (r->oversize)
        fail("oversize record in a batch", b->recno0 + i);
    if (b->recs[i].len != r->len || memcmp(b->chunk->data + b->recs[i].off, z->in + r->off, r->len))
        fail("record bytes differ", b->recno0 + i);
    if (open == r->delim)
        fail("open_end differs", b->recno0 + i);
    if (open && !z->finishing)
        fail("open_end before the end of input", b->recno0 + i);
    if (i + 1 < b->n && b->recs[i + 1].off != b->recs[i].off + b->recs[i].len + 1)
        fail("records of a batch not contiguous", b->recno0 + i);
}

static void check_batch(struct fz *z, const struct batch *b)
{
    size_t bytes = 0;
    if (b->n == 0 || b->n > z->batch_records)
        fail("batch record count out of bounds", (size_t)b->recno0);
    for (size_t i = 0; i < b->n; i++) {
        check_record(z, b, i);
        bytes += batch_rec_size(b, i);
    }
    if (bytes != b->bytes)
        fail("batch bytes are not payload + delimiters", (size_t)b->recno0);
    if (b->bytes > z->batch_bytes && b->n > 1)
        fail("batch over batch_bytes with more than one record", (size_t)b->recno0);
}

static int on_batch(void *ctx, struct batch *b)
{
    struct fz *z = ctx;
    if (z->ov_open)
        fail("batch inside an oversize record", (size_t)b->recno0);
    expect(z, b->recno0);
    if (b->recno0 - 1 + b->n > z->nrefs)
        fail("more records than the reference", (size_t)b->recno0);
    check_batch(z, b);
    z->next += b->n;
    if (z->held)
        z->held[z->nheld++] = b;
    else
        batch_free(b);
    return 0;
}

static void oversize_end(struct fz *z, const struct ref *r, bool open_end)
{
    size_t want = r->len + r->delim;
    if (z->ov_len != want || memcmp(z->ov, z->in + r->off, want))
        fail("oversize bytes differ", z->next + 1);
    if (open_end == r->delim)
        fail("oversize open_end differs", z->next + 1);
    if (open_end && !z->finishing)
        fail("oversize open_end before the end of input", z->next + 1);
    z->ov_len = 0;
    z->ov_open = false;
    z->next++;
}

static int on_oversize(void *ctx, uint64_t recno, const char *p, size_t len, bool last,
                       bool open_end)
{
    struct fz *z = ctx;
    const struct ref *r = expect(z, recno);
    if (!r->oversize)
        fail("record of normal size passed as oversize", (size_t)recno);
    if (open_end && !last)
        fail("open_end on a piece that is not the last", (size_t)recno);
    if (z->ov_len + len > r->len + r->delim)
        fail("oversize record longer than the reference", (size_t)recno);
    memcpy(z->ov + z->ov_len, p, len);
    z->ov_len += len;
    z->ov_open = true;
    if (last)
        oversize_end(z, r, open_end);
    return 0;
}

/* Delimiters in in[from..from+len): the records they complete. */
static size_t delimiters(const struct fz *z, size_t from, size_t len)
{
    size_t n = 0;
    for (size_t i = from; i < from + len; i++)
        n += z->in[i] == z->delim;
    return n;
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Feeds in[0..len) in reads of 1..max bytes; after each, every complete
 * record must have been passed on. */
static void feed(struct framer *f, struct fz *z, size_t len, size_t max, uint32_t seed)
{
    size_t fed = 0, delims = 0;
    while (fed < len) {
        char *p;
        size_t room;
        if (framer_space(f, &p, &room) != 0 || room == 0)
            fail("framer_space gave no room", z->next + 1);
        size_t n = 1 + next_rand(&seed) % max;
        n = n < room ? n : room;
        n = n < len - fed ? n : len - fed;
        memcpy(p, z->in + fed, n);
        if (framer_commit(f, n, (int64_t)fed) != 0)
            fail("framer_commit failed", z->next + 1);
        delims += delimiters(z, fed, n);
        fed += n;
        if (z->next != delims)
            fail("complete records held back after a commit", z->next + 1);
    }
}

static void check_held(struct fz *z)
{
    for (size_t i = 0; i < z->nheld; i++) {
        check_batch(z, z->held[i]);
        batch_free(z->held[i]);
    }
}

static void run(struct fz *z, const uint8_t *h, struct chunk_pool *pool, size_t chunk_size)
{
    bool stop = h[5] & F_STOP;
    size_t len = stop ? z->in_len * h[6] / 256 : z->in_len;
    struct framer_config cfg = {
        .delim = z->delim,
        .max_record = z->max_record,
        .chunk_size = chunk_size,
        .pool = pool,
        .batch_records = z->batch_records,
        .batch_bytes = z->batch_bytes,
        .on_batch = on_batch,
        .on_oversize = on_oversize,
        .ctx = z,
    };
    struct framer *f = framer_new(&cfg);
    if (!f)
        abort();
    z->nrefs = ref_split(z, len, !stop);
    feed(f, z, len, 1 + ((size_t)h[5] >> 3) * 9, 0x9e3779b9u ^ h[6]);
    z->finishing = true;
    if ((stop ? framer_stop(f) : framer_finish(f, (int64_t)len)) != 0)
        fail("finish/stop failed", z->next + 1);
    if (z->next != z->nrefs || z->ov_open)
        fail("records missing at the end", z->next + 1);
    if (!stop && framer_records(f) != z->nrefs)
        fail("framer_records differs from the reference", (size_t)framer_records(f));
    framer_free(f);
    check_held(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER || size - HEADER > sizeof((struct fz *)0)->ov)
        return 0;
    static struct fz z;
    const uint8_t *h = data;
    size_t chunk_size = 8 + (size_t)h[2];
    z = (struct fz){
        .in = data + HEADER,
        .in_len = size - HEADER,
        .delim = h[0],
        .max_record = h[1],
        .batch_records = 1 + (h[3] & 15u),
        .batch_bytes = 1 + (size_t)h[4] * 4,
    };
    z.refs = calloc(z.in_len + 1, sizeof *z.refs);
    if (h[5] & F_HOLD)
        z.held = calloc(z.in_len + 1, sizeof *z.held);
    struct chunk_pool *pool = h[5] & F_POOL ? chunk_pool_new(chunk_size, 2) : NULL;
    if (!z.refs || ((h[5] & F_HOLD) && !z.held) || ((h[5] & F_POOL) && !pool))
        abort();
    run(&z, h, pool, chunk_size);
    chunk_pool_free(pool);
    free(z.held);
    free(z.refs);
    return 0;
}
