/* stream.c - reading stdin and writing stdout and files, plain or zstd;
 * see stream.h.
 *
 * Source: in auto mode the first bytes decide. A zstd frame (or skippable
 * frame) magic switches decompression on; anything else is passed through,
 * and a first byte that cannot start a magic decides at once, so a
 * trickle of plain records is never held back. Compressed input is read
 * into `in` and decoded with ZSTD_decompressStream: concatenated and
 * skippable frames follow one another; input that ends inside a frame, or
 * bytes that are not a frame, are an error naming the compressed offset.
 *
 * Sink: bytes are gathered in the buffer; a compressing sink feeds the
 * buffer to ZSTD_compressStream2 when it is full (ZSTD_e_continue), ends a
 * block on flush (ZSTD_e_flush: the consumer can decode all written so
 * far) and the frame on sink_end (ZSTD_e_end). */
#include "stream.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "term.h"

/* ---- source ---------------------------------------------------------------- */

struct source {
    int fd;
    enum decompress mode;
    bool decided; /* plain or zstd is known */
    bool eof;     /* fd said end of input */
    ZSTD_DCtx *dctx;
    bool in_frame; /* the decoder is inside a frame */
    bool out_full; /* the last call filled the caller's buffer: more may wait */
    char *in;      /* bytes read from fd, not yet consumed */
    size_t in_pos, in_len, in_cap;
    uint64_t in_total;         /* bytes read from fd */
    size_t hint;               /* input the decoder wants next; 0 between frames */
    atomic_bool zstd;          /* the input is zstd (dctx is set) */
    _Atomic uint64_t consumed; /* compressed bytes decoded */
    char err[160];
};

struct source *source_new(int fd, enum decompress mode)
{
    struct source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = fd;
    s->mode = mode;
    s->decided = mode == DECOMPRESS_NO;
    s->in_cap = ZSTD_DStreamInSize();
    if (!s->decided && !(s->in = malloc(s->in_cap))) {
        free(s);
        return NULL;
    }
    return s;
}

void source_free(struct source *s)
{
    if (!s)
        return;
    ZSTD_freeDCtx(s->dctx);
    free(s->in);
    free(s);
}

int source_fd(const struct source *s)
{
    return s->fd;
}

const char *source_error(const struct source *s)
{
    return s->err;
}

bool source_compressed(const struct source *s)
{
    return atomic_load_explicit(&s->zstd, memory_order_relaxed);
}

uint64_t source_compressed_bytes(const struct source *s)
{
    return atomic_load_explicit(&s->consumed, memory_order_relaxed);
}

bool source_ready(const struct source *s)
{
    return s->in_pos < s->in_len || s->out_full || (s->eof && s->dctx);
}

static ssize_t read_fd(int fd, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0 || errno != EINTR)
            return n >= 0 ? n : -errno;
    }
}

/* Reads more compressed input into s->in (after what is left of it).
 * 0 (s->eof at end of input) or -errno. */
static int fill(struct source *s)
{
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    ssize_t n = read_fd(s->fd, s->in + s->in_len, s->in_cap - s->in_len);
    if (n < 0)
        return (int)n;
    if (n == 0)
        s->eof = true;
    s->in_len += (size_t)n;
    s->in_total += (uint64_t)n;
    return 0;
}

static ssize_t bad(struct source *s, const char *what)
{
    uint64_t at = s->in_total - (s->in_len - s->in_pos);
    snprintf(s->err, sizeof s->err, "%s at compressed byte %llu", what, (unsigned long long)at);
    return -EBADMSG;
}

/* Could p[0..len) be the start of a zstd or skippable frame? */
static bool magic_prefix(const unsigned char *p, size_t len)
{
    static const unsigned char zstd[4] = {0x28, 0xb5, 0x2f, 0xfd};
    static const unsigned char skip[4] = {0x50, 0x2a, 0x4d, 0x18}; /* low nibble of [0] free */
    bool z = true, k = true;
    for (size_t i = 0; i < len && i < 4; i++) {
        z = z && p[i] == zstd[i];
        k = k && (i == 0 ? (p[0] & 0xf0) == 0x50 : p[i] == skip[i]);
    }
    return z || k;
}

