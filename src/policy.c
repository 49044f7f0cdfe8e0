/* policy.c - overflow policies as pure functions of time; see policy.h. */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common.h"

static const char *const names[] = {
    [POLICY_BLOCK] = "block",     [POLICY_DROP] = "drop", [POLICY_DROP_OLDEST] = "drop-oldest",
    [POLICY_TIMEOUT] = "timeout", [POLICY_FAIL] = "fail",
};

const char *policy_name(enum policy p)
{
    return names[p];
}

int policy_parse(const char *s, enum policy *out)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum policy)i;
            return 0;
        }
    }
    return -EINVAL;
}

static int64_t after(int64_t arrived, int64_t wait_ns)
{
    return wait_ns >= NS_FOREVER - arrived ? NS_FOREVER : arrived + wait_ns;
}

int64_t policy_deadline(enum policy p, int64_t arrived, int64_t timeout_ns, bool grace)
{
    switch (p) {
    case POLICY_BLOCK:
        return NS_FOREVER;
    case POLICY_TIMEOUT:
    case POLICY_FAIL:
        return after(arrived, timeout_ns);
    case POLICY_DROP:
    case POLICY_DROP_OLDEST:
        break;
    }
    return grace ? after(arrived, POLICY_DROP_GRACE_NS) : arrived;
}

enum outcome policy_shed_outcome(enum policy p)
{
    switch (p) {
    case POLICY_TIMEOUT:
        return OUTCOME_TIMED_OUT;
    case POLICY_FAIL:
        return OUTCOME_FAILED;
    default:
        return OUTCOME_DROPPED;
    }
}

enum token_action policy_on_token(enum policy p, int64_t arrived, int64_t ready, int64_t timeout_ns)
{
    bool waits = p == POLICY_BLOCK || p == POLICY_TIMEOUT || p == POLICY_FAIL;
    int64_t deadline = waits ? policy_deadline(p, arrived, timeout_ns, false) : arrived;
    if (ready <= deadline)
        return TOKEN_WAIT;
    return p == POLICY_FAIL ? TOKEN_STOP : TOKEN_SHED;
}
