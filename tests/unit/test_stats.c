/* test_stats.c - the run summary (stats.h): the JSON form is one valid
 * JSON object on one line with every key the contract names, carrying the
 * figures it was given; the text form is for a person, every line
 * prefixed "weir: ". The JSON is checked by a small strict parser here. */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tap.h"

/* ---- a strict little JSON reader --------------------------------------- */

#define MAX_KEYS 64

struct json {
    const char *p;
    bool bad;
    char why[120];
    /* every scalar seen, by dotted path: "latency_ms.p50" */
    char key[MAX_KEYS][48];
    char val[MAX_KEYS][64];
    int nkeys, dups;
};

static void jfail(struct json *j, const char *why)
{
    if (!j->bad)
        snprintf(j->why, sizeof j->why, "%s at \"%.20s\"", why, j->p);
    j->bad = true;
}

static void jvalue(struct json *j, const char *path, int depth);

static void jstring(struct json *j, char *out, size_t len)
{
    size_t n = 0;
    if (*j->p != '"') {
        jfail(j, "string expected");
        return;
    }
    j->p++;
    while (*j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c == '\0' || c < 0x20) {
            jfail(j, "unterminated string or control character");
            return;
        }
        if (c == '\\') {
            j->p++;
            if (!strchr("\"\\/bfnrtu", *j->p)) {
                jfail(j, "bad escape");
                return;
            }
        }
        if (out && n + 1 < len)
            out[n++] = *j->p;
        j->p++;
    }
    j->p++;
    if (out)
        out[n] = '\0';
}

static void jnumber(struct json *j)
{
    const char *s = j->p;
    if (*j->p == '-')
        j->p++;
    if (*j->p == '0')
        j->p++;
    else if (*j->p >= '1' && *j->p <= '9')
        while (isdigit((unsigned char)*j->p))
            j->p++;
    else {
        jfail(j, "number expected");
        return;
    }
    if (*j->p == '.') {
        j->p++;
        if (!isdigit((unsigned char)*j->p)) {
            jfail(j, "digit expected after '.'");
            return;
        }
        while (isdigit((unsigned char)*j->p))
            j->p++;
    }
    if (*j->p == 'e' || *j->p == 'E') {
        j->p++;
        if (*j->p == '+' || *j->p == '-')
            j->p++;
        if (!isdigit((unsigned char)*j->p)) {
            jfail(j, "digit expected in exponent");
            return;
        }
        while (isdigit((unsigned char)*j->p))
            j->p++;
    }
    (void)s;
}

static void record(struct json *j, const char *path, const char *start)
{
    for (int i = 0; i < j->nkeys; i++)
        if (strcmp(j->key[i], path) == 0)
            j->dups++;
    if (j->nkeys < MAX_KEYS) {
        snprintf(j->key[j->nkeys], sizeof j->key[0], "%s", path);
        size_t n = (size_t)(j->p - start);
        if (n >= sizeof j->val[0])
            n = sizeof j->val[0] - 1;
        memcpy(j->val[j->nkeys], start, n);
        j->val[j->nkeys][n] = '\0';
        j->nkeys++;
    }
}

static void jobject(struct json *j, const char *path, int depth)
{
    j->p++; /* '{' */
    if (*j->p == '}') {
        j->p++;
        return;
    }
    for (;;) {
        char k[48], sub[100];
        jstring(j, k, sizeof k);
        if (j->bad)
            return;
        if (*j->p != ':') {
            jfail(j, "':' expected");
            return;
        }
        j->p++;
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", k);
        jvalue(j, sub, depth + 1);
        if (j->bad)
            return;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == '}') {
            j->p++;
            return;
        }
        jfail(j, "',' or '}' expected");
        return;
    }
}

static void jvalue(struct json *j, const char *path, int depth)
{
    const char *start = j->p;
    if (depth > 8) {
        jfail(j, "too deep");
        return;
    }
    if (*j->p == '{') {
        jobject(j, path, depth);
        return;
    }
    if (*j->p == '"')
        jstring(j, NULL, 0);
    else if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) == 0)
        j->p += 4;
    else if (strncmp(j->p, "false", 5) == 0)
        j->p += 5;
    else
        jnumber(j);
    if (!j->bad)
        record(j, path, start);
}

/* Parses one object (no white space: the summary is compact). */
static void jparse(struct json *j, const char *s)
{
    memset(j, 0, sizeof *j);
    j->p = s;
    if (*s != '{') {
        jfail(j, "object expected");
        return;
    }
    jvalue(j, "", 0);
    if (!j->bad && *j->p != '\0')
        jfail(j, "trailing bytes after the object");
}