/* Reads until the first bytes say plain or zstd. 0 or -errno. */
static int decide(struct source *s)
{
    while (!s->eof && s->in_len < 4 && magic_prefix((unsigned char *)s->in, s->in_len)) {
        int rc = fill(s);
        if (rc)
            return rc;
    }
    bool zstd = s->in_len >= 4 && magic_prefix((unsigned char *)s->in, 4);
    s->decided = true;
    if (!zstd) {
        if (s->mode == DECOMPRESS_YES) {
            snprintf(s->err, sizeof s->err, "%s (--decompress yes)",
                     s->in_len ? "not zstd-compressed" : "empty, not a zstd frame");
            return -EBADMSG;
        }
        return 0;
    }
    if (!(s->dctx = ZSTD_createDCtx()))
        return -ENOMEM;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(s->dctx, ZSTD_d_windowLogMax, SOURCE_WINDOW_LOG_MAX)))
        return -EINVAL;
    atomic_store_explicit(&s->zstd, true, memory_order_relaxed);
    return 0;
}

/* Plain input: what decide() read first, then straight from fd. */
static ssize_t read_plain(struct source *s, char *buf, size_t cap)
{
    if (s->in_pos < s->in_len) {
        size_t n = s->in_len - s->in_pos < cap ? s->in_len - s->in_pos : cap;
        memcpy(buf, s->in + s->in_pos, n);
        s->in_pos += n;
        return (ssize_t)n;
    }
    return read_fd(s->fd, buf, cap);
}

/* libzstd reports nothing from a call that fails, not even the bytes it
 * gave in it, so no call may both give bytes and meet damage: bytes still
 * waiting in the decoder are taken with no new input, and input goes in
 * one unit (header, block, checksum) at a time. */
static ssize_t read_zstd(struct source *s, char *buf, size_t cap)
{
    ZSTD_outBuffer out = {buf, cap, 0};
    bool drain = s->out_full && s->in_frame;
    while (out.pos == 0) {
        if (!drain && s->in_pos == s->in_len) {
            if (s->eof) {
                if (s->in_frame)
                    return bad(s, "truncated zstd input: it ends inside a frame");
                s->out_full = false;
                return 0;
            }
            int rc = fill(s);
            if (rc)
                return rc;
            continue;
        }
        size_t avail = s->in_len - s->in_pos, want = s->hint > 3 ? s->hint - 3
                                                     : s->hint   ? s->hint
                                                                 : 5;
        ZSTD_inBuffer in = {s->in,
                            s->in_pos + (drain          ? 0
                                         : want < avail ? want
                                                        : avail),
                            s->in_pos};
        drain = false;
        size_t r = ZSTD_decompressStream(s->dctx, &out, &in);
        s->in_pos = in.pos;
        atomic_store_explicit(&s->consumed, s->in_total - (s->in_len - s->in_pos),
                              memory_order_relaxed);
        if (ZSTD_isError(r)) {
            char what[120];
            snprintf(what, sizeof what, "corrupt zstd input (%s)", ZSTD_getErrorName(r));
            return bad(s, what);
        }
        s->in_frame = r != 0;
        s->hint = r;
        if (s->in_pos == s->in_len && !s->eof && out.pos == 0) {
            int rc = fill(s);
            if (rc)
                return rc;
        }
    }
    s->out_full = out.pos == out.size;
    return (ssize_t)out.pos;
}

ssize_t source_read(struct source *s, char *buf, size_t cap)
{
    if (!s->decided) {
        int rc = decide(s);
        if (rc)
            return rc;
    }
    return s->dctx ? read_zstd(s, buf, cap) : read_plain(s, buf, cap);
}

/* ---- sink ------------------------------------------------------------------ */

/* Pieces this big are written as they are rather than copied. */
#define SINK_DIRECT (16 * 1024)

struct sink {
    int fd;
    const struct sink_target *target; /* instead of fd, or NULL */
    bool unsynced;                    /* the target has bytes not synced */
    bool terminal;                    /* fd is the progress line's terminal (term.h) */
    ZSTD_CCtx *cctx;                  /* compressing, or NULL */
    char *zbuf;                       /* compressed output on its way to fd */
    size_t zcap;
    bool dirty;              /* the compressor holds bytes not flushed */
    _Atomic uint64_t zbytes; /* compressed bytes written */
    uint64_t written;        /* bytes that reached fd, also before an error */
    size_t len, cap;         /* bytes buffered, buffer size */
    char buf[];
};

