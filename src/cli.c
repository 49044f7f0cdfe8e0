/* cli.c - parses the command line with argtable2, checks every value with
 * parse.c, refuses conflicting flags, and fills struct options. Errors are
 * one line: the flag, what was expected, and a pointer to --help. COMMAND
 * (from the first non-option, or after --) is split off before argtable2
 * sees argv, and looked up before any input is read. */
#include "cli.h"

#include <argtable2.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "parse.h"
#include "suggest.h"
#include "term.h"

#define MAX_WORKERS 1024
#define MAX_RECORD_LIMIT (UINT64_C(1) << 30) /* records are addressed with 32 bits */
#define MAX_RETRIES 1000
#define DEFAULT_PATH "/usr/bin:/bin" /* COMMAND's search path when PATH is unset */

static const char *const help_tail =
    "Records end with a newline (or -0 / -d). SIZE: 512, 64K, 16M, 1G (K = 1024).\n"
    "N: 500, 10k, 2.5k, 1M (k = 1000). DUR: 250us, 100ms, 2s, 1.5m, 1h (bare\n"
    "number: seconds). RATE: 100, 100/s, 2.5k/s, 300/m, 10/h, 5/15s; byte rates\n"
    "take 10M/s, 512K/s.\n"
    "\n"
    "Policies, when the queue is full or no token is there:\n"
    "  block        wait: stop reading, so the producer blocks (default)\n"
    "  drop         shed the incoming record\n"
    "  drop-oldest  evict the oldest queued record to make room\n"
    "  timeout      wait up to -t, then shed the incoming record\n"
    "  fail         wait up to -t (default 0), then drain and exit 75\n"
    "Operations: cat, upper, lower, grep:ERE, grepv:ERE, sleep:DUR, spin:DUR.\n"
    "\n"
    "COMMAND (everything from the first non-option, or after --) runs as:\n"
    "  -x, --exec   once per record (the default)\n"
    "  --coproc     once per worker, kept running; one reply per record\n"
    "  --pipe       once per block of records (--block, --block-records)\n"
    "\n"
    "zstd: input that starts with a zstd frame is decompressed; -z compresses\n"
    "stdout; a rejects FILE ending in .zst is written compressed.\n"
    "\n"
    "NATS JetStream: --from reads messages (one record each) from a durable pull\n"
    "consumer instead of stdin, and acks each once its outcome is final; --to\n"
    "publishes results instead of writing stdout.\n"
    "\n"
    "Exit status: 0 done, 1 runtime error, 2 usage error, 75 overload (fail),\n"
    "126 COMMAND not executable, 127 COMMAND not found, 130/143 interrupted,\n"
    "141 stdout closed.\n";

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
    if (!mem) {
        fputs("weir: out of memory\n", stderr);
        return CLI_FAIL;
    }
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

/* The argtable entries, one per flag; the table built from them in cli_parse
 * keeps this order, which is the order of the --help glossary. */
struct args {
    struct arg_lit *null;
    struct arg_str *delim, *maxrec, *cap, *capb, *jobs;
    struct arg_lit *unord;
    struct arg_str *pol, *tmo, *rej, *ops;
    struct arg_lit *exec, *coproc, *pipe;
    struct arg_str *block, *blockr, *jtmo, *retries, *onerr;
    struct arg_str *decomp;
    struct arg_lit *comp;
    struct arg_str *level, *cthreads;
    struct arg_lit *force;
    struct arg_str *rate, *burst, *brate, *bburst, *stats, *interval;
    struct arg_lit *progress, *noprogress;
    struct arg_str *metrics;
    struct arg_str *nats, *from, *subject, *to, *rejsubj, *creds, *ca, *cert, *key, *ntmo, *ackwait,
        *idle;
    struct arg_lit *quiet, *help, *version;
    struct arg_end *end;
};

