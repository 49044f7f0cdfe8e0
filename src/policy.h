/* policy.h - the overflow policies as pure decisions.
 *
 * The pipeline asks two questions when a record cannot be admitted now:
 * how long may intake wait (policy_deadline), and, when it gives up, what
 * the record becomes (policy_shed_outcome). For the rate limiter, which
 * knows when its token will come, policy_on_token answers at once.
 * Everything takes time as an argument (ns, monotonic); nothing sleeps. */
#ifndef WEIR_POLICY_H
#define WEIR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum policy { POLICY_BLOCK, POLICY_DROP, POLICY_DROP_OLDEST, POLICY_TIMEOUT, POLICY_FAIL };

/* What a record that could not be admitted is counted as. */
enum outcome { OUTCOME_DROPPED, OUTCOME_TIMED_OUT, OUTCOME_FAILED };

/* Why a record was shed or failed, for --rejects-format json (its words:
 * shed.c). REASON_JOB: a COMMAND job failed; its wait status tells how. */
enum reason {
    REASON_SHED, /* not known more closely */
    REASON_QUEUE_FULL,
    REASON_NO_TOKEN,
    REASON_DEADLINE,
    REASON_TOO_LONG,
    REASON_JOB,
    REASON_STOPPED,
    REASON_OUTPUT_ERROR,
};

/* What intake does about a token that is not there yet. */
enum token_action {
    TOKEN_WAIT, /* sleep until the token comes */
    TOKEN_SHED, /* shed the record now (counted as policy_shed_outcome) */
    TOKEN_STOP, /* fail policy: stop intake, exit 75 */
};

const char *policy_name(enum policy p);

/* Parses "block", "drop", ... into *out; returns 0 or -EINVAL. */
int policy_parse(const char *s, enum policy *out);

/* How long drop and drop-oldest let the workers take their turn before a
 * record that found the queue full is shed: a whole read arrives at once,
 * and the workers must get the chance to drain a burst they can absorb,
 * as they would if records arrived one by one. The grace is for workers
 * that keep up: once it has run out, it comes back only after a worker
 * has found the queue empty (admit.c), so a sustained overload sheds at
 * once and never paces the producer. */
#define POLICY_DROP_GRACE_NS INT64_C(5000000)

/* The latest moment intake may wait for room for a record that arrived at
 * `arrived`: NS_FOREVER for block; for drop and drop-oldest (which then
 * shed or evict) arrived + POLICY_DROP_GRACE_NS when `grace`, else
 * arrived; arrived + timeout for timeout and fail. */
int64_t policy_deadline(enum policy p, int64_t arrived, int64_t timeout_ns, bool grace);

/* How a record shed under policy p is counted. */
enum outcome policy_shed_outcome(enum policy p);

/* A token for a record that arrived at `arrived` comes at `ready` (>= now).
 * Block waits; timeout waits if ready is within arrived + timeout, else
 * sheds at once; drop and drop-oldest shed (no grace: a token comes at a
 * known time, and a late one means the rate is exceeded); fail waits within
 * arrived + timeout, else stops. */
enum token_action policy_on_token(enum policy p, int64_t arrived, int64_t ready,
                                  int64_t timeout_ns);

#endif
