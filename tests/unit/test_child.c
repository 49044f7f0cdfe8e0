/* test_child.c - child processes (child.h): child_run echoes its input
 * exactly however large, with no deadlock, and a child that does not read
 * its input is no error; too much output or a deadline kills the child's
 * whole process group and reaps it; wait statuses are described in words;
 * a child starts with an empty signal mask, default dispositions, a
 * process group of its own, /dev/null or a pipe as stdin and no other
 * descriptor of ours; child_environ drops WEIR_* and appends its vars;
 * child_find resolves a COMMAND as posix_spawnp would, or says why not.
 *
 * Nothing here depends on the machine's speed: deadlines meant to pass are
 * a minute away, and the upper bounds asserted are 10 seconds. The test
 * is a child subreaper, so that the grandchildren of a killed group come
 * back to it to be reaped and checked. weir ignores SIGPIPE (pipeline.c);
 * so does this test, as child_run expects. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "common.h"
#include "tap.h"

extern char **environ;

#define BIG (8u << 20)          /* well past any pipe buffer */
#define AMPLE (60 * NS_PER_SEC) /* a deadline meant never to pass */
#define SLACK (10 * NS_PER_SEC) /* the most a kill may take to show */

/* A string literal as an argv element (exec does not change them). */
static char *arg(const char *s)
{
    return (char *)(uintptr_t)s;
}

/* Spawns argv and runs it to the end with in[0..nin) (stdin /dev/null when
 * feed is false); its output in *out. The status child_run returns; *pid
 * (when not NULL) gets the child's pid. */
static int run_argv(char *const argv[], bool feed, const struct iovec *in, size_t nin,
                    struct buf *out, size_t out_max, int64_t deadline, pid_t *pid)
{
    struct child c;
    int rc = child_spawn(&c, argv, environ, feed);
    if (rc) {
        printf("# child_spawn %s: %s\n", argv[0], strerror(-rc));
        return rc;
    }
    if (pid)
        *pid = c.pid;
    rc = child_run(&c, in, nin, out, out_max, deadline);
    if (c.pid != 0 || c.in != -1 || c.out != -1)
        ok(0, "%s: child_run leaves no pid nor descriptor behind", argv[0]);
    return rc;
}

/* sh -c script, fed in[0..nin), output in *out (NUL-terminated). */
static int run_sh(const char *script, const struct iovec *in, size_t nin, struct buf *out)
{
    char *argv[] = {arg("sh"), arg("-c"), arg(script), NULL};
    int rc = run_argv(argv, nin > 0, in, nin, out, BIG, now_ns() + AMPLE, NULL);
    if (buf_reserve(out, 1) == 0)
        out->p[out->len] = '\0';
    return rc;
}

/* Reaps the orphans handed to us, until no process is left in group pgid
 * or `slack` has passed. True when the group is gone. */
static bool group_gone(pid_t pgid, int64_t slack)
{
    int64_t end = now_ns() + slack;
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (kill(-pgid, 0) != 0 && errno == ESRCH)
            return true;
        if (now_ns() > end)
            return false;
        usleep(10 * 1000);
    }
}

/* BIG bytes of every byte value, cut into iovecs of assorted sizes with
 * empty ones among them. Returns nin. */
static size_t big_input(char *data, struct iovec *v, size_t maxv)
{
    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)(i * 7 + i / 251);
    static const size_t sizes[] = {0, 1, 4095, 0, 0, 65536, 65537, 3, 1 << 20, 0, 17, 300000};
    size_t off = 0, n = 0;
    for (size_t k = 0; off < BIG && n + 1 < maxv; k++, n++) {
        size_t len = MIN(sizes[k % (sizeof sizes / sizeof *sizes)], BIG - off);
        v[n] = (struct iovec){data + off, len};
        off += len;
    }
    v[n++] = (struct iovec){data + off, BIG - off};
    return n;
}

