/* shed.h - where records that are not done go: the outcome counters
 * (dropped, timed out, failed) and the rejects file.
 *
 * Every record read ends as exactly one outcome; the ones that are not
 * "done" are counted here, and written whole to the rejects file when
 * there is one. A rejects file that fails is reported once, and the run
 * goes on. Thread-safe: intake, workers and the writer all shed. */
#ifndef WEIR_SHED_H
#define WEIR_SHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct batch;
struct key_spec;
struct rejects;
struct reporter;
struct run;
struct shed;

/* Takes ownership of rejects (NULL: none), named `path` in messages. The
 * run (or NULL) says which records a stop cut short (run_returns). NULL
 * when out of memory (rejects is then closed). */
struct shed *shed_new(struct rejects *rejects, const char *path, struct reporter *rep,
                      const struct run *run);
/* --rejects-format json: one JSON line per record (rejects_json.h),
 * with key (NULL: none; it must outlive s) to show each record's key.
 * Before any use.
 * 0 or -ENOMEM. */
int shed_json(struct shed *s, const struct key_spec *key);
/* json: the first bytes of a record shed in pieces that are kept. */
#define SHED_HEAD 4096

/* Closes the rejects file at the end of the run, reporting a failure;
 * the counts stay readable. */
void shed_close(struct shed *s);
void shed_free(struct shed *s); /* closes the rejects file if still open */

/* How records' outcomes became final, for a source that must hear of it
 * (a broker, acknowledging messages): written, shed (and then in the
 * rejects file, if any), or handed back to the source to be delivered
 * again (not in the rejects file): with a hook, the records a stop of the
 * run cut short (run_returns) go back. */
enum settle { SETTLE_DONE, SETTLE_REJECTED, SETTLE_RETURNED };
struct settle_hook {
    /* Records i..i+n-1 of b are final, as `how`. Any thread. */
    void (*settle)(void *ctx, const struct batch *b, size_t i, size_t n, enum settle how);
    void *ctx;
};
/* The source registers itself, before any use (broker_hook). */
void shed_hook(struct shed *s, const struct settle_hook *h);

/* The first n records of b were written: those its stage did not fail are
 * final as done (for the hook; the output counts them). */
void shed_written(struct shed *s, const struct batch *b, size_t n);

/* Counts all of b's records as `why`, writes them to the rejects file, and
 * frees b. NULL is fine. */
void shed_batch(struct shed *s, struct batch *b, enum outcome why);

/* Counts record i of b as `why` and writes it to the rejects file; b is
 * left to the caller. */
void shed_record(struct shed *s, const struct batch *b, size_t i, enum outcome why);

/* Sheds b, whose stage failed the records marked in b->failed (all of
 * them when it is NULL and b->n_failed == b->n): those as failed (dropped
 * when a stop signal interrupted the stage), the others as `rest`. Frees b. */
void shed_results(struct shed *s, struct batch *b, enum outcome rest);

/* Sheds the records of b its stage failed, marked in b->failed (none when
 * it is NULL), as failed (dropped when a stop signal cut them); b is left
 * to the caller. */
void shed_failed(struct shed *s, const struct batch *b);

/* The same for a list of batches linked by ->next, shed for reason r. */
void shed_list(struct shed *s, struct batch *list, enum outcome why, enum reason r);

/* Raw bytes of record recno shed piece by piece (one longer than
 * --max-record); with `end`, the record is complete: the delimiter is
 * added when add_delim, and it is counted as `why`, for reason r. One
 * thread only (intake). */
void shed_bytes(struct shed *s, uint64_t recno, const char *p, size_t len, bool end, bool add_delim,
                enum outcome why, enum reason r);

/* Records counted as `why` so far. */
uint64_t shed_count(struct shed *s, enum outcome why);
/* Of the records counted as failed, those whose job ran past
 * --job-timeout (b->n_timeouts). Read it before shed_count(FAILED)
 * for a subset of that. */
uint64_t shed_job_timeouts(struct shed *s);

#endif
