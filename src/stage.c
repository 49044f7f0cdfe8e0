/* stage.c - the stage interface and its built-in kind; see stage.h. */
#include "stage.h"

#include <errno.h>
#include <stdlib.h>

#include "ops.h"
#include "options.h"

struct stage {
    const struct stage_kind *kind;
    void *impl;
    bool identity; /* records pass unchanged */
    size_t grain;  /* records per pop, 0: whole batches */
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
    s->grain = ops_slow(ops) ? 1 : 0;
    return 0;
}

/* ---- the interface ---- */

int stage_open(const struct options *o, unsigned worker, struct stage **out, char *msg,
               size_t msglen)
{
    (void)worker; /* external commands will see it as WEIR_WORKER */
    struct stage *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = builtin_open(o, s, msg, msglen);
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

size_t stage_grain(const struct stage *s)
{
    return s->grain;
}
