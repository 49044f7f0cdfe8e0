/* coproc.c - a co-process per worker; see coproc.h.
 *
 * Records are written ahead of their replies, up to WINDOW at a time, while
 * replies are read back: both directions are polled, so a child that
 * writes a lot or reads slowly never deadlocks us. Reply k answers record
 * k. A co-process that dies (or does not answer within --job-timeout, and
 * is killed) fails the record it had to answer next; it is restarted and
 * the records written after that one are sent again, in order. With
 * --retries the failed record is sent again first. Used by one worker. */
#include "coproc.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "child.h"
#include "common.h"
#include "joblog.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "stage.h"

#define WINDOW 64 /* records written ahead of their replies */

/* A co-process that buffers its output (sed without -u, most programs when
 * their stdout is a pipe) answers no record alone, and the run hangs. When
 * one has answered nothing for this long while records await replies, weir
 * says so, once per run; it kills nothing (a slow co-process is fine). */
#define QUIET_HINT_NS (3 * NS_PER_SEC)

struct coproc {
    struct stage_env env;
    struct child c; /* pid 0: not running */
    char **envp;    /* environ, then WEIR_WORKER */
    char worker_var[32];
    struct buf pending; /* bytes read from the child, not yet a whole reply */
    unsigned char delim;
    bool hinted; /* the quiet co-process hint was given, here or by another worker */
};

/* Where a batch stands. */
struct pass {
    struct batch *b;
    size_t sent;     /* records fully written */
    size_t sent_off; /* bytes of record `sent` written (its delimiter included) */
    size_t answered; /* records answered or failed */
    unsigned tries;  /* failed attempts of record `answered` */
    int64_t head_t;  /* when record `answered` became the one awaited */
    struct buf out;  /* the replies, in order */
};

/* Reads what the co-process still writes until it closes its output or
 * the deadline: bytes that answer no record. Their count. */
static size_t drain(struct coproc *x, int64_t deadline)
{
    size_t n = x->pending.len;
    char buf[4096];
    struct pollfd pfd = {.fd = x->c.out, .events = POLLIN};
    for (int64_t left; (left = deadline - now_ns()) > 0;) {
        if (poll(&pfd, 1, (int)(left / NS_PER_MS) + 1) <= 0)
            break;
        ssize_t got = read(x->c.out, buf, sizeof buf);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
            break;
        n += got > 0 ? (size_t)got : 0;
    }
    x->pending.len = 0;
    return n;
}

static void stop_child(struct coproc *x, int64_t grace)
{
    if (x->c.pid <= 0)
        return;
    if (x->c.in >= 0) { /* end of input: a well-behaved co-process exits */
        close(x->c.in);
        x->c.in = -1;
    }
    int64_t deadline = now_ns() + grace;
    size_t extra = drain(x, deadline);
    if (extra)
        stage_warn(&x->env,
                   "co-process %s wrote %zu bytes after its last reply: it answered more records "
                   "than it was sent",
                   x->env.o->command[0], extra);
    atomic_store(x->env.child, 0);
    if (child_finish(&x->c, deadline) == -ETIMEDOUT)
        stage_warn(&x->env, "co-process %s did not exit at the end of its input: killed",
                   x->env.o->command[0]);
}

static void coproc_close(void *impl)
{
    struct coproc *x = impl;
    if (!x)
        return;
    stop_child(x, NS_PER_SEC);
    buf_free(&x->pending);
    free(x->envp);
    free(x);
}

static int coproc_open(const struct stage_env *env, void **impl, struct stage_shape *shape,
                       char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    shape->take.records = WINDOW; /* a worker's take fills the window */
    struct coproc *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->env = *env;
    x->delim = env->o->delim;
    snprintf(x->worker_var, sizeof x->worker_var, "WEIR_WORKER=%u", env->worker);
    char *vars[1] = {x->worker_var};
    if (!(x->envp = child_environ(vars, 1))) {
        free(x);
        return -ENOMEM;
    }
    *impl = x;
    return 0;
}

static int start(struct coproc *x, struct pass *r)
{
    int rc = child_spawn(&x->c, x->env.o->command, x->envp, true);
    if (rc == 0) {
        atomic_store(x->env.child, x->c.pid);
        if (run_signal(x->env.run))
            child_kill(&x->c, run_signal(x->env.run));
    }
    x->pending.len = 0;
    r->head_t = now_ns();
    return rc;
}

