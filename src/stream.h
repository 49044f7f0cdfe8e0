/* stream.h - byte streams in and out of weir: the source (stdin) and the
 * sinks (stdout, the rejects file). The one place that knows how bytes
 * reach a file descriptor. Each object is used by one thread at a time. */
#ifndef WEIR_STREAM_H
#define WEIR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct source;
struct sink;

struct source *source_new(int fd);  /* NULL when out of memory */
void source_free(struct source *s); /* does not close fd */
/* Reads up to cap bytes: the count (0 at end of input) or -errno. */
ssize_t source_read(struct source *s, char *buf, size_t cap);
int source_fd(const struct source *s);

/* A buffered writer of `bufsize` bytes onto fd. NULL when out of memory. */
struct sink *sink_new(int fd, size_t bufsize);
void sink_free(struct sink *s); /* does not flush nor close fd */
/* Writes all of p; large writes bypass the buffer. 0 or -errno. */
int sink_write(struct sink *s, const void *p, size_t len);
int sink_flush(struct sink *s);          /* 0 or -errno */
bool sink_pending(const struct sink *s); /* bytes wait in the buffer */
size_t sink_room(const struct sink *s);  /* bytes the buffer takes before it must go out */

#endif
