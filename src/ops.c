/* ops.c - built-in operations and their stage kind; see ops.h. */
#include "ops.h"

#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "batch.h"
#include "common.h"
#include "options.h"
#include "parse.h"
#include "stage.h"

enum op_kind { OP_CAT, OP_UPPER, OP_LOWER, OP_GREP, OP_GREPV, OP_SLEEP, OP_SPIN };

struct op {
    enum op_kind kind;
    bool has_re; /* re is compiled */
    regex_t re;  /* grep, grepv */
    int64_t ns;  /* sleep, spin */
};

/* The last stretch of a sleep is spun, not slept: even with no timer
 * slack, waking from clock_nanosleep takes tens of microseconds (on a
 * 2-CPU VM: 45 us typical after 100 us asleep, 70 us after 1 ms, several
 * times that under load), and a sleep:20us that takes 100 us simulates a
 * stage five times slower than asked. The tail follows the wake-up
 * latency seen (its 90th percentile), within bounds that keep the CPU a
 * long sleep burns small. */
#define TAIL_START_NS INT64_C(50000)
#define TAIL_MIN_NS INT64_C(10000)
#define TAIL_MAX_NS INT64_C(250000)
#define TAIL_STEP_NS INT64_C(1000)

struct ops {
    size_t n; /* operations, cat removed */
    bool slow;
    bool whole_span; /* only upper/lower, and they leave the delimiter alone */
    bool changes;    /* upper or lower: kept records are copied to the batch's obuf */
    bool sleep_set;  /* this thread's timer slack was set (at the first sleep) */
    int64_t tail_ns; /* how long before a sleep's deadline to start spinning */
    char *scratch;   /* a NUL-terminated copy of the record for regexec */
    size_t scratch_cap;
    struct op op[];
};

void ops_free(struct ops *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        if (o->op[i].has_re)
            regfree(&o->op[i].re);
    free(o->scratch);
    free(o);
}

/* The end of the bracket expression that opens at p ('['), past its ']';
 * the end of the string when it has none (regcomp reports that). */
static const char *skip_bracket(const char *p)
{
    p++;
    p += *p == '^';
    p += *p == ']'; /* first, it is a member */
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char close[3] = {p[1], ']', '\0'};
            const char *e = strstr(p + 2, close);
            p = e ? e + 2 : p + strlen(p);
        } else {
            p++;
        }
    }
    return *p ? p + 1 : p;
}

/* The copies the interval at p ('{') asks for: its upper bound, or its
 * lower one when it has none (then the rest is a star); *end is past it.
 * 0 when p holds no interval (regcomp says what is wrong). */
static uint64_t interval(const char *p, const char **end)
{
    uint64_t n[2] = {0, 0};
    int k = 0, digits = 0;
    for (p++; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            n[k] = MIN(n[k] * 10 + (uint64_t)(*p - '0'), UINT64_C(1) << 32);
            digits++;
        } else if (*p == ',' && k == 0) {
            k = 1;
        } else {
            break;
        }
    }
    if (*p != '}' || !digits)
        return 0;
    *end = p + 1;
    return MAX(k && n[1] ? n[1] : n[0], 1);
}

/* One pass over the pattern with a stack of groups: `w` is the copies of
 * the last atom (a group: of the most repeated part inside it), times
 * the intervals that follow it; top[d] is the most of any atom before it
 * at depth d. Bounded by OPS_REPEAT_MAX + 1, so nothing overflows. */
int ops_check_repeats(const char *ere)
{
    size_t depth = 0, groups = 1;
    for (const char *p = ere; *p; p++)
        groups += *p == '(';
    uint64_t *top = calloc(groups, sizeof *top), w = 0;
    if (!top)
        return -ENOMEM;
    for (const char *p = ere; *p && w <= OPS_REPEAT_MAX;) {
        const char *end = p + 1;
        uint64_t copies = *p == '{' && w ? interval(p, &end) : 0;
        if (copies) {
            w = MIN(w * copies, OPS_REPEAT_MAX + 1);
        } else if (*p == '*' || *p == '+' || *p == '?') {
            /* unbounded: no copies, but stacked on another repetition
             * (a**, a+*+) glibc copies the tree again */
            if (w && p > ere && strchr("*+?}", p[-1]))
                w = MIN(w * 2, OPS_REPEAT_MAX + 1);
        } else if (*p == ')' && depth > 0) {
            w = MAX(top[depth], w);
            depth--;
        } else {
            top[depth] = MAX(top[depth], w);
            w = *p == '|' || *p == '(' ? 0 : 1;
            if (*p == '(')
                top[++depth] = 0;
            else if (*p == '[')
                end = skip_bracket(p);
            else if (*p == '\\' && p[1])
                end = p + 2;
        }
        p = end;
    }
    for (; depth > 0; depth--) /* unclosed: regcomp refuses it */
        w = MAX(top[depth], w);
    bool big = MAX(top[0], w) > OPS_REPEAT_MAX;
    free(top);
    return big ? -E2BIG : 0;
}

