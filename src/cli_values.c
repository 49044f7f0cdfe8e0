/* cli_values.c - one flag's value checked and converted, or refused by
 * name; see cli_values.h. Main thread. */
#include "cli_values.h"

#include <inttypes.h>
#include <string.h>

#include "parse.h"

int cli_want_size(const struct cli_value *a, uint64_t max, size_t *out)
{
    if (a->count == 0)
        return 0;
    uint64_t v;
    if (parse_size(a->sval[0], &v) != 0 || v > max) {
        cli_usage("%s: expected a size from 1 to %" PRIu64 " bytes such as 64K or 16M, got '%s'",
                  a->name, max, a->sval[0]);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int cli_want_count(const struct cli_value *a, uint64_t min, uint64_t max, uint64_t *out)
{
    if (a->count == 0)
        return 0;
    if (parse_count(a->sval[0], min, max, out) != 0) {
        cli_usage("%s: expected a whole number from %" PRIu64 " to %" PRIu64 ", got '%s'", a->name,
                  min, max, a->sval[0]);
        return -1;
    }
    return 0;
}

int cli_want_rate(const struct cli_value *a, int binary, double *out)
{
    if (a->count == 0)
        return 0;
    if (parse_rate(a->sval[0], binary, out) != 0) {
        cli_usage("%s: expected a rate above zero and at most 1e12/s such as %s, got '%s'", a->name,
                  binary ? "10M/s or 512K/s" : "100/s, 2.5k/s or 5/15s", a->sval[0]);
        return -1;
    }
    return 0;
}

int cli_bad_word(const struct cli_value *a)
{
    char expected[128];
    cli_usage("%s: expected %s, got '%s'", a->name,
              cli_expected(a->flag->type, expected, sizeof expected), a->sval[0]);
    return -1;
}

int cli_want_word(const struct cli_value *a, int *i)
{
    if (a->count == 0)
        return 0;
    const char *w = cli_types[a->flag->type].words, *s = a->sval[0];
    for (int k = 0; *w; k++) { /* "auto|yes|no" */
        size_t n = strcspn(w, "|");
        if (strlen(s) == n && strncmp(w, s, n) == 0) {
            *i = k;
            return 0;
        }
        w += n + (w[n] == '|');
    }
    return cli_bad_word(a);
}

int cli_want_duration(const struct cli_value *a, int64_t *ns)
{
    if (!a->count)
        return 0;
    const char *d = a->sval[0];
    if (parse_duration(d, ns) != 0 || *ns <= 0) {
        cli_usage("%s: expected a duration above zero such as 500ms or 30s, got '%s'", a->name, d);
        return -1;
    }
    return 0;
}