static void test_round_trip(void)
{
    char *data = malloc(BIG);
    struct iovec v[64];
    size_t nin = big_input(data, v, 64);
    struct buf out = {0};
    char *argv[] = {arg("cat"), NULL};
    int st = run_argv(argv, true, v, nin, &out, 2 * BIG, now_ns() + AMPLE, NULL);
    is_int(st, 0, "cat fed 8 MiB in %zu iovecs exits 0 (no deadlock: timed out is %d)", nin,
           -ETIMEDOUT);
    ok(out.len == BIG && memcmp(out.p, data, BIG) == 0, "cat echoes all 8 MiB exactly");

    out.len = 0;
    struct iovec small[3] = {{arg("ab"), 2}, {arg(""), 0}, {arg("c\n"), 2}};
    st = run_argv(argv, true, small, 3, &out, 16, now_ns() + AMPLE, NULL);
    ok(st == 0 && out.len == 4 && memcmp(out.p, "abc\n", 4) == 0, "a few small iovecs, echoed");

    out.len = 0;
    st = run_argv(argv, true, NULL, 0, &out, 16, now_ns() + AMPLE, NULL);
    ok(st == 0 && out.len == 0, "no input at all: cat sees end of file at once and exits 0");
    buf_free(&out);
    free(data);
}

static void test_child_not_reading(void)
{
    char *data = calloc(1, BIG);
    struct iovec v = {data, BIG};
    struct buf out = {0};
    char *argv[] = {arg("true"), NULL};
    int st = run_argv(argv, true, &v, 1, &out, BIG, now_ns() + AMPLE, NULL);
    is_int(st, 0, "true, fed 8 MiB it never reads: no error, its exit status 0");

    out.len = 0;
    st = run_sh("exec 0<&-; echo hi", &v, 1, &out);
    is_int(st, 0, "a child that closes its stdin at once and exits 0: status 0");
    is_str(out.p, "hi\n", "its output is kept");

    out.len = 0;
    st = run_sh("exec 0<&-; echo partial; exit 4", &v, 1, &out);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 4, "one that exits 4 instead: status 4 (got %d)", st);
    buf_free(&out);
    free(data);
}

/* A child that redirects its stdout away (so ours sees end of file at
 * once) but reads all of its stdin must still be given all of it. */
static void test_stdout_closed_first(void)
{
    char dir[] = "/tmp/weir-test-child-XXXXXX", script[128], path[64];
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof path, "%s/got", dir);
    snprintf(script, sizeof script, "exec cat > %s", path);
    char *data = calloc(1, BIG);
    struct iovec v = {data, BIG};
    struct buf out = {0};
    int st = run_sh(script, &v, 1, &out);
    struct stat sb = {0};
    stat(path, &sb);
    is_int(st, 0, "'exec cat > file' exits 0");
    is_int(sb.st_size, (off_t)BIG, "'exec cat > file' gets all 8 MiB of its input");
    unlink(path);
    rmdir(dir);
    buf_free(&out);
    free(data);
}

static void test_too_much_output(void)
{
    struct buf out = {0};
    char *argv[] = {arg("yes"), NULL};
    pid_t pid = 0;
    int64_t t0 = now_ns();
    int st = run_argv(argv, false, NULL, 0, &out, 1 << 20, now_ns() + AMPLE, &pid);
    is_int(st, -EFBIG, "yes, past out_max of 1 MiB: -EFBIG");
    ok(now_ns() - t0 < SLACK, "without waiting for the deadline");
    ok(pid > 0 && kill(pid, 0) != 0 && errno == ESRCH, "the child is killed and reaped");
    ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "nothing of it left to wait for");
    char msg[128];
    child_describe(st, msg, sizeof msg);
    is_str(msg, "wrote more output than --capacity-bytes", "described as too much output");
    buf_free(&out);
}

static void test_deadline(void)
{
    struct buf out = {0};
    char *argv[] = {arg("sh"), arg("-c"), arg("sleep 30 & echo $!; sleep 30"), NULL};
    pid_t pid = 0;
    int64_t t0 = now_ns();
    int st = run_argv(argv, false, NULL, 0, &out, 1 << 20, now_ns() + 200 * NS_PER_MS, &pid);
    int64_t took = now_ns() - t0;
    is_int(st, -ETIMEDOUT, "sh running two sleep 30 with a 200 ms deadline: -ETIMEDOUT");
    ok(took < SLACK, "returned within 10 s (took %.1f s)", (double)took / NS_PER_SEC);
    ok(took >= 200 * NS_PER_MS, "not before the deadline");
    ok(pid > 0 && waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "the child is reaped");
    ok(group_gone(pid, SLACK), "its whole process group is killed, the background sleep too");
    char msg[128];
    child_describe(st, msg, sizeof msg);
    is_str(msg, "timed out (--job-timeout)", "described as timed out");
    buf_free(&out);
}

