/* cli.c - parses the command line with argtable2, checks every value with
 * parse.c, refuses conflicting flags, and fills struct options. Errors are
 * one line: the flag, what was expected, and a pointer to --help. */
#include "cli.h"

#include <argtable2.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "parse.h"

#define MAX_WORKERS 1024
#define MAX_RECORD_LIMIT (UINT64_C(1) << 30) /* records are addressed with 32 bits */

static const char *const help_tail =
    "\n"
    "Records end with a newline (or -0 / -d). SIZE: 512, 64K, 16M, 1G. DUR: 250us,\n"
    "100ms, 2s, 1.5m, 1h (bare number: seconds). RATE: 100, 100/s, 2.5k/s, 300/m,\n"
    "10/h, 5/15s; byte rates take 10M/s, 512K/s.\n"
    "\n"
    "Policies, when the queue is full or no token is there:\n"
    "  block        wait: stop reading, so the producer blocks (default)\n"
    "  drop         shed the incoming record\n"
    "  drop-oldest  evict the oldest queued record to make room\n"
    "  timeout      wait up to -t, then shed the incoming record\n"
    "  fail         wait up to -t (default 0), then drain and exit 75\n"
    "Operations: cat, upper, lower, grep:ERE, grepv:ERE, sleep:DUR, spin:DUR.\n"
    "\n"
    "Exit status: 0 done, 1 runtime error, 2 usage error, 75 overload (fail),\n"
    "130/143 interrupted, 141 stdout closed.\n";

__attribute__((format(printf, 1, 2))) static enum cli_action usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weir: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see weir --help)\n", stderr);
    va_end(ap);
    return CLI_USAGE;
}

/* Each value parser below returns nonzero after printing the error. */

