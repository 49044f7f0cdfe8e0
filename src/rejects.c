/* rejects.c - the rejects file; see rejects.h. */
#include "rejects.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "stream.h"
#include "sync.h"

#define REJECTS_BUF (64 * 1024)
#define REJECTS_LEVEL 3 /* FILE.zst: zstd's default level */

struct rejects {
    pthread_mutex_t mu; /* guards out */
    struct sink *out;
    int fd;
    unsigned char delim;
};

int rejects_open(const char *path, unsigned char delim, struct rejects **out)
{
    struct rejects *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (r->fd < 0) {
        int rc = -errno;
        free(r);
        return rc;
    }
    r->out = sink_new(r->fd, REJECTS_BUF);
    int rc = r->out ? 0 : -ENOMEM;
    size_t n = strlen(path);
    if (rc == 0 && n > 4 && strcmp(path + n - 4, ".zst") == 0)
        rc = sink_compress(r->out, REJECTS_LEVEL, 0);
    if (rc == 0)
        rc = sync_mutex_init(&r->mu);
    if (rc) {
        sink_free(r->out);
        close(r->fd);
        free(r);
        return rc;
    }
    r->delim = delim;
    *out = r;
    return 0;
}

int rejects_close(struct rejects *r)
{
    if (!r)
        return 0;
    int rc = sink_end(r->out);
    if (close(r->fd) != 0 && rc == 0)
        rc = -errno;
    sink_free(r->out);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

int rejects_batch(struct rejects *r, const struct batch *b)
{
    if (b->n == 0)
        return 0;
    const char *base = b->chunk->data;
    size_t first = b->recs[0].off, last = b->n - 1;
    size_t end = b->recs[last].off + batch_rec_size(b, last);
    sync_lock(&r->mu);
    int rc = sink_write(r->out, base + first, end - first); /* records are contiguous */
    if (rc == 0 && b->open_end)
        rc = sink_write(r->out, &r->delim, 1);
    if (rc == 0)
        rc = sink_flush(r->out);
    sync_unlock(&r->mu);
    return rc;
}

int rejects_bytes(struct rejects *r, const char *p, size_t len, bool add_delim)
{
    sync_lock(&r->mu);
    int rc = sink_write(r->out, p, len);
    if (rc == 0 && add_delim)
        rc = sink_write(r->out, &r->delim, 1);
    if (rc == 0)
        rc = sink_flush(r->out);
    sync_unlock(&r->mu);
    return rc;
}
