/* stage.h - what a worker does to a batch, behind one interface, and what
 * the stage kinds share.
 *
 * Each kind of processing is a stage kind in a module of its own: the
 * built-in operations (-e, ops.c), COMMAND once per record (exec.c),
 * COMMAND once per block (--pipe, exec.c), COMMAND as a co-process
 * (coproc.c). A kind says, as it opens, what a worker takes from the
 * queue at a time (its grain). This module knows no kind: the table that
 * picks one from the options is the worker pool's (pool.c), above the
 * kinds, and the kinds use only what is here. A worker opens its own
 * stage, runs it on every batch it takes, and closes it at the end; a
 * stage is used by that one thread. */
#ifndef WEIR_STAGE_H
#define WEIR_STAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct joblog;
struct key_spec;
struct options;
struct run;
struct stage;

/* What a worker gives its stage. */
struct stage_env {
    const struct options *o;
    unsigned worker;            /* 1-based: WEIR_WORKER */
    atomic_int *child;          /* the running child's pid, 0: none (signals are forwarded) */
    const struct run *run;      /* run_signal: nonzero once a stop signal came */
    _Atomic uint64_t *retried;  /* retries made */
    atomic_uint *warnings;      /* failure warnings printed so far (all workers) */
    atomic_bool *hinted;        /* a hint on using COMMAND was given (all workers); or NULL */
    const struct key_spec *key; /* --key: WEIR_KEY for the child (key.h); or NULL */
    struct joblog *joblog;      /* --joblog: a line per job (joblog.h); or NULL */
};

/* What a worker takes from the queue at a time: at most `records` (0: no
 * bound; whole batches for cheap stages, 1 for slow ones, so that all
 * workers share the load) and, when `bytes` is set, as many queued batches
 * as fit in that many bytes, joined into one (a block). */
struct stage_take {
    size_t records;
    size_t bytes;
};

/* What a kind says of a stage it opened. */
struct stage_shape {
    struct stage_take take; /* its grain */
    bool identity;          /* records pass unchanged: one worker moves it all */
};

/* Operations a stage kind provides (all required). */
struct stage_kind {
    const char *name;
    /* Opens a worker's stage into *impl and fills *shape (zeroed before).
     * 0, -EINVAL with a message in msg (bad options), or -errno. */
    int (*open)(const struct stage_env *env, void **impl, struct stage_shape *shape, char *msg,
                size_t msglen);
    /* Fills b's results (segs, n_done, n_out, bytes_out, n_failed);
     * never changes the bytes of b's chunk, which stay as read for the
     * rejects file. Records whose job failed are counted in n_failed and
     * marked in `failed` (or all of them). 0, or -errno for a fault of
     * weir's own (no memory): the batch then fails whole. */
    int (*run)(void *impl, struct batch *b);
    void (*close)(void *impl);
};

/* Opens a stage of `kind`. 0 and *out, -EINVAL with a message in msg
 * (bad options), or -errno. */
int stage_open(const struct stage_kind *kind, const struct stage_env *env, struct stage **out,
               char *msg, size_t msglen);
void stage_close(struct stage *s); /* NULL is fine */

/* Runs the stage on b: 0 or -errno (see stage_kind.run). */
int stage_run(struct stage *s, struct batch *b);

/* True when the stage leaves records as they are: one worker moves it all. */
bool stage_identity(const struct stage *s);
struct stage_take stage_grain(const struct stage *s);

/* Warns about a failed record or block (the first few of the run):
 * "weir: record N: what". */
void stage_warn(const struct stage_env *env, const char *what_fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
