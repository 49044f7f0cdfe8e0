/* child.c - finding, spawning, feeding, draining and reaping children; see child.h. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

#define READ_SIZE (64 * 1024) /* room made for each read of a child's stdout */

int buf_reserve(struct buf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = MAX(b->len + more, 2 * b->cap);
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

void buf_free(struct buf *b)
{
    free(b->p);
    *b = (struct buf){0};
}

char **child_environ(char *const *vars, size_t n)
{
    size_t len = 0;
    while (environ[len])
        len++;
    char **envp = calloc(len + n + 1, sizeof *envp);
    if (!envp)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (strncmp(environ[i], "WEIR_", 5) != 0)
            envp[k++] = environ[i];
    for (size_t i = 0; i < n; i++)
        envp[k++] = vars[i];
    return envp;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The child's process group of its own, an empty signal mask and every
 * signal at its default action (SIGPIPE included: weir ignores it). */
static int spawn_attrs(posix_spawnattr_t *at)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int rc = posix_spawnattr_init(at);
    if (rc)
        return rc;
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if ((rc = posix_spawnattr_setflags(at, flags)) || (rc = posix_spawnattr_setpgroup(at, 0)) ||
        (rc = posix_spawnattr_setsigmask(at, &none)) ||
        (rc = posix_spawnattr_setsigdefault(at, &all)))
        posix_spawnattr_destroy(at);
    return rc;
}

int child_spawn(struct child *c, char *const argv[], char *const envp[], bool feed)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    *c = (struct child){.pid = 0, .in = -1, .out = -1, .sent = 0};
    if ((feed && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0) {
        int rc = -errno;
        close_fd(&in[0]);
        close_fd(&in[1]);
        return rc;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        rc = feed ? posix_spawn_file_actions_adddup2(&fa, in[0], 0)
                  : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (rc == 0)
            rc = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        if (rc == 0 && (rc = spawn_attrs(&at)) == 0) {
            rc = posix_spawnp(&c->pid, argv[0], &fa, &at, argv, envp);
            posix_spawnattr_destroy(&at);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    close_fd(&in[0]);
    close_fd(&out[1]);
    c->in = in[1];
    c->out = out[0];
    if (rc == 0 && feed) /* rc: a positive errno, as posix_spawn's */
        rc = -set_nonblock(c->in);
    if (rc == 0)
        rc = -set_nonblock(c->out);
    if (rc) {
        if (c->pid > 0)
            child_finish(c, 0);
        close_fd(&c->in);
        close_fd(&c->out);
        c->pid = 0;
        return -rc;
    }
    return 0;
}

/* 0 when PATH names an executable regular file, else the errno to report:
 * that of stat, EISDIR for a directory (as bash says, where execve would
 * give EACCES), EACCES for another non-regular file (ENOENT for both with
 * regular_only: $PATH search skips them). */
static int check_executable(const char *path, int regular_only)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return regular_only ? ENOENT : S_ISDIR(st.st_mode) ? EISDIR : EACCES;
    return access(path, X_OK) == 0 ? 0 : errno;
}

int child_find(const char *name)
{
    if (strchr(name, '/'))
        return -check_executable(name, 0);
    const char *path = getenv("PATH");
    if (!path)
        path = CHILD_DEFAULT_PATH;
    int err = ENOENT;
    for (const char *p = path;; p++) {
        size_t len = strcspn(p, ":");
        char file[PATH_MAX];
        int n = snprintf(file, sizeof file, "%.*s/%s", len ? (int)len : 1, len ? p : ".", name);
        if (n > 0 && (size_t)n < sizeof file && name[0]) {
            int e = check_executable(file, 1);
            if (e == 0)
                return 0;
            if (err == ENOENT && e != ENOENT && e != ENOTDIR)
                err = e;
        }
        p += len;
        if (!*p)
            break;
    }
    return -err;
}

void child_kill(const struct child *c, int sig)
{
    if (c->pid > 0)
        kill(-c->pid, sig);
}

/* Waits for the child to exit until `deadline` (0: for ever). */
static int wait_until(struct child *c, int64_t deadline)
{
    int status;
    if (deadline == 0) {
        while (waitpid(c->pid, &status, 0) < 0)
            if (errno != EINTR)
                return -errno;
        return status;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
    int64_t nap = 50 * 1000; /* without a pidfd: naps growing to 5 ms */
    for (;;) {
        pid_t got = waitpid(c->pid, &status, WNOHANG);
        if (got == c->pid || (got < 0 && errno != EINTR)) {
            if (pidfd >= 0)
                close(pidfd);
            return got == c->pid ? status : -errno;
        }
        int64_t left = deadline - now_ns();
        if (left <= 0)
            break;
        struct timespec ts = ns_to_timespec(pidfd >= 0 ? left : MIN(nap, left));
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            ppoll(&pfd, 1, &ts, NULL);
        } else {
            nanosleep(&ts, NULL);
            nap = MIN(2 * nap, 5 * NS_PER_MS);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    child_kill(c, SIGKILL);
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    return -ETIMEDOUT;
}

int child_finish(struct child *c, int64_t deadline)
{
    close_fd(&c->in);
    close_fd(&c->out);
    if (c->pid <= 0)
        return -ECHILD;
    int rc = wait_until(c, deadline);
    c->pid = 0;
    return rc;
}

/* Writes what it can of in[*i..nin) (advancing *i and the iovec base
 * through *off). 0, or -errno (EAGAIN is 0). */
static int feed_some(int fd, const struct iovec *in, size_t nin, size_t *i, size_t *off)
{
    struct iovec v[16];
    size_t n = 0;
    for (size_t k = *i; k < nin && n < 16; k++, n++) {
        v[n] = in[k];
        if (k == *i) {
            v[n].iov_base = (char *)v[n].iov_base + *off;
            v[n].iov_len -= *off;
        }
    }
    ssize_t w = writev(fd, v, (int)n);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    size_t left = (size_t)w;
    while (*i < nin && left >= in[*i].iov_len - *off) {
        left -= in[*i].iov_len - *off;
        (*i)++;
        *off = 0;
    }
    *off += left;
    return 0;
}

/* Reads what is there into out: 1 at end of file, 0, or -errno. */
static int drain_some(int fd, struct buf *out)
{
    if (buf_reserve(out, READ_SIZE) != 0)
        return -ENOMEM;
    ssize_t r = read(fd, out->p + out->len, out->cap - out->len);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    out->len += (size_t)r;
    return r == 0;
}

int child_run(struct child *c, const struct iovec *in, size_t nin, struct buf *out, size_t out_max,
              int64_t deadline)
{
    size_t i = 0, off = 0;
    int rc = 0;
    /* until it has closed its output and taken (or refused) all its input:
     * a child that writes elsewhere (exec cat >>file) still reads it all */
    while ((c->out >= 0 || c->in >= 0) && rc == 0) {
        while (i < nin && in[i].iov_len == 0)
            i++;
        if (i == nin)
            close_fd(&c->in); /* all written: the child sees end of input */
        if (c->out < 0 && c->in < 0)
            break;
        struct pollfd pfd[2] = {{.fd = c->out, .events = POLLIN}, {.fd = c->in, .events = POLLOUT}};
        int64_t left = deadline ? deadline - now_ns() : 0;
        if (deadline && left <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        struct timespec ts = ns_to_timespec(left);
        /* a negative fd is skipped by poll */
        if (ppoll(pfd, 2, deadline ? &ts : NULL, NULL) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) && feed_some(c->in, in, nin, &i, &off))
            close_fd(&c->in); /* EPIPE: it does not read its input; no matter */
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int got = drain_some(c->out, out);
            if (got == 1)
                close_fd(&c->out);
            else if (got < 0)
                rc = got;
            else if (out->len > out_max)
                rc = -EFBIG;
        }
    }
    for (size_t k = 0; k < i; k++)
        off += in[k].iov_len;
    c->sent = off;
    if (rc) {
        child_kill(c, SIGKILL);
        child_finish(c, 0);
        return rc;
    }
    return child_finish(c, deadline);
}

void child_reason(int status, char *msg, size_t len)
{
    if (status == -ETIMEDOUT)
        snprintf(msg, len, "job timeout");
    else if (status == -EFBIG)
        snprintf(msg, len, "output too long");
    else if (status < 0)
        snprintf(msg, len, "not run: %s", strerror(-status));
    else if (WIFEXITED(status))
        snprintf(msg, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && sigabbrev_np(WTERMSIG(status)))
        snprintf(msg, len, "signal %s", sigabbrev_np(WTERMSIG(status)));
    else if (WIFSIGNALED(status))
        snprintf(msg, len, "signal %d", WTERMSIG(status));
    else
        snprintf(msg, len, "wait status %d", status);
}

void child_describe(int status, char *msg, size_t len)
{
    if (status == -ETIMEDOUT)
        snprintf(msg, len, "timed out (--job-timeout)");
    else if (status == -EFBIG)
        snprintf(msg, len, "wrote more output than --capacity-bytes");
    else if (status < 0)
        snprintf(msg, len, "could not be run: %s", strerror(-status));
    else if (WIFEXITED(status))
        snprintf(msg, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(msg, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(msg, len, "ended with wait status %d", status);
}
