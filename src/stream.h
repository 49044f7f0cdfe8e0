/* stream.h - byte streams in and out of weir: the source (stdin) and the
 * sinks (stdout, the rejects file), plain or zstd-compressed. The one
 * place that knows how bytes reach a file descriptor, and the only module
 * that uses libzstd. Each object is used by one thread at a time; the
 * compressed byte counts may be read from any thread. */
#ifndef WEIR_STREAM_H
#define WEIR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct source;
struct sink;

/* --decompress: zstd input is recognised by its frame magic (auto),
 * required (yes), or never looked for (no). */
enum decompress { DECOMPRESS_AUTO, DECOMPRESS_YES, DECOMPRESS_NO };

/* The largest zstd window accepted on input (zstd --long=31): the decoder
 * allocates the window a frame declares, up to 2 GiB. */
#define SOURCE_WINDOW_LOG_MAX 31

struct source *source_new(int fd, enum decompress mode); /* NULL when out of memory */
void source_free(struct source *s);                      /* does not close fd */
/* Reads up to cap bytes (decompressed): the count (0 at end of input) or
 * -errno; -EBADMSG for input that is not valid zstd (truncated, corrupt,
 * not zstd under --decompress yes), with source_error() saying where. */
ssize_t source_read(struct source *s, char *buf, size_t cap);
/* True when source_read has bytes to give without reading fd (so do not
 * wait for fd to become readable). */
bool source_ready(const struct source *s);
int source_fd(const struct source *s);
const char *source_error(const struct source *s); /* after -EBADMSG */
/* Compressed bytes consumed so far; 0 while the input is not zstd. */
uint64_t source_compressed_bytes(const struct source *s);
bool source_compressed(const struct source *s);

/* A buffered writer of `bufsize` bytes onto fd. NULL when out of memory. */
struct sink *sink_new(int fd, size_t bufsize);

/* Where a sink's bytes can go instead of a file descriptor (a broker):
 * put takes them, sync makes all that was put final (`end`: the last
 * call); each returns 0 or -errno. */
struct sink_target {
    int (*put)(void *ctx, const char *p, size_t len);
    int (*sync)(void *ctx, bool end);
    const char *(*error)(void *ctx); /* after a failure: what went wrong */
    void *ctx;
};
/* fd is the terminal the progress line is on: each write to it holds the
 * terminal (term.h), so the line is off while the bytes go out. */
void sink_share_terminal(struct sink *s);
/* A buffered writer of `bufsize` bytes onto t (which must outlive it). */
struct sink *sink_new_target(const struct sink_target *t, size_t bufsize);
/* Makes s write one zstd frame at `level` with `threads` worker threads
 * (0: none), before anything is written. 0, -ENOMEM, or -EINVAL for a
 * level or thread count libzstd refuses. */
int sink_compress(struct sink *s, int level, int threads);
void sink_free(struct sink *s); /* does not flush nor close fd */
/* Writes all of p; large writes bypass the buffer. 0 or -errno. */
int sink_write(struct sink *s, const void *p, size_t len);
/* Everything written so far goes out to fd (a zstd block is ended, so a
 * reader can decode it now). 0 or -errno. */
int sink_flush(struct sink *s);
/* Flushes and ends the zstd frame: what fd got is a complete .zst. A plain
 * sink just flushes. 0 or -errno. */
int sink_end(struct sink *s);
/* Written bytes have not gone out yet (or a target has not synced them). */
bool sink_pending(const struct sink *s);
size_t sink_room(const struct sink *s); /* bytes the buffer takes before it must go out */
uint64_t sink_compressed_bytes(const struct sink *s); /* bytes to fd, when compressing */
/* Bytes that reached fd so far, also those of a write that then failed. */
uint64_t sink_written(const struct sink *s);

#endif