static int compile(const char *spec, struct op *op, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum op_kind kind;
    } table[] = {
        {"cat", OP_CAT},      {"upper", OP_UPPER},  {"lower", OP_LOWER}, {"grep:", OP_GREP},
        {"grepv:", OP_GREPV}, {"sleep:", OP_SLEEP}, {"spin:", OP_SPIN},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *name = table[i].name;
        size_t len = strlen(name);
        bool has_arg = name[len - 1] == ':';
        if (has_arg ? strncmp(spec, name, len) != 0 : strcmp(spec, name) != 0)
            continue;
        const char *arg = spec + len;
        op->kind = table[i].kind;
        if (op->kind == OP_GREP || op->kind == OP_GREPV) {
            int rc = ops_check_repeats(arg);
            if (rc == -E2BIG)
                snprintf(err, errlen,
                         "--op '%s': repetition too large: its {n,m} repetitions, multiplied "
                         "where stacked or nested, repeat a part more than %d times",
                         spec, OPS_REPEAT_MAX);
            if (rc)
                return rc == -E2BIG ? -EINVAL : rc;
            rc = regcomp(&op->re, arg, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                char msg[128];
                regerror(rc, &op->re, msg, sizeof msg);
                snprintf(err, errlen, "--op '%s': bad regular expression: %s", spec, msg);
                return -EINVAL;
            }
            op->has_re = true;
        } else if (has_arg && parse_duration(arg, &op->ns) != 0) {
            snprintf(err, errlen, "--op '%s': expected a duration such as 10ms after '%s'", spec,
                     name);
            return -EINVAL;
        }
        return 0;
    }
    snprintf(err, errlen,
             "--op '%s': unknown operation (expected cat, upper, lower, grep:ERE, grepv:ERE, "
             "sleep:DUR or spin:DUR)",
             spec);
    return -EINVAL;
}

int ops_new(const char *const *specs, size_t n, unsigned char delim, struct ops **out, char *msg,
            size_t msglen)
{
    struct ops *o = calloc(1, sizeof *o + n * sizeof o->op[0]);
    if (!o)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct op *op = &o->op[o->n];
        int rc = compile(specs[i], op, msg, msglen);
        if (rc) {
            ops_free(o);
            return rc;
        }
        if (op->kind == OP_SLEEP || op->kind == OP_SPIN)
            o->slow = true;
        if (op->kind == OP_UPPER || op->kind == OP_LOWER)
            o->changes = true;
        if (op->kind != OP_CAT)
            o->n++;
    }
    bool letter = (delim | 0x20) >= 'a' && (delim | 0x20) <= 'z';
    o->whole_span = !letter;
    for (size_t i = 0; i < o->n; i++)
        if (o->op[i].kind != OP_UPPER && o->op[i].kind != OP_LOWER)
            o->whole_span = false;
    *out = o;
    return 0;
}

bool ops_slow(const struct ops *o)
{
    return o->slow;
}

bool ops_identity(const struct ops *o)
{
    return o->n == 0;
}

#define ONES UINT64_C(0x0101010101010101)

/* Moves every byte of x in [lo, hi] by 0x20, up when `up`, else down,
 * eight at a time: adding to the low seven bits of each byte, its high bit
 * shows whether it is >= lo, or > hi (no carry crosses bytes); bytes
 * >= 0x80 are left alone. lo must be > 0 and hi < 0x80. */
static inline uint64_t shift_range8(uint64_t x, unsigned char lo, unsigned char hi, bool up)
{
    uint64_t low7 = x & (0x7f * ONES);
    uint64_t ge_lo = low7 + (uint64_t)(0x80 - lo) * ONES;
    uint64_t gt_hi = low7 + (uint64_t)(0x7f - hi) * ONES;
    uint64_t in = ge_lo & ~gt_hi & ~x & (0x80 * ONES);
    return up ? x + (in >> 2) : x - (in >> 2);
}

/* src[0..len) in ASCII upper or lower case, to dst (which may be src):
 * copying and mapping in one pass, eight bytes at a time. */
static void change_case(char *dst, const char *src, size_t len, bool to_upper)
{
    unsigned char lo = to_upper ? 'a' : 'A', hi = to_upper ? 'z' : 'Z';
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, src + i, 8);
        x = shift_range8(x, lo, hi, !to_upper);
        memcpy(dst + i, &x, 8);
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)(c >= lo && c <= hi ? c ^ 0x20 : c);
    }
}

static void spin_until(int64_t deadline)
{
    while (now_ns() < deadline)
        ;
}

/* Timer slack lets the kernel wake a sleeper up to that much late (50 us
 * by default) to batch wake-ups; a sleep op wants to be on time. Slack is
 * per thread, and each worker's thread owns its struct ops, so this runs
 * at its first sleep. Failing is harmless: wake-ups come later, and the
 * spin tail grows to match. */
static void sleep_setup(struct ops *o)
{
    o->sleep_set = true;
    o->tail_ns = TAIL_START_NS;
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0)
        o->tail_ns += TAIL_START_NS; /* the default slack: a better first guess */
}

