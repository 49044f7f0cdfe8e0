/* output.h - finished batches on their way to stdout: the sequencer, the
 * writer role, the output buffer, and what was written.
 *
 * There is no writer thread: a worker hands its finished batch to
 * output_deliver, and if that makes it the writer (seq.h) it writes every
 * batch now ready and flushes. A batch's records count as written (done,
 * records_out, bytes_out, latency) only once the buffer holding their
 * bytes has gone out; when stdout fails, the run is stopped (run.h:
 * run_stop_output), and the batches not yet out, and all later ones, are
 * shed instead: dropped after EPIPE, failed after any other error
 * (reported once). Thread-safe. */
#ifndef WEIR_OUTPUT_H
#define WEIR_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct output;
struct queue;
struct reporter;
struct run;
struct shed;
struct sink_target;

struct output_config {
    int fd;                           /* stdout */
    const struct sink_target *target; /* instead of fd (stream.h), or NULL */
    const char *name;                 /* what fails in "weir: NAME: error" ("write stdout") */
    size_t slots;                     /* batches out of the queue at most (queue's inflight) */
    bool ordered;                     /* input order, or as they finish */
    struct queue *queue;              /* released as batches are written; aborted on failure */
    struct shed *shed;                /* for batches that cannot be written */
    struct reporter *rep;
    struct run *run;     /* stopped when stdout fails */
    unsigned char delim; /* the record delimiter */
    bool compress;       /* stdout is one zstd frame */
    int level, threads;  /* its level and libzstd worker threads */
    bool terminal;       /* fd is the progress line's terminal (term.h) */
};

struct output_figures {
    uint64_t done;        /* records processed and written */
    uint64_t records;     /* records written (a filter writes fewer) */
    uint64_t bytes;       /* bytes written (before compression) */
    uint64_t compressed;  /* bytes that reached stdout, when compressing */
    double latency_ms[5]; /* p50, p90, p99, p99.9, max, admitted to written */
};

/* 0 and *out, -ENOMEM, or -EINVAL for a zstd setting libzstd refuses. */
int output_new(const struct output_config *cfg, struct output **out);
void output_free(struct output *o);

/* At the end of the run, after the last output_deliver: ends the zstd
 * frame, so stdout holds a complete .zst. A failure counts as stdout's
 * (reported, or quiet for EPIPE). */
void output_end(struct output *o);

/* Hands over a batch the stage has finished; the records it failed
 * (b->failed, or all when b->n_failed == b->n) go to the rejects. */
void output_deliver(struct output *o, struct batch *b);

/* Does a flush that was put off (with --compress-threads), unless a
 * worker is writing. Any thread, now and then (every OUTPUT_TICK_NS). */
void output_tick(struct output *o);
#define OUTPUT_TICK_NS (20 * 1000 * 1000)

void output_figures(struct output *o, struct output_figures *out); /* any thread */
/* The latency histogram, for export: below[i] = done records written in
 * under bounds_ns[i] (ascending), their count and the sum of their
 * latencies in ns. Any thread. */
void output_latency(struct output *o, const uint64_t *bounds_ns, size_t n, uint64_t *below,
                    uint64_t *count, double *sum_ns);

#endif
