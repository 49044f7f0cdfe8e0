/* test_stream.c - the byte streams (stream.h), checked against libzstd
 * itself. The source gives back the bytes zstd compressed, whatever the
 * read size and however the input arrives (concatenated and skippable
 * frames, a pipe fed a few bytes at a time); passes plain input through
 * untouched, also when it starts like a magic or is shorter than one;
 * reports truncated and corrupt input as -EBADMSG naming the compressed
 * offset, after giving what decoded before the damage; counts compressed
 * bytes. The sink writes what zstd decodes: mixed write sizes, a flush
 * that makes all written so far decodable, one complete frame at the end,
 * its compressed size counted. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "stream.h"
#include "tap.h"

/* ---- byte buffers and test data -------------------------------------------- */

struct bytes {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (len)
        memcpy(b->p + b->len, p, len);
    b->len += len;
}

static void bytes_free(struct bytes *b)
{
    free(b->p);
    *b = (struct bytes){0};
}

static bool same(const struct bytes *a, const void *p, size_t len)
{
    return a->len == len && (len == 0 || memcmp(a->p, p, len) == 0);
}

static bool prefix_of(const struct bytes *a, const struct bytes *whole)
{
    return a->len <= whole->len && (a->len == 0 || memcmp(a->p, whole->p, a->len) == 0);
}

/* "first\n" then "first+1\n" ... up to n lines: compresses well, several
 * 128 KiB blocks for n in the tens of thousands. */
static struct bytes lines(unsigned first, unsigned n)
{
    struct bytes b = {0};
    char line[32];
    for (unsigned i = first; i < first + n; i++)
        put(&b, line, (size_t)snprintf(line, sizeof line, "record %u\n", i));
    return b;
}

/* Appends one zstd frame of p[0..len) at `level`, with a checksum or not. */
static void zframe(struct bytes *out, const void *p, size_t len, int level, bool checksum)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len), n;
    unsigned char *z = malloc(cap);
    if (!c || !z || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum)) ||
        ZSTD_isError(n = ZSTD_compress2(c, z, cap, p, len)))
        abort();
    put(out, z, n);
    free(z);
    ZSTD_freeCCtx(c);
}

/* Appends a skippable frame: magic 0x184D2A5<nibble>, 4-byte LE size, payload. */
static void zskip(struct bytes *out, unsigned nibble, const char *payload, size_t len)
{
    unsigned char h[8] = {(unsigned char)(0x50 | nibble), 0x2a, 0x4d, 0x18};
    for (int i = 0; i < 4; i++)
        h[4 + i] = (unsigned char)(len >> (8 * i));
    put(out, h, sizeof h);
    put(out, payload, len);
}

/* What a decoder makes of z[0..len) read whole: every complete block (the
 * input may end inside a frame). *ended (if not NULL): z ends at the end
 * of a frame, with no error. */
static struct bytes decode_prefix(const unsigned char *z, size_t len, bool *ended)
{
    struct bytes b = {0};
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, SOURCE_WINDOW_LOG_MAX);
    ZSTD_inBuffer in = {z, len, 0};
    unsigned char out[65536];
    size_t r = 1;
    for (;;) {
        ZSTD_outBuffer o = {out, sizeof out, 0};
        r = ZSTD_decompressStream(d, &o, &in);
        if (ZSTD_isError(r))
            break;
        put(&b, out, o.pos);
        if (o.pos < o.size && in.pos == in.size)
            break;
    }
    if (ended)
        *ended = r == 0 && in.pos == in.size;
    ZSTD_freeDCtx(d);
    return b;
}

/* Offset of block k (0: the first) of the frame at the start of z. */
static size_t block_at(const unsigned char *z, unsigned k)
{
    unsigned fhd = z[4], single = (fhd >> 5) & 1, fcs = fhd >> 6;
    static const size_t did_size[4] = {0, 1, 2, 4}, fcs_size[4] = {0, 2, 4, 8};
    size_t off = 5 + !single + did_size[fhd & 3] + fcs_size[fcs] + (fcs == 0 && single);
    for (unsigned i = 0; i < k; i++) {
        uint32_t h = z[off] | (uint32_t)z[off + 1] << 8 | (uint32_t)z[off + 2] << 16;
        off += 3 + (((h >> 1) & 3) == 1 ? 1 : h >> 3); /* RLE: one byte */
    }
    return off;
}

