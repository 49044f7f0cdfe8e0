/* fuzz_parse.c - the value parsers (parse.h) and operation specs (ops.h).
 *
 * Input: a selector byte, then the text (a NUL ends it early). The text
 * sits in a buffer of its exact size, so reading past its NUL is caught.
 *   0 parse_size   1 parse_duration   2 parse_count   3 parse_delim
 *   4 parse_rate   5 parse_rate, binary   6 ops_new (specs split on NUL;
 *   the selector's high bits pick the delimiter)
 *
 * Every parser must return 0, -EINVAL or -ERANGE; leave *out alone on
 * failure; refuse leading or trailing white space; accept only values in
 * its documented bounds; and give the same answer twice. Sizes, counts and
 * delimiters are also compared with a reference parser written here. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENTINEL 0x5a

static void fail(const char *what, const char *s)
{
    fprintf(stderr, "fuzz_parse: %s: input '%s'\n", what, s);
    abort();
}

/* The checks every parser's answer gets. */
static void check_rc(int rc, const char *s, const void *out, size_t outlen)
{
    if (rc != 0 && rc != -EINVAL && rc != -ERANGE)
        fail("return code other than 0, -EINVAL or -ERANGE", s);
    size_t len = strlen(s);
    bool blank = len && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]));
    if (rc == 0 && (len == 0 || blank) && !(len == 1 && s[0] != '\\'))
        fail("accepted empty text or white space around it", s);
    const unsigned char *p = out;
    for (size_t i = 0; rc != 0 && i < outlen; i++)
        if (p[i] != SENTINEL)
            fail("changed *out on failure", s);
}

/* Both -EINVAL and -ERANGE are right for text that is junk and out of
 * range ("99999999999999999999x"): the parser may find either first. */
static bool same_error(int rc, int ref, bool junk, bool range)
{
    if (junk && range)
        return rc == -EINVAL || rc == -ERANGE;
    return rc == ref;
}

