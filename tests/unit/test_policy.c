/* test_policy.c - the overflow policies as pure decisions (policy.h): the
 * names users type, how long intake may wait for room, what a shed record
 * is counted as, and what to do about a token that is not there yet.
 * Time is a parameter: nothing here sleeps. */
#include <errno.h>
#include <stdint.h>

#include "common.h"
#include "policy.h"
#include "tap.h"

static const struct {
    enum policy p;
    const char *name;
} all[] = {
    {POLICY_BLOCK, "block"},     {POLICY_DROP, "drop"}, {POLICY_DROP_OLDEST, "drop-oldest"},
    {POLICY_TIMEOUT, "timeout"}, {POLICY_FAIL, "fail"},
};

#define NPOL (sizeof all / sizeof all[0])

static void test_names(void)
{
    for (size_t i = 0; i < NPOL; i++) {
        is_str(policy_name(all[i].p), all[i].name, "policy_name(%d) is \"%s\"", (int)all[i].p,
               all[i].name);
        enum policy out = (enum policy)99;
        int rc = policy_parse(all[i].name, &out);
        ok(rc == 0 && out == all[i].p, "policy_parse(\"%s\") round-trips (rc %d)", all[i].name, rc);
    }
    static const char *const bad[] = {"",           "Block",  "BLOCK",        "drop_oldest",
                                      "dropoldest", "drop-",  "drop-oldest ", " drop",
                                      "wait",       "blocks", "time",         "shed"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum policy out = (enum policy)99;
        int rc = policy_parse(bad[i], &out);
        ok(rc == -EINVAL && out == (enum policy)99,
           "policy_parse(\"%s\") refused, output untouched", bad[i]);
    }
}

static void test_deadlines(void)
{
    const int64_t t = 5 * NS_PER_SEC, to = 250 * NS_PER_MS;
    ok(policy_deadline(POLICY_BLOCK, t, to, true) == NS_FOREVER, "block: waits forever");
    ok(policy_deadline(POLICY_BLOCK, t, 0, true) == NS_FOREVER,
       "block: forever even with timeout 0");
    is_int(policy_deadline(POLICY_DROP, t, to, true), t + POLICY_DROP_GRACE_NS,
           "drop: the workers get their turn (deadline = arrival + grace)");
    is_int(policy_deadline(POLICY_DROP_OLDEST, t, to, true), t + POLICY_DROP_GRACE_NS,
           "drop-oldest: the same grace before evicting");
    is_int(policy_deadline(POLICY_DROP, t, to, false), t,
           "drop, grace used up in an overload: shed at once");
    is_int(policy_deadline(POLICY_DROP_OLDEST, t, to, false), t,
           "drop-oldest, grace used up: evict at once");
    is_int(policy_deadline(POLICY_TIMEOUT, t, to, false), t + to, "timeout: no grace to lose");
    ok(policy_deadline(POLICY_BLOCK, t, to, false) == NS_FOREVER, "block: no grace to lose");
    is_int(policy_deadline(POLICY_TIMEOUT, t, to, true), t + to, "timeout: arrival + timeout");
    is_int(policy_deadline(POLICY_FAIL, t, to, true), t + to, "fail: arrival + timeout");
    is_int(policy_deadline(POLICY_FAIL, t, 0, true), t, "fail, timeout 0 (its default): no wait");
    is_int(policy_deadline(POLICY_TIMEOUT, t, 0, true), t, "timeout 0: no wait");
    /* huge timeouts saturate instead of wrapping into the past */
    ok(policy_deadline(POLICY_TIMEOUT, t, NS_FOREVER, true) == NS_FOREVER,
       "timeout NS_FOREVER: waits forever, no overflow");
    ok(policy_deadline(POLICY_FAIL, t, NS_FOREVER - t / 2, true) == NS_FOREVER,
       "fail, timeout just short of overflow: saturates");
    ok(policy_deadline(POLICY_TIMEOUT, t, NS_FOREVER - t - 1, true) == NS_FOREVER - 1,
       "timeout that just fits: exact");
    /* a deadline is relative to the arrival, not to 0 */
    is_int(policy_deadline(POLICY_TIMEOUT, 0, to, true), to, "timeout from arrival 0");
    is_int(policy_deadline(POLICY_TIMEOUT, 7 * NS_PER_SEC, to, true), 7 * NS_PER_SEC + to,
           "timeout from arrival 7 s");
}

