/* test_coproc.c - the co-process stage (--coproc, coproc.c) driven through
 * stage_open/stage_run as a worker drives it: one co-process per stage,
 * kept across batches, its replies in record order, exact; a co-process
 * that dies or hangs (--job-timeout) fails the one record it owed and the
 * records after it are answered by a new one; --retries; a co-process
 * answering too much is restarted; the environment it gets; a stop
 * signal; no child left unreaped after stage_close; an extra reply
 * inside the write-ahead window is reported; --capacity-bytes bounds a
 * reply, not many replies read at once.
 *
 * The co-processes are small sh scripts. Timeouts that must expire are a
 * second against `sleep 30`, and the bounds asserted on time are 10
 * seconds: nothing depends on the machine's speed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "coproc.h"
#include "options.h"
#include "run.h"
#include "stage.h"

#include "mkbatch.h"
#include "tap.h"

#define SLACK (10 * NS_PER_SEC) /* the longest anything here may take */

static char tmpdir[] = "/tmp/weir-test-coproc-XXXXXX";
static bool counts_add_up = true; /* in every batch run: done + failed == n, out == done */

/* A stage as one worker has it, with the counters it reports into. */
struct rig {
    struct options o;
    char *argv[4];
    char script[4096];
    atomic_int child;
    struct run *run;
    atomic_uint warnings;
    atomic_bool hinted;
    _Atomic uint64_t retried;
    struct stage_env env;
    struct stage *st;
};

/* Opens a co-process stage running `sh -c script` (or argv[0] = cmd when
 * script is NULL). False when stage_open failed. */
static bool rig_open(struct rig *r, const char *cmd, const char *script)
{
    r->o.delim = '\n';
    r->o.mode = MODE_COPROC;
    r->o.workers = 1;
    if (!r->o.capacity_bytes)
        r->o.capacity_bytes = 64u << 20;
    snprintf(r->script, sizeof r->script, "%s", script ? script : "");
    r->argv[0] = (char *)(uintptr_t)cmd;
    r->argv[1] = script ? (char *)(uintptr_t) "-c" : NULL;
    r->argv[2] = script ? r->script : NULL;
    r->argv[3] = NULL;
    r->o.command = r->argv;
    if (!r->run && run_new(&r->run) != 0)
        return false;
    r->env = (struct stage_env){.o = &r->o,
                                .worker = r->env.worker ? r->env.worker : 1,
                                .child = &r->child,
                                .run = r->run,
                                .retried = &r->retried,
                                .warnings = &r->warnings,
                                .hinted = &r->hinted};
    char msg[256] = "";
    int rc = stage_open(&coproc_kind, &r->env, &r->st, msg, sizeof msg);
    if (rc)
        ok(0, "stage_open: %d %s", rc, msg);
    return rc == 0;
}

/* Closes the stage; true when no child of ours is left, not even a
 * zombie. */
static bool rig_close(struct rig *r)
{
    stage_close(r->st);
    r->st = NULL;
    run_free(r->run);
    r->run = NULL;
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* A batch of the records in text, each ended by '\n', numbered from
 * recno0. */
static struct batch *batch_of(const char *text, uint64_t recno0)
{
    size_t len = strlen(text), n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    struct chunk *c = chunk_new(NULL, len + 1);
    memcpy(c->data, text, len);
    c->len = len;
    struct batch *b = batch_new(c, n);
    chunk_unref(c);
    for (size_t i = 0, start = 0; i < len; i++)
        if (text[i] == '\n') {
            b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)(i - start)};
            start = i + 1;
        }
    b->bytes = len;
    b->recno0 = recno0;
    return b;
}

/* The output of b, concatenated and NUL-terminated; free() it. */
static char *output_of(const struct batch *b)
{
    size_t n = 0;
    char *out = malloc(b->bytes_out + 1);
    for (size_t i = 0; i < b->nsegs; i++) {
        memcpy(out + n, b->segs[i].p, b->segs[i].len);
        n += b->segs[i].len;
    }
    out[n] = '\0';
    return out;
}

