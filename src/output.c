/* output.c - writing finished batches; see output.h.
 *
 * The writer-role state (sink, pending list, dead flag) is touched only by
 * the worker holding the role, which seq.c hands out one at a time. The
 * figures are atomic, the latency histogram has its own mutex, and no
 * other lock is taken while it is held. */
#include "output.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "hist.h"
#include "queue.h"
#include "report.h"
#include "run.h"
#include "seq.h"
#include "shed.h"
#include "stream.h"
#include "sync.h"

#define OUT_BUF_SIZE (256 * 1024) /* the output buffer */
#define PENDING_MAX 64            /* batches buffered before a forced flush */
/* With --compress-threads an idle flush also ends a compression job, and
 * small jobs compress badly: output goes idle far more often than a
 * person could notice. So a flush is put off while the last one is this
 * recent and this few bytes wait; output_tick does it later. */
#define LAZY_NS (50 * NS_PER_MS)
#define LAZY_BYTES (4u << 20)

struct output {
    struct output_config cfg;
    struct seq *seq;
    /* writer-role state */
    struct sink *sink;
    bool dead;                             /* stdout failed: shed from now on */
    struct batch *pending, **pending_tail; /* batches whose bytes are in the buffer */
    size_t npending;
    uint64_t pending_bytes;
    int64_t last_flush;  /* when the sink last went out */
    uint64_t mark;       /* sink_written() when the pending list began */
    atomic_bool put_off; /* a flush was put off (output_tick does it) */
    /* figures */
    _Atomic uint64_t done, records, bytes;
    pthread_mutex_t lat_mu; /* guards lat */
    struct hist *lat;       /* admitted-to-written latency, ns */
};

