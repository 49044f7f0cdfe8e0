/* pipeline.c - the threads of a weir run and how they stop.
 *
 * DESIGN
 *   reader (1)   reads stdin into chunks, frames batches, admits them
 *                (limiter, then queue, as the policy says), sheds the rest.
 *   workers (j)  pop batches (whole, or record by record for slow stages),
 *                run the stage, and hand the result to the sequencer; the
 *                worker whose result is next in line writes it and any
 *                others now ready, then flushes (see seq.h). With only
 *                `cat` to do, one worker is enough.
 *   caller       waits for signals (pipeline_run) and the end of the run.
 * Order: batches are numbered as they leave the queue, which is input
 * order, and written in that order (or as they finish, with -u). Memory:
 * the queue holds at most capacity records (or capacity-bytes), and at
 * most workers + 1 batches are out of it, so a slow record at the head
 * stops intake instead of letting finished work pile up.
 * Stopping: end of input closes the queue; workers drain it and leave;
 * the last one wakes the caller with SIGUSR2. A first SIGINT/SIGTERM stops
 * intake (records already read but not admitted are shed as dropped); a failed
 * stdout aborts the queue. Locks: queue, sequencer, rejects and latency
 * each have their own mutex, and none is held while taking another. */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "framer.h"
#include "hist.h"
#include "limiter.h"
#include "ops.h"
#include "queue.h"
#include "rejects.h"
#include "seq.h"
#include "stream.h"
#include "sync.h"

#define CHUNK_SIZE (256 * 1024)   /* usual read size */
#define BATCH_RECORDS_MAX 4096    /* records in one batch at most */
#define POOL_CHUNKS 16            /* free input chunks kept for reuse */
#define OUT_BUF_SIZE (256 * 1024) /* writer's buffer */
#define PENDING_MAX 64            /* batches buffered before a forced flush */
#define OVERSIZE_WARNINGS 10      /* oversize records named on stderr */

typedef _Atomic uint64_t counter;

struct worker {
    struct pipeline *p;
    pthread_t tid;
    struct ops *ops; /* this worker's compiled stage */
    counter busy_ns; /* time spent in the stage */
};

struct pipeline {
    struct options o;
    /* plumbing */
    struct queue *queue;
    struct seq *seq;
    struct rejects *rejects;
    struct framer *framer;
    struct chunk_pool *pool; /* input chunks, recycled */
    struct source *in;
    struct sink *out;
    struct worker *workers;
    size_t grain;      /* records per pop, 0 = whole batches */
    unsigned nworkers; /* threads started for the stage */
    pthread_t reader_tid, main_tid;
    bool reader_started;
    unsigned workers_started;
    atomic_uint running;            /* workers not yet finished */
    int wake[2];                    /* self-pipe: wakes the reader's poll */
    struct limiter rate, byte_rate; /* used when o.rate / o.byte_rate */
    /* state shared between threads */
    atomic_int stop_signal;     /* first SIGINT/SIGTERM received */
    atomic_bool overload;       /* fail policy tripped */
    atomic_bool runtime_error;  /* an error was reported */
    atomic_int out_err;         /* stdout failed: -errno (-EPIPE: closed early) */
    atomic_bool rejects_broken; /* the rejects file failed (reported) */
    atomic_bool finished;       /* the last worker is done */
    /* output state, owned by the worker holding the writer role */
    bool out_dead;                         /* stdout failed: discard */
    struct batch *pending, **pending_tail; /* batches whose bytes are in the buffer */
    size_t npending;
    /* figures */
    int64_t t_start;
    _Atomic int64_t t_end;
    counter records_in, bytes_in, done, out_records, bytes_out;
    counter dropped, timed_out, failed;
    counter limiter_wait_ns, limiter_waits;
    unsigned oversize_seen; /* reader-only */
    pthread_mutex_t lat_mu; /* guards lat */
    struct hist *lat;       /* admitted-to-written latency, ns */
};