/* --joblog: the line of record `answered`, awaited since r->head_t, which
 * got `received` bytes of reply; status as joblog_status takes it. */
static void log_head(struct coproc *x, const struct pass *r, int status, size_t received)
{
    if (!x->env.joblog)
        return;
    size_t len = r->b->recs[r->answered].len + 1; /* with its delimiter */
    struct joblog_entry e = {
        .seq = r->b->recno0 + r->answered,
        .worker = x->env.worker,
        .start = r->head_t,
        .end = now_ns(),
        .sent = r->sent > r->answered ? len : r->sent_off,
        .received = received,
        .attempt = r->tries + 1,
        .command = x->env.o->command,
    };
    joblog_status(&e, status);
    joblog_write(x->env.joblog, &e); /* an error shows at the end (pipeline.c) */
}

/* The record awaited failed (rc: a wait status or -errno): kill and reap
 * the co-process, then retry the record or fail it; the records written
 * after it will be sent again to the next co-process. */
static int head_failed(struct coproc *x, struct pass *r, int rc)
{
    child_kill(&x->c, SIGKILL);
    atomic_store(x->env.child, 0);
    int st = child_finish(&x->c, 0);
    if (rc == 0)
        rc = st;
    struct batch *b = r->b;
    uint64_t recno = b->recno0 + r->answered;
    log_head(x, r, rc, x->pending.len);
    r->sent = r->answered;
    r->sent_off = 0;
    if (run_signal(x->env.run)) { /* interrupted: the rest is shed */
        batch_cut(b, r->answered);
        return 1;
    }
    char msg[128];
    child_describe(rc, msg, sizeof msg);
    if (r->tries < x->env.o->retries) {
        r->tries++;
        atomic_fetch_add(x->env.retried, 1);
        return 0;
    }
    stage_warn(&x->env, "record %" PRIu64 ": co-process %s %s: failed", recno, x->env.o->command[0],
               msg);
    if (batch_fail_job(b, r->answered++, (struct batch_fault){rc, r->tries + 1}) != 0)
        return -ENOMEM;
    b->n_timeouts += rc == -ETIMEDOUT;
    r->tries = 0;
    r->sent = r->answered;
    return 0;
}

/* Writes what the pipe takes of the records in the window. */
static void feed(struct coproc *x, struct pass *r)
{
    struct batch *b = r->b;
    while (r->sent < b->n && r->sent - r->answered < WINDOW) {
        const char *p = b->chunk->data + b->recs[r->sent].off;
        size_t len = b->recs[r->sent].len + 1; /* with its delimiter, added if it had none */
        struct iovec v[2] = {{(void *)(uintptr_t)p, b->recs[r->sent].len}, {&x->delim, 1}};
        size_t skip = r->sent_off;
        int k = skip < v[0].iov_len ? 0 : 1;
        v[k].iov_base = (char *)v[k].iov_base + (skip - (k ? v[0].iov_len : 0));
        v[k].iov_len -= skip - (k ? v[0].iov_len : 0);
        ssize_t w = writev(x->c.in, v + k, 2 - k);
        if (w <= 0) /* EAGAIN, or EPIPE: it closed its input; its death shows on stdout */
            return;
        r->sent_off += (size_t)w;
        if (r->sent_off == len) {
            r->sent++;
            r->sent_off = 0;
        }
    }
}

/* Takes the whole replies out of x->pending. 0, or -EPROTO when the
 * co-process answered more records than were sent. */
static int take_replies(struct coproc *x, struct pass *r)
{
    size_t used = 0;
    char *nl;
    while ((nl = memchr(x->pending.p + used, x->delim, x->pending.len - used))) {
        size_t len = (size_t)(nl + 1 - (x->pending.p + used));
        if (r->answered >= r->sent)
            return -EPROTO;
        if (buf_reserve(&r->out, len) != 0)
            return -ENOMEM;
        memcpy(r->out.p + r->out.len, x->pending.p + used, len);
        r->out.len += len;
        r->b->n_out++;
        log_head(x, r, 0, len);
        r->answered++;
        r->tries = 0;
        r->head_t = now_ns();
        used += len;
    }
    memmove(x->pending.p, x->pending.p + used, x->pending.len - used);
    x->pending.len -= used;
    return 0;
}

