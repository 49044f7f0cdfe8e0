/* pool.c - the worker pool; see pool.h.
 *
 * Each worker thread owns its stage (and the children it runs); the
 * figures are atomics read by any thread; `child` is read by the thread
 * that forwards a stop signal. A worker takes no lock of its own: the
 * queue's, the output's and the shed's are taken inside their modules,
 * one at a time. */
#include "pool.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "coproc.h"
#include "exec.h"
#include "key.h"
#include "lanes.h"
#include "ops.h"
#include "options.h"
#include "output.h"
#include "queue.h"
#include "report.h"
#include "run.h"
#include "shed.h"
#include "stage.h"
#include "sync.h"

/* The stage kinds, by what the options ask for. */
static const struct stage_kind *const kinds[] = {
    [MODE_OPS] = &ops_kind,
    [MODE_EXEC] = &exec_kind,
    [MODE_PIPE] = &pipe_kind,
    [MODE_COPROC] = &coproc_kind,
};

struct worker {
    struct pool *p;
    pthread_t tid;
    struct stage *stage;      /* this worker's own */
    _Atomic uint64_t busy_ns; /* time spent in the stage */
    _Atomic uint64_t retried; /* retries its stage made */
    atomic_int child;         /* the child its stage runs now (0: none), for signals */
};

struct pool {
    const struct options *o;
    struct run *run;
    struct reporter *rep;
    struct queue *queue;
    struct output *out;
    struct shed *shed;
    struct worker *workers; /* o->workers of them */
    unsigned size;          /* workers the stage needs (1 for the identity) */
    unsigned started;
    atomic_uint running;      /* workers not yet finished */
    _Atomic int64_t finished; /* when the last one left */
    pthread_t owner;          /* the thread that owns the signals */
    atomic_uint warnings;     /* failed records named on stderr so far */
    atomic_bool hinted;       /* the stage's one hint of the run was given */
    /* --key with a stage that takes records one at a time: per-key lanes */
    const struct key_spec *key; /* the spec (also for WEIR_KEY; the pipeline's), or NULL */
    struct lanes *lanes;        /* or NULL: no lanes (no --key, or built-in operations) */
    _Atomic uint64_t unkeyed;   /* records without the key's field or match */
};

/* A stage failed the whole of b for a fault of weir's own. */
static void fail_whole(struct pool *p, struct batch *b, int err)
{
    report_error(p->rep, "records %" PRIu64 "-%" PRIu64 ": %s", b->recno0, b->recno0 + b->n - 1,
                 strerror(-err));
    b->n_done = b->n_out = b->bytes_out = 0;
    b->n_failed = b->n;
    b->n_timeouts = 0;
    b->nsegs = 0;
    free(b->failed);
    b->failed = NULL;
    free(b->faults);
    b->faults = NULL;
    b->fault = (struct batch_fault){0};
}

/* --on-error fail: the first failed record stops intake; the run drains
 * what was admitted and exits 1. */
static void on_error(struct pool *p, const struct batch *b)
{
    if (p->o->on_error != ON_ERROR_FAIL || b->n_failed == 0 || b->interrupted ||
        !run_stop(p->run, RUN_ERROR))
        return;
    report_error(p->rep, "a record failed: stopping (--on-error fail)");
}

/* The next piece of work: a batch, or a block of them joined into one. */
static int take(struct pool *p, struct stage_take t, struct batch **b)
{
    if (!t.bytes)
        return queue_pop(p->queue, t.records, b);
    int rc = queue_pop_block(p->queue, t.records, t.bytes, b);
    if (rc == 0) {
        struct batch *j = batch_join(*b);
        if (!j) { /* no memory to join: the block fails whole */
            shed_list(p->shed, (*b)->next, OUTCOME_FAILED, REASON_SHED);
            (*b)->next = NULL;
            fail_whole(p, *b, -ENOMEM);
        } else {
            *b = j;
        }
    }
    return rc;
}

/* --key with built-in operations: only the records without a key to count. */
static void count_unkeyed(struct pool *p, const struct batch *b)
{
    uint64_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += !key_present(p->key, b->chunk->data + b->recs[i].off, b->recs[i].len);
    if (n)
        atomic_fetch_add_explicit(&p->unkeyed, n, memory_order_relaxed);
}

