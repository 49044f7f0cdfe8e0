/* stats.c - formatting the summary; see stats.h. */
#include "stats.h"

#include <inttypes.h>

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Bytes for a person: 1.5 KiB, 20.0 MiB. */
static void human_bytes(char *buf, size_t len, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* "; 3.1 KiB zstd" after a byte count that went through zstd. */
static void zstd_note(char *buf, size_t len, bool on, uint64_t bytes)
{
    if (!on)
        return;
    char b[32];
    human_bytes(b, sizeof b, (double)bytes);
    snprintf(buf, len, "; %s zstd", b);
}

void stats_print_text(FILE *f, const struct stats *s)
{
    char in[32], out[32], rate[32];
    double secs = s->elapsed_s > 0 ? s->elapsed_s : 1e-9;
    human_bytes(in, sizeof in, (double)s->bytes_in);
    human_bytes(out, sizeof out, (double)s->bytes_out);
    human_bytes(rate, sizeof rate, (double)s->bytes_in / secs);
    char zin[48] = "", zout[48] = "";
    zstd_note(zin, sizeof zin, s->compressed_in, s->compressed_bytes_in);
    zstd_note(zout, sizeof zout, s->compressed_out, s->compressed_bytes_out);
    fprintf(f, "weir: %" PRIu64 " records in (%s%s) in %.3f s: %.0f records/s, %s/s\n",
            s->records_in, in, zin, s->elapsed_s, (double)s->records_in / secs, rate);
    fprintf(f,
            "weir:   done %" PRIu64 " (%.1f%%), dropped %" PRIu64 " (%.1f%%), timed out %" PRIu64
            " (%.1f%%), failed %" PRIu64 " (%.1f%%), retried %" PRIu64 "\n",
            s->records_done, pct(s->records_done, s->records_in), s->records_dropped,
            pct(s->records_dropped, s->records_in), s->records_timed_out,
            pct(s->records_timed_out, s->records_in), s->records_failed,
            pct(s->records_failed, s->records_in), s->records_retried);
    fprintf(f, "weir:   out %" PRIu64 " records (%s%s)\n", s->records_out, out, zout);
    char cap[32], capb[32];
    if (s->queue_capacity)
        snprintf(cap, sizeof cap, "%" PRIu64, s->queue_capacity);
    else
        snprintf(cap, sizeof cap, "none");
    human_bytes(capb, sizeof capb, (double)s->queue_capacity_bytes);
    fprintf(f,
            "weir:   queue: capacity %s records, %s; mean %.1f, max %" PRIu64
            ", full %.1f%% of the time\n",
            cap, capb, s->queue_mean, s->queue_max, 100 * s->queue_full_share);
    fprintf(f, "weir:   latency ms: p50 %.3f, p90 %.3f, p99 %.3f, p99.9 %.3f, max %.3f\n",
            s->latency_ms[0], s->latency_ms[1], s->latency_ms[2], s->latency_ms[3],
            s->latency_ms[4]);
    fprintf(f, "weir:   limiter wait %.3f s (%" PRIu64 " records waited)\n", s->limiter_wait_s,
            s->limiter_waits);
    fprintf(f, "weir:   workers %u, busy %.1f%%; policy %s; exit %d\n", s->workers,
            100 * s->busy_share, s->policy, s->exit);
}

void stats_print_json(FILE *f, const struct stats *s)
{
    char cap[24] = "null";
    if (s->queue_capacity)
        snprintf(cap, sizeof cap, "%" PRIu64, s->queue_capacity);
    fprintf(f,
            "{\"records_in\":%" PRIu64 ",\"records_out\":%" PRIu64 ",\"records_done\":%" PRIu64
            ",\"records_dropped\":%" PRIu64 ",\"records_timed_out\":%" PRIu64
            ",\"records_failed\":%" PRIu64 ",\"records_retried\":%" PRIu64 ",\"bytes_in\":%" PRIu64
            ",\"bytes_out\":%" PRIu64 ",\"elapsed_s\":%.6f"
            ",\"queue_capacity\":%s,\"queue_capacity_bytes\":%" PRIu64 ",\"queue_max\":%" PRIu64
            ",\"queue_mean\":%.3f"
            ",\"queue_full_share\":%.4f,\"workers\":%u,\"busy_share\":%.4f,\"policy\":\"%s\""
            ",\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"p999\":%.4f,\"max\":%.4f}"
            ",\"limiter_wait_s\":%.6f,\"limiter_waits\":%" PRIu64,
            s->records_in, s->records_out, s->records_done, s->records_dropped,
            s->records_timed_out, s->records_failed, s->records_retried, s->bytes_in, s->bytes_out,
            s->elapsed_s, cap, s->queue_capacity_bytes, s->queue_max, s->queue_mean,
            s->queue_full_share, s->workers, s->busy_share, s->policy, s->latency_ms[0],
            s->latency_ms[1], s->latency_ms[2], s->latency_ms[3], s->latency_ms[4],
            s->limiter_wait_s, s->limiter_waits);
    if (s->compressed_in)
        fprintf(f, ",\"compressed_bytes_in\":%" PRIu64, s->compressed_bytes_in);
    if (s->compressed_out)
        fprintf(f, ",\"compressed_bytes_out\":%" PRIu64, s->compressed_bytes_out);
    fprintf(f, ",\"exit\":%d}\n", s->exit);
}