static void test_finish(void)
{
    struct child c;
    char *cat[] = {arg("cat"), NULL}, *sleeper[] = {arg("sleep"), arg("30"), NULL};
    int st = child_spawn(&c, cat, environ, true);
    if (st == 0)
        st = child_finish(&c, now_ns() + AMPLE);
    is_int(st, 0, "child_finish closes a filter's input: cat ends, status 0");
    ok(c.pid == 0 && c.in == -1 && c.out == -1, "and forgets it");
    is_int(child_finish(&c, 0), -ECHILD, "finishing it again: -ECHILD");

    int64_t t0 = now_ns();
    st = child_spawn(&c, sleeper, environ, true);
    pid_t pid = c.pid;
    if (st == 0)
        st = child_finish(&c, now_ns() + 200 * NS_PER_MS);
    is_int(st, -ETIMEDOUT, "sleep 30 finished with a 200 ms deadline: -ETIMEDOUT");
    ok(now_ns() - t0 < SLACK, "within 10 s");
    ok(kill(pid, 0) != 0 && errno == ESRCH, "sleep is killed and reaped");
}

static void test_status(void)
{
    struct buf out = {0};
    char msg[128];
    int st = run_sh("exit 3", NULL, 0, &out);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 3, "sh -c 'exit 3': exit status 3 (got %d)", st);
    child_describe(st, msg, sizeof msg);
    is_str(msg, "exited with status 3", "described as exited with status 3");

    st = run_sh("kill -9 $$", NULL, 0, &out);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "sh -c 'kill -9 $$': killed by signal 9");
    child_describe(st, msg, sizeof msg);
    ok(strncmp(msg, "killed by signal 9", 18) == 0, "described with signal 9: \"%s\"", msg);

    child_describe(-ENOENT, msg, sizeof msg);
    ok(strstr(msg, "could not be run") && strstr(msg, strerror(ENOENT)),
       "an errno is described by strerror: \"%s\"", msg);
    buf_free(&out);
}

/* The value of "key:" in /proc/PID/status text, or "" (static). */
static const char *status_field(const char *text, const char *key)
{
    static char val[64];
    val[0] = '\0';
    char pat[32];
    snprintf(pat, sizeof pat, "\n%s:", key);
    const char *p = strstr(text, pat);
    if (p && sscanf(p + strlen(pat), " %63s", val) != 1)
        val[0] = '\0';
    return val;
}

static void test_signals_and_group(void)
{
    sigset_t intr, old;
    sigemptyset(&intr);
    sigaddset(&intr, SIGINT);
    pthread_sigmask(SIG_BLOCK, &intr, &old);
    void (*old_int)(int) = signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    struct buf out = {0};
    char *status[] = {arg("cat"), arg("/proc/self/status"), NULL},
         *pstat[] = {arg("cat"), arg("/proc/self/stat"), NULL};
    int st = run_argv(status, false, NULL, 0, &out, 1 << 20, now_ns() + AMPLE, NULL);
    if (st == 0 && buf_reserve(&out, 1) == 0)
        out.p[out.len] = '\0';
    is_int(st, 0, "cat /proc/self/status runs (SIGINT blocked and ignored in the parent)");
    is_str(status_field(out.p, "SigBlk"), "0000000000000000", "the child's signal mask is empty");
    /* glibc's posix_spawn leaves its internal signals 32 and 33 ignored */
    unsigned long long ign = strtoull(status_field(out.p, "SigIgn"), NULL, 16);
    ok(status_field(out.p, "SigIgn")[0] && (ign & 0xffffffffULL >> 1) == 0,
       "the child ignores none of signals 1-31: SIGPIPE, SIGINT, SIGTERM at their default "
       "(SigIgn %s)",
       status_field(out.p, "SigIgn"));

    out.len = 0;
    pid_t pid = 0;
    st = run_argv(pstat, false, NULL, 0, &out, 1 << 20, now_ns() + AMPLE, &pid);
    int self = 0, pgrp = 0;
    if (st == 0 && buf_reserve(&out, 1) == 0) {
        out.p[out.len] = '\0';
        const char *close_paren = strrchr(out.p, ')');
        self = atoi(out.p);
        if (close_paren)
            sscanf(close_paren + 1, " %*c %*d %d", &pgrp);
    }
    ok(self == pid && pgrp == pid, "the child leads a process group of its own (pid %d, pgrp %d)",
       self, pgrp);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, old_int);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    buf_free(&out);
}