static void add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void report(struct pipeline *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints one error line and marks the run failed (exit 1). */
static void report(struct pipeline *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr); /* one whole line, whichever thread reports */
    fputs("weir: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
    atomic_store(&p->runtime_error, true);
}

static void wake_reader(struct pipeline *p)
{
    char c = 1;
    ssize_t n = write(p->wake[1], &c, 1); /* non-blocking; a full pipe already wakes */
    (void)n;
}

static bool intake_stopped(struct pipeline *p)
{
    return atomic_load(&p->stop_signal) || atomic_load(&p->out_err) || atomic_load(&p->overload);
}

/* What records that can no longer reach a failed stdout count as:
 * dropped when it was closed early (EPIPE), failed on any other error. */
static enum outcome lost_outcome(struct pipeline *p)
{
    return atomic_load(&p->out_err) == -EPIPE ? OUTCOME_DROPPED : OUTCOME_FAILED;
}

/* ---- shedding ---------------------------------------------------------- */

/* A rejects file that cannot be written is reported once. */
static void rejects_failed(struct pipeline *p, int err)
{
    if (!atomic_exchange(&p->rejects_broken, true))
        report(p, "--rejects %s: write: %s", p->o.rejects_path, strerror(-err));
}

static void shed(struct pipeline *p, struct batch *b, enum outcome why)
{
    counter *c = why == OUTCOME_TIMED_OUT ? &p->timed_out
                 : why == OUTCOME_FAILED  ? &p->failed
                                          : &p->dropped;
    add(c, b->n);
    if (p->rejects) {
        int rc = rejects_batch(p->rejects, b);
        if (rc)
            rejects_failed(p, rc);
    }
    batch_free(b);
}

static void shed_list(struct pipeline *p, struct batch *list, enum outcome why)
{
    while (list) {
        struct batch *next = list->next;
        shed(p, list, why);
        list = next;
    }
}

/* ---- the reader: framing and admission --------------------------------- */

/* Sleeps until `deadline` unless intake is stopped first. */
static void reader_sleep_until(struct pipeline *p, int64_t deadline)
{
    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline || intake_stopped(p))
            return;
        struct timespec ts = ns_to_timespec(deadline - now);
        struct pollfd pfd = {.fd = p->wake[0], .events = POLLIN};
        ppoll(&pfd, 1, &ts, NULL);
    }
}

/* The fewest tokens worth taking: admitting one record per token as they
 * trickle in would wake intake for every record, so a short batch waits
 * for up to 1 ms worth of tokens (never more than the burst, nor than it
 * needs). The bucket's bound is unchanged. */
static uint64_t min_slice(double rate, double burst, uint64_t need)
{
    uint64_t slice = (uint64_t)MAX(1.0, MIN(burst, rate / 1000));
    return MIN(slice, need);
}

/* How many head records of b the token buckets allow now (0..b->n); when
 * not all, *ready says when to ask again. */
static size_t tokens_for(struct pipeline *p, const struct batch *b, int64_t now, int64_t *ready)
{
    size_t k = b->n;
    *ready = now;
    if (p->o.rate > 0) {
        uint64_t avail = limiter_available(&p->rate, now);
        uint64_t want = min_slice(p->o.rate, p->o.burst, k);
        if (avail < want) {
            k = 0;
            *ready = limiter_ready(&p->rate, now, want);
        } else if (avail < k) {
            k = (size_t)avail;
        }
    }
    if (p->o.byte_rate > 0 && k > 0) {
        uint64_t avail = limiter_available(&p->byte_rate, now), sum = 0, all = 0;
        size_t i = 0;
        for (; i < k; i++) {
            uint64_t sz = batch_rec_size(b, i);
            if (sum + sz > avail)
                break;
            sum += sz;
        }
        if (i < k) {
            for (size_t j = 0; j < k; j++)
                all += batch_rec_size(b, j);
            uint64_t want = min_slice(p->o.byte_rate, p->o.byte_burst, all);
            uint64_t next = sum + batch_rec_size(b, i);
            int64_t r = limiter_ready(&p->byte_rate, now, MAX(want, next));
            if (r <= now) {
                i++; /* more than the burst, and the bucket is full: it goes into debt */
            } else if (sum < want) {
                i = 0;
                *ready = r;
            }
            k = i;
        }
    }
    return k;
}

static void take_tokens(struct pipeline *p, const struct batch *b, int64_t now)
{
    if (p->o.rate > 0)
        limiter_take(&p->rate, now, b->n);
    if (p->o.byte_rate > 0)
        limiter_take(&p->byte_rate, now, b->bytes);
}

/* Passes the rate limiter: returns the head of *bp that may go on now
 * (NULL when none), having waited or shed as the policy says. A split
 * that fails leaves everything in *bp for the caller to shed. */
