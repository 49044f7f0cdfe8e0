/* stream.c - reading stdin and writing stdout and files; see stream.h. */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct source {
    int fd;
};

struct source *source_new(int fd)
{
    struct source *s = malloc(sizeof *s);
    if (s)
        s->fd = fd;
    return s;
}

void source_free(struct source *s)
{
    free(s);
}

int source_fd(const struct source *s)
{
    return s->fd;
}

ssize_t source_read(struct source *s, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(s->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Pieces this big are written as they are rather than copied. */
#define SINK_DIRECT (16 * 1024)

struct sink {
    int fd;
    size_t len, cap; /* bytes buffered, buffer size */
    char buf[];
};

struct sink *sink_new(int fd, size_t bufsize)
{
    struct sink *s = malloc(sizeof *s + bufsize);
    if (!s)
        return NULL;
    s->fd = fd;
    s->len = 0;
    s->cap = bufsize;
    return s;
}

void sink_free(struct sink *s)
{
    free(s);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sink_flush(struct sink *s)
{
    int rc = write_all(s->fd, s->buf, s->len);
    s->len = 0;
    return rc;
}

int sink_write(struct sink *s, const void *p, size_t len)
{
    /* big pieces go straight out (no copy); small ones are gathered */
    bool big = len >= SINK_DIRECT || len > s->cap;
    if (!big && len <= s->cap - s->len) {
        memcpy(s->buf + s->len, p, len);
        s->len += len;
        return 0;
    }
    int rc = sink_flush(s);
    if (rc)
        return rc;
    if (big)
        return write_all(s->fd, p, len);
    memcpy(s->buf, p, len);
    s->len = len;
    return 0;
}

bool sink_pending(const struct sink *s)
{
    return s->len > 0;
}

size_t sink_room(const struct sink *s)
{
    return s->cap - s->len;
}
