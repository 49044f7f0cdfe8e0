/* rejects_json.h - one line of --rejects-format json: a shed or failed
 * record as a JSON object (recno, outcome, reason, attempts, time, key,
 * record or record_base64, truncated). Pure formatting: no I/O, no
 * allocation, no shared state. */
#ifndef WEIR_REJECTS_JSON_H
#define WEIR_REJECTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reject_entry {
    uint64_t recno;
    const char *outcome; /* "dropped", "timed_out", "failed" */
    const char *reason;  /* plain ASCII words ("queue full", "exit 3") */
    unsigned attempts;
    int64_t time_ns; /* wall clock (CLOCK_REALTIME), ns since the epoch */
    const char *key; /* --key: the record's key, or NULL (no "key") */
    size_t key_len;
    const char *rec; /* the record without its delimiter */
    size_t len;
    bool truncated; /* rec is only the first bytes of the record */
};

/* Room rejects_json_line needs for e (an upper bound). */
size_t rejects_json_size(const struct reject_entry *e);
/* Writes e as one JSON object and a newline into out (rejects_json_size
 * bytes); returns the length written. */
size_t rejects_json_line(const struct reject_entry *e, char *out);

/* The pieces, for the tests: whether p[0..n) is valid UTF-8 (no
 * surrogates, no overlong forms); p as a JSON string body; base64 (RFC
 * 4648, padded); RFC 3339 UTC with milliseconds (24 bytes). Each returns
 * the bytes written. */
bool rejects_json_utf8(const char *p, size_t n);
size_t rejects_json_escape(const char *p, size_t n, char *out);
size_t rejects_json_base64(const char *p, size_t n, char *out);
size_t rejects_json_time(int64_t ns, char *out);

#endif
