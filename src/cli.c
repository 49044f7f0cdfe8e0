/* cli.c - the command line: argv to struct options. The flag table
 * (flags.def, cli_flags.c) becomes argtable2 entries, and so the --help
 * text; COMMAND (from the first non-option, or after --) is split off
 * before argtable2 sees argv (cli_argv.c); the values are checked and
 * combined in cli_rules.c, and COMMAND is looked up (child_find) before
 * any input is read. Errors are one line: the flag, what was expected,
 * and a pointer to --help. The only user of argtable2. Main thread. */
#include "cli.h"

#include <argtable2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "cli_argv.h"
#include "cli_flags.h"
#include "cli_rules.h"
#include "common.h"

static const char *const help_tail =
    "Records end with a newline (or -0 / -d). SIZE: 512, 64K, 16M, 1G (K = 1024).\n"
    "N: 500, 10k, 2.5k, 1M (k = 1000). DUR: 250us, 100ms, 2s, 1.5m, 1h (bare\n"
    "number: seconds). RATE: 100, 100/s, 2.5k/s, 300/m, 10/h, 5/15s; byte rates\n"
    "take 10M/s, 512K/s.\n"
    "\n"
    "Policies, when the queue is full or no token is there:\n"
    "  block        wait: stop reading, so the producer blocks (default)\n"
    "  drop         shed the incoming record\n"
    "  drop-oldest  evict the oldest queued record to make room\n"
    "  timeout      wait up to -t, then shed the incoming record\n"
    "  fail         wait up to -t (default 0), then drain and exit 75\n"
    "Operations: cat, upper, lower, grep:ERE, grepv:ERE, sleep:DUR, spin:DUR.\n"
    "\n"
    "COMMAND (everything from the first non-option, or after --) runs as:\n"
    "  -x, --exec   once per record (the default)\n"
    "  --coproc     once per worker, kept running; one reply per record\n"
    "  --pipe       once per block of records (--block, --block-records)\n"
    "\n"
    "zstd: input that starts with a zstd frame is decompressed; -z compresses\n"
    "stdout; a rejects FILE ending in .zst is written compressed.\n"
    "\n"
    "NATS JetStream: --from reads messages (one record each) from a durable pull\n"
    "consumer instead of stdin, and acks each once its outcome is final; --to\n"
    "publishes results instead of writing stdout.\n"
    "\n"
    "Exit status: 0 done, 1 runtime error, 2 usage error, 75 overload (fail),\n"
    "126 COMMAND not executable, 127 COMMAND not found, 130/143 interrupted,\n"
    "141 stdout closed.\n";

/* Keeps argtable's first error line, in our format. */
static enum cli_action argtable_error(struct arg_end *end)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fputs("weir: out of memory\n", stderr);
        return CLI_FAIL;
    }
    arg_print_errors(mem, end, "weir");
    fclose(mem);
    char *nl = buf ? strchr(buf, '\n') : NULL;
    if (nl)
        *nl = '\0';
    const char *msg = buf && strncmp(buf, "weir: ", 6) == 0 ? buf + 6 : buf ? buf : "";
    enum cli_action r = cli_usage("%s", msg[0] ? msg : "bad command line");
    free(buf);
    return r;
}

/* The argtable2 entry of flag F; NULL when out of memory. */
static void *arg_new(const struct flag *f)
{
    switch (f->kind) {
    case FLAG_LIT:
        return arg_lit0(f->short_name, f->long_names, f->help);
    case FLAG_STR:
        return arg_str0(f->short_name, f->long_names, f->value, f->help);
    case FLAG_STRN:
        return arg_strn(f->short_name, f->long_names, f->value, 0, OPTIONS_MAX_OPS, f->help);
    }
    return NULL;
}

/* What entry I of the table (flag cli_flags[I]) was given. */
static void read_value(void *const *table, int i, struct cli_value *v)
{
    v->flag = &cli_flags[i];
    cli_flag_name(v->flag, v->name, sizeof v->name);
    if (v->flag->kind == FLAG_LIT) {
        v->count = ((const struct arg_lit *)table[i])->count;
        v->sval = NULL;
    } else {
        const struct arg_str *s = table[i];
        v->count = s->count;
        v->sval = s->sval;
    }
}