/* The value of the leading digits of s, saturated past UINT64_MAX. */
static unsigned __int128 digits_value(const char *s, size_t digits)
{
    unsigned __int128 v = 0;
    for (size_t i = 0; i < digits && v <= UINT64_MAX; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* Reference: digits, then an optional K/M/G/T (either case) with an
 * optional B or iB, or a lone B. */
static void fuzz_size(const char *s)
{
    static const char units[] = "kmgt";
    size_t digits = strspn(s, "0123456789");
    const char *p = s + digits, *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
    unsigned shift = u ? 10 * (unsigned)(u - units + 1) : 0;
    p += u != NULL;
    p += strcmp(p, "iB") == 0 && u ? 2 : *p == 'B';
    unsigned __int128 want = digits_value(s, digits);
    bool junk = !digits || *p, range = digits && (want > (UINT64_MAX >> shift) || want == 0);
    int ref = junk ? -EINVAL : range ? -ERANGE : 0;
    uint64_t v, v2;
    memset(&v, SENTINEL, sizeof v);
    int rc = parse_size(s, &v);
    check_rc(rc, s, &v, sizeof v);
    if (!same_error(rc, ref, junk, range) || (rc == 0 && v != (uint64_t)(want << shift)))
        fail("parse_size differs from the reference", s);
    if (parse_size(s, &v2) != rc || (rc == 0 && v2 != v))
        fail("parse_size not deterministic", s);
}

static void fuzz_duration(const char *s)
{
    int64_t v, v2;
    memset(&v, SENTINEL, sizeof v);
    int rc = parse_duration(s, &v);
    check_rc(rc, s, &v, sizeof v);
    if (rc == 0 && v < 0)
        fail("parse_duration gave a negative duration", s);
    if (rc == 0 && !isdigit((unsigned char)s[0]) && s[0] != '.')
        fail("parse_duration accepted text not starting with a number", s);
    if (parse_duration(s, &v2) != rc || (rc == 0 && v2 != v))
        fail("parse_duration not deterministic", s);
}

/* Reference: digits, then an optional '.' and digits, then an optional
 * k/K/M/G (x1000, x10^6, x10^9); the fraction's digits past the suffix's
 * scale must be zeros (a whole number). */
static void fuzz_count(const char *s, uint8_t sel)
{
    static const uint64_t bounds[][2] = {
        {0, 1024}, {1, UINT64_C(1) << 30}, {0, 1000}, {1, 100}, {0, UINT64_MAX}, {7, 7},
    };
    const uint64_t *b = bounds[(sel >> 3) % (sizeof bounds / sizeof bounds[0])];
    size_t digits = strspn(s, "0123456789"), nfrac = 0;
    const char *p = s + digits, *frac = p + (*p == '.');
    if (*p == '.')
        p += 1 + (nfrac = strspn(frac, "0123456789"));
    const char *u = *p ? strchr("kKMG", *p) : NULL;
    size_t scale = !u ? 0 : *u == 'M' ? 6 : *u == 'G' ? 9 : 3;
    p += u != NULL;
    unsigned __int128 want = digits_value(s, digits);
    for (size_t i = 0; i < scale && want <= UINT64_MAX; i++)
        want = want * 10 + (i < nfrac ? (unsigned)(frac[i] - '0') : 0);
    bool whole = nfrac <= scale || strspn(frac + scale, "0") == nfrac - scale;
    bool junk = !digits || *p || (frac > s + digits && !nfrac) || !whole;
    bool range = digits && (want < b[0] || want > b[1]);
    int ref = junk ? -EINVAL : range ? -ERANGE : 0;
    uint64_t v, v2;
    memset(&v, SENTINEL, sizeof v);
    int rc = parse_count(s, b[0], b[1], &v);
    check_rc(rc, s, &v, sizeof v);
    if (!same_error(rc, ref, junk, range) || (rc == 0 && v != want))
        fail("parse_count differs from the reference", s);
    if (parse_count(s, b[0], b[1], &v2) != rc || (rc == 0 && v2 != v))
        fail("parse_count not deterministic", s);
}

/* Reference: one byte other than a lone backslash, or an escape. */
static int ref_delim(const char *s, unsigned char *out)
{
    static const char esc[] = "n\nt\tr\r0\0\\\\";
    unsigned x;
    int n = 0;
    if (s[0] && !s[1] && s[0] != '\\')
        return *out = (unsigned char)s[0], 0;
    for (size_t i = 0; s[0] == '\\' && s[1] && i < sizeof esc - 1; i += 2)
        if (s[1] == esc[i] && !s[2])
            return *out = (unsigned char)esc[i + 1], 0;
    if (strncmp(s, "\\x", 2) == 0 && isxdigit((unsigned char)s[2]) &&
        isxdigit((unsigned char)s[3]) && sscanf(s + 2, "%2x%n", &x, &n) == 1 && n == 2 && !s[4])
        return *out = (unsigned char)x, 0;
    return -EINVAL;
}

static void fuzz_delim(const char *s)
{
    unsigned char v, v2, want = 0;
    memset(&v, SENTINEL, sizeof v);
    int rc = parse_delim(s, &v);
    check_rc(rc, s, &v, sizeof v);
    if (rc != ref_delim(s, &want) || (rc == 0 && v != want))
        fail("parse_delim differs from the reference", s);
    if (parse_delim(s, &v2) != rc || (rc == 0 && v2 != v))
        fail("parse_delim not deterministic", s);
}

static void fuzz_rate(const char *s, int binary)
{
    double v, v2;
    memset(&v, SENTINEL, sizeof v);
    int rc = parse_rate(s, binary, &v);
    check_rc(rc, s, &v, sizeof v);
    if (rc == 0 && !(v > 0 && v <= 1e12))
        fail("parse_rate accepted a rate outside (0, 1e12]", s);
    if (parse_rate(s, binary, &v2) != rc || (rc == 0 && memcmp(&v, &v2, sizeof v)))
        fail("parse_rate not deterministic", s);
}

/* What a compiled chain must say of itself: identity when every spec is
 * cat, slow when one sleeps or spins. */
static void check_chain(const struct ops *o, const char *const *specs, size_t n)
{
    bool identity = true, slow = false;
    for (size_t i = 0; i < n; i++) {
        identity = identity && strcmp(specs[i], "cat") == 0;
        slow = slow || strncmp(specs[i], "sleep:", 6) == 0 || strncmp(specs[i], "spin:", 5) == 0;
    }
    if (ops_identity(o) != identity || ops_slow(o) != slow)
        fail("ops_identity or ops_slow wrong for the specs", specs[0]);
}

/* glibc's regcomp copies the tree under each '+' and {n,m}, and stacked
 * ones multiply ("a++++++++++++++++++++++" takes 3 GB, "a*+++++++++++"
 * 4.5 s, even without ASan). Such patterns are left out (an upper bound of
 * the copies: 2 per '+', n + 1 per {n,m}), so that the fuzzer looks
 * elsewhere. */
static double brace_max(const char *p) /* the largest number in {...} at p */
{
    double max = 0;
    for (p++; *p && *p != '}'; p++)
        if (isdigit((unsigned char)*p))
            max = fmax(max, (double)strtoul(p, NULL, 10));
    return max;
}

static bool regex_too_costly(const char *spec)
{
    if (strncmp(spec, "grep:", 5) != 0 && strncmp(spec, "grepv:", 6) != 0)
        return false;
    double copies = 1;
    for (const char *p = spec; *p; p++)
        copies *= *p == '+' ? 2 : *p == '{' ? 1 + brace_max(p) : 1;
    return !(copies <= 128);
}

/* Specs: s[0..len) split on NUL, at most 8. */
static void fuzz_ops(const char *s, size_t len, uint8_t sel)
{
    static const unsigned char delims[] = {'\n', '\0', ',', 'a', 'Z', '\t', 0xff, '|'};
    const char *specs[8];
    size_t n = 0;
    for (const char *p = s; p <= s + len && n < 8; p += strlen(p) + 1)
        specs[n++] = p;
    for (size_t i = 0; i < n; i++)
        if (regex_too_costly(specs[i]))
            return;
    unsigned char delim = delims[(sel >> 3) & 7];
    struct ops *o = NULL;
    char msg[256] = "", msg2[256] = "";
    int rc = ops_new(specs, n, delim, &o, msg, sizeof msg);
    if (rc != 0 && rc != -EINVAL)
        fail("ops_new returned other than 0 or -EINVAL", s);
    if (rc == -EINVAL && (!msg[0] || !memchr(msg, 0, sizeof msg)))
        fail("ops_new failed without a message", s);
    if (rc == 0)
        check_chain(o, specs, n);
    ops_free(o);
    o = NULL;
    if (ops_new(specs, n, delim, &o, msg2, sizeof msg2) != rc || strcmp(msg, msg2))
        fail("ops_new not deterministic", s);
    ops_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t len = size - 1;
    char *s = malloc(len + 1); /* exact size: ASan sees any read past the NUL */
    if (!s)
        abort();
    memcpy(s, data + 1, len);
    s[len] = '\0';
    switch (sel & 7) {
    case 0:
        fuzz_size(s);
        break;
    case 1:
        fuzz_duration(s);
        break;
    case 2:
        fuzz_count(s, sel);
        break;
    case 3:
        fuzz_delim(s);
        break;
    case 4:
    case 5:
        fuzz_rate(s, (sel & 7) == 5);
        break;
    default:
        fuzz_ops(s, len, sel);
        break;
    }
    free(s);
    return 0;
}