/* Any of these may be NULL when out of memory: cli_parse checks the table. */
static void args_new(struct args *a)
{
    a->null = arg_lit0("0", "null", "records end with NUL instead of newline");
    a->delim =
        arg_str0("d", "delimiter", "C", "record delimiter: a byte or \\n \\t \\r \\0 \\\\ \\xHH");
    a->maxrec = arg_str0(NULL, "max-record", "SIZE", "longest record processed (16M)");
    a->cap = arg_str0("c", "capacity", "N", "queue bound in records (1024)");
    a->capb = arg_str0(NULL, "capacity-bytes", "SIZE", "queue bound in bytes (64M)");
    a->jobs = arg_str0("j", "workers,jobs", "N", "worker threads (0: online CPUs)");
    a->unord = arg_lit0("u", "unordered", "write results in completion order");
    a->pol = arg_str0("p", "policy", "P", "block|drop|drop-oldest|timeout|fail");
    a->tmo = arg_str0("t", "timeout", "DUR", "wait bound for timeout and fail");
    a->rej = arg_str0(NULL, "rejects", "FILE", "append shed and failed records to FILE");
    a->ops = arg_strn("e", "op", "OP", 0, OPTIONS_MAX_OPS, "built-in operation, repeatable (cat)");
    a->exec = arg_lit0("x", "exec", "run COMMAND once per record (default)");
    a->coproc = arg_lit0(NULL, "coproc", "run COMMAND once per worker");
    a->pipe = arg_lit0(NULL, "pipe", "run COMMAND once per block of records");
    a->block = arg_str0(NULL, "block", "SIZE", "--pipe: most bytes in a block (1M)");
    a->blockr = arg_str0(NULL, "block-records", "N", "--pipe: most records in a block (no bound)");
    a->jtmo = arg_str0(NULL, "job-timeout", "DUR", "time limit of one COMMAND job (none)");
    a->retries = arg_str0(NULL, "retries", "N", "retries of a failed job (0)");
    a->onerr = arg_str0(NULL, "on-error", "skip|fail", "after a failed job: go on, or stop (skip)");
    a->decomp =
        arg_str0(NULL, "decompress", "WHEN", "zstd input: auto|yes|no (auto: by its magic)");
    a->comp = arg_lit0("z", "compress", "write zstd to stdout");
    a->level = arg_str0(NULL, "level", "N", "-z: zstd level, -100 (fastest) to 19 (3)");
    a->cthreads = arg_str0(NULL, "compress-threads", "N", "-z: zstd worker threads (0)");
    a->force = arg_lit0("f", "force", "-z: compress even onto a terminal");
    a->rate = arg_str0("r", "rate", "RATE", "records admitted per second");
    a->burst = arg_str0(NULL, "burst", "N", "record bucket size (rate/10, at least 1)");
    a->brate = arg_str0(NULL, "byte-rate", "RATE", "bytes admitted per second");
    a->bburst = arg_str0(NULL, "byte-burst", "SIZE", "byte bucket size (byte-rate/10)");
    a->stats = arg_str0(NULL, "stats", "FORMAT", "summary at exit: text|json|none");
    a->interval = arg_str0("i", "interval", "DUR", "also print a snapshot every DUR");
    a->progress = arg_lit0(NULL, "progress", "progress line (default: stderr a tty, stdout not)");
    a->noprogress = arg_lit0(NULL, "no-progress", "no progress line");
    a->metrics = arg_str0(NULL, "metrics", "FILE", "Prometheus metrics, rewritten every interval");
    a->nats = arg_str0(NULL, "nats", "URL", "NATS server(s), comma-separated");
    a->from = arg_str0(NULL, "from", "S/C", "read stream S's consumer C, not stdin");
    a->subject = arg_str0(NULL, "subject", "SUBJ", "--from: filter of a consumer weir creates");
    a->to = arg_str0(NULL, "to", "SUBJECT", "publish results to JetStream, not stdout");
    a->rejsubj = arg_str0(NULL, "rejects-subject", "S", "--from: publish shed records to S");
    a->creds = arg_str0(NULL, "nats-creds", "FILE", "NATS user credentials file");
    a->ca = arg_str0(NULL, "nats-ca", "FILE", "NATS over TLS, trusting the CAs in FILE");
    a->cert = arg_str0(NULL, "nats-cert", "FILE", "NATS TLS client certificate (PEM)");
    a->key = arg_str0(NULL, "nats-key", "FILE", "private key of --nats-cert (PEM)");
    a->ntmo = arg_str0(NULL, "nats-timeout", "DUR", "NATS server gone this long: exit 1 (30s)");
    a->ackwait =
        arg_str0(NULL, "ack-wait", "DUR", "--from: ack wait of a consumer weir creates (30s)");
    a->idle = arg_str0(NULL, "idle-exit", "DUR", "--from: end after DUR with nothing pending");
    a->quiet = arg_lit0("q", "quiet", "no summary (--stats none)");
    a->help = arg_lit0("h", "help", "print this help and exit");
    a->version = arg_lit0("V", "version", "print the version and exit");
    a->end = arg_end(8);
}

/* Prints s wrapped before `width`, breaking only between bracketed
 * items, continued lines indented by `indent`. */
static void print_wrapped(const char *s, size_t col, size_t indent, size_t width)
{
    while (*s) {
        size_t n = 0;
        for (int depth = 0; s[n] && !(depth == 0 && n > 0 && s[n] == ' '); n++)
            depth += s[n] == '[' ? 1 : s[n] == ']' ? -1 : 0;
        if (col + n >= width && col > indent) {
            printf("\n%*s", (int)indent, "");
            col = indent;
            while (*s == ' ')
                s++, n--;
        }
        fwrite(s, 1, n, stdout);
        col += n;
        s += n;
    }
    putchar('\n');
}

static void print_help(void **table)
{
    char *syntax = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&syntax, &len);
    if (mem) {
        arg_print_syntax(mem, table, " [--] [COMMAND [ARG...]]");
        fclose(mem);
    }
    printf("Usage: weir");
    print_wrapped(syntax ? syntax : "", strlen("Usage: weir"), 6, 80);
    free(syntax);
    printf("Bounded, rate-limited, parallel record filter with explicit backpressure.\n\n");
    arg_print_glossary_gnu(stdout, table);
    fputs(help_tail, stdout);
}

