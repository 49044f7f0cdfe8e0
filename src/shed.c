/* shed.c - outcome counters and the rejects file; see shed.h. The rejects
 * module serialises writes itself; the counters are atomic. In json mode
 * each record is one line (rejects_json.h); a record shed in pieces is
 * gathered in `head` by the one thread that sheds pieces (intake). */
#include "shed.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "child.h"
#include "common.h"
#include "key.h"
#include "rejects.h"
#include "rejects_json.h"
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
    bool json;                     /* --rejects-format json */
    const struct key_spec *key;    /* json: the key to show (the pipeline's), or NULL */
    char *head;                    /* json: the first SHED_HEAD bytes of a record in pieces */
    size_t head_len;
    bool head_cut; /* it had more */
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
    free(s->head);
    free(s);
}

int shed_json(struct shed *s, const struct key_spec *key)
{
    s->json = true;
    s->key = key;
    s->head = malloc(SHED_HEAD);
    return s->head ? 0 : -ENOMEM;
}

/* The words of a reason; f: the failed job of a REASON_JOB. */
static void reason_words(enum reason r, const struct batch_fault *f, char *out, size_t len)
{
    static const char *const words[] = {
        [REASON_SHED] = "shed",         [REASON_QUEUE_FULL] = "queue full",
        [REASON_NO_TOKEN] = "no token", [REASON_DEADLINE] = "deadline",
        [REASON_TOO_LONG] = "too long", [REASON_JOB] = "job failed",
        [REASON_STOPPED] = "stopped",   [REASON_OUTPUT_ERROR] = "output error",
    };
    if (r == REASON_JOB && f && f->status != 0)
        child_reason(f->status, out, len);
    else
        snprintf(out, len, "%s", words[r]);
}

/* Writes one json line: record `recno`, p[0..len) without its delimiter. */
static void json_line(struct shed *s, uint64_t recno, enum outcome why, enum reason r,
                      const struct batch_fault *f, unsigned attempts, const char *p, size_t len,
                      bool truncated)
{
    static const char *const outcome[] = {"dropped", "timed_out", "failed"};
    char words[128];
    reason_words(r, f, words, sizeof words);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct reject_entry e = {.recno = recno,
                             .outcome = outcome[why],
                             .reason = words,
                             .attempts = attempts,
                             .rec = p,
                             .len = len,
                             .truncated = truncated,
                             .time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec};
    struct key_buf kb;
    if (s->key && key_spec_kind(s->key) != KEY_SUBJECT)
        key_of(s->key, p, len, &kb, &e.key, &e.key_len);
    char *line = malloc(rejects_json_size(&e));
    int rc = line ? rejects_bytes(s->rejects, line, rejects_json_line(&e, line), false) : -ENOMEM;
    free(line);
    if (rc)
        rejects_failed(s, "write", rc);
}

/* Record i of b as a json line: a failed record says how its job failed,
 * one a stop cut says so, others take the batch's reason. */
static void json_record(struct shed *s, const struct batch *b, size_t i, enum outcome why)
{
    bool failed = b->failed ? b->failed[i] : b->n_failed == b->n;
    const struct batch_fault *f = NULL;
    if (failed && b->faults && (b->faults[i].attempts || b->faults[i].status))
        f = &b->faults[i];
    else if (failed && (b->fault.attempts || b->fault.status))
        f = &b->fault;
    enum reason r = (enum reason)b->reason;
    if (why == OUTCOME_DROPPED && batch_was_cut(b, i))
        r = REASON_STOPPED;
    else if (f && why == OUTCOME_FAILED)
        r = REASON_JOB;
    unsigned attempts = f ? f->attempts : !failed && b->n_done ? 1 : 0;
    json_line(s, b->recno0 + i, why, r, f, attempts, b->chunk->data + b->recs[i].off,
              b->recs[i].len, false);
}

void shed_batch(struct shed *s, struct batch *b, enum outcome why)
{
    if (!b)
        return;
    atomic_fetch_add_explicit(&s->count[why], b->n, memory_order_release);
    bool back = returns(s, why);
    for (size_t i = 0; s->json && s->rejects && !back && i < b->n; i++)
        json_record(s, b, i, why);
    if (s->rejects && !back && !s->json) {
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
    if (s->json && s->rejects && !back)
        json_record(s, b, i, why);
    else if (s->rejects && !back) {
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

void shed_list(struct shed *s, struct batch *list, enum outcome why, enum reason r)
{
    while (list) {
        struct batch *next = list->next;
        list->reason = (uint8_t)r;
        shed_batch(s, list, why);
        list = next;
    }
}

/* json: gathers the pieces' first SHED_HEAD bytes, and writes them at
 * the end (a record in one piece whole). */
static void json_piece(struct shed *s, uint64_t recno, const char *p, size_t len, bool end,
                       enum outcome why, enum reason r)
{
    if (end && s->head_len == 0 && !s->head_cut) {
        json_line(s, recno, why, r, NULL, 0, p, len, false);
        return;
    }
    size_t k = MIN(len, SHED_HEAD - s->head_len);
    memcpy(s->head + s->head_len, p, k);
    s->head_len += k;
    s->head_cut |= k < len;
    if (!end)
        return;
    json_line(s, recno, why, r, NULL, 0, s->head, s->head_len, s->head_cut);
    s->head_len = 0;
    s->head_cut = false;
}

void shed_bytes(struct shed *s, uint64_t recno, const char *p, size_t len, bool end, bool add_delim,
                enum outcome why, enum reason r)
{
    if (s->rejects && s->json) { /* without the delimiter the last piece holds */
        json_piece(s, recno, p, len - (end && !add_delim && len), end, why, r);
    } else if (s->rejects) {
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
