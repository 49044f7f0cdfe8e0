/* broker_ack.c - settling the --from source's messages: the shed's settle
 * hook (broker_hook), acks for records done or shed, naks for those
 * handed back (held, marked, until fetching ends: a nak sooner would
 * bring them straight back to this process's next pull), and in-progress
 * acks that keep held messages alive.
 *
 * Any thread settles; the reader ends fetching; the main thread ticks.
 * src.mu guards the held ring and `fetching`: messages are taken out (or
 * found due) under it, and acked, naked or kept alive outside it (these
 * are publishes libnats buffers), SETTLE_STEP at a time. A tick sends
 * in-progress acks for messages still held, so it holds src.tick_mu from
 * before it lets go of src.mu until they are out; whoever took messages
 * out passes through tick_mu before acking or freeing them, so that an
 * in-progress ack never follows its message's ack or nak, nor its free.
 * Lock order: src.mu, then src.tick_mu. */
#include "broker_int.h"

#include <errno.h>

#include "batch.h"
#include "common.h"
#include "held.h"
#include "report.h"
#include "run.h"

/* Acks (or naks) msgs, taken out of the ring, and frees them. */
static void answer(struct broker *br, void **msgs, size_t n, bool ack)
{
    if (n == 0)
        return;
    sync_lock(&br->src.tick_mu); /* a tick sending for some of them is done */
    sync_unlock(&br->src.tick_mu);
    for (size_t k = 0; k < n; k++) {
        natsStatus s = ack ? natsMsg_Ack(msgs[k], NULL) : natsMsg_Nak(msgs[k], NULL);
        (void)s; /* an ack lost with the connection: the server redelivers */
        natsMsg_Destroy(msgs[k]);
    }
}

/* Records i..i+n-1 of b are final as `how` (broker_hook). 0, or -EIO
 * when --rejects-subject failed (the records are then returned). */
static int settle(struct broker *br, const struct batch *b, size_t i, size_t n, enum settle how)
{
    if (!br->src.sub || n == 0)
        return 0;
    struct broker_source *src = &br->src;
    int rc = 0;
    if (how == SETTLE_REJECTED && br->o->nats_rejects && !broker_pub_rejects(br, b, i, n)) {
        how = SETTLE_RETURNED; /* not in the rejects: back to the stream */
        rc = -EIO;
    }
    uint64_t r = b->recno0 + i, end = r + n, marked = 0;
    sync_lock(&src->mu);
    bool hold = how == SETTLE_RETURNED && src->fetching;
    if (hold)
        marked = held_mark_back(src->held, r, end);
    sync_unlock(&src->mu);
    if (hold) {
        atomic_fetch_add_explicit(&src->returned, marked, memory_order_relaxed);
        return rc;
    }
    void *msgs[SETTLE_STEP];
    while (r < end) {
        sync_lock(&src->mu);
        size_t k = held_take(src->held, &r, end, false, msgs, SETTLE_STEP);
        sync_unlock(&src->mu);
        if (how == SETTLE_RETURNED)
            atomic_fetch_add_explicit(&src->returned, k, memory_order_relaxed);
        answer(br, msgs, k, how != SETTLE_RETURNED);
    }
    return rc;
}

/* The shed's settle hook. A --rejects-subject that fails stops the run
 * (exit 1), as its records could not be kept: they go back to the stream
 * instead. */
static void settle_hook(void *ctx, const struct batch *b, size_t i, size_t n, enum settle how)
{
    struct broker *br = ctx;
    if (settle(br, b, i, n, how) == 0 || atomic_exchange(&br->settle.rejects_broken, true))
        return;
    report_error(br->settle.rep, "--rejects-subject %s: %s: stopping", br->o->nats_rejects,
                 br->pub.rej_err);
    run_stop(br->settle.run, RUN_ERROR);
}

void broker_hook(struct broker *br, struct shed *shed, struct run *run, struct reporter *rep)
{
    br->settle.run = run;
    br->settle.rep = rep;
    shed_hook(shed, &(struct settle_hook){settle_hook, br});
}

void broker_end_fetch(struct broker *br)
{
    struct broker_source *src = &br->src;
    void *msgs[SETTLE_STEP];
    size_t k;
    do {
        sync_lock(&src->mu);
        src->fetching = false;
        uint64_t r = 0;
        k = held_take(src->held, &r, UINT64_MAX, true, msgs, SETTLE_STEP);
        sync_unlock(&src->mu);
        answer(br, msgs, k, false);
    } while (k == SETTLE_STEP);
}

int64_t broker_tick(struct broker *br, int64_t now)
{
    if (!br || !br->src.sub)
        return NS_FOREVER;
    struct broker_source *src = &br->src;
    int64_t every = MAX(src->ack_wait_ns / 3, NS_PER_MS);
    void *msgs[SETTLE_STEP];
    uint64_t r = 0;
    size_t k;
    do {
        sync_lock(&src->mu);
        k = held_due(src->held, &r, now, every, msgs, SETTLE_STEP);
        sync_lock(&src->tick_mu);
        sync_unlock(&src->mu);
        for (size_t j = 0; j < k; j++)
            natsMsg_InProgress(msgs[j], NULL);
        sync_unlock(&src->tick_mu);
    } while (k == SETTLE_STEP);
    return now + every;
}

void broker_src_drain(struct broker *br)
{
    void *msgs[SETTLE_STEP];
    for (size_t k = SETTLE_STEP; br->src.held && k == SETTLE_STEP;) {
        uint64_t r = 0;
        k = held_take(br->src.held, &r, UINT64_MAX, false, msgs, SETTLE_STEP);
        answer(br, msgs, k, false);
    }
}
