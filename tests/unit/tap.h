/* tap.h - a minimal TAP producer for the unit tests (read by prove).
 *
 *   ok(cond, "name %d", i);   is_int(got, want, "name");   done_testing();
 *
 * Header-only: each test program includes it once. */
#ifndef WEIR_TAP_H
#define WEIR_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#define is_int(got, want, ...)                                                                     \
    do {                                                                                           \
        long long got_ = (long long)(got), want_ = (long long)(want);                              \
        if (!ok(got_ == want_, __VA_ARGS__))                                                       \
            printf("#   got %lld, want %lld (%s:%d)\n", got_, want_, __FILE__, __LINE__);          \
    } while (0)

#define is_str(got, want, ...)                                                                     \
    do {                                                                                           \
        const char *got_ = (got), *want_ = (want);                                                 \
        if (!ok(got_ && want_ && strcmp(got_, want_) == 0, __VA_ARGS__))                           \
            printf("#   got \"%s\", want \"%s\" (%s:%d)\n", got_ ? got_ : "(null)",                \
                   want_ ? want_ : "(null)", __FILE__, __LINE__);                                  \
    } while (0)

static inline int done_testing(void)
{
    printf("1..%d\n", tap_run);
    if (tap_failed)
        printf("# %d of %d failed\n", tap_failed, tap_run);
    return tap_failed != 0;
}

#endif
