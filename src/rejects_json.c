/* rejects_json.c - the JSON line of --rejects-format json; see
 * rejects_json.h. Pure functions: any thread. */
#include "rejects_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool rejects_json_utf8(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e) {
        unsigned c = *s++;
        if (c < 0x80)
            continue;
        size_t more = c >= 0xC2 && c <= 0xDF   ? 1
                      : c >= 0xE0 && c <= 0xEF ? 2
                      : c >= 0xF0 && c <= 0xF4 ? 3
                                               : 0;
        if (more == 0 || (size_t)(e - s) < more)
            return false;
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
        else if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
        if (s[0] < lo || s[0] > hi)
            return false;
        for (size_t k = 1; k < more; k++)
            if ((s[k] & 0xC0) != 0x80)
                return false;
        s += more;
    }
    return true;
}

size_t rejects_json_escape(const char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *short_esc = c == '"'    ? "\\\""
                                : c == '\\' ? "\\\\"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
        if (short_esc) {
            *o++ = short_esc[0];
            *o++ = short_esc[1];
        } else if (c < 0x20 || c == 0x7F) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    return (size_t)(o - out);
}

size_t rejects_json_base64(const char *p, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)p;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = al[v >> 18];
        *o++ = al[(v >> 12) & 63];
        *o++ = al[(v >> 6) & 63];
        *o++ = al[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = al[v >> 18];
        *o++ = al[(v >> 12) & 63];
        *o++ = i + 1 < n ? al[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    return (size_t)(o - out);
}

size_t rejects_json_time(int64_t ns, char *out)
{
    time_t sec = (time_t)(ns / 1000000000);
    struct tm tm;
    if (!gmtime_r(&sec, &tm))
        memset(&tm, 0, sizeof tm);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ns % 1000000000 / 1000000));
    memcpy(out, buf, (size_t)n);
    return (size_t)n;
}

size_t rejects_json_size(const struct reject_entry *e)
{
    /* fixed text and numbers; escaping makes at most 6 bytes of one,
     * base64 4 of 3 */
    return 256 + strlen(e->outcome) + 6 * strlen(e->reason) + 6 * e->key_len + 6 * e->len;
}

static char *put(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

size_t rejects_json_line(const struct reject_entry *e, char *out)
{
    char *o = out;
    o +=
        sprintf(o, "{\"recno\":%" PRIu64 ",\"outcome\":\"%s\",\"reason\":\"", e->recno, e->outcome);
    o += rejects_json_escape(e->reason, strlen(e->reason), o);
    o += sprintf(o, "\",\"attempts\":%u,\"time\":\"", e->attempts);
    o += rejects_json_time(e->time_ns, o);
    o = put(o, "\"");
    if (e->key) {
        bool text = rejects_json_utf8(e->key, e->key_len);
        o = put(o, text ? ",\"key\":\"" : ",\"key_base64\":\"");
        o += text ? rejects_json_escape(e->key, e->key_len, o)
                  : rejects_json_base64(e->key, e->key_len, o);
        o = put(o, "\"");
    }
    bool text = rejects_json_utf8(e->rec, e->len);
    o = put(o, text ? ",\"record\":\"" : ",\"record_base64\":\"");
    o += text ? rejects_json_escape(e->rec, e->len, o) : rejects_json_base64(e->rec, e->len, o);
    o = put(o, e->truncated ? "\",\"truncated\":true}\n" : "\"}\n");
    return (size_t)(o - out);
}
