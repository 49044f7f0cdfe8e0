/* pipeline.c - the threads of a weir run, how they start and how they stop.
 *
 * DESIGN
 *   reader (1)   reads stdin into chunks, frames batches (framer.h) and
 *                hands them to admission (admit.h: limiters, policy,
 *                queue push; what is not admitted is shed, shed.h). With
 *                --from it pulls messages instead (broker.h), as many as
 *                the queue has room for, and their outcomes are settled
 *                with the broker through the shed's hook.
 *   workers (j)  pop batches (whole, or record by record for slow
 *                stages), run their stage (stage.h) and hand the result to
 *                the output (output.h), where the worker whose batch is
 *                next in line writes it and whatever else is ready. With a
 *                stage that is the identity, one worker is enough.
 *   caller       owns the signals (pipeline_run waits for them) and the
 *                end of the run.
 * Order: batches are numbered as they leave the queue, which is input
 * order, and written in that order (or as they finish, with -u). Memory:
 * the queue holds at most capacity records (or capacity-bytes), and at
 * most workers + 1 batches are out of it, so a slow record at the head
 * stops intake instead of letting finished work pile up.
 * Stopping: end of input closes the queue; workers drain it and leave;
 * the last one wakes the caller with SIGUSR2. A first SIGINT/SIGTERM stops
 * intake (records already read but not admitted are shed as dropped); a
 * failed stdout aborts the queue, and what is left in it is shed at the
 * end (with --from, records dropped by a stop go back to the stream). Locks: the queue, sequencer,
 * rejects file and latency histogram each have their own mutex, and none is held while taking
 * another. */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit.h"
#include "batch.h"
#include "broker.h"
#include "common.h"
#include "framer.h"
#include "monitor.h"
#include "output.h"
#include "pool.h"
#include "queue.h"
#include "rejects.h"
#include "report.h"
#include "run.h"
#include "shed.h"
#include "stage.h"
#include "stream.h"
#include "sync.h"
#include "term.h"

#define CHUNK_SIZE (256 * 1024) /* usual read size */
#define BATCH_RECORDS_MAX 4096  /* records in one batch at most */
#define POOL_CHUNKS 16          /* free input chunks kept for reuse */
#define OVERSIZE_WARNINGS 10    /* oversize records named on stderr */

typedef _Atomic uint64_t counter;

static void counter_add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t counter_get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

struct pipeline {
    struct options o;
    struct reporter rep; /* errors reported: exit 1 */
    /* the parts, in data-path order */
    struct source *in;
    struct chunk_pool *pool; /* input chunks, recycled */
    struct framer *framer;
    struct admit *admit;
    struct queue *queue;
    struct pool *workers;
    struct output *out;
    struct shed *shed;
    struct monitor *monitor;
    struct broker *broker; /* --nats: JetStream in place of stdin or stdout, or NULL */
    /* threads */
    pthread_t reader_tid;
    bool reader_started;
    struct run *run; /* the stop and its causes, the reader's wake-up */
    /* intake figures */
    int64_t t_start;
    _Atomic int64_t t_end;
    counter records_in, bytes_in;
    unsigned oversize_seen; /* reader only */
    char out_name[128];     /* "write stdout", or "publish to SUBJECT" */
};

static bool intake_over(struct pipeline *p)
{
    enum outcome as;
    return run_stopped(p->run, &as);
}

/* ---- the reader ---------------------------------------------------------- */

/* Framer callback: one batch of fresh records. */
static int on_batch(void *ctx, struct batch *b)
{
    struct pipeline *p = ctx;
    counter_add(&p->records_in, b->n);
    counter_add(&p->bytes_in, b->bytes);
    admit_batch(p->admit, b);
    return 0; /* once intake stops, the rest of this read is shed the same way */
}

static void warn_oversize(struct pipeline *p, uint64_t recno)
{
    if (p->oversize_seen++ < OVERSIZE_WARNINGS)
        report_warning("record %" PRIu64 " is longer than --max-record %zu bytes: failed%s", recno,
                       p->o.max_record,
                       p->oversize_seen == OVERSIZE_WARNINGS ? " (further ones not reported)" : "");
}

/* Framer callback: bytes of a record longer than --max-record. */
static int on_oversize(void *ctx, uint64_t recno, const char *data, size_t len, bool last,
                       bool open_end)
{
    struct pipeline *p = ctx;
    counter_add(&p->bytes_in, len);
    if (last) /* read before it fails: a snapshot never sees it failed, not read */
        counter_add(&p->records_in, 1);
    shed_bytes(p->shed, data, len, last, open_end, OUTCOME_FAILED);
    if (last)
        warn_oversize(p, recno);
    return 0;
}

