/* broker_pull.c - the --from source: the stream and the durable pull
 * consumer (found, or created), pulls sized to what the caller has room
 * for and to the messages seen lately, batches made of them, and
 * --idle-exit's look at what the consumer still has pending.
 *
 * broker_src_open runs in broker_open; after it, only the reader thread
 * calls broker_fetch, and it alone touches the fields marked (reader) in
 * struct broker_source. The held messages are shared with the settling
 * threads (broker_ack.c): pushed here under src.mu, never sent anything
 * here. */
#include "broker_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common.h"
#include "held.h"
#include "key.h"

#define HELD_START 1024        /* messages the ring has room for at first */
#define PULL_BYTES (8u << 20)  /* one pull asks for this many bytes at most */
#define MSG_OVERHEAD 128       /* a message's bytes besides its payload, about */
#define MAX_ACK_PENDING 100000 /* of a consumer weir creates, all processes together */
#define INFO_WAIT_MS 1000      /* a consumer info request waits this long at most */

/* ---- the stream and consumer ---------------------------------------------------- */

/* The stream must exist; with --subject it is created when missing. */
static int find_stream(struct broker *br, const char *stream, char *msg, size_t len)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char what[300];
    natsStatus s = js_GetStreamInfo(&si, br->src.js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND && !br->o->nats_subject) {
        snprintf(msg, len, "--from: stream %s not found (give --subject to create it)", stream);
        return -ENOENT;
    }
    if (s == NATS_NOT_FOUND) {
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        const char *subjects[] = {br->o->nats_subject};
        sc.Name = stream;
        sc.Subjects = subjects;
        sc.SubjectsLen = 1;
        s = js_AddStream(&si, br->src.js, &sc, NULL, &jerr);
    }
    jsStreamInfo_Destroy(si);
    snprintf(what, sizeof what, "--from: stream %s", stream);
    return s == NATS_OK ? 0 : broker_fail(msg, len, s, jerr, what);
}

/* The durable pull consumer, created with explicit acks when missing; an
 * existing one must be a pull consumer with explicit acks. */
static int find_consumer(struct broker *br, const char *stream, const char *name, char *msg,
                         size_t len)
{
    struct broker_source *src = &br->src;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char what[300];
    snprintf(what, sizeof what, "--from: consumer %s/%s", stream, name);
    natsStatus s = js_GetConsumerInfo(&ci, src->js, stream, name, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = name;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = br->o->ack_wait_ns;
        cc.FilterSubject = br->o->nats_subject;
        cc.MaxAckPending = MAX_ACK_PENDING; /* each weir bounds its own by its queue */
        s = js_AddConsumer(&ci, src->js, stream, &cc, NULL, &jerr);
    }
    if (s != NATS_OK)
        return broker_fail(msg, len, s, jerr, what);
    int rc = 0;
    if (ci->Config->DeliverSubject || ci->Config->AckPolicy != js_AckExplicit) {
        snprintf(msg, len, "%s: not a pull consumer with explicit acks", what);
        rc = -EINVAL;
    }
    src->ack_wait_ns = ci->Config->AckWait > 0 ? ci->Config->AckWait : 30 * NS_PER_SEC;
    /* a pull for more than the server may hand out waits for its expiry */
    int64_t pending = ci->Config->MaxAckPending;
    src->pull_max = pending > 0 ? (size_t)MAX(pending / 2, 1) : SIZE_MAX;
    jsConsumerInfo_Destroy(ci);
    return rc;
}

int broker_src_open(struct broker *br, char *msg, size_t len)
{
    struct broker_source *src = &br->src;
    const char *slash = strchr(br->o->nats_from, '/');
    snprintf(src->stream, sizeof src->stream, "%.*s", (int)(slash - br->o->nats_from),
             br->o->nats_from);
    const char *stream = src->stream, *consumer = src->consumer = slash + 1;
    int rc = find_stream(br, stream, msg, len);
    if (rc == 0)
        rc = find_consumer(br, stream, consumer, msg, len);
    if (rc)
        return rc;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = consumer;
    jsErrCode jerr = 0;
    natsStatus s =
        js_PullSubscribe(&src->sub, src->js, br->o->nats_subject, consumer, NULL, &so, &jerr);
    if (s != NATS_OK)
        return broker_fail(msg, len, s, jerr, "--from: subscribe");
    src->held = held_new(HELD_START);
    src->fetching = true;
    src->last_msg = now_ns();
    src->msg_size = (size_t)natsConnection_GetMaxPayload(br->conn.nc) + MSG_OVERHEAD; /* learnt */
    return src->held ? 0 : -ENOMEM;
}

void broker_src_free(struct broker *br)
{
    natsSubscription_Destroy(br->src.sub);
    jsCtx_Destroy(br->src.js);
    held_free(br->src.held);
}

void broker_use_key(struct broker *br, const struct key_spec *key)
{
    if (key && key_spec_kind(key) == KEY_SUBJECT) /* the pool finds other keys in the records */
        br->src.subject_key = key;
}