/* Every field a flag does not set; the rest (rates, workers, ops) start at zero. */
static void set_defaults(struct options *o)
{
    *o = (struct options){
        .delim = '\n',
        .max_record = 16u << 20,
        .capacity = 1024,
        .capacity_bytes = 64u << 20,
        .policy = POLICY_BLOCK,
        .timeout_ns = 0,
        .stats = STATS_TEXT,
        .mode = MODE_OPS,
        .block_bytes = 1u << 20,
        .on_error = ON_ERROR_SKIP,
        .decompress = DECOMPRESS_AUTO,
        .level = 3,
        .nats_timeout_ns = 30 * NS_PER_SEC,
        .ack_wait_ns = 30 * NS_PER_SEC,
    };
}

/* The parse_ and check_ functions below each return nonzero after printing
 * the error. fill_options calls them in a fixed order, which decides the one
 * error reported when several flags are wrong. */

static int check_null_delim(const struct args *a)
{
    if (a->null->count && a->delim->count) {
        usage("-0/--null and -d/--delimiter conflict: give one");
        return -1;
    }
    return 0;
}

static int parse_records(const struct args *a, struct options *o)
{
    if (a->null->count)
        o->delim = '\0';
    if (a->delim->count && parse_delim(a->delim->sval[0], &o->delim) != 0) {
        usage("-d/--delimiter: expected one byte or an escape (\\n \\t \\r \\0 \\\\ \\xHH), "
              "got '%s'",
              a->delim->sval[0]);
        return -1;
    }
    return want_size(a->maxrec, "--max-record", MAX_RECORD_LIMIT, &o->max_record);
}

static int parse_queue(const struct args *a, struct options *o)
{
    uint64_t v;
    if (want_size(a->capb, "--capacity-bytes", UINT64_C(1) << 40, &o->capacity_bytes))
        return -1;
    if (want_count(a->cap, "-c/--capacity", 1, UINT64_C(1) << 30, &v))
        return -1;
    if (a->cap->count)
        o->capacity = (size_t)v;
    v = 0;
    if (want_count(a->jobs, "-j/--workers", 0, MAX_WORKERS, &v))
        return -1;
    if (v == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n > 0 ? (uint64_t)MIN(n, MAX_WORKERS) : 1;
    }
    o->workers = (unsigned)v;
    o->unordered = a->unord->count > 0;
    return 0;
}

static int parse_policy(const struct args *a, struct options *o)
{
    if (a->pol->count && policy_parse(a->pol->sval[0], &o->policy) != 0) {
        usage("-p/--policy: expected block, drop, drop-oldest, timeout or fail, got '%s'",
              a->pol->sval[0]);
        return -1;
    }
    if (a->tmo->count && parse_duration(a->tmo->sval[0], &o->timeout_ns) != 0) {
        usage("-t/--timeout: expected a duration such as 250ms, 2s or 1.5m, got '%s'",
              a->tmo->sval[0]);
        return -1;
    }
    return 0;
}

/* -t alone implies -p timeout; a -t that no policy would use, or a timeout
 * policy with no bound, is refused rather than guessed at. */
static int check_timeout_policy(const struct args *a, struct options *o)
{
    if (a->tmo->count) {
        if (!a->pol->count)
            o->policy = POLICY_TIMEOUT;
        else if (o->policy != POLICY_TIMEOUT && o->policy != POLICY_FAIL) {
            usage("-t/--timeout applies to the timeout and fail policies, not '%s'",
                  policy_name(o->policy));
            return -1;
        }
    } else if (o->policy == POLICY_TIMEOUT) {
        usage("-p timeout needs -t/--timeout DUR (how long to wait before shedding)");
        return -1;
    }
    return 0;
}

static int parse_rates(const struct args *a, struct options *o)
{
    return want_rate(a->rate, "-r/--rate", 0, &o->rate) ||
           want_rate(a->brate, "--byte-rate", 1, &o->byte_rate);
}

/* A bucket size without its rate would be silently ignored, so it is refused;
 * each is checked just before its own value, as it always was. */
static int parse_bursts(const struct args *a, struct options *o)
{
    uint64_t v;
    if (a->burst->count) {
        if (!a->rate->count) {
            usage("--burst needs -r/--rate");
            return -1;
        }
        if (want_count(a->burst, "--burst", 1, UINT64_C(1) << 40, &v))
            return -1;
        o->burst = (double)v;
    } else {
        o->burst = MAX(1.0, floor(o->rate / 10));
    }
    if (a->bburst->count) {
        if (!a->brate->count) {
            usage("--byte-burst needs --byte-rate");
            return -1;
        }
        size_t bb;
        if (want_size(a->bburst, "--byte-burst", UINT64_C(1) << 40, &bb))
            return -1;
        o->byte_burst = (double)bb;
    } else {
        o->byte_burst = MAX(1.0, floor(o->byte_rate / 10));
    }
    return 0;
}