struct sink *sink_new(int fd, size_t bufsize)
{
    struct sink *s = calloc(1, sizeof *s + bufsize);
    if (!s)
        return NULL;
    s->fd = fd;
    s->cap = bufsize;
    return s;
}

struct sink *sink_new_target(const struct sink_target *t, size_t bufsize)
{
    struct sink *s = sink_new(-1, bufsize);
    if (s)
        s->target = t;
    return s;
}

void sink_share_terminal(struct sink *s)
{
    s->terminal = true;
}

int sink_compress(struct sink *s, int level, int threads)
{
    if (!(s->cctx = ZSTD_createCCtx()) || !(s->zbuf = malloc(s->zcap = ZSTD_CStreamOutSize())))
        return -ENOMEM;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_nbWorkers, threads)))
        return -EINVAL;
    return 0;
}

void sink_free(struct sink *s)
{
    if (!s)
        return;
    ZSTD_freeCCtx(s->cctx);
    free(s->zbuf);
    free(s);
}

static int write_all(struct sink *s, const char *p, size_t len)
{
    if (s->target && len) {
        int rc = s->target->put(s->target->ctx, p, len);
        if (rc == 0) {
            s->written += len;
            s->unsynced = true;
        }
        return rc;
    }
    bool held = s->terminal && len; /* the progress line is off while bytes go out */
    if (held)
        term_hold();
    const char *start = p;
    int rc = 0;
    while (len && rc == 0) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0) {
            rc = errno == EINTR ? 0 : -errno;
            continue;
        }
        s->written += (uint64_t)n;
        p += n;
        len -= (size_t)n;
    }
    if (held)
        term_release(start, (size_t)(p - start));
    return rc;
}

/* Feeds p[0..len) to the compressor and writes what comes out; with
 * ZSTD_e_flush or ZSTD_e_end, until the compressor has given it all. */
static int compress(struct sink *s, const char *p, size_t len, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {p, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->zbuf, s->zcap, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(left))
            return ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
        int rc = write_all(s, s->zbuf, out.pos);
        if (rc)
            return rc;
        atomic_fetch_add_explicit(&s->zbytes, out.pos, memory_order_relaxed);
        if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
            break;
    }
    s->dirty = mode == ZSTD_e_continue;
    return 0;
}

/* Sends p[0..len) on: to fd, or to the compressor. */
static int put(struct sink *s, const char *p, size_t len, ZSTD_EndDirective mode)
{
    if (s->cctx)
        return compress(s, p, len, mode);
    return write_all(s, p, len);
}

/* A target makes final what it was given. */
static int sync_target(struct sink *s, bool end)
{
    if (!s->target || (!s->unsynced && !end))
        return 0;
    s->unsynced = false;
    return s->target->sync(s->target->ctx, end);
}

int sink_flush(struct sink *s)
{
    int rc = s->len || s->dirty ? put(s, s->buf, s->len, ZSTD_e_flush) : 0;
    s->len = 0;
    return rc ? rc : sync_target(s, false);
}

int sink_end(struct sink *s)
{
    if (!s->cctx) {
        int rc = sink_flush(s);
        return rc ? rc : sync_target(s, true);
    }
    int rc = compress(s, s->buf, s->len, ZSTD_e_end);
    s->len = 0;
    return rc;
}

int sink_write(struct sink *s, const void *p, size_t len)
{
    /* big pieces go straight on (no copy); small ones are gathered */
    bool big = len >= SINK_DIRECT || len > s->cap;
    if (!big && len <= s->cap - s->len) {
        memcpy(s->buf + s->len, p, len);
        s->len += len;
        return 0;
    }
    int rc = s->len ? put(s, s->buf, s->len, ZSTD_e_continue) : 0;
    s->len = 0;
    if (rc)
        return rc;
    if (big)
        return put(s, p, len, ZSTD_e_continue);
    memcpy(s->buf, p, len);
    s->len = len;
    return 0;
}

bool sink_pending(const struct sink *s)
{
    return s->len > 0 || s->dirty || s->unsynced;
}

size_t sink_room(const struct sink *s)
{
    return s->cap - s->len;
}

uint64_t sink_compressed_bytes(const struct sink *s)
{
    return atomic_load_explicit(&s->zbytes, memory_order_relaxed);
}

uint64_t sink_written(const struct sink *s)
{
    return s->written;
}