static struct batch *admit_tokens(struct pipeline *p, struct batch **bp)
{
    if (p->o.rate <= 0 && p->o.byte_rate <= 0) {
        struct batch *b = *bp;
        *bp = NULL;
        return b;
    }
    for (;;) {
        struct batch *b = *bp;
        int64_t now = now_ns(), ready;
        size_t k = tokens_for(p, b, now, &ready);
        if (k == b->n) {
            take_tokens(p, b, now);
            *bp = NULL;
            return b;
        }
        if (k > 0) {
            struct batch *h = batch_split(b, k);
            if (!h) {
                report(p, "out of memory while admitting records");
                return NULL;
            }
            batch_compact(h); /* on failure it just stays in the big chunk */
            take_tokens(p, h, now);
            return h;
        }
        switch (policy_on_token(p->o.policy, b->t_in, ready, p->o.timeout_ns)) {
        case TOKEN_WAIT:
            if (!b->waited) { /* count each record once, however often it waits */
                add(&p->limiter_waits, b->n);
                b->waited = true;
            }
            reader_sleep_until(p, ready);
            add(&p->limiter_wait_ns, (uint64_t)(now_ns() - now));
            if (intake_stopped(p))
                return NULL;
            continue;
        case TOKEN_STOP:
            atomic_store(&p->overload, true);
            return NULL;
        case TOKEN_SHED: /* the records behind it would wait even longer */
            shed(p, *bp, policy_shed_outcome(p->o.policy));
            *bp = NULL;
            return NULL;
        }
    }
}

/* Pushes b into the queue as the policy says; returns what was not
 * admitted (NULL when all was). */
static struct batch *admit_queue(struct pipeline *p, struct batch *b)
{
    if (p->o.policy == POLICY_DROP_OLDEST) {
        struct batch *evicted;
        int rc = queue_push_evict(p->queue, b, &evicted);
        shed_list(p, evicted, OUTCOME_DROPPED);
        return rc ? b : NULL;
    }
    queue_push(p->queue, &b, policy_deadline(p->o.policy, b->t_in, p->o.timeout_ns));
    return b;
}

/* What a record that could not be admitted counts as. */
static enum outcome refused(struct pipeline *p)
{
    if (atomic_load(&p->overload))
        return OUTCOME_FAILED;
    if (atomic_load(&p->out_err))
        return lost_outcome(p);
    if (intake_stopped(p))
        return OUTCOME_DROPPED;
    return policy_shed_outcome(p->o.policy);
}

/* Framer callback: admission of one batch of fresh records. */
static int on_batch(void *ctx, struct batch *b)
{
    struct pipeline *p = ctx;
    add(&p->records_in, b->n);
    add(&p->bytes_in, b->bytes);
    while (b && !intake_stopped(p)) {
        struct batch *go = admit_tokens(p, &b);
        if (!go)
            break;
        struct batch *rest = admit_queue(p, go);
        if (rest) {
            if (p->o.policy == POLICY_FAIL && !intake_stopped(p))
                atomic_store(&p->overload, true);
            shed(p, rest, refused(p));
        }
    }
    if (b) /* not admitted: overload, interruption, or out of memory */
        shed(p, b, refused(p));
    return 0; /* once intake stops, the rest of this read is shed the same way */
}

/* Framer callback: bytes of a record longer than --max-record. */
static int on_oversize(void *ctx, uint64_t recno, const char *data, size_t len, bool last,
                       bool open_end)
{
    struct pipeline *p = ctx;
    add(&p->bytes_in, len);
    if (p->rejects) {
        int rc = rejects_bytes(p->rejects, data, len, last && open_end);
        if (rc)
            rejects_failed(p, rc);
    }
    if (!last)
        return 0;
    add(&p->records_in, 1);
    add(&p->failed, 1);
    if (p->oversize_seen < OVERSIZE_WARNINGS)
        fprintf(stderr,
                "weir: record %" PRIu64 " is longer than --max-record %zu bytes: failed%s\n", recno,
                p->o.max_record,
                p->oversize_seen + 1 == OVERSIZE_WARNINGS ? " (further ones not reported)" : "");
    p->oversize_seen++;
    return 0;
}

