/* test_parse.c - the strict value parsers behind every flag (parse.h):
 * what a user may type is taken at its exact value, anything else is
 * refused with -EINVAL (junk) or -ERANGE (out of range) and the output
 * is left alone. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "parse.h"
#include "tap.h"

#define SENTINEL_U64 UINT64_C(0xdeadbeef)
#define SENTINEL_NS INT64_C(-777)

static void size_ok(const char *s, uint64_t want)
{
    uint64_t v = SENTINEL_U64;
    int rc = parse_size(s, &v);
    ok(rc == 0 && v == want, "size \"%s\" = %" PRIu64 " (rc %d, got %" PRIu64 ")", s, want, rc, v);
}

static void size_bad(const char *s, int want_rc)
{
    uint64_t v = SENTINEL_U64;
    int rc = parse_size(s, &v);
    ok(rc == want_rc && v == SENTINEL_U64, "size \"%s\" refused with %d, value untouched (rc %d)",
       s, want_rc, rc);
}

static void test_sizes(void)
{
    size_ok("512", 512);
    size_ok("1", 1);
    size_ok("64K", 64 * 1024);
    size_ok("64k", 64 * 1024);
    size_ok("16M", UINT64_C(16) << 20);
    size_ok("1G", UINT64_C(1) << 30);
    size_ok("1T", UINT64_C(1) << 40);
    size_ok("64KiB", 64 * 1024);
    size_ok("64KB", 64 * 1024);
    size_ok("100B", 100);
    size_ok("16777215T", UINT64_C(16777215) << 40); /* the largest T that fits */
    size_ok("18446744073709551615", UINT64_MAX);

    size_bad("0", -ERANGE);
    size_bad("0K", -ERANGE);
    size_bad("", -EINVAL);
    size_bad("K", -EINVAL);
    size_bad("abc", -EINVAL);
    size_bad("12abc", -EINVAL);
    size_bad("64X", -EINVAL);
    size_bad("64Ki", -EINVAL);
    size_bad("64KiBx", -EINVAL);
    size_bad(" 5", -EINVAL);
    size_bad("5 ", -EINVAL);
    size_bad("-1", -EINVAL);
    size_bad("+1", -EINVAL);
    size_bad("1.5K", -EINVAL);
    size_bad("0x10", -EINVAL);
    size_bad("99999999999T", -ERANGE);
    size_bad("16777216T", -ERANGE);
    size_bad("18446744073709551616", -ERANGE);
    size_bad("99999999999999999999999", -ERANGE);
}

static void dur_ok(const char *s, int64_t want)
{
    int64_t v = SENTINEL_NS;
    int rc = parse_duration(s, &v);
    ok(rc == 0 && v == want, "duration \"%s\" = %" PRId64 " ns (rc %d, got %" PRId64 ")", s, want,
       rc, v);
}

static void dur_bad(const char *s, int want_rc)
{
    int64_t v = SENTINEL_NS;
    int rc = parse_duration(s, &v);
    ok(rc == want_rc && v == SENTINEL_NS, "duration \"%s\" refused with %d (rc %d)", s, want_rc,
       rc);
}

static void test_durations(void)
{
    dur_ok("250us", 250000);
    dur_ok("100ms", 100000000);
    dur_ok("2s", 2000000000);
    dur_ok("1.5m", INT64_C(90000000000));
    dur_ok("1h", INT64_C(3600000000000));
    dur_ok("1d", INT64_C(86400000000000));
    dur_ok("0.5", 500000000);
    dur_ok("3", INT64_C(3000000000));
    dur_ok("0", 0);
    dur_ok("0s", 0);
    dur_ok("7ns", 7);
    dur_ok("0.1", 100000000);
    dur_ok("0.001s", 1000000);

    dur_bad("", -EINVAL);
    dur_bad("s", -EINVAL);
    dur_bad(".", -EINVAL);
    dur_bad("junk", -EINVAL);
    dur_bad("1x", -EINVAL);
    dur_bad("1sec", -EINVAL);
    dur_bad("1 s", -EINVAL);
    dur_bad(" 1s", -EINVAL);
    dur_bad("1s ", -EINVAL);
    dur_bad("-1", -EINVAL);
    dur_bad("-1s", -EINVAL);
    dur_bad("1e3", -EINVAL);
    dur_bad("1.2.3s", -EINVAL);
    dur_bad("99999999999h", -ERANGE); /* beyond int64 nanoseconds */
    dur_bad("10000000000", -ERANGE);  /* 1e10 s = 1e19 ns */
}