static int parse_output(const struct args *a, struct options *o)
{
    o->rejects_path = a->rej->count ? a->rej->sval[0] : NULL;
    for (int i = 0; i < a->ops->count; i++)
        o->ops[o->n_ops++] = a->ops->sval[i];
    if (a->stats->count) {
        const char *s = a->stats->sval[0];
        if (strcmp(s, "text") == 0)
            o->stats = STATS_TEXT;
        else if (strcmp(s, "json") == 0)
            o->stats = STATS_JSON;
        else if (strcmp(s, "none") == 0)
            o->stats = STATS_NONE;
        else {
            usage("--stats: expected text, json or none, got '%s'", s);
            return -1;
        }
    }
    if (a->quiet->count)
        o->stats = STATS_NONE;
    return 0;
}

/* What shows while the run goes on. The progress line is on by default
 * only for a person watching: stderr a terminal, no -q, and stdout
 * elsewhere (output scrolling by on that terminal is what they watch). */
static int parse_watch(const struct args *a, struct options *o)
{
    if (a->interval->count) {
        const char *d = a->interval->sval[0];
        if (parse_duration(d, &o->interval_ns) != 0 || o->interval_ns <= 0) {
            usage("-i/--interval: expected a duration above zero such as 100ms or 5s, got '%s'", d);
            return -1;
        }
    }
    if (a->progress->count && a->noprogress->count) {
        usage("--progress and --no-progress conflict: give one");
        return -1;
    }
    bool tty = isatty(STDERR_FILENO);
    if (a->progress->count)
        o->progress = tty ? PROGRESS_TTY : PROGRESS_LINES;
    else if (!a->noprogress->count && tty && !a->quiet->count &&
             !term_same(STDOUT_FILENO, STDERR_FILENO))
        o->progress = PROGRESS_TTY;
    o->metrics_path = a->metrics->count ? a->metrics->sval[0] : NULL;
    return 0;
}

/* COMMAND and the shape it runs in. A shape flag without COMMAND, or -e
 * with one, would be ignored, so it is refused. */
static int parse_mode(const struct args *a, char *const *cmd, struct options *o)
{
    const struct arg_lit *lit[] = {a->exec, a->coproc, a->pipe};
    static const char *const name[] = {"-x/--exec", "--coproc", "--pipe"};
    static const enum stage_mode mode[] = {MODE_EXEC, MODE_COPROC, MODE_PIPE};
    int given = -1;
    for (int i = 0; i < 3; i++) {
        if (!lit[i]->count)
            continue;
        if (given >= 0) {
            usage("%s and %s conflict: give one", name[given], name[i]);
            return -1;
        }
        given = i;
    }
    if (given >= 0 && !cmd) {
        usage("%s needs a COMMAND", name[given]);
        return -1;
    }
    if (cmd && a->ops->count) {
        usage("-e/--op cannot be combined with a COMMAND");
        return -1;
    }
    o->command = cmd;
    o->mode = !cmd ? MODE_OPS : given >= 0 ? mode[given] : MODE_EXEC;
    return 0;
}

/* Flags that mean nothing without `what`: the first one given (count[i]
 * above 0) is refused, as it would be silently ignored. -1 then, else 0. */
static int refuse_without(const char *what, const int *count, const char *const *flag, int n)
{
    for (int i = 0; i < n; i++) {
        if (count[i]) {
            usage("%s needs %s", flag[i], what);
            return -1;
        }
    }
    return 0;
}

/* --block and --block-records shape --pipe's blocks and nothing else. With
 * --pipe the queue is bounded by bytes unless -c is given: a block may
 * hold many more records than the record bound's default. */
static int parse_blocks(const struct args *a, struct options *o)
{
    uint64_t v;
    if (o->mode != MODE_PIPE)
        return refuse_without("--pipe", (const int[]){a->block->count, a->blockr->count},
                              (const char *const[]){"--block", "--block-records"}, 2);
    if (want_size(a->block, "--block", UINT64_C(1) << 40, &o->block_bytes))
        return -1;
    if (want_count(a->blockr, "--block-records", 1, UINT64_C(1) << 30, &v))
        return -1;
    if (a->blockr->count)
        o->block_records = (size_t)v;
    if (!a->cap->count)
        o->capacity = CAPACITY_NONE;
    return 0;
}

