/* pool.h - the workers: each opens its own stage, of the kind the options
 * name (the table of kinds is here, above the kinds), then takes work
 * from the queue at the stage's grain, runs it and hands the result to
 * the output, until the queue is drained or aborted.
 *
 * DESIGN: workers (j of them; one for a stage that is the identity) pop
 * batches (whole, record by record for slow stages, or blocks of them
 * joined into one for --pipe), run their stage and deliver (output.h),
 * where the worker whose batch is next in line writes it and whatever
 * else is ready. A stage that fails for a fault of weir's own fails the
 * batch whole. Under --on-error fail the first failed record stops the
 * run (RUN_ERROR). With --key and a COMMAND, workers take a record (or a
 * block of one key) at a time through the queue's gate into per-key lanes
 * (lanes.h), and after each run the next record that waited for its key.
 * The last worker to leave sends SIGUSR2 to the thread
 * that started them, the one that owns the signals. The pool reports its
 * errors itself (report.h). */
#ifndef WEIR_POOL_H
#define WEIR_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct joblog;
struct key_spec;
struct options;
struct output;
struct pool;
struct queue;
struct reporter;
struct run;
struct shed;

/* Opens every worker's stage (only as many as the stage needs), before
 * anything else is set up. 0 and *out; -EINVAL for bad options, -errno
 * otherwise, each reported on rep. o, key (--key, parsed; or NULL), run,
 * rep and joblog (--joblog, which the stages write to; or NULL) outlive
 * the pool. */
int pool_new(const struct options *o, const struct key_spec *key, struct run *run,
             struct reporter *rep, struct joblog *joblog, struct pool **out);
void pool_free(struct pool *p); /* after pool_join; NULL is fine */

/* Workers the stage needs: -j, or 1 for the identity. */
unsigned pool_size(const struct pool *p);

/* Starts the workers on q, delivering to out; what they fail whole goes
 * to shed. Waits (a second at most) until they wait for work, so that
 * intake starts after them. 0, or the error of the thread that did not
 * start (those before it run on). From the thread that owns the signals:
 * the last worker out wakes it with SIGUSR2. */
int pool_start(struct pool *p, struct queue *q, struct output *out, struct shed *shed);

unsigned pool_started(const struct pool *p); /* workers started */
/* When the last worker left (monotonic ns), 0 while one is running or
 * none started. Any thread. */
int64_t pool_finished(const struct pool *p);
void pool_join(struct pool *p); /* the started workers, once they leave */

/* A first stop signal: with COMMAND the records not yet started are shed
 * (the queue is aborted) and the running children get `sig` too. */
void pool_stop(struct pool *p, int sig);

/* The slots the output's sequencer needs (output_config.slots): the
 * workers + 1 out of the queue at once, and with lanes every record that
 * may wait for its key (popped, so numbered, but kept out of work). */
size_t pool_slots(const struct pool *p);

/* Whether output must keep input order: without -u, and with --key and
 * built-in operations, which take batches and keep a key's order by
 * keeping all of it (lanes hand out records one at a time instead). */
bool pool_in_order(const struct pool *p);

struct pool_figures {
    uint64_t busy_ns;   /* time spent in the stage, all workers */
    uint64_t retried;   /* retries the stages made */
    uint64_t key_waits; /* --key: records that waited for their key */
    uint64_t keys_max;  /* --key: most keys in work or waiting at once */
    uint64_t unkeyed;   /* --key: records without the key */
};
void pool_figures(struct pool *p, struct pool_figures *out); /* any thread */

#endif
