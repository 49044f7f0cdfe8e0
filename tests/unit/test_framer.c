/* test_framer.c - cutting the input into records and batches (framer.h):
 * every record comes out whole and numbered, whatever the read sizes;
 * records are bytes (NULs pass); the last record may lack its delimiter;
 * oversize records go to on_oversize and do not stop the flow; batches
 * respect their limits and are contiguous in their chunk.
 *
 * The fake on_batch checks each batch's invariants and renders records as
 * text: "N:payload" joined by "|", "$" after a record without delimiter,
 * "N!:bytes" for an oversize record (its bytes, delimiter included).
 * Non-printable bytes render as \n, \0 or \xHH. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "framer.h"
#include "tap.h"

struct text {
    char *p;
    size_t len, cap;
};

static void text_put(struct text *t, const char *p, size_t len)
{
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, p, len);
    t->len += len;
    t->p[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

static void text_escaped(struct text *t, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        char buf[8];
        if (c == '\n')
            text_puts(t, "\\n");
        else if (c == '\0')
            text_puts(t, "\\0");
        else if (c < 0x20 || c >= 0x7f || c == '|' || c == '\\' || c == '$') {
            snprintf(buf, sizeof buf, "\\x%02x", c);
            text_puts(t, buf);
        } else {
            text_put(t, (const char *)&p[i], 1);
        }
    }
}

#define MAX_HELD 4096

struct ctx {
    unsigned char delim;
    size_t batch_records, batch_bytes;
    bool hold;                 /* keep batches until the end, render them then */
    bool finishing;            /* inside framer_finish */
    int stop_rc;               /* on_batch returns this (0: go on) */
    struct text out;           /* rendered records */
    uint64_t next_seq;         /* number the next record must carry */
    size_t batches;            /* batches received */
    size_t batch_n[MAX_HELD];  /* records per batch, in order */
    int64_t batch_t[MAX_HELD]; /* t_in per batch */
    struct batch *held[MAX_HELD];
    size_t nheld;
    int bad;       /* invariant violations seen */
    char why[200]; /* the first one */
    /* the oversize record being collected */
    struct text ov;
    uint64_t ov_seq;
    bool ov_open;    /* pieces arrived, last not yet */
    size_t oversize; /* oversize records completed */
};

static void violation(struct ctx *c, const char *what, uint64_t seq)
{
    if (!c->bad++)
        snprintf(c->why, sizeof c->why, "%s (record %" PRIu64 ")", what, seq);
}

static void sep(struct ctx *c)
{
    if (c->out.len)
        text_puts(&c->out, "|");
}

static void render_batch(struct ctx *c, const struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        char num[32];
        sep(c);
        snprintf(num, sizeof num, "%" PRIu64 ":", b->recno0 + i);
        text_puts(&c->out, num);
        text_escaped(&c->out, b->chunk->data + b->recs[i].off, b->recs[i].len);
        if (b->open_end && i + 1 == b->n)
            text_puts(&c->out, "$");
    }
}

static int on_batch(void *arg, struct batch *b)
{
    struct ctx *c = arg;
    if (b->n == 0)
        violation(c, "empty batch", c->next_seq);
    if (b->recno0 != c->next_seq)
        violation(c, "batch recno0 is not the next record number", b->recno0);
    if (b->n > c->batch_records)
        violation(c, "batch over batch_records", b->recno0);
    if (b->bytes > c->batch_bytes && b->n > 1)
        violation(c, "batch over batch_bytes with more than one record", b->recno0);
    if (b->open_end && !c->finishing)
        violation(c, "open_end before the end of input", b->recno0);
    size_t bytes = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct rec *r = &b->recs[i];
        bool open = b->open_end && i + 1 == b->n;
        bytes += r->len + !open;
        if ((size_t)r->off + r->len + !open > b->chunk->len)
            violation(c, "record beyond the chunk's filled bytes", b->recno0 + i);
        else if (!open && (unsigned char)b->chunk->data[r->off + r->len] != c->delim)
            violation(c, "record not followed by its delimiter", b->recno0 + i);
        if (memchr(b->chunk->data + r->off, c->delim, r->len))
            violation(c, "delimiter inside a record", b->recno0 + i);
        if (i + 1 < b->n && b->recs[i + 1].off != r->off + r->len + 1)
            violation(c, "records of a batch not contiguous", b->recno0 + i);
    }
    if (bytes != b->bytes)
        violation(c, "batch->bytes is not payload + delimiters", b->recno0);
    c->next_seq = b->recno0 + b->n;
    if (c->batches < MAX_HELD) {
        c->batch_n[c->batches] = b->n;
        c->batch_t[c->batches] = b->t_in;
    }
    c->batches++;
    if (c->hold && c->nheld < MAX_HELD) {
        /* rendered at the end: the bytes must outlive later reads */
        c->held[c->nheld++] = b;
    } else {
        render_batch(c, b);
        batch_free(b);
    }
    return c->stop_rc;
}