int output_new(const struct output_config *cfg, struct output **out)
{
    struct output *o = calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    o->cfg = *cfg;
    o->pending_tail = &o->pending;
    o->seq = seq_new(cfg->slots, cfg->ordered);
    o->sink =
        cfg->target ? sink_new_target(cfg->target, OUT_BUF_SIZE) : sink_new(cfg->fd, OUT_BUF_SIZE);
    o->lat = hist_new();
    int rc = !o->seq || !o->sink || !o->lat ? -ENOMEM : sync_mutex_init(&o->lat_mu);
    if (rc == 0 && cfg->terminal && !cfg->target)
        sink_share_terminal(o->sink);
    if (rc == 0 && cfg->compress && (rc = sink_compress(o->sink, cfg->level, cfg->threads)) != 0)
        pthread_mutex_destroy(&o->lat_mu);
    if (rc) {
        seq_free(o->seq);
        sink_free(o->sink);
        hist_free(o->lat);
        free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void output_free(struct output *o)
{
    if (!o)
        return;
    while (o->pending) { /* only after an abort */
        struct batch *b = o->pending;
        o->pending = b->next;
        batch_free(b);
    }
    seq_free(o->seq);
    sink_free(o->sink);
    hist_free(o->lat);
    pthread_mutex_destroy(&o->lat_mu);
    free(o);
}

/* What records of b that can no longer reach a failed stdout count as;
 * b's reason is set (stdout closed: a stop). */
static enum outcome lost(struct output *o, struct batch *b)
{
    int err = run_output_error(o->cfg.run);
    if (err)
        b->reason = err == -EPIPE ? REASON_STOPPED : REASON_OUTPUT_ERROR;
    return err == -EPIPE ? OUTCOME_DROPPED : OUTCOME_FAILED;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_release);
}

/* b's output went out for its first `out` bytes only, before stdout
 * failed. When the stage wrote one record for each (no filter, nothing
 * failed), the records whose bytes all went out count as written and the
 * rest are shed; otherwise the whole batch is shed (its records may then
 * be partly on stdout and whole in the rejects file). */
static void account_torn(struct output *o, struct batch *b, uint64_t out, int64_t now)
{
    size_t k = 0;
    uint64_t bytes = 0, seen = 0;
    bool one_to_one = !b->failed && b->n_failed == 0 && b->n_out == b->n;
    for (size_t i = 0; one_to_one && i < b->nsegs && seen < out; i++) {
        const char *p = b->segs[i].p, *e = p + MIN(b->segs[i].len, out - seen);
        for (const char *d = p; (d = memchr(d, o->cfg.delim, (size_t)(e - d))); d++) {
            k++;
            bytes = seen + (uint64_t)(d + 1 - p);
        }
        seen += b->segs[i].len;
    }
    if (k == 0) {
        shed_results(o->cfg.shed, b, lost(o, b));
        return;
    }
    for (size_t i = k; i < b->n; i++)
        shed_record(o->cfg.shed, b, i, lost(o, b));
    shed_written(o->cfg.shed, b, k);
    add(&o->done, k);
    add(&o->records, k);
    add(&o->bytes, bytes);
    sync_lock(&o->lat_mu);
    hist_add(o->lat, (uint64_t)(now - b->t_queued), k);
    sync_unlock(&o->lat_mu);
    batch_free(b);
}

/* The pending batches have gone out, the first `out` bytes of them (all:
 * UINT64_MAX) before stdout failed: count those that went out whole, take
 * their latency, and shed the others; free them all. */
static void account_pending(struct output *o, uint64_t out)
{
    o->mark = sink_written(o->sink);
    if (!o->pending) /* every flush comes here */
        return;
    int64_t now = now_ns();
    while (o->pending) { /* the shed and its hook may wait: no lock held */
        struct batch *b = o->pending;
        o->pending = b->next;
        if (b->bytes_out > out) { /* not out, or only partly */
            account_torn(o, b, out, now);
            out = 0;
            continue;
        }
        out -= b->bytes_out;
        shed_failed(o->cfg.shed, b); /* those of its records that failed */
        shed_written(o->cfg.shed, b, b->n);
        add(&o->done, b->n_done);
        add(&o->records, b->n_out);
        add(&o->bytes, b->bytes_out);
        sync_lock(&o->lat_mu);
        hist_add(o->lat, (uint64_t)(now - b->t_queued), b->n_done);
        sync_unlock(&o->lat_mu);
        batch_free(b);
    }
    o->pending_tail = &o->pending;
    o->npending = 0;
    o->pending_bytes = 0;
}

/* stdout failed: stop all work, and shed output from now on. */
static void failed(struct output *o, int err)
{
    if (err != -EPIPE)
        report_error(o->cfg.rep, "%s: %s", o->cfg.name,
                     o->cfg.target ? o->cfg.target->error(o->cfg.target->ctx) : strerror(-err));
    o->dead = true;
    run_stop_output(o->cfg.run, err); /* before the abort: see the error, then stop */
    queue_abort(o->cfg.queue);
    /* what reached stdout before the error counts as written (a plain
     * sink's bytes are the batches' bytes, in order; compressed ones are
     * not, and a frame cut short decodes to nothing certain; nor is a
     * target's, whose bytes were never all confirmed) */
    bool plain = !o->cfg.compress && !o->cfg.target;
    account_pending(o, plain ? sink_written(o->sink) - o->mark : 0);
}

static bool lazy(const struct output *o)
{
    return o->cfg.compress && o->cfg.threads > 0;
}

/* Sends what is buffered out; `force`: whatever the put-off rule says. */
static void flush(struct output *o, bool force)
{
    if (!force && lazy(o) && now_ns() - o->last_flush < LAZY_NS) {
        atomic_store(&o->put_off, true);
        return;
    }
    int rc;
    if (!o->dead && sink_pending(o->sink) && (rc = sink_flush(o->sink)) != 0)
        failed(o, rc);
    o->last_flush = now_ns();
    atomic_store(&o->put_off, false);
    account_pending(o, o->dead ? 0 : UINT64_MAX);
}

static void write_batch(struct output *o, struct batch *b)
{
    queue_release(o->cfg.queue);
    if (o->dead || b->n_failed == b->n) {
        shed_results(o->cfg.shed, b, lost(o, b));
        return;
    }
    /* so the sink never writes a pending batch unseen; with put-off
     * flushes, at most LAZY_BYTES of written batches wait for one */
    size_t room = lazy(o) ? LAZY_BYTES - MIN(o->pending_bytes, LAZY_BYTES) : sink_room(o->sink);
    if (o->npending == PENDING_MAX || b->bytes_out > room)
        flush(o, true);
    b->next = NULL;
    *o->pending_tail = b;
    o->pending_tail = &b->next;
    o->npending++;
    o->pending_bytes += b->bytes_out;
    for (size_t i = 0; !o->dead && i < b->nsegs; i++) { /* failed() may free b */
        int rc = sink_write(o->sink, b->segs[i].p, b->segs[i].len);
        if (rc)
            failed(o, rc);
    }
    if (!o->dead && !sink_pending(o->sink))
        account_pending(o, UINT64_MAX); /* all went straight out */
}

/* For the writer-role holder: writes w and every batch ready after it,
 * flushes when none is left, and gives the role back. */
static void write_ready(struct output *o, struct batch *w)
{
    while (w) {
        write_batch(o, w);
        w = seq_next(o->seq, false);
        if (!w) { /* nothing more ready: flush so nothing waits while idle */
            flush(o, false);
            w = seq_next(o->seq, true);
        }
    }
}

void output_deliver(struct output *o, struct batch *b)
{
    write_ready(o, seq_put(o->seq, b));
}

void output_tick(struct output *o)
{
    if (!atomic_load(&o->put_off) || !seq_try_role(o->seq))
        return;
    flush(o, true);
    write_ready(o, seq_next(o->seq, true));
}

void output_end(struct output *o)
{
    int rc;
    if (!o->dead && (rc = sink_end(o->sink)) != 0)
        failed(o, rc);
    account_pending(o, o->dead ? 0 : UINT64_MAX);
}

void output_figures(struct output *o, struct output_figures *out)
{
    out->compressed = sink_compressed_bytes(o->sink);
    /* acquire: a snapshot that sees a record done also sees it read */
    out->done = atomic_load_explicit(&o->done, memory_order_acquire);
    out->records = atomic_load_explicit(&o->records, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&o->bytes, memory_order_relaxed);
    static const double q[4] = {0.5, 0.9, 0.99, 0.999};
    sync_lock(&o->lat_mu);
    for (int i = 0; i < 4; i++)
        out->latency_ms[i] = (double)hist_quantile(o->lat, q[i]) / 1e6;
    out->latency_ms[4] = (double)hist_max(o->lat) / 1e6;
    sync_unlock(&o->lat_mu);
}

void output_latency(struct output *o, const uint64_t *bounds_ns, size_t n, uint64_t *below,
                    uint64_t *count, double *sum_ns)
{
    sync_lock(&o->lat_mu);
    hist_below(o->lat, bounds_ns, n, below);
    *count = hist_count(o->lat);
    *sum_ns = hist_sum(o->lat);
    sync_unlock(&o->lat_mu);
}