/* Which records of b failed, as a string of '.' (done) and 'F'. */
static const char *failures(const struct batch *b)
{
    static char s[256];
    size_t i = 0;
    for (; i < b->n && i + 1 < sizeof s; i++)
        s[i] = b->n_failed == b->n || (b->failed && b->failed[i]) ? 'F' : '.';
    s[i] = '\0';
    return s;
}

/* Runs the stage on a batch of text; its output (free() it) and the
 * failure string in *fails. */
static char *run_text(struct rig *r, const char *text, uint64_t recno0, const char **fails)
{
    struct batch *b = batch_of(text, recno0);
    int rc = stage_run(r->st, b);
    if (rc)
        printf("# stage_run: %d\n", rc);
    char *out = output_of(b);
    if (b->n_done + b->n_failed != b->n || b->n_out != b->n_done) {
        printf("# counts: n %zu done %llu failed %llu out %llu\n", b->n,
               (unsigned long long)b->n_done, (unsigned long long)b->n_failed,
               (unsigned long long)b->n_out);
        counts_add_up = false;
    }
    *fails = failures(b);
    batch_free(b);
    return out;
}

/* Each record of text (that did not fail, fails[i] == '.') answered by
 * itself, in order: what an echoing co-process must give. */
static bool echoed(const char *out, const char *text, const char *fails)
{
    for (size_t i = 0; *text; i++) {
        size_t len = strcspn(text, "\n") + 1;
        if (fails[i] == '.') {
            if (strncmp(out, text, len) != 0)
                return false;
            out += len;
        }
        text += len;
    }
    return *out == '\0';
}

/* stderr goes to a file between capture() and captured(). */
static int saved_stderr = -1;

