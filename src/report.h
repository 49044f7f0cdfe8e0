/* report.h - the one way weir's threads tell the user something: one whole
 * line on stderr, starting with "weir: ", never interleaved with another
 * thread's line. An error also marks the run failed (exit 1). */
#ifndef WEIR_REPORT_H
#define WEIR_REPORT_H

#include <stdatomic.h>
#include <stdbool.h>

/* Shared by the threads of one run; zero-initialised is ready. */
struct reporter {
    atomic_bool failed; /* an error was reported */
};

/* Prints an error line and marks r failed. Thread-safe. */
__attribute__((format(printf, 2, 3))) void report_error(struct reporter *r, const char *fmt, ...);

/* Prints a warning line; the run is not failed by it. Thread-safe. */
__attribute__((format(printf, 1, 2))) void report_warning(const char *fmt, ...);

static inline bool report_failed(struct reporter *r)
{
    return atomic_load(&r->failed);
}

#endif
