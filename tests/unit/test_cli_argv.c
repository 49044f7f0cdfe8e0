/* test_cli_argv.c - the command line read with the flag table, before
 * argtable2 (cli_argv.h): where COMMAND starts and how many arguments are
 * weir's own, as getopt's '+' rule would split them; which arguments are
 * option values; long options by prefix and alias; and the table itself
 * (flags.def): one entry per name, and every name and word it promises. */
#include <stdarg.h>
#include <string.h>

#include "cli_argv.h"
#include "tap.h"

#define MAX_ARGS 16

/* weir ARGS... (NULL-terminated): COMMAND at index want, weir's own
 * arguments argv[0..want_nopts). */
static void command_is(int want, int want_nopts, const char *what, ...)
{
    static char store[MAX_ARGS][32]; /* argv is not const; literals are */
    char *argv[MAX_ARGS + 1] = {strcpy(store[0], "weir")};
    int argc = 1;
    va_list ap;
    va_start(ap, what);
    for (const char *a; argc < MAX_ARGS && (a = va_arg(ap, const char *)); argc++)
        argv[argc] = strncpy(store[argc], a, sizeof store[argc] - 1);
    va_end(ap);
    argv[argc] = NULL;
    int nopts = -1;
    int got = cli_command_index(argc, argv, &nopts);
    ok(got == want && nopts == want_nopts, "%s: COMMAND at %d, %d own (got %d, %d)", what, want,
       want_nopts, got, nopts);
}

static void test_command_index(void)
{
    command_is(1, 1, "no arguments", NULL);
    command_is(1, 1, "a first non-option word", "cat", "-n", NULL);
    command_is(3, 3, "an option with a separate value", "-c", "10", "cmd", NULL);
    command_is(2, 2, "--opt=value", "--capacity=10", "cmd", NULL);
    command_is(3, 3, "--opt value", "--capacity", "10", "cmd", NULL);
    command_is(2, 2, "a cluster ending in a value (-uj2)", "-uj2", "cmd", NULL);
    command_is(3, 3, "a cluster whose value follows (-uj 2)", "-uj", "2", "cmd", NULL);
    command_is(3, 3, "an option value that looks like a command", "--rejects", "cat", "sed", NULL);
    command_is(3, 3, "a value that looks like an option", "-c", "-x", "cmd", NULL);
    command_is(4, 3, "--", "-j2", "-q", "--", "cmd", "-j3", NULL);
    command_is(3, 2, "-- with nothing after it", "-q", "--", NULL);
    command_is(2, 1, "-- first", "--", "-x", NULL);
    command_is(2, 1, "only the first -- ends the options", "--", "--", NULL);
    command_is(2, 2, "flags after COMMAND are COMMAND's", "-u", "sed", "-u", "--", NULL);
    command_is(1, 1, "- is an operand", "-", NULL);
    command_is(3, 3, "an abbreviated long option takes its value", "--capacity-b", "5M", "cmd",
               NULL);
    command_is(2, 2, "an ambiguous one takes none", "--capa", "5", "cmd", NULL);
    command_is(3, 3, "an alias takes its value", "--jobs", "4", "cmd", NULL);
    command_is(2, 2, "a flag without value", "--unordered", "cmd", NULL);
    command_is(2, 2, "an unknown option takes no value", "--frobnicate", "cmd", NULL);
    command_is(3, 3, "a value missing at the end", "-q", "-c", NULL);
    command_is(5, 5, "repeated -e", "-e", "upper", "-e", "lower", NULL);
}

static void test_option_values(void)
{
    is_int(cli_option_values("-c"), 1, "-c takes the next argument");
    is_int(cli_option_values("-c5"), 0, "-c5 holds its value");
    is_int(cli_option_values("-uq"), 0, "-uq takes none");
    is_int(cli_option_values("-uqc"), 1, "-uqc: the last takes the next");
    is_int(cli_option_values("-Zc"), 1, "an unknown letter is passed over");
    is_int(cli_option_values("--max-record"), 1, "--max-record takes the next");
    is_int(cli_option_values("--max-record=1M"), 0, "--max-record=1M holds its value");
    is_int(cli_option_values("--exec"), 0, "--exec takes none");
    is_int(cli_option_values("--nope"), 0, "an unknown long option takes none");
}

static void test_lookup(void)
{
    int n;
    const struct flag *f = cli_long_flag("workers", &n);
    ok(f && f == cli_long_flag("jobs", &n), "--jobs is --workers");
    ok(f && f == cli_short_flag('j'), "-j is --workers");
    ok(cli_long_flag("rate=5", &n) == cli_short_flag('r'), "--rate=5 is -r");
    ok(cli_long_flag("capacity", &n) == cli_short_flag('c'), "exact --capacity, not a prefix");
    ok(cli_long_flag("capacity-b", &n) && n == 1, "--capacity-b: the one it abbreviates");
    ok(!cli_long_flag("rej", &n) && n == 3, "--rej is ambiguous: 3 flags");
    ok(cli_long_flag("wor", &n) == f && n == 1, "--wor abbreviates --workers alone");
    ok(!cli_long_flag("nope", &n) && n == 0, "--nope is nothing");
    ok(cli_long_flag("wor=2", &n) == f, "--wor=2 is --workers");
    ok(!cli_short_flag('Z') && !cli_short_flag('\0'), "no -Z, no NUL letter");
}

static void test_names(void)
{
    char buf[CLI_NAME_MAX];
    is_str(cli_flag_name(cli_short_flag('j'), buf, sizeof buf), "-j/--workers",
           "a flag is named by its letter and first long name");
    int n;
    is_str(cli_flag_name(cli_long_flag("rejects", &n), buf, sizeof buf), "--rejects",
           "a flag without letter by its long name");
    char e[128];
    is_str(cli_expected(TYPE_POLICY, e, sizeof e), "block, drop, drop-oldest, timeout or fail",
           "the words of a type, as messages list them");
    is_str(cli_expected(TYPE_ON_ERROR, e, sizeof e), "skip or fail", "two words");
    is_str(cli_expected(TYPE_FILE, e, sizeof e), "a file name", "a type's own words");
    is_str(cli_expected(TYPE_FORMAT, e, 8), "text, j", "cut to the buffer");
}

/* Every name in the table once; a value exactly for the flags that take
 * one; a type's words for what has words. */
static void test_table(void)
{
    int bad = 0;
    for (int i = 0; i < CLI_NFLAGS; i++) {
        const struct flag *f = &cli_flags[i];
        int n, lit = f->kind == FLAG_LIT;
        bad += !f->long_names[0] || !f->help;
        bad += lit != !f->value || lit != (f->type == TYPE_NONE);
        bad +=
            f->short_name && (strlen(f->short_name) != 1 || cli_short_flag(f->short_name[0]) != f);
        for (const char *l = f->long_names; *l;
             l += strcspn(l, ",") + (l[strcspn(l, ",")] == ',')) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(l, ","), l);
            bad += cli_long_flag(name, &n) != f;
        }
        const struct value_type_info *t = &cli_types[f->type];
        bad += (t->complete == COMPLETE_WORDS) != (t->words != NULL);
        bad += !lit && !t->words && !t->expected;
    }
    is_int(bad, 0, "the table: %d flags, each name once, values and types agree", CLI_NFLAGS);
    ok(CLI_NFLAGS >= 48, "every flag is in the table (%d)", CLI_NFLAGS);
}

int main(void)
{
    test_command_index();
    test_option_values();
    test_lookup();
    test_names();
    test_table();
    return done_testing();
}