/* Waits ns: asleep until a little before the deadline, then spinning to
 * it, so that the wait ends within a microsecond or so of the deadline
 * unless the thread is preempted. */
static void sleep_for(struct ops *o, int64_t ns)
{
    if (!o->sleep_set)
        sleep_setup(o);
    int64_t deadline = now_ns() + ns;
    if (ns > o->tail_ns) {
        int64_t wake = deadline - o->tail_ns;
        struct timespec ts = ns_to_timespec(wake);
        int rc;
        while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
            ;
        if (rc == 0) {
            /* the tail tracks the 90th percentile of lateness: a step up
             * 9 times the step down settles where 1 wake-up in 10 is later */
            int64_t late = now_ns() - wake;
            o->tail_ns += late > o->tail_ns ? 9 * TAIL_STEP_NS : -TAIL_STEP_NS;
            o->tail_ns = MIN(MAX(o->tail_ns, TAIL_MIN_NS), TAIL_MAX_NS);
        } /* else an error this clock cannot give: the spin waits it all */
    }
    spin_until(deadline);
}

/* regexec on the payload. glibc honours REG_STARTEND (NUL bytes inside
 * records match as data), but sanitizer interceptors read the subject up
 * to a NUL, so it gets a terminated copy: 1 if it matches, 0 if not,
 * -ENOMEM. */
static int match(struct ops *o, const regex_t *re, const char *p, size_t len)
{
    if (len + 1 > o->scratch_cap) {
        size_t cap = MAX(len + 1, 2 * o->scratch_cap);
        char *s = realloc(o->scratch, cap);
        if (!s)
            return -ENOMEM;
        o->scratch = s;
        o->scratch_cap = cap;
    }
    memcpy(o->scratch, p, len);
    o->scratch[len] = '\0';
    regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)len};
    return regexec(re, o->scratch, 1, &m, REG_STARTEND) == 0;
}

/* Applies the chain to record i of b and emits it if kept: 1 when kept,
 * 0 when a filter dropped it, -ENOMEM. The first upper or lower copies the
 * record (with its delimiter) to the end of b->obuf, and the ops after it
 * work on the copy, which is output only if the record is kept (else the
 * next record's copy overwrites it). */
static int apply(struct ops *o, struct batch *b, size_t i)
{
    const char *p = b->chunk->data + b->recs[i].off;
    size_t len = b->recs[i].len, size = batch_rec_size(b, i);
    char *copy = NULL;
    for (size_t k = 0; k < o->n; k++) {
        const struct op *op = &o->op[k];
        switch (op->kind) {
        case OP_CAT:
            break;
        case OP_UPPER:
        case OP_LOWER:
            if (!copy) {
                copy = b->obuf + b->olen;
                memcpy(copy + len, p + len, size - len);
            }
            change_case(copy, p, len, op->kind == OP_UPPER);
            p = copy;
            break;
        case OP_GREP:
        case OP_GREPV: {
            int m = match(o, &op->re, p, len);
            if (m < 0)
                return m;
            if (m != (op->kind == OP_GREP))
                return 0;
            break;
        }
        case OP_SLEEP:
            sleep_for(o, op->ns);
            break;
        case OP_SPIN:
            spin_until(now_ns() + op->ns);
            break;
        }
    }
    if (copy)
        b->olen += size;
    b->n_out++;
    return batch_emit(b, p, size) == 0 ? 1 : -ENOMEM;
}

int ops_run(struct ops *o, struct batch *b)
{
    b->n_done = b->n;
    if (b->n == 0)
        return 0;
    const char *base = b->chunk->data;
    size_t first = b->recs[0].off, last = b->n - 1;
    size_t span = b->recs[last].off + batch_rec_size(b, last) - first;
    if (o->n == 0) { /* records are one contiguous span */
        b->n_out = b->n;
        return batch_emit(b, base + first, span);
    }
    /* the output is at most the input: reserved whole, obuf never moves */
    if (o->changes && batch_reserve(b, span) != 0)
        return -ENOMEM;
    if (o->whole_span) {
        /* upper and lower each set the case of every letter: the last one decides */
        change_case(b->obuf, base + first, span, o->op[o->n - 1].kind == OP_UPPER);
        b->olen = span;
        b->n_out = b->n;
        return batch_emit(b, b->obuf, span);
    }
    for (size_t i = 0; i < b->n; i++) {
        int rc = apply(o, b, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- the stage kind ---- */

static int kind_open(const struct stage_env *env, void **impl, struct stage_shape *shape, char *msg,
                     size_t msglen)
{
    const struct options *o = env->o;
    struct ops *ops;
    int rc = ops_new(o->ops, o->n_ops, o->delim, &ops, msg, msglen);
    if (rc)
        return rc;
    shape->identity = ops_identity(ops);
    shape->take.records = ops_slow(ops) ? 1 : 0; /* slow: share records out one by one */
    *impl = ops;
    return 0;
}

static int kind_run(void *impl, struct batch *b)
{
    return ops_run(impl, b);
}

static void kind_close(void *impl)
{
    ops_free(impl);
}

const struct stage_kind ops_kind = {"ops", kind_open, kind_run, kind_close};
