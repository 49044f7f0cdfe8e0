/* run.c - the run state; see run.h. The causes are one atomic bit set;
 * the signal and the output's error are atomics written before their bit,
 * so whoever sees a cause also sees its detail. No lock: a stop is a few
 * atomic stores, queue_interrupt (the queue's own lock, taken alone) and
 * one write to a non-blocking pipe that is never drained, so every later
 * poll of it returns at once. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "queue.h"

struct run {
    atomic_uint causes;    /* enum run_cause bits */
    atomic_int signal;     /* the stop signal, 0: none */
    atomic_int output_err; /* the output's -errno, 0: working */
    struct queue *queue;   /* interrupted at a stop, or NULL */
    int wake[2];           /* self-pipe: written at a stop */
};

int run_new(struct run **out)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int err = errno;
        free(r);
        return -err;
    }
    *out = r;
    return 0;
}

void run_free(struct run *r)
{
    if (!r)
        return;
    close(r->wake[0]);
    close(r->wake[1]);
    free(r);
}

void run_watch(struct run *r, struct queue *q)
{
    r->queue = q;
}

bool run_stop(struct run *r, enum run_cause why)
{
    bool fresh = !(atomic_fetch_or(&r->causes, (unsigned)why) & (unsigned)why);
    if (r->queue)
        queue_interrupt(r->queue);
    char c = 1;
    ssize_t n = write(r->wake[1], &c, 1); /* a full pipe already wakes */
    (void)n;
    return fresh;
}

void run_stop_signal(struct run *r, int sig)
{
    atomic_store(&r->signal, sig);
    run_stop(r, RUN_SIGNAL);
}

void run_stop_output(struct run *r, int err)
{
    int none = 0;
    atomic_compare_exchange_strong(&r->output_err, &none, err);
    run_stop(r, RUN_OUTPUT);
}

bool run_has(const struct run *r, enum run_cause c)
{
    return atomic_load(&r->causes) & (unsigned)c;
}

int run_signal(const struct run *r)
{
    return atomic_load(&r->signal);
}

int run_output_error(const struct run *r)
{
    return atomic_load(&r->output_err);
}

enum outcome run_cut_as(const struct run *r)
{
    int err = atomic_load(&r->output_err);
    return err && err != -EPIPE ? OUTCOME_FAILED : OUTCOME_DROPPED;
}

bool run_stopped(const struct run *r, enum outcome *as)
{
    unsigned c = atomic_load(&r->causes);
    if (c & RUN_OVERLOAD)
        *as = OUTCOME_FAILED;
    else if (c)
        *as = run_cut_as(r);
    return c != 0;
}

bool run_returns(const struct run *r, enum outcome why)
{
    return run_has(r, RUN_SIGNAL | RUN_ERROR | RUN_OUTPUT) && why == run_cut_as(r);
}

int run_wake_fd(const struct run *r)
{
    return r->wake[0];
}

void run_sleep_until(struct run *r, int64_t deadline)
{
    enum outcome as;
    for (;;) {
        int64_t now = now_ns();
        if (now >= deadline || run_stopped(r, &as))
            return;
        struct timespec ts = ns_to_timespec(deadline - now);
        struct pollfd pfd = {.fd = r->wake[0], .events = POLLIN};
        ppoll(&pfd, 1, &ts, NULL);
    }
}
