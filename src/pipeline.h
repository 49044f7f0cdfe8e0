/* pipeline.h - weir's engine: stdin -> framer -> admission -> queue ->
 * workers -> sequencer -> writer -> stdout, with the rejects file and the
 * stats on the side.
 *
 * The calling thread owns the signals: pipeline_block_signals blocks
 * SIGINT, SIGTERM, SIGUSR1 and SIGUSR2 (first thing in main, so that the
 * threads inherit the mask and no early signal kills weir), and
 * pipeline_run waits for them with sigwait. It reports errors on stderr
 * itself, one line each, starting with "weir: ". */
#ifndef WEIR_PIPELINE_H
#define WEIR_PIPELINE_H

#include <stdbool.h>

#include "options.h"
#include "stats.h"

struct pipeline;

/* Blocks the signals pipeline_run waits for and ignores SIGPIPE. Call it
 * before anything else, in the main thread. */
void pipeline_block_signals(void);

/* Checks and prepares everything that can fail before input is read
 * (operations, the rejects file). On error prints one line and returns
 * NULL with *exit_code set (EXIT_USAGE, EXIT_RUNTIME). */
struct pipeline *pipeline_new(const struct options *o, int *exit_code);

/* Runs to the end and returns the exit status. A second SIGINT/SIGTERM
 * returns at once with *aborted set: threads are left running and the
 * caller must exit without pipeline_free. */
int pipeline_run(struct pipeline *p, bool *aborted);

/* A snapshot of the figures (safe while running). */
void pipeline_stats(struct pipeline *p, int exit_code, struct stats *out);

void pipeline_free(struct pipeline *p);

#endif
