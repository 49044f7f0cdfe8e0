/* progress.c - the text of the --progress line; see progress.h.
 *
 * The line is a row of pieces, each a whole figure with its label. Each
 * is written once; to fit a width, pieces are given up in a fixed order
 * (give_up below) until the rest fits, and the rest are joined in their
 * place on the line. A piece that others hang on (the "| in" count, which
 * its rates and size follow) is given up only after them. */
#include "progress.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "stats.h"

#define ETA_MAX_S (100L * 3600 - 1) /* beyond 99:59:59 the ETA is "?" */

/* The pieces, in the order they stand on the line. */
enum piece {
    P_NAME,         /* "weir" */
    P_ELAPSED,      /* " 0:02" */
    P_SHARE,        /* " 54%" */
    P_ETA,          /* " ETA 0:02" */
    P_IN,           /* " | in 1.04M" */
    P_IN_BYTES,     /* " (10.8 MiB)" */
    P_IN_RATE,      /* " 399k/s" */
    P_IN_BYTE_RATE, /* " 4.3 MiB/s" */
    P_OUT,          /* " | out 1.0M" */
    P_OUT_RATE,     /* " 399k/s" */
    P_QUEUE,        /* " | queue 12/1024" */
    P_SHED,         /* " | shed 0 failed 0" */
    P_N
};

#define PIECE_MAX 64 /* bytes a piece takes, NUL included */

/* The order pieces are given up in when the line is too wide; the ones
 * not listed (queue, shed and failed) always stay. */
static const enum piece give_up[] = {
    P_IN_BYTE_RATE, P_IN_BYTES, P_OUT_RATE, P_IN_RATE, P_ELAPSED,
    P_OUT,          P_IN,       P_ETA,      P_SHARE,   P_NAME,
};

long progress_eta(double elapsed_s, double share)
{
    if (!(share > 0) || !(elapsed_s >= 0))
        return -1;
    if (share >= 1)
        return 0;
    double left = elapsed_s * (1 - share) / share;
    if (!(left <= (double)ETA_MAX_S))
        return -1;
    /* up: 0.4 s left is not "0:00"; the slack keeps 2.0000001 at 2 */
    return (long)ceil(left - 1e-6);
}

static void clock_text(char *buf, size_t len, long s)
{
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* The share and ETA pieces; left empty while the input size is unknown. */
static void eta_pieces(const struct progress_figures *f, char p[][PIECE_MAX])
{
    if (!f->input_size || f->elapsed_s <= 0)
        return;
    double share = MIN(1.0, (double)f->input_done / (double)f->input_size);
    char left[32] = "?";
    long eta = progress_eta(f->elapsed_s, share);
    if (eta >= 0)
        clock_text(left, sizeof left, eta);
    snprintf(p[P_SHARE], PIECE_MAX, " %.0f%%", floor(100 * share)); /* 99.6% is not done */
    snprintf(p[P_ETA], PIECE_MAX, " ETA %s", left);
}

static void write_pieces(const struct progress_figures *f, char p[][PIECE_MAX])
{
    char a[32], b[32];
    snprintf(p[P_NAME], PIECE_MAX, "weir");
    clock_text(a, sizeof a, f->elapsed_s > 0 ? (long)f->elapsed_s : 0);
    snprintf(p[P_ELAPSED], PIECE_MAX, " %s", a);
    eta_pieces(f, p);
    stats_human_count(a, sizeof a, f->records_in);
    snprintf(p[P_IN], PIECE_MAX, " | in %s", a);
    stats_human_bytes(a, sizeof a, (double)f->bytes_in);
    snprintf(p[P_IN_BYTES], PIECE_MAX, " (%s)", a);
    stats_human_rate(a, sizeof a, f->rate_in);
    snprintf(p[P_IN_RATE], PIECE_MAX, " %s/s", a);
    stats_human_bytes(a, sizeof a, f->byte_rate_in);
    snprintf(p[P_IN_BYTE_RATE], PIECE_MAX, " %s/s", a);
    stats_human_count(a, sizeof a, f->records_out);
    snprintf(p[P_OUT], PIECE_MAX, " | out %s", a);
    stats_human_rate(a, sizeof a, f->rate_out);
    snprintf(p[P_OUT_RATE], PIECE_MAX, " %s/s", a);
    snprintf(b, sizeof b, "-");
    if (f->queue_capacity)
        snprintf(b, sizeof b, "%" PRIu64, f->queue_capacity);
    snprintf(p[P_QUEUE], PIECE_MAX, " | queue %" PRIu64 "/%s", f->queue_records, b);
    snprintf(p[P_SHED], PIECE_MAX, " | shed %" PRIu64 " failed %" PRIu64, f->shed, f->failed);
}

size_t progress_compose(const struct progress_figures *f, unsigned width, char *buf, size_t len)
{
    char p[P_N][PIECE_MAX] = {{0}};
    write_pieces(f, p);
    size_t total = 0, max = width ? width - 1 : 0;
    bool on[P_N];
    for (int i = 0; i < P_N; i++) {
        on[i] = true;
        total += strlen(p[i]);
    }
    for (size_t k = 0; total > max && k < sizeof give_up / sizeof give_up[0]; k++) {
        on[give_up[k]] = false;
        total -= strlen(p[give_up[k]]);
    }
    if (len == 0)
        return 0;
    max = MIN(max, len - 1);
    size_t n = 0;
    for (int i = 0; i < P_N && n < max; i++) {
        const char *s = p[i];
        if (!on[i])
            continue;
        if (n == 0) /* without the name, the queue leads: "queue 12/1024 | ..." */
            s += strspn(s, " |");
        size_t take = MIN(strlen(s), max - n); /* cut short: too narrow */
        memcpy(buf + n, s, take);
        n += take;
    }
    buf[n] = '\0';
    return n;
}
