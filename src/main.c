/* main.c - weir's entry point: parse, run, report, exit. The only place
 * that calls exit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common.h"
#include "pipeline.h"

int main(int argc, char **argv)
{
    struct options o;
    switch (cli_parse(argc, argv, &o)) {
    case CLI_EXIT:
        return fflush(stdout) == 0 ? EXIT_DONE : EXIT_RUNTIME;
    case CLI_USAGE:
        return EXIT_USAGE;
    case CLI_RUN:
        break;
    }
    /* a closed stdout shows up as EPIPE from write, handled quietly */
    signal(SIGPIPE, SIG_IGN);
    int code;
    struct pipeline *p = pipeline_new(&o, &code);
    if (!p)
        return code;
    bool aborted;
    code = pipeline_run(p, &aborted);
    if (o.stats != STATS_NONE) {
        struct stats s;
        pipeline_stats(p, code, &s);
        (o.stats == STATS_JSON ? stats_print_json : stats_print_text)(stderr, &s);
    }
    if (aborted) {
        fflush(stderr);
        _Exit(code); /* workers may still be running: leave at once */
    }
    pipeline_free(p);
    return code;
}