/* ---- file descriptors holding test input ----------------------------------- */

/* A temporary file holding p[0..len), positioned at its start. */
static int file_with(const void *p, size_t len)
{
    char path[] = "/tmp/weir-test-stream-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        abort();
    unlink(path);
    if ((len && write(fd, p, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    return fd;
}

/* A pipe fed by a thread writing `chunk` bytes at a time, then closed. */
struct feeder {
    int fds[2];
    const unsigned char *p;
    size_t len, chunk;
    pthread_t t;
};

static void *feed_main(void *arg)
{
    struct feeder *f = arg;
    for (size_t off = 0; off < f->len;) {
        size_t n = f->len - off < f->chunk ? f->len - off : f->chunk;
        ssize_t w = write(f->fds[1], f->p + off, n);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(f->fds[1]);
    return NULL;
}

static int feed_start(struct feeder *f, const struct bytes *b, size_t chunk)
{
    *f = (struct feeder){.p = b->p, .len = b->len, .chunk = chunk};
    if (pipe2(f->fds, O_CLOEXEC) != 0 || pthread_create(&f->t, NULL, feed_main, f) != 0)
        abort();
    return f->fds[0];
}

static void feed_join(struct feeder *f)
{
    close(f->fds[0]); /* a feeder stuck in write gets EPIPE */
    pthread_join(f->t, NULL);
}

/* Reads s dry with reads of `cap` bytes into *out: the last result (0 at
 * the end, or -errno). */
static ssize_t drain(struct source *s, size_t cap, struct bytes *out)
{
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = source_read(s, buf, cap)) > 0)
        put(out, buf, (size_t)n);
    free(buf);
    return n;
}

/* Decodes the whole of data[0..len) from a file in reads of `cap` bytes;
 * *out gets the bytes, the result is drain's; *zbytes the compressed count. */
static ssize_t decode_file(const struct bytes *data, enum decompress mode, size_t cap,
                           struct bytes *out, uint64_t *zbytes, char *err, size_t errlen)
{
    int fd = file_with(data->p, data->len);
    struct source *s = source_new(fd, mode);
    ssize_t rc = drain(s, cap, out);
    *zbytes = source_compressed_bytes(s);
    if (err)
        snprintf(err, errlen, "%s", rc == -EBADMSG ? source_error(s) : "");
    source_free(s);
    close(fd);
    return rc;
}

static const size_t caps[] = {1, 7, 4096, 1 << 20};
#define NCAPS (sizeof caps / sizeof caps[0])

/* ---- source: decoding ------------------------------------------------------ */

/* Every read size gives back the bytes zstd compressed; the compressed
 * count ends at the input's size. */
static void test_round_trip(void)
{
    struct bytes plain = lines(1, 60000);
    static const int levels[] = {-5, 1, 3};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        struct bytes z = {0};
        zframe(&z, plain.p, plain.len, levels[l], l == 2);
        for (size_t i = 0; i < NCAPS; i++) {
            struct bytes out = {0};
            uint64_t zb;
            ssize_t rc = decode_file(&z, DECOMPRESS_AUTO, caps[i], &out, &zb, NULL, 0);
            is_int(rc, 0, "level %d, reads of %zu: end of input", levels[l], caps[i]);
            ok(same(&out, plain.p, plain.len), "level %d, reads of %zu: %zu bytes as compressed",
               levels[l], caps[i], plain.len);
            is_int(zb, z.len, "level %d, reads of %zu: compressed bytes = the input's size",
                   levels[l], caps[i]);
            bytes_free(&out);
        }
        bytes_free(&z);
    }
    bytes_free(&plain);
}

/* Decoded bytes that fill a read exactly at the end of a frame without a
 * checksum: the next read is the end of input, not "truncated" (found by
 * fuzzing: the decoder was asked to drain a frame that was over). */
static void test_exact_fill(void)
{
    for (size_t n = 1; n <= 4096; n *= 4) {
        struct bytes plain = lines(1, (unsigned)n), z = {0};
        zframe(&z, plain.p, plain.len, 3, false);
        struct bytes out = {0};
        uint64_t zb;
        ssize_t rc = decode_file(&z, DECOMPRESS_AUTO, plain.len, &out, &zb, NULL, 0);
        is_int(rc, 0, "%zu bytes read in one read of exactly that size: then end of input",
               plain.len);
        ok(same(&out, plain.p, plain.len), "%zu bytes: all of them", plain.len);
        bytes_free(&out);
        bytes_free(&z);
        bytes_free(&plain);
    }
}

/* Skippable frame, frame, skippable frame, frame, empty frame, empty
 * skippable frame; a record spans the two frames with content. */
static struct bytes many_frames(const struct bytes *plain)
{
    struct bytes z = {0};
    size_t cut = plain->len / 3 + 5; /* inside a line */
    zskip(&z, 0xa, "leading", 7);
    zframe(&z, plain->p, cut, 3, true);
    zskip(&z, 0, "between", 7);
    zframe(&z, plain->p + cut, plain->len - cut, 1, false);
    zframe(&z, "", 0, 3, true);
    zskip(&z, 0xf, "", 0);
    return z;
}

static void test_frames(void)
{
    struct bytes plain = lines(1, 20000), z = many_frames(&plain);
    for (size_t i = 0; i < NCAPS; i++) {
        struct bytes out = {0};
        uint64_t zb;
        ssize_t rc = decode_file(&z, DECOMPRESS_AUTO, caps[i], &out, &zb, NULL, 0);
        ok(rc == 0 && same(&out, plain.p, plain.len),
           "frames (skippable first), reads of %zu: the frames' bytes, in order", caps[i]);
        is_int(zb, z.len, "frames, reads of %zu: compressed bytes = the input's size", caps[i]);
        bytes_free(&out);
    }
    /* through a pipe fed 1 and 7 bytes at a time: magics and frame
     * headers arrive in pieces */
    static const size_t chunks[] = {1, 7, 4096};
    for (size_t c = 0; c < 3; c++) {
        struct feeder f;
        struct source *s = source_new(feed_start(&f, &z, chunks[c]), DECOMPRESS_AUTO);
        struct bytes out = {0};
        ssize_t rc = drain(s, 4093, &out);
        ok(rc == 0 && same(&out, plain.p, plain.len) && source_compressed(s),
           "frames through a pipe written %zu bytes at a time", chunks[c]);
        source_free(s);
        feed_join(&f);
        bytes_free(&out);
    }
    bytes_free(&z);
    bytes_free(&plain);
}

/* The decoder takes a frame that declares a 2 GiB window (zstd --long=31
 * on a stream of unknown size). */
static void test_long_window(void)
{
    struct bytes plain = lines(1, 5000), z = {0};
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, SOURCE_WINDOW_LOG_MAX);
    ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
    unsigned char *buf = malloc(ZSTD_compressBound(plain.len));
    ZSTD_outBuffer o = {buf, ZSTD_compressBound(plain.len), 0};
    ZSTD_inBuffer in = {plain.p, plain.len, 0};
    /* given in two calls, as a stream: its size unknown, the window declared */
    size_t r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue);
    r = ZSTD_isError(r) ? r : ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
    ok(r == 0, "a --long=31 frame made");
    put(&z, buf, o.pos);
    /* the window descriptor (no single segment): exponent 31 - 10, mantissa 0 */
    ok(z.len > 5 && !(z.p[4] & 0x20) && z.p[5] == (SOURCE_WINDOW_LOG_MAX - 10) << 3,
       "its window is 2 GiB");
    struct bytes out = {0};
    uint64_t zb;
    char err[200];
    ssize_t rc = decode_file(&z, DECOMPRESS_AUTO, 4096, &out, &zb, err, sizeof err);
    ok(rc == 0 && same(&out, plain.p, plain.len), "decoded whole: %s", err);
    bytes_free(&out);
    bytes_free(&z);
    bytes_free(&plain);
    free(buf);
    ZSTD_freeCCtx(c);
}