/* Whether fd was open in this process without close-on-exec when the
 * test started (handed down by whoever ran it: not ours to close). */
static bool inherited[1024];

static void note_inherited(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        inherited[fd] = fl >= 0 && !(fl & FD_CLOEXEC);
    }
}

/* Checks the `ls -ln /proc/self/fd` listing of a child: 0, 1 and 2, the
 * directory ls reads, and what the test inherited; nothing else. Returns
 * the target of fd 0 in stdin0. */
static bool only_std_fds(char *listing, char *stdin0, size_t len)
{
    bool good = true;
    stdin0[0] = '\0';
    for (char *line = strtok(listing, "\n"); line; line = strtok(NULL, "\n")) {
        char *arrow = strstr(line, " -> ");
        if (!arrow)
            continue;
        char *num = arrow;
        while (num > line && num[-1] != ' ')
            num--;
        int fd = atoi(num);
        const char *target = arrow + 4;
        bool dir = strncmp(target, "/proc/", 6) == 0 && strstr(target, "/fd") != NULL;
        if (fd == 0)
            snprintf(stdin0, len, "%s", target);
        if (fd > 2 && !dir && !(fd < 1024 && inherited[fd])) {
            printf("#   leaked: fd %d -> %s\n", fd, target);
            good = false;
        }
    }
    return good;
}

static void test_no_descriptor_leaks(void)
{
    char path[] = "/tmp/weir-test-child-XXXXXX";
    int tmp = mkostemp(path, O_CLOEXEC), p[2] = {-1, -1};
    int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (pipe2(p, O_CLOEXEC) != 0 || tmp < 0 || dn < 0)
        ok(0, "test setup: open descriptors");
    char *argv[] = {arg("ls"), arg("-ln"), arg("/proc/self/fd/"), NULL}, stdin0[256];
    struct iovec none = {arg(""), 0};
    for (int feed = 0; feed < 2; feed++) {
        struct buf out = {0};
        int st = run_argv(argv, feed, &none, (size_t)feed, &out, 1 << 20, now_ns() + AMPLE, NULL);
        if (st == 0 && buf_reserve(&out, 1) == 0)
            out.p[out.len] = '\0';
        is_int(st, 0, "ls /proc/self/fd runs as the child (feed %d)", feed);
        ok(st == 0 && only_std_fds(out.p, stdin0, sizeof stdin0),
           "the child has only 0, 1, 2 and ls's own directory, with 4 descriptors of the test "
           "open (feed %d)",
           feed);
        if (feed)
            ok(strncmp(stdin0, "pipe:", 5) == 0, "fed: its stdin is a pipe (%s)", stdin0);
        else
            is_str(stdin0, "/dev/null", "not fed: its stdin is /dev/null");
        buf_free(&out);
    }
    close(p[0]);
    close(p[1]);
    close(dn);
    close(tmp);
    unlink(path);
}

static void test_stdin_not_inherited(void)
{
    /* our stdin: a pipe that never ends, so a child reading it would hang */
    int p[2], saved = dup(0);
    if (pipe(p) != 0 || saved < 0 || dup2(p[0], 0) < 0) {
        ok(0, "test setup: a stdin that never ends");
        return;
    }
    close(p[0]);
    struct buf out = {0};
    char *argv[] = {arg("cat"), NULL};
    int st = run_argv(argv, false, NULL, 0, &out, 1 << 20, now_ns() + SLACK, NULL);
    is_int(st, 0, "cat not fed sees end of file at once, though the parent's stdin never ends");
    is_int(out.len, 0, "and writes nothing");
    dup2(saved, 0);
    close(saved);
    close(p[1]);
    buf_free(&out);
}

