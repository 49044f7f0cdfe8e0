/* pipeline.c - a weir run: builds the parts, starts and joins the
 * threads, owns the signals and the exit status, and takes the figures.
 *
 * DESIGN
 *   reader (1)   intake (intake.h): stdin framed into batches, or with
 *                --from messages pulled as the queue has room, handed to
 *                admission (admit.h: limiters, policy, queue push; what
 *                is not admitted is shed, shed.h).
 *   workers (j)  the pool (pool.h): take, run the stage, deliver to the
 *                output (output.h), where the worker whose batch is next
 *                in line writes it and whatever else is ready.
 *   caller       owns the signals (pipeline_run waits for them), ticks
 *                what must be done now and then (the monitor, put-off
 *                flushes, --from's in-progress acks) and ends the run.
 * Order and memory: see queue.h (at most workers + 1 batches out of the
 * queue) and output.h. Stopping: end of input closes the queue; workers
 * drain it and leave; the last one wakes the caller with SIGUSR2. Every
 * other stop goes through the run state (run.h), which every part reads:
 * a first SIGINT/SIGTERM, an error stop, a failed output, the fail
 * policy's overload; intake stops at once, and what is left in the queue
 * when the workers are gone is shed at the end (with --from, records a
 * stop cut short go back to the stream). Locks: each part has its own,
 * none held while taking another (docs/DESIGN.md, Threads and locks). */
#include "pipeline.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "batch.h"
#include "broker.h"
#include "common.h"
#include "intake.h"
#include "joblog.h"
#include "monitor.h"
#include "output.h"
#include "pool.h"
#include "queue.h"
#include "key.h"
#include "rejects.h"
#include "report.h"
#include "run.h"
#include "shed.h"
#include "snapshot.h"
#include "sync.h"
#include "term.h"

#define POOL_CHUNKS 16 /* free input chunks kept for reuse */

struct pipeline {
    struct options o;
    struct reporter rep; /* errors reported: exit 1 */
    struct run *run;     /* the stop and its causes, intake's wake-up */
    /* the parts, in data-path order */
    struct chunk_pool *pool; /* input chunks, recycled */
    struct intake *intake;
    struct admit *admit;
    struct queue *queue;
    struct pool *workers;
    struct output *out;
    struct shed *shed;
    struct joblog *joblog; /* --joblog, or NULL */
    struct monitor *monitor;
    struct broker *broker; /* --nats: JetStream in place of stdin or stdout, or NULL */
    struct key_spec *key;  /* --key, parsed once for the pool, the shed and the broker */
    /* threads */
    pthread_t reader_tid;
    bool reader_started;
    int64_t t_start;
    _Atomic int64_t t_end; /* set here when no worker ran, or at an abort */
    char out_name[128];    /* "write stdout", or "publish to SUBJECT" */
};

/* ---- setup and teardown ---------------------------------------------------- */

/* --rejects-format json: the shed writes lines, with the key (its own
 * copy of the spec, already checked by the pool's parse) under --key. */
static int open_shed_json(struct pipeline *p)
{
    int rc = shed_json(p->shed, p->key);
    if (rc)
        report_error(&p->rep, "out of memory");
    return rc;
}

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
    return p->o.rejects_json ? open_shed_json(p) : 0;
}

/* --joblog: opened before the stages, which write to it. */
static int open_joblog(struct pipeline *p)
{
    int rc = p->o.joblog_path ? joblog_open(p->o.joblog_path, &p->joblog) : 0;
    if (rc)
        report_error(&p->rep, "--joblog %s: %s", p->o.joblog_path, strerror(-rc));
    return rc;
}

/* Closes the joblog once no job runs; a line it could not write is an error. */
static void close_joblog(struct pipeline *p)
{
    int rc = joblog_close(p->joblog);
    p->joblog = NULL;
    if (rc)
        report_error(&p->rep, "--joblog %s: %s", p->o.joblog_path, strerror(-rc));
}

/* --nats: connected and set up before anything is read; with --from the
 * broker is the shed's settle target. */
static int open_broker(struct pipeline *p, int *exit_code)
{
    if (!p->o.nats_url)
        return 0;
    char msg[512];
    int rc = broker_open(&p->o, p->pool, INTAKE_CHUNK, &p->broker, msg, sizeof msg);
    if (rc) {
        report_error(&p->rep, "%s", msg);
        *exit_code = EXIT_RUNTIME;
        return rc;
    }
    if (p->o.nats_from)
        broker_hook(p->broker, p->shed, p->run, &p->rep);
    broker_use_key(p->broker, p->key);
    return 0;
}