static void test_outcomes(void)
{
    is_int(policy_shed_outcome(POLICY_DROP), OUTCOME_DROPPED, "drop sheds as dropped");
    is_int(policy_shed_outcome(POLICY_DROP_OLDEST), OUTCOME_DROPPED,
           "drop-oldest sheds as dropped");
    is_int(policy_shed_outcome(POLICY_TIMEOUT), OUTCOME_TIMED_OUT, "timeout sheds as timed out");
    is_int(policy_shed_outcome(POLICY_FAIL), OUTCOME_FAILED, "fail counts its refused as failed");
    is_int(policy_shed_outcome(POLICY_BLOCK), OUTCOME_DROPPED,
           "block (records shed only on interruption) counts them as dropped");
}

static void test_on_token(void)
{
    const int64_t arrived = 10 * NS_PER_SEC, to = 100 * NS_PER_MS;
    const int64_t soon = arrived + 50 * NS_PER_MS, at = arrived + to, late = arrived + to + 1,
                  much_later = arrived + 3600 * NS_PER_SEC;

    /* block waits for any token, however late */
    is_int(policy_on_token(POLICY_BLOCK, arrived, soon, to), TOKEN_WAIT, "block: token soon: wait");
    is_int(policy_on_token(POLICY_BLOCK, arrived, much_later, 0), TOKEN_WAIT,
           "block: token in an hour: still wait");

    /* drop and drop-oldest shed a record whose token is not there */
    is_int(policy_on_token(POLICY_DROP, arrived, soon, to), TOKEN_SHED,
           "drop: token not there: shed");
    is_int(policy_on_token(POLICY_DROP, arrived, arrived + 1, to), TOKEN_SHED,
           "drop: token 1 ns away: shed");
    is_int(policy_on_token(POLICY_DROP_OLDEST, arrived, soon, to), TOKEN_SHED,
           "drop-oldest: no token: shed the incoming record");

    /* timeout waits only when the token comes within the timeout */
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, soon, to), TOKEN_WAIT,
           "timeout: token within the timeout: wait");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, at, to), TOKEN_WAIT,
           "timeout: token exactly at the deadline: wait");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, late, to), TOKEN_SHED,
           "timeout: token 1 ns after the deadline: shed at once");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, much_later, to), TOKEN_SHED,
           "timeout: token far beyond: shed at once, no pointless wait");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived, soon, 0), TOKEN_SHED,
           "timeout 0: any wait sheds");

    /* fail waits within its timeout, then stops */
    is_int(policy_on_token(POLICY_FAIL, arrived, soon, to), TOKEN_WAIT,
           "fail: token within the timeout: wait");
    is_int(policy_on_token(POLICY_FAIL, arrived, late, to), TOKEN_STOP,
           "fail: token after the timeout: stop");
    is_int(policy_on_token(POLICY_FAIL, arrived, arrived + 1, 0), TOKEN_STOP,
           "fail, default timeout 0: no token now: stop");

    /* the deadline counts from arrival: time already spent waiting counts */
    is_int(policy_on_token(POLICY_TIMEOUT, arrived - 80 * NS_PER_MS, soon, to), TOKEN_SHED,
           "timeout: arrived 80 ms ago, token in 50 ms more (130 > 100): shed");
    is_int(policy_on_token(POLICY_TIMEOUT, arrived - 40 * NS_PER_MS, soon, to), TOKEN_WAIT,
           "timeout: arrived 40 ms ago, token in 50 ms more (90 <= 100): wait");
}

int main(void)
{
    test_names();
    test_deadlines();
    test_outcomes();
    test_on_token();
    return done_testing();
}
