/* cli_rules.c - what the command line gave (struct cli_args) to struct
 * options: every value checked (cli_values.c, parse.c), defaults filled
 * in, and the flags that conflict or mean nothing alone refused; the NATS
 * flags in cli_nats.c. Errors are one usage line naming the flag, as
 * flags.def names it. Main thread. */
#include "cli_rules.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "cli_nats.h"
#include "cli_values.h"
#include "common.h"
#include "key.h"
#include "parse.h"
#include "term.h"

#define MAX_WORKERS 1024
#define MAX_RECORD_LIMIT (UINT64_C(1) << 30) /* records are addressed with 32 bits */
#define MAX_RETRIES 1000

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
 * the error. cli_rules_apply calls them in a fixed order, which decides the
 * one error reported when several flags are wrong. */

static int check_null_delim(const struct cli_args *a)
{
    if (a->null.count && a->delim.count) {
        cli_usage("%s and %s conflict: give one", a->null.name, a->delim.name);
        return -1;
    }
    return 0;
}

static int parse_records(const struct cli_args *a, struct options *o)
{
    if (a->null.count)
        o->delim = '\0';
    if (a->delim.count && parse_delim(a->delim.sval[0], &o->delim) != 0) {
        cli_usage("%s: expected one byte or an escape (\\n \\t \\r \\0 \\\\ \\xHH), got '%s'",
                  a->delim.name, a->delim.sval[0]);
        return -1;
    }
    return cli_want_size(&a->maxrec, MAX_RECORD_LIMIT, &o->max_record);
}

/* A number of records, 1 to 2^30, into *out when given. */
static int want_records(const struct cli_value *a, size_t *out)
{
    uint64_t v;
    if (cli_want_count(a, 1, UINT64_C(1) << 30, &v))
        return -1;
    if (a->count)
        *out = (size_t)v;
    return 0;
}

static int parse_queue_workers(const struct cli_args *a, struct options *o)
{
    uint64_t v = 0;
    if (cli_want_size(&a->capb, UINT64_C(1) << 40, &o->capacity_bytes) ||
        want_records(&a->cap, &o->capacity))
        return -1;
    if (cli_want_count(&a->jobs, 0, MAX_WORKERS, &v))
        return -1;
    if (v == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n > 0 ? (uint64_t)MIN(n, MAX_WORKERS) : 1;
    }
    o->workers = (unsigned)v;
    o->unordered = a->unord.count > 0;
    return 0;
}

static int parse_overflow(const struct cli_args *a, struct options *o)
{
    if (a->pol.count && policy_parse(a->pol.sval[0], &o->policy) != 0)
        return cli_bad_word(&a->pol);
    if (a->tmo.count && parse_duration(a->tmo.sval[0], &o->timeout_ns) != 0) {
        cli_usage("%s: expected a duration such as 250ms, 2s or 1.5m, got '%s'", a->tmo.name,
                  a->tmo.sval[0]);
        return -1;
    }
    return 0;
}

/* -t alone implies -p timeout; a -t that no policy would use, or a timeout
 * policy with no bound, is refused rather than guessed at. */
static int check_timeout_policy(const struct cli_args *a, struct options *o)
{
    if (a->tmo.count) {
        if (!a->pol.count)
            o->policy = POLICY_TIMEOUT;
        else if (o->policy != POLICY_TIMEOUT && o->policy != POLICY_FAIL) {
            cli_usage("%s applies to the timeout and fail policies, not '%s'", a->tmo.name,
                      policy_name(o->policy));
            return -1;
        }
    } else if (o->policy == POLICY_TIMEOUT) {
        cli_usage("-%s timeout needs %s DUR (how long to wait before shedding)",
                  a->pol.flag->short_name, a->tmo.name);
        return -1;
    }
    return 0;
}

static int parse_limits(const struct cli_args *a, struct options *o)
{
    return cli_want_rate(&a->rate, 0, &o->rate) || cli_want_rate(&a->brate, 1, &o->byte_rate);
}

/* A bucket size without its rate would be silently ignored, so it is refused;
 * each is checked just before its own value, as it always was. */
static int parse_limit_bursts(const struct cli_args *a, struct options *o)
{
    uint64_t v;
    if (a->burst.count) {
        if (!a->rate.count) {
            cli_usage("%s needs %s", a->burst.name, a->rate.name);
            return -1;
        }
        if (cli_want_count(&a->burst, 1, UINT64_C(1) << 40, &v))
            return -1;
        o->burst = (double)v;
    } else {
        o->burst = MAX(1.0, floor(o->rate / 10));
    }
    if (a->bburst.count) {
        if (!a->brate.count) {
            cli_usage("%s needs %s", a->bburst.name, a->brate.name);
            return -1;
        }
        size_t bb;
        if (cli_want_size(&a->bburst, UINT64_C(1) << 40, &bb))
            return -1;
        o->byte_burst = (double)bb;
    } else {
        o->byte_burst = MAX(1.0, floor(o->byte_rate / 10));
    }
    return 0;
}

