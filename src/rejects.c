/* rejects.c - the rejects file; see rejects.h. */
#include "rejects.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "stream.h"
#include "sync.h"

#define REJECTS_BUF (64 * 1024)
#define REJECTS_LEVEL 3 /* FILE.zst: zstd's default level */

struct rejects {
    pthread_mutex_t mu; /* guards out */
    struct sink *out;
    int fd;
    unsigned char delim;
    bool open;  /* a record written in pieces is not over */
    char *held; /* records that wait for it */
    size_t held_len, held_cap;
};

static int put(struct rejects *r, const char *p, size_t len, bool delim);

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
    int rc = 0;
    if (r->held_len) { /* a record in pieces never ended (cannot happen: framer_stop ends it) */
        r->open = false;
        rc = put(r, r->held, r->held_len, false);
    }
    int rc2 = sink_end(r->out);
    rc = rc ? rc : rc2;
    free(r->held);
    if (close(r->fd) != 0 && rc == 0)
        rc = -errno;
    sink_free(r->out);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

/* Writes p[0..len) and, with delim, the delimiter; flushes. While a
 * record that comes in pieces is open, whole records wait in `held`, so
 * that none lands inside it. Under r->mu. */
static int put(struct rejects *r, const char *p, size_t len, bool delim)
{
    if (r->open) {
        size_t need = r->held_len + len + delim;
        if (need > r->held_cap) {
            size_t cap = MAX(need, 2 * r->held_cap);
            char *h = realloc(r->held, cap);
            if (!h)
                return -ENOMEM;
            r->held = h;
            r->held_cap = cap;
        }
        memcpy(r->held + r->held_len, p, len);
        r->held_len += len;
        if (delim)
            r->held[r->held_len++] = (char)r->delim;
        return 0;
    }
    int rc = sink_write(r->out, p, len);
    if (rc == 0 && delim)
        rc = sink_write(r->out, &r->delim, 1);
    return rc ? rc : sink_flush(r->out);
}

int rejects_batch(struct rejects *r, const struct batch *b)
{
    if (b->n == 0)
        return 0;
    const char *base = b->chunk->data;
    size_t first = b->recs[0].off, last = b->n - 1;
    size_t end = b->recs[last].off + batch_rec_size(b, last);
    sync_lock(&r->mu);
    int rc = put(r, base + first, end - first, b->open_end); /* records are contiguous */
    sync_unlock(&r->mu);
    return rc;
}

int rejects_bytes(struct rejects *r, const char *p, size_t len, bool add_delim)
{
    sync_lock(&r->mu);
    int rc = put(r, p, len, add_delim);
    sync_unlock(&r->mu);
    return rc;
}

int rejects_piece(struct rejects *r, const char *p, size_t len, bool end, bool add_delim)
{
    sync_lock(&r->mu);
    bool was_open = r->open;
    r->open = false; /* the record's own pieces go straight out */
    int rc = put(r, p, len, end && add_delim);
    r->open = !end;
    if (was_open && end && r->held_len) { /* what waited for it */
        int rc2 = put(r, r->held, r->held_len, false);
        rc = rc ? rc : rc2;
        r->held_len = 0;
    }
    sync_unlock(&r->mu);
    return rc;
}