static void *reader_main(void *arg)
{
    struct pipeline *p = arg;
    struct pollfd pfd[2] = {
        {.fd = source_fd(p->in), .events = POLLIN},
        {.fd = p->wake[0], .events = POLLIN},
    };
    while (!intake_stopped(p)) {
        char *buf;
        size_t room;
        if (framer_space(p->framer, &buf, &room) != 0) {
            report(p, "out of memory for the input buffer");
            break;
        }
        if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
            report(p, "poll stdin: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents)
            break;
        ssize_t n = source_read(p->in, buf, room);
        if (n < 0) {
            report(p, "read stdin: %s", strerror((int)-n));
            break;
        }
        int rc = n == 0 ? framer_finish(p->framer, now_ns())
                        : framer_commit(p->framer, (size_t)n, now_ns());
        if (rc == -ENOMEM)
            report(p, "out of memory while framing records");
        if (n == 0 || rc)
            break;
    }
    if (framer_stop(p->framer) == -ENOMEM) /* ends an oversize record cut short */
        report(p, "out of memory while framing records");
    queue_close(p->queue);
    return NULL;
}

/* ---- output: whichever worker holds the writer role -------------------- */

/* The batches whose bytes were in the output buffer have gone out
 * (written) or cannot (stdout failed): count them, take their latency or
 * shed them, and free them. */
static void settle_pending(struct pipeline *p, bool written)
{
    if (!p->pending)
        return;
    int64_t now = now_ns();
    if (written)
        sync_lock(&p->lat_mu);
    while (p->pending) {
        struct batch *b = p->pending;
        p->pending = b->next;
        if (!written) {
            shed(p, b, lost_outcome(p));
            continue;
        }
        add(&p->done, b->n_done);
        add(&p->out_records, b->n_out);
        add(&p->bytes_out, b->bytes_out);
        hist_add(p->lat, (uint64_t)(now - b->t_queued), b->n_done);
        batch_free(b);
    }
    if (written)
        sync_unlock(&p->lat_mu);
    p->pending_tail = &p->pending;
    p->npending = 0;
}

/* stdout failed: stop all work, and shed output from now on. */
static void output_failed(struct pipeline *p, int err)
{
    if (err != -EPIPE)
        report(p, "write stdout: %s", strerror(-err));
    p->out_dead = true;
    atomic_store(&p->out_err, err);
    queue_abort(p->queue);
    wake_reader(p);
    settle_pending(p, false);
}

static void flush_output(struct pipeline *p)
{
    int rc;
    if (!p->out_dead && sink_pending(p->out) && (rc = sink_flush(p->out)) != 0)
        output_failed(p, rc);
    settle_pending(p, !p->out_dead);
}

/* Writes b's output. Its records count as written once the buffer holding
 * them goes out, so that a failing stdout leaves none counted that did
 * not reach it. */
static void write_batch(struct pipeline *p, struct batch *b)
{
    queue_release(p->queue);
    if (p->out_dead || b->n_failed == b->n) {
        shed(p, b, p->out_dead ? lost_outcome(p) : OUTCOME_FAILED);
        return;
    }
    if (p->npending == PENDING_MAX || b->bytes_out > sink_room(p->out))
        flush_output(p); /* so the sink never writes a pending batch unseen */
    b->next = NULL;
    *p->pending_tail = b;
    p->pending_tail = &b->next;
    p->npending++;
    for (size_t i = 0; i < b->nsegs && !p->out_dead; i++) {
        int rc = sink_write(p->out, b->segs[i].p, b->segs[i].len);
        if (rc)
            output_failed(p, rc);
    }
    if (!p->out_dead && !sink_pending(p->out))
        settle_pending(p, true); /* all went straight out */
}

/* Hands a finished batch on; if that makes this worker the writer, writes
 * everything that is ready, then flushes, so nothing waits in the buffer
 * while output is idle. */
static void deliver(struct pipeline *p, struct batch *b)
{
    struct batch *w = seq_put(p->seq, b);
    while (w) {
        write_batch(p, w);
        w = seq_next(p->seq, false);
        if (!w) {
            flush_output(p);
            w = seq_next(p->seq, true);
        }
    }
}

/* ---- workers ----------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pipeline *p = w->p;
    struct batch *b;
    while (queue_pop(p->queue, p->grain, &b) == 0) {
        int64_t t0 = now_ns();
        int rc = ops_run(w->ops, b);
        add(&w->busy_ns, (uint64_t)(now_ns() - t0));
        if (rc) { /* the writer sheds the batch as failed */
            report(p, "out of memory while processing records %" PRIu64 "-%" PRIu64, b->seq0,
                   b->seq0 + b->n - 1);
            b->n_done = b->n_out = b->bytes_out = 0;
            b->n_failed = b->n;
            b->nsegs = 0;
        }
        deliver(p, b);
    }
    if (atomic_fetch_sub(&p->running, 1) == 1) { /* the last one out */
        atomic_store(&p->t_end, now_ns());
        atomic_store(&p->finished, true);
        pthread_kill(p->main_tid, SIGUSR2);
    }
    return NULL;
}

