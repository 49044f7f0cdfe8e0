/* parse.c - strict value parsers; see parse.h. */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* A non-negative decimal with an optional fraction; no sign, no exponent,
 * no white space (strtod would take all three). */
static int parse_decimal(const char *s, double *out, const char **end)
{
    const char *p = s;
    double v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (*p == '.') {
        double scale = 0.1;
        p++;
        while (*p >= '0' && *p <= '9') {
            v += (*p++ - '0') * scale;
            scale /= 10;
            digits++;
        }
    }
    if (digits == 0)
        return -EINVAL;
    *out = v;
    *end = p;
    return 0;
}

static int parse_uint(const char *s, uint64_t *out, const char **end)
{
    const char *p = s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p++ - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    *end = p;
    return 0;
}

static int size_shift(char c)
{
    switch (c) {
    case 'K':
    case 'k':
        return 10;
    case 'M':
    case 'm':
        return 20;
    case 'G':
    case 'g':
        return 30;
    case 'T':
    case 't':
        return 40;
    default:
        return -1;
    }
}

/* The power of 1000 that a decimal suffix stands for: k or K 1, M 2, G 3;
 * 0 for any other byte. Rates and counts share them; a lower-case m would
 * read as minutes in a rate, so it is none. */
static int decimal_suffix(char c)
{
    switch (c) {
    case 'k':
    case 'K':
        return 1;
    case 'M':
        return 2;
    case 'G':
        return 3;
    default:
        return 0;
    }
}

int parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *p;
    int rc = parse_uint(s, &v, &p);
    if (rc)
        return rc;
    int shift = 0;
    if (*p && size_shift(*p) >= 0) {
        shift = size_shift(*p++);
        if (*p == 'i' && p[1] == 'B')
            p += 2;
        else if (*p == 'B')
            p++;
    } else if (*p == 'B') {
        p++;
    }
    if (*p)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    v <<= shift;
    if (v == 0)
        return -ERANGE;
    *out = v;
    return 0;
}

int parse_duration(const char *s, int64_t *out_ns)
{
    double v;
    const char *p;
    int rc = parse_decimal(s, &v, &p);
    if (rc)
        return rc;
    static const struct {
        const char *unit;
        double ns;
    } units[] = {
        {"", 1e9},  {"ns", 1},   {"us", 1e3},   {"ms", 1e6},
        {"s", 1e9}, {"m", 6e10}, {"h", 3.6e12}, {"d", 8.64e13},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].unit) == 0) {
            double ns = v * units[i].ns;
            if (!(ns < 9.2e18))
                return -ERANGE;
            *out_ns = (int64_t)llround(ns);
            return 0;
        }
    }
    return -EINVAL;
}

/* Exact, with no double in between: the fraction's digits are moved into
 * the integer one by one as the suffix scales it ("2.5k": 25, 250, 2500),
 * and any left over must be zeros. */
int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    const char *p, *frac = "";
    int rc = parse_uint(s, &v, &p);
    if (rc)
        return rc;
    size_t nfrac = 0, scale = 0;
    if (*p == '.') {
        frac = ++p;
        nfrac = strspn(frac, "0123456789");
        p += nfrac;
        if (nfrac == 0)
            return -EINVAL;
    }
    if (*p) {
        scale = 3 * (size_t)decimal_suffix(*p++);
        if (scale == 0 || *p)
            return -EINVAL;
    }
    for (size_t i = 0; i < scale; i++) {
        unsigned d = i < nfrac ? (unsigned)(frac[i] - '0') : 0;
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (nfrac > scale && strspn(frac + scale, "0") < nfrac - scale)
        return -EINVAL; /* not a whole number: "1.5", "2.5001k" */
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int parse_delim(const char *s, unsigned char *out)
{
    if (s[0] == '\0')
        return -EINVAL;
    if (s[0] != '\\') {
        if (s[1])
            return -EINVAL;
        *out = (unsigned char)s[0];
        return 0;
    }
    unsigned char c;
    const char *rest = s + 2;
    switch (s[1]) {
    case 'n':
        c = '\n';
        break;
    case 't':
        c = '\t';
        break;
    case 'r':
        c = '\r';
        break;
    case '0':
        c = '\0';
        break;
    case '\\':
        c = '\\';
        break;
    case 'x': {
        int hi = hexval(s[2]), lo = hi < 0 ? -1 : hexval(s[3]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        c = (unsigned char)(hi * 16 + lo);
        rest = s + 4;
        break;
    }
    default:
        return -EINVAL;
    }
    if (*rest)
        return -EINVAL;
    *out = c;
    return 0;
}

int parse_rate(const char *s, int binary, double *out_per_sec)
{
    double v;
    const char *p;
    int rc = parse_decimal(s, &v, &p);
    if (rc)
        return rc;
    if (*p && *p != '/') {
        int power = decimal_suffix(*p++);
        if (!power)
            return -EINVAL;
        v *= binary ? (double)(UINT64_C(1) << (10 * power)) : pow(1000, power);
    }
    double per_ns = 1e9; /* the period, in ns: one second by default */
    if (*p == '/') {
        p++;
        double n = 1;
        if (*p >= '0' && *p <= '9') {
            rc = parse_decimal(p, &n, &p);
            if (rc)
                return rc;
        }
        int64_t unit_ns;
        if (strcmp(p, "s") == 0)
            unit_ns = NS_PER_SEC;
        else if (strcmp(p, "ms") == 0)
            unit_ns = NS_PER_MS;
        else if (strcmp(p, "m") == 0)
            unit_ns = 60 * NS_PER_SEC;
        else if (strcmp(p, "h") == 0)
            unit_ns = 3600 * NS_PER_SEC;
        else if (strcmp(p, "d") == 0)
            unit_ns = 86400 * NS_PER_SEC;
        else
            return -EINVAL;
        per_ns = n * (double)unit_ns;
    } else if (*p) {
        return -EINVAL;
    }
    if (!(v > 0) || !(per_ns > 0))
        return -ERANGE;
    double r = v * 1e9 / per_ns;
    if (!(r > 0) || !isfinite(r) || r > 1e12)
        return -ERANGE;
    *out_per_sec = r;
    return 0;
}
