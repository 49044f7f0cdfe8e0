/* monitor.c - snapshots, the progress line and the metrics file; see
 * monitor.h.
 *
 * The progress line (its text: progress.h) is redrawn at most 10 times a
 * second in place, fitted to the terminal's width as it is now, so it
 * never wraps, also after a resize; term.h keeps it off the lines other
 * text takes on that terminal. Forced onto a stderr that is not a
 * terminal, it is a plain line once a second instead. Its rates are taken
 * over the last second or so, not the whole run.
 *
 * The metrics file is written to a temporary file in the same directory
 * and renamed over the old one, so a reader never sees half of it. */
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "progress.h"
#include "report.h"
#include "term.h"

#define REDRAW_NS (NS_PER_SEC / 10) /* progress on a terminal */
#define LINES_NS NS_PER_SEC         /* progress as plain lines */
#define RATE_WINDOW_NS NS_PER_SEC   /* rates over about this long */

/* Figures the progress line's rates are taken from. */
struct sample {
    int64_t t;
    uint64_t records_in, bytes_in, records_out;
};

struct monitor {
    struct monitor_config c;
    int64_t next_snapshot, next_progress, next_metrics; /* NS_FOREVER: off */
    struct sample prev, cur;                            /* rates: from prev (a window ago) to now */
    bool metrics_failed;                                /* reported once */
    char *tmp;                                          /* the metrics file's temporary name */
};

static int write_metrics(struct monitor *m, const struct stats *s);

int monitor_new(const struct monitor_config *c, const struct stats *first, struct monitor **out)
{
    struct monitor *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->c = *c;
    bool snapshots = c->interval_ns > 0 && c->stats != STATS_NONE;
    m->next_snapshot = snapshots ? c->start + c->interval_ns : NS_FOREVER;
    m->next_progress = c->progress != PROGRESS_OFF ? c->start : NS_FOREVER;
    m->next_metrics = NS_FOREVER;
    m->prev.t = m->cur.t = c->start;
    if (c->metrics_path) {
        const char *slash = strrchr(c->metrics_path, '/');
        int dir = slash ? (int)(slash - c->metrics_path + 1) : 0;
        if (asprintf(&m->tmp, "%.*s.%s.%ld.tmp", dir, c->metrics_path, c->metrics_path + dir,
                     (long)getpid()) < 0) {
            free(m);
            return -ENOMEM;
        }
        int rc = write_metrics(m, first);
        if (rc) {
            monitor_free(m);
            return rc;
        }
        m->next_metrics = c->start + c->metrics_ns;
    }
    *out = m;
    return 0;
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    free(m->tmp);
    free(m);
}

int64_t monitor_deadline(const struct monitor *m)
{
    return MIN(m->next_snapshot, MIN(m->next_progress, m->next_metrics));
}

/* ---- the progress line ------------------------------------------------------ */

static double per_s(uint64_t a, uint64_t b, double dt)
{
    return dt > 0 ? (double)(b - a) / dt : 0;
}

static void draw_progress(struct monitor *m, int64_t now, const struct stats *s)
{
    m->cur = (struct sample){now, s->records_in, s->bytes_in, s->records_out};
    struct sample *a = &m->prev, *b = &m->cur;
    double dt = (double)(b->t - a->t) / 1e9;
    struct progress_figures f = {
        .elapsed_s = s->elapsed_s,
        .input_size = m->c.input_size,
        .input_done = s->compressed_in ? s->compressed_bytes_in : s->bytes_in,
        .records_in = s->records_in,
        .bytes_in = s->bytes_in,
        .records_out = s->records_out,
        .rate_in = per_s(a->records_in, b->records_in, dt),
        .byte_rate_in = per_s(a->bytes_in, b->bytes_in, dt),
        .rate_out = per_s(a->records_out, b->records_out, dt),
        .queue_records = s->queue_records,
        .queue_capacity = s->queue_capacity,
        .shed = s->records_dropped + s->records_timed_out,
        .failed = s->records_failed,
    };
    if (now - m->prev.t >= RATE_WINDOW_NS)
        m->prev = m->cur;
    char line[512];
    if (m->c.progress == PROGRESS_TTY) { /* as wide as the terminal is now */
        progress_compose(&f, MIN(term_width(), sizeof line), line, sizeof line);
        term_draw(line);
        return;
    }
    progress_compose(&f, sizeof line, line, sizeof line);
    flockfile(stderr);
    fprintf(stderr, "%s\n", line);
    funlockfile(stderr);
    fflush(stderr);
}

/* ---- the metrics file --------------------------------------------------------- */

static void metric(FILE *f, const char *name, const char *type, const char *help, double v)
{
    fprintf(f, "# HELP weir_%s %s\n# TYPE weir_%s %s\nweir_%s %.17g\n", name, help, name, type,
            name, v);
}

