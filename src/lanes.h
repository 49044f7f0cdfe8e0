/* lanes.h - per-key lanes (--key): at most `limit` records of a key in
 * work at once, the others of that key waiting in its lane, in order.
 *
 * DESIGN: workers take records from the queue one at a time, in input
 * order. A record whose key is below its limit goes into work at once; one
 * whose key is at its limit waits in its key's lane (it still counts in
 * the queue's bounds: the caller charges it there), and the worker takes
 * the next record, so a slow or hot key never holds up the others. When a
 * record of a key leaves work, the oldest waiting record of that key (if
 * any) goes into work, on the worker that finished: a key's records start
 * in input order. With `sticky`, every record of a key runs on one worker
 * (hash % workers): a record another worker took waits in its owner's
 * inbox, which the owner empties before taking from the queue.
 *
 * Keys are 64-bit hashes (key.h); two keys whose hashes collide share a
 * lane, which costs concurrency, never order or records. Waiting records
 * are batches of one, linked by ->next; a lane holds them, it does not own
 * their bytes (the caller frees any left with lanes_drain). Thread-safe:
 * one mutex, held for table updates only, never while another lock is
 * taken. */
#ifndef WEIR_LANES_H
#define WEIR_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct lanes;

struct lanes_figures {
    uint64_t waits;    /* records that waited because their key was at its limit */
    uint64_t keys_max; /* most distinct keys in work or waiting at once */
    uint64_t waiting;  /* records waiting now (in lanes or inboxes) */
};

/* `most` bounds the keys in work or waiting at once (the queue's capacity
 * plus the workers); NULL when out of memory or a mutex cannot be made. */
struct lanes *lanes_new(unsigned limit, unsigned workers, bool sticky, size_t most);
void lanes_free(struct lanes *l);

/* Worker w took b (one record, key hash b->key) from the queue: returns b
 * when it goes into work now, or NULL when it waits (its key at its limit,
 * or with sticky another worker's: *owner is then that worker, to be woken;
 * otherwise w). Callers must enter records in the order they leave the
 * queue (under the queue's lock), so a key's records keep input order. */
struct batch *lanes_enter(struct lanes *l, unsigned w, struct batch *b, unsigned *owner);

/* Worker w is done with a record of key `key`: frees its place, and
 * returns the next record w must run (the oldest waiting one of that key,
 * now in work), or NULL: take the next from lanes_next or the queue. */
struct batch *lanes_leave(struct lanes *l, unsigned w, uint64_t key);

/* With sticky: the oldest record of w's inbox that may go into work (now
 * in work), or NULL. Records whose key is at its limit move to its lane. */
struct batch *lanes_next(struct lanes *l, unsigned w);

/* Whether w's inbox holds anything (sticky; false otherwise). */
bool lanes_has_mail(struct lanes *l, unsigned w);

/* Every record still waiting (at the end of a run that stopped), linked
 * by ->next, in no particular order; NULL when none. */
struct batch *lanes_drain(struct lanes *l);

void lanes_figures(struct lanes *l, struct lanes_figures *out);

#endif
