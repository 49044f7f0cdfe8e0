/* child.h - child processes for the stages that run COMMAND.
 *
 * A child is spawned with posix_spawn (vfork-fast: a multi-threaded parent
 * must not pay fork()'s page-table copy) into a process group of its own,
 * so that a timeout or a forwarded signal reaches the whole tree it
 * starts. It gets an empty signal mask and default dispositions (weir
 * blocks some signals and ignores SIGPIPE), a pipe or /dev/null as stdin
 * (never the terminal), a pipe as stdout and weir's stderr; weir's own
 * descriptors are all close-on-exec, so none leaks into it. A struct
 * child is used by one thread. */
#ifndef WEIR_CHILD_H
#define WEIR_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct child {
    pid_t pid;   /* 0: none */
    int in;      /* our end of its stdin, or -1 */
    int out;     /* our end of its stdout, or -1 */
    size_t sent; /* bytes child_run wrote to its stdin */
};

/* A growable byte buffer (a job's output). */
struct buf {
    char *p;
    size_t len, cap;
};

/* Makes room for `more` bytes after len. 0 or -ENOMEM. */
int buf_reserve(struct buf *b, size_t more);
void buf_free(struct buf *b);

/* Starts argv[0] (searched in PATH) with envp. With `feed` its stdin is a
 * pipe (c->in, non-blocking), else /dev/null; c->out is non-blocking.
 * 0 or -errno. */
int child_spawn(struct child *c, char *const argv[], char *const envp[], bool feed);

/* Finds the program child_spawn would start for argv[0] = NAME, before
 * anything is read, so a missing COMMAND is an error at once rather than
 * one per record. A NAME with '/' is a path; otherwise, as posix_spawnp
 * searches, the first executable regular file NAME in a directory of $PATH
 * (CHILD_DEFAULT_PATH when unset; an empty entry is ".") is the one, and a
 * non-executable one met on the way is what fails. Returns 0, -ENOENT or
 * -ENOTDIR when there is none, or the -errno that starting it would give
 * (-EACCES; -EISDIR for a directory, as bash says). Only stat and access. */
int child_find(const char *name);

/* COMMAND's search path when PATH is unset. */
#define CHILD_DEFAULT_PATH "/usr/bin:/bin"

/* The environment for children: environ without any WEIR_* variable,
 * then vars[0..n) (pointers kept, so the caller can rewrite them in place).
 * NULL-terminated; free() it. NULL when out of memory. */
char **child_environ(char *const *vars, size_t n);

/* Sends sig to the child's process group. */
void child_kill(const struct child *c, int sig);

/* Closes our ends and reaps the child, waiting at most until `deadline`
 * (then its group is killed). Returns its wait status (as waitpid's), or
 * -ETIMEDOUT after the kill. */
int child_finish(struct child *c, int64_t deadline);

/* Runs a spawned child to the end: writes in[0..nin) to its stdin, then
 * closes it (a child that does not read it is no error), and collects its
 * stdout in *out until end of file, polling both so neither side can
 * deadlock. More than out_max bytes of output, or the deadline passing,
 * kills its group. Returns the wait status, -EFBIG, -ETIMEDOUT or -errno;
 * c->sent tells how much of `in` it took. */
int child_run(struct child *c, const struct iovec *in, size_t nin, struct buf *out, size_t out_max,
              int64_t deadline);

/* A one-line account of a wait status or error: "exited with status 1",
 * "killed by signal 9", "timed out", ... into msg. */
void child_describe(int status, char *msg, size_t len);

/* The same in the rejects file's words (--rejects-format json): "exit N",
 * "signal NAME", "job timeout", "output too long", "not run: ERROR". */
void child_reason(int status, char *msg, size_t len);

#endif