/* ---- setup and teardown ------------------------------------------------ */

struct pipeline *pipeline_new(const struct options *o, int *exit_code)
{
    struct pipeline *p = calloc(1, sizeof *p);
    *exit_code = EXIT_RUNTIME;
    if (!p || sync_mutex_init(&p->lat_mu) != 0) {
        fprintf(stderr, "weir: out of memory\n");
        free(p);
        return NULL;
    }
    p->o = *o;
    p->wake[0] = p->wake[1] = -1;
    p->pending_tail = &p->pending;
    p->workers = calloc(o->workers, sizeof *p->workers);
    p->lat = hist_new();
    if (!p->workers || !p->lat) {
        fprintf(stderr, "weir: out of memory\n");
        goto fail;
    }
    /* cat alone costs nothing per record: one thread moves it all */
    p->nworkers = o->workers;
    char err[256];
    for (unsigned i = 0; i < p->nworkers; i++) {
        p->workers[i].p = p;
        p->workers[i].ops = ops_new(o->ops, o->n_ops, o->delim, err, sizeof err);
        if (!p->workers[i].ops) {
            if (err[0])
                fprintf(stderr, "weir: %s (see weir --help)\n", err);
            else
                fprintf(stderr, "weir: out of memory\n");
            *exit_code = err[0] ? EXIT_USAGE : EXIT_RUNTIME;
            goto fail;
        }
        if (i == 0 && ops_identity(p->workers[0].ops))
            p->nworkers = 1;
    }
    p->grain = ops_slow(p->workers[0].ops) ? 1 : 0;
    if (o->rejects_path) {
        int e;
        p->rejects = rejects_open(o->rejects_path, o->delim, &e);
        if (!p->rejects) {
            fprintf(stderr, "weir: --rejects %s: %s\n", o->rejects_path, strerror(e));
            goto fail;
        }
    }
    int64_t now = now_ns();
    if (o->rate > 0)
        limiter_init(&p->rate, o->rate, o->burst, now);
    if (o->byte_rate > 0)
        limiter_init(&p->byte_rate, o->byte_rate, o->byte_burst, now);
    p->pool = chunk_pool_new(CHUNK_SIZE, POOL_CHUNKS);
    size_t batch_records = MIN(o->capacity, BATCH_RECORDS_MAX);
    struct framer_config fc = {
        .delim = o->delim,
        .max_record = o->max_record,
        .chunk_size = CHUNK_SIZE,
        .pool = p->pool,
        .batch_records = batch_records,
        .batch_bytes = o->capacity_bytes,
        .on_batch = on_batch,
        .on_oversize = on_oversize,
        .ctx = p,
    };
    p->framer = framer_new(&fc);
    p->queue = queue_new(o->capacity, o->capacity_bytes, o->workers + 1);
    p->seq = seq_new(o->workers + 1, !o->unordered);
    p->in = source_new(STDIN_FILENO);
    p->out = sink_new(STDOUT_FILENO, OUT_BUF_SIZE);
    if (!p->pool || !p->framer || !p->queue || !p->seq || !p->in || !p->out) {
        fprintf(stderr, "weir: out of memory\n");
        goto fail;
    }
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "weir: pipe: %s\n", strerror(errno));
        goto fail;
    }
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    for (unsigned i = 0; p->workers && i < p->nworkers; i++)
        ops_free(p->workers[i].ops);
    free(p->workers);
    framer_free(p->framer);
    seq_free(p->seq);
    queue_free(p->queue);
    source_free(p->in);
    sink_free(p->out);
    rejects_close(p->rejects);
    for (int i = 0; i < 2; i++)
        if (p->wake[i] >= 0)
            close(p->wake[i]);
    while (p->pending) {
        struct batch *b = p->pending;
        p->pending = b->next;
        batch_free(b);
    }
    chunk_pool_free(p->pool); /* after everything holding chunks */
    hist_free(p->lat);
    pthread_mutex_destroy(&p->lat_mu);
    free(p);
}

static int start_threads(struct pipeline *p)
{
    atomic_store(&p->running, p->nworkers);
    for (unsigned i = 0; i < p->nworkers; i++) {
        int rc = pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]);
        if (rc) {
            atomic_fetch_sub(&p->running, p->nworkers - i);
            return rc;
        }
        p->workers_started++;
    }
    int rc = pthread_create(&p->reader_tid, NULL, reader_main, p);
    if (rc == 0)
        p->reader_started = true;
    return rc;
}

