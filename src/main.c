/* main.c - weir's entry point: parse, run, report, exit. The only place
 * that calls exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "pipeline.h"

/* Occupies closed standard descriptors with /dev/null, so that no file
 * weir opens later (the rejects file, a pipe) becomes stdin, stdout or
 * stderr by accident. Returns a bit mask of the ones that were closed,
 * or -1 when one cannot be occupied. */
static int occupy_closed_std_fds(void)
{
    int closed = 0;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        closed |= 1 << fd;
        int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got != fd) { /* lowest free descriptor: fd itself */
            if (got >= 0)
                close(got);
            return -1;
        }
    }
    return closed;
}

int main(int argc, char **argv)
{
    /* First of all, so that a signal in the first milliseconds finds
     * them blocked (and waiting for pipeline_run) rather than killing
     * weir with no summary. */
    pipeline_block_signals();
    int closed = occupy_closed_std_fds();
    if (closed < 0)
        return EXIT_RUNTIME;
    struct options o;
    switch (cli_parse(argc, argv, &o)) {
    case CLI_EXIT:
        return fflush(stdout) == 0 && !(closed & 2) ? EXIT_DONE : EXIT_RUNTIME;
    case CLI_USAGE:
        return EXIT_USAGE;
    case CLI_NOTFOUND:
        return EXIT_NOTFOUND;
    case CLI_NOEXEC:
        return EXIT_NOEXEC;
    case CLI_FAIL:
        return EXIT_RUNTIME;
    case CLI_RUN:
        break;
    }
    /* as cat does: a closed stdin or stdout is an error, before any input */
    for (int fd = 0; fd <= 1; fd++) {
        if (closed & (1 << fd)) {
            fprintf(stderr, "weir: %s: %s\n", fd ? "stdout" : "stdin", strerror(EBADF));
            return EXIT_RUNTIME;
        }
    }
    int code;
    struct pipeline *p = pipeline_new(&o, &code);
    if (!p)
        return code;
    bool aborted;
    code = pipeline_run(p, &aborted);
    if (o.stats != STATS_NONE) {
        struct stats s;
        pipeline_stats(p, code, &s);
        stats_print(stderr, &s, o.stats == STATS_JSON);
    }
    if (aborted) {
        fflush(stderr);
        _Exit(code); /* workers may still be running: leave at once */
    }
    pipeline_free(p);
    return code;
}
