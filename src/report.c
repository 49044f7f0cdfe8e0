/* report.c - error and warning lines on stderr; see report.h. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>

__attribute__((format(printf, 1, 0))) static void line(const char *fmt, va_list ap)
{
    flockfile(stderr); /* one whole line, whichever thread reports */
    fputs("weir: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void report_error(struct reporter *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line(fmt, ap);
    va_end(ap);
    atomic_store(&r->failed, true);
}

void report_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line(fmt, ap);
    va_end(ap);
}