/* ---- source: plain input and --decompress ---------------------------------- */

/* p[0..len) read in auto mode, from a file (reads of every size) and from a
 * pipe fed a byte at a time, comes out as it went in. */
static void plain_passes(const char *p, size_t len, const char *name)
{
    struct bytes in = {0};
    put(&in, p, len);
    bool good = true;
    for (size_t i = 0; i < NCAPS; i++) {
        struct bytes out = {0};
        uint64_t zb;
        ssize_t rc = decode_file(&in, DECOMPRESS_AUTO, caps[i], &out, &zb, NULL, 0);
        good = good && rc == 0 && same(&out, p, len) && zb == 0;
        bytes_free(&out);
    }
    struct feeder f;
    struct source *s = source_new(feed_start(&f, &in, 1), DECOMPRESS_AUTO);
    struct bytes out = {0};
    ssize_t rc = drain(s, 3, &out);
    good = good && rc == 0 && same(&out, p, len) && !source_compressed(s);
    source_free(s);
    feed_join(&f);
    ok(good, "plain input %s passes through exactly (%zu bytes)", name, len);
    bytes_free(&out);
    bytes_free(&in);
}

static void test_plain(void)
{
    plain_passes("Plain text\nP\n", 13, "starting with 'P' (0x50, a skippable magic's first byte)");
    plain_passes("P*M\x17 almost a skippable magic\n", 30, "'P*M' then not 0x18");
    plain_passes("(paren)\n", 8, "starting with '(' (0x28, the zstd magic's first byte)");
    plain_passes("(\xb5/\xfc almost the zstd magic\n", 27, "0x28 0xb5 0x2f then not 0xfd");
    plain_passes("_\n", 2, "starting with '_' (0x5f)");
    plain_passes("", 0, "empty");
    plain_passes("P", 1, "of 1 byte, 'P'");
    plain_passes("(\xb5", 2, "of 2 bytes, a zstd magic's start");
    plain_passes("P*M", 3, "of 3 bytes, a skippable magic's start");
    plain_passes("ab\n", 3, "of 3 bytes");
    plain_passes("a\0b\0", 4, "with NULs");
}