/* Runs b's stage and hands b to the output. */
static void work(struct worker *w, struct batch *b)
{
    struct pool *p = w->p;
    if (b->n_failed < b->n) {
        int64_t t0 = now_ns();
        int rc = stage_run(w->stage, b);
        atomic_fetch_add_explicit(&w->busy_ns, (uint64_t)(now_ns() - t0), memory_order_relaxed);
        if (rc)
            fail_whole(p, b, rc);
    }
    if (p->key && !p->lanes) /* after the stage: its bytes are in the cache now */
        count_unkeyed(p, b);
    on_error(p, b);
    output_deliver(p->out, b);
}

/* The key of record i of b; *found: it had one. */
static uint64_t record_key(const struct pool *p, const struct batch *b, size_t i, bool *found)
{
    struct key_buf kb;
    const char *k;
    size_t len;
    *found = key_of(p->key, b->chunk->data + b->recs[i].off, b->recs[i].len, &kb, &k, &len);
    return key_hash(k, len);
}

/* queue_gate.key: for blocks of one key (--pipe). */
static uint64_t gate_key(void *ctx, const struct batch *b, size_t i)
{
    bool found;
    return record_key(ctx, b, i, &found);
}

/* queue_gate.enter, under the queue's lock: b's key, and its lane's say. */
static bool gate_enter(void *ctx, unsigned w, struct batch *b, bool *wake)
{
    struct pool *p = ctx;
    bool found = b->keyed == BATCH_KEY_FOUND;
    if (b->keyed == BATCH_KEY_LATER)
        b->key = record_key(p, b, 0, &found);
    uint64_t unkeyed = !found;
    for (size_t i = 1; i < b->n; i++) /* a block: its records share the hash */
        unkeyed += !key_present(p->key, b->chunk->data + b->recs[i].off, b->recs[i].len);
    if (unkeyed)
        atomic_fetch_add_explicit(&p->unkeyed, unkeyed, memory_order_relaxed);
    unsigned owner;
    bool run = lanes_enter(p->lanes, w, b, &owner) != NULL;
    *wake = owner != w;
    return run;
}

static struct batch *gate_mail(void *ctx, unsigned w)
{
    return lanes_next(((struct pool *)ctx)->lanes, w);
}

/* With lanes: a record at a time, and after each, the next one of its key
 * that waited for it, on this worker (so a key's records start in order). */
