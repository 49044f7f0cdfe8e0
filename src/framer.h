/* framer.h - cuts the input byte stream into records and batches.
 *
 * The framer owns the chunk being filled. The reader asks for space
 * (framer_space), reads into it, and hands the count to framer_commit,
 * which cuts every complete record and passes full batches, and at the end
 * of each commit the partial one, to the on_batch callback: a trickle is
 * never held back. A record split across reads is carried into the next
 * chunk (the only copy made). A record longer than max_record is not
 * kept: its bytes go to on_oversize as they arrive. Single-threaded. */
#ifndef WEIR_FRAMER_H
#define WEIR_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct chunk_pool;

struct framer_config {
    unsigned char delim;
    size_t max_record;       /* longest payload kept */
    size_t chunk_size;       /* usual read buffer size */
    struct chunk_pool *pool; /* where chunk_size chunks come from, or NULL */
    size_t batch_records;    /* most records in one batch */
    size_t batch_bytes;      /* most bytes in one batch (a bigger record goes alone) */
    /* Takes ownership of b. A nonzero return stops framing and is passed
     * back from framer_commit/framer_finish. */
    int (*on_batch)(void *ctx, struct batch *b);
    /* Bytes of oversize record `recno`, in pieces; `last` marks its end
     * (`open_end`: it ended at EOF without a delimiter). */
    int (*on_oversize)(void *ctx, uint64_t recno, const char *p, size_t len, bool last,
                       bool open_end);
    /* The partial record `recno` (len > 0, no delimiter) that framer_stop
     * found: reading stopped in its middle. NULL: it is left unread. */
    int (*on_cut)(void *ctx, uint64_t recno, const char *p, size_t len);
    void *ctx;
};

struct framer;

struct framer *framer_new(const struct framer_config *cfg); /* NULL: out of memory */
void framer_free(struct framer *f);

/* Where to read next. Returns 0 or -ENOMEM. */
int framer_space(struct framer *f, char **p, size_t *room);

/* n bytes were read into the space; they were read at `now`. */
int framer_commit(struct framer *f, size_t n, int64_t now);

/* End of input: a final record without delimiter becomes a record. */
int framer_finish(struct framer *f, int64_t now);

/* Reading stopped before the end of input: an oversize record whose bytes
 * were passed on ends here, as one without its delimiter (so it is counted
 * and its rejected bytes are terminated). Any other partial record goes to
 * on_cut, so bytes read never vanish. Returns what the callback returns. */
int framer_stop(struct framer *f);

/* Records framed so far (oversize ones included). */
uint64_t framer_records(const struct framer *f);

#endif