static int want_size(const struct arg_str *a, const char *flag, uint64_t max, size_t *out)
{
    if (a->count == 0)
        return 0;
    uint64_t v;
    if (parse_size(a->sval[0], &v) != 0 || v > max) {
        usage("%s: expected a size from 1 to %" PRIu64 " bytes such as 64K or 16M, got '%s'", flag,
              max, a->sval[0]);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int want_count(const struct arg_str *a, const char *flag, uint64_t min, uint64_t max,
                      uint64_t *out)
{
    if (a->count == 0)
        return 0;
    if (parse_count(a->sval[0], min, max, out) != 0) {
        usage("%s: expected a whole number from %" PRIu64 " to %" PRIu64 ", got '%s'", flag, min,
              max, a->sval[0]);
        return -1;
    }
    return 0;
}

static int want_rate(const struct arg_str *a, const char *flag, int binary, double *out)
{
    if (a->count == 0)
        return 0;
    if (parse_rate(a->sval[0], binary, out) != 0) {
        usage("%s: expected a rate above zero and at most 1e12/s such as %s, got '%s'", flag,
              binary ? "10M/s or 512K/s" : "100/s, 2.5k/s or 5/15s", a->sval[0]);
        return -1;
    }
    return 0;
}

/* Keeps argtable's first error line, in our format. */
static enum cli_action argtable_error(struct arg_end *end)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return usage("bad command line");
    arg_print_errors(mem, end, "weir");
    fclose(mem);
    char *nl = buf ? strchr(buf, '\n') : NULL;
    if (nl)
        *nl = '\0';
    const char *msg = buf && strncmp(buf, "weir: ", 6) == 0 ? buf + 6 : buf ? buf : "";
    enum cli_action r = usage("%s", msg[0] ? msg : "bad command line");
    free(buf);
    return r;
}

enum cli_action cli_parse(int argc, char **argv, struct options *o)
{
    struct arg_lit *null = arg_lit0("0", "null", "records end with NUL instead of newline");
    struct arg_str *delim =
        arg_str0("d", "delimiter", "C", "record delimiter: a byte or \\n \\t \\r \\0 \\\\ \\xHH");
    struct arg_str *maxrec = arg_str0(NULL, "max-record", "SIZE", "longest record processed (16M)");
    struct arg_str *cap = arg_str0("c", "capacity", "N", "queue bound in records (1024)");
    struct arg_str *capb = arg_str0(NULL, "capacity-bytes", "SIZE", "queue bound in bytes (64M)");
    struct arg_str *jobs = arg_str0("j", "workers,jobs", "N", "worker threads (0: online CPUs)");
    struct arg_lit *unord = arg_lit0("u", "unordered", "write results in completion order");
    struct arg_str *pol = arg_str0("p", "policy", "P", "block|drop|drop-oldest|timeout|fail");
    struct arg_str *tmo = arg_str0("t", "timeout", "DUR", "wait bound for timeout and fail");
    struct arg_str *rej =
        arg_str0(NULL, "rejects", "FILE", "append shed and failed records to FILE");
    struct arg_str *ops =
        arg_strn("e", "op", "OP", 0, OPTIONS_MAX_OPS, "built-in operation, repeatable (cat)");
    struct arg_str *rate = arg_str0("r", "rate", "RATE", "records admitted per second");
    struct arg_str *burst =
        arg_str0(NULL, "burst", "N", "record bucket size (rate/10, at least 1)");
    struct arg_str *brate = arg_str0(NULL, "byte-rate", "RATE", "bytes admitted per second");
    struct arg_str *bburst =
        arg_str0(NULL, "byte-burst", "SIZE", "byte bucket size (byte-rate/10)");
    struct arg_str *stats = arg_str0(NULL, "stats", "FORMAT", "summary at exit: text|json|none");
    struct arg_lit *quiet = arg_lit0("q", "quiet", "no summary (--stats none)");
    struct arg_lit *help = arg_lit0("h", "help", "print this help and exit");
    struct arg_lit *version = arg_lit0("V", "version", "print the version and exit");
    struct arg_end *end = arg_end(8);
    void *table[] = {null, delim, maxrec, cap,   capb,   jobs,  unord, pol,  tmo,     rej,
                     ops,  rate,  burst,  brate, bburst, stats, quiet, help, version, end};
    enum cli_action r = CLI_USAGE;
    if (arg_nullcheck(table) != 0) {
        fputs("weir: out of memory\n", stderr);
        goto out;
    }
    int nerr = arg_parse(argc, argv, table);
    if (help->count) {
        printf("Usage: weir");
        arg_print_syntax(stdout, table, "\n");
        printf("Bounded, rate-limited, parallel record filter with explicit backpressure.\n\n");
        arg_print_glossary_gnu(stdout, table);
        fputs(help_tail, stdout);
        r = CLI_EXIT;
        goto out;
    }
    if (version->count) {
        printf("weir %s\n", WEIR_VERSION);
        r = CLI_EXIT;
        goto out;
    }
    if (nerr) {
        r = argtable_error(end);
        goto out;
    }

    *o = (struct options){
        .delim = '\n',
        .max_record = 16u << 20,
        .capacity = 1024,
        .capacity_bytes = 64u << 20,
        .policy = POLICY_BLOCK,
        .timeout_ns = 0,
        .stats = STATS_TEXT,
    };
    if (null->count && delim->count) {
        r = usage("-0/--null and -d/--delimiter conflict: give one");
        goto out;
    }
    if (null->count)
        o->delim = '\0';
    if (delim->count && parse_delim(delim->sval[0], &o->delim) != 0) {
        r = usage("-d/--delimiter: expected one byte or an escape (\\n \\t \\r \\0 \\\\ \\xHH), "
                  "got '%s'",
                  delim->sval[0]);
        goto out;
    }
    uint64_t v;
    if (want_size(maxrec, "--max-record", MAX_RECORD_LIMIT, &o->max_record) ||
        want_size(capb, "--capacity-bytes", UINT64_C(1) << 40, &o->capacity_bytes))
        goto out;
    if (want_count(cap, "-c/--capacity", 1, UINT64_C(1) << 30, &v))
        goto out;
    if (cap->count)
        o->capacity = (size_t)v;
    v = 0;
    if (want_count(jobs, "-j/--workers", 0, MAX_WORKERS, &v))
        goto out;
    if (v == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n > 0 ? (uint64_t)MIN(n, MAX_WORKERS) : 1;
    }
    o->workers = (unsigned)v;
    o->unordered = unord->count > 0;
    if (pol->count && policy_parse(pol->sval[0], &o->policy) != 0) {
        r = usage("-p/--policy: expected block, drop, drop-oldest, timeout or fail, got '%s'",
                  pol->sval[0]);
        goto out;
    }
    if (tmo->count) {
        if (parse_duration(tmo->sval[0], &o->timeout_ns) != 0) {
            r = usage("-t/--timeout: expected a duration such as 250ms, 2s or 1.5m, got '%s'",
                      tmo->sval[0]);
            goto out;
        }
        if (!pol->count)
            o->policy = POLICY_TIMEOUT;
        else if (o->policy != POLICY_TIMEOUT && o->policy != POLICY_FAIL) {
            r = usage("-t/--timeout applies to the timeout and fail policies, not '%s'",
                      policy_name(o->policy));
            goto out;
        }
    } else if (o->policy == POLICY_TIMEOUT) {
        r = usage("-p timeout needs -t/--timeout DUR (how long to wait before shedding)");
        goto out;
    }
    o->rejects_path = rej->count ? rej->sval[0] : NULL;
    for (int i = 0; i < ops->count; i++)
        o->ops[o->n_ops++] = ops->sval[i];
    if (want_rate(rate, "-r/--rate", 0, &o->rate) ||
        want_rate(brate, "--byte-rate", 1, &o->byte_rate))
        goto out;
    if (burst->count) {
        if (!rate->count) {
            r = usage("--burst needs -r/--rate");
            goto out;
        }
        if (want_count(burst, "--burst", 1, UINT64_C(1) << 40, &v))
            goto out;
        o->burst = (double)v;
    } else {
        o->burst = MAX(1.0, floor(o->rate / 10));
    }
    if (bburst->count) {
        if (!brate->count) {
            r = usage("--byte-burst needs --byte-rate");
            goto out;
        }
        size_t bb;
        if (want_size(bburst, "--byte-burst", UINT64_C(1) << 40, &bb))
            goto out;
        o->byte_burst = (double)bb;
    } else {
        o->byte_burst = MAX(1.0, floor(o->byte_rate / 10));
    }
    if (stats->count) {
        const char *s = stats->sval[0];
        if (strcmp(s, "text") == 0)
            o->stats = STATS_TEXT;
        else if (strcmp(s, "json") == 0)
            o->stats = STATS_JSON;
        else if (strcmp(s, "none") == 0)
            o->stats = STATS_NONE;
        else {
            r = usage("--stats: expected text, json or none, got '%s'", s);
            goto out;
        }
    }
    if (quiet->count)
        o->stats = STATS_NONE;
    r = CLI_RUN;
out:
    arg_freetable(table, sizeof table / sizeof table[0]);
    return r;
}