/* Gives the hint about a co-process that answers nothing (once per run)
 * when it is due; returns how long a wait may last: `left` (-1: no bound),
 * or less, until the hint is due. */
static int64_t quiet_hint(struct coproc *x, const struct pass *r, int64_t now, int64_t left)
{
    if (x->hinted || x->c.pid <= 0 || r->sent <= r->answered)
        return left;
    int64_t due = r->head_t + QUIET_HINT_NS - now;
    if (due > 0)
        return left < 0 ? due : MIN(left, due);
    x->hinted = true;
    if (x->env.hinted && atomic_exchange(x->env.hinted, true))
        return left; /* another worker gave it */
    report_warning("co-process %s has answered none of %zu records in %d s: is it buffering its "
                   "output? It must answer each record and flush it (sed -u, jq --unbuffered, "
                   "python3 -u, gawk with fflush(); see Co-process in weir(1))",
                   x->env.o->command[0], r->sent - r->answered, (int)(QUIET_HINT_NS / NS_PER_SEC));
    return left;
}

/* One round: feed, wait, read. 1 when the batch is over. */
static int step(struct coproc *x, struct pass *r)
{
    if (x->c.pid <= 0) {
        int rc = start(x, r);
        if (rc)
            return head_failed(x, r, rc);
    }
    feed(x, r);
    int64_t now = now_ns(), jt = x->env.o->job_timeout_ns, left = jt ? r->head_t + jt - now : -1;
    if (jt && left <= 0)
        return head_failed(x, r, -ETIMEDOUT);
    left = quiet_hint(x, r, now, left);
    bool more = r->sent < r->b->n && r->sent - r->answered < WINDOW;
    struct pollfd pfd[2] = {{.fd = x->c.out, .events = POLLIN}, {.fd = x->c.in, .events = POLLOUT}};
    struct timespec ts = ns_to_timespec(MAX(left, 0));
    if (ppoll(pfd, more ? 2 : 1, left >= 0 ? &ts : NULL, NULL) < 0 && errno != EINTR)
        return -errno;
    if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    if (buf_reserve(&x->pending, 64 * 1024) != 0)
        return -ENOMEM;
    ssize_t got = read(x->c.out, x->pending.p + x->pending.len, x->pending.cap - x->pending.len);
    if (got == 0) /* it died, or closed its output */
        return head_failed(x, r, 0);
    if (got < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    x->pending.len += (size_t)got;
    int rc = take_replies(x, r);
    if (rc == 0 && x->pending.len > x->env.o->capacity_bytes) /* a reply without end */
        return head_failed(x, r, -EFBIG);
    if (rc == -EPROTO) {
        stage_warn(&x->env, "co-process %s answered more records than it was sent: restarted",
                   x->env.o->command[0]);
        child_kill(&x->c, SIGKILL);
        atomic_store(x->env.child, 0);
        child_finish(&x->c, 0); /* the next step starts a new one */
        r->sent = r->answered;
        r->sent_off = 0;
        return 0;
    }
    return rc;
}

static int coproc_run(void *impl, struct batch *b)
{
    struct coproc *x = impl;
    struct pass r = {.b = b, .head_t = now_ns()};
    int rc = 0;
    while (r.answered < b->n && rc == 0)
        rc = step(x, &r);
    if (rc == 1) { /* interrupted: what was not answered fails as dropped */
        rc = 0;
        if (!b->failed && r.answered > 0 && !(b->failed = calloc(b->n, sizeof *b->failed)))
            rc = -ENOMEM;
        for (size_t i = r.answered; i < b->n && b->failed; i++)
            b->failed[i] = true;
        b->n_failed += b->n - r.answered;
    }
    b->n_done = b->n - b->n_failed;
    if (rc == 0 && r.out.len) {
        b->obuf = r.out.p;
        b->olen = b->ocap = r.out.len;
        return batch_emit(b, b->obuf, b->olen);
    }
    buf_free(&r.out);
    return rc;
}

const struct stage_kind coproc_kind = {"coproc", coproc_open, coproc_run, coproc_close};