static void test_modes(void)
{
    struct bytes plain = lines(1, 1000), z = {0}, out = {0}, empty = {0};
    zframe(&z, plain.p, plain.len, 3, true);
    uint64_t zb;
    char err[200];
    ssize_t rc = decode_file(&z, DECOMPRESS_NO, 4096, &out, &zb, NULL, 0);
    ok(rc == 0 && same(&out, z.p, z.len) && zb == 0, "no: a frame passes byte for byte");
    bytes_free(&out);
    rc = decode_file(&z, DECOMPRESS_YES, 4096, &out, &zb, NULL, 0);
    ok(rc == 0 && same(&out, plain.p, plain.len) && zb == z.len, "yes: a frame is decoded");
    bytes_free(&out);
    rc = decode_file(&plain, DECOMPRESS_YES, 4096, &out, &zb, err, sizeof err);
    ok(rc == -EBADMSG && out.len == 0 && strstr(err, "not zstd"), "yes: plain input refused: %s",
       err);
    bytes_free(&out);
    rc = decode_file(&empty, DECOMPRESS_YES, 4096, &out, &zb, err, sizeof err);
    ok(rc == -EBADMSG && out.len == 0 && strstr(err, "empty"), "yes: empty input refused: %s", err);
    rc = decode_file(&empty, DECOMPRESS_AUTO, 4096, &out, &zb, NULL, 0);
    ok(rc == 0 && out.len == 0, "auto: empty input is 0 bytes");
    bytes_free(&z);
    zframe(&z, "", 0, 3, false);
    rc = decode_file(&z, DECOMPRESS_AUTO, 4096, &out, &zb, NULL, 0);
    ok(rc == 0 && out.len == 0 && zb == z.len, "auto: an empty frame is 0 bytes, %zu compressed",
       z.len);
    bytes_free(&z);
    put(&z, "\x28\xb5\x2f\xfd", 4);
    rc = decode_file(&z, DECOMPRESS_AUTO, 4096, &out, &zb, err, sizeof err);
    ok(rc == -EBADMSG && strstr(err, "compressed byte 4"), "a lone zstd magic is truncated: %s",
       err);
    bytes_free(&z);
    bytes_free(&plain);
}

