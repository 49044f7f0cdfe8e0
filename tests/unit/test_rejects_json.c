/* test_rejects_json.c - the JSON line of --rejects-format json
 * (rejects_json.h): escaping, UTF-8 validation, base64, RFC 3339 time,
 * and a whole line. */
#include <stdint.h>
#include <string.h>

#include "rejects_json.h"
#include "tap.h"

static const char *esc(const char *p, size_t n)
{
    static char out[256];
    out[rejects_json_escape(p, n, out)] = '\0';
    return out;
}

static const char *b64(const char *p)
{
    static char out[64];
    out[rejects_json_base64(p, strlen(p), out)] = '\0';
    return out;
}

int main(void)
{
    is_str(esc("a\"b\\c", 5), "a\\\"b\\\\c", "quote and backslash");
    is_str(esc("\n\r\t\b\f", 5), "\\n\\r\\t\\b\\f", "short escapes");
    is_str(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f", "control bytes as \\u00XX");
    is_str(esc("x\0y", 3), "x\\u0000y", "a NUL byte");
    is_str(esc("h\xc3\xa9", 3), "h\xc3\xa9", "UTF-8 passes as it is");

    ok(rejects_json_utf8("plain", 5), "ASCII is UTF-8");
    ok(rejects_json_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), "2, 3 and 4 byte forms");
    ok(!rejects_json_utf8("\xff", 1), "0xFF is not");
    ok(!rejects_json_utf8("\xc3", 1), "a cut sequence is not");
    ok(!rejects_json_utf8("\xc0\xaf", 2), "an overlong form is not");
    ok(!rejects_json_utf8("\xe0\x80\xaf", 3), "an overlong 3 byte form is not");
    ok(!rejects_json_utf8("\xed\xa0\x80", 3), "a surrogate is not");
    ok(!rejects_json_utf8("\xf4\x90\x80\x80", 4), "past U+10FFFF is not");
    ok(!rejects_json_utf8("\xc3\x28", 2), "a bad continuation is not");

    is_str(b64(""), "", "base64 of nothing");
    is_str(b64("f"), "Zg==", "base64 f");
    is_str(b64("fo"), "Zm8=", "base64 fo");
    is_str(b64("foo"), "Zm9v", "base64 foo");
    is_str(b64("foobar"), "Zm9vYmFy", "base64 foobar");
    is_str(b64("\xff\xfe"), "//4=", "base64 high bytes");

    char t[32];
    t[rejects_json_time(INT64_C(1796701201123456789), t)] = '\0';
    is_str(t, "2026-12-08T03:40:01.123Z", "RFC 3339 UTC with milliseconds");
    t[rejects_json_time(0, t)] = '\0';
    is_str(t, "1970-01-01T00:00:00.000Z", "the epoch");

    struct reject_entry e = {.recno = 7,
                             .outcome = "failed",
                             .reason = "exit 3",
                             .attempts = 2,
                             .time_ns = 0,
                             .key = "k\"1",
                             .key_len = 3,
                             .rec = "a\tb",
                             .len = 3};
    char line[512];
    ok(rejects_json_size(&e) < sizeof line, "size fits");
    line[rejects_json_line(&e, line)] = '\0';
    is_str(line,
           "{\"recno\":7,\"outcome\":\"failed\",\"reason\":\"exit 3\",\"attempts\":2,"
           "\"time\":\"1970-01-01T00:00:00.000Z\",\"key\":\"k\\\"1\",\"record\":\"a\\tb\"}\n",
           "a whole line");
    e = (struct reject_entry){.recno = 1,
                              .outcome = "dropped",
                              .reason = "too long",
                              .rec = "\xff",
                              .len = 1,
                              .truncated = true};
    line[rejects_json_line(&e, line)] = '\0';
    is_str(line,
           "{\"recno\":1,\"outcome\":\"dropped\",\"reason\":\"too long\",\"attempts\":0,"
           "\"time\":\"1970-01-01T00:00:00.000Z\",\"record_base64\":\"/w==\",\"truncated\":true}\n",
           "base64 and truncated");
    done_testing();
}