static void count_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
    uint64_t v = SENTINEL_U64;
    int rc = parse_count(s, min, max, &v);
    ok(rc == 0 && v == want, "count \"%s\" in [%" PRIu64 ", %" PRIu64 "] = %" PRIu64 " (rc %d)", s,
       min, max, want, rc);
}

static void count_bad(const char *s, uint64_t min, uint64_t max, int want_rc)
{
    uint64_t v = SENTINEL_U64;
    int rc = parse_count(s, min, max, &v);
    ok(rc == want_rc && v == SENTINEL_U64,
       "count \"%s\" in [%" PRIu64 ", %" PRIu64 "] refused with %d (rc %d)", s, min, max, want_rc,
       rc);
}

static void test_counts(void)
{
    count_ok("1", 1, 10, 1);
    count_ok("10", 1, 10, 10);
    count_ok("5", 1, 10, 5);
    count_ok("0", 0, 10, 0);
    count_ok("007", 0, 10, 7);
    count_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
    count_bad("0", 1, 10, -ERANGE);
    count_bad("11", 1, 10, -ERANGE);
    count_bad("18446744073709551616", 0, UINT64_MAX, -ERANGE);
    count_bad("", 0, 10, -EINVAL);
    count_bad("-1", 0, 10, -EINVAL);
    count_bad("+1", 0, 10, -EINVAL);
    count_bad(" 1", 0, 10, -EINVAL);
    count_bad("1 ", 0, 10, -EINVAL);
    count_bad("x", 0, 10, -EINVAL);
}

/* Counts take the decimal suffixes of rates (k = 1000, not 1024), and a
 * fraction only when the result is whole; exactly, up to UINT64_MAX. */
static void test_count_suffixes(void)
{
    const uint64_t big = UINT64_MAX;
    count_ok("10k", 1, big, 10000);
    count_ok("10K", 1, big, 10000);
    count_ok("2.5k", 1, big, 2500);
    count_ok("0.001k", 1, big, 1);
    count_ok("1.000k", 1, big, 1000);
    count_ok("1M", 1, big, 1000000);
    count_ok("1.5M", 1, big, 1500000);
    count_ok("0.000001M", 1, big, 1);
    count_ok("3G", 1, big, UINT64_C(3000000000));
    count_ok("2.25G", 1, big, UINT64_C(2250000000));
    count_ok("1.0", 0, 10, 1);
    count_ok("7.000", 0, 10, 7);
    count_ok("1k", 1000, 1000, 1000);
    count_ok("18446744073709551.615k", 0, big, UINT64_MAX);
    count_ok("18446744073.709551615G", 0, big, UINT64_MAX);

    count_bad("1.5", 0, 10, -EINVAL); /* 1.5 records */
    count_bad("0.5", 0, 10, -EINVAL);
    count_bad("2.5001k", 0, big, -EINVAL);
    count_bad("0.0001k", 0, big, -EINVAL);
    count_bad("1.0000001M", 0, big, -EINVAL);
    count_bad("1.", 0, 10, -EINVAL);
    count_bad(".5k", 0, big, -EINVAL);
    count_bad("k", 0, big, -EINVAL);
    count_bad("10m", 0, big, -EINVAL); /* m is minutes in a rate: no suffix */
    count_bad("10g", 0, big, -EINVAL);
    count_bad("1T", 0, big, -EINVAL);
    count_bad("1kk", 0, big, -EINVAL);
    count_bad("1kB", 0, big, -EINVAL);
    count_bad("1Ki", 0, big, -EINVAL);
    count_bad("1k ", 0, big, -EINVAL);
    count_bad("1 k", 0, big, -EINVAL);
    count_bad("1e3", 0, big, -EINVAL);
    count_bad("-1k", 0, big, -EINVAL);
    count_bad("1.5.0k", 0, big, -EINVAL);
    count_bad("11k", 1, 10000, -ERANGE);
    count_bad("2G", 1, UINT64_C(1) << 30, -ERANGE);
    count_bad("18446744073709551.616k", 0, big, -ERANGE);
    count_bad("18446744074G", 0, big, -ERANGE);
    count_bad("99999999999999999999G", 0, big, -ERANGE);
}

