/* rejects.h - the --rejects file: every shed or failed record, whole, with
 * its delimiter (added when the input's last record lacked one), appended.
 * Thread-safe: intake and workers both reject. Each call reaches the file
 * before it returns, so the file is current while weir runs. */
#ifndef WEIR_REJECTS_H
#define WEIR_REJECTS_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct rejects;

/* Opens path for appending (created 0666 & ~umask) into *out. 0 or
 * -errno. */
int rejects_open(const char *path, unsigned char delim, struct rejects **out);
/* Closes the file; 0 or -errno from the last write or close. NULL is fine. */
int rejects_close(struct rejects *r);

/* Writes every record of b. 0 or -errno. */
int rejects_batch(struct rejects *r, const struct batch *b);
/* Writes the raw bytes of one whole record; with add_delim the delimiter
 * follows. 0 or -errno. */
int rejects_bytes(struct rejects *r, const char *p, size_t len, bool add_delim);
/* Writes a piece of a record that comes in pieces (an oversize one, as it
 * is read); `end`: its last. Until then other records wait, so that none
 * lands inside it. 0 or -errno. */
int rejects_piece(struct rejects *r, const char *p, size_t len, bool end, bool add_delim);

#endif
