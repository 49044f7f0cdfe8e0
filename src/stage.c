/* stage.c - the stage interface; see stage.h. Knows no kind. */
#include "stage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

#define STAGE_WARNINGS 10 /* failed records or blocks named on stderr */

struct stage {
    const struct stage_kind *kind;
    void *impl;
    struct stage_shape shape; /* what a worker takes at a time; identity */
};

int stage_open(const struct stage_kind *kind, const struct stage_env *env, struct stage **out,
               char *msg, size_t msglen)
{
    struct stage *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->kind = kind;
    int rc = kind->open(env, &s->impl, &s->shape, msg, msglen);
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
    return s->shape.identity;
}

struct stage_take stage_grain(const struct stage *s)
{
    return s->shape.take;
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
