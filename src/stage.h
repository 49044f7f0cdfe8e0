/* stage.h - what a worker does to a batch, behind one interface.
 *
 * Each kind of processing is a stage kind: the built-in operations (-e)
 * today; external commands, co-processes and per-block pipes plug in as
 * further kinds. A worker opens its own stage, runs it on every batch it
 * pops, and closes it at the end; the worker loop knows nothing else.
 * A stage is used by the one worker thread that opened it. */
#ifndef WEIR_STAGE_H
#define WEIR_STAGE_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct options;
struct stage;

/* Operations a stage kind provides (all required). */
struct stage_kind {
    const char *name;
    /* Fills b's results (segs, n_done, n_out, bytes_out, n_failed);
     * never changes the bytes of b's chunk, which stay as read for the
     * rejects file. 0, or -errno: the batch then fails whole. */
    int (*run)(void *impl, struct batch *b);
    void (*close)(void *impl);
};

/* Opens the stage the options ask for, for worker number `worker`
 * (0-based). 0 and *out, -EINVAL with a message in msg (bad options), or
 * -ENOMEM. */
int stage_open(const struct options *o, unsigned worker, struct stage **out, char *msg,
               size_t msglen);
void stage_close(struct stage *s); /* NULL is fine */

/* Runs the stage on b: 0 or -errno (see stage_kind.run). */
int stage_run(struct stage *s, struct batch *b);

/* True when the stage leaves records as they are: one worker moves it all. */
bool stage_identity(const struct stage *s);

/* Records a worker takes from the queue at a time: 0 for whole batches
 * (cheap stages), 1 for slow ones, so that all workers share the load. */
size_t stage_grain(const struct stage *s);

#endif
