/* joblog.h - the --joblog file: one tab-separated line per external job,
 * as GNU parallel's joblog, with Worker in place of Host and Attempt
 * before Command:
 *
 *   Seq Worker Starttime JobRuntime Send Receive Exitval Signal Attempt Command
 *
 * The file is appended to; the header line is written when it is opened
 * empty (new, or a pipe). Each line goes out whole in one write(2), so a
 * crash leaves no half line, and lines of concurrent writers never mix:
 * joblog_write may be called from any thread. */
#ifndef WEIR_JOBLOG_H
#define WEIR_JOBLOG_H

#include <stdint.h>

struct joblog;

/* One job (one attempt of it). */
struct joblog_entry {
    uint64_t seq;         /* the record or block number (WEIR_SEQ) */
    unsigned worker;      /* WEIR_WORKER */
    int64_t start, end;   /* when it started and ended, monotonic ns (now_ns) */
    uint64_t sent;        /* bytes written to its stdin */
    uint64_t received;    /* bytes read from its stdout */
    int exitval;          /* its exit status; 0 when killed, -1 when not run */
    int signal;           /* the signal that killed it, 0: none */
    unsigned attempt;     /* 1, then 2 for the first retry, ... */
    char *const *command; /* its words, NULL-terminated; joined by spaces */
};

/* Opens (creates) path for appending, writing the header when it is
 * empty. 0 and *out, or -errno. */
int joblog_open(const char *path, struct joblog **out);

/* Sets e's exitval and signal from a job's end as child.h gives it: a
 * wait status; -ETIMEDOUT or -EFBIG (its group was killed with SIGKILL:
 * exitval 0, signal 9); another -errno (it could not be run: exitval -1). */
void joblog_status(struct joblog_entry *e, int status);

/* Appends e's line, its Starttime the wall clock's time at e->start.
 * Control characters of the command (newline, tab, CR)
 * are written as \n, \t, \r, so a line is always one line of ten fields.
 * 0, or -errno (the first error is also kept: see joblog_close). Any
 * thread. */
int joblog_write(struct joblog *j, const struct joblog_entry *e);

/* Closes the file: 0, or the -errno of the first write or close that
 * failed. NULL is fine (0). */
int joblog_close(struct joblog *j);

#endif