static void capture(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/stderr", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* What was written on stderr since capture() (static), which is ended. */
static const char *captured(void)
{
    static char text[8192];
    char path[256];
    dup2(saved_stderr, 2);
    close(saved_stderr);
    snprintf(path, sizeof path, "%s/stderr", tmpdir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

/* "P:%06d\n" for records first..first+n. */
static char *prefixed(uint64_t first, size_t n)
{
    char *want = malloc(n * 9 + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(want + 9 * i, 10, "P:%06llu\n", (unsigned long long)(first + i));
    want[9 * n] = '\0';
    return want;
}

static void test_replies_in_order(void)
{
    struct rig r = {0};
    if (!rig_open(&r, "sh", "exec sed -u 's/^/P:/'"))
        return;
    static const size_t sizes[] = {1, 63, 64, 65, 807, 9000}; /* 10000 */
    uint64_t first = 1;
    bool exact = true, counts = true, kept = true;
    int pid0 = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        struct batch *b = mk(first, n, 6);
        int rc = stage_run(r.st, b);
        char *out = output_of(b), *want = prefixed(first, n);
        exact &= rc == 0 && strcmp(out, want) == 0;
        counts &= b->n_done == n && b->n_out == n && b->n_failed == 0 && !b->failed &&
                  b->bytes_out == 9 * n;
        if (k == 0)
            pid0 = atomic_load(&r.child);
        kept &= pid0 > 0 && atomic_load(&r.child) == pid0;
        free(out);
        free(want);
        batch_free(b);
        first += n;
    }
    ok(exact, "sed -u, 10000 records in 6 batches: every reply exact and in order");
    ok(counts, "each batch: n_done and n_out all its records, none failed, bytes_out right");
    ok(kept, "one co-process answers all the batches");
    is_int(atomic_load(&r.warnings), 0, "no warning");
    ok(rig_close(&r), "stage_close leaves no child behind, not even a zombie");
    is_int(atomic_load(&r.child), 0, "and no pid listed for signals");
}

static void test_large_records(void)
{
    struct rig r = {0};
    if (!rig_open(&r, "sh", "exec cat"))
        return;
    size_t width = 256 * 1024, n = 64; /* each record over a pipe's buffer */
    char *text = malloc(n * (width + 1) + 1);
    for (size_t i = 0; i < n * (width + 1); i++)
        text[i] = i % (width + 1) == width ? '\n' : (char)('a' + i % 23);
    text[n * (width + 1)] = '\0';
    const char *fails;
    char *out = run_text(&r, text, 1, &fails);
    ok(strcmp(out, text) == 0, "cat as co-process: 64 records of 256 KiB echoed exactly");
    ok(rig_close(&r), "no child left");
    free(out);
    free(text);
}

/* Lines "PID record" into pids[] and the records joined by spaces. */
static size_t parse_pid_lines(const char *out, int *pids, size_t max, char *recs, size_t len)
{
    size_t n = 0;
    recs[0] = '\0';
    for (const char *p = out; *p && n < max; p = strchr(p, '\n') + 1) {
        char rec[32];
        if (sscanf(p, "%d %31s", &pids[n], rec) != 2 || !strchr(p, '\n'))
            break;
        snprintf(recs + strlen(recs), len - strlen(recs), "%s%s", n ? " " : "", rec);
        n++;
    }
    return n;
}

static void test_coprocess_dies(void)
{
    struct rig r = {0};
    if (!rig_open(&r, "sh", "while read -r l; do [ \"$l\" = die ] && exit 3; echo \"$$ $l\"; done"))
        return;
    const char *fails;
    capture();
    char *out = run_text(&r, "a\nb\ndie\nc\nd\n", 1, &fails);
    const char *err = captured();
    int pid[8];
    char recs[64];
    size_t n = parse_pid_lines(out, pid, 8, recs, sizeof recs);
    is_str(fails, "..F..", "a co-process that exits on record 3 fails that record alone");
    ok(n == 4 && strcmp(recs, "a b c d") == 0, "the others are answered, in order (%s)", recs);
    ok(n == 4 && pid[0] == pid[1] && pid[2] == pid[3] && pid[1] != pid[2],
       "those after it by a new co-process");
    ok(strstr(err, "weir: record 3: co-process sh exited with status 3: failed\n") != NULL,
       "a warning names the record and why it failed");
    is_int(atomic_load(&r.warnings), 1, "one warning counted");
    ok(rig_close(&r), "no child left");
    free(out);
}

static void test_job_timeout(void)
{
    struct rig r = {.o.job_timeout_ns = NS_PER_SEC};
    if (!rig_open(&r, "sh", "while read -r l; do [ \"$l\" = hang ] && sleep 30; echo \"$l\"; done"))
        return;
    const char *fails;
    capture();
    int64_t t0 = now_ns();
    char *out = run_text(&r, "a\nhang\nb\nc\n", 1, &fails);
    int64_t took = now_ns() - t0;
    const char *err = captured();
    is_str(fails, ".F..", "the record never answered within --job-timeout 1s fails");
    is_str(out, "a\nb\nc\n", "the others are answered, in order");
    ok(took >= NS_PER_SEC && took < SLACK, "after the timeout, not 30 s (took %.1f s)",
       (double)took / NS_PER_SEC);
    ok(strstr(err, "record 2: co-process sh timed out (--job-timeout): failed") != NULL,
       "the warning says it timed out");
    ok(rig_close(&r), "no child left");
    free(out);
}

/* A co-process answering "twice" with two replies, written at once (one
 * write: they arrive together); it waits 0.2 s before answering "c". Each
 * start adds a line to the file "starts". (sh, not awk: mawk reads a pipe
 * a whole buffer at a time.) */
static bool open_doubler(struct rig *r)
{
    char script[512];
    snprintf(script, sizeof script,
             "echo start >> %s/starts; while read -r l; do case $l in "
             "twice) printf '%%s\\n%%s\\n' \"$l\" \"$l\";; c) sleep 0.2; echo c;; "
             "*) echo \"$l\";; esac; done",
             tmpdir);
    return rig_open(r, "sh", script);
}

static int count_starts(void)
{
    char path[256], line[64];
    snprintf(path, sizeof path, "%s/starts", tmpdir);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    unlink(path);
    return n;
}

static void test_extra_reply(void)
{
    struct rig r = {0};
    if (!open_doubler(&r))
        return;
    const char *fails;
    capture();
    char *out1 = run_text(&r, "twice\n", 1, &fails);
    const char *err = captured();
    is_str(out1, "twice\n", "two replies to a batch of one record: the record gets the first");
    is_str(fails, ".", "and is done");
    ok(strstr(err, "co-process sh answered more records than it was sent: restarted") != NULL,
       "a warning says the co-process answered too much and is restarted");
    char *out2 = run_text(&r, "a\nb\n", 2, &fails);
    is_str(out2, "a\nb\n", "the next batch is answered right, not with the extra reply");
    is_int(count_starts(), 2, "by a new co-process");
    ok(rig_close(&r), "no child left");
    free(out1);
    free(out2);
}

/* An extra reply while later records are already written (the window)
 * cannot be told from theirs: it is taken as the next record's reply
 * (weir(1) says so). What weir promises is that it is reported, at the
 * latest when the co-process ends. */
static void test_extra_reply_in_window(void)
{
    struct rig r = {0};
    if (!open_doubler(&r))
        return;
    const char *fails;
    capture();
    char *out1 = run_text(&r, "twice\nb\nc\n", 1, &fails);
    char *out2 = run_text(&r, "d\ne\n", 4, &fails);
    bool clean = rig_close(&r);
    const char *err = captured();
    /* when the next batch or stage_close sees the reply left over */
    ok(strstr(err, "co-process sh answered more records than it was sent") ||
           strstr(err, "co-process sh wrote 2 bytes after its last reply: it answered more"),
       "at least, the extra reply is reported in the end");
    ok(clean, "no child left");
    count_starts();
    free(out1);
    free(out2);
}

static void test_retries(void)
{
    struct rig r = {.o.retries = 1};
    char script[512];
    snprintf(script, sizeof script,
             "while read -r l; do case $l in bad) exit 1;; flaky) [ -e %s/seen ] || "
             "{ : > %s/seen; exit 1; };; esac; echo \"$l\"; done",
             tmpdir, tmpdir);
    if (!rig_open(&r, "sh", script))
        return;
    const char *fails;
    capture();
    char *out = run_text(&r, "a\nflaky\nb\nbad\nc\n", 1, &fails);
    const char *err = captured();
    is_str(fails, "...F.", "--retries 1: a record failing once is done, one failing always fails");
    is_str(out, "a\nflaky\nb\nc\n", "the replies are in order, the retried record's included");
    is_int(atomic_load(&r.retried), 2, "two retries counted");
    ok(strstr(err, "record 4:") && !strstr(err, "record 2:"),
       "only the record that still failed is warned about");
    is_int(atomic_load(&r.warnings), 1, "one warning counted");
    ok(rig_close(&r), "no child left");
    char seen[256];
    snprintf(seen, sizeof seen, "%s/seen", tmpdir);
    unlink(seen);
    free(out);
}

/* Many short replies arriving in one read, together more than
 * --capacity-bytes, are each well within it. Reported; TODO. */
static void test_small_capacity(void)
{
    struct rig r = {.o.capacity_bytes = 1000};
    /* the replies kept until "flush", then written at once */
    if (!rig_open(&r, "sh",
                  "acc=; while read -r l; do acc=\"$acc$l\n\"; if [ \"$l\" = flush ]; "
                  "then printf %s \"$acc\"; acc=; fi; done"))
        return;
    char text[48 * 40 + 8] = "";
    for (int i = 0; i < 47; i++)
        snprintf(text + 40 * i, 41, "%039d\n", i);
    strcat(text, "flush\n");
    const char *fails;
    capture();
    char *out = run_text(&r, text, 1, &fails);
    captured();
    ok(strspn(fails, ".") == 48,
       "--capacity-bytes 1000, 48 replies of 40 bytes in one write: none fails (%s)", fails);
    ok(echoed(out, text, fails), "the records answered are answered right");
    ok(rig_close(&r), "no child left");
    free(out);
}

static void test_stop_signal(void)
{
    struct rig r = {0};
    if (!rig_open(&r, "sh", "exec cat"))
        return;
    run_stop_signal(r.run, SIGTERM); /* a stop signal came: it is forwarded */
    struct batch *b = batch_of("a\nb\nc\n", 1);
    int rc = stage_run(r.st, b);
    is_int(rc, 0, "a stop signal during the batch is no error of the stage");
    ok(b->interrupted, "the batch is marked interrupted (its failures count as dropped)");
    ok(b->n_failed >= 1 && b->n_done + b->n_failed == 3 && b->n_out == b->n_done,
       "the records not answered fail (%llu of 3)", (unsigned long long)b->n_failed);
    is_int(b->cut, b->n_done, "cut at the first record not answered");
    is_int(atomic_load(&r.warnings), 0, "without warnings");
    batch_free(b);
    ok(rig_close(&r), "no child left");
}

static void test_close_kills_lingerer(void)
{
    struct rig r = {0};
    if (!rig_open(&r, "sh", "cat; sleep 30"))
        return;
    const char *fails;
    char *out = run_text(&r, "a\n", 1, &fails);
    is_str(out, "a\n", "a co-process that lingers after its input ends answers");
    capture();
    int64_t t0 = now_ns();
    bool clean = rig_close(&r);
    int64_t took = now_ns() - t0;
    const char *err = captured();
    ok(took >= NS_PER_SEC && took < SLACK, "stage_close kills it after a 1 s grace (took %.1f s)",
       (double)took / NS_PER_SEC);
    ok(strstr(err, "co-process sh did not exit at the end of its input: killed") != NULL,
       "and says so");
    ok(clean, "no child left");
    free(out);
}

static void test_environment(void)
{
    setenv("WEIR_SECRET", "leaked", 1);
    struct rig r = {.env.worker = 3};
    bool opened = rig_open(
        &r, "sh", "while read -r l; do echo \"$WEIR_WORKER ${WEIR_SECRET:-none} $l\"; done");
    unsetenv("WEIR_SECRET");
    if (!opened)
        return;
    const char *fails;
    char *out = run_text(&r, "a\n", 1, &fails);
    is_str(out, "3 none a\n", "the co-process gets WEIR_WORKER, none of weir's own WEIR_*");
    ok(rig_close(&r), "no child left");
    free(out);
}

static void test_missing_command(void)
{
    struct rig r = {.o.retries = 1};
    if (!rig_open(&r, "weir-test-no-such-command", NULL))
        return;
    const char *fails;
    capture();
    char *out = run_text(&r, "a\nb\n", 1, &fails);
    const char *err = captured();
    is_str(fails, "FF", "a co-process that cannot start fails every record");
    is_str(out, "", "with no output");
    is_int(atomic_load(&r.retried), 2, "each retried once");
    ok(strstr(err, "weir: record 1: co-process weir-test-no-such-command") &&
           strstr(err, strerror(ENOENT)),
       "the warning says why");
    ok(rig_close(&r), "no child left");
    free(out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as weir does: a dead co-process is EPIPE */
    if (!mkdtemp(tmpdir))
        return 1;
    test_replies_in_order();
    test_large_records();
    test_coprocess_dies();
    test_job_timeout();
    test_extra_reply();
    test_extra_reply_in_window();
    test_retries();
    test_small_capacity();
    test_stop_signal();
    test_close_kills_lingerer();
    test_environment();
    test_missing_command();
    char path[256];
    snprintf(path, sizeof path, "%s/stderr", tmpdir);
    unlink(path);
    ok(counts_add_up, "in every batch: n_done + n_failed == n, n_out == n_done");
    ok(rmdir(tmpdir) == 0, "the temporary directory is left empty");
    return done_testing();
}
