/* intake_stdin.c - intake from stdin (intake.h): the source (plain or
 * zstd, stream.h) read into chunks, the framer cutting them into records
 * and batches, and what it hands back: fresh batches to admission, the
 * bytes of a record longer than --max-record to the rejects (failed), and
 * the record a stop cut in the middle (read, so counted, and shed as the
 * stop says). Everything here runs on the reader thread; it waits only in
 * poll, on stdin and on the run's wake-up. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "framer.h"
#include "intake_int.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "shed.h"
#include "stream.h"

/* Framer callback: one batch of fresh records. */
static int on_batch(void *ctx, struct batch *b)
{
    intake_admit(ctx, b);
    return 0; /* once intake stops, the rest of this read is shed the same way */
}

/* Framer callback: bytes of a record longer than --max-record. */
static int on_oversize(void *ctx, uint64_t recno, const char *data, size_t len, bool last,
                       bool open_end)
{
    struct intake *in = ctx;
    /* read before it fails: a snapshot never sees it failed, not read */
    intake_count(in, last ? 1 : 0, len);
    shed_bytes(in->cfg.shed, recno, data, len, last, open_end, OUTCOME_FAILED, REASON_TOO_LONG);
    if (last)
        intake_oversize(in, recno);
    return 0;
}

/* Framer callback: the record reading stopped in the middle of (a signal,
 * stdout closed, a stop): read, so counted, and shed as what the stop
 * makes of the records it did not admit; said once, after a signal. */
static int on_cut(void *ctx, uint64_t recno, const char *data, size_t len)
{
    struct intake *in = ctx;
    enum outcome as;
    if (!run_stopped(in->cfg.run,
                     &as)) /* an error stopped framing: what is left is not one record */
        return 0;
    intake_count(in, 1, len);
    shed_bytes(in->cfg.shed, recno, data, len, true, true, as, REASON_STOPPED);
    if (run_has(in->cfg.run, RUN_SIGNAL)) /* other stops have said why already */
        report_warning("record %" PRIu64
                       " was read only in part (%zu bytes) when reading stopped: %s",
                       recno, len, as == OUTCOME_DROPPED ? "dropped" : "failed");
    return 0;
}

static int stdin_open(struct intake *in)
{
    const struct options *o = in->cfg.o;
    struct framer_config fc = {
        .delim = o->delim,
        .max_record = o->max_record,
        .chunk_size = INTAKE_CHUNK,
        .pool = in->cfg.pool,
        .batch_records = MIN(o->capacity, INTAKE_BATCH_MAX),
        .batch_bytes = o->capacity_bytes,
        .on_batch = on_batch,
        .on_oversize = on_oversize,
        .on_cut = on_cut,
        .ctx = in,
    };
    in->framer = framer_new(&fc);
    in->in = source_new(STDIN_FILENO, o->decompress);
    return in->framer && in->in ? 0 : -ENOMEM;
}

static void stdin_close(struct intake *in)
{
    framer_free(in->framer);
    source_free(in->in);
}

/* One read into the framer. False when reading ends: end of input, an
 * error (reported), or a wake-up (the run stops). */
static bool read_once(struct intake *in, struct pollfd pfd[2])
{
    struct reporter *rep = in->cfg.rep;
    char *buf;
    size_t room;
    if (framer_space(in->framer, &buf, &room) != 0) {
        report_error(rep, "out of memory for the input buffer");
        return false;
    }
    /* decoded bytes may be waiting: then only look for a wake-up */
    if (poll(pfd, 2, source_ready(in->in) ? 0 : -1) < 0 && errno != EINTR) {
        report_error(rep, "poll stdin: %s", strerror(errno));
        return false;
    }
    if (pfd[1].revents)
        return false;
    ssize_t n = source_read(in->in, buf, room);
    if (n < 0) { /* what was read before is still processed */
        if (n == -EBADMSG)
            report_error(rep, "stdin: %s", source_error(in->in));
        else
            report_error(rep, "read stdin: %s", strerror((int)-n));
        n = 0;
    }
    int rc = n == 0 ? framer_finish(in->framer, now_ns())
                    : framer_commit(in->framer, (size_t)n, now_ns());
    if (rc == -ENOMEM)
        report_error(rep, "out of memory while framing records");
    return n > 0 && rc == 0;
}

static void stdin_run(struct intake *in)
{
    struct pollfd pfd[2] = {
        {.fd = source_fd(in->in), .events = POLLIN},
        {.fd = run_wake_fd(in->cfg.run), .events = POLLIN},
    };
    enum outcome as;
    while (!run_stopped(in->cfg.run, &as) && read_once(in, pfd))
        ;
    framer_stop(in->framer); /* ends an oversize record cut short */
}

static int64_t stdin_tick(struct intake *in, int64_t now)
{
    (void)in;
    (void)now;
    return NS_FOREVER;
}

const struct intake_kind intake_stdin = {stdin_open, stdin_close, stdin_run, stdin_tick};
