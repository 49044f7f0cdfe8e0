/* options.h - the plain settings the command line hands to the pipeline.
 * The cli module (cli_rules.c) fills it; nothing else parses argv. */
#ifndef WEIR_OPTIONS_H
#define WEIR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "stream.h"

enum stats_format { STATS_TEXT, STATS_JSON, STATS_NONE };

/* What the workers run: the built-in operations, or COMMAND in one of
 * three shapes. */
enum stage_mode {
    MODE_OPS,    /* -e operations (the default without COMMAND) */
    MODE_EXEC,   /* COMMAND once per record (-x, the default with COMMAND) */
    MODE_COPROC, /* COMMAND once per worker, one reply per record (--coproc) */
    MODE_PIPE,   /* COMMAND once per block of records (--pipe) */
};

enum on_error { ON_ERROR_SKIP, ON_ERROR_FAIL };

/* The live progress line: none, redrawn in place on a terminal, or plain
 * lines (forced onto a stderr that is not a terminal). */
enum progress { PROGRESS_OFF, PROGRESS_TTY, PROGRESS_LINES };

#define OPTIONS_MAX_OPS 32

/* capacity with no record bound (--pipe without -c): far from overflow in
 * queue.c; the queue is then bounded by capacity_bytes alone. */
#define CAPACITY_NONE (SIZE_MAX / 2)

struct options {
    unsigned char delim;              /* record delimiter byte */
    size_t max_record;                /* longest payload processed, bytes */
    size_t capacity;                  /* queue bound, records (>= 1), or CAPACITY_NONE */
    size_t capacity_bytes;            /* queue bound, bytes (>= 1) */
    unsigned workers;                 /* worker threads (>= 1) */
    bool unordered;                   /* write in completion order */
    enum policy policy;               /* overflow policy */
    int64_t timeout_ns;               /* wait bound for timeout/fail, ns */
    const char *rejects_path;         /* shed/failed records go here, or NULL */
    bool rejects_json;                /* --rejects-format json: a JSON line each */
    const char *ops[OPTIONS_MAX_OPS]; /* built-in operations, in order */
    size_t n_ops;
    enum stats_format stats;    /* summary at exit */
    double rate;                /* records per second, 0 = unlimited */
    double burst;               /* record bucket size */
    double byte_rate;           /* bytes per second, 0 = unlimited */
    double byte_burst;          /* byte bucket size */
    enum stage_mode mode;       /* what the workers run */
    char *const *command;       /* COMMAND and its arguments, NULL-terminated; or NULL */
    size_t block_bytes;         /* --pipe: most bytes in a block (default 1M) */
    size_t block_records;       /* --pipe: most records in a block, 0 = no bound */
    int64_t job_timeout_ns;     /* exec/coproc/pipe: a job's time limit, 0 = none */
    unsigned retries;           /* retries of a failed record or block */
    const char *joblog_path;    /* --joblog FILE: a line per external job, or NULL */
    enum on_error on_error;     /* what a failed record does to the run */
    enum decompress decompress; /* stdin: zstd by its magic, always, never */
    bool compress;              /* -z: stdout is one zstd frame */
    int level;                  /* zstd level (default 3; negative: fast levels) */
    int compress_threads;       /* libzstd worker threads, 0 = none */
    int64_t interval_ns;        /* -i: snapshot period, 0 = none */
    enum progress progress;     /* the live line */
    const char *metrics_path;   /* --metrics FILE, or NULL */
    /* --key: per-key lanes (key.h, lanes.h) */
    const char *key_spec; /* --key SPEC, or NULL: no keys */
    bool has_field_sep;   /* -F given: fields split at field_sep, else by blanks */
    unsigned char field_sep;
    unsigned key_limit; /* records of one key in work at once (>= 1) */
    bool key_sticky;    /* a key always runs on the same worker */
    /* NATS JetStream instead of stdin and stdout (broker.h) */
    const char *nats_url;     /* --nats: server(s), or NULL (no broker) */
    const char *nats_from;    /* --from STREAM/CONSUMER, or NULL: stdin */
    const char *nats_subject; /* --subject: filter of a consumer (or stream) weir creates */
    const char *nats_to;      /* --to SUBJECT, or NULL: stdout */
    const char *nats_rejects; /* --rejects-subject, or NULL */
    const char *nats_creds;   /* --nats-creds FILE, or NULL */
    const char *nats_ca;      /* --nats-ca FILE: TLS, trusting these CAs; or NULL */
    const char *nats_cert;    /* --nats-cert FILE: TLS client certificate, or NULL */
    const char *nats_key;     /* --nats-key FILE: its private key (with nats_cert) */
    int64_t nats_timeout_ns;  /* --nats-timeout: server gone this long is an error */
    int64_t ack_wait_ns;      /* --ack-wait of a consumer weir creates */
    int64_t idle_exit_ns;     /* --idle-exit: end after no message this long, 0 = never */
};

#define LEVEL_MIN (-100) /* zstd --fast=100 */
#define LEVEL_MAX 19     /* above: zstd's --ultra levels, not offered */
#define COMPRESS_THREADS_MAX 200
#define KEY_LIMIT_MAX 1024

#endif