/* The parsed table, flag by flag, as the rules read it. */
static void read_args(void *const *table, struct cli_args *a)
{
    int i = 0;
#define FLAG(id, kind, short_name, long_names, value, type, help) read_value(table, i++, &a->id);
#include "flags.def"
}

/* Prints s wrapped before `width`, breaking only between bracketed
 * items, continued lines indented by `indent`. */
static void print_wrapped(const char *s, size_t col, size_t indent, size_t width)
{
    while (*s) {
        size_t n = 0;
        for (int depth = 0; s[n] && !(depth == 0 && n > 0 && s[n] == ' '); n++)
            depth += s[n] == '[' ? 1 : s[n] == ']' ? -1 : 0;
        if (col + n >= width && col > indent) {
            printf("\n%*s", (int)indent, "");
            col = indent;
            while (*s == ' ')
                s++, n--;
        }
        fwrite(s, 1, n, stdout);
        col += n;
        s += n;
    }
    putchar('\n');
}

static void print_help(void **table)
{
    char *syntax = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&syntax, &len);
    if (mem) {
        arg_print_syntax(mem, table, " [--] [COMMAND [ARG...]]");
        fclose(mem);
    }
    printf("Usage: weir");
    print_wrapped(syntax ? syntax : "", strlen("Usage: weir"), 6, 80);
    free(syntax);
    printf("Bounded, rate-limited, parallel record filter with explicit backpressure.\n\n");
    arg_print_glossary_gnu(stdout, table);
    fputs(help_tail, stdout);
}

/* Prints why COMMAND cannot run, as a shell would: not found (127), or
 * the error that running it would give (126). ERR is child_find's. */
static enum cli_action report_command(const char *name, int err)
{
    if (err == -ENOENT || err == -ENOTDIR) {
        fprintf(stderr, "weir: %s: command not found\n", name);
        return CLI_NOTFOUND;
    }
    fprintf(stderr, "weir: %s: %s\n", name, strerror(-err));
    return CLI_NOEXEC;
}

/* After arg_parse: --help, --version, or the first usage error, or the
 * options, with COMMAND (from argv[start]) looked up. */
static enum cli_action decide(void **table, int nerr, int argc, char **argv, int start, int nopts,
                              struct options *o)
{
    struct cli_args a;
    read_args(table, &a);
    if (a.help.count) {
        print_help(table);
        return CLI_EXIT;
    }
    if (a.version.count) {
        printf("weir %s\n", WEIR_VERSION);
        return CLI_EXIT;
    }
    if (cli_empty_value(nopts, argv))
        return CLI_USAGE;
    if (nerr)
        return cli_ambiguous_option(nopts, argv) || cli_unknown_option(nopts, argv)
                   ? CLI_USAGE
                   : argtable_error(table[CLI_NFLAGS]);
    enum cli_action r = cli_rules_apply(&a, start < argc ? &argv[start] : NULL, o);
    if (r == CLI_RUN && o->command) {
        int err = child_find(o->command[0]);
        if (err)
            r = report_command(o->command[0], err);
    }
    return r;
}

enum cli_action cli_parse(int argc, char **argv, struct options *o)
{
    void *table[CLI_NFLAGS + 1];
    for (int i = 0; i < CLI_NFLAGS; i++)
        table[i] = arg_new(&cli_flags[i]);
    table[CLI_NFLAGS] = arg_end(8);
    enum cli_action r;
    if (arg_nullcheck(table) != 0) {
        fputs("weir: out of memory\n", stderr);
        r = CLI_FAIL;
    } else {
        int nopts;
        int start = cli_command_index(argc, argv, &nopts);
        int nerr = arg_parse(nopts, argv, table);
        r = decide(table, nerr, argc, argv, start, nopts, o);
    }
    arg_freetable(table, CLI_NFLAGS + 1);
    return r;
}
