/* test_run.c - the run state (run.h): what each stop cause makes of the
 * records it cuts short, which of them go back to a source that can take
 * them (never an overload's), the signal kept for the exit status, the
 * output's first error kept, the queue interrupted and the sleeper woken
 * by a stop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>

#include "batch.h"
#include "common.h"
#include "mkbatch.h"
#include "queue.h"
#include "run.h"
#include "tap.h"

static struct run *fresh(void)
{
    struct run *r = NULL;
    if (run_new(&r) != 0)
        ok(0, "run_new");
    return r;
}

static void test_going(void)
{
    struct run *r = fresh();
    enum outcome as = OUTCOME_TIMED_OUT;
    ok(!run_stopped(r, &as) && as == OUTCOME_TIMED_OUT, "a run going on: not stopped, *as left");
    ok(!run_returns(r, OUTCOME_DROPPED), "nothing goes back");
    struct pollfd pfd = {.fd = run_wake_fd(r), .events = POLLIN};
    is_int(poll(&pfd, 1, 0), 0, "the wake-up is quiet");
    int64_t t0 = now_ns();
    run_sleep_until(r, t0 + 20 * NS_PER_MS);
    ok(now_ns() - t0 >= 20 * NS_PER_MS, "a sleep lasts to its deadline");
    run_free(r);
}

static void test_causes(void)
{
    struct run *r = fresh();
    enum outcome as;
    run_stop_signal(r, SIGINT);
    ok(run_stopped(r, &as) && as == OUTCOME_DROPPED, "a signal: stopped, cut work dropped");
    ok(run_returns(r, OUTCOME_DROPPED) && !run_returns(r, OUTCOME_FAILED),
       "dropped records go back, failed ones are final");
    run_stop_signal(r, SIGTERM);
    is_int(run_signal(r), SIGTERM, "a second signal is kept (the exit status)");
    struct pollfd pfd = {.fd = run_wake_fd(r), .events = POLLIN};
    is_int(poll(&pfd, 1, 0), 1, "the wake-up is readable");
    int64_t t0 = now_ns();
    run_sleep_until(r, t0 + 10 * NS_PER_SEC);
    ok(now_ns() - t0 < NS_PER_SEC, "a sleep returns at once");
    run_free(r);

    r = fresh();
    ok(run_stop(r, RUN_ERROR) && !run_stop(r, RUN_ERROR), "an error stop: new once");
    ok(run_stopped(r, &as) && as == OUTCOME_DROPPED && run_returns(r, OUTCOME_DROPPED),
       "an error stop: cut work dropped, and goes back");
    run_stop_output(r, -EIO);
    run_stop_output(r, -EPIPE);
    is_int(run_output_error(r), -EIO, "the output's first error is kept");
    ok(run_stopped(r, &as) && as == OUTCOME_FAILED && run_cut_as(r) == OUTCOME_FAILED,
       "the output failed: cut work failed");
    ok(run_returns(r, OUTCOME_FAILED) && !run_returns(r, OUTCOME_DROPPED),
       "and it is the failed records that go back");
    run_free(r);

    r = fresh();
    run_stop_output(r, -EPIPE);
    ok(run_stopped(r, &as) && as == OUTCOME_DROPPED, "EPIPE: cut work dropped");
    run_free(r);
}

static void test_overload(void)
{
    struct run *r = fresh();
    enum outcome as;
    run_stop(r, RUN_OVERLOAD);
    ok(run_stopped(r, &as) && as == OUTCOME_FAILED, "an overload: what is refused fails");
    ok(!run_returns(r, OUTCOME_FAILED) && !run_returns(r, OUTCOME_DROPPED),
       "an overload alone sends nothing back");
    is_int(run_cut_as(r), OUTCOME_DROPPED, "what it cuts short at the end counts as dropped");
    run_stop_signal(r, SIGINT);
    ok(run_stopped(r, &as) && as == OUTCOME_FAILED, "overload and signal: refused records fail");
    ok(run_returns(r, OUTCOME_DROPPED), "but the signal's dropped records go back");
    run_free(r);
}

static void test_queue(void)
{
    struct run *r = fresh();
    struct queue *q = queue_new(2, SIZE_MAX, 4);
    run_watch(r, q);
    struct batch *b = mk(1, 2, 4);
    queue_push(q, &b, NS_FOREVER);
    run_stop(r, RUN_ERROR);
    b = mk(3, 1, 4);
    int64_t t0 = now_ns();
    long n = queue_push(q, &b, NS_FOREVER);
    ok(n == 0 && b && now_ns() - t0 < NS_PER_SEC, "a stop interrupts the queue's pushes");
    batch_free(b);
    queue_free(q);
    run_free(r);
}

int main(void)
{
    test_going();
    test_causes();
    test_overload();
    test_queue();
    return done_testing();
}
