/* cli_flags.c - flags.def as a table, and the words the cli module names
 * flags and values with; see cli_flags.h. Constant data and pure
 * functions but for cli_usage, which prints on stderr (main thread). */
#include "cli_flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct value_type_info cli_types[TYPE_COUNT_] = {
#define VALUE_TYPE(id, complete, words, expected) {COMPLETE_##complete, words, expected},
#include "flags.def"
};

const struct flag cli_flags[CLI_NFLAGS] = {
#define FLAG(id, kind, short_name, long_names, value, type, help)                                  \
    {FLAG_##kind, short_name, long_names, value, TYPE_##type, help},
#include "flags.def"
};

const char *cli_flag_name(const struct flag *f, char *buf, size_t size)
{
    int n = (int)strcspn(f->long_names, ","); /* "workers,jobs" */
    if (f->short_name)
        snprintf(buf, size, "-%c/--%.*s", f->short_name[0], n, f->long_names);
    else
        snprintf(buf, size, "--%.*s", n, f->long_names);
    return buf;
}

const char *cli_expected(enum value_type t, char *buf, size_t size)
{
    const struct value_type_info *v = &cli_types[t];
    if (v->expected || !v->words) {
        snprintf(buf, size, "%s", v->expected ? v->expected : "a value");
        return buf;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (const char *w = v->words; *w && len < size;) { /* "auto|yes|no" */
        size_t n = strcspn(w, "|");
        const char *sep = w == v->words ? "" : w[n] ? ", " : " or ";
        int k = snprintf(buf + len, size - len, "%s%.*s", sep, (int)n, w);
        len += k > 0 ? (size_t)k : 0;
        w += n + (w[n] == '|');
    }
    return buf;
}

enum cli_action cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("weir: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see weir --help)\n", stderr);
    va_end(ap);
    return CLI_USAGE;
}

int cli_refuse_without(const char *what, const struct cli_value *const *given, int n)
{
    for (int i = 0; i < n; i++) {
        if (given[i]->count) {
            cli_usage("%s needs %s", given[i]->name, what);
            return -1;
        }
    }
    return 0;
}