/* How a COMMAND job may fail, and what that does; only with a COMMAND. */
static int parse_jobs(const struct args *a, struct options *o)
{
    uint64_t v = 0;
    if (!o->command)
        return refuse_without("a COMMAND",
                              (const int[]){a->jtmo->count, a->retries->count, a->onerr->count},
                              (const char *const[]){"--job-timeout", "--retries", "--on-error"}, 3);
    if (a->jtmo->count) {
        const char *d = a->jtmo->sval[0];
        int64_t ns;
        if (parse_duration(d, &ns) != 0 || ns <= 0) {
            usage("--job-timeout: expected a duration above zero such as 250ms, 2s or 1.5m, "
                  "got '%s'",
                  d);
            return -1;
        }
        o->job_timeout_ns = ns;
    }
    if (want_count(a->retries, "--retries", 0, MAX_RETRIES, &v))
        return -1;
    o->retries = (unsigned)v;
    if (a->onerr->count) {
        const char *s = a->onerr->sval[0];
        if (strcmp(s, "skip") == 0)
            o->on_error = ON_ERROR_SKIP;
        else if (strcmp(s, "fail") == 0)
            o->on_error = ON_ERROR_FAIL;
        else {
            usage("--on-error: expected skip or fail, got '%s'", s);
            return -1;
        }
    }
    return 0;
}

/* zstd on either end. --level, --compress-threads and -f only mean
 * something with -z, so they are refused without it; -z onto a terminal
 * is refused unless forced, as zstd does. */
static int parse_zstd(const struct args *a, struct options *o)
{
    if (a->decomp->count) {
        static const char *const name[] = {"auto", "yes", "no"};
        static const enum decompress mode[] = {DECOMPRESS_AUTO, DECOMPRESS_YES, DECOMPRESS_NO};
        int i = 0;
        while (i < 3 && strcmp(a->decomp->sval[0], name[i]) != 0)
            i++;
        if (i == 3) {
            usage("--decompress: expected auto, yes or no, got '%s'", a->decomp->sval[0]);
            return -1;
        }
        o->decompress = mode[i];
    }
    o->compress = a->comp->count > 0;
    if (!o->compress)
        return refuse_without(
            "-z/--compress", (const int[]){a->level->count, a->cthreads->count, a->force->count},
            (const char *const[]){"--level", "--compress-threads", "-f/--force"}, 3);
    uint64_t v = 0;
    if (a->level->count) {
        const char *s = a->level->sval[0];
        bool neg = s[0] == '-';
        if (parse_count(s + neg, neg ? 1 : 0, neg ? (uint64_t)-LEVEL_MIN : LEVEL_MAX, &v) != 0) {
            usage("--level: expected a zstd level from %d to %d, got '%s'", LEVEL_MIN, LEVEL_MAX,
                  s);
            return -1;
        }
        o->level = neg ? -(int)v : (int)v;
    }
    v = 0;
    if (want_count(a->cthreads, "--compress-threads", 0, COMPRESS_THREADS_MAX, &v))
        return -1;
    o->compress_threads = (int)v;
    if (!a->force->count && isatty(STDOUT_FILENO)) {
        usage("-z: stdout is a terminal; not writing compressed data to it (-f forces it)");
        return -1;
    }
    return 0;
}

static int want_duration(const struct arg_str *a, const char *flag, int64_t *ns)
{
    if (!a->count)
        return 0;
    const char *d = a->sval[0];
    if (parse_duration(d, ns) != 0 || *ns <= 0) {
        usage("%s: expected a duration above zero such as 500ms or 30s, got '%s'", flag, d);
        return -1;
    }
    return 0;
}

/* A JetStream stream or consumer name: no dots, wildcards, slashes or
 * spaces, as the server demands. */