static void test_environ(void)
{
    setenv("WEIR_SECRET", "1", 1);
    setenv("WEIR_WORKER", "99", 1);
    setenv("NOT_WEIR_X", "kept", 1);
    char a[] = "WEIR_WORKER=7", b[] = "EXTRA=2";
    char *vars[] = {a, b};
    char **envp = child_environ(vars, 2);
    size_t n = 0, k = 0;
    bool order = true;
    for (size_t i = 0; environ[i]; i++)
        if (strncmp(environ[i], "WEIR_", 5) != 0)
            order &= envp[k++] == environ[i];
    while (envp[n])
        n++;
    ok(order, "environ's other variables come first, in order, as they are");
    ok(n == k + 2 && envp[k] == a && envp[k + 1] == b, "then the given vars, the very pointers");

    struct buf out = {0};
    struct child c;
    char *argv[] = {arg("env"), NULL};
    int st = child_spawn(&c, argv, envp, false);
    if (st == 0)
        st = child_run(&c, NULL, 0, &out, 1 << 20, now_ns() + AMPLE);
    if (buf_reserve(&out, 1) == 0)
        out.p[out.len] = '\0';
    is_int(st, 0, "env runs with it");
    ok(out.p && !strstr(out.p, "WEIR_SECRET") && !strstr(out.p, "WEIR_WORKER=99"),
       "the child sees none of weir's WEIR_* variables");
    ok(out.p && strstr(out.p, "WEIR_WORKER=7\n") && strstr(out.p, "EXTRA=2\n"),
       "but sees the ones given");
    ok(out.p && strstr(out.p, "NOT_WEIR_X=kept\n"), "only names starting WEIR_ are dropped");
    unsetenv("WEIR_SECRET");
    unsetenv("WEIR_WORKER");
    unsetenv("NOT_WEIR_X");
    buf_free(&out);
    free(envp);
}

/* Descriptors open in this process. */
static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void test_spawn_missing(void)
{
    struct child c = {.pid = 123, .in = 5, .out = 6};
    char *argv[] = {arg("weir-test-no-such-command"), NULL};
    int before = count_fds();
    int rc = child_spawn(&c, argv, environ, true);
    is_int(rc, -ENOENT, "a command not in PATH: -ENOENT");
    ok(c.pid == 0 && c.in == -1 && c.out == -1, "no child, no descriptors handed out");
    is_int(count_fds(), before, "none left open either");
    ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "nothing to reap");
}

static void touch(const char *dir, const char *name, mode_t mode, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    int fd = open(path, O_CREAT | O_WRONLY, mode);
    if (fd >= 0)
        close(fd);
}

/* child_find: a path or a PATH search, what it skips, what it reports. */
static void test_find(void)
{
    char dir[] = "/tmp/weir-find-XXXXXX", run[300], noexec[300], sub[300], both[700];
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp: %s", strerror(errno));
        return;
    }
    touch(dir, "run", 0755, run, sizeof run);
    touch(dir, "noexec", 0644, noexec, sizeof noexec);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);
    is_int(child_find("run"), 0, "an executable in PATH is found");
    is_int(child_find("noexec"), -EACCES, "a non-executable one is reported");
    is_int(child_find("sub"), -ENOENT, "a directory in PATH is skipped");
    is_int(child_find("nope"), -ENOENT, "none: not found");
    is_int(child_find(""), -ENOENT, "an empty name is never found");
    snprintf(both, sizeof both, "/nonexistent:%s:%s", sub, dir);
    setenv("PATH", both, 1);
    is_int(child_find("run"), 0, "entries that lack it are passed over");
    is_int(child_find(sub), -EISDIR, "a directory by path: EISDIR, as bash says");
    is_int(child_find(noexec), -EACCES, "a non-executable path: EACCES");
    is_int(child_find("/nonexistent/x"), -ENOENT, "a missing path: not found");
    unsetenv("PATH");
    is_int(child_find("sh"), 0, "PATH unset: " CHILD_DEFAULT_PATH " is searched");
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);
    unlink(run);
    unlink(noexec);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as weir does: a child that stops reading is EPIPE */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    note_inherited();
    test_round_trip();
    test_child_not_reading();
    test_stdout_closed_first();
    test_too_much_output();
    test_deadline();
    test_finish();
    test_status();
    test_signals_and_group();
    test_no_descriptor_leaks();
    test_stdin_not_inherited();
    test_environ();
    test_spawn_missing();
    test_find();
    ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child nor orphan left behind");
    return done_testing();
}
