/* sync.c - pthread wrappers; see sync.h. */
#include "sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void die(const char *what, int err)
{
    fprintf(stderr, "weir: %s: %s\n", what, strerror(err));
    abort();
}

int sync_mutex_init(pthread_mutex_t *mu)
{
    return -pthread_mutex_init(mu, NULL);
}

int sync_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return -rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return -rc;
}

void sync_lock(pthread_mutex_t *mu)
{
    int rc = pthread_mutex_lock(mu);
    if (rc)
        die("pthread_mutex_lock", rc);
}

void sync_unlock(pthread_mutex_t *mu)
{
    int rc = pthread_mutex_unlock(mu);
    if (rc)
        die("pthread_mutex_unlock", rc);
}

void sync_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu)
{
    int rc = pthread_cond_wait(cv, mu);
    if (rc)
        die("pthread_cond_wait", rc);
}

void sync_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline)
{
    struct timespec ts = ns_to_timespec(deadline);
    int rc = pthread_cond_timedwait(cv, mu, &ts);
    if (rc && rc != ETIMEDOUT && rc != EINTR)
        die("pthread_cond_timedwait", rc);
}