static bool good_name(const char *s, size_t len)
{
    if (len == 0 || len > 200)
        return false;
    for (size_t i = 0; i < len; i++)
        if (strchr(". *>/\\", s[i]) || (unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* --from reads a consumer, --to and --rejects-subject publish: they need
 * --nats, which needs one of them; -z and --rejects do not mix with the
 * subjects that replace them. */
static int parse_nats(const struct args *a, struct options *o)
{
    const int with_nats[] = {a->from->count,    a->to->count,   a->rejsubj->count,
                             a->creds->count,   a->ca->count,   a->cert->count,
                             a->key->count,     a->ntmo->count, a->subject->count,
                             a->ackwait->count, a->idle->count};
    static const char *const nats_flags[] = {"--from",       "--to",           "--rejects-subject",
                                             "--nats-creds", "--nats-ca",      "--nats-cert",
                                             "--nats-key",   "--nats-timeout", "--subject",
                                             "--ack-wait",   "--idle-exit"};
    const int n = (int)(sizeof nats_flags / sizeof *nats_flags), from_only = 3; /* the last 3 */
    if (!a->nats->count)
        return refuse_without("--nats URL", with_nats, nats_flags, n);
    o->nats_url = a->nats->sval[0];
    if (!a->from->count && !a->to->count) {
        usage("--nats needs --from STREAM/CONSUMER or --to SUBJECT");
        return -1;
    }
    if (!a->from->count &&
        refuse_without("--from", with_nats + n - from_only, nats_flags + n - from_only, from_only))
        return -1;
    if (a->cert->count != a->key->count) {
        usage("--nats-cert and --nats-key go together: give both");
        return -1;
    }
    if (a->from->count) {
        const char *f = o->nats_from = a->from->sval[0], *slash = strchr(f, '/');
        if (!slash || !good_name(f, (size_t)(slash - f)) ||
            !good_name(slash + 1, strlen(slash + 1))) {
            usage("--from: expected STREAM/CONSUMER (names without . * > / or spaces), got '%s'",
                  f);
            return -1;
        }
        if (a->decomp->count) {
            usage("--decompress reads stdin: not with --from");
            return -1;
        }
    }
    o->nats_subject = a->subject->count ? a->subject->sval[0] : NULL;
    o->nats_to = a->to->count ? a->to->sval[0] : NULL;
    o->nats_rejects = a->rejsubj->count ? a->rejsubj->sval[0] : NULL;
    o->nats_creds = a->creds->count ? a->creds->sval[0] : NULL;
    o->nats_ca = a->ca->count ? a->ca->sval[0] : NULL;
    o->nats_cert = a->cert->count ? a->cert->sval[0] : NULL;
    o->nats_key = a->key->count ? a->key->sval[0] : NULL;
    if (o->nats_to && o->compress) {
        usage("-z/--compress and --to conflict: messages are not compressed");
        return -1;
    }
    if (o->nats_rejects && o->rejects_path) {
        usage("--rejects and --rejects-subject conflict: give one");
        return -1;
    }
    if (o->nats_rejects && !o->nats_from) {
        usage("--rejects-subject needs --from");
        return -1;
    }
    return want_duration(a->ntmo, "--nats-timeout", &o->nats_timeout_ns) ||
                   want_duration(a->ackwait, "--ack-wait", &o->ack_wait_ns) ||
                   want_duration(a->idle, "--idle-exit", &o->idle_exit_ns)
               ? -1
               : 0;
}

/* The cross-flag checks sit right after the values they compare are parsed,
 * so -0 -d conflict before -d's value is looked at, -t against -p once
 * both are known, and COMMAND's flags once its shape is. */
static enum cli_action fill_options(const struct args *a, char *const *cmd, struct options *o)
{
    set_defaults(o);
    if (check_null_delim(a) || parse_records(a, o) || parse_queue(a, o) || parse_policy(a, o) ||
        check_timeout_policy(a, o) || parse_rates(a, o) || parse_bursts(a, o) ||
        parse_output(a, o) || parse_mode(a, cmd, o) || parse_blocks(a, o) || parse_jobs(a, o) ||
        parse_zstd(a, o) || parse_watch(a, o) || parse_nats(a, o))
        return CLI_USAGE;
    return CLI_RUN;
}

/* The entry of the table that long option NAME (up to '=' or the end)
 * stands for: an exact match, or the only entry it is a prefix of, as
 * getopt_long takes it. NULL when unknown or ambiguous. */
static const struct arg_hdr *long_option_n(void *const *table, const char *name, int *nprefix)
{
    size_t len = strcspn(name, "=");
    const struct arg_hdr *prefix = NULL;
    *nprefix = 0;
    for (int i = 0;; i++) {
        const struct arg_hdr *h = table[i];
        if (h->flag & ARG_TERMINATOR)
            break;
        for (const char *l = h->longopts; l && *l;) { /* "workers,jobs" */
            size_t n = strcspn(l, ",");
            if (len == n && strncmp(l, name, len) == 0)
                return h;
            if (len < n && strncmp(l, name, len) == 0) {
                *nprefix += prefix != h;
                prefix = h;
            }
            l += n + (l[n] == ',');
        }
    }
    return *nprefix == 1 ? prefix : NULL;
}

static const struct arg_hdr *long_option(void *const *table, const char *name)
{
    int n;
    return long_option_n(table, name, &n);
}

/* The entry of the table that short option C stands for, NULL if none. */
static const struct arg_hdr *short_option(void *const *table, char c)
{
    for (int i = 0;; i++) {
        const struct arg_hdr *h = table[i];
        if (h->flag & ARG_TERMINATOR)
            return NULL;
        if (h->shortopts && strchr(h->shortopts, c))
            return h;
    }
}

/* An abbreviated long option that stands for several (--rej): named in
 * the usage error, as argtable2 calls it only invalid. */
static bool ambiguous_option(void *const *table, int nopts, char **argv)
{
    for (int i = 1; i < nopts; i++) {
        int n = 0;
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] &&
            !long_option_n(table, argv[i] + 2, &n) && n > 1) {
            usage("option \"%.*s\" is ambiguous: give more of its name", (int)strcspn(argv[i], "="),
                  argv[i]);
            return true;
        }
    }
    return false;
}

/* How many of the arguments after option ARG are its value: 0 or 1, as
 * getopt counts. An unknown option takes none; arg_parse reports it. */
static int option_values(void *const *table, const char *arg)
{
    if (arg[1] == '-') {
        const struct arg_hdr *h = long_option(table, arg + 2);
        return h && (h->flag & ARG_HASVALUE) && !strchr(arg, '=');
    }
    for (const char *c = arg + 1; *c; c++) { /* a cluster: -uj2, -uj 2 */
        const struct arg_hdr *h = short_option(table, *c);
        if (h && (h->flag & (ARG_HASVALUE | ARG_HASOPTVALUE)))
            return (h->flag & ARG_HASVALUE) && c[1] == '\0';
    }
    return 0;
}

/* "-c/--capacity", "--rejects": how messages name the option of entry H. */
static const char *flag_name(const struct arg_hdr *h, char *buf, size_t size)
{
    int n = (int)strcspn(h->longopts ? h->longopts : "", ","); /* "workers,jobs" */
    if (h->shortopts && n)
        snprintf(buf, size, "-%c/--%.*s", h->shortopts[0], n, h->longopts);
    else if (n)
        snprintf(buf, size, "--%.*s", n, h->longopts);
    else
        snprintf(buf, size, "-%c", h->shortopts ? h->shortopts[0] : '?');
    return buf;
}

/* What a value of DATATYPE (as --help shows it: FILE, N...) looks like. */
static const char *expected_value(const char *datatype)
{
    static const char *const what[][2] = {
        {"C", "one byte or an escape such as \\t"},
        {"SIZE", "a size such as 64K or 16M"},
        {"N", "a whole number"},
        {"DUR", "a duration such as 250ms or 2s"},
        {"RATE", "a rate such as 100/s or 2.5k/s"},
        {"FILE", "a file name"},
        {"OP", "an operation such as upper or grep:ERE"},
        {"P", "block, drop, drop-oldest, timeout or fail"},
        {"skip|fail", "skip or fail"},
        {"WHEN", "auto, yes or no"},
        {"FORMAT", "text, json or none"},
        {"URL", "a NATS server URL"},
        {"S/C", "a stream and a consumer: STREAM/CONSUMER"},
    };
    for (size_t i = 0; datatype && i < sizeof what / sizeof what[0]; i++)
        if (strcmp(datatype, what[i][0]) == 0)
            return what[i][1];
    return datatype && datatype[0] == 'S' ? "a subject" : "a value"; /* SUBJ, SUBJECT, S */
}

/* The entry of the option ARG gives an empty value: --name= or, when ARG
 * takes the next argument as its value (--name V, -uj V), an empty NEXT.
 * NULL when ARG gives none. */
static const struct arg_hdr *empty_value_of(void *const *table, const char *arg, const char *next)
{
    const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    if (eq ? eq[1] != '\0' : !(option_values(table, arg) && next && !next[0]))
        return NULL;
    const struct arg_hdr *h =
        arg[1] == '-' ? long_option(table, arg + 2) : short_option(table, arg[strlen(arg) - 1]);
    return h && (h->flag & ARG_HASVALUE) ? h : NULL;
}

/* An option given an empty value (--rejects '', --rejects=, -c ''): named,
 * with what it expects, where argtable2 would name no flag. */
static bool empty_value(void *const *table, int nopts, char **argv)
{
    for (int i = 1; i < nopts; i += 1 + option_values(table, argv[i])) {
        const struct arg_hdr *h =
            empty_value_of(table, argv[i], i + 1 < nopts ? argv[i + 1] : NULL);
        if (h) {
            char flag[64];
            usage("%s: empty value, expected %s", flag_name(h, flag, sizeof flag),
                  expected_value(h->datatype));
            return true;
        }
    }
    return false;
}

/* The long option nearest to WORD[0..len) if one is near enough to be
 * what was meant (suggest.h), its length in *nlen; else NULL. */
static const char *nearest_long_option(void *const *table, const char *word, size_t len,
                                       size_t *nlen)
{
    struct suggest s;
    suggest_init(&s, word, len);
    for (int i = 0;; i++) {
        const struct arg_hdr *h = table[i];
        if (h->flag & ARG_TERMINATOR)
            return suggest_result(&s, nlen);
        for (const char *l = h->longopts; l && *l;) { /* "workers,jobs" */
            size_t n = strcspn(l, ",");
            suggest_offer(&s, l, n);
            l += n + (l[n] == ',');
        }
    }
}

/* An unknown option (--polcy, -Z, -uZ): named, for a long one with the
 * nearest long option when there is one, as git does. */
static bool unknown_option(void *const *table, int nopts, char **argv)
{
    for (int i = 1; i < nopts; i += 1 + option_values(table, argv[i])) {
        const char *arg = argv[i], *near;
        int nprefix;
        size_t len = strcspn(arg + 2, "="), nlen;
        for (const char *c = arg + 1; arg[1] != '-' && *c; c++) {
            const struct arg_hdr *h = short_option(table, *c);
            if (!h) {
                usage("unknown option -%c", *c);
                return true;
            }
            if (h->flag & (ARG_HASVALUE | ARG_HASOPTVALUE))
                break; /* the rest is its value: -j2 */
        }
        if (arg[1] != '-' || !arg[2] || long_option_n(table, arg + 2, &nprefix) || nprefix)
            continue;
        if ((near = nearest_long_option(table, arg + 2, len, &nlen)))
            usage("unknown option --%.*s (did you mean --%.*s?)", (int)len, arg + 2, (int)nlen,
                  near);
        else
            usage("unknown option --%.*s", (int)len, arg + 2);
        return true;
    }
    return false;
}

/* Where COMMAND starts: at the first argument that is neither an option
 * nor an option's value, or after "--". GNU getopt permutes argv, so it
 * would take COMMAND's own flags (sed -u) for weir's: arg_parse gets only
 * argv[0..*nopts). Returns COMMAND's index, argc when there is none. */
static int command_start(int argc, char **argv, void *const *table, int *nopts)
{
    int i = 1;
    while (i < argc) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0) {
            *nopts = i;
            return i + 1;
        }
        if (s[0] != '-' || s[1] == '\0') /* "-" is an operand, as for getopt */
            break;
        i += 1 + option_values(table, s);
    }
    *nopts = MIN(i, argc);
    return *nopts;
}

