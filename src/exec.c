/* exec.c - COMMAND once per record or once per block; see exec.h.
 *
 * Per record: the record, delimiter included, on the child's stdin, or,
 * when an argument holds {}, substituted there (without its delimiter)
 * with stdin empty. Per block: the block's records, as read, on stdin.
 * The child's whole stdout is the result; a delimiter is added when it
 * is not empty and lacks one; empty output filters the record out. A job
 * that exits non-zero, is killed, times out or writes more than
 * --capacity-bytes fails, is retried up to --retries times, and then
 * fails its record (or the whole block). Used by one worker thread. */
#include "exec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "child.h"
#include "common.h"
#include "joblog.h"
#include "key.h"
#include "options.h"
#include "run.h"
#include "stage.h"

struct exec {
    struct stage_env env;
    bool per_block;
    size_t argc;
    bool braces;      /* an argument holds {}: the record goes there */
    char **argv;      /* this job's arguments (substituted copies where {} is) */
    char **envp;      /* environ without WEIR_*, then ours */
    char vars[3][48]; /* WEIR_SEQ=, WEIR_WORKER=, WEIR_RECORDS= */
    char keyvar[sizeof "WEIR_KEY=" + KEY_MAX]; /* with --key */
    struct buf out;                            /* the current batch's output */
};

static void exec_close(void *impl)
{
    struct exec *x = impl;
    if (!x)
        return;
    if (x->argv)
        for (size_t i = 0; i < x->argc; i++)
            if (x->argv[i] != x->env.o->command[i])
                free(x->argv[i]);
    free(x->argv);
    free(x->envp);
    buf_free(&x->out);
    free(x);
}

static int exec_open(const struct stage_env *env, bool per_block, void **impl)
{
    struct exec *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->env = *env;
    x->per_block = per_block;
    while (env->o->command[x->argc])
        x->argc++;
    x->argv = calloc(x->argc + 1, sizeof *x->argv);
    char *vars[4] = {x->vars[0], x->vars[1], per_block ? x->vars[2] : x->keyvar, x->keyvar};
    x->envp = child_environ(vars, (per_block ? 3 : 2) + (env->key != NULL));
    if (!x->argv || !x->envp) {
        exec_close(x);
        return -ENOMEM;
    }
    for (size_t i = 0; i < x->argc; i++) {
        x->argv[i] = env->o->command[i];
        x->braces |= !per_block && strstr(x->argv[i], "{}") != NULL;
    }
    snprintf(x->vars[1], sizeof x->vars[1], "WEIR_WORKER=%u", env->worker);
    snprintf(x->keyvar, sizeof x->keyvar, "WEIR_KEY="); /* subject:N keys stay empty */
    *impl = x;
    return 0;
}

/* arg with every {} replaced by p[0..len). NULL when out of memory. */
static char *substitute(const char *arg, const char *p, size_t len)
{
    size_t n = 0;
    for (const char *s = strstr(arg, "{}"); s; s = strstr(s + 2, "{}"))
        n++;
    char *out = malloc(strlen(arg) + n * len + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *s; (s = strstr(arg, "{}")); arg = s + 2) {
        memcpy(o, arg, (size_t)(s - arg));
        o += s - arg;
        memcpy(o, p, len);
        o += len;
    }
    strcpy(o, arg);
    return out;
}

/* Fills argv for a record's payload (with {}); -EINVAL when it holds a
 * NUL byte, which no argument can. */
static int set_args(struct exec *x, const char *p, size_t len)
{
    if (memchr(p, '\0', len))
        return -EINVAL;
    for (size_t i = 0; i < x->argc; i++) {
        const char *arg = x->env.o->command[i];
        if (x->argv[i] != arg)
            free(x->argv[i]);
        x->argv[i] = (char *)(uintptr_t)arg;
        if (strstr(arg, "{}") && !(x->argv[i] = substitute(arg, p, len))) {
            x->argv[i] = (char *)(uintptr_t)arg;
            return -ENOMEM;
        }
    }
    return 0;
}

/* One job: the child fed `in`, its output appended to x->out; its
 * times and byte counts in *e. The wait status, or -errno. */
static int job(struct exec *x, const struct iovec *in, size_t nin, struct joblog_entry *e)
{
    struct child c;
    size_t before = x->out.len;
    e->start = now_ns();
    int rc = child_spawn(&c, x->argv, x->envp, nin > 0);
    if (rc == 0) {
        atomic_store(x->env.child, c.pid);
        if (run_signal(x->env.run)) /* a signal came before we were listed */
            child_kill(&c, run_signal(x->env.run));
        int64_t jt = x->env.o->job_timeout_ns;
        rc = child_run(&c, in, nin, &x->out, x->env.o->capacity_bytes, jt ? now_ns() + jt : 0);
        atomic_store(x->env.child, 0);
        e->sent = c.sent;
    }
    e->end = now_ns();
    e->received = x->out.len - before;
    return rc;
}

/* Runs the job for input `in`, retrying a failure; true when it worked,
 * its output appended to x->out (a record's delimited; a block's as the
 * child wrote it, which may be binary: gzip); else *f says how it failed. */
