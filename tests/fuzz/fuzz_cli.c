/* fuzz_cli.c - the command line as a whole (cli.h).
 *
 * Input: the arguments, separated by NUL (at most 63 after argv[0],
 * "weir"); each is a buffer of its exact size. cli_parse may print (its
 * stdout and stderr go to /dev/null), call isatty and sysconf, and look
 * COMMAND up in PATH (stat and access only).
 *
 * It must return one of its actions, and when it says CLI_RUN the options
 * must be within the bounds the flags document. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGC 64

static FILE *report; /* the real stderr, for our own messages */

static void fail(const char *what)
{
    fprintf(report, "fuzz_cli: %s\n", what);
    abort();
}

/* Once: stdout to /dev/null, and the stderr stream cli.c prints on (in
 * glibc an assignable variable) to /dev/null too. File descriptor 2 stays
 * as it was: libFuzzer's and the sanitizers' reports go there. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int null = open("/dev/null", O_WRONLY);
    FILE *sink = fopen("/dev/null", "w");
    if (null < 0 || !sink || dup2(null, STDOUT_FILENO) < 0)
        abort();
    close(null);
    report = stderr;
    stderr = sink;
    return 0;
}

static int rate_ok(double rate, double burst)
{
    return rate == 0 ? burst >= 1 : rate > 0 && rate <= 1e12 && burst >= 1;
}

static void check_options(const struct options *o)
{
    if (o->max_record < 1 || o->max_record > (UINT64_C(1) << 30))
        fail("max_record out of bounds");
    if (o->capacity < 1 || (o->capacity > (UINT64_C(1) << 30) && o->capacity != CAPACITY_NONE))
        fail("capacity out of bounds");
    if (o->capacity_bytes < 1 || o->capacity_bytes > (UINT64_C(1) << 40))
        fail("capacity_bytes out of bounds");
    if (o->workers < 1 || o->workers > 1024)
        fail("workers out of bounds");
    if (o->timeout_ns < 0 || o->job_timeout_ns < 0 || o->interval_ns < 0)
        fail("negative duration");
    if (!rate_ok(o->rate, o->burst) || !rate_ok(o->byte_rate, o->byte_burst))
        fail("rate or burst out of bounds");
    if (o->n_ops > OPTIONS_MAX_OPS || (o->n_ops && o->command))
        fail("operations out of bounds, or with a COMMAND");
    if ((o->mode == MODE_OPS) != !o->command || (o->command && !o->command[0]))
        fail("mode and COMMAND disagree");
    if (o->level < LEVEL_MIN || o->level > LEVEL_MAX || o->compress_threads < 0 ||
        o->compress_threads > COMPRESS_THREADS_MAX)
        fail("zstd level or threads out of bounds");
    if (o->block_bytes < 1 || o->retries > 1000)
        fail("block or retries out of bounds");
}

/* argv[1..] from data split on NUL; argv[argc] is NULL. */
static int build_argv(const uint8_t *data, size_t size, char **argv)
{
    int argc = 0;
    argv[argc++] = strdup("weir");
    for (size_t i = 0; i < size && argc < MAX_ARGC;) {
        const uint8_t *end = memchr(data + i, 0, size - i);
        size_t len = end ? (size_t)(end - (data + i)) : size - i;
        argv[argc] = malloc(len + 1); /* exact size: ASan sees a read past it */
        if (!argv[argc])
            abort();
        memcpy(argv[argc], data + i, len);
        argv[argc++][len] = '\0';
        i += len + 1;
    }
    argv[argc] = NULL;
    return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGC + 1], *owned[MAX_ARGC + 1];
    int argc = build_argv(data, size, argv);
    memcpy(owned, argv, sizeof argv); /* argtable's getopt may permute argv */
    struct options o;
    enum cli_action r = cli_parse(argc, argv, &o);
    if (r != CLI_RUN && r != CLI_EXIT && r != CLI_USAGE && r != CLI_NOTFOUND && r != CLI_NOEXEC)
        fail("unknown action");
    if (r == CLI_RUN)
        check_options(&o);
    for (int i = 0; i < argc; i++)
        free(owned[i]);
    return 0;
}
