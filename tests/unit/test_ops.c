/* test_ops.c - built-in operations: compiling specs, case mapping over every
 * byte value (whole-span and per-record paths), filters, the output
 * segments a batch gets, the input chunk left as read, and sleep taking
 * what it says. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "ops.h"
#include "tap.h"

/* A batch of the records in `text` (delimiter delim), all in one chunk. */
/* ops_new, with the chain or NULL (the message in err, or empty). */
static struct ops *compile_ops(const char *const *specs, size_t n, unsigned char delim, char *err,
                               size_t errlen)
{
    struct ops *o = NULL;
    err[0] = '\0';
    int rc = ops_new(specs, n, delim, &o, err, errlen);
    if (rc != 0 && rc != -EINVAL)
        printf("# ops_new: %d\n", rc);
    return rc ? NULL : o;
}

static struct batch *batch_of(const char *text, size_t len, unsigned char delim)
{
    struct chunk *c = chunk_new(NULL, len + 1);
    memcpy(c->data, text, len);
    c->len = len;
    struct batch *b = batch_new(c, len + 1);
    chunk_unref(c);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len && start == len)
            break;
        if (i == len || (unsigned char)text[i] == delim) {
            b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)(i - start)};
            b->bytes += i - start + (i < len);
            b->open_end = i == len;
            start = i + 1;
        }
    }
    return b;
}

/* The output of b, concatenated, into out (NUL-terminated); its length. */
static size_t output_of(const struct batch *b, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nsegs && n + b->segs[i].len < cap; i++) {
        memcpy(out + n, b->segs[i].p, b->segs[i].len);
        n += b->segs[i].len;
    }
    out[n] = '\0';
    return n;
}

/* Runs specs over text and returns the output in out; *intact (when not
 * NULL) tells whether the input chunk still holds text afterwards. */
static size_t run_intact(const char *const *specs, size_t n, const char *text, size_t len,
                         unsigned char delim, char *out, size_t cap, bool *intact)
{
    char err[256];
    out[0] = '\0';
    struct ops *o = compile_ops(specs, n, delim, err, sizeof err);
    if (!o) {
        printf("# ops_new: %s\n", err);
        return 0;
    }
    struct batch *b = batch_of(text, len, delim);
    size_t got = ops_run(o, b) == 0 ? output_of(b, out, cap) : 0;
    if (intact)
        *intact = memcmp(b->chunk->data, text, len) == 0;
    batch_free(b);
    ops_free(o);
    return got;
}

static size_t run(const char *const *specs, size_t n, const char *text, size_t len,
                  unsigned char delim, char *out, size_t cap)
{
    return run_intact(specs, n, text, len, delim, out, cap, NULL);
}

static void test_case_mapping(void)
{
    /* every byte value but the delimiter, in records of 7 bytes */
    char in[600], want_up[600], want_low[600], out[700];
    size_t len = 0;
    for (int v = 0; v < 256; v++) {
        if (v == '\n')
            continue;
        in[len] = (char)v;
        want_up[len] = (char)(v >= 'a' && v <= 'z' ? v - 32 : v);
        want_low[len] = (char)(v >= 'A' && v <= 'Z' ? v + 32 : v);
        len++;
        if (len % 8 == 7) {
            in[len] = want_up[len] = want_low[len] = '\n';
            len++;
        }
    }
    const char *up[] = {"upper"}, *low[] = {"lower"};
    size_t n = run(up, 1, in, len, '\n', out, sizeof out);
    ok(n == len && memcmp(out, want_up, len) == 0, "upper: ASCII a-z only, over all 255 bytes");
    n = run(low, 1, in, len, '\n', out, sizeof out);
    ok(n == len && memcmp(out, want_low, len) == 0, "lower: ASCII A-Z only, over all 255 bytes");
    /* the per-record path (a filter in the chain) gives the same bytes */
    const char *up_grep[] = {"upper", "grepv:^$"};
    n = run(up_grep, 2, in, len, '\n', out, sizeof out);
    ok(n == len && memcmp(out, want_up, len) == 0, "upper then a filter: same bytes per record");
}