static int parse_output(const struct cli_args *a, struct options *o)
{
    static const enum stats_format format[] = {STATS_TEXT, STATS_JSON, STATS_NONE};
    int i = -1;
    o->rejects_path = a->rej.count ? a->rej.sval[0] : NULL;
    if (!o->rejects_path &&
        cli_refuse_without(a->rej.name, (const struct cli_value *[]){&a->rejfmt}, 1))
        return -1;
    if (cli_want_word(&a->rejfmt, &i))
        return -1;
    o->rejects_json = i == 1;
    i = -1;
    for (int k = 0; k < a->ops.count; k++)
        o->ops[o->n_ops++] = a->ops.sval[k];
    if (cli_want_word(&a->stats, &i))
        return -1;
    if (i >= 0)
        o->stats = format[i];
    if (a->quiet.count)
        o->stats = STATS_NONE;
    return 0;
}

/* What shows while the run goes on. The progress line is on by default
 * only for a person watching: stderr a terminal, no -q, and stdout
 * elsewhere (output scrolling by on that terminal is what they watch). */
static int parse_watch(const struct cli_args *a, struct options *o)
{
    if (a->interval.count) {
        const char *d = a->interval.sval[0];
        if (parse_duration(d, &o->interval_ns) != 0 || o->interval_ns <= 0) {
            cli_usage("%s: expected a duration above zero such as 100ms or 5s, got '%s'",
                      a->interval.name, d);
            return -1;
        }
    }
    if (a->progress.count && a->noprogress.count) {
        cli_usage("%s and %s conflict: give one", a->progress.name, a->noprogress.name);
        return -1;
    }
    bool tty = isatty(STDERR_FILENO);
    if (a->progress.count)
        o->progress = tty ? PROGRESS_TTY : PROGRESS_LINES;
    else if (!a->noprogress.count && tty && !a->quiet.count &&
             !term_same(STDOUT_FILENO, STDERR_FILENO))
        o->progress = PROGRESS_TTY;
    o->metrics_path = a->metrics.count ? a->metrics.sval[0] : NULL;
    return 0;
}

/* COMMAND and the shape it runs in. A shape flag without COMMAND, or -e
 * with one, would be ignored, so it is refused. */
static int parse_mode(const struct cli_args *a, char *const *cmd, struct options *o)
{
    const struct cli_value *shape[] = {&a->exec, &a->coproc, &a->pipe};
    static const enum stage_mode mode[] = {MODE_EXEC, MODE_COPROC, MODE_PIPE};
    int given = -1;
    for (int i = 0; i < 3; i++) {
        if (!shape[i]->count)
            continue;
        if (given >= 0) {
            cli_usage("%s and %s conflict: give one", shape[given]->name, shape[i]->name);
            return -1;
        }
        given = i;
    }
    if (given >= 0 && !cmd) {
        cli_usage("%s needs a COMMAND", shape[given]->name);
        return -1;
    }
    if (cmd && a->ops.count) {
        cli_usage("%s cannot be combined with a COMMAND", a->ops.name);
        return -1;
    }
    o->command = cmd;
    o->mode = !cmd ? MODE_OPS : given >= 0 ? mode[given] : MODE_EXEC;
    return 0;
}

/* --block and --block-records shape --pipe's blocks and nothing else. With
 * --pipe the queue is bounded by bytes unless -c is given: a block may
 * hold many more records than the record bound's default; but not with
 * --key, whose lanes and output slots are sized by the record bound. */
static int parse_blocks(const struct cli_args *a, struct options *o)
{
    if (o->mode != MODE_PIPE)
        return cli_refuse_without(a->pipe.name, (const struct cli_value *[]){&a->block, &a->blockr},
                                  2);
    if (cli_want_size(&a->block, UINT64_C(1) << 40, &o->block_bytes) ||
        want_records(&a->blockr, &o->block_records))
        return -1;
    if (!a->cap.count && !a->kspec.count) /* keys wait in the queue: they need a bound */
        o->capacity = CAPACITY_NONE;
    return 0;
}

/* How a COMMAND job may fail, and what that does; only with a COMMAND. */
static int parse_job_failures(const struct cli_args *a, struct options *o)
{
    static const enum on_error on_error[] = {ON_ERROR_SKIP, ON_ERROR_FAIL};
    uint64_t v = 0;
    int i = -1;
    if (!o->command)
        return cli_refuse_without(
            "a COMMAND", (const struct cli_value *[]){&a->jtmo, &a->retries, &a->onerr, &a->joblog},
            4);
    o->joblog_path = a->joblog.count ? a->joblog.sval[0] : NULL;
    if (a->jtmo.count) {
        const char *d = a->jtmo.sval[0];
        int64_t ns;
        if (parse_duration(d, &ns) != 0 || ns <= 0) {
            cli_usage("%s: expected a duration above zero such as 250ms, 2s or 1.5m, got '%s'",
                      a->jtmo.name, d);
            return -1;
        }
        o->job_timeout_ns = ns;
    }
    if (cli_want_count(&a->retries, 0, MAX_RETRIES, &v))
        return -1;
    o->retries = (unsigned)v;
    if (cli_want_word(&a->onerr, &i))
        return -1;
    if (i >= 0)
        o->on_error = on_error[i];
    return 0;
}

