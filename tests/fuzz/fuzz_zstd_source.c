/* fuzz_zstd_source.c - the input source (stream.h): plain or zstd bytes
 * through source_read, in reads of pseudo-random sizes.
 *
 * Input: a 5-byte header, then the payload.
 *   h[0] bits 0-1 what the stream is: 0 the payload as it is; 1 the
 *        payload compressed (valid); 2 that, truncated; 3 that, with one
 *        byte changed. Bit 2: a memfd read whole (else a non-blocking pipe
 *        written in pieces); bit 3 --decompress yes (else auto); bit 4 two
 *        frames; bit 5 a skippable frame first; bits 6-7 the level.
 *   h[1] seed of the read and write sizes; its bit 7 allows big reads
 *   h[2..3] where to truncate or which byte to change; h[4] the change
 *   (h[3] % 32 and h[4] are also the skippable frame's length and nibble)
 *
 * source_read must give bytes, 0 at the end, or -EBADMSG with a message
 * (-EAGAIN while the pipe is empty). A valid stream decodes to the payload
 * exactly; a truncated one to a prefix of it, then -EBADMSG; plain input
 * passes unchanged under auto. When the pipe is empty and the source says
 * it has nothing ready, it must not give bytes (weir would wait in poll
 * with those bytes held back). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 5
#define BUF_MAX 70000          /* largest read */
#define OUT_MAX (4u << 20)     /* decoded bytes looked at before giving up */
#define STREAM_MAX (64u << 10) /* fits in a pipe */

enum kind { RAW, VALID, TRUNCATED, MUTATED };
enum expect { EXACT, PREFIX_THEN_ERROR, ANY };

struct fz {
    uint8_t stream[STREAM_MAX];
    size_t len;
    size_t bounds[4]; /* where each frame ends in stream, and */
    size_t upto[4];   /* how much of the payload is decoded by then */
    size_t nbounds;
    const uint8_t *payload; /* what decoding must give */
    size_t payload_len;
    enum expect expect;
    uint32_t seed;
};