/* Prints why COMMAND cannot run, as a shell would: not found (127), or
 * the errno that running it would give (126). */
static enum cli_action report_command(const char *name, int err)
{
    if (err == ENOENT || err == ENOTDIR) {
        fprintf(stderr, "weir: %s: command not found\n", name);
        return CLI_NOTFOUND;
    }
    fprintf(stderr, "weir: %s: %s\n", name, strerror(err));
    return CLI_NOEXEC;
}

/* 0 when PATH names an executable regular file, else the errno to report:
 * that of stat, EISDIR for a directory (as bash says, where execve would
 * give EACCES), EACCES for another non-regular file (ENOENT for both with
 * regular_only: $PATH search skips them). */
static int check_executable(const char *path, int regular_only)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return regular_only ? ENOENT : S_ISDIR(st.st_mode) ? EISDIR : EACCES;
    return access(path, X_OK) == 0 ? 0 : errno;
}

/* Why this is checked here: the workers start COMMAND with posix_spawnp,
 * which would report a missing or non-executable COMMAND only per record,
 * after input was read (and shed). Resolving it first lets weir exit 127
 * or 126, as a shell would, before reading anything. A NAME with '/' is a
 * path; otherwise, as posix_spawnp does, the first executable regular file
 * NAME in a directory of $PATH (an empty entry is ".") is what runs, and
 * a non-executable one found on the way is what is reported. */
