/* test_fault.c - allocation failures injected into the stage: the batch
 * fails whole, and the rejects file gets the records as they were read,
 * never what the stage had half made of them (docs/DESIGN.md, "Records
 * and batches"). Linked with -Wl,--wrap for malloc, calloc and realloc, so
 * that every allocation of weir's code can be made to fail. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "ops.h"
#include "options.h"
#include "rejects.h"
#include "report.h"
#include "shed.h"
#include "stage.h"

#include "tap.h"

static bool fail_allocs; /* every allocation fails while set */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    return fail_allocs ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_allocs ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_allocs ? NULL : __real_realloc(p, n);
}

/* A batch holding text (records ended by '\n'; the last may lack it). */
static struct batch *batch_of(const char *text, size_t len, struct chunk_pool *pool)
{
    struct chunk *c = chunk_new(pool, 4096);
    memcpy(c->data, text, len);
    c->len = len;
    struct batch *b = batch_new(c, 16);
    chunk_unref(c);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len && start == len)
            break;
        if (i == len || text[i] == '\n') {
            b->recs[b->n++] = (struct rec){(uint32_t)start, (uint32_t)(i - start)};
            b->bytes += i - start + (i < len);
            b->open_end = i == len;
            start = i + 1;
        }
    }
    b->recno0 = 1;
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    *len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

static void test_stage_oom(const char *spec, struct chunk_pool *pool)
{
    static const char text[] = "abc\nMixed Case\n\nlast";
    struct options o = {.delim = '\n', .ops = {spec}, .n_ops = 1, .workers = 1};
    struct stage *st;
    char msg[128];
    atomic_int child = 0;
    atomic_uint warnings = 0;
    _Atomic uint64_t retried = 0;
    struct stage_env env = {&o, 1, &child, NULL, &retried, &warnings, NULL, NULL, NULL};
    if (stage_open(&ops_kind, &env, &st, msg, sizeof msg) != 0) {
        ok(0, "%s: stage_open: %s", spec, msg);
        return;
    }
    char path[] = "/tmp/weir-test-fault-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct rejects *r = NULL;
    struct reporter rep = {0};
    rejects_open(path, '\n', &r);
    struct shed *shed = shed_new(r, path, &rep, NULL);
    struct batch *b = batch_of(text, sizeof text - 1, pool);

    fail_allocs = true;
    int rc = stage_run(st, b);
    fail_allocs = false;
    is_int(rc, -ENOMEM, "%s: out of memory in the stage is -ENOMEM", spec);
    ok(memcmp(b->chunk->data, text, sizeof text - 1) == 0, "%s: the chunk is still as read", spec);
    shed_batch(shed, b, OUTCOME_FAILED); /* what the output does with a failed batch */
    shed_free(shed);
    size_t len;
    const char *got = slurp(path, &len);
    ok(len == sizeof text && memcmp(got, "abc\nMixed Case\n\nlast\n", len) == 0,
       "%s: the rejects file holds the input as read, each record delimited", spec);
    unlink(path);
    stage_close(st);
}

int main(void)
{
    struct chunk_pool *pool = chunk_pool_new(4096, 4);
    test_stage_oom("upper", pool);
    test_stage_oom("lower", pool);
    test_stage_oom("grep:a", NULL);
    chunk_pool_free(pool);
    return done_testing();
}