/* ---- fetching ---------------------------------------------------------------- */

/* --key subject:N: b (its messages' subjects' keys in keys[]) as a list
 * of batches of one, each with its key (linked by ->next). Out of memory,
 * the rest stays one batch, whose records then have the empty key. */
static struct batch *one_by_one(struct batch *b, const uint8_t *found, const uint64_t *keys)
{
    struct batch *list = NULL, **tail = &list;
    for (size_t i = 0; b; i++) {
        struct batch *one = b->n > 1 ? batch_split(b, 1) : b;
        if (!one) {
            *tail = b;
            break;
        }
        if (one == b)
            b = NULL;
        one->key = keys[i];
        one->keyed = found[i] ? BATCH_KEY_FOUND : BATCH_KEY_NONE;
        *tail = one;
        tail = &one->next;
    }
    return list;
}

/* The key of message m's subject into keys[i], and whether it had one. */
static void subject_key(const struct key_spec *k, natsMsg *m, uint8_t *found, uint64_t *key)
{
    const char *subj = natsMsg_GetSubject(m), *p;
    size_t len;
    *found = key_of_subject(k, subj, strlen(subj), &p, &len);
    *key = key_hash(p, len);
}

/* The messages of list as a batch of records numbered on from the held
 * ring's next, and held there (with --key subject:N, a list of batches of
 * one); the list keeps no message. */
static int make_batch(struct broker *br, natsMsgList *list, struct batch **out)
{
    struct broker_source *src = &br->src;
    size_t n = (size_t)list->Count, total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)natsMsg_GetDataLength(list->Msgs[i]) + 1;
    struct chunk *c = chunk_new(src->pool, MAX(total, src->chunk_size));
    struct batch *b = c ? batch_new(c, n) : NULL;
    chunk_unref(c);
    sync_lock(&src->mu);
    int rc = b ? held_reserve(src->held, n) : -ENOMEM;
    if (rc) {
        sync_unlock(&src->mu);
        batch_free(b);
        return rc; /* the messages stay in the list: redelivered after the ack wait */
    }
    int64_t now = now_ns();
    uint64_t *keys = src->subject_key ? malloc(n * sizeof *keys) : NULL;
    uint8_t *found = keys ? malloc(n) : NULL;
    b->recno0 = held_next(src->held);
    b->t_in = now;
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = list->Msgs[i];
        size_t len = (size_t)natsMsg_GetDataLength(m);
        memcpy(c->data + c->len, natsMsg_GetData(m), len);
        c->data[c->len + len] = (char)br->o->delim;
        b->recs[i] = (struct rec){.off = (uint32_t)c->len, .len = (uint32_t)len};
        c->len += len + 1;
        if (found)
            subject_key(src->subject_key, m, &found[i], &keys[i]);
        (void)held_push(src->held, m, now); /* cannot fail: the room is reserved */
        list->Msgs[i] = NULL;
    }
    sync_unlock(&src->mu);
    b->n = n;
    b->bytes = total;
    *out = found ? one_by_one(b, found, keys) : b; /* no memory: the empty key */
    free(keys);
    free(found);
    return 0;
}

/* A fetch that failed: while the connection is down, wait for it up to
 * --nats-timeout; anything else is an error. */
static int fetch_failed(struct broker *br, natsStatus s, int64_t wait_ns)
{
    struct broker_source *src = &br->src;
    int64_t down = atomic_load(&br->conn.down_since), now = now_ns();
    if (natsConnection_IsClosed(br->conn.nc)) {
        snprintf(src->err, sizeof src->err, "--nats: the connection is closed");
        return -ENOTCONN;
    }
    if (down && now - down > br->o->nats_timeout_ns) {
        snprintf(src->err, sizeof src->err, "--nats: no server for %.0f s (--nats-timeout)",
                 (double)(now - down) / 1e9);
        return -ETIMEDOUT;
    }
    if (!down && s != NATS_CONNECTION_DISCONNECTED && s != NATS_CONNECTION_CLOSED &&
        !natsConnection_IsReconnecting(br->conn.nc)) {
        broker_fail(src->err, sizeof src->err, s, 0, "--from: fetch");
        return -EIO;
    }
    struct timespec ts = ns_to_timespec(MIN(wait_ns, 100 * NS_PER_MS));
    nanosleep(&ts, NULL);
    return 0;
}

/* One pull request: for up to `batch` messages, with `no_wait` only those
 * there now, else waiting up to wait_ns. */
