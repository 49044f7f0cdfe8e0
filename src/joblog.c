/* joblog.c - the --joblog file; see joblog.h.
 *
 * Threading: every worker writes; one mutex makes each line one write(2)
 * (looping only on a short write, which a regular file gives when the
 * disk fills) and keeps the first error. A line is built in the caller's
 * thread, outside the lock. */
#include "joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "sync.h"

#define JOBLOG_HEADER                                                                              \
    "Seq\tWorker\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tAttempt\tCommand\n"
#define LINE_FIXED 256 /* room for the nine numeric fields and their tabs */

struct joblog {
    pthread_mutex_t mu; /* one line at a time */
    int fd;
    atomic_int err; /* the first write error, 0: none */
};

/* Writes p[0..len) whole, looping on short writes. 0 or -errno. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int joblog_open(const char *path, struct joblog **out)
{
    struct joblog *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    int rc = j->fd < 0 ? -errno : 0;
    struct stat st;
    if (rc == 0 && fstat(j->fd, &st) != 0)
        rc = -errno;
    if (rc == 0 && st.st_size == 0)
        rc = write_all(j->fd, JOBLOG_HEADER, sizeof JOBLOG_HEADER - 1);
    if (rc == 0)
        rc = sync_mutex_init(&j->mu);
    if (rc) {
        if (j->fd >= 0)
            close(j->fd);
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

void joblog_status(struct joblog_entry *e, int status)
{
    e->exitval = 0;
    e->signal = 0;
    if (status == -ETIMEDOUT || status == -EFBIG)
        e->signal = SIGKILL;
    else if (status < 0)
        e->exitval = -1;
    else if (WIFEXITED(status))
        e->exitval = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        e->signal = WTERMSIG(status);
}

/* The command's words joined by spaces, control characters escaped, at
 * p (room enough: twice their length). Its length. */
static size_t put_command(char *p, char *const *words)
{
    char *o = p;
    for (size_t i = 0; words[i]; i++) {
        if (i)
            *o++ = ' ';
        for (const char *s = words[i]; *s; s++) {
            const char *esc = *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : *s == '\r' ? "\\r" : NULL;
            if (esc) {
                memcpy(o, esc, 2);
                o += 2;
            } else {
                *o++ = *s;
            }
        }
    }
    return (size_t)(o - p);
}

/* ns as seconds with milliseconds ("12.345"), rounded down. */
#define SEC_MS(ns) (ns) / 1000000000, (int)((ns) % 1000000000 / 1000000)

int joblog_write(struct joblog *j, const struct joblog_entry *e)
{
    size_t cmd = 0;
    for (size_t i = 0; e->command[i]; i++)
        cmd += 2 * strlen(e->command[i]) + 1;
    char stack[4096], *line = stack;
    if (LINE_FIXED + cmd + 1 > sizeof stack && !(line = malloc(LINE_FIXED + cmd + 1)))
        return -ENOMEM;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t start = (int64_t)wall.tv_sec * NS_PER_SEC + wall.tv_nsec - (now_ns() - e->start);
    int64_t run = e->end > e->start ? e->end - e->start : 0;
    int n = snprintf(line, LINE_FIXED,
                     "%" PRIu64 "\t%u\t%" PRId64 ".%03d\t%" PRId64 ".%03d\t%" PRIu64 "\t%" PRIu64
                     "\t%d\t%d\t%u\t",
                     e->seq, e->worker, SEC_MS(start), SEC_MS(run), e->sent, e->received,
                     e->exitval, e->signal, e->attempt);
    size_t len = (size_t)n + put_command(line + n, e->command);
    line[len++] = '\n';
    sync_lock(&j->mu);
    int rc = write_all(j->fd, line, len);
    sync_unlock(&j->mu);
    if (line != stack)
        free(line);
    int none = 0;
    if (rc)
        atomic_compare_exchange_strong(&j->err, &none, rc);
    return rc;
}

int joblog_close(struct joblog *j)
{
    if (!j)
        return 0;
    int rc = atomic_load(&j->err);
    if (close(j->fd) != 0 && rc == 0)
        rc = -errno;
    pthread_mutex_destroy(&j->mu);
    free(j);
    return rc;
}