static void flush_held(struct ctx *c)
{
    for (size_t i = 0; i < c->nheld; i++) {
        render_batch(c, c->held[i]);
        batch_free(c->held[i]);
    }
    c->nheld = 0;
}

static int on_oversize(void *arg, uint64_t recno, const char *p, size_t len, bool last,
                       bool open_end)
{
    struct ctx *c = arg;
    if (c->hold)
        flush_held(c); /* keep the rendering in record order */
    if (c->ov_open && recno != c->ov_seq)
        violation(c, "oversize pieces of two records interleaved", recno);
    if (!c->ov_open && recno != c->next_seq)
        violation(c, "oversize record out of sequence", recno);
    if (open_end && !last)
        violation(c, "open_end on a piece that is not the last", recno);
    if (open_end && !c->finishing)
        violation(c, "oversize open_end before the end of input", recno);
    c->ov_open = true;
    c->ov_seq = recno;
    text_put(&c->ov, p, len);
    if (last) {
        char num[32];
        bool has_delim = c->ov.len && (unsigned char)c->ov.p[c->ov.len - 1] == c->delim;
        if (has_delim == open_end)
            violation(c, "oversize record's delimiter does not match open_end", recno);
        sep(c);
        snprintf(num, sizeof num, "%" PRIu64 "!:", recno);
        text_puts(&c->out, num);
        text_escaped(&c->out, c->ov.p ? c->ov.p : "", c->ov.len);
        c->ov.len = 0;
        c->ov_open = false;
        c->next_seq = recno + 1;
        c->oversize++;
    }
    return 0;
}

struct scenario {
    unsigned char delim;
    size_t max_record, chunk_size, batch_records, batch_bytes;
    struct chunk_pool *pool;
    bool hold;
};

static const struct scenario small = {
    .delim = '\n',
    .max_record = 8,
    .chunk_size = 16,
    .batch_records = 1000,
    .batch_bytes = 1 << 20,
};

static void ctx_init(struct ctx *c, const struct scenario *sc)
{
    memset(c, 0, sizeof *c);
    c->delim = sc->delim;
    c->batch_records = sc->batch_records;
    c->batch_bytes = sc->batch_bytes;
    c->hold = sc->hold;
    c->next_seq = 1;
    text_puts(&c->out, "");
}

static void ctx_done(struct ctx *c)
{
    flush_held(c);
    free(c->ov.p);
    free(c->out.p);
}

static struct framer *framer_for(const struct scenario *sc, struct ctx *c)
{
    struct framer_config cfg = {
        .delim = sc->delim,
        .max_record = sc->max_record,
        .chunk_size = sc->chunk_size,
        .pool = sc->pool,
        .batch_records = sc->batch_records,
        .batch_bytes = sc->batch_bytes,
        .on_batch = on_batch,
        .on_oversize = on_oversize,
        .ctx = c,
    };
    return framer_new(&cfg);
}

/* Feeds in[0..len) in commits of at most `step` bytes (and at most the
 * room offered). Returns the first nonzero return code. */
static int feed(struct framer *f, const char *in, size_t len, size_t step, int64_t now)
{
    while (len) {
        char *buf;
        size_t room;
        int rc = framer_space(f, &buf, &room);
        if (rc)
            return rc;
        if (room == 0)
            return -ENOSPC;
        size_t n = MIN(MIN(room, len), step);
        memcpy(buf, in, n);
        rc = framer_commit(f, n, now);
        if (rc)
            return rc;
        in += n;
        len -= n;
    }
    return 0;
}

