/* seq.h - the sequencer: completed batches on their way to the writer.
 *
 * DESIGN: workers put batches as they finish them; the one writer takes
 * them in piece order (ordered mode) or in completion order. The queue's
 * in-flight bound guarantees that the pieces out at any time span fewer
 * than `slots` numbers, so a ring indexed by piece number never collides.
 * Ownership: put hands the batch over, take hands it to the writer.
 * Thread-safe. */
#ifndef WEIR_SEQ_H
#define WEIR_SEQ_H

#include <stdbool.h>
#include <stddef.h>

struct batch;
struct seq;

/* `producers` workers will put; NULL when out of memory. */
struct seq *seq_new(size_t slots, bool ordered, unsigned producers);
void seq_free(struct seq *s); /* frees batches never taken */

void seq_put(struct seq *s, struct batch *b);
/* One producer will put no more. */
void seq_producer_done(struct seq *s);

/* Next batch for the writer: 0 and *b; -EAGAIN when none is ready and
 * !wait; -EPIPE when every producer is done and nothing is left. */
int seq_take(struct seq *s, bool wait, struct batch **b);

#endif
