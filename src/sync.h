/* sync.h - thin pthread wrappers: the one header that includes pthread.h.
 *
 * Locking failures on a valid mutex are impossible, so the wrappers abort
 * rather than make every caller check. Condition variables wait on
 * CLOCK_MONOTONIC; a timed wait that times out is not an error. */
#ifndef WEIR_SYNC_H
#define WEIR_SYNC_H

#include <pthread.h>
#include <stdint.h>

int sync_mutex_init(pthread_mutex_t *mu); /* 0 or -errno */
int sync_cond_init(pthread_cond_t *cv);   /* monotonic clock; 0 or -errno */
void sync_lock(pthread_mutex_t *mu);
void sync_unlock(pthread_mutex_t *mu);
void sync_cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu);
/* Waits until signalled or until `deadline` (monotonic ns) has passed. */
void sync_cond_timedwait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline);

/* A pause for spin loops. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