/* Frames in[0..len): first [0, split), then the rest, each in commits of
 * at most `step` bytes, then finishes. Renders into c (initialized here;
 * the caller calls ctx_done). Returns framer_records(). */
static uint64_t run(const struct scenario *sc, struct ctx *c, const char *in, size_t len,
                    size_t split, size_t step)
{
    ctx_init(c, sc);
    struct framer *f = framer_for(sc, c);
    int rc = feed(f, in, split, step, 1000);
    if (rc == 0)
        rc = feed(f, in + split, len - split, step, 2000);
    c->finishing = true;
    if (rc == 0)
        rc = framer_finish(f, 3000);
    c->finishing = false;
    if (rc)
        violation(c, "framer returned an error", (uint64_t)(-rc));
    uint64_t n = framer_records(f);
    framer_free(f);
    flush_held(c);
    if (n != c->next_seq - 1)
        violation(c, "framer_records differs from records seen", n);
    return n;
}

static uint64_t run1(const struct scenario *sc, struct ctx *c, const char *in, size_t len)
{
    return run(sc, c, in, len, len, SIZE_MAX);
}

/* One pass of in: whole, then at every split point with big and 1-byte
 * commits; each must render as `want` with no violation. */
static void check_all_splits(const char *name, const struct scenario *sc, const char *in,
                             size_t len, const char *want)
{
    struct ctx c;
    run(sc, &c, in, len, len, SIZE_MAX);
    is_str(c.out.p, want, "%s: one write", name);
    ok(!c.bad, "%s: one write: batch invariants hold%s%s", name, c.bad ? ": " : "", c.why);
    ctx_done(&c);

    int wrong = 0, bad = 0;
    for (size_t split = 0; split <= len; split++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            run(sc, &c, in, len, split, bytewise ? 1 : SIZE_MAX);
            if (strcmp(c.out.p, want) != 0 && !wrong++)
                printf("# split at %zu%s: got \"%s\"\n", split, bytewise ? " bytewise" : "",
                       c.out.p);
            if (c.bad && !bad++)
                printf("# split at %zu%s: %s\n", split, bytewise ? " bytewise" : "", c.why);
            ctx_done(&c);
        }
    }
    is_int(wrong, 0, "%s: same records at every split point (%zu), whole and byte by byte", name,
           len + 1);
    is_int(bad, 0, "%s: batch invariants hold at every split point", name);
}

#define S(lit) lit, sizeof(lit) - 1 /* a literal with its length (NULs included) */

