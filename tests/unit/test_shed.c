/* test_shed.c - the settle hook (shed.h): a source that acknowledges its
 * records hears of every final outcome, once, with the right record
 * ranges; records a stop of the run cut short go back to it, counted but
 * kept out of the rejects file; records failed by --job-timeout are
 * counted as such. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "mkbatch.h"
#include "rejects.h"
#include "report.h"
#include "run.h"
#include "shed.h"
#include "tap.h"

#define MAX_CALLS 64

/* What the hook heard. */
struct heard {
    size_t n;
    struct call {
        uint64_t first;
        size_t count;
        enum settle how;
    } call[MAX_CALLS];
};

static void settle(void *ctx, const struct batch *b, size_t i, size_t n, enum settle how)
{
    struct heard *h = ctx;
    if (h->n < MAX_CALLS)
        h->call[h->n++] = (struct call){b->recno0 + i, n, how};
}

static char path[] = "/tmp/weir-test-shed-XXXXXX";

static struct shed *new_shed(struct heard *h, struct reporter *rep, const struct run *run)
{
    struct rejects *r = NULL;
    if (rejects_open(path, '\n', &r) != 0)
        return NULL;
    struct shed *s = shed_new(r, path, rep, run);
    shed_hook(s, &(struct settle_hook){settle, h});
    return s;
}

static size_t file_size(void)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n > 0 ? (size_t)n : 0;
}

static void test_rejected(void)
{
    struct heard h = {0};
    struct reporter rep = {0};
    struct shed *s = new_shed(&h, &rep, NULL);
    shed_batch(s, mk(5, 3, 3), OUTCOME_TIMED_OUT);
    ok(h.n == 1 && h.call[0].first == 5 && h.call[0].count == 3 && h.call[0].how == SETTLE_REJECTED,
       "a shed batch is settled once, whole, as rejected");
    is_int((long)file_size(), 12, "and its records are in the rejects file");
    is_int((long)shed_count(s, OUTCOME_TIMED_OUT), 3, "and counted");
    struct batch *b = mk(10, 4, 3);
    shed_record(s, b, 2, OUTCOME_FAILED);
    ok(h.n == 2 && h.call[1].first == 12 && h.call[1].count == 1, "a shed record: its number");
    batch_free(b);
    shed_free(s);
}

static void test_returned(void)
{
    struct heard h = {0};
    struct reporter rep = {0};
    struct run *run;
    if (truncate(path, 0) != 0)
        perror("truncate");
    if (run_new(&run) != 0)
        return;
    struct shed *s = new_shed(&h, &rep, run);
    shed_batch(s, mk(1, 4, 3), OUTCOME_DROPPED);
    ok(h.n == 1 && h.call[0].how == SETTLE_REJECTED, "dropped while the run goes on: rejected");
    run_stop_signal(run, SIGTERM);
    h.n = 0;
    shed_batch(s, mk(1, 4, 3), OUTCOME_DROPPED);
    ok(h.n == 1 && h.call[0].how == SETTLE_RETURNED, "dropped by a stop: returned to the source");
    if (truncate(path, 0) != 0)
        perror("truncate");
    is_int((long)file_size(), 0, "and not in the rejects file");
    is_int((long)shed_count(s, OUTCOME_DROPPED), 8, "but counted as dropped, as before the stop");
    shed_batch(s, mk(5, 2, 3), OUTCOME_FAILED);
    ok(h.n == 2 && h.call[1].how == SETTLE_REJECTED, "a failed record is rejected all the same");
    is_int((long)file_size(), 8, "and in the rejects file");
    shed_free(s);
    run_free(run);
}

static void test_done_skips_failed(void)
{
    struct heard h = {0};
    struct reporter rep = {0};
    struct shed *s = new_shed(&h, &rep, NULL);
    struct batch *b = mk(100, 6, 3);
    b->failed = calloc(6, sizeof *b->failed);
    b->failed[0] = b->failed[3] = true;
    shed_written(s, b, 6);
    ok(h.n == 2 && h.call[0].first == 101 && h.call[0].count == 2 && h.call[1].first == 104 &&
           h.call[1].count == 2 && h.call[0].how == SETTLE_DONE,
       "done: the runs of records the stage did not fail (101-102, 104-105)");
    h.n = 0;
    shed_written(s, b, 2);
    ok(h.n == 1 && h.call[0].first == 101 && h.call[0].count == 1,
       "done: only the first n records (a write cut short)");
    batch_free(b);
    shed_free(s);
}

/* Records failed by --job-timeout are counted among the failed ones, and
 * only when they end as failed. */
static void test_job_timeouts(void)
{
    struct heard h = {0};
    struct reporter rep = {0};
    struct shed *s = new_shed(&h, &rep, NULL);
    struct batch *b = mk(1, 4, 3); /* two failed, one of them by a timeout */
    b->failed = calloc(4, sizeof *b->failed);
    b->failed[1] = b->failed[2] = true;
    b->n_failed = 2;
    b->n_timeouts = 1;
    shed_failed(s, b);
    is_int((long)shed_count(s, OUTCOME_FAILED), 2, "shed_failed: the marked records fail");
    is_int((long)shed_job_timeouts(s), 1, "shed_failed: and the timeouts among them count");
    batch_free(b);
    b = mk(5, 3, 3); /* a block that timed out: all of it */
    b->n_failed = b->n_timeouts = 3;
    shed_results(s, b, OUTCOME_DROPPED);
    is_int((long)shed_count(s, OUTCOME_FAILED), 5, "shed_results: a failed block fails whole");
    is_int((long)shed_job_timeouts(s), 4, "shed_results: its timeouts count");
    shed_free(s);
}

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);
    test_rejected();
    test_returned();
    test_done_skips_failed();
    test_job_timeouts();
    unlink(path);
    return done_testing();
}