static void fail(const char *what, size_t at)
{
    fprintf(stderr, "fuzz_zstd_source: %s (output byte %zu)\n", what, at);
    abort();
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static bool is_magic(const uint8_t *p, size_t len)
{
    static const uint8_t zstd[4] = {0x28, 0xb5, 0x2f, 0xfd}, skip[3] = {0x2a, 0x4d, 0x18};
    return len >= 4 && (!memcmp(p, zstd, 4) || ((p[0] & 0xf0) == 0x50 && !memcmp(p + 1, skip, 3)));
}

/* Appends a frame of p[0..len); once it is decoded, `upto` payload bytes are. */
static void add_frame(struct fz *z, const uint8_t *p, size_t len, int level, size_t upto)
{
    size_t n = ZSTD_compress(z->stream + z->len, STREAM_MAX - z->len, p, len, level);
    if (ZSTD_isError(n))
        abort(); /* STREAM_MAX has room: inputs are far shorter */
    z->len += n;
    z->bounds[z->nbounds] = z->len;
    z->upto[z->nbounds++] = upto;
}

static void add_skippable(struct fz *z, uint8_t nibble, size_t len)
{
    uint8_t *p = z->stream + z->len;
    memcpy(p, (uint8_t[]){0x50 | (nibble & 15), 0x2a, 0x4d, 0x18, (uint8_t)len, 0, 0, 0}, 8);
    memset(p + 8, 0xa5, len);
    z->len += 8 + len;
    z->bounds[z->nbounds] = z->len;
    z->upto[z->nbounds++] = 0;
}

/* The valid stream: [skippable frame] frame [frame]. */
static void compress(struct fz *z, const uint8_t *h)
{
    static const int levels[] = {1, 3, -5, 9};
    int level = levels[h[0] >> 6];
    size_t half = h[0] & 16 ? z->payload_len / 2 : z->payload_len;
    if (h[0] & 32)
        add_skippable(z, h[4], h[3] % 32);
    add_frame(z, z->payload, half, level, half);
    if (h[0] & 16)
        add_frame(z, z->payload + half, z->payload_len - half, level, z->payload_len);
}

/* A stream cut at t: valid up to the frame that ends there, else truncated. */
static void truncate_at(struct fz *z, size_t t, bool yes)
{
    z->len = t;
    z->expect = PREFIX_THEN_ERROR;
    for (size_t i = 0; i < z->nbounds; i++) {
        if (z->bounds[i] == t) {
            z->payload_len = z->upto[i];
            z->expect = EXACT;
        }
    }
    if (t < 4 && !yes) { /* too short to be zstd: plain bytes */
        z->payload = z->stream;
        z->payload_len = t;
        z->expect = EXACT;
    }
}

static void setup(struct fz *z, const uint8_t *h, bool yes)
{
    enum kind kind = h[0] & 3;
    size_t where = (size_t)h[2] << 8 | h[3];
    z->expect = EXACT;
    if (kind == RAW) {
        memcpy(z->stream, z->payload, z->len = z->payload_len);
        if (is_magic(z->stream, z->len)) {
            z->expect = ANY;
        } else if (yes) { /* not zstd under --decompress yes: an error at once */
            z->payload_len = 0;
            z->expect = PREFIX_THEN_ERROR;
        }
        return;
    }
    compress(z, h);
    if (kind == TRUNCATED) {
        truncate_at(z, where % z->len, yes);
    } else if (kind == MUTATED) {
        z->stream[where % z->len] ^= h[4] ? h[4] : 0x80;
        z->expect = ANY;
    }
}

/* Decoded bytes so far must agree with what is expected. */
static void check_bytes(const struct fz *z, const char *p, size_t n, size_t at)
{
    if (z->expect == ANY)
        return;
    if (at + n > z->payload_len || memcmp(p, z->payload + at, n))
        fail("decoded bytes differ from the payload", at);
}

static void check_end(const struct fz *z, struct source *s, ssize_t rc, size_t total)
{
    if (rc < 0 && rc != -EBADMSG)
        fail("error other than -EBADMSG", total);
    if (rc == -EBADMSG && !source_error(s)[0])
        fail("-EBADMSG without a message", total);
    if (z->expect == EXACT && (rc != 0 || total != z->payload_len))
        fail("valid input did not decode whole", total);
    if (z->expect == PREFIX_THEN_ERROR && rc != -EBADMSG)
        fail("damaged input ended without -EBADMSG", total);
    if (z->expect == EXACT && source_compressed(s) && source_compressed_bytes(s) != z->len)
        fail("compressed byte count is not the stream's length", total);
}

struct reader {
    struct source *s;
    char *buf; /* BUF_MAX bytes; a read of cap bytes ends at its end */
    size_t total;
    bool big;
};

/* One source_read of a random size. */
static ssize_t read_once(struct fz *z, struct reader *r)
{
    size_t cap = 1 + next_rand(&z->seed) % (r->big ? BUF_MAX : 64);
    char *p = r->buf + BUF_MAX - cap; /* ASan sees a write past cap */
    ssize_t n = source_read(r->s, p, cap);
    if (n > (ssize_t)cap)
        fail("source_read gave more than asked", r->total);
    if (n > 0) {
        check_bytes(z, p, (size_t)n, r->total);
        r->total += (size_t)n;
    }
    return n;
}

/* Reads until the end, an error, or (fd non-blocking) an empty pipe. */
static ssize_t drain(struct fz *z, struct reader *r, int fd, bool open)
{
    for (;;) {
        int queued = 0;
        bool ready = source_ready(r->s);
        if (open && ioctl(fd, FIONREAD, &queued) != 0)
            abort();
        ssize_t n = read_once(z, r);
        if (n > 0 && open && !queued && !ready)
            fail("bytes given while source_ready said none were ready", r->total);
        if (n <= 0 || r->total > OUT_MAX)
            return n;
    }
}

/* The stream into a non-blocking pipe in pieces, read as they come. */
static ssize_t run_pipe(struct fz *z, struct reader *r, int p[2])
{
    size_t off = 0;
    ssize_t rc = -EAGAIN;
    while (off < z->len && rc == -EAGAIN) {
        size_t n = 1 + next_rand(&z->seed) % (z->len - off);
        if (write(p[1], z->stream + off, n) != (ssize_t)n)
            abort();
        off += n;
        rc = drain(z, r, p[0], true);
    }
    close(p[1]);
    p[1] = -1;
    if (rc == -EAGAIN)
        rc = drain(z, r, p[0], false);
    return rc;
}

static ssize_t run_memfd(struct fz *z, struct reader *r)
{
    ssize_t rc;
    while ((rc = read_once(z, r)) > 0 && r->total <= OUT_MAX)
        ;
    return rc;
}

static void run(struct fz *z, uint8_t h0, int fd[2])
{
    struct reader r = {.big = z->seed & 0x80, .buf = malloc(BUF_MAX)};
    r.s = source_new(fd[0], h0 & 8 ? DECOMPRESS_YES : DECOMPRESS_AUTO);
    if (!r.s || !r.buf)
        abort();
    ssize_t rc = h0 & 4 ? run_memfd(z, &r) : run_pipe(z, &r, fd);
    if (r.total <= OUT_MAX)
        check_end(z, r.s, rc, r.total);
    source_free(r.s);
    free(r.buf);
}

static int open_fds(const struct fz *z, bool memfd, int fd[2])
{
    if (!memfd)
        return pipe2(fd, O_CLOEXEC) || fcntl(fd[0], F_SETFL, O_NONBLOCK);
    fd[0] = memfd_create("fuzz_zstd_source", MFD_CLOEXEC);
    fd[1] = -1;
    return fd[0] < 0 || write(fd[0], z->stream, z->len) != (ssize_t)z->len ||
           lseek(fd[0], 0, SEEK_SET) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz z;
    if (size < HEADER || size - HEADER > STREAM_MAX / 2)
        return 0;
    const uint8_t *h = data;
    z = (struct fz){.payload = data + HEADER, .payload_len = size - HEADER, .seed = h[1] | 1u};
    setup(&z, h, h[0] & 8);
    int fd[2];
    if (open_fds(&z, h[0] & 4, fd))
        abort();
    run(&z, h[0], fd);
    close(fd[0]);
    if (fd[1] >= 0)
        close(fd[1]);
    return 0;
}
