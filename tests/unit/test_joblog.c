/* test_joblog.c - the --joblog file (joblog.h): the header on a new or
 * empty file only, each column of a line, Starttime from the wall clock,
 * escaped control characters, exit values and signals from a job's end,
 * an unopenable file, and many threads writing at once: every line whole. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "joblog.h"
#include "tap.h"

#define HEADER                                                                                     \
    "Seq\tWorker\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tAttempt\tCommand\n"

static char dir[] = "/tmp/weir-test-joblog-XXXXXX";

/* The whole file, NUL-terminated, malloc'd (NULL when it cannot be read). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_header_and_line(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/one", dir);
    struct joblog *j = NULL;
    is_int(joblog_open(path, &j), 0, "open a new file");
    char w0[] = "sh", w1[] = "-c", w2[] = "echo a\tb\nc\\d";
    char *cmd[] = {w0, w1, w2, NULL};
    int64_t t = now_ns();
    double before = wall_now();
    struct joblog_entry e = {.seq = 7,
                             .worker = 3,
                             .start = t - 1500 * NS_PER_MS,
                             .end = t,
                             .sent = 12,
                             .received = 34,
                             .exitval = 2,
                             .attempt = 2,
                             .command = cmd};
    is_int(joblog_write(j, &e), 0, "a line written");
    double after = wall_now();
    is_int(joblog_close(j), 0, "closed");
    char *got = slurp(path);
    ok(got && strncmp(got, HEADER, strlen(HEADER)) == 0, "the header first");
    const char *line = got ? got + strlen(HEADER) : "";
    double start = 0;
    char rest[256] = "";
    ok(sscanf(line, "7\t3\t%lf\t%255[^\n]", &start, rest) == 2, "Seq and Worker");
    ok(start >= before - 1.5 - 0.001 && start <= after - 1.5, "Starttime: the wall clock at start");
    is_str(rest, "1.500\t12\t34\t2\t0\t2\tsh -c echo a\\tb\\nc\\d", "the other columns");
    const char *dot = strchr(line + 5, '.');
    ok(dot && dot[4] == '\t', "Starttime has milliseconds");
    free(got);
    /* appending: no second header */
    is_int(joblog_open(path, &j), 0, "open it again");
    e.seq = 8;
    joblog_write(j, &e);
    joblog_close(j);
    got = slurp(path);
    ok(got && strstr(got + 1, "Seq\t") == NULL, "no header when appending to a non-empty file");
    ok(got && strstr(got, "\n8\t3\t") != NULL, "the line appended");
    free(got);
}

static void test_status(void)
{
    struct joblog_entry e = {0};
    joblog_status(&e, 3 << 8);
    ok(e.exitval == 3 && e.signal == 0, "exit 3: Exitval 3, Signal 0");
    joblog_status(&e, SIGTERM);
    ok(e.exitval == 0 && e.signal == SIGTERM, "killed by SIGTERM: Exitval 0, Signal 15");
    joblog_status(&e, -ETIMEDOUT);
    ok(e.exitval == 0 && e.signal == SIGKILL, "--job-timeout: Exitval 0, Signal 9");
    joblog_status(&e, -EFBIG);
    ok(e.exitval == 0 && e.signal == SIGKILL, "too much output: Exitval 0, Signal 9");
    joblog_status(&e, -ENOENT);
    ok(e.exitval == -1 && e.signal == 0, "not run: Exitval -1");
}

static void test_open_errors(void)
{
    struct joblog *j = NULL;
    is_int(joblog_open("/nonexistent/dir/log", &j), -ENOENT, "a missing directory: -ENOENT");
    is_int(joblog_open("/dev/full", &j), -ENOSPC, "a full device: the header fails, -ENOSPC");
    is_int(joblog_close(NULL), 0, "joblog_close(NULL)");
}

#define THREADS 8
#define LINES 500
#define LONG 9000 /* a command longer than PIPE_BUF and the stack buffer */

struct writer {
    struct joblog *j;
    unsigned worker;
    char *cmd[2];
};

static void *write_lines(void *arg)
{
    struct writer *w = arg;
    for (unsigned i = 0; i < LINES; i++) {
        int64_t t = now_ns();
        struct joblog_entry e = {.seq = i + 1,
                                 .worker = w->worker,
                                 .start = t,
                                 .end = t,
                                 .attempt = 1,
                                 .command = w->cmd};
        joblog_write(w->j, &e);
    }
    return NULL;
}

/* Every line after the header: the worker's command, whole, once per seq. */
static int check_lines(char *p, unsigned *count)
{
    static unsigned seen[THREADS + 1][LINES + 1];
    for (char *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        unsigned seq, worker;
        char *cmd = strrchr(p, '\t');
        if (sscanf(p, "%u\t%u\t", &seq, &worker) != 2 || worker < 1 || worker > THREADS ||
            seq < 1 || seq > LINES || !cmd || strlen(cmd + 1) != (worker % 2 ? LONG : 1) ||
            strspn(cmd + 1, (char[]){(char)('a' + worker), 0}) != strlen(cmd + 1))
            return 0;
        seen[worker][seq]++;
        (*count)++;
    }
    for (unsigned w = 1; w <= THREADS; w++)
        for (unsigned s = 1; s <= LINES; s++)
            if (seen[w][s] != 1)
                return 0;
    return *p == '\0';
}

static void test_concurrent(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/many", dir);
    struct joblog *j = NULL;
    is_int(joblog_open(path, &j), 0, "open for the writers");
    struct writer w[THREADS];
    pthread_t tid[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        size_t len = (i + 1) % 2 ? LONG : 1; /* odd workers: long commands */
        w[i] = (struct writer){.j = j, .worker = i + 1, .cmd = {malloc(len + 1), NULL}};
        memset(w[i].cmd[0], 'a' + (int)(i + 1), len);
        w[i].cmd[0][len] = '\0';
        pthread_create(&tid[i], NULL, write_lines, &w[i]);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    is_int(joblog_close(j), 0, "closed after the writers");
    char *got = slurp(path);
    unsigned count = 0;
    ok(got && strncmp(got, HEADER, strlen(HEADER)) == 0, "one header");
    ok(got && check_lines(got + strlen(HEADER), &count), "every line whole, each job once");
    is_int(count, THREADS * LINES, "a line per job");
    free(got);
    for (unsigned i = 0; i < THREADS; i++)
        free(w[i].cmd[0]);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_header_and_line();
    test_status();
    test_open_errors();
    test_concurrent();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        ok(0, "clean up %s", dir);
    return done_testing();
}
