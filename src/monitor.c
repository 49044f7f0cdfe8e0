/* monitor.c - snapshots, the progress line and the metrics file; see
 * monitor.h.
 *
 * The progress line is redrawn at most 10 times a second in place ("\r",
 * the line, erase to the end), cut to the terminal's width as it is now,
 * so it never wraps, also after a resize. Forced onto a stderr that is
 * not a terminal, it is a plain line once a second instead. Its rates are
 * taken over the last second or so, not the whole run.
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
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.h"
#include "report.h"

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
    bool drawn;                                         /* a progress line is on the terminal */
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

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void clock_text(char *buf, size_t len, double secs)
{
    long s = (long)secs;
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* Appends a piece to line while it fits in width; after one that does
 * not, no more (pieces come in order of importance, so what a narrow
 * terminal loses is the least useful, from the right). */
static void add(char *line, size_t *len, unsigned width, const char *piece)
{
    size_t n = strlen(piece);
    if (*len + n < width) {
        memcpy(line + *len, piece, n + 1);
        *len += n;
    } else {
        *len = width; /* full */
    }
}

/* Done share and time left, when the input's size is known. */
static void eta_piece(const struct monitor *m, const struct stats *s, double secs, char *buf,
                      size_t len)
{
    buf[0] = '\0';
    uint64_t at = s->compressed_in ? s->compressed_bytes_in : s->bytes_in;
    if (!m->c.input_size || secs <= 0)
        return;
    double share = MIN(1.0, (double)at / (double)m->c.input_size);
    char left[32] = "?";
    if (share > 0)
        clock_text(left, sizeof left, secs * (1 - share) / share);
    snprintf(buf, len, " %.0f%% ETA %s", 100 * share, left);
}

static void progress_line(struct monitor *m, const struct stats *s, char *line, unsigned width)
{
    struct sample *a = &m->prev, *b = &m->cur;
    double dt = (double)(b->t - a->t) / 1e9;
    char el[32], nin[32], bin[32], rin[32], rb[32], nout[32], rout[32], piece[160];
    clock_text(el, sizeof el, s->elapsed_s);
    stats_human_count(nin, sizeof nin, s->records_in);
    stats_human_bytes(bin, sizeof bin, (double)s->bytes_in);
    stats_human_rate(rin, sizeof rin, dt > 0 ? (double)(b->records_in - a->records_in) / dt : 0);
    stats_human_bytes(rb, sizeof rb, dt > 0 ? (double)(b->bytes_in - a->bytes_in) / dt : 0);
    stats_human_count(nout, sizeof nout, s->records_out);
    stats_human_rate(rout, sizeof rout,
                     dt > 0 ? (double)(b->records_out - a->records_out) / dt : 0);
    size_t len = 0;
    line[0] = '\0';
    snprintf(piece, sizeof piece, "weir %s", el);
    add(line, &len, width, piece);
    eta_piece(m, s, s->elapsed_s, piece, sizeof piece);
    add(line, &len, width, piece);
    snprintf(piece, sizeof piece, " | in %s (%s) %s/s %s/s", nin, bin, rin, rb);
    add(line, &len, width, piece);
    snprintf(piece, sizeof piece, " | out %s %s/s", nout, rout);
    add(line, &len, width, piece);
    char cap[24] = "-";
    if (s->queue_capacity)
        snprintf(cap, sizeof cap, "%" PRIu64, s->queue_capacity);
    snprintf(piece, sizeof piece, " | queue %" PRIu64 "/%s", s->queue_records, cap);
    add(line, &len, width, piece);
    snprintf(piece, sizeof piece, " | shed %" PRIu64 " failed %" PRIu64,
             s->records_dropped + s->records_timed_out, s->records_failed);
    add(line, &len, width, piece);
}

static void draw_progress(struct monitor *m, int64_t now, const struct stats *s)
{
    m->cur = (struct sample){now, s->records_in, s->bytes_in, s->records_out};
    char line[512];
    bool tty = m->c.progress == PROGRESS_TTY;
    unsigned width = tty ? MIN(term_width(), sizeof line) : sizeof line;
    progress_line(m, s, line, width);
    if (now - m->prev.t >= RATE_WINDOW_NS)
        m->prev = m->cur;
    flockfile(stderr);
    fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
    funlockfile(stderr);
    fflush(stderr);
    m->drawn = tty;
}

static void clear_progress(struct monitor *m)
{
    if (!m->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    m->drawn = false;
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
        clear_progress(m);
        report_warning("--metrics %s: %s (the run goes on)", m->c.metrics_path, strerror(-rc));
    }
}

/* ---- duties ------------------------------------------------------------------- */

void monitor_snapshot(struct monitor *m, const struct stats *s)
{
    if (m->c.stats == STATS_NONE)
        return;
    clear_progress(m);
    stats_print(stderr, s, m->c.stats == STATS_JSON);
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
    clear_progress(m);
    if (m->c.metrics_path)
        update_metrics(m, final);
}
