/* intake_nats.c - intake from a JetStream consumer (--from; intake.h):
 * pulls sized to what the queue has room for under block (so the backlog
 * stays in the stream), or a batch at a time under the shedding policies,
 * until the run stops, --idle-exit, or an error. Messages longer than
 * --max-record fail whole to the rejects; the others go to admission.
 * The reader thread runs it; the main thread ticks (in-progress acks). */
#include "batch.h"
#include "broker.h"
#include "common.h"
#include "intake_int.h"
#include "options.h"
#include "queue.h"
#include "report.h"
#include "run.h"
#include "shed.h"

#define FETCH_WAIT_NS (200 * NS_PER_MS) /* a fetch waits this long for a message */

/* Messages fetched: those longer than --max-record fail (whole, to the
 * rejects), the others go to admission. */
static void take_fetched(struct intake *in, struct batch *b)
{
    size_t max = in->cfg.o->max_record;
    while (b) {
        size_t i = 0;
        while (i < b->n && b->recs[i].len <= max)
            i++;
        if (i == b->n) {
            intake_admit(in, b);
            return;
        }
        struct batch *head = i ? batch_split(b, i) : NULL; /* the records before it */
        if (head)
            intake_admit(in, head);
        struct batch *one = b->n > 1 ? batch_split(b, 1) : b; /* it; b keeps the rest */
        if ((i && !head) || !one) {
            report_error(in->cfg.rep, "out of memory while taking messages");
            one = b;
        }
        intake_count(in, one->n, one->bytes);
        intake_oversize(in, one->recno0);
        b = one == b ? NULL : b;
        one->reason = REASON_TOO_LONG;
        shed_batch(in->cfg.shed, one, OUTCOME_FAILED);
    }
}

static void nats_run(struct intake *in)
{
    const struct options *o = in->cfg.o;
    struct broker *br = in->cfg.broker;
    size_t most = MIN(o->capacity, INTAKE_BATCH_MAX);
    enum outcome as;
    while (!run_stopped(in->cfg.run, &as)) {
        size_t records = most, bytes = o->capacity_bytes;
        if (o->policy == POLICY_BLOCK) {
            queue_room(in->cfg.queue, MAX(most / 2, 1), now_ns() + FETCH_WAIT_NS, &records, &bytes);
            records = MIN(records, most);
            if (records == 0)
                continue;
        }
        struct batch *b;
        int rc = broker_fetch(br, records, bytes, FETCH_WAIT_NS, &b);
        if (rc < 0)
            report_error(in->cfg.rep, "%s", broker_error(br));
        if (rc == BROKER_IDLE && *broker_idle_note(br))
            report_warning("%s", broker_idle_note(br));
        if (rc)
            break;
        for (struct batch *next; b; b = next) { /* a list with --key subject:N */
            next = b->next;
            b->next = NULL;
            take_fetched(in, b);
        }
    }
    broker_end_fetch(br);
}

static int nats_open(struct intake *in)
{
    (void)in;
    return 0;
}

static void nats_close(struct intake *in)
{
    (void)in;
}

static int64_t nats_tick(struct intake *in, int64_t now)
{
    return broker_tick(in->cfg.broker, now); /* keeps held messages alive */
}

const struct intake_kind intake_nats = {nats_open, nats_close, nats_run, nats_tick};