static void delim_ok(const char *s, unsigned char want)
{
    unsigned char v = 0xEE;
    int rc = parse_delim(s, &v);
    ok(rc == 0 && v == want, "delimiter \"%s\" = 0x%02x (rc %d, got 0x%02x)", s, want, rc, v);
}

static void delim_bad(const char *s)
{
    unsigned char v = 0xEE;
    int rc = parse_delim(s, &v);
    ok(rc == -EINVAL && v == 0xEE, "delimiter \"%s\" refused (rc %d)", s, rc);
}

static void test_delims(void)
{
    delim_ok(",", ',');
    delim_ok("x", 'x');
    delim_ok(" ", ' ');
    delim_ok("\\n", '\n');
    delim_ok("\\t", '\t');
    delim_ok("\\r", '\r');
    delim_ok("\\0", '\0');
    delim_ok("\\\\", '\\');
    delim_ok("\\x41", 'A');
    delim_ok("\\x0a", '\n');
    delim_ok("\\xfF", 0xff);
    delim_ok("\\x00", 0);
    delim_ok("\xc3", 0xc3); /* any single byte, not just ASCII */

    delim_bad("");
    delim_bad("ab");
    delim_bad("\\");
    delim_bad("\\q");
    delim_bad("\\n\\n");
    delim_bad("\\nx");
    delim_bad("\\xZZ");
    delim_bad("\\x4");
    delim_bad("\\x4g");
    delim_bad("\\x");
    delim_bad("\\x412");
    delim_bad("\\00");
}

static void rate_ok(const char *s, int binary, double want)
{
    double v = -1;
    int rc = parse_rate(s, binary, &v);
    ok(rc == 0 && fabs(v - want) <= 1e-9 * want, "rate \"%s\"%s = %.9g/s (rc %d, got %.9g)", s,
       binary ? " (binary)" : "", want, rc, v);
}

static void rate_bad(const char *s, int binary, int want_rc)
{
    double v = -1;
    int rc = parse_rate(s, binary, &v);
    ok(rc == want_rc && v == -1, "rate \"%s\"%s refused with %d (rc %d)", s,
       binary ? " (binary)" : "", want_rc, rc);
}

static void test_rates(void)
{
    rate_ok("100", 0, 100);
    rate_ok("100/s", 0, 100);
    rate_ok("2.5k/s", 0, 2500);
    rate_ok("2.5k", 0, 2500);
    rate_ok("300/m", 0, 5);
    rate_ok("10/h", 0, 10.0 / 3600);
    rate_ok("5/15s", 0, 1.0 / 3);
    rate_ok("1/0.5s", 0, 2);
    rate_ok("50/100ms", 0, 500);
    rate_ok("0.5/s", 0, 0.5);
    rate_ok("1M/s", 0, 1e6);
    rate_ok("10M/s", 1, 10485760);
    rate_ok("512K/s", 1, 524288);
    rate_ok("1G/s", 1, 1073741824);
    rate_ok("100/s", 1, 100);

    rate_bad("0", 0, -ERANGE);
    rate_bad("0/s", 0, -ERANGE);
    { /* a period so long that the rate is 0, which would mean no limit (fuzzing) */
        char s[400] = "1/";
        memset(s + 2, '9', 320);
        strcpy(s + 322, "s");
        rate_bad(s, 0, -ERANGE);
    }
    rate_bad("0.0/m", 0, -ERANGE);
    rate_bad("5/0s", 0, -ERANGE);
    rate_bad("-5", 0, -EINVAL);
    rate_bad("-5/s", 0, -EINVAL);
    rate_bad("", 0, -EINVAL);
    rate_bad("/s", 0, -EINVAL);
    rate_bad("junk", 0, -EINVAL);
    rate_bad("5/", 0, -EINVAL);
    rate_bad("5/x", 0, -EINVAL);
    rate_bad("5/s ", 0, -EINVAL);
    rate_bad(" 5/s", 0, -EINVAL);
    rate_bad("5x/s", 0, -EINVAL);
    rate_bad("5/s/s", 0, -EINVAL);
    rate_bad("1e3", 0, -EINVAL);
}

int main(void)
{
    test_sizes();
    test_durations();
    test_counts();
    test_count_suffixes();
    test_delims();
    test_rates();
    return done_testing();
}