/* Framer callback: the record reading stopped in the middle of (a signal,
 * stdout closed, a stop): read, so counted, and shed as what intake's stop
 * makes of the records it did not admit; said once, after a signal. */
static int on_cut(void *ctx, uint64_t recno, const char *data, size_t len)
{
    struct pipeline *p = ctx;
    enum outcome as;
    if (!run_stopped(p->run, &as)) /* an error stopped framing: what is left is not one record */
        return 0;
    counter_add(&p->bytes_in, len);
    counter_add(&p->records_in, 1);
    shed_bytes(p->shed, data, len, true, true, as);
    if (run_has(p->run, RUN_SIGNAL)) /* other stops have said why already */
        report_warning("record %" PRIu64
                       " was read only in part (%zu bytes) when reading stopped: %s",
                       recno, len, as == OUTCOME_DROPPED ? "dropped" : "failed");
    return 0;
}

static void *reader_main(void *arg)
{
    struct pipeline *p = arg;
    struct pollfd pfd[2] = {
        {.fd = source_fd(p->in), .events = POLLIN},
        {.fd = run_wake_fd(p->run), .events = POLLIN},
    };
    while (!intake_over(p)) {
        char *buf;
        size_t room;
        if (framer_space(p->framer, &buf, &room) != 0) {
            report_error(&p->rep, "out of memory for the input buffer");
            break;
        }
        /* decoded bytes may be waiting: then only look for a wake-up */
        if (poll(pfd, 2, source_ready(p->in) ? 0 : -1) < 0 && errno != EINTR) {
            report_error(&p->rep, "poll stdin: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents)
            break;
        ssize_t n = source_read(p->in, buf, room);
        if (n < 0) { /* what was read before is still processed */
            if (n == -EBADMSG)
                report_error(&p->rep, "stdin: %s", source_error(p->in));
            else
                report_error(&p->rep, "read stdin: %s", strerror((int)-n));
            n = 0;
        }
        int rc = n == 0 ? framer_finish(p->framer, now_ns())
                        : framer_commit(p->framer, (size_t)n, now_ns());
        if (rc == -ENOMEM)
            report_error(&p->rep, "out of memory while framing records");
        if (n == 0 || rc)
            break;
    }
    framer_stop(p->framer); /* ends an oversize record cut short */
    queue_close(p->queue);
    return NULL;
}

/* Messages fetched from the broker: those longer than --max-record fail
 * (whole, to the rejects), the others go to admission. */
static void take_fetched(struct pipeline *p, struct batch *b)
{
    while (b) {
        size_t i = 0;
        while (i < b->n && b->recs[i].len <= p->o.max_record)
            i++;
        if (i == b->n) {
            on_batch(p, b);
            return;
        }
        struct batch *head = i ? batch_split(b, i) : NULL; /* the records before it */
        if (head)
            on_batch(p, head);
        struct batch *one = b->n > 1 ? batch_split(b, 1) : b; /* it; b keeps the rest */
        if ((i && !head) || !one) {
            report_error(&p->rep, "out of memory while taking messages");
            one = b;
        }
        counter_add(&p->records_in, one->n);
        counter_add(&p->bytes_in, one->bytes);
        warn_oversize(p, one->recno0);
        b = one == b ? NULL : b;
        shed_batch(p->shed, one, OUTCOME_FAILED);
    }
}

#define FETCH_WAIT_NS (200 * NS_PER_MS) /* a fetch waits this long for a message */

/* The reader with --from: fetches what the queue has room for under
 * block (so the backlog stays in the stream), or a batch at a time under
 * the shedding policies, until intake stops, --idle-exit, or an error. */
static void *broker_reader_main(void *arg)
{
    struct pipeline *p = arg;
    size_t most = MIN(p->o.capacity, BATCH_RECORDS_MAX);
    while (!intake_over(p)) {
        size_t records = most, bytes = p->o.capacity_bytes;
        if (p->o.policy == POLICY_BLOCK) {
            queue_room(p->queue, MAX(most / 2, 1), now_ns() + FETCH_WAIT_NS, &records, &bytes);
            records = MIN(records, most);
            if (records == 0)
                continue;
        }
        struct batch *b;
        int rc = broker_fetch(p->broker, records, bytes, FETCH_WAIT_NS, &b);
        if (rc < 0)
            report_error(&p->rep, "%s", broker_error(p->broker));
        if (rc == BROKER_IDLE && *broker_idle_note(p->broker))
            report_warning("%s", broker_idle_note(p->broker));
        if (rc)
            break;
        if (b)
            take_fetched(p, b);
    }
    broker_end_fetch(p->broker);
    queue_close(p->queue);
    return NULL;
}

/* ---- setup and teardown ---------------------------------------------------- */

static int open_shed(struct pipeline *p)
{
    struct rejects *r = NULL;
    if (p->o.rejects_path) {
        int rc = rejects_open(p->o.rejects_path, p->o.delim, &r);
        if (rc) {
            report_error(&p->rep, "--rejects %s: %s", p->o.rejects_path, strerror(-rc));
            return rc;
        }
    }
    p->shed = shed_new(r, p->o.rejects_path, &p->rep, p->run);
    if (!p->shed) { /* shed_new closed r */
        report_error(&p->rep, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* --nats: connected and set up before anything is read. */
static int open_broker(struct pipeline *p, int *exit_code)
{
    if (!p->o.nats_url)
        return 0;
    char msg[512];
    int rc = broker_open(&p->o, p->pool, CHUNK_SIZE, &p->broker, msg, sizeof msg);
    if (rc) {
        report_error(&p->rep, "%s", msg);
        *exit_code = EXIT_RUNTIME;
        return rc;
    }
    if (p->o.nats_from)
        broker_hook(p->broker, p->shed, p->run, &p->rep);
    return 0;
}

static int open_parts(struct pipeline *p)
{
    const struct options *o = &p->o;
    size_t inflight = pool_size(p->workers) + 1;
    p->queue = queue_new(o->capacity, o->capacity_bytes, inflight);
    snprintf(p->out_name, sizeof p->out_name, "%s%s", o->nats_to ? "publish to " : "write stdout",
             o->nats_to ? o->nats_to : "");
    struct output_config oc = {
        .fd = STDOUT_FILENO,
        .target = broker_results(p->broker),
        .name = p->out_name,
        .slots = inflight,
        .ordered = !o->unordered,
        .queue = p->queue,
        .shed = p->shed,
        .rep = &p->rep,
        .run = p->run,
        .delim = o->delim,
        .compress = o->compress,
        .level = o->level,
        .threads = o->compress_threads,
        .terminal = o->progress == PROGRESS_TTY && term_same(STDOUT_FILENO, STDERR_FILENO),
    };
    if (!p->queue)
        return -ENOMEM;
    int rc = output_new(&oc, &p->out);
    if (rc)
        return rc;
    struct admit_config ac = {
        .policy = o->policy,
        .timeout_ns = o->timeout_ns,
        .rate = o->rate,
        .burst = o->burst,
        .byte_rate = o->byte_rate,
        .byte_burst = o->byte_burst,
        .queue = p->queue,
        .shed = p->shed,
        .rep = &p->rep,
        .run = p->run,
    };
    p->admit = admit_new(&ac);
    struct framer_config fc = {
        .delim = o->delim,
        .max_record = o->max_record,
        .chunk_size = CHUNK_SIZE,
        .pool = p->pool,
        .batch_records = MIN(o->capacity, BATCH_RECORDS_MAX),
        .batch_bytes = o->capacity_bytes,
        .on_batch = on_batch,
        .on_oversize = on_oversize,
        .on_cut = on_cut,
        .ctx = p,
    };
    p->framer = framer_new(&fc);
    p->in = source_new(STDIN_FILENO, o->decompress);
    if (!p->admit || !p->framer || !p->in)
        return -ENOMEM;
    run_watch(p->run, p->queue);
    return 0;
}

/* stdin's bytes from here on, when it is a regular file (for the ETA). */
static uint64_t input_size(void)
{
    struct stat st;
    if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
    return at >= 0 && st.st_size > at ? (uint64_t)(st.st_size - at) : 0;
}

static int open_monitor(struct pipeline *p)
{
    struct monitor_config mc = {
        .stats = p->o.stats,
        .interval_ns = p->o.interval_ns,
        .progress = p->o.progress,
        .metrics_path = p->o.metrics_path,
        .metrics_ns = p->o.interval_ns ? p->o.interval_ns : NS_PER_SEC,
        .input_size = p->o.progress != PROGRESS_OFF ? input_size() : 0,
        .start = now_ns(),
    };
    p->t_start = mc.start; /* pipeline_run starts the clock again */
    struct stats first;
    pipeline_stats(p, -1, &first);
    int rc = monitor_new(&mc, &first, &p->monitor);
    if (rc == -ENOMEM)
        report_error(&p->rep, "out of memory");
    else if (rc)
        report_error(&p->rep, "--metrics %s: %s", p->o.metrics_path, strerror(-rc));
    return rc;
}

struct pipeline *pipeline_new(const struct options *o, int *exit_code)
{
    *exit_code = EXIT_RUNTIME;
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        struct reporter rep = {0};
        report_error(&rep, "out of memory");
        return NULL;
    }
    p->o = *o;
    p->pool = chunk_pool_new(CHUNK_SIZE, POOL_CHUNKS); /* input chunks, recycled */
    int rc = run_new(&p->run);
    if (!p->pool || rc) {
        report_error(&p->rep, "cannot set up: %s", strerror(rc ? -rc : ENOMEM));
        goto fail;
    }
    rc = pool_new(&p->o, p->run, &p->rep, &p->workers);
    if (rc == -EINVAL)
        *exit_code = EXIT_USAGE;
    if (rc || open_shed(p) != 0 || open_broker(p, exit_code) != 0)
        goto fail;
    rc = open_parts(p);
    if (rc) {
        report_error(&p->rep, "cannot set up: %s", strerror(-rc));
        goto fail;
    }
    if (open_monitor(p) != 0)
        goto fail;
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    pool_free(p->workers);
    framer_free(p->framer);
    admit_free(p->admit);
    output_free(p->out);
    broker_free(p->broker); /* naks what is still held */
    queue_free(p->queue);
    source_free(p->in);
    shed_free(p->shed);
    monitor_free(p->monitor);
    run_free(p->run);
    chunk_pool_free(p->pool); /* after everything holding chunks */
    free(p);
}

/* ---- running ----------------------------------------------------------------- */

static int start_threads(struct pipeline *p)
{
    int rc = pool_start(p->workers, p->queue, p->out, p->shed);
    if (rc)
        return rc;
    rc = pthread_create(&p->reader_tid, NULL, p->o.nats_from ? broker_reader_main : reader_main, p);
    if (rc == 0)
        p->reader_started = true;
    return rc;
}

/* Stops intake at the first signal. With COMMAND, the records not yet
 * started are shed (the queue is aborted) and the running children get
 * the signal too. */
static void stop_intake(struct pipeline *p, int sig)
{
    run_stop_signal(p->run, sig);
    pool_stop(p->workers, sig);
}

static int exit_status(struct pipeline *p)
{
    int sig = run_signal(p->run);
    if (run_output_error(p->run) == -EPIPE && !report_failed(&p->rep))
        return EXIT_EPIPE;
    if (sig)
        return sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
    if (report_failed(&p->rep))
        return EXIT_RUNTIME;
    if (run_has(p->run, RUN_OVERLOAD))
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

/* Waits for the end of the run, acting on signals. False: a second stop
 * signal came, the run is aborted. */
static bool wait_for_end(struct pipeline *p)
{
    sigset_t set;
    handled_signals(&set);
    struct stats s;
    /* with --compress-threads the writer puts flushes off: see output.c */
    bool ticks = p->o.compress && p->o.compress_threads > 0;
    int64_t next_tick = ticks ? now_ns() + OUTPUT_TICK_NS : NS_FOREVER;
    int64_t next_ack = broker_tick(p->broker, now_ns()); /* keeps held messages alive */
    while (pool_started(p->workers) && !pool_finished(p->workers)) {
        int64_t now = now_ns(), due = MIN(MIN(monitor_deadline(p->monitor), next_tick), next_ack);
        if (now >= next_ack) {
            next_ack = broker_tick(p->broker, now);
            continue;
        }
        if (now >= next_tick) {
            output_tick(p->out);
            next_tick = now + OUTPUT_TICK_NS;
            continue;
        }
        if (now >= due) {
            pipeline_stats(p, -1, &s);
            monitor_tick(p->monitor, now, &s);
            continue;
        }
        struct timespec left = ns_to_timespec(due - now);
        int sig = sigtimedwait(&set, NULL, due == NS_FOREVER ? NULL : &left);
        if (sig == SIGINT || sig == SIGTERM) {
            if (run_signal(p->run)) {
                run_stop_signal(p->run, sig);
                atomic_store(&p->t_end, now_ns());
                return false;
            }
            stop_intake(p, sig);
        } else if (sig == SIGUSR1) {
            pipeline_stats(p, -1, &s);
            monitor_snapshot(p->monitor, &s);
        }
    }
    return true;
}

/* The progress line goes before the summary; the metrics take the final figures. */
static int end_monitor(struct pipeline *p, int code)
{
    struct stats s;
    pipeline_stats(p, code, &s);
    monitor_end(p->monitor, &s);
    return code;
}

int pipeline_run(struct pipeline *p, bool *aborted)
{
    p->t_start = now_ns();
    int rc = start_threads(p);
    if (rc) {
        report_error(&p->rep, "cannot start a thread: %s", strerror(rc));
        queue_abort(p->queue); /* the workers that did start leave at once */
        run_stop(p->run, RUN_ERROR);
    }
    *aborted = !wait_for_end(p);
    if (*aborted) {
        int sig = run_signal(p->run);
        return end_monitor(p, sig == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM);
    }
    if (p->reader_started)
        pthread_join(p->reader_tid, NULL);
    pool_join(p->workers);
    if (!pool_started(p->workers))
        atomic_store(&p->t_end, now_ns());
    /* records left queued when stdout failed (or no worker started) */
    shed_list(p->shed, queue_take_all(p->queue), run_cut_as(p->run));
    output_end(p->out); /* may shed what could not be written */
    shed_close(p->shed);
    return end_monitor(p, exit_status(p));
}

void pipeline_stats(struct pipeline *p, int exit_code, struct stats *s)
{
    memset(s, 0, sizeof *s);
    /* outcomes before records in: a record is read before it ends, so
     * in_flight is never negative and the invariant holds in a snapshot */
    struct output_figures of;
    output_figures(p->out, &of);
    s->records_done = of.done;
    s->records_dropped = shed_count(p->shed, OUTCOME_DROPPED);
    s->records_timed_out = shed_count(p->shed, OUTCOME_TIMED_OUT);
    s->records_job_timeouts = shed_job_timeouts(p->shed); /* before: a subset */
    s->records_failed = shed_count(p->shed, OUTCOME_FAILED);
    s->records_in = counter_get(&p->records_in);
    s->in_flight = s->records_in - s->records_done - s->records_dropped - s->records_timed_out -
                   s->records_failed;
    s->bytes_in = counter_get(&p->bytes_in);
    s->records_out = of.records;
    s->bytes_out = of.bytes;
    s->compressed_in = source_compressed(p->in);
    s->compressed_bytes_in = source_compressed_bytes(p->in);
    s->compressed_out = p->o.compress;
    s->compressed_bytes_out = of.compressed;
    int64_t end = atomic_load(&p->t_end);
    if (!end)
        end = pool_finished(p->workers);
    if (!end)
        end = now_ns();
    s->elapsed_s = (double)(end - p->t_start) / 1e9;
    struct queue_stats qs;
    queue_stats(p->queue, &qs);
    s->queue_capacity = p->o.capacity == CAPACITY_NONE ? 0 : p->o.capacity;
    s->queue_capacity_bytes = p->o.capacity_bytes;
    s->queue_max = qs.max_records;
    s->queue_mean = qs.mean_records;
    s->queue_full_share = qs.full_share;
    s->queue_records = qs.records;
    s->workers = pool_size(p->workers);
    s->workers_requested = p->o.workers;
    struct pool_figures pf;
    pool_figures(p->workers, &pf);
    s->records_retried = pf.retried;
    double span = (double)(end - p->t_start) * s->workers;
    s->busy_share = span > 0 ? (double)pf.busy_ns / span : 0;
    s->policy = policy_name(p->o.policy);
    memcpy(s->latency_ms, of.latency_ms, sizeof s->latency_ms);
    uint64_t le_ns[STATS_LE_N];
    for (int i = 0; i < STATS_LE_N; i++)
        le_ns[i] = (uint64_t)(stats_le_s[i] * 1e9);
    double sum_ns;
    output_latency(p->out, le_ns, STATS_LE_N, s->latency_below, &s->latency_count, &sum_ns);
    s->latency_sum_s = sum_ns / 1e9;
    struct admit_figures af;
    admit_figures(p->admit, &af);
    s->limiter_wait_s = (double)af.limiter_wait_ns / 1e9;
    s->limiter_waits = af.limiter_waits;
    s->final = exit_code >= 0;
    s->exit = exit_code;
    struct broker_figures bf;
    broker_figures(p->broker, &bf);
    s->nats = p->o.nats_from != NULL;
    s->records_redelivered = bf.redelivered;
    s->records_returned = bf.returned;
    s->nats_reconnects = bf.reconnects;
}
