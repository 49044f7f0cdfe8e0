/* options.h - the plain settings the command line hands to the pipeline.
 * cli.c fills it; nothing else parses argv. */
#ifndef WEIR_OPTIONS_H
#define WEIR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum stats_format { STATS_TEXT, STATS_JSON, STATS_NONE };

#define OPTIONS_MAX_OPS 32

struct options {
    unsigned char delim;              /* record delimiter byte */
    size_t max_record;                /* longest payload processed, bytes */
    size_t capacity;                  /* queue bound, records (>= 1) */
    size_t capacity_bytes;            /* queue bound, bytes (>= 1) */
    unsigned workers;                 /* worker threads (>= 1) */
    bool unordered;                   /* write in completion order */
    enum policy policy;               /* overflow policy */
    int64_t timeout_ns;               /* wait bound for timeout/fail, ns */
    const char *rejects_path;         /* shed/failed records go here, or NULL */
    const char *ops[OPTIONS_MAX_OPS]; /* built-in operations, in order */
    size_t n_ops;
    enum stats_format stats; /* summary at exit */
    double rate;             /* records per second, 0 = unlimited */
    double burst;            /* record bucket size */
    double byte_rate;        /* bytes per second, 0 = unlimited */
    double byte_burst;       /* byte bucket size */
};

#endif
