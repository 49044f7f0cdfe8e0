/* intake_int.h - what the files of intake share, private to them
 * (intake.h is the interface): the one struct and the kind each file
 * implements. Only intake*.c include it.
 *
 *   intake.c         new, free, the thread, figures; counting and admitting
 *   intake_stdin.c   stdin: the source, the framer and its callbacks
 *   intake_nats.c    --from: pulls sized to the queue's room
 *
 * The counters are atomics (read by any thread); everything else is the
 * reader thread's once it runs. */
#ifndef WEIR_INTAKE_INT_H
#define WEIR_INTAKE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "intake.h"

struct batch;
struct framer;
struct source;

#define INTAKE_BATCH_MAX 4096 /* records in one batch at most */

struct intake {
    struct intake_config cfg;
    const struct intake_kind *kind;
    _Atomic uint64_t records, bytes; /* read */
    unsigned oversize_seen;          /* records longer than --max-record (reader) */
    struct source *in;               /* stdin (intake_stdin.c) */
    struct framer *framer;           /* records from it */
};

/* One kind of input. */
struct intake_kind {
    int (*open)(struct intake *in); /* 0 or -ENOMEM */
    void (*close)(struct intake *in);
    void (*run)(struct intake *in); /* reads until the end, an error or a stop */
    int64_t (*tick)(struct intake *in, int64_t now);
};
extern const struct intake_kind intake_stdin, intake_nats;

/* intake.c, for the kinds. Counts b's records and bytes as read and
 * hands b to admission. */
void intake_admit(struct intake *in, struct batch *b);
void intake_count(struct intake *in, uint64_t records, uint64_t bytes);
/* Names record recno, longer than --max-record, as failed (the first
 * few of the run). */
void intake_oversize(struct intake *in, uint64_t recno);

#endif
