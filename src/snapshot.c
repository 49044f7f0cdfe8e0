/* snapshot.c - the figures of a run, from its parts; see snapshot.h. */
#include "snapshot.h"

#include <string.h>

#include "admit.h"
#include "broker.h"
#include "intake.h"
#include "options.h"
#include "output.h"
#include "pool.h"
#include "queue.h"
#include "shed.h"
#include "stats.h"

/* Outcomes first, then the records read: a record is read before it
 * ends, so in_flight is never negative. */
static void outcomes(const struct snapshot_parts *p, struct stats *s)
{
    struct output_figures of;
    output_figures(p->out, &of);
    s->records_done = of.done;
    s->records_dropped = shed_count(p->shed, OUTCOME_DROPPED);
    s->records_timed_out = shed_count(p->shed, OUTCOME_TIMED_OUT);
    s->records_job_timeouts = shed_job_timeouts(p->shed); /* before: a subset */
    s->records_failed = shed_count(p->shed, OUTCOME_FAILED);
    struct intake_figures inf;
    intake_figures(p->intake, &inf);
    s->records_in = inf.records;
    s->in_flight = s->records_in - s->records_done - s->records_dropped - s->records_timed_out -
                   s->records_failed;
    s->bytes_in = inf.bytes;
    s->records_out = of.records;
    s->bytes_out = of.bytes;
    s->compressed_in = inf.compressed;
    s->compressed_bytes_in = inf.compressed_bytes;
    s->compressed_out = p->o->compress;
    s->compressed_bytes_out = of.compressed;
    memcpy(s->latency_ms, of.latency_ms, sizeof s->latency_ms);
}

static void queue_and_workers(const struct snapshot_parts *p, int64_t elapsed_ns, struct stats *s)
{
    struct queue_stats qs;
    queue_stats(p->queue, &qs);
    s->queue_capacity = p->o->capacity == CAPACITY_NONE ? 0 : p->o->capacity;
    s->queue_capacity_bytes = p->o->capacity_bytes;
    s->queue_max = qs.max_records;
    s->queue_mean = qs.mean_records;
    s->queue_full_share = qs.full_share;
    s->queue_records = qs.records;
    s->workers = pool_size(p->workers);
    s->workers_requested = p->o->workers;
    struct pool_figures pf;
    pool_figures(p->workers, &pf);
    s->records_retried = pf.retried;
    s->keyed = p->o->key_spec != NULL;
    s->keys_max = pf.keys_max;
    s->key_waits = pf.key_waits;
    s->records_unkeyed = pf.unkeyed;
    double span = (double)elapsed_ns * s->workers;
    s->busy_share = span > 0 ? (double)pf.busy_ns / span : 0;
}

void snapshot_take(const struct snapshot_parts *p, int64_t elapsed_ns, int exit_code,
                   struct stats *s)
{
    memset(s, 0, sizeof *s);
    outcomes(p, s);
    s->elapsed_s = (double)elapsed_ns / 1e9;
    queue_and_workers(p, elapsed_ns, s);
    s->policy = policy_name(p->o->policy);
    uint64_t le_ns[STATS_LE_N];
    for (int i = 0; i < STATS_LE_N; i++)
        le_ns[i] = (uint64_t)(stats_le_s[i] * 1e9);
    double sum_ns;
    output_latency(p->out, le_ns, STATS_LE_N, s->latency_below, &s->latency_count, &sum_ns);
    s->latency_sum_s = sum_ns / 1e9;
    struct admit_figures af;
    admit_figures(p->admit, &af);
    s->limiter_wait_s = (double)af.limiter_wait_ns / 1e9;
    s->limiter_waits = af.limiter_waits;
    s->final = exit_code >= 0;
    s->exit = exit_code;
    struct broker_figures bf;
    broker_figures(p->broker, &bf);
    s->nats = p->o->nats_from != NULL;
    s->records_redelivered = bf.redelivered;
    s->records_returned = bf.returned;
    s->nats_reconnects = bf.reconnects;
}
