/* test_rejects.c - the --rejects file (rejects.h): every record written
 * whole with its delimiter (one added to an input's open last record),
 * appended to what the file held, on disk when the call returns; raw
 * pieces of oversize records; several threads rejecting at once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "rejects.h"
#include "tap.h"

/* rejects_open, with the code in *err (0 or -errno) and the file or NULL. */
static struct rejects *open_rejects(const char *path, unsigned char delim, int *err)
{
    struct rejects *r = NULL;
    *err = rejects_open(path, delim, &r);
    return r;
}

static char dir[] = "/tmp/weir-test-rejects-XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* The whole file into a malloc'd buffer; *len its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    size_t cap = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = (*len + 4096) * 2;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    fclose(f);
    return buf;
}

static void file_is(const char *path, const char *want, size_t want_len, const char *what)
{
    size_t len;
    char *got = slurp(path, &len);
    int same = got && len == want_len && memcmp(got, want, len) == 0;
    ok(same, "%s", what);
    if (!same) {
        printf("#   got %zu bytes: \"", len);
        for (size_t i = 0; got && i < len; i++)
            printf(got[i] >= 0x20 && got[i] < 0x7f ? "%c" : "\\x%02x", (unsigned char)got[i]);
        printf("\", want %zu bytes\n", want_len);
    }
    free(got);
}

#define S(lit) lit, sizeof(lit) - 1

/* A batch over a copy of `in` framed by delim; the last record is open when
 * `in` does not end with the delimiter. */
static struct batch *mkbatch(const char *in, size_t len, unsigned char delim, uint64_t recno0)
{
    struct chunk *c = chunk_new(NULL, len + 1);
    memcpy(c->data, in, len);
    c->len = len;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (unsigned char)in[i] == delim;
    bool open = len && (unsigned char)in[len - 1] != delim;
    struct batch *b = batch_new(c, n + open);
    chunk_unref(c);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len ? (open && start < len) : (unsigned char)in[i] == delim) {
            b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)(i - start)};
            start = i + 1;
        }
    }
    b->bytes = len;
    b->open_end = open;
    b->recno0 = recno0;
    return b;
}

static void test_batches(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "r1");
    struct rejects *r = open_rejects(path, '\n', &err);
    ok(r != NULL, "rejects_open creates the file (err %d)", err);

    struct batch *b = mkbatch(S("one\ntwo\n\nfour\n"), '\n', 1);
    is_int(rejects_batch(r, b), 0, "rejects_batch");
    /* on disk at once: no close needed to see it */
    file_is(path, S("one\ntwo\n\nfour\n"), "records written whole with their delimiters, at once");
    batch_free(b);

    b = mkbatch(S("a\0b\nc\xff\n"), '\n', 5);
    rejects_batch(r, b);
    file_is(path, S("one\ntwo\n\nfour\na\0b\nc\xff\n"), "bytes pass untouched (NUL, 0xff)");
    batch_free(b);

    b = mkbatch(S("x\nlast"), '\n', 7);
    rejects_batch(r, b);
    file_is(path, S("one\ntwo\n\nfour\na\0b\nc\xff\nx\nlast\n"),
            "an open last record gets its delimiter");
    batch_free(b);

    /* a split batch: the tail, then the head, each whole */
    b = mkbatch(S("p\nq\nr\ns"), '\n', 9);
    struct batch *h = batch_split(b, 2);
    rejects_batch(r, b);
    rejects_batch(r, h);
    file_is(path, S("one\ntwo\n\nfour\na\0b\nc\xff\nx\nlast\nr\ns\np\nq\n"),
            "split batches: each written whole");
    batch_free(b);
    batch_free(h);

    /* an empty batch writes nothing */
    struct chunk *c = chunk_new(NULL, 4);
    b = batch_new(c, 1);
    chunk_unref(c);
    is_int(rejects_batch(r, b), 0, "an empty batch");
    batch_free(b);
    is_int(rejects_close(r), 0, "rejects_close");
    file_is(path, S("one\ntwo\n\nfour\na\0b\nc\xff\nx\nlast\nr\ns\np\nq\n"),
            "nothing added by an empty batch or close");
    is_int(rejects_close(NULL), 0, "rejects_close(NULL)");
}

