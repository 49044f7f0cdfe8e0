/* key.c - parsing --key and finding a record's key; see key.h. A parsed
 * spec is read-only: any number of threads may call key_of on it, each
 * with its own key_buf (glibc's regexec is safe on a shared regex_t). */
#include "key.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ops.h"

#define FIELD_MAX 1000000 /* highest field number taken */

struct key_spec {
    enum key_kind kind;
    unsigned fields[KEY_FIELDS_MAX]; /* KEY_FIELDS: 1-based; KEY_SUBJECT: fields[0] */
    unsigned nfields;
    bool has_sep;
    unsigned char sep;
    regex_t re; /* KEY_REGEX */
    int group;  /* the group taken: 1, or 0 (the whole match) */
};

/* A positive number at *s, up to FIELD_MAX; *s moves past it. */
static int field_number(const char **s, unsigned *out)
{
    const char *p = *s;
    unsigned long v = 0;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > FIELD_MAX)
            return -EINVAL;
    }
    if (v == 0)
        return -EINVAL;
    *out = (unsigned)v;
    *s = p;
    return 0;
}

static int parse_fields(struct key_spec *k, const char *s, char *msg, size_t msglen)
{
    for (;;) {
        if (k->nfields == KEY_FIELDS_MAX) {
            snprintf(msg, msglen, "at most %d fields", KEY_FIELDS_MAX);
            return -EINVAL;
        }
        if (field_number(&s, &k->fields[k->nfields]) != 0) {
            snprintf(msg, msglen,
                     "expected field numbers from 1 to %d (N or N,M,...), re:ERE "
                     "or subject:N",
                     FIELD_MAX);
            return -EINVAL;
        }
        k->nfields++;
        if (*s == '\0')
            return 0;
        if (*s++ != ',') {
            snprintf(msg, msglen, "expected N or N,M,..., re:ERE or subject:N");
            return -EINVAL;
        }
    }
}

static int parse_regex(struct key_spec *k, const char *ere, char *msg, size_t msglen)
{
    int rc = ops_check_repeats(ere);
    if (rc == -E2BIG) {
        snprintf(msg, msglen,
                 "repetition too large: its {n,m} repetitions, multiplied where "
                 "stacked or nested, repeat a part more than %d times",
                 OPS_REPEAT_MAX);
        return -EINVAL;
    }
    if (rc)
        return rc;
    rc = regcomp(&k->re, ere, REG_EXTENDED);
    if (rc == REG_ESPACE)
        return -ENOMEM;
    if (rc) {
        char err[128];
        regerror(rc, &k->re, err, sizeof err);
        snprintf(msg, msglen, "re:%s: %s", ere, err);
        return -EINVAL;
    }
    k->group = k->re.re_nsub > 0 ? 1 : 0;
    k->kind = KEY_REGEX;
    return 0;
}

