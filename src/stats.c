/* stats.c - formatting the summary; see stats.h. */
#include "stats.h"

#include <inttypes.h>

const double stats_le_s[STATS_LE_N] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                       0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                       1,      2.5,     5,      10,    30,     60};

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void stats_human_bytes(char *buf, size_t len, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void stats_human_rate(char *buf, size_t len, double v)
{
    static const char *const unit[] = {"", "k", "M", "G"};
    unsigned u = 0;
    while (v >= 1000 && u < 3) {
        v /= 1000;
        u++;
    }
    /* three significant digits, no more than the value has */
    int prec = v == 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
    snprintf(buf, len, "%.*f%s", prec, v, unit[u]);
}

void stats_human_count(char *buf, size_t len, uint64_t n)
{
    if (n < 1000)
        snprintf(buf, len, "%" PRIu64, n);
    else
        stats_human_rate(buf, len, (double)n);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* "; 3.1 KiB zstd" after a byte count that went through zstd. */
static void zstd_note(char *buf, size_t len, bool on, uint64_t bytes)
{
    if (!on)
        return;
    char b[32];
    stats_human_bytes(b, sizeof b, (double)bytes);
    snprintf(buf, len, "; %s zstd", b);
}

static void print_counts(FILE *f, const struct stats *s)
{
    char in[32], out[32], rate[32], brate[32], zin[48] = "", zout[48] = "";
    double secs = s->elapsed_s > 0 ? s->elapsed_s : 1e-9;
    stats_human_bytes(in, sizeof in, (double)s->bytes_in);
    stats_human_bytes(out, sizeof out, (double)s->bytes_out);
    stats_human_rate(rate, sizeof rate, (double)s->records_in / secs);
    stats_human_bytes(brate, sizeof brate, (double)s->bytes_in / secs);
    zstd_note(zin, sizeof zin, s->compressed_in, s->compressed_bytes_in);
    zstd_note(zout, sizeof zout, s->compressed_out, s->compressed_bytes_out);
    fprintf(f, "weir: %" PRIu64 " %s in (%s%s) in %.3f s: %s records/s, %s/s\n", s->records_in,
            plural(s->records_in, "record", "records"), in, zin, s->elapsed_s, rate, brate);
    char why[48] = ""; /* a cause of failures, lest it be taken for the timeout policy's */
    if (s->records_job_timeouts)
        snprintf(why, sizeof why, "; %" PRIu64 " job %s", s->records_job_timeouts,
                 plural(s->records_job_timeouts, "timeout", "timeouts"));
    fprintf(f,
            "weir:   done %" PRIu64 " (%.1f%%), dropped %" PRIu64 " (%.1f%%), timed out %" PRIu64
            " (%.1f%%), failed %" PRIu64 " (%.1f%%%s), retried %" PRIu64,
            s->records_done, pct(s->records_done, s->records_in), s->records_dropped,
            pct(s->records_dropped, s->records_in), s->records_timed_out,
            pct(s->records_timed_out, s->records_in), s->records_failed,
            pct(s->records_failed, s->records_in), why, s->records_retried);
    if (!s->final)
        fprintf(f, "; in flight %" PRIu64, s->in_flight);
    fprintf(f, "\nweir:   out %" PRIu64 " %s (%s%s)\n", s->records_out,
            plural(s->records_out, "record", "records"), out, zout);
    if (s->nats)
        fprintf(f,
                "weir:   nats: redelivered %" PRIu64 ", returned to the stream %" PRIu64
                ", reconnects %" PRIu64 "\n",
                s->records_redelivered, s->records_returned, s->nats_reconnects);
    if (s->keyed && s->keys_max)
        fprintf(f,
                "weir:   keys: at most %" PRIu64 " at once, %" PRIu64
                " records waited for their key, %" PRIu64 " without a key\n",
                s->keys_max, s->key_waits, s->records_unkeyed);
    else if (s->keyed) /* built-in operations: no lanes (pool.h) */
        fprintf(f, "weir:   keys: %" PRIu64 " records without a key\n", s->records_unkeyed);
}

void stats_print_text(FILE *f, const struct stats *s)
{
    print_counts(f, s);
    char cap[64], capb[32];
    stats_human_bytes(capb, sizeof capb, (double)s->queue_capacity_bytes);
    if (s->queue_capacity)
        snprintf(cap, sizeof cap, "%" PRIu64 " records, %s", s->queue_capacity, capb);
    else /* --pipe: only the byte bound */
        snprintf(cap, sizeof cap, "%s, no record bound", capb);
    fprintf(f, "weir:   queue: capacity %s; mean %.1f, max %" PRIu64 ", full %.1f%% of the time\n",
            cap, s->queue_mean, s->queue_max, 100 * s->queue_full_share);
    fprintf(f, "weir:   latency ms: p50 %.3f, p90 %.3f, p99 %.3f, p99.9 %.3f, max %.3f\n",
            s->latency_ms[0], s->latency_ms[1], s->latency_ms[2], s->latency_ms[3],
            s->latency_ms[4]);
    fprintf(f, "weir:   limiter wait %.3f s (%" PRIu64 " %s waited)\n", s->limiter_wait_s,
            s->limiter_waits, plural(s->limiter_waits, "record", "records"));
    fprintf(f, "weir:   workers %u", s->workers);
    if (s->workers_requested != s->workers)
        fprintf(f, " of %u requested", s->workers_requested);
    fprintf(f, ", busy %.1f%%; policy %s", 100 * s->busy_share, s->policy);
    if (s->final)
        fprintf(f, "; exit %d", s->exit);
    fputc('\n', f);
}

void stats_print_json(FILE *f, const struct stats *s)
{
    char cap[24] = "null";
    if (s->queue_capacity)
        snprintf(cap, sizeof cap, "%" PRIu64, s->queue_capacity);
    fprintf(
        f,
        "{\"final\":%s,\"records_in\":%" PRIu64 ",\"records_out\":%" PRIu64
        ",\"records_done\":%" PRIu64 ",\"records_dropped\":%" PRIu64
        ",\"records_timed_out\":%" PRIu64 ",\"records_failed\":%" PRIu64
        ",\"records_retried\":%" PRIu64 ",\"in_flight\":%" PRIu64 ",\"bytes_in\":%" PRIu64
        ",\"bytes_out\":%" PRIu64 ",\"elapsed_s\":%.6f"
        ",\"queue_capacity\":%s,\"queue_capacity_bytes\":%" PRIu64 ",\"queue_records\":%" PRIu64
        ",\"queue_max\":%" PRIu64 ",\"queue_mean\":%.3f,\"queue_full_share\":%.4f,\"workers\":%u"
        ",\"workers_requested\":%u,\"busy_share\":%.4f,\"policy\":\"%s\""
        ",\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f}"
        ",\"limiter_wait_s\":%.6f,\"limiter_waits\":%" PRIu64,
        s->final ? "true" : "false", s->records_in, s->records_out, s->records_done,
        s->records_dropped, s->records_timed_out, s->records_failed, s->records_retried,
        s->in_flight, s->bytes_in, s->bytes_out, s->elapsed_s, cap, s->queue_capacity_bytes,
        s->queue_records, s->queue_max, s->queue_mean, s->queue_full_share, s->workers,
        s->workers_requested, s->busy_share, s->policy, s->latency_ms[0], s->latency_ms[1],
        s->latency_ms[2], s->latency_ms[3], s->latency_ms[4], s->limiter_wait_s, s->limiter_waits);
    fprintf(f, ",\"records_job_timeouts\":%" PRIu64, s->records_job_timeouts);
    if (s->compressed_in)
        fprintf(f, ",\"compressed_bytes_in\":%" PRIu64, s->compressed_bytes_in);
    if (s->compressed_out)
        fprintf(f, ",\"compressed_bytes_out\":%" PRIu64, s->compressed_bytes_out);
    if (s->nats)
        fprintf(f,
                ",\"records_redelivered\":%" PRIu64 ",\"records_returned\":%" PRIu64
                ",\"nats_reconnects\":%" PRIu64,
                s->records_redelivered, s->records_returned, s->nats_reconnects);
    if (s->keyed)
        fprintf(f,
                ",\"keys_max\":%" PRIu64 ",\"key_waits\":%" PRIu64 ",\"records_unkeyed\":%" PRIu64,
                s->keys_max, s->key_waits, s->records_unkeyed);
    if (s->final)
        fprintf(f, ",\"exit\":%d", s->exit);
    fputs("}\n", f);
}

void stats_print(FILE *f, const struct stats *s, bool json)
{
    flockfile(f);
    (json ? stats_print_json : stats_print_text)(f, s);
    funlockfile(f);
    fflush(f);
}