static enum cli_action resolve_command(const char *name)
{
    if (strchr(name, '/')) {
        int err = check_executable(name, 0);
        return err ? report_command(name, err) : CLI_RUN;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = DEFAULT_PATH;
    int err = ENOENT;
    for (const char *p = path;; p++) {
        size_t len = strcspn(p, ":");
        char file[PATH_MAX];
        int n = snprintf(file, sizeof file, "%.*s/%s", len ? (int)len : 1, len ? p : ".", name);
        if (n > 0 && (size_t)n < sizeof file && name[0]) {
            int e = check_executable(file, 1);
            if (e == 0)
                return CLI_RUN;
            if (err == ENOENT && e != ENOENT && e != ENOTDIR)
                err = e;
        }
        p += len;
        if (!*p)
            break;
    }
    return report_command(name, err);
}

enum cli_action cli_parse(int argc, char **argv, struct options *o)
{
    struct args a;
    args_new(&a);
    void *table[] = {
        a.null,    a.delim,    a.maxrec,   a.cap,        a.capb,    a.jobs,    a.unord,
        a.pol,     a.tmo,      a.rej,      a.ops,        a.exec,    a.coproc,  a.pipe,
        a.block,   a.blockr,   a.jtmo,     a.retries,    a.onerr,   a.decomp,  a.comp,
        a.level,   a.cthreads, a.force,    a.rate,       a.burst,   a.brate,   a.bburst,
        a.stats,   a.interval, a.progress, a.noprogress, a.metrics, a.nats,    a.from,
        a.subject, a.to,       a.rejsubj,  a.creds,      a.ca,      a.cert,    a.key,
        a.ntmo,    a.ackwait,  a.idle,     a.quiet,      a.help,    a.version, a.end};
    enum cli_action r = CLI_USAGE;
    if (arg_nullcheck(table) != 0) {
        fputs("weir: out of memory\n", stderr);
        r = CLI_FAIL;
        goto out;
    }
    int nopts;
    int start = command_start(argc, argv, table, &nopts);
    int nerr = arg_parse(nopts, argv, table);
    if (a.help->count) {
        print_help(table);
        r = CLI_EXIT;
    } else if (a.version->count) {
        printf("weir %s\n", WEIR_VERSION);
        r = CLI_EXIT;
    } else if (empty_value(table, nopts, argv)) {
        r = CLI_USAGE;
    } else if (nerr) {
        r = ambiguous_option(table, nopts, argv) || unknown_option(table, nopts, argv)
                ? CLI_USAGE
                : argtable_error(a.end);
    } else {
        r = fill_options(&a, start < argc ? &argv[start] : NULL, o);
        if (r == CLI_RUN && o->command)
            r = resolve_command(o->command[0]);
    }
out:
    arg_freetable(table, sizeof table / sizeof table[0]);
    return r;
}