int key_spec_parse(const char *spec, bool has_sep, unsigned char sep, struct key_spec **out,
                   char *msg, size_t msglen)
{
    struct key_spec *k = calloc(1, sizeof *k);
    if (!k)
        return -ENOMEM;
    k->has_sep = has_sep;
    k->sep = sep;
    int rc;
    if (strncmp(spec, "re:", 3) == 0) {
        rc = parse_regex(k, spec + 3, msg, msglen);
    } else if (strncmp(spec, "subject:", 8) == 0) {
        const char *s = spec + 8;
        rc = field_number(&s, &k->fields[0]) == 0 && *s == '\0' ? 0 : -EINVAL;
        if (rc)
            snprintf(msg, msglen, "subject:N takes a token number from 1 to %d", FIELD_MAX);
        k->nfields = 1;
        k->kind = KEY_SUBJECT;
    } else {
        rc = parse_fields(k, spec, msg, msglen);
        k->kind = KEY_FIELDS;
    }
    if (rc) {
        free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void key_spec_free(struct key_spec *k)
{
    if (!k)
        return;
    if (k->kind == KEY_REGEX)
        regfree(&k->re);
    free(k);
}

enum key_kind key_spec_kind(const struct key_spec *k)
{
    return k->kind;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Field `idx` (1-based) of p[0..n) split at every `sep`. */
static bool field_at_sep(const char *p, size_t n, unsigned char sep, unsigned idx, const char **f,
                         size_t *fl)
{
    const char *end = p + n;
    for (unsigned i = 1; i < idx; i++) {
        const char *s = memchr(p, sep, (size_t)(end - p));
        if (!s)
            return false;
        p = s + 1;
    }
    const char *s = memchr(p, sep, (size_t)(end - p));
    *f = p;
    *fl = (size_t)((s ? s : end) - p);
    return true;
}

/* Field `idx` of p[0..n) split by runs of blanks, as awk's default. */
static bool field_at_blanks(const char *p, size_t n, unsigned idx, const char **f, size_t *fl)
{
    const char *end = p + n;
    for (unsigned i = 1;; i++) {
        while (p < end && blank(*p))
            p++;
        if (p == end)
            return false;
        const char *s = p;
        while (s < end && !blank(*s))
            s++;
        if (i == idx) {
            *f = p;
            *fl = (size_t)(s - p);
            return true;
        }
        p = s;
    }
}

static bool field_of(const struct key_spec *k, const char *p, size_t n, unsigned idx,
                     const char **f, size_t *fl)
{
    return k->has_sep ? field_at_sep(p, n, k->sep, idx, f, fl) : field_at_blanks(p, n, idx, f, fl);
}

/* Several fields, joined by the separator into buf (cut at KEY_MAX). */
static bool joined_fields(const struct key_spec *k, const char *p, size_t n, struct key_buf *buf,
                          size_t *len)
{
    size_t at = 0;
    for (unsigned i = 0; i < k->nfields; i++) {
        const char *f;
        size_t fl;
        if (!field_of(k, p, n, k->fields[i], &f, &fl))
            return false;
        if (i > 0 && at < KEY_MAX)
            buf->data[at++] = k->has_sep ? (char)k->sep : ' ';
        fl = MIN(fl, KEY_MAX - at);
        memcpy(buf->data + at, f, fl);
        at += fl;
    }
    *len = at;
    return true;
}

/* regexec on p[0..n). glibc honours REG_STARTEND (NUL bytes inside
 * records match as data), but sanitizer interceptors read the subject up to
 * a NUL, so it gets a terminated copy: on the stack when short, else on the
 * heap (no memory: no key). The key points into p all the same. */
static bool regex_key(const struct key_spec *k, const char *p, size_t n, const char **key,
                      size_t *len)
{
    char small[1024], *s = small;
    n = MIN(n, (size_t)INT_MAX);
    if (n >= sizeof small && !(s = malloc(n + 1)))
        return false;
    memcpy(s, p, n);
    s[n] = '\0';
    regmatch_t m[2];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    bool found = regexec(&k->re, s, 2, m, REG_STARTEND) == 0 && m[k->group].rm_so >= 0;
    if (s != small)
        free(s);
    if (!found)
        return false;
    *key = p + m[k->group].rm_so;
    *len = (size_t)(m[k->group].rm_eo - m[k->group].rm_so);
    return true;
}

bool key_of(const struct key_spec *k, const char *p, size_t n, struct key_buf *buf,
            const char **key, size_t *len)
{
    bool found = false;
    *key = "";
    *len = 0;
    switch (k->kind) {
    case KEY_FIELDS:
        if (k->nfields == 1) {
            found = field_of(k, p, n, k->fields[0], key, len);
        } else {
            found = joined_fields(k, p, n, buf, len);
            *key = buf->data;
        }
        break;
    case KEY_REGEX:
        found = regex_key(k, p, n, key, len);
        break;
    case KEY_SUBJECT:
        break;
    }
    if (!found) {
        *key = "";
        *len = 0;
    }
    *len = MIN(*len, KEY_MAX);
    return found;
}

bool key_present(const struct key_spec *k, const char *p, size_t n)
{
    if (k->kind != KEY_FIELDS) {
        struct key_buf buf;
        const char *key;
        size_t len;
        return key_of(k, p, n, &buf, &key, &len);
    }
    for (unsigned i = 0; i < k->nfields; i++) {
        const char *f;
        size_t fl;
        if (!field_of(k, p, n, k->fields[i], &f, &fl))
            return false;
    }
    return true;
}

bool key_of_subject(const struct key_spec *k, const char *subj, size_t n, const char **key,
                    size_t *len)
{
    bool found = k->kind == KEY_SUBJECT && field_at_sep(subj, n, '.', k->fields[0], key, len);
    if (!found) {
        *key = "";
        *len = 0;
    }
    return found;
}

uint64_t key_hash(const char *key, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}