/* A zstd level: -100 (fastest) to 19, into *level when given. */
static int parse_level(const struct cli_value *a, int *level)
{
    uint64_t v = 0;
    if (!a->count)
        return 0;
    const char *s = a->sval[0];
    bool neg = s[0] == '-';
    if (parse_count(s + neg, neg ? 1 : 0, neg ? (uint64_t)-LEVEL_MIN : LEVEL_MAX, &v) != 0) {
        cli_usage("%s: expected a zstd level from %d to %d, got '%s'", a->name, LEVEL_MIN,
                  LEVEL_MAX, s);
        return -1;
    }
    *level = neg ? -(int)v : (int)v;
    return 0;
}

/* zstd on either end. --level, --compress-threads and -f only mean
 * something with -z, so they are refused without it; -z onto a terminal
 * is refused unless forced, as zstd does. */
static int parse_zstd(const struct cli_args *a, struct options *o)
{
    static const enum decompress mode[] = {DECOMPRESS_AUTO, DECOMPRESS_YES, DECOMPRESS_NO};
    int i = -1;
    if (cli_want_word(&a->decomp, &i))
        return -1;
    if (i >= 0)
        o->decompress = mode[i];
    o->compress = a->comp.count > 0;
    if (!o->compress)
        return cli_refuse_without(
            a->comp.name, (const struct cli_value *[]){&a->level, &a->cthreads, &a->force}, 3);
    uint64_t v = 0;
    if (parse_level(&a->level, &o->level) ||
        cli_want_count(&a->cthreads, 0, COMPRESS_THREADS_MAX, &v))
        return -1;
    o->compress_threads = (int)v;
    if (!a->force.count && isatty(STDOUT_FILENO)) {
        cli_usage("-%s: stdout is a terminal; not writing compressed data to it (-%s forces it)",
                  a->comp.flag->short_name, a->force.flag->short_name);
        return -1;
    }
    return 0;
}

/* --key and its companions, which mean nothing without it; subject:N
 * needs a message's subject, so --from (known by now). */
static int parse_keys(const struct cli_args *a, struct options *o)
{
    o->key_limit = 1;
    if (!a->kspec.count)
        return cli_refuse_without(
            a->kspec.name, (const struct cli_value *[]){&a->fsep, &a->klimit, &a->ksticky}, 3);
    o->key_spec = a->kspec.sval[0];
    o->has_field_sep = a->fsep.count > 0;
    if (o->has_field_sep && parse_delim(a->fsep.sval[0], &o->field_sep) != 0) {
        cli_usage("%s: expected one byte or an escape (\\t \\0 \\xHH), got '%s'", a->fsep.name,
                  a->fsep.sval[0]);
        return -1;
    }
    uint64_t v = 1;
    if (cli_want_count(&a->klimit, 1, KEY_LIMIT_MAX, &v))
        return -1;
    o->key_limit = (unsigned)v;
    o->key_sticky = a->ksticky.count > 0;
    struct key_spec *k;
    char msg[160];
    int rc = key_spec_parse(o->key_spec, o->has_field_sep, o->field_sep, &k, msg, sizeof msg);
    if (rc == -ENOMEM) {
        cli_usage("%s: out of memory", a->kspec.name);
        return -1;
    }
    if (rc) {
        cli_usage("%s: %s, got '%s'", a->kspec.name, msg, o->key_spec);
        return -1;
    }
    bool subject = key_spec_kind(k) == KEY_SUBJECT;
    key_spec_free(k);
    if (subject && !o->nats_from) {
        cli_usage("%s subject:N takes the subject of a message: it needs --from", a->kspec.name);
        return -1;
    }
    return 0;
}

/* The cross-flag checks sit right after the values they compare are parsed,
 * so -0 -d conflict before -d's value is looked at, -t against -p once
 * both are known, and COMMAND's flags once its shape is. */
enum cli_action cli_rules_apply(const struct cli_args *a, char *const *cmd, struct options *o)
{
    set_defaults(o);
    if (check_null_delim(a) || parse_records(a, o) || parse_queue_workers(a, o) ||
        parse_overflow(a, o) || check_timeout_policy(a, o) || parse_limits(a, o) ||
        parse_limit_bursts(a, o) || parse_output(a, o) || parse_mode(a, cmd, o) ||
        parse_blocks(a, o) || parse_job_failures(a, o) || parse_zstd(a, o) || parse_watch(a, o) ||
        cli_nats_apply(a, o) || parse_keys(a, o))
        return CLI_USAGE;
    return CLI_RUN;
}