/* ---- source: input that trickles in ---------------------------------------- */

/* source_read on fd that has `want` bytes to give and a writer that keeps
 * the pipe open: it must return them rather than wait for more. The
 * watchdog alarm ends a test that hangs. Reads until `want` bytes came. */
static bool reads_now(struct source *s, const void *want, size_t len)
{
    struct bytes out = {0};
    char buf[4096];
    while (out.len < len) {
        if (!source_ready(s)) {
            struct pollfd p = {.fd = source_fd(s), .events = POLLIN};
            if (poll(&p, 1, 10000) != 1)
                break; /* held back */
        }
        ssize_t n = source_read(s, buf, sizeof buf);
        if (n <= 0)
            break;
        put(&out, buf, (size_t)n);
    }
    bool good = same(&out, want, len);
    bytes_free(&out);
    return good;
}

/* Plain records that begin like a magic are not held back waiting for a
 * fourth byte. */
static void test_plain_not_held(void)
{
    static const char *const first[] = {"a\n", "P\n", "(\n", "P*\n", "(\xb5/\n"};
    for (size_t i = 0; i < 5; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0 || write(p[1], first[i], strlen(first[i])) < 0)
            abort();
        struct source *s = source_new(p[0], DECOMPRESS_AUTO);
        ok(reads_now(s, first[i], strlen(first[i])),
           "plain record %zu given while the producer is still there", i);
        ok(write(p[1], "next\n", 5) == 5 && reads_now(s, "next\n", 5), "and the next one");
        source_free(s);
        close(p[0]);
        close(p[1]);
    }
}

/* A sink compressing into a pipe, a source decoding from it: each flushed
 * record is decoded while the frame is still open (the idle flush makes a
 * trickle of records flow through -z ... | weir). */
static void test_flushed_blocks_flow(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        abort();
    struct sink *k = sink_new(p[1], 4096);
    ok(k && sink_compress(k, 3, 0) == 0, "a compressing sink on a pipe");
    struct source *s = source_new(p[0], DECOMPRESS_AUTO);
    static const char *const rec[] = {"first\n", "second\n", "3\n"};
    for (size_t i = 0; i < 3; i++) {
        ok(sink_write(k, rec[i], strlen(rec[i])) == 0 && sink_flush(k) == 0, "record %zu flushed",
           i);
        ok(reads_now(s, rec[i], strlen(rec[i])), "record %zu decoded at once, the frame still open",
           i);
    }
    ok(sink_end(k) == 0, "frame ended");
    close(p[1]);
    char buf[64];
    is_int(source_read(s, buf, sizeof buf), 0, "then the end of input, no error");
    source_free(s);
    sink_free(k);
    close(p[0]);
}

/* Decoded bytes waiting in the decoder are announced by source_ready, so a
 * reader that polls fd only when !source_ready gets every byte while the
 * writer holds the pipe open. */
static void test_ready(void)
{
    struct bytes plain = lines(1, 20000), z = {0};
    zframe(&z, plain.p, plain.len, 3, true);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0 || z.len > 60000 || write(p[1], z.p, z.len) != (ssize_t)z.len)
        abort();
    struct source *s = source_new(p[0], DECOMPRESS_AUTO);
    ok(reads_now(s, plain.p, plain.len),
       "all %zu bytes of a frame decoded, in reads of 4096, the pipe still open", plain.len);
    source_free(s);
    close(p[0]);
    close(p[1]);
    bytes_free(&z);
    bytes_free(&plain);
}