static void work_keyed(struct worker *w)
{
    struct pool *p = w->p;
    unsigned me = (unsigned)(w - p->workers);
    struct stage_take t = stage_grain(w->stage); /* a block (--pipe), or a record */
    struct batch *b;
    while (queue_pop_for(p->queue, me, t.bytes ? t.records : 1, t.bytes, &b) == 0) {
        while (b) {
            uint64_t key = b->key;
            work(w, b); /* b is the output's now */
            if ((b = lanes_leave(p->lanes, me, key)))
                queue_unpark(p->queue, b);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->p;
    struct stage_take t = stage_grain(w->stage);
    struct batch *b;
    if (p->lanes)
        work_keyed(w);
    else
        while (take(p, t, &b) == 0)
            work(w, b);
    stage_close(w->stage); /* its children end before the summary */
    w->stage = NULL;
    if (atomic_fetch_sub(&p->running, 1) == 1) { /* the last one out */
        atomic_store(&p->finished, now_ns());
        pthread_kill(p->owner, SIGUSR2);
    }
    return NULL;
}

/* --key with a stage that takes a record at a time: lanes, sized for
 * every record that may wait (the queue's) and those in work. Built-in
 * operations take batches and keep them in input order instead (pool.h). */
static int open_lanes(struct pool *p, struct pool **out)
{
    if (p->key && p->o->mode != MODE_OPS) {
        p->lanes =
            lanes_new(p->o->key_limit, p->size, p->o->key_sticky, p->o->capacity + p->size + 1);
        if (!p->lanes) {
            report_error(p->rep, "out of memory");
            pool_free(p);
            return -ENOMEM;
        }
    }
    *out = p;
    return 0;
}

int pool_new(const struct options *o, const struct key_spec *key, struct run *run,
             struct reporter *rep, struct joblog *joblog, struct pool **out)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p && !(p->workers = calloc(o->workers, sizeof *p->workers))) {
        free(p);
        p = NULL;
    }
    if (!p) {
        report_error(rep, "out of memory");
        return -ENOMEM;
    }
    *p = (struct pool){
        .o = o, .run = run, .rep = rep, .workers = p->workers, .size = o->workers, .key = key};
    char msg[256];
    for (unsigned i = 0; i < p->size; i++) {
        struct worker *w = &p->workers[i];
        w->p = p;
        struct stage_env env = {
            .o = o,
            .worker = i + 1,
            .child = &w->child,
            .run = run,
            .retried = &w->retried,
            .warnings = &p->warnings,
            .hinted = &p->hinted,
            .key = p->key,
            .joblog = joblog,
        };
        int rc = stage_open(kinds[o->mode], &env, &w->stage, msg, sizeof msg);
        if (rc == -EINVAL)
            report_error(rep, "%s (see weir --help)", msg);
        else if (rc)
            report_error(rep, "cannot set up the stage: %s", strerror(-rc));
        if (rc) {
            pool_free(p);
            return rc;
        }
        if (i == 0 && stage_identity(w->stage))
            p->size = 1; /* cat alone costs nothing per record */
    }
    return open_lanes(p, out);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->o->workers; i++)
        stage_close(p->workers[i].stage);
    if (p->lanes) /* only after an abort: nothing waits at a normal end */
        for (struct batch *b = lanes_drain(p->lanes), *n; b; b = n) {
            n = b->next;
            batch_free(b);
        }
    lanes_free(p->lanes);
    free(p->workers);
    free(p);
}

unsigned pool_size(const struct pool *p)
{
    return p->size;
}

int pool_start(struct pool *p, struct queue *q, struct output *out, struct shed *shed)
{
    p->queue = q;
    p->out = out;
    p->shed = shed;
    p->owner = pthread_self();
    if (p->lanes)
        queue_set_gate(q, &(struct queue_gate){gate_enter, gate_key, gate_mail, p});
    atomic_store(&p->running, p->size);
    for (unsigned i = 0; i < p->size; i++) {
        int rc = pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]);
        if (rc) {
            atomic_fetch_sub(&p->running, p->size - i);
            return rc;
        }
        p->started++;
    }
    queue_wait_idle(q, p->size, now_ns() + NS_PER_SEC);
    return 0;
}

unsigned pool_started(const struct pool *p)
{
    return p->started;
}

int64_t pool_finished(const struct pool *p)
{
    return atomic_load(&p->finished);
}

void pool_join(struct pool *p)
{
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->workers[i].tid, NULL);
}

void pool_stop(struct pool *p, int sig)
{
    if (p->o->mode == MODE_OPS)
        return;
    queue_abort(p->queue);
    for (unsigned i = 0; i < p->started; i++) {
        pid_t pid = atomic_load(&p->workers[i].child);
        if (pid > 0)
            kill(-pid, sig);
    }
}

size_t pool_slots(const struct pool *p)
{
    return p->size + 1 + (p->lanes ? p->o->capacity : 0);
}

bool pool_in_order(const struct pool *p)
{
    return !p->o->unordered || (p->key && !p->lanes);
}

void pool_figures(struct pool *p, struct pool_figures *out)
{
    *out = (struct pool_figures){0};
    if (p->lanes) {
        struct lanes_figures lf;
        lanes_figures(p->lanes, &lf);
        out->key_waits = lf.waits;
        out->keys_max = lf.keys_max;
    }
    out->unkeyed = atomic_load_explicit(&p->unkeyed, memory_order_relaxed);
    for (unsigned i = 0; i < p->size; i++) {
        out->busy_ns += atomic_load_explicit(&p->workers[i].busy_ns, memory_order_relaxed);
        out->retried += atomic_load_explicit(&p->workers[i].retried, memory_order_relaxed);
    }
}
