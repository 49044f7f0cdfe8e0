/* seq.h - the sequencer: finished batches on their way to stdout.
 *
 * DESIGN: there is no writer thread. A worker that finishes a batch puts
 * it here; if that batch can be written now (it is the next in input
 * order, or any batch with unordered output) and nobody is writing, the
 * worker gets the writer role and writes batches until none is ready,
 * then gives the role back. So output goes out without a thread hand-off,
 * one writer at a time, in order. The queue's in-flight bound guarantees
 * that the batches out at any time span at most `slots` piece numbers,
 * so a ring indexed by piece number never collides. Unordered output holds
 * back the batch whose last record lacks its delimiter until every other
 * batch is out: such a record may only be written last.
 * Ownership: put hands the batch over; a batch returned to the role holder
 * is then the caller's. Thread-safe. */
#ifndef WEIR_SEQ_H
#define WEIR_SEQ_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct seq;

struct seq *seq_new(size_t slots, bool ordered); /* NULL when out of memory */
void seq_free(struct seq *s);                    /* frees batches never written */

/* Hands b over. Returns a batch the caller must now write, having taken
 * the writer role, or NULL (someone else writes, or nothing is ready). */
struct batch *seq_put(struct seq *s, struct batch *b);

/* For the role holder: the next batch ready to write, or NULL. With
 * `release`, a NULL answer also gives the role back (atomically, so that
 * a batch put meanwhile is never stranded). */
struct batch *seq_next(struct seq *s, bool release);

/* Takes the writer role when nobody holds it (true), for a thread that
 * has no batch to put but something to do as the writer (a late flush).
 * It gives the role back through seq_next(s, true). */
bool seq_try_role(struct seq *s);

#endif