/* ---- source: damaged input ------------------------------------------------- */

/* The offset source_error names ("... at compressed byte N"), or -1. */
static long long named_offset(const char *err)
{
    const char *p = strstr(err, "compressed byte ");
    return p ? strtoll(p + strlen("compressed byte "), NULL, 10) : -1;
}

/* Input that ends inside a frame: -EBADMSG naming where it ends, after
 * every complete block was given. */
static void test_truncated(void)
{
    struct bytes plain = lines(1, 60000), z = {0};
    zframe(&z, plain.p, plain.len, 3, true);
    size_t cuts[] = {5, block_at(z.p, 3) + 10, z.len / 2, z.len - 1};
    for (size_t c = 0; c < 4; c++) {
        struct bytes part = {0}, want = decode_prefix(z.p, cuts[c], NULL);
        put(&part, z.p, cuts[c]);
        for (size_t i = 0; i < NCAPS; i++) {
            struct bytes out = {0};
            uint64_t zb;
            char err[200];
            ssize_t rc = decode_file(&part, DECOMPRESS_AUTO, caps[i], &out, &zb, err, sizeof err);
            ok(rc == -EBADMSG && strstr(err, "truncated") &&
                   named_offset(err) == (long long)cuts[c],
               "cut at %zu, reads of %zu: %s", cuts[c], caps[i], err);
            ok(same(&out, want.p, want.len), "cut at %zu, reads of %zu: the %zu bytes before it",
               cuts[c], caps[i], want.len);
            bytes_free(&out);
        }
        bytes_free(&part);
        bytes_free(&want);
    }
    bytes_free(&z);
    bytes_free(&plain);
}

/* Where the damage is: the unit (block header, checksum, frame) at
 * [unit, unit + len) is bad. */
struct damage {
    const char *name, *word; /* word: in the error */
    size_t unit, len;
};

/* Decodes damaged input z with every read size: each gives -EBADMSG with
 * d->word in the error naming an offset not after the damaged unit, and
 * bytes that are a prefix of `plain`; all of `want` (every byte decoded
 * before the damage) and an offset inside the unit. Known wrong: a call
 * that fails loses what it decoded, and names where it began. */
static void damaged(const struct bytes *z, const struct bytes *plain, const struct bytes *want,
                    const struct damage *d)
{
    size_t whole = 0, inside = 0;
    for (size_t i = 0; i < NCAPS; i++) {
        struct bytes out = {0};
        uint64_t zb;
        char err[200];
        ssize_t rc = decode_file(z, DECOMPRESS_AUTO, caps[i], &out, &zb, err, sizeof err);
        long long n = named_offset(err);
        ok(rc == -EBADMSG && strstr(err, d->word) && n >= 0 && n < (long long)(d->unit + d->len),
           "%s, reads of %zu: %s", d->name, caps[i], err);
        ok(prefix_of(&out, plain), "%s, reads of %zu: %zu bytes, all as compressed", d->name,
           caps[i], out.len);
        whole += same(&out, want->p, want->len);
        inside += n >= (long long)d->unit;
        bytes_free(&out);
    }
    ok(whole == NCAPS, "%s: every byte decoded before the damage given (%zu of %zu read sizes)",
       d->name, whole, NCAPS);
    ok(inside == NCAPS, "%s: the error names a byte of it, %zu to %zu (%zu of %zu read sizes)",
       d->name, d->unit, d->unit + d->len - 1, inside, NCAPS);
}

static void test_corrupt(void)
{
    struct bytes plain = lines(1, 60000), z = {0};
    zframe(&z, plain.p, plain.len, 3, true);
    /* block 3's header says "reserved" type: no data can come from it */
    size_t off = block_at(z.p, 3);
    struct bytes bad = {0}, want = decode_prefix(z.p, off, NULL);
    put(&bad, z.p, z.len);
    bad.p[off] |= 6;
    damaged(&bad, &plain, &want, &(struct damage){"a corrupt block header", "corrupt", off, 3});
    /* a checksum that does not match: all the content decoded */
    memcpy(bad.p, z.p, z.len);
    bad.p[z.len - 2] ^= 0x55;
    damaged(&bad, &plain, &plain, &(struct damage){"a wrong checksum", "checksum", z.len - 4, 4});
    /* bytes that are no frame after a valid one */
    put(&bad, "garbage here\n", 13);
    memcpy(bad.p, z.p, z.len);
    damaged(&bad, &plain, &plain, &(struct damage){"garbage after a frame", "corrupt", z.len, 13});
    bytes_free(&want);
    bytes_free(&bad);
    bytes_free(&z);
    bytes_free(&plain);
}

