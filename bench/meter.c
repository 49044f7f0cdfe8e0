/* bench/meter.c - measure the pace of a stream: how fast, how bursty.
 *
 *     meter [-l] [-d] [-w SECONDS] [-s SECONDS] < stream
 *
 * Reads stdin with large read(2)s until EOF, discarding the data, and stamps
 * the return of every read with CLOCK_MONOTONIC. Each read is one event
 * (t, n): n units (bytes, or with -l newline characters) arrived at t. The
 * meter is meant to be the fast side of a pipe, so t is when the writer's
 * data became readable, to within a scheduling delay.
 *
 * Prints one line of key=value pairs (times in seconds, rates in units/s):
 *
 *   units      total units read
 *   events     reads that returned data
 *   start      from the meter's start to the first unit
 *   span       t_last - t_first: first arrival to last arrival
 *   tail       last arrival to EOF (a writer that lingers after its output)
 *   overall    units / span. A token bucket sends its full bucket at once
 *              at t_first, so this is above the set rate by about
 *              burst / (rate * span): informative, not the pace.
 *   steady     the pace over the middle 80% of the run: a = the first event
 *              at or after t_first + 10% of span, b = the last event at or
 *              before t_last - 10% of span; steady = units that arrived in
 *              (a, b] / (t_b - t_a). Measured between two arrivals, so a
 *              writer that sends periodic chunks, each read in one go, is
 *              measured exactly (no partial chunk at either end); a chunk
 *              split over reads at a or b costs up to one chunk. The
 *              initial burst and the drain at EOF are both outside it.
 *   peak       the most units in any window [t, t + W) (W = -w, default
 *              0.1 s), exactly: the best window can always start at an
 *              event, so two pointers over the events try every start.
 *   peak_after the same over windows starting at or after t_first + S (S =
 *              -s, default 0.2 s): the pace once the initial bucket has
 *              drained.
 *
 * With -d, every event is also written to stderr as "seconds_since_first units"
 * (for plotting, or checking the numbers above by hand).
 *
 * Dividing peak by rate * W gives "worst window ÷ target"; a token bucket
 * may legitimately reach (burst + rate * W) / (rate * W) in the first window.
 * An empty stream prints units=0 and zeros. Exit 0, or 1 on a read error or
 * out of memory, 2 on bad usage. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1u << 20)

struct event {
    int64_t t; /* ns, CLOCK_MONOTONIC */
    uint64_t n; /* units that arrived */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t count_newlines(const char *p, size_t len)
{
    uint64_t c = 0;
    const char *end = p + len;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

static int parse_seconds(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e6)
        return -1;
    *ns = (int64_t)(v * 1e9 + 0.5);
    return 0;
}

/* Most units in a window [t_i, t_i + w) over events from index `from` on
 * as window starts (events before `from` are not counted as starts, but
 * the windows still see every later event). */
static uint64_t peak(const struct event *ev, size_t n, size_t from, int64_t w)
{
    uint64_t best = 0, sum = 0;
    size_t j = from; /* window of start i: events i .. j-1; j > i as w > 0 */
    for (size_t i = from; i < n; i++) {
        while (j < n && ev[j].t < ev[i].t + w)
            sum += ev[j++].n;
        if (sum > best)
            best = sum;
        sum -= ev[i].n; /* event i leaves the window */
    }
    return best;
}

static void usage(void)
{
    fputs("usage: meter [-l] [-d] [-w WINDOW_S] [-s SKIP_S] < stream\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    int lines = 0, dump = 0, opt;
    int64_t window = 100000000, skip = 200000000;
    while ((opt = getopt(argc, argv, "ldw:s:")) != -1) {
        switch (opt) {
        case 'l':
            lines = 1;
            break;
        case 'd':
            dump = 1;
            break;
        case 'w':
            if (parse_seconds(optarg, &window) || window <= 0)
                usage();
            break;
        case 's':
            if (parse_seconds(optarg, &skip))
                usage();
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();

    char *buf = malloc(BUF_SIZE);
    size_t cap = 1u << 16, n = 0;
    struct event *ev = malloc(cap * sizeof *ev);
    if (!buf || !ev) {
        fputs("meter: out of memory\n", stderr);
        return 1;
    }
    int64_t t_start = now_ns(), t_eof;
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, BUF_SIZE);
        int64_t t = now_ns();
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("meter: read");
            return 1;
        }
        if (r == 0) {
            t_eof = t;
            break;
        }
        uint64_t u = lines ? count_newlines(buf, (size_t)r) : (uint64_t)r;
        if (u == 0) /* with -l, a line fragment: no unit arrived yet */
            continue;
        if (n == cap) {
            cap *= 2;
            struct event *p = realloc(ev, cap * sizeof *ev);
            if (!p) {
                fputs("meter: out of memory\n", stderr);
                return 1;
            }
            ev = p;
        }
        ev[n].t = t;
        ev[n].n = u;
        n++;
        total += u;
    }

    if (n == 0 || total == 0) {
        printf("units=0 events=0 start=0 span=0 tail=0 overall=0 steady=0 "
               "peak=0 peak_after=0\n");
        return 0;
    }
    int64_t t0 = ev[0].t, t1 = ev[n - 1].t, span = t1 - t0;
    if (dump)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%.6f %llu\n", (double)(ev[i].t - t0) / 1e9,
                    (unsigned long long)ev[i].n);
    double overall = span > 0 ? (double)total / ((double)span / 1e9) : 0;

    /* steady: between the events a (first at/after 10%) and b (last
     * at/before 90%) */
    double steady = 0;
    size_t a = 0, b = n - 1;
    while (a < n && ev[a].t < t0 + span / 10)
        a++;
    while (b > 0 && ev[b].t > t1 - span / 10)
        b--;
    if (a < n && b > a && ev[b].t > ev[a].t) {
        uint64_t mid = 0;
        for (size_t i = a + 1; i <= b; i++)
            mid += ev[i].n;
        steady = (double)mid / ((double)(ev[b].t - ev[a].t) / 1e9);
    }

    size_t from = 0;
    while (from < n && ev[from].t < t0 + skip)
        from++;
    printf("units=%llu events=%zu start=%.6f span=%.6f tail=%.6f overall=%.3f "
           "steady=%.3f peak=%llu peak_after=%llu\n",
           (unsigned long long)total, n, (double)(t0 - t_start) / 1e9, (double)span / 1e9,
           (double)(t_eof - t1) / 1e9, overall, steady,
           (unsigned long long)peak(ev, n, 0, window),
           (unsigned long long)peak(ev, n, from, window));
    free(buf);
    free(ev);
    return 0;
}
