/* ops.c - built-in operations; see ops.h. */
#include "ops.h"

#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "parse.h"

enum op_kind { OP_CAT, OP_UPPER, OP_LOWER, OP_GREP, OP_GREPV, OP_SLEEP, OP_SPIN };

struct op {
    enum op_kind kind;
    bool has_re; /* re is compiled */
    regex_t re;  /* grep, grepv */
    int64_t ns;  /* sleep, spin */
};

struct ops {
    size_t n; /* operations, cat removed */
    bool slow;
    bool whole_span; /* only upper/lower, and they leave the delimiter alone */
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
            int rc = regcomp(&op->re, arg, REG_EXTENDED | REG_NOSUB);
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

struct ops *ops_new(const char *const *specs, size_t n, unsigned char delim, char *err,
                    size_t errlen)
{
    err[0] = '\0';
    struct ops *o = calloc(1, sizeof *o + n * sizeof o->op[0]);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct op *op = &o->op[o->n];
        if (compile(specs[i], op, err, errlen) != 0) {
            ops_free(o);
            return NULL;
        }
        if (op->kind == OP_SLEEP || op->kind == OP_SPIN)
            o->slow = true;
        if (op->kind != OP_CAT)
            o->n++;
    }
    bool letter = (delim | 0x20) >= 'a' && (delim | 0x20) <= 'z';
    o->whole_span = !letter;
    for (size_t i = 0; i < o->n; i++)
        if (o->op[i].kind != OP_UPPER && o->op[i].kind != OP_LOWER)
            o->whole_span = false;
    return o;
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

/* Adds `delta` (0x20) to every byte of x in [lo, hi], eight at a time:
 * a byte's high bit after adding shows whether it is >= lo, or > hi;
 * bytes >= 0x80 are left alone. */
static inline uint64_t shift_range8(uint64_t x, unsigned char lo, unsigned char hi, bool up)
{
    uint64_t low7 = x & (0x7f * ONES);
    uint64_t ge_lo = low7 + (uint64_t)(0x80 - lo) * ONES;
    uint64_t gt_hi = low7 + (uint64_t)(0x7f - hi) * ONES;
    uint64_t in = ge_lo & ~gt_hi & ~x & (0x80 * ONES);
    return up ? x + (in >> 2) : x - (in >> 2);
}

/* ASCII upper or lower case over p[0..len), in place. */
static void change_case(char *p, size_t len, bool to_upper)
{
    unsigned char lo = to_upper ? 'a' : 'A', hi = to_upper ? 'z' : 'Z';
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        x = shift_range8(x, lo, hi, !to_upper);
        memcpy(p + i, &x, 8);
    }
    for (; i < len; i++)
        if ((unsigned char)p[i] >= lo && (unsigned char)p[i] <= hi)
            p[i] = (char)(p[i] ^ 0x20);
}

static void wait_until(int64_t deadline)
{
    struct timespec ts = ns_to_timespec(deadline);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void spin_until(int64_t deadline)
{
    while (now_ns() < deadline)
        ;
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

/* Applies the chain to one payload: 1 to keep it, 0 when a filter drops
 * it, -ENOMEM. */
static int apply(struct ops *o, char *p, size_t len)
{
    for (size_t i = 0; i < o->n; i++) {
        const struct op *op = &o->op[i];
        switch (op->kind) {
        case OP_CAT:
            break;
        case OP_UPPER:
        case OP_LOWER:
            change_case(p, len, op->kind == OP_UPPER);
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
            wait_until(now_ns() + op->ns);
            break;
        case OP_SPIN:
            spin_until(now_ns() + op->ns);
            break;
        }
    }
    return 1;
}

int ops_run(struct ops *o, struct batch *b)
{
    char *base = b->chunk->data;
    b->n_done = b->n;
    if (o->n == 0 || o->whole_span) { /* records are one contiguous span */
        b->n_out = b->n;
        size_t first = b->recs[0].off, last = b->n - 1;
        size_t end = b->recs[last].off + batch_rec_size(b, last);
        for (size_t i = 0; i < o->n; i++)
            change_case(base + first, end - first, o->op[i].kind == OP_UPPER);
        return batch_emit(b, base + first, end - first);
    }
    for (size_t i = 0; i < b->n; i++) {
        char *p = base + b->recs[i].off;
        int keep = apply(o, p, b->recs[i].len);
        if (keep < 0)
            return keep;
        if (!keep)
            continue;
        b->n_out++;
        int rc = batch_emit(b, p, batch_rec_size(b, i));
        if (rc)
            return rc;
    }
    return 0;
}