/* ---- sink ------------------------------------------------------------------ */

/* What fd holds from its start. */
static struct bytes file_bytes(int fd)
{
    struct bytes b = {0};
    unsigned char buf[65536];
    ssize_t n;
    for (off_t at = 0; (n = pread(fd, buf, sizeof buf, at)) > 0; at += n)
        put(&b, buf, (size_t)n);
    return b;
}

static off_t file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Writes data in pieces of mixed sizes (1 byte to 1 MiB) to a compressing
 * sink; after every third a flush, and then what the file holds decodes to
 * all written so far; at the end one complete frame of it all. */
static void test_sink_mixed(int level, int threads)
{
    static const size_t sizes[] = {1, 3, 100, 4095, 16383, 16384, 70000, 1 << 20, 2, 65536};
    struct bytes data = lines(1, 200000);
    int fd = file_with("", 0);
    struct sink *k = sink_new(fd, 65536);
    int rc = sink_compress(k, level, threads);
    is_int(rc, 0, "level %d, %d threads: sink_compress", level, threads);
    size_t at = 0, flushes = 0, decodable = 0;
    for (size_t i = 0; at < data.len; i++) {
        size_t n = sizes[i % 10] < data.len - at ? sizes[i % 10] : data.len - at;
        rc |= sink_write(k, data.p + at, n);
        at += n;
        if (i % 3 == 2) {
            rc |= sink_flush(k);
            struct bytes f = file_bytes(fd), got = decode_prefix(f.p, f.len, NULL);
            flushes++;
            decodable += same(&got, data.p, at) && !sink_pending(k);
            bytes_free(&f);
            bytes_free(&got);
        }
    }
    is_int(decodable, flushes, "level %d: after each flush, all written so far decodes", level);
    rc |= sink_end(k);
    is_int(rc, 0, "level %d: %zu bytes written in pieces, the frame ended", level, data.len);
    struct bytes f = file_bytes(fd);
    bool ended;
    struct bytes got = decode_prefix(f.p, f.len, &ended);
    ok(ended && same(&got, data.p, data.len), "level %d: one complete frame of it all", level);
    ok(ZSTD_findFrameCompressedSize(f.p, f.len) == f.len, "level %d: one frame, nothing after",
       level);
    is_int(sink_compressed_bytes(k), file_size(fd), "level %d: compressed bytes = file size",
           level);
    sink_free(k);
    close(fd);
    bytes_free(&f);
    bytes_free(&got);
    bytes_free(&data);
}

/* A plain sink writes the bytes as they are and counts no compressed bytes. */
static void test_sink_plain(void)
{
    struct bytes data = lines(1, 100000);
    int fd = file_with("", 0);
    struct sink *k = sink_new(fd, 65536);
    int rc = sink_write(k, data.p, 1);
    ok(rc == 0 && sink_pending(k) && sink_room(k) == 65535, "a byte waits in the buffer");
    rc |= sink_flush(k);
    ok(rc == 0 && !sink_pending(k) && file_size(fd) == 1, "flushed: it is in the file");
    for (size_t at = 1, i = 0; at < data.len; at += 70001 * (i++ % 2) + 1)
        rc |=
            sink_write(k, data.p + at,
                       at + 70001 * (i % 2) + 1 <= data.len ? 70001 * (i % 2) + 1 : data.len - at);
    rc |= sink_end(k);
    struct bytes f = file_bytes(fd);
    ok(rc == 0 && same(&f, data.p, data.len), "plain: the file holds exactly what was written");
    is_int(sink_compressed_bytes(k), 0, "plain: no compressed bytes");
    sink_free(k);
    close(fd);
    bytes_free(&f);
    bytes_free(&data);
}

