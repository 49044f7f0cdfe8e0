/* intake.h - where records come from, behind one interface: stdin
 * (intake_stdin.c: read, decompressed, framed) or a JetStream consumer
 * (intake_nats.c, --from: pulled as the queue has room). Either way fresh
 * batches are counted and handed to admission (admit.h); records longer
 * than --max-record fail whole to the rejects.
 *
 * One thread runs intake_main: it reads until the end of input, an error
 * (reported), or a stop of the run (run.h), which wakes it wherever it
 * waits; then it closes the queue. Nothing else stops it. The main thread
 * calls intake_tick now and then (what intake holds is kept alive); any
 * thread reads the figures. */
#ifndef WEIR_INTAKE_H
#define WEIR_INTAKE_H

#include <stdbool.h>
#include <stdint.h>

struct admit;
struct broker;
struct chunk_pool;
struct intake;
struct options;
struct queue;
struct reporter;
struct run;
struct shed;

#define INTAKE_CHUNK (256 * 1024) /* input chunks: the usual read size */

struct intake_config {
    const struct options *o;
    struct run *run;         /* read for a stop; its wake-up ends a wait */
    struct admit *admit;     /* where fresh batches go */
    struct shed *shed;       /* records failed before admission (too long, cut) */
    struct queue *queue;     /* closed at the end; asked for room with --from */
    struct reporter *rep;    /* read errors */
    struct chunk_pool *pool; /* INTAKE_CHUNK chunks (stdin) */
    struct broker *broker;   /* --from: the source, NULL for stdin */
};

/* 0 and *out, or -ENOMEM. cfg's parts outlive the intake. */
int intake_new(const struct intake_config *cfg, struct intake **out);
void intake_free(struct intake *in); /* after the thread is joined; NULL is fine */

/* The reader thread's body (arg: the intake); returns NULL. */
void *intake_main(void *arg);

/* What intake holds is kept alive (--from: in-progress acks). The next
 * call is due at the returned time (ns), NS_FOREVER when never. */
int64_t intake_tick(struct intake *in, int64_t now);

/* stdin's bytes still to read when stdin is a regular file (for an ETA),
 * else 0. Before intake_main starts. */
uint64_t intake_size(const struct intake *in);

struct intake_figures {
    uint64_t records, bytes;   /* read (a record read in part counts once it ends) */
    bool compressed;           /* stdin is zstd */
    uint64_t compressed_bytes; /* of it, consumed so far */
};
void intake_figures(struct intake *in, struct intake_figures *out); /* any thread */

#endif