static void test_letter_delimiter(void)
{
    char out[64];
    const char *up[] = {"upper"};
    size_t n = run(up, 1, "xaybz", 5, 'a', out, sizeof out);
    is_str(out, "XaYBZ", "upper leaves a letter delimiter alone (payloads only)");
    is_int(n, 5, "length kept");
}

static void test_filters(void)
{
    char out[64];
    const char *g[] = {"grep:7$"}, *v[] = {"grepv:7$"};
    run(g, 1, "17\n27\n3\n47", 10, '\n', out, sizeof out);
    is_str(out, "17\n27\n47", "grep:7$ keeps records ending in 7; the last keeps no delimiter");
    run(v, 1, "17\n27\n3\n47", 10, '\n', out, sizeof out);
    is_str(out, "3\n", "grepv:7$ keeps the others");
    char nul_in[] = {'a', '\0', 'b', '7', '\n', 'c', '\n'};
    size_t n = run(g, 1, nul_in, sizeof nul_in, '\n', out, sizeof out);
    ok(n == 5 && memcmp(out, nul_in, 5) == 0, "grep matches after a NUL inside a record");
    const char *chain[] = {"upper", "grep:^A", "cat"};
    run(chain, 3, "ab\nba\nax", 8, '\n', out, sizeof out);
    is_str(out, "AB\nAX", "operations apply in order: upper, then grep:^A");
}

/* The chunk is shared with the rejects file: a batch shed after its stage
 * ran (out of memory, stdout failed) must go there as it came in. */
static void test_input_kept(void)
{
#define BYTES(s) s, sizeof s - 1 /* a string literal with NULs inside */
    static const struct {
        const char *specs[3];
        size_t n;
        unsigned char delim;
        const char *want;
        size_t want_len;
    } cases[] = {
        {{"upper"}, 1, '\n', BYTES("AB\0C\nXY\n\nCD\0")},
        {{"lower"}, 1, '\n', BYTES("ab\0c\nxy\n\ncd\0")},
        {{"upper", "lower"}, 2, '\n', BYTES("ab\0c\nxy\n\ncd\0")},
        {{"upper", "grep:^[AC]"}, 2, '\n', BYTES("AB\0C\nCD\0")},
        /* dropped before the copy, and after it */
        {{"grepv:^x", "upper", "grepv:^$"}, 3, '\n', BYTES("AB\0C\nCD\0")},
        {{"upper", "spin:1ns", "lower"}, 3, '\n', BYTES("ab\0c\nxy\n\ncd\0")},
        {{"upper"}, 1, 'x', BYTES("AB\0C\nxY\n\nCD\0")}, /* letter delimiter: per record */
    };
#undef BYTES
    /* NUL bytes inside records, an empty record, an open last record */
    static const char in[] = "aB\0c\nxY\n\ncD\0";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[64] = "", out[64];
        for (size_t k = 0; k < cases[i].n; k++)
            snprintf(name + strlen(name), sizeof name - strlen(name), "%s%s", k ? "," : "",
                     cases[i].specs[k]);
        bool intact = false;
        size_t got = run_intact(cases[i].specs, cases[i].n, in, sizeof in - 1, cases[i].delim, out,
                                sizeof out, &intact);
        ok(intact, "%s (delimiter %c): the input chunk is left as read", name,
           cases[i].delim == '\n' ? 'n' : cases[i].delim);
        ok(got == cases[i].want_len && memcmp(out, cases[i].want, got) == 0,
           "%s (delimiter %c): the output holds the changed bytes", name,
           cases[i].delim == '\n' ? 'n' : cases[i].delim);
    }
}

/* sleep:DUR takes DUR per record, never less and not much more: timer
 * slack and wake-up latency once made sleep:100us take about 200 us. */
