/* stats.h - the run summary: a plain snapshot and its text and JSON forms.
 * The pipeline fills the snapshot; this module only formats it. */
#ifndef WEIR_STATS_H
#define WEIR_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The latency histogram's bucket bounds for export (Prometheus "le"). */
#define STATS_LE_N 18
extern const double stats_le_s[STATS_LE_N];

struct stats {
    uint64_t records_in, records_out, records_done;
    uint64_t records_dropped, records_timed_out, records_failed, records_retried;
    uint64_t records_job_timeouts;      /* of records_failed: jobs past --job-timeout */
    uint64_t bytes_in, bytes_out;       /* decompressed, before compression */
    bool compressed_in, compressed_out; /* stdin was zstd, stdout is */
    uint64_t compressed_bytes_in, compressed_bytes_out;
    double elapsed_s;
    uint64_t queue_capacity;       /* records, 0 = no record bound */
    uint64_t queue_capacity_bytes; /* bytes */
    uint64_t queue_max;
    uint64_t queue_records;              /* queued now */
    double queue_mean, queue_full_share; /* records; share of time 0..1 */
    uint64_t in_flight;                  /* read but not yet done, shed or failed */
    bool final;                          /* the summary at exit, not a snapshot */
    unsigned workers;                    /* worker threads that ran */
    unsigned workers_requested;          /* -j */
    double busy_share;                   /* workers' busy time / (workers * elapsed) */
    const char *policy;
    double latency_ms[5];               /* p50 p90 p99 p99.9 max */
    uint64_t latency_below[STATS_LE_N]; /* done records faster than stats_le_s[i] */
    uint64_t latency_count;             /* done records timed */
    double latency_sum_s;
    double limiter_wait_s;        /* time intake waited for tokens */
    uint64_t limiter_waits;       /* records that waited for a token */
    int exit;                     /* exit status of the run (or -1 while running) */
    bool nats;                    /* read from a JetStream consumer (--from) */
    uint64_t records_redelivered; /* messages delivered before, elsewhere or here */
    uint64_t records_returned;    /* messages handed back to the stream unfinished */
    uint64_t nats_reconnects;     /* times the connection to the server came back */
    bool keyed;                   /* --key */
    uint64_t keys_max;            /* most keys in work or waiting for their key at once */
    uint64_t key_waits;           /* records that waited because their key was at its limit */
    uint64_t records_unkeyed;     /* records without the key's field or match */
};

/* Multi-line summary for a person; every line starts with "weir: ". */
void stats_print_text(FILE *f, const struct stats *s);
/* One JSON object on one line. */
void stats_print_json(FILE *f, const struct stats *s);
/* Either, as one piece: no other thread's line lands inside it. */
void stats_print(FILE *f, const struct stats *s, bool json);

/* Bytes for a person: 1.5 KiB, 20.0 MiB. */
void stats_human_bytes(char *buf, size_t len, double v);
/* A count for a person: 999 -> "999", 1234567 -> "1.23M". */
void stats_human_count(char *buf, size_t len, uint64_t n);
/* A count per second for a person: 1234567 -> "1.23M", 0.25 -> "0.25". */
void stats_human_rate(char *buf, size_t len, double v);

#endif