static void write_counters(FILE *f, const struct stats *s)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } c[] = {
        {"records_in_total", "Records read (after decompression).",
         offsetof(struct stats, records_in)},
        {"records_out_total", "Records written to stdout.", offsetof(struct stats, records_out)},
        {"records_done_total", "Records processed and written.",
         offsetof(struct stats, records_done)},
        {"records_dropped_total", "Records shed by drop or drop-oldest, or dropped at a stop.",
         offsetof(struct stats, records_dropped)},
        {"records_timed_out_total", "Records shed by the timeout policy.",
         offsetof(struct stats, records_timed_out)},
        {"records_failed_total", "Records that failed.", offsetof(struct stats, records_failed)},
        {"records_job_timeouts_total",
         "Records that failed because their job ran past --job-timeout.",
         offsetof(struct stats, records_job_timeouts)},
        {"records_retried_total", "Retries of failed jobs.",
         offsetof(struct stats, records_retried)},
        {"bytes_in_total", "Bytes read (after decompression).", offsetof(struct stats, bytes_in)},
        {"bytes_out_total", "Bytes written (before compression).",
         offsetof(struct stats, bytes_out)},
        {"limiter_waits_total", "Records that waited for a rate-limiter token.",
         offsetof(struct stats, limiter_waits)},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)s + c[i].off, sizeof v);
        metric(f, c[i].name, "counter", c[i].help, (double)v);
    }
    metric(f, "limiter_wait_seconds_total", "counter", "Time intake waited for tokens.",
           s->limiter_wait_s);
    if (s->keyed) {
        metric(f, "key_waits_total", "counter", "Records that waited for their key.",
               (double)s->key_waits);
        metric(f, "records_unkeyed_total", "counter", "Records without the key.",
               (double)s->records_unkeyed);
        metric(f, "keys_max", "gauge", "Most keys in work or waiting at once.",
               (double)s->keys_max);
    }
    if (!s->nats)
        return;
    metric(f, "records_redelivered_total", "counter", "Messages that had been delivered before.",
           (double)s->records_redelivered);
    metric(f, "records_returned_total", "counter", "Messages handed back to the stream unfinished.",
           (double)s->records_returned);
    metric(f, "nats_reconnects_total", "counter", "Times the connection to NATS came back.",
           (double)s->nats_reconnects);
}

static void write_gauges(FILE *f, const struct stats *s)
{
    metric(f, "queue_records", "gauge", "Records queued now.", (double)s->queue_records);
    metric(f, "queue_capacity_records", "gauge", "The queue bound in records (0: none).",
           (double)s->queue_capacity);
    metric(f, "queue_capacity_bytes", "gauge", "The queue bound in bytes.",
           (double)s->queue_capacity_bytes);
    metric(f, "records_in_flight", "gauge", "Records read and not yet done, shed or failed.",
           (double)s->in_flight);
    metric(f, "workers", "gauge", "Worker threads running the stage.", (double)s->workers);
    metric(f, "workers_requested", "gauge", "Worker threads asked for (-j).",
           (double)s->workers_requested);
    metric(f, "busy_ratio", "gauge", "Share of the workers' time spent processing.", s->busy_share);
    metric(f, "elapsed_seconds", "gauge", "Time since the run started.", s->elapsed_s);
}

static void write_latency(FILE *f, const struct stats *s)
{
    fputs("# HELP weir_latency_seconds Time from admission to written, of done records.\n"
          "# TYPE weir_latency_seconds histogram\n",
          f);
    for (int i = 0; i < STATS_LE_N; i++)
        fprintf(f, "weir_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", stats_le_s[i],
                s->latency_below[i]);
    fprintf(f,
            "weir_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
            "weir_latency_seconds_sum %.9g\nweir_latency_seconds_count %" PRIu64 "\n",
            s->latency_count, s->latency_sum_s, s->latency_count);
}

/* 0 or -errno (the file is left as it was). */
static int write_metrics(struct monitor *m, const struct stats *s)
{
    FILE *f = fopen(m->tmp, "we");
    if (!f)
        return -errno;
    write_counters(f, s);
    write_gauges(f, s);
    write_latency(f, s);
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(m->tmp, m->c.metrics_path) != 0)
        rc = -errno;
    if (rc)
        unlink(m->tmp);
    return rc;
}

static void update_metrics(struct monitor *m, const struct stats *s)
{
    int rc = write_metrics(m, s);
    if (rc && !m->metrics_failed) { /* once a run */
        m->metrics_failed = true;
        term_hold(); /* off the progress line */
        report_warning("--metrics %s: %s (the run goes on)", m->c.metrics_path, strerror(-rc));
        term_release(NULL, 0);
    }
}

/* ---- duties ------------------------------------------------------------------- */

void monitor_snapshot(struct monitor *m, const struct stats *s)
{
    if (m->c.stats == STATS_NONE)
        return;
    term_hold(); /* off the progress line */
    stats_print(stderr, s, m->c.stats == STATS_JSON);
    term_release(NULL, 0);
}

void monitor_tick(struct monitor *m, int64_t now, const struct stats *s)
{
    if (now >= m->next_snapshot) {
        monitor_snapshot(m, s);
        while (m->next_snapshot <= now)
            m->next_snapshot += m->c.interval_ns;
    }
    if (now >= m->next_metrics) {
        update_metrics(m, s);
        while (m->next_metrics <= now)
            m->next_metrics += m->c.metrics_ns;
    }
    if (now >= m->next_progress) {
        draw_progress(m, now, s);
        m->next_progress = now + (m->c.progress == PROGRESS_TTY ? REDRAW_NS : LINES_NS);
    }
}

void monitor_end(struct monitor *m, const struct stats *final)
{
    if (m->c.progress == PROGRESS_TTY)
        term_close();
    if (m->c.metrics_path)
        update_metrics(m, final);
}
