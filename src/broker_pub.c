/* broker_pub.c - publishing: the --to sink (one message per result
 * record, the JetStream acks awaited at every flush) and --rejects-subject
 * (shed records published, their acks awaited, before their messages are
 * acked).
 *
 * Each publisher has a JetStream context of its own, so that waiting for
 * one's acks never waits for the other's. The --to sink is used by one
 * thread at a time (the writer), so `carry` and `pub_err` need no lock;
 * the rejects are published by any settling thread, one at a time under
 * pub.rej_mu, which is held across the publishes and the wait for their
 * acks and never with another lock. libnats's threads run on_pub_error,
 * which only touches a publisher's atomics and, once, its text. */
#include "broker_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct publisher *pb = closure;
    if (atomic_fetch_add(&pb->failed, 1) == 0) { /* the first one says why */
        snprintf(pb->text, sizeof pb->text, "%s",
                 pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
        atomic_store(&pb->status, (int)pae->Err);
    }
}

/* Waits until every message pb published is acked (or refused). */
static natsStatus wait_acks(struct broker *br, struct publisher *pb)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = MAX(br->o->nats_timeout_ns / NS_PER_MS, 1);
    natsStatus s = js_PublishAsyncComplete(pb->js, &po);
    if (s != NATS_OK) { /* the ones still waiting are given up */
        natsMsgList left = {0};
        js_PublishAsyncGetPendingList(&left, pb->js);
        natsMsgList_Destroy(&left);
    }
    return s;
}

/* ---- --rejects-subject ------------------------------------------------------------ */

bool broker_pub_rejects(struct broker *br, const struct batch *b, size_t i, size_t n)
{
    struct broker_sink *pub = &br->pub;
    sync_lock(&pub->rej_mu);
    unsigned failed0 = atomic_load(&pub->rej.failed);
    natsStatus s = NATS_OK;
    for (size_t k = i; k < i + n && s == NATS_OK; k++)
        s = js_PublishAsync(pub->rej.js, pub->rej.subject, b->chunk->data + b->recs[k].off,
                            (int)b->recs[k].len, NULL);
    if (s == NATS_OK)
        s = wait_acks(br, &pub->rej);
    bool ok = s == NATS_OK && atomic_load(&pub->rej.failed) == failed0;
    if (!ok && !pub->rej_err[0]) { /* the first failure says why */
        if (s == NATS_OK)
            snprintf(pub->rej_err, sizeof pub->rej_err, "%s", pub->rej.text);
        else
            broker_fail(pub->rej_err, sizeof pub->rej_err, s, 0, "publish");
    }
    sync_unlock(&pub->rej_mu);
    return ok;
}

/* ---- --to -------------------------------------------------------------------------- */

/* Why publishing failed, for results_error. */
static int pub_failure(struct broker_sink *pub, natsStatus s)
{
    natsStatus st = s != NATS_OK ? s : (natsStatus)atomic_load(&pub->out.status);
    if (s == NATS_OK && st != NATS_OK) /* refused by the server */
        snprintf(pub->pub_err, sizeof pub->pub_err, "%s", pub->out.text);
    else
        broker_fail(pub->pub_err, sizeof pub->pub_err, st, 0, "JetStream");
    if (st == NATS_NO_RESPONDERS)
        snprintf(pub->pub_err, sizeof pub->pub_err, "%s (no stream takes the subject?)",
                 natsStatus_GetText(st));
    return st == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
}

static int publish(struct broker_sink *pub, const char *p, size_t len)
{
    natsStatus s = js_PublishAsync(pub->out.js, pub->out.subject, p, (int)len, NULL);
    if (s == NATS_OK)
        return 0;
    return s == NATS_NO_MEMORY ? -ENOMEM : pub_failure(pub, s);
}

/* Appends p[0..len) to the record being carried. 0 or -ENOMEM. */
static int carry(struct broker_sink *pub, const char *p, size_t len)
{
    if (len == 0)
        return 0;
    if (pub->carry_len + len > pub->carry_cap) {
        char *c = realloc(pub->carry, pub->carry_len + len);
        if (!c)
            return -ENOMEM;
        pub->carry = c;
        pub->carry_cap = pub->carry_len + len;
    }
    memcpy(pub->carry + pub->carry_len, p, len);
    pub->carry_len += len;
    return 0;
}

/* sink_target.put: one message per record; a record cut at the end of p
 * waits in `carry` for the rest. */
static int results_put(void *ctx, const char *p, size_t len)
{
    struct broker *br = ctx;
    struct broker_sink *pub = &br->pub;
    const char *end = p + len, *d;
    while ((d = memchr(p, br->o->delim, (size_t)(end - p)))) {
        int rc = 0;
        if (pub->carry_len && (rc = carry(pub, p, (size_t)(d - p))) == 0) {
            rc = publish(pub, pub->carry, pub->carry_len);
            pub->carry_len = 0;
        } else if (rc == 0) {
            rc = publish(pub, p, (size_t)(d - p));
        }
        if (rc)
            return rc;
        p = d + 1;
    }
    return carry(pub, p, (size_t)(end - p));
}

/* sink_target.sync: waits until every result published is acked; at the
 * end, a last record without delimiter is published first. */
static int results_sync(void *ctx, bool end)
{
    struct broker *br = ctx;
    struct broker_sink *pub = &br->pub;
    if (end && pub->carry_len) {
        int rc = publish(pub, pub->carry, pub->carry_len);
        pub->carry_len = 0;
        if (rc)
            return rc;
    }
    natsStatus s = wait_acks(br, &pub->out);
    if (s != NATS_OK || atomic_load(&pub->out.failed))
        return pub_failure(pub, s);
    return 0;
}

static const char *results_error(void *ctx)
{
    return ((struct broker *)ctx)->pub.pub_err;
}

const struct sink_target *broker_results(struct broker *br)
{
    return br && br->o->nats_to ? &br->pub.results : NULL;
}

/* ---- setup and teardown ------------------------------------------------------------ */

natsStatus broker_pub_open(struct broker *br)
{
    struct broker_sink *pub = &br->pub;
    pub->out.subject = br->o->nats_to;
    pub->rej.subject = br->o->nats_rejects;
    pub->results = (struct sink_target){
        .put = results_put, .sync = results_sync, .error = results_error, .ctx = br};
    natsStatus s = broker_conn_js(br, &pub->out.js, on_pub_error, &pub->out);
    if (s == NATS_OK)
        s = broker_conn_js(br, &pub->rej.js, on_pub_error, &pub->rej);
    return s;
}

void broker_pub_free(struct broker *br)
{
    jsCtx_Destroy(br->pub.out.js);
    jsCtx_Destroy(br->pub.rej.js);
    free(br->pub.carry);
}