/* The compressor holds written bytes until a flush: pending says so. */
static void test_sink_pending(void)
{
    struct bytes data = lines(1, 10000);
    int fd = file_with("", 0);
    struct sink *k = sink_new(fd, 4096);
    sink_compress(k, 3, 0);
    ok(!sink_pending(k), "nothing written: nothing pending");
    int rc = sink_write(k, data.p, data.len); /* big: straight to the compressor */
    ok(rc == 0 && sink_pending(k), "a big write is pending in the compressor");
    rc = sink_flush(k);
    struct bytes f = file_bytes(fd), got = decode_prefix(f.p, f.len, NULL);
    ok(rc == 0 && !sink_pending(k) && same(&got, data.p, data.len),
       "flushed: not pending, the file decodes to it");
    sink_free(k);
    close(fd);
    bytes_free(&f);
    bytes_free(&got);
    bytes_free(&data);
}

/* Ending a compressing sink that got nothing makes an empty frame. */
static void test_sink_empty(void)
{
    int fd = file_with("", 0);
    struct sink *k = sink_new(fd, 4096);
    int rc = sink_compress(k, 3, 0);
    rc |= sink_end(k);
    struct bytes f = file_bytes(fd);
    bool ended;
    struct bytes got = decode_prefix(f.p, f.len, &ended);
    ok(rc == 0 && f.len > 0 && ended && got.len == 0, "nothing written: an empty frame (%zu bytes)",
       f.len);
    is_int(sink_compressed_bytes(k), f.len, "its size counted");
    sink_free(k);
    close(fd);
    bytes_free(&f);
    bytes_free(&got);
}

/* sink_compress refuses (-EINVAL) what libzstd refuses; libzstd clamps
 * levels and thread counts out of its range, so such a sink must work. */
static void test_sink_levels(void)
{
    static const int level[] = {1000, -1000000, 3}, threads[] = {0, 0, 100000};
    for (size_t i = 0; i < 3; i++) {
        int fd = file_with("", 0);
        struct sink *k = sink_new(fd, 4096);
        int rc = sink_compress(k, level[i], threads[i]);
        if (rc == 0)
            rc = sink_write(k, "abc\n", 4) | sink_end(k);
        struct bytes f = file_bytes(fd);
        bool ended;
        struct bytes got = decode_prefix(f.p, f.len, &ended);
        ok(rc == -EINVAL || (rc == 0 && ended && same(&got, "abc\n", 4)),
           "level %d, %d threads: refused, or a valid frame (%d)", level[i], threads[i], rc);
        sink_free(k);
        close(fd);
        bytes_free(&f);
        bytes_free(&got);
    }
}

/* A reader gone: -EPIPE (SIGPIPE is ignored here, as weir blocks it). */
static void test_sink_epipe(void)
{
    for (int z = 0; z < 2; z++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            abort();
        close(p[0]);
        struct sink *k = sink_new(p[1], 4096);
        if (z)
            sink_compress(k, 1, 0);
        int rc = sink_write(k, "x\n", 2);
        if (rc == 0)
            rc = sink_flush(k);
        is_int(rc, -EPIPE, "%s sink, reader gone: -EPIPE", z ? "compressing" : "plain");
        sink_free(k);
        close(p[1]);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(300); /* a read held back forever fails the run rather than hang it */
    test_round_trip();
    test_exact_fill();
    test_frames();
    test_long_window();
    test_plain();
    test_modes();
    test_plain_not_held();
    test_flushed_blocks_flow();
    test_ready();
    test_truncated();
    test_corrupt();
    test_sink_mixed(3, 0);
    test_sink_mixed(-5, 0);
    test_sink_mixed(1, 2);
    test_sink_plain();
    test_sink_pending();
    test_sink_empty();
    test_sink_levels();
    test_sink_epipe();
    return done_testing();
}
