/* test_ops.c - built-in operations: compiling specs, case mapping over every
 * byte value (whole-span and per-record paths), filters, and the output
 * segments a batch gets. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "ops.h"
#include "tap.h"

/* A batch of the records in `text` (delimiter delim), all in one chunk. */
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

/* Runs specs over text and returns the output in out. */
static size_t run(const char *const *specs, size_t n, const char *text, size_t len,
                  unsigned char delim, char *out, size_t cap)
{
    char err[256];
    struct ops *o = ops_new(specs, n, delim, err, sizeof err);
    if (!o) {
        printf("# ops_new: %s\n", err);
        return 0;
    }
    struct batch *b = batch_of(text, len, delim);
    size_t got = ops_run(o, b) == 0 ? output_of(b, out, cap) : 0;
    batch_free(b);
    ops_free(o);
    return got;
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

static void test_specs(void)
{
    char err[256];
    const char *bad[] = {"bogus", "grep:(", "sleep:forever", "spin:", "grep"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ops *o = ops_new(&bad[i], 1, '\n', err, sizeof err);
        ok(!o && strstr(err, bad[i]) != NULL, "'%s' refused with a message naming it", bad[i]);
    }
    const char *cat[] = {"cat", "cat"}, *slow[] = {"sleep:1ms"}, *spin[] = {"upper", "spin:1us"};
    struct ops *o = ops_new(cat, 2, '\n', err, sizeof err);
    ok(o && ops_identity(o) && !ops_slow(o), "cat alone is the identity, not slow");
    ops_free(o);
    o = ops_new(slow, 1, '\n', err, sizeof err);
    ok(o && !ops_identity(o) && ops_slow(o), "sleep makes the chain slow");
    ops_free(o);
    o = ops_new(spin, 2, '\n', err, sizeof err);
    ok(o && ops_slow(o), "spin makes the chain slow");
    ops_free(o);
    ops_free(NULL);
}

int main(void)
{
    test_case_mapping();
    test_letter_delimiter();
    test_filters();
    test_specs();
    return done_testing();
}