static bool run_job(struct exec *x, struct batch *b, size_t i, const struct iovec *in, size_t nin,
                    const char *what, uint64_t num, struct batch_fault *f)
{
    unsigned char delim = x->env.o->delim;
    size_t start = x->out.len;
    for (unsigned attempt = 0;; attempt++) {
        struct joblog_entry e = {.seq = num, .worker = x->env.worker, .attempt = attempt + 1};
        int st = job(x, in, nin, &e);
        if (x->env.joblog) {
            e.command = x->argv;
            joblog_status(&e, st);
            joblog_write(x->env.joblog, &e); /* an error shows at the end (pipeline.c) */
        }
        if (st == 0) {
            if (!x->per_block && x->out.len > start && x->out.p[x->out.len - 1] != (char)delim) {
                if (buf_reserve(&x->out, 1) != 0)
                    st = -ENOMEM;
                else
                    x->out.p[x->out.len++] = (char)delim;
            }
            if (st == 0)
                return true;
        }
        x->out.len = start; /* a failed job's output is not kept */
        *f = (struct batch_fault){.status = st, .attempts = attempt + 1};
        if (run_signal(x->env.run)) {
            batch_cut(b, i);
            return false;
        }
        char msg[128];
        child_describe(st, msg, sizeof msg);
        if (attempt >= x->env.o->retries) {
            stage_warn(&x->env, "%s %" PRIu64 ": %s %s: failed", what, num, x->argv[0], msg);
            if (st == -ETIMEDOUT) /* the cause, for the summary: a block's records all */
                b->n_timeouts += x->per_block ? b->n : 1;
            return false;
        }
        atomic_fetch_add(x->env.retried, 1);
    }
}

/* WEIR_KEY=, the key of p[0..len) up to a NUL byte (which no variable holds). */
static void set_key(struct exec *x, const char *p, size_t len)
{
    struct key_buf kb;
    const char *k;
    size_t kl;
    if (!x->env.key)
        return;
    key_of(x->env.key, p, len, &kb, &k, &kl);
    const char *nul = memchr(k, '\0', kl);
    kl = nul ? (size_t)(nul - k) : kl;
    memcpy(x->keyvar, "WEIR_KEY=", 9);
    memcpy(x->keyvar + 9, k, kl);
    x->keyvar[9 + kl] = '\0';
}

static int run_records(struct exec *x, struct batch *b)
{
    const char *base = b->chunk->data;
    for (size_t i = 0; i < b->n; i++) {
        const char *p = base + b->recs[i].off;
        size_t len = b->recs[i].len;
        uint64_t recno = b->recno0 + i;
        snprintf(x->vars[0], sizeof x->vars[0], "WEIR_SEQ=%" PRIu64, recno);
        set_key(x, p, len);
        unsigned char delim = x->env.o->delim;
        struct iovec in[2] = {{(void *)(uintptr_t)p, len}, {&delim, 1}};
        bool ok = false;
        struct batch_fault f = {.status = -EINVAL}; /* not run: a NUL byte */
        if (x->braces) {
            int rc = set_args(x, p, len);
            if (rc == -ENOMEM)
                return rc;
            if (rc)
                stage_warn(&x->env,
                           "record %" PRIu64 ": holds a NUL byte, which {} cannot pass "
                           "as an argument: failed",
                           recno);
            else
                ok = run_job(x, b, i, NULL, 0, "record", recno, &f);
        } else {
            ok = run_job(x, b, i, in, 2, "record", recno, &f);
        }
        if (!ok && batch_fail_job(b, i, f) != 0)
            return -ENOMEM;
    }
    return 0;
}

static int run_block(struct exec *x, struct batch *b)
{
    snprintf(x->vars[0], sizeof x->vars[0], "WEIR_SEQ=%" PRIu64, b->piece + 1);
    snprintf(x->vars[2], sizeof x->vars[2], "WEIR_RECORDS=%zu", b->n);
    set_key(x, b->chunk->data + b->recs[0].off, b->recs[0].len); /* one key a block */
    size_t first = b->recs[0].off, last = b->n - 1;
    size_t end = b->recs[last].off + batch_rec_size(b, last);
    unsigned char delim = x->env.o->delim;
    struct iovec in[2] = {{b->chunk->data + first, end - first}, {&delim, b->open_end}};
    if (!run_job(x, b, 0, in, 2, "block", b->piece + 1, &b->fault))
        b->n_failed = b->n;
    return 0;
}

/* Hands x->out to b as its output; counts the records in it. */
static int emit(struct exec *x, struct batch *b)
{
    b->n_done = b->n - b->n_failed;
    if (x->out.len == 0)
        return 0;
    b->obuf = x->out.p;
    b->olen = b->ocap = x->out.len;
    x->out = (struct buf){0};
    const char *p = b->obuf, *end = p + b->olen;
    while ((p = memchr(p, x->env.o->delim, (size_t)(end - p)))) {
        b->n_out++;
        p++;
    }
    return batch_emit(b, b->obuf, b->olen);
}

static int exec_run(void *impl, struct batch *b)
{
    struct exec *x = impl;
    x->out.len = 0;
    int rc = x->per_block ? run_block(x, b) : run_records(x, b);
    if (rc == 0 && b->n_failed < b->n)
        rc = emit(x, b);
    if (b->n_failed == b->n) { /* all failed: no mask needed */
        free(b->failed);
        b->failed = NULL;
    }
    return rc;
}

static int record_open(const struct stage_env *env, void **impl, struct stage_shape *shape,
                       char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    shape->take.records = 1; /* a child per record: share them out one by one */
    return exec_open(env, false, impl);
}

static int block_open(const struct stage_env *env, void **impl, struct stage_shape *shape,
                      char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    shape->take = (struct stage_take){env->o->block_records, env->o->block_bytes};
    return exec_open(env, true, impl);
}

const struct stage_kind exec_kind = {"exec", record_open, exec_run, exec_close};
const struct stage_kind pipe_kind = {"pipe", block_open, exec_run, exec_close};
