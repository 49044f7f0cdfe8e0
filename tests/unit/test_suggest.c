/* test_suggest.c - "did you mean" (suggest.h): the edit distance, with
 * adjacent swaps costing one, and the choice of the one nearest name: near
 * enough (1 edit up to 4 bytes, 2 beyond) and not tied with another. */
#include <stdint.h>
#include <string.h>

#include "suggest.h"
#include "tap.h"

static void dist_is(const char *a, const char *b, size_t want)
{
    size_t d = suggest_distance(a, strlen(a), b, strlen(b));
    ok(d == want, "distance(\"%s\", \"%s\") = %zu (got %zu)", a, b, want, d);
    d = suggest_distance(b, strlen(b), a, strlen(a));
    ok(d == want, "distance(\"%s\", \"%s\") = %zu (got %zu)", b, a, want, d);
}

static void test_distance(void)
{
    dist_is("", "", 0);
    dist_is("policy", "policy", 0);
    dist_is("", "abc", 3);
    dist_is("polcy", "policy", 1);   /* a byte left out */
    dist_is("pollicy", "policy", 1); /* one too many */
    dist_is("policu", "policy", 1);  /* one wrong */
    dist_is("plociy", "policy", 2);  /* two swaps */
    dist_is("polciy", "policy", 1);  /* one swap of neighbours */
    dist_is("ca", "abc", 3);         /* optimal string alignment, not 2 */
    dist_is("kitten", "sitting", 3);
    dist_is("rejects", "rejects-subject", 8);
    dist_is("workers", "jobs", 5);

    char longer[SUGGEST_MAX_LEN + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ok(suggest_distance(longer, strlen(longer), "a", 1) == SIZE_MAX,
       "a word over SUGGEST_MAX_LEN is near nothing");
    ok(suggest_distance(longer, SUGGEST_MAX_LEN, longer, SUGGEST_MAX_LEN) == 0,
       "SUGGEST_MAX_LEN bytes are still compared");
    ok(suggest_distance("abcX", 3, "abcY", 3) == 0, "only len bytes are read");
}

static const char *const flags[] = {
    "null",           "delimiter",       "max-record", "capacity",
    "capacity-bytes", "workers",         "jobs",       "policy",
    "timeout",        "rejects",         "op",         "rate",
    "burst",          "byte-rate",       "to",         "from",
    "nats",           "nats-ca",         "nats-key",   "nats-cert",
    "subject",        "rejects-subject",
};

/* What suggest proposes for word among flags: "" for nothing. */
static void nearest_is(const char *word, const char *want)
{
    struct suggest s;
    suggest_init(&s, word, strcspn(word, "="));
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        suggest_offer(&s, flags[i], strlen(flags[i]));
    size_t len = 0;
    const char *got = suggest_result(&s, &len);
    char buf[SUGGEST_MAX_LEN + 1] = "";
    if (got)
        memcpy(buf, got, len < SUGGEST_MAX_LEN ? len : SUGGEST_MAX_LEN);
    ok(strcmp(buf, want) == 0, "\"%s\" suggests \"%s\" (got \"%s\")", word, want, buf);
}

static void test_nearest(void)
{
    nearest_is("polcy", "policy");
    nearest_is("polcy=drop", "policy"); /* the value is not part of the name */
    nearest_is("plociy", "policy");
    nearest_is("capactiy", "capacity");
    nearest_is("capacity-byte", "capacity-bytes");
    nearest_is("max-records", "max-record");
    nearest_is("maxrecord", "max-record");
    nearest_is("wokrers", "workers");
    nearest_is("jbos", "jobs");
    nearest_is("rjects", "rejects");
    nearest_is("t0", "to"); /* 1 edit in a short name */
    nearest_is("nats-cet", "nats-cert");

    nearest_is("frobnicate", "");    /* nothing near */
    nearest_is("xy", "");            /* 2 edits from "op" and "to": too far for short names */
    nearest_is("pol", "");           /* 3 edits from "policy" */
    nearest_is("polixx", "policy");  /* 2 edits in a longer name */
    nearest_is("polxxx", "");        /* 3 */
    nearest_is("nats-c", "nats-ca"); /* 1 from nats-ca beats 2 from nats */
    nearest_is("tp", "");            /* 1 from "to" and from "op": no guess */
    nearest_is("", "");
}

static void test_ties(void)
{
    struct suggest s;
    size_t len = 0;
    suggest_init(&s, "bat", 3);
    suggest_offer(&s, "cat", 3);
    suggest_offer(&s, "hat", 3);
    ok(suggest_result(&s, &len) == NULL, "two names as near: no guess");
    suggest_offer(&s, "bat!", 4);
    ok(suggest_result(&s, &len) == NULL, "a third name as near: still no guess");
    suggest_offer(&s, "bat", 3);
    const char *r = suggest_result(&s, &len);
    ok(r && len == 3 && strncmp(r, "bat", 3) == 0, "an exact name wins over the tie");
    suggest_init(&s, "bat", 3);
    ok(suggest_result(&s, &len) == NULL, "nothing offered: nothing suggested");
}

int main(void)
{
    test_distance();
    test_nearest();
    test_ties();
    return done_testing();
}