static int open_output(struct pipeline *p, size_t slots)
{
    const struct options *o = &p->o;
    snprintf(p->out_name, sizeof p->out_name, "%s%s", o->nats_to ? "publish to " : "write stdout",
             o->nats_to ? o->nats_to : "");
    struct output_config oc = {
        .fd = STDOUT_FILENO,
        .target = broker_results(p->broker),
        .name = p->out_name,
        .slots = slots,
        .ordered = pool_in_order(p->workers),
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
    return output_new(&oc, &p->out);
}

/* The queue, the output, admission and intake. 0 or -errno. */
static int open_parts(struct pipeline *p)
{
    const struct options *o = &p->o;
    size_t inflight = pool_size(p->workers) + 1;
    p->queue = queue_new(o->capacity, o->capacity_bytes, inflight);
    if (!p->queue)
        return -ENOMEM;
    run_watch(p->run, p->queue);
    int rc = open_output(p, pool_slots(p->workers));
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
    if (!(p->admit = admit_new(&ac)))
        return -ENOMEM;
    struct intake_config ic = {
        .o = o,
        .run = p->run,
        .admit = p->admit,
        .shed = p->shed,
        .queue = p->queue,
        .rep = &p->rep,
        .pool = p->pool,
        .broker = o->nats_from ? p->broker : NULL,
    };
    return intake_new(&ic, &p->intake);
}

static int open_monitor(struct pipeline *p)
{
    struct monitor_config mc = {
        .stats = p->o.stats,
        .interval_ns = p->o.interval_ns,
        .progress = p->o.progress,
        .metrics_path = p->o.metrics_path,
        .metrics_ns = p->o.interval_ns ? p->o.interval_ns : NS_PER_SEC,
        .input_size = p->o.progress != PROGRESS_OFF ? intake_size(p->intake) : 0,
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
    p->pool = chunk_pool_new(INTAKE_CHUNK, POOL_CHUNKS);
    int rc = run_new(&p->run);
    char msg[160];
    if (rc == 0 && o->key_spec) /* cli.c has checked it: only memory can fail */
        rc = key_spec_parse(o->key_spec, o->has_field_sep, o->field_sep, &p->key, msg, sizeof msg);
    if (!p->pool || rc) {
        report_error(&p->rep, "cannot set up: %s", strerror(rc ? -rc : ENOMEM));
        goto fail;
    }
    if (open_joblog(p) != 0) /* only with a COMMAND, where pool_new finds no bad option */
        goto fail;
    rc = pool_new(&p->o, p->key, p->run, &p->rep, p->joblog, &p->workers); /* bad options: 2 */
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
    intake_free(p->intake);
    admit_free(p->admit);
    output_free(p->out);
    broker_free(p->broker); /* naks what is still held */
    queue_free(p->queue);
    shed_free(p->shed);
    joblog_close(p->joblog);
    monitor_free(p->monitor);
    run_free(p->run);
    chunk_pool_free(p->pool); /* after everything holding chunks */
    key_spec_free(p->key);
    free(p);
}

/* ---- running ----------------------------------------------------------------- */

/* The workers, then intake once they wait for work. */
static int start_threads(struct pipeline *p)
{
    int rc = pool_start(p->workers, p->queue, p->out, p->shed);
    if (rc)
        return rc;
    rc = pthread_create(&p->reader_tid, NULL, intake_main, p->intake);
    if (rc == 0)
        p->reader_started = true;
    return rc;
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
    int64_t next_ack = intake_tick(p->intake, now_ns()); /* keeps what it holds alive */
    while (pool_started(p->workers) && !pool_finished(p->workers)) {
        int64_t now = now_ns(), due = MIN(MIN(monitor_deadline(p->monitor), next_tick), next_ack);
        if (now >= next_ack) {
            next_ack = intake_tick(p->intake, now);
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
            run_stop_signal(p->run, sig); /* intake stops; with COMMAND, so does */
            pool_stop(p->workers, sig);   /* what has not started, and children get sig */
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
    close_joblog(p);
    if (!pool_started(p->workers))
        atomic_store(&p->t_end, now_ns());
    /* records left queued when stdout failed (or no worker started) */
    shed_list(p->shed, queue_take_all(p->queue), run_cut_as(p->run), REASON_STOPPED);
    output_end(p->out); /* may shed what could not be written */
    shed_close(p->shed);
    return end_monitor(p, exit_status(p));
}

void pipeline_stats(struct pipeline *p, int exit_code, struct stats *s)
{
    int64_t end = atomic_load(&p->t_end);
    if (!end)
        end = pool_finished(p->workers);
    if (!end)
        end = now_ns();
    struct snapshot_parts parts = {
        .o = &p->o,
        .intake = p->intake,
        .admit = p->admit,
        .queue = p->queue,
        .workers = p->workers,
        .out = p->out,
        .shed = p->shed,
        .broker = p->broker,
    };
    snapshot_take(&parts, end - p->t_start, exit_code, s);
}
