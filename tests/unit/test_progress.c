/* test_progress.c - the text of the --progress line (progress.h): at any
 * width it fits in width - 1 columns; narrower, it gives up the byte
 * figures first and keeps the queue, shed and failed counts; the ETA is
 * rounded up to the second and the share down to the percent. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "tap.h"

#define KEPT " | queue 12/1024 | shed 3456 failed 7"

/* A run 2.5 s in, 54% through a known input, shedding under -p drop. */
static struct progress_figures busy(void)
{
    return (struct progress_figures){
        .elapsed_s = 2.5,
        .input_size = 1000000,
        .input_done = 540000,
        .records_in = 1040000,
        .bytes_in = 11324620, /* 10.8 MiB */
        .records_out = 1000000,
        .rate_in = 399000,
        .byte_rate_in = 4508877, /* 4.3 MiB */
        .rate_out = 398000,
        .queue_records = 12,
        .queue_capacity = 1024,
        .shed = 3456,
        .failed = 7,
    };
}

static const char *line_at(const struct progress_figures *f, unsigned width)
{
    static char buf[512];
    size_t n = progress_compose(f, width, buf, sizeof buf);
    if (n != strlen(buf))
        printf("# width %u: returned %zu for a line of %zu\n", width, n, strlen(buf));
    return buf;
}

static void test_widths(void)
{
    struct progress_figures f = busy();
    is_str(line_at(&f, 200),
           "weir 0:02 54% ETA 0:03 | in 1.04M (10.8 MiB) 399k/s 4.3 MiB/s | out 1.00M 398k/s" KEPT,
           "200 columns: the whole line");
    is_str(line_at(&f, 100), "weir 0:02 54% ETA 0:03 | in 1.04M 399k/s | out 1.00M 398k/s" KEPT,
           "100 columns: the byte rate and size go first");
    is_str(line_at(&f, 90), "weir 0:02 54% ETA 0:03 | in 1.04M 399k/s | out 1.00M" KEPT,
           "90 columns: then the rate out");
    is_str(line_at(&f, 85), "weir 0:02 54% ETA 0:03 | in 1.04M | out 1.00M" KEPT,
           "85 columns: then the rate in");
    is_str(line_at(&f, 80), "weir 54% ETA 0:03 | in 1.04M | out 1.00M" KEPT,
           "80 columns: then the elapsed time; queue, shed and failed stay");
    is_str(line_at(&f, 60), "weir 54% ETA 0:03" KEPT, "60 columns: then the counts");
    is_str(line_at(&f, 50), "weir 54%" KEPT, "50 columns: then the ETA");
    is_str(line_at(&f, 45), "weir" KEPT, "45 columns: then the share");
    is_str(line_at(&f, 40), "queue 12/1024 | shed 3456 failed 7",
           "40 columns: then the name, the queue, shed and failed counts stay");
    is_str(line_at(&f, 20), "queue 12/1024 | she", "20 columns: too narrow, cut on the right");
    is_str(line_at(&f, 1), "", "1 column: nothing");
    is_str(line_at(&f, 0), "", "0 columns: nothing");
}

/* At every width: within width - 1 columns, and once the kept pieces fit,
 * they are there, and every piece shown at a width is shown when wider. */
static void test_every_width(void)
{
    struct progress_figures f = busy();
    const char *tail = &KEPT[3]; /* "queue ...", less the leading " | " */
    unsigned kept_from = (unsigned)strlen(tail) + 1;
    bool fits = true, kept = true, grows = true;
    char prev[512] = "";
    for (unsigned w = 0; w <= 300; w++) {
        const char *l = line_at(&f, w);
        size_t n = strlen(l);
        if (n + 1 > (w ? w : 1))
            fits = false, printf("# width %u: %zu columns: %s\n", w, n, l);
        if (w >= kept_from && !strstr(l, tail))
            kept = false, printf("# width %u: %s\n", w, l);
        if (strlen(prev) > n)
            grows = false, printf("# width %u: shorter than at %u: %s\n", w, w - 1, l);
        snprintf(prev, sizeof prev, "%s", l);
    }
    ok(fits, "never wider than width - 1");
    ok(kept, "queue, shed and failed stay from %u columns on", kept_from);
    ok(grows, "a wider terminal never shows less");
}

static void test_no_size(void)
{
    struct progress_figures f = busy();
    f.input_size = 0;
    is_str(line_at(&f, 200),
           "weir 0:02 | in 1.04M (10.8 MiB) 399k/s 4.3 MiB/s | out 1.00M 398k/s" KEPT,
           "input size unknown: no share, no ETA");
    f = busy();
    f.queue_capacity = 0;
    f.shed = f.failed = 0;
    f.queue_records = 0;
    is_str(line_at(&f, 40), "weir 54% | queue 0/- | shed 0 failed 0", "no record bound: queue N/-");
    char small[8];
    f = busy();
    is_int(progress_compose(&f, 200, small, sizeof small), 7, "a short buffer: cut to it");
    is_str(small, "weir 0:", "a short buffer: NUL-terminated");
}

static void test_eta(void)
{
    is_int(progress_eta(4.0, 0.81), 1, "0.94 s left: 1, not 0");
    is_int(progress_eta(8.1, 0.81), 2, "1.9 s left: 2");
    is_int(progress_eta(2.0, 0.5), 2, "exactly 2 s left: 2");
    is_int(progress_eta(3.0, 0.75), 1, "exactly 1 s left: 1");
    is_int(progress_eta(5.0, 1.0), 0, "all read: 0");
    is_int(progress_eta(5.0, 0.0), -1, "nothing read: unknown");
    is_int(progress_eta(1e6, 1e-9), -1, "too far off: unknown");
    struct progress_figures f = busy();
    f.elapsed_s = 4.0;
    f.input_done = 810000;
    is_str(line_at(&f, 60), "weir 81% ETA 0:01" KEPT, "a second left shows as 0:01");
    f.input_done = f.input_size;
    is_str(line_at(&f, 60), "weir 100% ETA 0:00" KEPT, "all read: 100%% ETA 0:00");
    f.input_done = f.input_size - 1;
    is_str(line_at(&f, 60), "weir 99% ETA 0:01" KEPT, "not all read: 99%%, not 100%%");
    f.input_done = 0;
    is_str(line_at(&f, 60), "weir 0% ETA ?" KEPT, "nothing read yet: ETA ?");
    f.elapsed_s = 3725;
    f.input_done = f.input_size / 2;
    is_str(line_at(&f, 200),
           "weir 1:02:05 50% ETA 1:02:05 | in 1.04M (10.8 MiB) 399k/s 4.3 MiB/s | out 1.00M "
           "398k/s" KEPT,
           "hours");
}

int main(void)
{
    test_widths();
    test_every_width();
    test_no_size();
    test_eta();
    return done_testing();
}