static natsStatus pull(struct broker_source *src, natsMsgList *list, size_t batch, size_t max_bytes,
                       bool no_wait, int64_t wait_ns)
{
    /* Bytes are bounded by the count, from the biggest message seen
     * lately: a pull with MaxBytes can end in the client before the
     * server has sent all it counted, and messages left queued make
     * libnats before 3.10 overrun its list in the next pull. */
    size_t most = MAX(MIN(max_bytes, PULL_BYTES) / src->msg_size, 1);
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = (int)MIN(MIN(MIN(batch, most), src->pull_max), INT32_MAX);
    int queued = 0, queued_bytes = 0; /* left by a pull that expired as they came */
    if (natsSubscription_GetPending(src->sub, &queued, &queued_bytes) == NATS_OK && queued > 0)
        req.Batch = MIN(req.Batch, queued); /* taken alone, for the same reason */
    req.NoWait = no_wait;
    req.Expires = MAX(wait_ns, NS_PER_MS);
    return natsSubscription_FetchRequest(list, src->sub, &req);
}

/* Counts the messages that came before, and learns their size. */
static void look_at(struct broker_source *src, const natsMsgList *list)
{
    size_t biggest = 0;
    for (int i = 0; i < list->Count; i++) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, list->Msgs[i]) == NATS_OK && meta->NumDelivered > 1)
            atomic_fetch_add_explicit(&src->redelivered, 1, memory_order_relaxed);
        jsMsgMetaData_Destroy(meta);
        biggest = MAX(biggest, (size_t)natsMsg_GetDataLength(list->Msgs[i]) + MSG_OVERHEAD);
    }
    src->msg_size = MAX(biggest, src->msg_size / 2);
}

/* Messages held here, not yet settled. */
static int64_t held_here(struct broker_source *src)
{
    sync_lock(&src->mu);
    int64_t n = (int64_t)held_count(src->held);
    sync_unlock(&src->mu);
    return n;
}

/* No message came for --idle-exit: true to leave. Not while the consumer
 * has messages to deliver, or pending acknowledgement beyond those held
 * here (another reader's, perhaps a dead one's, redelivered after the ack
 * wait): for those it waits, up to the ack wait and a margin from when the
 * stream first looked idle, then leaves saying so in idle_note. Reader. */
static bool idle_over(struct broker *br, int64_t now)
{
    struct broker_source *src = &br->src;
    src->idle_since = src->idle_since ? src->idle_since : now;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = MAX(MIN(br->o->nats_timeout_ns / NS_PER_MS, INFO_WAIT_MS), 1);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, src->js, src->stream, src->consumer, &jo, &jerr);
    if (s != NATS_OK) { /* cannot tell: idle as it looks */
        broker_fail(src->idle_note, sizeof src->idle_note, s, jerr,
                    "--idle-exit: leaving without knowing what the consumer has pending");
        return true;
    }
    int64_t others = MAX(ci->NumAckPending - held_here(src), 0);
    uint64_t undelivered = ci->NumPending;
    jsConsumerInfo_Destroy(ci);
    int64_t waited = now - src->idle_since;
    if (others == 0 && undelivered == 0)
        return true;
    if (waited < src->ack_wait_ns + MAX(src->ack_wait_ns / 10, NS_PER_SEC))
        return false;
    char more[48] = "";
    if (undelivered)
        snprintf(more, sizeof more, " (and %" PRIu64 " not delivered yet)", undelivered);
    snprintf(src->idle_note, sizeof src->idle_note,
             "--idle-exit: leaving with %" PRId64 " messages still pending acknowledgement by "
             "another reader%s: waited %.1f s for their redelivery (the ack wait, %.1f s, and a "
             "margin)",
             others, more, (double)waited / 1e9, (double)src->ack_wait_ns / 1e9);
    return true;
}

int broker_fetch(struct broker *br, size_t max_records, size_t max_bytes, int64_t wait_ns,
                 struct batch **out)
{
    struct broker_source *src = &br->src;
    *out = NULL;
    /* what is there now, as much as fits; if nothing, wait for one (the
     * server would hold a bigger request until it filled or expired) */
    natsMsgList list = {0};
    natsStatus s = pull(src, &list, max_records, max_bytes, true, wait_ns);
    if ((s == NATS_OK || s == NATS_TIMEOUT || s == NATS_NOT_FOUND) && list.Count == 0) {
        natsMsgList_Destroy(&list);
        s = pull(src, &list, 1, max_bytes, false, wait_ns);
    }
    int rc = 0;
    if (s == NATS_OK && list.Count > 0) {
        look_at(src, &list);
        rc = make_batch(br, &list, out);
        src->last_msg = now_ns();
    } else if (atomic_load(&br->conn.down_since) ||
               (s != NATS_OK && s != NATS_TIMEOUT && s != NATS_NOT_FOUND)) {
        rc = fetch_failed(br, s, wait_ns);
        src->last_msg = now_ns(); /* no idle time while the server is away */
    }
    natsMsgList_Destroy(&list);
    if (rc || *out || !br->o->idle_exit_ns || now_ns() - src->last_msg < br->o->idle_exit_ns) {
        src->idle_since = 0;
        return rc;
    }
    return idle_over(br, now_ns()) ? BROKER_IDLE : 0;
}

const char *broker_error(const struct broker *br)
{
    return br->src.err;
}

const char *broker_idle_note(const struct broker *br)
{
    return br->src.idle_note;
}