static const char *jget(const struct json *j, const char *key)
{
    for (int i = 0; i < j->nkeys; i++)
        if (strcmp(j->key[i], key) == 0)
            return j->val[i];
    return NULL;
}

/* ---- the tests ---------------------------------------------------------- */

static char *print_to_string(void (*print)(FILE *, const struct stats *), const struct stats *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    print(f, s);
    fclose(f);
    return buf;
}

static const struct stats sample = {
    .records_in = 1000003,
    .records_out = 999000,
    .records_done = 999990,
    .records_dropped = 7,
    .records_timed_out = 2,
    .records_failed = 4,
    .records_job_timeouts = 3,
    .records_retried = 11,
    .bytes_in = UINT64_C(123456789012),
    .bytes_out = 98765,
    .elapsed_s = 12.5,
    .queue_capacity = 1024,
    .queue_capacity_bytes = 64u << 20,
    .queue_max = 1024,
    .queue_mean = 511.25,
    .queue_full_share = 0.25,
    .workers = 8,
    .busy_share = 0.5,
    .policy = "drop-oldest",
    .latency_ms = {1.5, 2.25, 10, 99.5, 1234.5},
    .limiter_wait_s = 3.75,
    .limiter_waits = 42,
    .exit = 0,
    .final = true,
};

static const char *const required[] = {
    "records_in",
    "records_out",
    "records_done",
    "records_dropped",
    "records_timed_out",
    "records_failed",
    "records_job_timeouts",
    "records_retried",
    "bytes_in",
    "bytes_out",
    "elapsed_s",
    "queue_capacity",
    "queue_max",
    "queue_capacity_bytes",
    "queue_mean",
    "workers",
    "policy",
    "latency_ms.p50",
    "latency_ms.p90",
    "latency_ms.p99",
    "latency_ms.p999",
    "latency_ms.max",
    "limiter_wait_s",
    "exit",
};

static void check_json(const struct stats *s, const char *what)
{
    char *out = print_to_string(stats_print_json, s);
    size_t len = strlen(out);
    ok(len > 2 && out[0] == '{', "%s: starts with '{'", what);
    ok(len > 2 && strcmp(out + len - 2, "}\n") == 0, "%s: ends with \"}\\n\"", what);
    ok(strchr(out, '\n') == out + len - 1, "%s: one line", what);
    out[len - 1] = '\0';
    struct json j;
    jparse(&j, out);
    ok(!j.bad, "%s: valid JSON%s%s", what, j.bad ? ": " : "", j.why);
    is_int(j.dups, 0, "%s: no key twice", what);
    int missing = 0;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!s->final && strcmp(required[i], "exit") == 0)
            continue; /* a snapshot has no exit status yet */
        if (!jget(&j, required[i])) {
            if (!missing)
                printf("# missing key %s\n", required[i]);
            missing++;
        }
    }
    is_int(missing, 0, "%s: every required key present", what);
    free(out);
}

