/* cli_flags.h - the flag table of the cli module (flags.def as data) and
 * what every part of that module says with it: a flag's name in messages,
 * what a value of a type is expected to look like, the usage error line.
 * Also what the command line gave, flag by flag (struct cli_args). Private
 * to the cli module (cli*.c); knows nothing of argtable2. */
#ifndef WEIR_CLI_FLAGS_H
#define WEIR_CLI_FLAGS_H

#include <stddef.h>

#include "cli.h"

/* How a shell completes a value (flags.def, VALUE_TYPE). */
enum complete { COMPLETE_NOTHING, COMPLETE_FREE, COMPLETE_FILE, COMPLETE_WORDS };

/* The kinds of value, TYPE_SIZE...; the order of flags.def. */
enum value_type {
#define VALUE_TYPE(id, complete, words, expected) TYPE_##id,
#include "flags.def"
    TYPE_COUNT_ /* how many */
};

struct value_type_info {
    enum complete complete; /* how a shell completes it */
    const char *words;      /* "auto|yes|no": the only values it takes, or NULL */
    const char *expected;   /* "a file name", or NULL: one of words */
};

/* How many values a flag takes (flags.def, KIND). */
enum flag_kind {
    FLAG_LIT,  /* none */
    FLAG_STR,  /* one, and the flag at most once */
    FLAG_STRN, /* one each time, up to OPTIONS_MAX_OPS times */
};

/* One flag of flags.def. */
struct flag {
    enum flag_kind kind;
    const char *short_name; /* "c", or NULL */
    const char *long_names; /* "workers,jobs": the first one, then aliases */
    const char *value;      /* what --help calls the value ("N"), NULL for FLAG_LIT */
    enum value_type type;   /* TYPE_NONE for FLAG_LIT */
    const char *help;       /* its line in --help */
};

/* Every flag, in the order of flags.def and --help. */
enum {
    CLI_NFLAGS = 0
#define FLAG(id, kind, short_name, long_names, value, type, help) +1
#include "flags.def"
};
extern const struct flag cli_flags[CLI_NFLAGS];
extern const struct value_type_info cli_types[TYPE_COUNT_];

/* Room for any flag's name as cli_flag_name writes it. */
#define CLI_NAME_MAX 48

/* Writes how messages name flag F into buf: "-c/--capacity", "--rejects",
 * "-j/--workers" (the first long name). Returns buf. */
const char *cli_flag_name(const struct flag *f, char *buf, size_t size);

/* Writes what a value of type T should be into buf: its EXPECTED, or its
 * words as "auto, yes or no". Returns buf. */
const char *cli_expected(enum value_type t, char *buf, size_t size);

/* What the command line gave for one flag: read from argtable2 by cli.c,
 * checked by cli_rules.c. */
struct cli_value {
    const struct flag *flag; /* its entry in cli_flags */
    char name[CLI_NAME_MAX]; /* how messages name it (cli_flag_name) */
    int count;               /* how many times it was given */
    const char *const *sval; /* its count values; NULL for a FLAG_LIT */
};

/* Every flag, a field each, named by flags.def: a->cap.count. */
struct cli_args {
#define FLAG(id, kind, short_name, long_names, value, type, help) struct cli_value id;
#include "flags.def"
};

/* Prints "weir: MESSAGE (see weir --help)" on stderr; returns CLI_USAGE. */
__attribute__((format(printf, 1, 2))) enum cli_action cli_usage(const char *fmt, ...);

/* Refuses the first of flags given[0..n) that was given (a usage error,
 * "--block needs --pipe") and returns -1: it means nothing without WHAT,
 * and would be silently ignored. 0 when none was given. */
int cli_refuse_without(const char *what, const struct cli_value *const *given, int n);

#endif
