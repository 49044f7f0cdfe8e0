/* cli_argv.c - reading argv with the flag table: lookups, where COMMAND
 * starts, and three usage errors worded better than argtable2's; see
 * cli_argv.h. Main thread; only the error functions print. */
#include "cli_argv.h"

#include <string.h>

#include "common.h"
#include "suggest.h"

const struct flag *cli_long_flag(const char *name, int *nprefix)
{
    size_t len = strcspn(name, "=");
    const struct flag *prefix = NULL;
    *nprefix = 0;
    for (const struct flag *f = cli_flags; f < cli_flags + CLI_NFLAGS; f++) {
        for (const char *l = f->long_names; *l;) { /* "workers,jobs" */
            size_t n = strcspn(l, ",");
            if (len == n && strncmp(l, name, len) == 0)
                return f;
            if (len < n && strncmp(l, name, len) == 0) {
                *nprefix += prefix != f;
                prefix = f;
            }
            l += n + (l[n] == ',');
        }
    }
    return *nprefix == 1 ? prefix : NULL;
}

static const struct flag *long_flag(const char *name)
{
    int n;
    return cli_long_flag(name, &n);
}

const struct flag *cli_short_flag(char c)
{
    for (const struct flag *f = cli_flags; f < cli_flags + CLI_NFLAGS; f++)
        if (c && f->short_name && strchr(f->short_name, c))
            return f;
    return NULL;
}

int cli_option_values(const char *arg)
{
    if (arg[1] == '-') {
        const struct flag *f = long_flag(arg + 2);
        return f && f->kind != FLAG_LIT && !strchr(arg, '=');
    }
    for (const char *c = arg + 1; *c; c++) { /* a cluster: -uj2, -uj 2 */
        const struct flag *f = cli_short_flag(*c);
        if (f && f->kind != FLAG_LIT)
            return c[1] == '\0';
    }
    return 0;
}

int cli_command_index(int argc, char *const *argv, int *nopts)
{
    int i = 1;
    while (i < argc) {
        const char *s = argv[i];
        if (strcmp(s, "--") == 0) {
            *nopts = i;
            return i + 1;
        }
        if (s[0] != '-' || s[1] == '\0') /* "-" is an operand, as for getopt */
            break;
        i += 1 + cli_option_values(s);
    }
    *nopts = MIN(i, argc);
    return *nopts;
}

bool cli_ambiguous_option(int nopts, char *const *argv)
{
    for (int i = 1; i < nopts; i++) {
        int n = 0;
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] && !cli_long_flag(argv[i] + 2, &n) &&
            n > 1) {
            cli_usage("option \"%.*s\" is ambiguous: give more of its name",
                      (int)strcspn(argv[i], "="), argv[i]);
            return true;
        }
    }
    return false;
}

/* The long option nearest to WORD[0..len) if one is near enough to be
 * what was meant (suggest.h), its length in *nlen; else NULL. */
static const char *nearest_long_option(const char *word, size_t len, size_t *nlen)
{
    struct suggest s;
    suggest_init(&s, word, len);
    for (const struct flag *f = cli_flags; f < cli_flags + CLI_NFLAGS; f++) {
        for (const char *l = f->long_names; *l;) { /* "workers,jobs" */
            size_t n = strcspn(l, ",");
            suggest_offer(&s, l, n);
            l += n + (l[n] == ',');
        }
    }
    return suggest_result(&s, nlen);
}

/* An unknown letter in the cluster ARG (-Z, -uZ) before the first that
 * takes a value (the rest is its value: -j2): reported, true; else false. */
static bool unknown_short(const char *arg)
{
    for (const char *c = arg + 1; *c; c++) {
        const struct flag *f = cli_short_flag(*c);
        if (!f) {
            cli_usage("unknown option -%c", *c);
            return true;
        }
        if (f->kind != FLAG_LIT)
            break;
    }
    return false;
}

bool cli_unknown_option(int nopts, char *const *argv)
{
    for (int i = 1; i < nopts; i += 1 + cli_option_values(argv[i])) {
        const char *arg = argv[i], *near;
        int nprefix;
        size_t len = strcspn(arg + 2, "="), nlen;
        if (arg[1] != '-' && unknown_short(arg))
            return true;
        if (arg[1] != '-' || !arg[2] || cli_long_flag(arg + 2, &nprefix) || nprefix)
            continue;
        if ((near = nearest_long_option(arg + 2, len, &nlen)))
            cli_usage("unknown option --%.*s (did you mean --%.*s?)", (int)len, arg + 2, (int)nlen,
                      near);
        else
            cli_usage("unknown option --%.*s", (int)len, arg + 2);
        return true;
    }
    return false;
}

/* The flag option ARG gives an empty value: --name= or, when ARG takes
 * the next argument as its value (--name V, -uj V), an empty NEXT. NULL
 * when ARG gives none. */
static const struct flag *empty_value_of(const char *arg, const char *next)
{
    const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    if (eq ? eq[1] != '\0' : !(cli_option_values(arg) && next && !next[0]))
        return NULL;
    const struct flag *f =
        arg[1] == '-' ? long_flag(arg + 2) : cli_short_flag(arg[strlen(arg) - 1]);
    return f && f->kind != FLAG_LIT ? f : NULL;
}

bool cli_empty_value(int nopts, char *const *argv)
{
    for (int i = 1; i < nopts; i += 1 + cli_option_values(argv[i])) {
        const struct flag *f = empty_value_of(argv[i], i + 1 < nopts ? argv[i + 1] : NULL);
        if (f) {
            char name[CLI_NAME_MAX], expected[128];
            cli_usage("%s: empty value, expected %s", cli_flag_name(f, name, sizeof name),
                      cli_expected(f->type, expected, sizeof expected));
            return true;
        }
    }
    return false;
}