static void test_json(void)
{
    check_json(&sample, "sample");

    char *out = print_to_string(stats_print_json, &sample);
    out[strlen(out) - 1] = '\0';
    struct json j;
    jparse(&j, out);
    is_str(jget(&j, "records_in"), "1000003", "records_in carries its value");
    is_str(jget(&j, "records_out"), "999000", "records_out");
    is_str(jget(&j, "records_done"), "999990", "records_done");
    is_str(jget(&j, "records_dropped"), "7", "records_dropped");
    is_str(jget(&j, "records_timed_out"), "2", "records_timed_out");
    is_str(jget(&j, "records_failed"), "4", "records_failed");
    is_str(jget(&j, "records_job_timeouts"), "3", "records_job_timeouts");
    is_str(jget(&j, "records_retried"), "11", "records_retried");
    is_str(jget(&j, "bytes_in"), "123456789012", "bytes_in (above 2^32)");
    is_str(jget(&j, "bytes_out"), "98765", "bytes_out");
    is_str(jget(&j, "queue_capacity"), "1024", "queue_capacity");
    is_str(jget(&j, "queue_capacity_bytes"), "67108864", "queue_capacity_bytes");
    is_str(jget(&j, "queue_max"), "1024", "queue_max");
    is_str(jget(&j, "workers"), "8", "workers");
    is_str(jget(&j, "policy"), "\"drop-oldest\"", "policy is the policy's name, a string");
    is_str(jget(&j, "exit"), "0", "exit");
    static const struct {
        const char *key;
        double want;
        const char *what;
    } nums[] = {
        {"elapsed_s", 12.5, "elapsed_s 12.5"},
        {"queue_mean", 511.25, "queue_mean 511.25"},
        {"latency_ms.p50", 1.5, "latency p50 1.5 ms"},
        {"latency_ms.p90", 2.25, "latency p90 2.25 ms"},
        {"latency_ms.p99", 10, "latency p99 10 ms"},
        {"latency_ms.p999", 99.5, "latency p99.9 99.5 ms"},
        {"latency_ms.max", 1234.5, "latency max 1234.5 ms"},
        {"limiter_wait_s", 3.75, "limiter_wait_s 3.75"},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *v = jget(&j, nums[i].key);
        ok(v && fabs(strtod(v, NULL) - nums[i].want) < 1e-9, "%s (%s)", nums[i].what, v ? v : "-");
    }
    free(out);

    /* extremes and an interrupted run */
    struct stats z = {.policy = "block", .exit = 130, .workers = 1, .final = true};
    check_json(&z, "all zero, exit 130");
    out = print_to_string(stats_print_json, &z);
    out[strlen(out) - 1] = '\0';
    jparse(&j, out);
    is_str(jget(&j, "exit"), "130", "exit 130 is reported");
    is_str(jget(&j, "records_in"), "0", "zero counts are 0");
    free(out);

    struct stats big = sample;
    big.records_in = UINT64_MAX;
    big.bytes_in = UINT64_MAX;
    big.exit = 75;
    big.policy = "fail";
    check_json(&big, "counts at UINT64_MAX, exit 75");
    out = print_to_string(stats_print_json, &big);
    out[strlen(out) - 1] = '\0';
    jparse(&j, out);
    is_str(jget(&j, "records_in"), "18446744073709551615", "UINT64_MAX printed in full");
    free(out);

    /* a snapshot of a run still going: final false, no exit status */
    struct stats running = sample;
    running.exit = -1;
    running.final = false;
    check_json(&running, "snapshot");
    out = print_to_string(stats_print_json, &running);
    ok(strstr(out, "\"final\":false") && !strstr(out, "\"exit\""),
       "snapshot: final false, no exit");
    free(out);
}

static void check_text(const struct stats *s, const char *what)
{
    char *out = print_to_string(stats_print_text, s);
    size_t len = strlen(out);
    ok(len > 0 && out[len - 1] == '\n', "%s: text ends with a newline", what);
    int lines = 0, bad = 0;
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, "weir: ", 6) != 0) {
            if (!bad)
                printf("# line without prefix: %.*s\n", nl ? (int)(nl - line) : 40, line);
            bad++;
        }
        lines++;
        line = nl ? nl + 1 : line + strlen(line);
    }
    ok(lines >= 3, "%s: several lines (%d)", what, lines);
    is_int(bad, 0, "%s: every line starts with \"weir: \"", what);
    ok(!strstr(out, "nan") && !strstr(out, "inf"), "%s: no nan or inf", what);
    free(out);
}

static void test_text(void)
{
    check_text(&sample, "sample");
    char *out = print_to_string(stats_print_text, &sample);
    ok(strstr(out, "1000003") != NULL, "text: records in shown (1000003)");
    ok(strstr(out, "999990") != NULL, "text: done shown");
    ok(strstr(out, "drop-oldest") != NULL, "text: policy shown");
    ok(strstr(out, "1234.5") != NULL, "text: latency max shown");
    ok(strstr(out, "%") != NULL, "text: percentages shown");
    ok(strstr(out, "queue: capacity 1024 records, 64.0 MiB; ") != NULL, "text: both bounds shown");
    ok(strstr(out, ", failed 4 (0.0%; 3 job timeouts), ") != NULL,
       "text: job timeouts named in the failed count");
    free(out);

    struct stats z = {.policy = "block", .exit = 0, .workers = 1};
    check_text(&z, "all zero, no time elapsed");
    out = print_to_string(stats_print_text, &z);
    ok(strstr(out, ", failed 0 (0.0%), ") != NULL, "text: no job timeouts, no note");
    ok(strstr(out, "queue: capacity 0 B, no record bound; ") != NULL,
       "text: no record bound is said so");
    free(out);
    out = print_to_string(stats_print_json, &z);
    ok(strstr(out, "\"queue_capacity\":null,") != NULL, "json: no record bound is null");
    free(out);
}

int main(void)
{
    test_json();
    test_text();
    return done_testing();
}
