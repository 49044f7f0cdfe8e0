/* shed.c - outcome counters and the rejects file; see shed.h. The rejects
 * module serialises writes itself; the counters are atomic. */
#include "shed.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "rejects.h"
#include "report.h"
#include "run.h"

struct shed {
    struct rejects *rejects; /* or NULL */
    const char *path;        /* its name, for messages */
    struct reporter *rep;
    const struct run *run;         /* or NULL */
    struct settle_hook hook;       /* settle is NULL without one */
    atomic_bool broken;            /* the rejects file failed (reported) */
    _Atomic uint64_t count[3];     /* by enum outcome */
    _Atomic uint64_t job_timeouts; /* of count[OUTCOME_FAILED]: jobs past --job-timeout */
};

struct shed *shed_new(struct rejects *rejects, const char *path, struct reporter *rep,
                      const struct run *run)
{
    struct shed *s = calloc(1, sizeof *s);
    if (!s) {
        rejects_close(rejects);
        return NULL;
    }
    s->rejects = rejects;
    s->path = path;
    s->rep = rep;
    s->run = run;
    return s;
}

void shed_hook(struct shed *s, const struct settle_hook *h)
{
    s->hook = *h;
}

/* Whether records shed as `why` go back to their source. */
static bool returns(struct shed *s, enum outcome why)
{
    return s->hook.settle && s->run && run_returns(s->run, why);
}

static void settle(struct shed *s, const struct batch *b, size_t i, size_t n, enum settle how)
{
    if (s->hook.settle && n)
        s->hook.settle(s->hook.ctx, b, i, n, how);
}

void shed_written(struct shed *s, const struct batch *b, size_t n)
{
    if (!s->hook.settle)
        return;
    for (size_t i = 0; i < n;) { /* runs of records not failed */
        size_t j = i;
        while (j < n && !(b->failed && b->failed[j]))
            j++;
        settle(s, b, i, j - i, SETTLE_DONE);
        i = j + 1;
    }
}

/* A rejects file that cannot be written is reported once. */
static void rejects_failed(struct shed *s, const char *what, int err)
{
    if (!atomic_exchange(&s->broken, true))
        report_error(s->rep, "--rejects %s: %s: %s", s->path, what, strerror(-err));
}

void shed_close(struct shed *s)
{
    int rc = rejects_close(s->rejects);
    s->rejects = NULL;
    if (rc)
        rejects_failed(s, "close", rc);
}

void shed_free(struct shed *s)
{
    if (!s)
        return;
    shed_close(s);
    free(s);
}

void shed_batch(struct shed *s, struct batch *b, enum outcome why)
{
    if (!b)
        return;
    atomic_fetch_add_explicit(&s->count[why], b->n, memory_order_release);
    bool back = returns(s, why);
    if (s->rejects && !back) {
        int rc = rejects_batch(s->rejects, b);
        if (rc)
            rejects_failed(s, "write", rc);
    }
    settle(s, b, 0, b->n, back ? SETTLE_RETURNED : SETTLE_REJECTED);
    batch_free(b);
}

void shed_record(struct shed *s, const struct batch *b, size_t i, enum outcome why)
{
    atomic_fetch_add_explicit(&s->count[why], 1, memory_order_release);
    bool back = returns(s, why);
    if (s->rejects && !back) {
        const char *p = b->chunk->data + b->recs[i].off;
        bool open = b->open_end && i + 1 == b->n;
        int rc = rejects_bytes(s->rejects, p, batch_rec_size(b, i), open);
        if (rc)
            rejects_failed(s, "write", rc);
    }
    settle(s, b, i, 1, back ? SETTLE_RETURNED : SETTLE_REJECTED);
}

/* Records of a batch whose job timed out count as failed (a stop signal
 * cuts a stage short only after them): counted after the failures, so
 * that a reader taking this count first sees a subset of them. */
static void count_job_timeouts(struct shed *s, uint64_t n)
{
    if (n)
        atomic_fetch_add_explicit(&s->job_timeouts, n, memory_order_release);
}

void shed_results(struct shed *s, struct batch *b, enum outcome rest)
{
    bool all = !b->failed && b->n_failed == b->n;
    uint64_t timeouts = b->n_timeouts;
    if (!b->failed && (!all || !b->interrupted || b->cut == 0)) { /* one outcome for all */
        enum outcome why = !all ? rest : b->interrupted ? OUTCOME_DROPPED : OUTCOME_FAILED;
        shed_batch(s, b, why);
        count_job_timeouts(s, why == OUTCOME_FAILED ? timeouts : 0);
        return;
    }
    for (size_t i = 0; i < b->n; i++)
        shed_record(s, b, i,
                    !all && !b->failed[i] ? rest
                    : batch_was_cut(b, i) ? OUTCOME_DROPPED
                                          : OUTCOME_FAILED);
    count_job_timeouts(s, timeouts);
    batch_free(b);
}

void shed_failed(struct shed *s, const struct batch *b)
{
    for (size_t i = 0; b->failed && i < b->n; i++)
        if (b->failed[i])
            shed_record(s, b, i, batch_was_cut(b, i) ? OUTCOME_DROPPED : OUTCOME_FAILED);
    count_job_timeouts(s, b->n_timeouts);
}

void shed_list(struct shed *s, struct batch *list, enum outcome why)
{
    while (list) {
        struct batch *next = list->next;
        shed_batch(s, list, why);
        list = next;
    }
}

void shed_bytes(struct shed *s, const char *p, size_t len, bool end, bool add_delim,
                enum outcome why)
{
    if (s->rejects) {
        int rc = rejects_piece(s->rejects, p, len, end, add_delim);
        if (rc)
            rejects_failed(s, "write", rc);
    }
    if (end)
        atomic_fetch_add_explicit(&s->count[why], 1, memory_order_release);
}

uint64_t shed_count(struct shed *s, enum outcome why)
{
    return atomic_load_explicit(&s->count[why], memory_order_acquire);
}

uint64_t shed_job_timeouts(struct shed *s)
{
    return atomic_load_explicit(&s->job_timeouts, memory_order_acquire);
}