/* Stops intake at the first signal. */
static void stop_intake(struct pipeline *p, int sig)
{
    atomic_store(&p->stop_signal, sig);
    queue_interrupt(p->queue);
    wake_reader(p);
}

static int exit_status(struct pipeline *p)
{
    int sig = atomic_load(&p->stop_signal);
    if (atomic_load(&p->out_err) == -EPIPE && !atomic_load(&p->runtime_error))
        return EXIT_EPIPE;
    if (sig)
        return sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
    if (atomic_load(&p->runtime_error))
        return EXIT_RUNTIME;
    if (atomic_load(&p->overload))
        return EXIT_OVERLOAD;
    return EXIT_DONE;
}

/* The signals weir waits for: the stop signals, SIGUSR1 (snapshot) and
 * SIGUSR2 (the last worker is done). */
static void handled_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
}

void pipeline_block_signals(void)
{
    sigset_t set;
    handled_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as EPIPE, handled quietly */
}

int pipeline_run(struct pipeline *p, bool *aborted)
{
    *aborted = false;
    sigset_t set;
    handled_signals(&set);
    p->main_tid = pthread_self();
    p->t_start = now_ns();
    int rc = start_threads(p);
    if (rc) {
        report(p, "cannot start a thread: %s", strerror(rc));
        queue_abort(p->queue); /* the workers that did start leave at once */
        wake_reader(p);
    }
    while (p->workers_started && !atomic_load(&p->finished)) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGINT || sig == SIGTERM) {
            if (atomic_load(&p->stop_signal)) {
                *aborted = true;
                atomic_store(&p->t_end, now_ns());
                return sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
            }
            stop_intake(p, sig);
        } else if (sig == SIGUSR1 && p->o.stats != STATS_NONE) {
            struct stats s;
            pipeline_stats(p, -1, &s);
            (p->o.stats == STATS_JSON ? stats_print_json : stats_print_text)(stderr, &s);
        }
    }
    if (p->reader_started)
        pthread_join(p->reader_tid, NULL);
    for (unsigned i = 0; i < p->workers_started; i++)
        pthread_join(p->workers[i].tid, NULL);
    if (!p->workers_started)
        atomic_store(&p->t_end, now_ns());
    /* records left queued when stdout failed (or no worker started) */
    shed_list(p, queue_take_all(p->queue), refused(p));
    int e = rejects_close(p->rejects);
    p->rejects = NULL;
    if (e)
        rejects_failed(p, e);
    return exit_status(p);
}

void pipeline_stats(struct pipeline *p, int exit_code, struct stats *s)
{
    memset(s, 0, sizeof *s);
    s->records_in = get(&p->records_in);
    s->bytes_in = get(&p->bytes_in);
    s->records_done = get(&p->done);
    s->records_out = get(&p->out_records);
    s->bytes_out = get(&p->bytes_out);
    s->records_dropped = get(&p->dropped);
    s->records_timed_out = get(&p->timed_out);
    s->records_failed = get(&p->failed);
    int64_t end = atomic_load(&p->t_end);
    if (!end)
        end = now_ns();
    s->elapsed_s = (double)(end - p->t_start) / 1e9;
    struct queue_stats qs;
    queue_stats(p->queue, &qs);
    s->queue_capacity = p->o.capacity;
    s->queue_max = qs.max_records;
    s->queue_mean = qs.mean_records;
    s->queue_full_share = qs.full_share;
    s->workers = p->nworkers;
    uint64_t busy = 0;
    for (unsigned i = 0; i < p->nworkers; i++)
        busy += get(&p->workers[i].busy_ns);
    double span = (double)(end - p->t_start) * p->nworkers;
    s->busy_share = span > 0 ? (double)busy / span : 0;
    s->policy = policy_name(p->o.policy);
    static const double q[4] = {0.5, 0.9, 0.99, 0.999};
    sync_lock(&p->lat_mu);
    for (int i = 0; i < 4; i++)
        s->latency_ms[i] = (double)hist_quantile(p->lat, q[i]) / 1e6;
    s->latency_ms[4] = (double)hist_max(p->lat) / 1e6;
    sync_unlock(&p->lat_mu);
    s->limiter_wait_s = (double)get(&p->limiter_wait_ns) / 1e9;
    s->limiter_waits = get(&p->limiter_waits);
    s->exit = exit_code;
}
