/* stage.c - the stage interface and its built-in kind; see stage.h. */
#include "stage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "coproc.h"
#include "exec.h"
#include "ops.h"
#include "options.h"
#include "report.h"

#define STAGE_WARNINGS 10 /* failed records or blocks named on stderr */
#define COPROC_TAKE 64    /* records a co-process worker takes at a time */

struct stage {
    const struct stage_kind *kind;
    void *impl;
    bool identity;          /* records pass unchanged */
    struct stage_take take; /* what a worker takes at a time */
};

/* ---- built-in operations (-e) ---- */

static int builtin_run(void *impl, struct batch *b)
{
    return ops_run(impl, b);
}

static void builtin_close(void *impl)
{
    ops_free(impl);
}

static const struct stage_kind builtin = {"builtin", builtin_run, builtin_close};

static int builtin_open(const struct options *o, struct stage *s, char *msg, size_t msglen)
{
    struct ops *ops;
    int rc = ops_new(o->ops, o->n_ops, o->delim, &ops, msg, msglen);
    if (rc)
        return rc;
    s->kind = &builtin;
    s->impl = ops;
    s->identity = ops_identity(ops);
    s->take.records = ops_slow(ops) ? 1 : 0;
    return 0;
}

/* ---- the interface ---- */

int stage_open(const struct stage_env *env, struct stage **out, char *msg, size_t msglen)
{
    const struct options *o = env->o;
    struct stage *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc;
    switch (o->mode) {
    case MODE_EXEC:
        s->kind = &exec_kind;
        s->take.records = 1; /* a child per record: share them out one by one */
        rc = exec_open(env, false, &s->impl);
        break;
    case MODE_PIPE:
        s->kind = &exec_kind;
        s->take = (struct stage_take){o->block_records, o->block_bytes};
        rc = exec_open(env, true, &s->impl);
        break;
    case MODE_COPROC:
        s->kind = &coproc_kind;
        s->take.records = COPROC_TAKE;
        rc = coproc_open(env, &s->impl, msg, msglen);
        break;
    default:
        rc = builtin_open(o, s, msg, msglen);
        break;
    }
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void stage_close(struct stage *s)
{
    if (!s)
        return;
    s->kind->close(s->impl);
    free(s);
}

int stage_run(struct stage *s, struct batch *b)
{
    return s->kind->run(s->impl, b);
}

bool stage_identity(const struct stage *s)
{
    return s->identity;
}

struct stage_take stage_grain(const struct stage *s)
{
    return s->take;
}

void stage_warn(const struct stage_env *env, const char *fmt, ...)
{
    unsigned n = atomic_fetch_add(env->warnings, 1);
    if (n >= STAGE_WARNINGS)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report_warning("%s%s", msg, n + 1 == STAGE_WARNINGS ? " (further ones not reported)" : "");
}