static void test_sleep_duration(void)
{
    enum { RECORDS = 200 };
    const int64_t dur = 100 * 1000;
    char text[RECORDS * 2];
    for (size_t i = 0; i < RECORDS; i++) {
        text[2 * i] = 'x';
        text[2 * i + 1] = '\n';
    }
    char err[256];
    const char *spec[] = {"sleep:100us"};
    struct ops *o = compile_ops(spec, 1, '\n', err, sizeof err);
    if (!o) {
        ok(0, "compile_ops(sleep:100us): %s", err);
        return;
    }
    struct batch *b = batch_of(text, sizeof text, '\n');
    int64_t t0 = now_ns();
    int rc = ops_run(o, b);
    int64_t took = now_ns() - t0;
    is_int(rc, 0, "sleep:100us over %d records runs", RECORDS);
    is_int(b->n_out, RECORDS, "and keeps them all");
    ok(took >= RECORDS * dur, "it takes at least %d x 100 us (took %.1f ms)", RECORDS,
       (double)took / 1e6);
    /* a sleep per record, not per poll tick: a generous bound, as the
     * machine may be busy (a 1 ms tick would make it 10 times) */
    ok(took < RECORDS * dur * 5, "and far less than a 1 ms tick per record (took %.1f ms)",
       (double)took / 1e6);
    batch_free(b);
    ops_free(o);
}

static void test_specs(void)
{
    char err[256];
    const char *bad[] = {"bogus", "grep:(", "sleep:forever", "spin:", "grep"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ops *o = compile_ops(&bad[i], 1, '\n', err, sizeof err);
        ok(!o && strstr(err, bad[i]) != NULL, "'%s' refused with a message naming it", bad[i]);
    }
    const char *cat[] = {"cat", "cat"}, *slow[] = {"sleep:1ms"}, *spin[] = {"upper", "spin:1us"};
    struct ops *o = compile_ops(cat, 2, '\n', err, sizeof err);
    ok(o && ops_identity(o) && !ops_slow(o), "cat alone is the identity, not slow");
    ops_free(o);
    o = compile_ops(slow, 1, '\n', err, sizeof err);
    ok(o && !ops_identity(o) && ops_slow(o), "sleep makes the chain slow");
    ops_free(o);
    o = compile_ops(spin, 2, '\n', err, sizeof err);
    ok(o && ops_slow(o), "spin makes the chain slow");
    ops_free(o);
    ops_free(NULL);
}

/* The repetition check (ops_check_repeats) and its refusal by name. */
static void test_repeats(void)
{
    static const char *const fine[] = {
        "a{1,1000}",
        "[{]{1,5}",
        "\\{",
        "\\{1000,1000}{1000}",
        "a{1000}b{1000}",
        "(a{1,10}){1,100}",
        "((a{2}){5}){100}",
        "a*{1,1000}",
        "[]{]{1,1000}",
        "[[:alpha:]{]{1000}",
        "(a|b{1,1000})",
        "a{1000,}",
        "(a+)*{1,1000}",
        "x{",
        "{1,5000}",
        "a{1,5}{",
        "(((a{1,1000})))",
        "a|(b){1,1000}",
        "(a{1,1000}|b",
        "a{,1000}",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        is_int(ops_check_repeats(fine[i]), 0, "'%s' is accepted", fine[i]);
    static const char *const big[] = {
        "a{1,1001}",         "(a{1,100}){1,100}",
        "a{1,1000}{1,1000}", "(a{1,10}|b){1,101}",
        "a{2}{501}",         "((a{2}){5}){101}",
        "(x(a){1,50}y){21}", "a{1001,}",
        "[]]{1,10}{1,101}",  "a{99999999999999999999}",
        "(a{1,1001}",        "(a){1,2}(b){1,101}{1,10}",
        "a{,1001}",          "a***********",
        "a+++++++++++",      "a*+++++++++++",
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        is_int(ops_check_repeats(big[i]), -E2BIG, "'%s' is refused", big[i]);
    char err[256];
    const char *spec[] = {"grepv:a{1,1000}{1,1000}"};
    struct ops *o = compile_ops(spec, 1, '\n', err, sizeof err);
    ok(!o && strstr(err, "--op 'grepv:a{1,1000}{1,1000}': repetition too large") != NULL,
       "grepv: a pattern repeated too much is refused by name (%s)", err);
}

int main(void)
{
    test_case_mapping();
    test_letter_delimiter();
    test_filters();
    test_input_kept();
    test_sleep_duration();
    test_specs();
    test_repeats();
    return done_testing();
}
