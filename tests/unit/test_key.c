/* test_key.c - --key specs and the keys they find (key.h): fields split by
 * blanks as awk does and by one byte as awk -F does, joined fields, re:ERE
 * with and without a group, subject:N, what has no key, bad specs, and the
 * hash that must never change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

#include "tap.h"

/* The key `spec` finds in `rec` ("-" when none), as a string. */
static const char *key_str(const char *spec, bool has_sep, unsigned char sep, const char *rec)
{
    static char out[KEY_MAX + 1];
    static struct key_buf buf;
    struct key_spec *k;
    char msg[128];
    if (key_spec_parse(spec, has_sep, sep, &k, msg, sizeof msg) != 0)
        return "(bad spec)";
    const char *key;
    size_t len;
    bool found = key_of(k, rec, strlen(rec), &buf, &key, &len);
    if (found) {
        memcpy(out, key, len);
        out[len] = '\0';
    }
    key_spec_free(k);
    return found ? out : "-";
}

static void test_fields(void)
{
    is_str(key_str("1", false, 0, "alice login ok"), "alice", "field 1 split by blanks");
    is_str(key_str("2", false, 0, "  \talice \t login  ok "), "login",
           "runs of blanks, leading ones ignored, as awk");
    is_str(key_str("3", false, 0, "a b c  "), "c", "trailing blanks are not a field");
    is_str(key_str("4", false, 0, "a b c  "), "-", "no 4th field: no key");
    is_str(key_str("1", false, 0, ""), "-", "an empty record has no field");
    is_str(key_str("1", false, 0, "   "), "-", "nor has one of blanks");
    is_str(key_str("2", true, ',', "a,,c"), "", "-F: empty fields count, and the key is empty");
    is_str(key_str("3", true, ',', "a,,c"), "c", "-F: field 3 after an empty one");
    is_str(key_str("4", true, ',', "a,,c"), "-", "-F: no 4th field");
    is_str(key_str("1", true, ',', " a ,b"), " a ", "-F: blanks are part of fields");
    is_str(key_str("3,1", false, 0, "x y z"), "z x", "N,M: joined by a space, in the given order");
    is_str(key_str("1,2", true, ';', "u1;eu;9"), "u1;eu", "N,M with -F: joined by the separator");
    is_str(key_str("1,5", false, 0, "x y z"), "-", "N,M: one missing field: no key");
}

/* key_present agrees with key_of on every record and spec. */
static void test_present(void)
{
    static const char *const specs[] = {"1", "2", "3", "1,3", "re:x([0-9])"};
    static const char *const recs[] = {"",     "  ",   "a", " a b", "a\tb  c",
                                       "x1 y", "a,,c", ",", "a,b"};
    int bad = 0;
    for (int sep = 0; sep < 2; sep++)
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
            struct key_spec *k;
            char msg[128];
            if (key_spec_parse(specs[i], sep, ',', &k, msg, sizeof msg) != 0)
                continue;
            for (size_t j = 0; j < sizeof recs / sizeof recs[0]; j++) {
                struct key_buf buf;
                const char *key;
                size_t len, n = strlen(recs[j]);
                if (key_present(k, recs[j], n) != key_of(k, recs[j], n, &buf, &key, &len))
                    bad++;
            }
            key_spec_free(k);
        }
    is_int(bad, 0, "key_present says what key_of says, for every spec and record");
}

static void test_regex(void)
{
    is_str(key_str("re:user=([a-z]+)", false, 0, "t=1 user=bob op=x"), "bob", "re: first group");
    is_str(key_str("re:u[0-9]+", false, 0, "event u42 u7"), "u42", "re: no group: the match");
    is_str(key_str("re:user=([a-z]+)", false, 0, "t=1 op=x"), "-", "re: no match: no key");
    is_str(key_str("re:x|(y)", false, 0, "x"), "-", "re: a group that took no part: no key");
    is_str(key_str("re:^([^ ]*)", false, 0, "ab cd"), "ab", "re: anchored");
    /* records are not C strings: a NUL before the key, and no NUL after */
    struct key_spec *k;
    char msg[128];
    struct key_buf buf;
    const char *key;
    size_t len;
    ok(key_spec_parse("re:id=([0-9]+)", false, 0, &k, msg, sizeof msg) == 0, "re: parses");
    static const char rec[] = {'a', '\0', 'i', 'd', '=', '4', '2', '9'};
    ok(key_of(k, rec, 7, &buf, &key, &len) && len == 2 && memcmp(key, "42", 2) == 0,
       "re: past a NUL byte, and only within the record's length");
    key_spec_free(k);
}

static void test_subject(void)
{
    struct key_spec *k;
    char msg[128];
    const char *key;
    size_t len;
    ok(key_spec_parse("subject:2", false, 0, &k, msg, sizeof msg) == 0, "subject:2 parses");
    is_int(key_spec_kind(k), KEY_SUBJECT, "a subject spec");
    ok(key_of_subject(k, "jobs.eu.7", 9, &key, &len) && len == 2 && memcmp(key, "eu", 2) == 0,
       "subject:2 of jobs.eu.7 is eu");
    ok(!key_of_subject(k, "jobs", 4, &key, &len) && len == 0, "no 2nd token: no key");
    key_spec_free(k);
}

static void test_bad_specs(void)
{
    static const char *const bad[] = {"",
                                      "0",
                                      "-1",
                                      "1,",
                                      ",1",
                                      "1,,2",
                                      "x",
                                      "1.5",
                                      "2000000",
                                      "re:(",
                                      "re:a{",
                                      "subject:",
                                      "subject:0",
                                      "subject:x",
                                      "1 2",
                                      "re:a{1,1000}{1,1000}",
                                      "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct key_spec *k = NULL;
        char msg[128] = "";
        int rc = key_spec_parse(bad[i], false, 0, &k, msg, sizeof msg);
        ok(rc == -EINVAL && k == NULL && msg[0] != '\0', "refused: '%s' (%s)", bad[i], msg);
    }
}

static void test_hash(void)
{
    /* FNV-1a 64: these values are part of the contract (sticky workers and
     * partitions must agree across machines and versions) */
    ok(key_hash("", 0) == UINT64_C(0xcbf29ce484222325), "hash of the empty key");
    ok(key_hash("a", 1) == UINT64_C(0xaf63dc4c8601ec8c), "hash of a");
    ok(key_hash("foobar", 6) == UINT64_C(0x85944171f73967e8), "hash of foobar");
}

int main(void)
{
    test_fields();
    test_present();
    test_regex();
    test_subject();
    test_bad_specs();
    test_hash();
    return done_testing();
}