static void test_splits(void)
{
    struct scenario sc = small;
    check_all_splits("simple", &sc, S("alpha\nb\nccc\n"), "1:alpha|2:b|3:ccc");
    check_all_splits("missing final delimiter", &sc, S("alpha\nb\nccc"), "1:alpha|2:b|3:ccc$");
    check_all_splits("NUL inside records", &sc, S("a\0b\n\0\n\0\0\0\n"),
                     "1:a\\0b|2:\\0|3:\\0\\0\\0");
    check_all_splits("empty records", &sc, S("\n\na\n\n\nb\n"), "1:|2:|3:a|4:|5:|6:b");
    check_all_splits("only a delimiter", &sc, S("\n"), "1:");
    check_all_splits("one byte, no delimiter", &sc, S("x"), "1:x$");
    check_all_splits("record of exactly max_record", &sc, S("12345678\n12345678"),
                     "1:12345678|2:12345678$");
    check_all_splits("oversize in the middle", &sc, S("ab\n123456789\ncd\n"),
                     "1:ab|2!:123456789\\n|3:cd");
    check_all_splits("long oversize in the middle", &sc,
                     S("ab\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\ncd\nef"),
                     "1:ab|2!:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n|3:cd|4:ef$");
    check_all_splits("oversize at the end with delimiter", &sc, S("ab\nyyyyyyyyyyyyyyyyyyyy\n"),
                     "1:ab|2!:yyyyyyyyyyyyyyyyyyyy\\n");
    check_all_splits("oversize at the end without delimiter", &sc, S("ab\nyyyyyyyyyyyyyyyyyyyy"),
                     "1:ab|2!:yyyyyyyyyyyyyyyyyyyy");
    check_all_splits("oversize of max_record+1 at the end", &sc, S("ab\n123456789"),
                     "1:ab|2!:123456789");
    check_all_splits("two oversize in a row", &sc, S("0123456789\nabcdefghij\nz\n"),
                     "1!:0123456789\\n|2!:abcdefghij\\n|3:z");
    check_all_splits("oversize first, then empty records", &sc, S("0123456789\n\n\n"),
                     "1!:0123456789\\n|2:|3:");
    check_all_splits("mixed sample", &sc, S("alpha\nb\n\nccc\0c\ndddddddddd\ne"),
                     "1:alpha|2:b|3:|4:ccc\\0c|5!:dddddddddd\\n|6:e$");

    /* max_record 0: only empty records are kept */
    sc.max_record = 0;
    check_all_splits("max_record 0", &sc, S("a\n\nb"), "1!:a\\n|2:|3!:b");

    /* batch limits hold at every split point too */
    sc = small;
    sc.batch_records = 2;
    sc.batch_bytes = 6;
    check_all_splits("batch limits 2 records, 6 bytes", &sc, S("a\nbb\n\nccccc\ndd\ne\nf\n"),
                     "1:a|2:bb|3:|4:ccccc|5:dd|6:e|7:f");

    /* records longer than a chunk but within max_record are carried whole */
    sc.max_record = 100;
    check_all_splits("records longer than the chunk", &sc,
                     S("0123456789abcdefghijklmnopqrstuvwxyz0123456789\nshort\n"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                     "1:0123456789abcdefghijklmnopqrstuvwxyz0123456789|2:short|"
                     "3:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$");
}

static void test_delimiters(void)
{
    struct scenario sc = small;
    sc.delim = ',';
    check_all_splits("custom delimiter ','", &sc, S("a,b\nc,,d"), "1:a|2:b\\nc|3:|4:d$");
    sc.delim = '\0';
    check_all_splits("NUL delimiter", &sc, S("line1\nx\0b\0\0c"), "1:line1\\nx|2:b|3:|4:c$");
    check_all_splits("NUL delimiter, closed", &sc, S("one\0two\0"), "1:one|2:two");
    check_all_splits("NUL delimiter, oversize", &sc,
                     S("a\0"
                       "0123456789\0"
                       "b\0"),
                     "1:a|2!:0123456789\\0|3:b");
    sc.delim = 0xff;
    check_all_splits("byte 0xff delimiter", &sc, S("a\xff\xfe\xff"), "1:a|2:\\xfe");
}

static void test_empty_input(void)
{
    struct ctx c;
    uint64_t n = run(&small, &c, "", 0, 0, SIZE_MAX);
    is_int(n, 0, "empty input: no records");
    is_int(c.batches, 0, "empty input: no batch");
    is_str(c.out.p, "", "empty input: nothing rendered");
    ctx_done(&c);

    /* finish right after new, without ever asking for space */
    ctx_init(&c, &small);
    struct framer *f = framer_for(&small, &c);
    is_int(framer_finish(f, 0), 0, "finish without any read");
    is_int(framer_records(f), 0, "finish without any read: no records");
    framer_free(f);
    framer_free(NULL);
    ctx_done(&c);
}

static void test_batch_limits(void)
{
    struct scenario sc = small;
    struct ctx c;
    const char in[] = "a\nb\nc\nd\ne\nf\ng";

    sc.batch_records = 2;
    run1(&sc, &c, S(in));
    is_str(c.out.p, "1:a|2:b|3:c|4:d|5:e|6:f|7:g$", "batch_records 2: all records");
    ok(!c.bad, "batch_records 2: invariants%s%s", c.bad ? ": " : "", c.why);
    /* one commit of 13 bytes (the chunk has 16): a b | c d | e f, then g at finish */
    is_int(c.batches, 4, "batch_records 2: 7 records in 4 batches");
    ok(c.batch_n[0] == 2 && c.batch_n[1] == 2 && c.batch_n[2] == 2 && c.batch_n[3] == 1,
       "batch_records 2: sizes 2 2 2 1 (got %zu %zu %zu %zu)", c.batch_n[0], c.batch_n[1],
       c.batch_n[2], c.batch_n[3]);
    ctx_done(&c);

    sc.batch_records = 1;
    run1(&sc, &c, S(in));
    is_int(c.batches, 7, "batch_records 1: one batch per record");
    ok(!c.bad, "batch_records 1: invariants%s%s", c.bad ? ": " : "", c.why);
    ctx_done(&c);

    /* batch_bytes 5: "aa\n" (3) + "b\n" (2) fit, "cccc\n" (5) alone, "dd\n" "e\n" */
    sc = small;
    sc.batch_bytes = 5;
    run1(&sc, &c, S("aa\nb\ncccc\ndd\ne\n"));
    is_str(c.out.p, "1:aa|2:b|3:cccc|4:dd|5:e", "batch_bytes 5: all records");
    ok(!c.bad, "batch_bytes 5: invariants%s%s", c.bad ? ": " : "", c.why);
    is_int(c.batches, 3, "batch_bytes 5: 3 batches");
    ok(c.batch_n[0] == 2 && c.batch_n[1] == 1 && c.batch_n[2] == 2,
       "batch_bytes 5: sizes 2 1 2 (got %zu %zu %zu)", c.batch_n[0], c.batch_n[1], c.batch_n[2]);
    ctx_done(&c);

    /* a record bigger than batch_bytes (but within max_record) goes alone */
    sc.batch_bytes = 3;
    run1(&sc, &c, S("a\nbbbbbbb\nc\n"));
    is_str(c.out.p, "1:a|2:bbbbbbb|3:c", "record over batch_bytes: kept");
    is_int(c.batches, 3, "record over batch_bytes: a batch of its own");
    ok(!c.bad, "record over batch_bytes: invariants%s%s", c.bad ? ": " : "", c.why);
    ctx_done(&c);

    /* an oversize record ends the batch before it; the next starts after */
    sc = small;
    run1(&sc, &c, S("a\nb\n0123456789\nc\nd\n"));
    is_str(c.out.p, "1:a|2:b|3!:0123456789\\n|4:c|5:d", "oversize between batches");
    ok(c.batches == 2 && c.batch_n[0] == 2 && c.batch_n[1] == 2,
       "oversize between batches: batches of 2 and 2 (got %zu batches)", c.batches);
    ok(!c.bad, "oversize between batches: invariants%s%s", c.bad ? ": " : "", c.why);
    is_int(c.oversize, 1, "oversize between batches: one oversize record");
    ctx_done(&c);
}

static void test_trickle(void)
{
    /* every commit hands on what it completed: nothing waits for a full batch */
    struct ctx c;
    ctx_init(&c, &small);
    struct framer *f = framer_for(&small, &c);
    feed(f, S("one\ntw"), SIZE_MAX, 100);
    is_int(c.batches, 1, "trickle: the first complete record is passed at once");
    is_str(c.out.p, "1:one", "trickle: only the complete record");
    is_int(c.batch_t[0], 100, "trickle: t_in is the time of the read");
    feed(f, S("o\n"), SIZE_MAX, 200);
    is_int(c.batches, 2, "trickle: the second record on the next read");
    is_str(c.out.p, "1:one|2:two", "trickle: the split record is whole");
    is_int(c.batch_t[1], 200, "trickle: t_in of the read that completed it");
    feed(f, S("three"), SIZE_MAX, 300);
    is_int(c.batches, 2, "trickle: an incomplete record is held back");
    c.finishing = true;
    is_int(framer_finish(f, 400), 0, "trickle: finish");
    is_str(c.out.p, "1:one|2:two|3:three$", "trickle: finish yields the open record");
    is_int(c.batch_t[2], 400, "trickle: t_in of the open record is the finish time");
    is_int(framer_records(f), 3, "trickle: 3 records framed");
    framer_free(f);
    ctx_done(&c);
}

static void test_stop(void)
{
    struct ctx c;
    ctx_init(&c, &small);
    c.stop_rc = -ECANCELED;
    struct framer *f = framer_for(&small, &c);
    int rc = feed(f, S("a\nb\n"), SIZE_MAX, 0);
    is_int(rc, -ECANCELED, "a nonzero on_batch return comes back from framer_commit");
    framer_free(f);
    ctx_done(&c);
}

struct cut {
    uint64_t recno;
    char data[16];
    size_t len;
    int calls;
};

static int on_cut(void *ctx, uint64_t recno, const char *p, size_t len)
{
    struct cut *k = ctx;
    k->recno = recno;
    k->len = len;
    memcpy(k->data, p, MIN(len, sizeof k->data));
    k->calls++;
    return 0;
}

static int drop_batch(void *ctx, struct batch *b)
{
    (void)ctx;
    batch_free(b);
    return 0;
}

/* Reading stopped in the middle of a record: its bytes go to on_cut,
 * numbered after the whole records, once; nothing when none is open. */
static void test_stop_cuts_partial(void)
{
    struct cut k = {0};
    struct framer_config cfg = {
        .delim = '\n',
        .max_record = 64,
        .chunk_size = 16,
        .batch_records = 100,
        .batch_bytes = 1 << 20,
        .on_batch = drop_batch,
        .on_oversize = on_oversize,
        .on_cut = on_cut,
        .ctx = &k,
    };
    struct framer *f = framer_new(&cfg);
    feed(f, S("a\nbb\nccc"), 5, 0);
    is_int(framer_stop(f), 0, "framer_stop returns what on_cut returns");
    is_int(k.calls, 1, "the partial record is handed over once");
    is_int(k.recno, 3, "as record 3, after the two whole ones");
    ok(k.len == 3 && memcmp(k.data, "ccc", 3) == 0, "with its bytes");
    framer_stop(f);
    is_int(k.calls, 1, "a second stop finds nothing open");
    framer_free(f);

    k = (struct cut){0};
    f = framer_new(&cfg);
    feed(f, S("a\nbb\n"), 5, 0);
    framer_stop(f);
    is_int(k.calls, 0, "input that stopped at a delimiter: nothing cut");
    framer_free(f);
}

static void test_pool(void)
{
    static const char in[] = "alpha\nb\n\nccc\0c\ndddddddddd\ne\n"
                             "0123456789abcdefghij\nlast";
    static const char want[] = "1:alpha|2:b|3:|4:ccc\\0c|5!:dddddddddd\\n|6:e|"
                               "7!:0123456789abcdefghij\\n|8:last$";
    struct scenario sc = small;
    struct chunk_pool *pool = chunk_pool_new(sc.chunk_size, 2);
    ok(pool != NULL, "chunk_pool_new");
    sc.pool = pool;
    check_all_splits("with a chunk pool", &sc, S(in), want);
    sc.hold = true;
    check_all_splits("with a chunk pool, batches held to the end", &sc, S(in), want);
    sc.pool = NULL;
    check_all_splits("without a pool, batches held to the end", &sc, S(in), want);
    chunk_pool_free(pool);

    /* many records through a pool, batches held: chunks stay alive while used */
    struct text big = {0};
    struct text expect = {0};
    sc = small;
    sc.pool = chunk_pool_new(sc.chunk_size, 4);
    sc.hold = true;
    sc.max_record = 64;
    for (int i = 1; i <= 500; i++) {
        char rec[80];
        int len = snprintf(rec, sizeof rec, "%0*d", 1 + i % 40, i);
        text_put(&big, rec, (size_t)len);
        text_puts(&big, "\n");
        if (i > 1)
            text_puts(&expect, "|");
        char num[16];
        snprintf(num, sizeof num, "%d:", i);
        text_puts(&expect, num);
        text_puts(&expect, rec);
    }
    struct ctx c;
    run(&sc, &c, big.p, big.len, big.len / 3, 7);
    is_str(c.out.p, expect.p, "500 records of varying length through a pool, 7-byte reads");
    ok(!c.bad, "500 records through a pool: invariants%s%s", c.bad ? ": " : "", c.why);
    ctx_done(&c);
    free(big.p);
    free(expect.p);
    chunk_pool_free(sc.pool);
    chunk_pool_free(NULL);
}

int main(void)
{
    test_splits();
    test_delimiters();
    test_empty_input();
    test_batch_limits();
    test_trickle();
    test_stop();
    test_stop_cuts_partial();
    test_pool();
    return done_testing();
}