static void test_append(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "r2");
    FILE *f = fopen(path, "w");
    fputs("from an earlier run\n", f);
    fclose(f);
    struct rejects *r = open_rejects(path, '\n', &err);
    struct batch *b = mkbatch(S("new\n"), '\n', 1);
    rejects_batch(r, b);
    batch_free(b);
    rejects_close(r);
    file_is(path, S("from an earlier run\nnew\n"), "an existing file is appended to");

    /* a second weir run appends again */
    r = open_rejects(path, '\n', &err);
    b = mkbatch(S("newer"), '\n', 1);
    rejects_batch(r, b);
    batch_free(b);
    rejects_close(r);
    file_is(path, S("from an earlier run\nnew\nnewer\n"), "and again on the next open");
}

static void test_delims(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "r3");
    struct rejects *r = open_rejects(path, '\0', &err);
    struct batch *b = mkbatch(S("a\nb\0c\0open"), '\0', 1);
    rejects_batch(r, b);
    batch_free(b);
    rejects_close(r);
    file_is(path, S("a\nb\0c\0open\0"), "NUL delimiter: the open record gets a NUL");

    path_of(path, sizeof path, "r4");
    r = open_rejects(path, ',', &err);
    b = mkbatch(S("x,y"), ',', 1);
    rejects_batch(r, b);
    batch_free(b);
    rejects_close(r);
    file_is(path, S("x,y,"), "',' delimiter: the open record gets a ','");
}

static void test_bytes(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "r5");
    struct rejects *r = open_rejects(path, '\n', &err);
    /* an oversize record arriving in pieces, its delimiter in the last */
    is_int(rejects_bytes(r, S("0123456789"), false), 0, "rejects_bytes: first piece");
    file_is(path, S("0123456789"), "a piece is on disk when the call returns");
    rejects_bytes(r, S("abcdef\n"), false);
    /* one that ended at EOF without a delimiter: the last piece adds it */
    rejects_bytes(r, S("ZZZZ"), false);
    rejects_bytes(r, "", 0, true);
    /* a raw record with NUL bytes */
    rejects_bytes(r, S("n\0l"), true);
    rejects_close(r);
    file_is(path, S("0123456789abcdef\nZZZZ\nn\0l\n"),
            "raw pieces in order; add_delim appends one delimiter");
}

static void test_open_errors(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "no/such/dir/rejects");
    struct rejects *r = open_rejects(path, '\n', &err);
    ok(r == NULL, "a path in a missing directory cannot be opened");
    is_int(err, -ENOENT, "and the code is -ENOENT");
    err = 0;
    r = open_rejects(dir, '\n', &err);
    ok(r == NULL && err == -EISDIR, "a directory cannot be the rejects file (err %d)", err);
}

#define THREADS 4
#define PER_THREAD 500

struct writer {
    struct rejects *r;
    int id;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char rec[64];
        int n = snprintf(rec, sizeof rec, "t%d-r%04d-%s\n", w->id, i, "padpadpadpadpad");
        if (i % 2) {
            struct batch *b = mkbatch(rec, (size_t)n, '\n', 1);
            rejects_batch(w->r, b);
            batch_free(b);
        } else {
            rejects_bytes(w->r, rec, (size_t)n - 1, true);
        }
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_threads(void)
{
    char path[256];
    int err = 0;
    path_of(path, sizeof path, "r6");
    struct rejects *r = open_rejects(path, '\n', &err);
    pthread_t t[THREADS];
    struct writer w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct writer){r, i};
        pthread_create(&t[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    is_int(rejects_close(r), 0, "threads: close");
    size_t len;
    char *got = slurp(path, &len);
    char **lines = calloc(THREADS * PER_THREAD + 1, sizeof *lines);
    size_t n = 0;
    int torn = 0;
    for (char *p = got, *end = got + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            torn++;
            break;
        }
        *nl = '\0';
        if (n < THREADS * PER_THREAD)
            lines[n] = p;
        n++;
        p = nl + 1;
    }
    is_int(n, THREADS * PER_THREAD, "threads: every record written once");
    size_t m = n < THREADS * PER_THREAD ? n : THREADS * PER_THREAD;
    qsort(lines, m, sizeof *lines, cmp_str);
    int wrong = 0;
    size_t k = 0;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < PER_THREAD; j++, k++) {
            char want[64];
            snprintf(want, sizeof want, "t%d-r%04d-padpadpadpadpad", i, j);
            if (k >= m || strcmp(lines[k], want) != 0)
                wrong++;
        }
    ok(!torn && wrong == 0, "threads: no record torn or interleaved (%d wrong)", wrong);
    free(lines);
    free(got);
}

static void cleanup(void)
{
    static const char *const names[] = {"r1", "r2", "r3", "r4", "r5", "r6"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        path_of(path, sizeof path, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_batches();
    test_append();
    test_delims();
    test_bytes();
    test_open_errors();
    test_threads();
    cleanup();
    return done_testing();
}
