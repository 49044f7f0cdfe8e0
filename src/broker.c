/* broker.c - NATS JetStream as source and sink; see broker.h.
 *
 * Held messages live in a ring indexed by record number (base: the oldest
 * not yet settled), under `mu`; acks and naks are sent outside it (they
 * are publishes libnats buffers; so are in-progress acks). Publishes
 * go through two JetStream contexts, one for results and one for rejects,
 * so that waiting for one's acks never waits for the other's. */
#include "broker.h"

#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "batch.h"
#include "common.h"
#include "stream.h"
#include "sync.h"

#define PUB_WINDOW 4096        /* publishes awaiting their ack at most */
#define RECONNECT_WAIT_MS 250  /* between reconnect attempts */
#define SETTLE_STEP 256        /* messages taken out of the ring at a time */
#define MAX_SERVERS 64         /* in --nats */
#define PULL_BYTES (8u << 20)  /* one pull asks for this many bytes at most */
#define MSG_OVERHEAD 128       /* a message's bytes besides its payload, about */
#define MAX_ACK_PENDING 100000 /* of a consumer weir creates, all processes together */
#define INFO_WAIT_MS 1000      /* a consumer info request waits this long at most */

struct held {
    natsMsg *msg;  /* NULL once settled */
    int64_t since; /* fetched, or last kept alive (ns) */
    bool back;     /* to be handed back once fetching stops */
};

/* A JetStream context that publishes asynchronously, and what the server
 * refused of it. */
struct publisher {
    jsCtx *js;
    const char *subject;
    atomic_uint failed; /* publishes refused or never acked */
    atomic_int status;  /* the first one's natsStatus, once text is set */
    char text[160];     /* the first one's error */
};

struct broker {
    const struct options *o;
    struct chunk_pool *pool;
    size_t chunk_size;
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;                 /* for the source */
    struct publisher out, rej; /* --to, --rejects-subject */
    natsSubscription *sub;     /* --from, or NULL */
    char stream[256];          /* --from STREAM/CONSUMER */
    const char *consumer;      /* (in the options) */
    int64_t ack_wait_ns;       /* the consumer's */
    size_t pull_max;           /* messages in one pull at most: half its MaxAckPending */
    size_t msg_size;           /* bytes a message may take, from recent pulls */
    int64_t last_msg;          /* when a message last came (reader) */
    int64_t idle_since;        /* when the stream first looked idle, or 0 (reader) */
    char idle_note[200];       /* why --idle-exit left with messages pending (reader) */
    char err[256];             /* broker_error */
    /* the held messages */
    pthread_mutex_t mu;
    struct held *ring; /* cap entries, a power of two; recno r at r & (cap-1) */
    size_t cap;
    uint64_t base, next; /* [base, next): fetched, not all settled */
    bool fetching;       /* until broker_end_fetch: hand-backs wait */
    /* publishing */
    struct sink_target results;
    char pub_err[200]; /* what results_sync failed with */
    char *carry;       /* an output record not yet ended by its delimiter */
    size_t carry_len, carry_cap;
    pthread_mutex_t rej_mu; /* one rejects publisher at a time */
    char rej_err[200];      /* why the first one failed (under rej_mu) */
    /* figures */
    _Atomic int64_t down_since; /* disconnected since (ns), 0 while connected */
    _Atomic uint64_t redelivered, returned, reconnects;
};

/* ---- connection -------------------------------------------------------------- */

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct broker *br = closure;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&br->down_since, &zero, now_ns());
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    struct broker *br = closure;
    atomic_store(&br->down_since, 0);
    atomic_fetch_add(&br->reconnects, 1);
}

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

/* In the URL [p, end): where what follows the scheme starts (*rest), and
 * the host, after any user:password@ (*host). */
static void url_split(const char *p, const char *end, const char **rest, const char **host)
{
    const char *scheme = strstr(p, "://");
    *rest = *host = scheme && scheme < end ? scheme + 3 : p;
    for (const char *at; (at = memchr(*host, '@', (size_t)(end - *host)));)
        *host = at + 1;
}

/* The server list as it may be shown: user, password or token replaced. */
static void redact(const char *urls, char *out, size_t len)
{
    size_t w = 0;
    for (const char *p = urls; *p && w + 1 < len;) {
        const char *end = p + strcspn(p, ","), *rest, *host;
        url_split(p, end, &rest, &host);
        int n = host > rest ? snprintf(out + w, len - w, "%.*s***%.*s", (int)(rest - p), p,
                                       (int)(end - host + 1), host - 1)
                            : snprintf(out + w, len - w, "%.*s", (int)(end - p), p);
        w = MIN(w + (size_t)MAX(n, 0), len - 1);
        p = *end ? end + 1 : end;
        if (*p && w + 1 < len)
            out[w++] = ',';
    }
    out[w] = '\0';
}

/* "what: libnats's text", the details of the last error when there are. */
static int fail(char *msg, size_t len, natsStatus s, jsErrCode jerr, const char *what)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last); /* the details, when they are this error's */
    if (!text || !*text || last != s)
        text = natsStatus_GetText(s);
    if (text[0] == '(' && strstr(text, "): ")) /* "(conn.c:2088): " */
        text = strstr(text, "): ") + 3;
    if (jerr)
        snprintf(msg, len, "%s: %s (JetStream error %d)", what, text, (int)jerr);
    else
        snprintf(msg, len, "%s: %s", what, text);
    return s == NATS_NO_MEMORY ? -ENOMEM : -EIO;
}

/* TLS: required by --nats-ca, --nats-cert or a tls:// URL, and taken
 * when a server asks for it. The server's certificate is checked against
 * --nats-ca (or the system's CAs); when TLS is required, its name too,
 * against the host of the n URLs if they all name the same one (libnats
 * checks one name per connection). On failure *what is the flag to blame. */
static natsStatus set_tls(natsOptions *opts, const struct options *o, const char *const *urls,
                          int n, const char **what)
{
    const char *name = NULL;
    size_t len = 0;
    bool secure = o->nats_ca || o->nats_cert, same = true;
    for (int i = 0; i < n; i++) {
        const char *end = urls[i] + strlen(urls[i]), *rest, *host;
        url_split(urls[i], end, &rest, &host);
        const char *bracket = *host == '[' ? strchr(host, ']') : NULL; /* [IPv6]:port */
        size_t hlen = bracket ? (size_t)(bracket - host - 1) : strcspn(host, ":");
        host += bracket != NULL;
        same = same && (!name || (hlen == len && strncasecmp(host, name, len) == 0));
        name = host, len = hlen;
        secure = secure || strncasecmp(urls[i], "tls://", 6) == 0;
    }
    natsStatus s = NATS_OK;
    *what = "--nats";
    if (secure)
        s = natsOptions_SetSecure(opts, true);
    if (s == NATS_OK && secure && same && len) { /* (an SSL context: only for TLS) */
        char host[256];
        snprintf(host, sizeof host, "%.*s", (int)MIN(len, sizeof host - 1), name);
        s = natsOptions_SetExpectedHostname(opts, host);
    }
    if (s == NATS_OK && o->nats_ca) {
        *what = "--nats-ca";
        s = natsOptions_LoadCATrustedCertificates(opts, o->nats_ca);
    }
    if (s == NATS_OK && o->nats_cert) {
        *what = "--nats-cert";
        s = natsOptions_LoadCertificatesChain(opts, o->nats_cert, o->nats_key);
    }
    return s;
}

/* The comma-separated list of --nats (SetURL takes one URL only), and TLS
 * for its URLs. */
static natsStatus set_servers(natsOptions *opts, const struct options *o, const char **what)
{
    char *copy = strdup(o->nats_url);
    const char *list[MAX_SERVERS];
    int n = 0;
    *what = "--nats";
    if (!copy)
        return NATS_NO_MEMORY;
    for (char *save = NULL, *u = strtok_r(copy, ",", &save); u && n < MAX_SERVERS;
         u = strtok_r(NULL, ",", &save))
        list[n++] = u + strspn(u, " ");
    natsStatus s = n ? natsOptions_SetServers(opts, list, n) : NATS_INVALID_ARG;
    if (s == NATS_OK)
        s = set_tls(opts, o, list, n, what);
    free(copy); /* libnats keeps copies */
    return s;
}

static natsStatus new_js(struct broker *br, jsCtx **js, struct publisher *pb)
{
    jsOptions jo;
    natsStatus s = jsOptions_Init(&jo);
    if (s != NATS_OK)
        return s;
    jo.Wait = MAX(br->o->nats_timeout_ns / NS_PER_MS, 1);
    jo.PublishAsync.MaxPending = PUB_WINDOW;
    jo.PublishAsync.StallWait = jo.Wait;
    if (pb) {
        jo.PublishAsync.ErrHandler = on_pub_error;
        jo.PublishAsync.ErrHandlerClosure = pb;
    }
    return natsConnection_JetStream(js, br->nc, &jo);
}

static int dial(struct broker *br, char *msg, size_t len)
{
    const struct options *o = br->o;
    const char *files[] = {o->nats_creds, o->nats_ca, o->nats_cert, o->nats_key};
    static const char *const flags[] = {"--nats-creds", "--nats-ca", "--nats-cert", "--nats-key"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (files[i] && access(files[i], R_OK) != 0) { /* libnats would say less */
            int e = errno;
            snprintf(msg, len, "%s %s: %s", flags[i], files[i], strerror(e));
            return -e;
        }
    const char *what = "--nats";
    natsStatus s = natsOptions_Create(&br->opts);
    if (s == NATS_OK)
        s = set_servers(br->opts, o, &what);
    if (s == NATS_OK && o->nats_creds) {
        what = "--nats-creds";
        s = natsOptions_SetUserCredentialsFromFiles(br->opts, o->nats_creds, NULL);
    }
    if (s == NATS_OK)
        s = natsOptions_SetName(br->opts, "weir");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(br->opts, MAX(o->nats_timeout_ns / NS_PER_MS, 1));
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(br->opts, -1); /* --nats-timeout decides */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(br->opts, RECONNECT_WAIT_MS);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(br->opts, on_disconnected, br);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(br->opts, on_reconnected, br);
    if (s != NATS_OK)
        return fail(msg, len, s, 0, what);
    s = natsConnection_Connect(&br->nc, br->opts);
    if (s != NATS_OK) {
        char shown[256], dialed[300];
        redact(o->nats_url, shown, sizeof shown);
        snprintf(dialed, sizeof dialed, "--nats %s: cannot connect", shown);
        int rc = fail(msg, len, s, 0, dialed);
        if (strstr(msg, "got ''") || strstr(msg, "SSL_write error: (null)")) /* libnats's words */
            snprintf(msg, len, "%s: the server closed the connection%s", dialed,
                     o->nats_cert ? "" : " (does it want a client certificate? --nats-cert)");
        return rc;
    }
    br->out.subject = o->nats_to;
    br->rej.subject = o->nats_rejects;
    if ((s = new_js(br, &br->js, NULL)) != NATS_OK ||
        (s = new_js(br, &br->out.js, &br->out)) != NATS_OK ||
        (s = new_js(br, &br->rej.js, &br->rej)) != NATS_OK)
        return fail(msg, len, s, 0, "JetStream");
    return 0;
}

/* ---- the source's stream and consumer ------------------------------------------ */

/* The stream must exist; with --subject it is created when missing. */
static int find_stream(struct broker *br, const char *stream, char *msg, size_t len)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char what[300];
    natsStatus s = js_GetStreamInfo(&si, br->js, stream, NULL, &jerr);
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
        s = js_AddStream(&si, br->js, &sc, NULL, &jerr);
    }
    jsStreamInfo_Destroy(si);
    snprintf(what, sizeof what, "--from: stream %s", stream);
    return s == NATS_OK ? 0 : fail(msg, len, s, jerr, what);
}

/* The durable pull consumer, created with explicit acks when missing; an
 * existing one must be a pull consumer with explicit acks. */
static int find_consumer(struct broker *br, const char *stream, const char *name, char *msg,
                         size_t len)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char what[300];
    snprintf(what, sizeof what, "--from: consumer %s/%s", stream, name);
    natsStatus s = js_GetConsumerInfo(&ci, br->js, stream, name, NULL, &jerr);
    if (s == NATS_NOT_FOUND) {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = name;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = br->o->ack_wait_ns;
        cc.FilterSubject = br->o->nats_subject;
        cc.MaxAckPending = MAX_ACK_PENDING; /* each weir bounds its own by its queue */
        s = js_AddConsumer(&ci, br->js, stream, &cc, NULL, &jerr);
    }
    if (s != NATS_OK)
        return fail(msg, len, s, jerr, what);
    int rc = 0;
    if (ci->Config->DeliverSubject || ci->Config->AckPolicy != js_AckExplicit) {
        snprintf(msg, len, "%s: not a pull consumer with explicit acks", what);
        rc = -EINVAL;
    }
    br->ack_wait_ns = ci->Config->AckWait > 0 ? ci->Config->AckWait : 30 * NS_PER_SEC;
    /* a pull for more than the server may hand out waits for its expiry */
    int64_t pending = ci->Config->MaxAckPending;
    br->pull_max = pending > 0 ? (size_t)MAX(pending / 2, 1) : SIZE_MAX;
    jsConsumerInfo_Destroy(ci);
    return rc;
}

static int open_source(struct broker *br, char *msg, size_t len)
{
    const char *slash = strchr(br->o->nats_from, '/');
    snprintf(br->stream, sizeof br->stream, "%.*s", (int)(slash - br->o->nats_from),
             br->o->nats_from);
    const char *stream = br->stream, *consumer = br->consumer = slash + 1;
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
        js_PullSubscribe(&br->sub, br->js, br->o->nats_subject, consumer, NULL, &so, &jerr);
    if (s != NATS_OK)
        return fail(msg, len, s, jerr, "--from: subscribe");
    br->cap = 1024;
    br->ring = calloc(br->cap, sizeof *br->ring);
    br->base = br->next = 1;
    br->fetching = true;
    br->last_msg = now_ns();
    br->msg_size = (size_t)natsConnection_GetMaxPayload(br->nc) + MSG_OVERHEAD; /* learnt */
    return br->ring ? 0 : -ENOMEM;
}

/* ---- fetching ---------------------------------------------------------------- */

/* Room in the ring for n more messages. Called with mu held. */
static int ring_reserve(struct broker *br, size_t n)
{
    size_t used = (size_t)(br->next - br->base);
    if (used + n <= br->cap)
        return 0;
    size_t cap = br->cap;
    while (cap < used + n)
        cap *= 2;
    struct held *ring = calloc(cap, sizeof *ring);
    if (!ring)
        return -ENOMEM;
    for (uint64_t r = br->base; r < br->next; r++)
        ring[r & (cap - 1)] = br->ring[r & (br->cap - 1)];
    free(br->ring);
    br->ring = ring;
    br->cap = cap;
    return 0;
}

/* The messages of list as a batch of records numbered from br->next, and
 * held in the ring; the list keeps no message. */
static int make_batch(struct broker *br, natsMsgList *list, struct batch **out)
{
    size_t n = (size_t)list->Count, total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)natsMsg_GetDataLength(list->Msgs[i]) + 1;
    struct chunk *c = chunk_new(br->pool, MAX(total, br->chunk_size));
    struct batch *b = c ? batch_new(c, n) : NULL;
    chunk_unref(c);
    sync_lock(&br->mu);
    int rc = b ? ring_reserve(br, n) : -ENOMEM;
    if (rc) {
        sync_unlock(&br->mu);
        batch_free(b);
        return rc; /* the messages stay in the list: redelivered after the ack wait */
    }
    int64_t now = now_ns();
    b->recno0 = br->next;
    b->t_in = now;
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = list->Msgs[i];
        size_t len = (size_t)natsMsg_GetDataLength(m);
        memcpy(c->data + c->len, natsMsg_GetData(m), len);
        c->data[c->len + len] = (char)br->o->delim;
        b->recs[i] = (struct rec){.off = (uint32_t)c->len, .len = (uint32_t)len};
        c->len += len + 1;
        br->ring[br->next++ & (br->cap - 1)] = (struct held){.msg = m, .since = now};
        list->Msgs[i] = NULL;
    }
    sync_unlock(&br->mu);
    b->n = n;
    b->bytes = total;
    *out = b;
    return 0;
}

/* A fetch that failed: while the connection is down, wait for it up to
 * --nats-timeout; anything else is an error. */
static int fetch_failed(struct broker *br, natsStatus s, int64_t wait_ns)
{
    int64_t down = atomic_load(&br->down_since), now = now_ns();
    if (natsConnection_IsClosed(br->nc)) {
        snprintf(br->err, sizeof br->err, "--nats: the connection is closed");
        return -ENOTCONN;
    }
    if (down && now - down > br->o->nats_timeout_ns) {
        snprintf(br->err, sizeof br->err, "--nats: no server for %.0f s (--nats-timeout)",
                 (double)(now - down) / 1e9);
        return -ETIMEDOUT;
    }
    if (!down && s != NATS_CONNECTION_DISCONNECTED && s != NATS_CONNECTION_CLOSED &&
        !natsConnection_IsReconnecting(br->nc)) {
        fail(br->err, sizeof br->err, s, 0, "--from: fetch");
        return -EIO;
    }
    struct timespec ts = ns_to_timespec(MIN(wait_ns, 100 * NS_PER_MS));
    nanosleep(&ts, NULL);
    return 0;
}

/* One pull request: for up to `batch` messages, with `no_wait` only those
 * there now, else waiting up to wait_ns. */
static natsStatus pull(struct broker *br, natsMsgList *list, size_t batch, size_t max_bytes,
                       bool no_wait, int64_t wait_ns)
{
    /* Bytes are bounded by the count, from the biggest message seen
     * lately: a pull with MaxBytes can end in the client before the
     * server has sent all it counted, and messages left queued make
     * libnats before 3.10 overrun its list in the next pull. */
    size_t most = MAX(MIN(max_bytes, PULL_BYTES) / br->msg_size, 1);
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = (int)MIN(MIN(MIN(batch, most), br->pull_max), INT32_MAX);
    int queued = 0, queued_bytes = 0; /* left by a pull that expired as they came */
    if (natsSubscription_GetPending(br->sub, &queued, &queued_bytes) == NATS_OK && queued > 0)
        req.Batch = MIN(req.Batch, queued); /* taken alone, for the same reason */
    req.NoWait = no_wait;
    req.Expires = MAX(wait_ns, NS_PER_MS);
    return natsSubscription_FetchRequest(list, br->sub, &req);
}

/* Counts the messages that came before, and learns their size. */
static void look_at(struct broker *br, const natsMsgList *list)
{
    size_t biggest = 0;
    for (int i = 0; i < list->Count; i++) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, list->Msgs[i]) == NATS_OK && meta->NumDelivered > 1)
            atomic_fetch_add_explicit(&br->redelivered, 1, memory_order_relaxed);
        jsMsgMetaData_Destroy(meta);
        biggest = MAX(biggest, (size_t)natsMsg_GetDataLength(list->Msgs[i]) + MSG_OVERHEAD);
    }
    br->msg_size = MAX(biggest, br->msg_size / 2);
}

/* Messages held here, not yet settled. */
static int64_t held_count(struct broker *br)
{
    int64_t n = 0;
    sync_lock(&br->mu);
    for (uint64_t r = br->base; r < br->next; r++)
        n += br->ring[r & (br->cap - 1)].msg != NULL;
    sync_unlock(&br->mu);
    return n;
}

/* No message came for --idle-exit: true to leave. Not while the consumer
 * has messages to deliver, or pending acknowledgement beyond those held
 * here (another reader's, perhaps a dead one's, redelivered after the ack
 * wait): for those it waits, up to the ack wait and a margin from when the
 * stream first looked idle, then leaves saying so in idle_note. Reader. */
static bool idle_over(struct broker *br, int64_t now)
{
    br->idle_since = br->idle_since ? br->idle_since : now;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = MAX(MIN(br->o->nats_timeout_ns / NS_PER_MS, INFO_WAIT_MS), 1);
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, br->js, br->stream, br->consumer, &jo, &jerr);
    if (s != NATS_OK) { /* cannot tell: idle as it looks */
        fail(br->idle_note, sizeof br->idle_note, s, jerr,
             "--idle-exit: leaving without knowing what the consumer has pending");
        return true;
    }
    int64_t others = MAX(ci->NumAckPending - held_count(br), 0);
    uint64_t undelivered = ci->NumPending;
    jsConsumerInfo_Destroy(ci);
    int64_t waited = now - br->idle_since;
    if (others == 0 && undelivered == 0)
        return true;
    if (waited < br->ack_wait_ns + MAX(br->ack_wait_ns / 10, NS_PER_SEC))
        return false;
    char more[48] = "";
    if (undelivered)
        snprintf(more, sizeof more, " (and %" PRIu64 " not delivered yet)", undelivered);
    snprintf(br->idle_note, sizeof br->idle_note,
             "--idle-exit: leaving with %" PRId64 " messages still pending acknowledgement by "
             "another reader%s: waited %.1f s for their redelivery (the ack wait, %.1f s, and a "
             "margin)",
             others, more, (double)waited / 1e9, (double)br->ack_wait_ns / 1e9);
    return true;
}

int broker_fetch(struct broker *br, size_t max_records, size_t max_bytes, int64_t wait_ns,
                 struct batch **out)
{
    *out = NULL;
    /* what is there now, as much as fits; if nothing, wait for one (the
     * server would hold a bigger request until it filled or expired) */
    natsMsgList list = {0};
    natsStatus s = pull(br, &list, max_records, max_bytes, true, wait_ns);
    if ((s == NATS_OK || s == NATS_TIMEOUT || s == NATS_NOT_FOUND) && list.Count == 0) {
        natsMsgList_Destroy(&list);
        s = pull(br, &list, 1, max_bytes, false, wait_ns);
    }
    int rc = 0;
    if (s == NATS_OK && list.Count > 0) {
        look_at(br, &list);
        rc = make_batch(br, &list, out);
        br->last_msg = now_ns();
    } else if (atomic_load(&br->down_since) ||
               (s != NATS_OK && s != NATS_TIMEOUT && s != NATS_NOT_FOUND)) {
        rc = fetch_failed(br, s, wait_ns);
        br->last_msg = now_ns(); /* no idle time while the server is away */
    }
    natsMsgList_Destroy(&list);
    if (rc || *out || !br->o->idle_exit_ns || now_ns() - br->last_msg < br->o->idle_exit_ns) {
        br->idle_since = 0;
        return rc;
    }
    return idle_over(br, now_ns()) ? BROKER_IDLE : 0;
}

const char *broker_error(const struct broker *br)
{
    return br->err;
}

const char *broker_idle_note(const struct broker *br)
{
    return br->idle_note;
}

/* ---- settling ---------------------------------------------------------------- */

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

/* Publishes records i..i+n-1 of b to --rejects-subject and waits for the
 * acks. False when one was not acked (the messages are then handed back). */
static bool publish_rejects(struct broker *br, const struct batch *b, size_t i, size_t n)
{
    sync_lock(&br->rej_mu);
    unsigned failed0 = atomic_load(&br->rej.failed);
    natsStatus s = NATS_OK;
    for (size_t k = i; k < i + n && s == NATS_OK; k++)
        s = js_PublishAsync(br->rej.js, br->rej.subject, b->chunk->data + b->recs[k].off,
                            (int)b->recs[k].len, NULL);
    if (s == NATS_OK)
        s = wait_acks(br, &br->rej);
    bool ok = s == NATS_OK && atomic_load(&br->rej.failed) == failed0;
    if (!ok && !br->rej_err[0]) { /* the first failure says why */
        if (s == NATS_OK)
            snprintf(br->rej_err, sizeof br->rej_err, "%s", br->rej.text);
        else
            fail(br->rej_err, sizeof br->rej_err, s, 0, "publish");
    }
    sync_unlock(&br->rej_mu);
    return ok;
}

static void answer(natsMsg **msgs, size_t n, bool ack)
{
    for (size_t k = 0; k < n; k++) {
        natsStatus s = ack ? natsMsg_Ack(msgs[k], NULL) : natsMsg_Nak(msgs[k], NULL);
        (void)s; /* an ack lost with the connection: the server redelivers */
        natsMsg_Destroy(msgs[k]);
    }
}

/* Moves up to SETTLE_STEP held messages of [*r, end) into msgs (all, or
 * with `back` only those marked so), and moves base on. Called with mu
 * held; returns their count. */
static size_t take_held(struct broker *br, uint64_t *r, uint64_t end, bool back, natsMsg **msgs)
{
    size_t k = 0;
    for (; *r < end && k < SETTLE_STEP; ++*r) {
        if (*r < br->base || *r >= br->next)
            continue;
        struct held *h = &br->ring[*r & (br->cap - 1)];
        if (h->msg && (!back || h->back)) {
            msgs[k++] = h->msg;
            h->msg = NULL;
        }
    }
    while (br->base < br->next && !br->ring[br->base & (br->cap - 1)].msg)
        br->base++;
    return k;
}

/* While fetching, messages handed back are only marked: a nak now would
 * bring them straight back to this process's next pull. Called with mu
 * held; returns how many were marked. */
static uint64_t mark_back(struct broker *br, uint64_t r, uint64_t end)
{
    uint64_t n = 0;
    for (r = MAX(r, br->base); r < MIN(end, br->next); r++) {
        struct held *h = &br->ring[r & (br->cap - 1)];
        n += h->msg && !h->back;
        h->back = h->back || h->msg;
    }
    return n;
}

int broker_settle(struct broker *br, const struct batch *b, size_t i, size_t n, enum settle how)
{
    if (!br || !br->sub || n == 0)
        return 0;
    int rc = 0;
    if (how == SETTLE_REJECTED && br->o->nats_rejects && !publish_rejects(br, b, i, n)) {
        how = SETTLE_RETURNED; /* not in the rejects: back to the stream */
        rc = -EIO;
    }
    uint64_t r = b->recno0 + i, end = r + n, marked = 0;
    sync_lock(&br->mu);
    bool hold = how == SETTLE_RETURNED && br->fetching;
    if (hold)
        marked = mark_back(br, r, end);
    sync_unlock(&br->mu);
    if (hold) {
        atomic_fetch_add_explicit(&br->returned, marked, memory_order_relaxed);
        return rc;
    }
    natsMsg *msgs[SETTLE_STEP];
    while (r < end) {
        sync_lock(&br->mu);
        size_t k = take_held(br, &r, end, false, msgs);
        sync_unlock(&br->mu);
        if (how == SETTLE_RETURNED)
            atomic_fetch_add_explicit(&br->returned, k, memory_order_relaxed);
        answer(msgs, k, how != SETTLE_RETURNED);
    }
    return rc;
}

const char *broker_rejects_error(struct broker *br)
{
    return br->rej_err; /* written once, before the -EIO that sends the caller here */
}

void broker_end_fetch(struct broker *br)
{
    natsMsg *msgs[SETTLE_STEP];
    size_t k;
    do {
        sync_lock(&br->mu);
        br->fetching = false;
        uint64_t r = br->base;
        k = take_held(br, &r, br->next, true, msgs);
        sync_unlock(&br->mu);
        answer(msgs, k, false);
    } while (k == SETTLE_STEP);
}

int64_t broker_tick(struct broker *br, int64_t now)
{
    if (!br || !br->sub)
        return NS_FOREVER;
    int64_t every = MAX(br->ack_wait_ns / 3, NS_PER_MS);
    sync_lock(&br->mu);
    for (uint64_t r = br->base; r < br->next; r++) {
        struct held *h = &br->ring[r & (br->cap - 1)];
        if (h->msg && now - h->since >= every) {
            natsMsg_InProgress(h->msg, NULL);
            h->since = now;
        }
    }
    sync_unlock(&br->mu);
    return now + every;
}

/* ---- publishing results (--to) -------------------------------------------------- */

/* Why publishing failed, for results_error. */
static int pub_failure(struct broker *br, natsStatus s)
{
    natsStatus st = s != NATS_OK ? s : (natsStatus)atomic_load(&br->out.status);
    if (s == NATS_OK && st != NATS_OK) /* refused by the server */
        snprintf(br->pub_err, sizeof br->pub_err, "%s", br->out.text);
    else
        fail(br->pub_err, sizeof br->pub_err, st, 0, "JetStream");
    if (st == NATS_NO_RESPONDERS)
        snprintf(br->pub_err, sizeof br->pub_err, "%s (no stream takes the subject?)",
                 natsStatus_GetText(st));
    return st == NATS_TIMEOUT ? -ETIMEDOUT : -EIO;
}

static int publish(struct broker *br, const char *p, size_t len)
{
    natsStatus s = js_PublishAsync(br->out.js, br->out.subject, p, (int)len, NULL);
    if (s == NATS_OK)
        return 0;
    return s == NATS_NO_MEMORY ? -ENOMEM : pub_failure(br, s);
}

/* Appends p[0..len) to the record being carried. 0 or -ENOMEM. */
static int carry(struct broker *br, const char *p, size_t len)
{
    if (len == 0)
        return 0;
    if (br->carry_len + len > br->carry_cap) {
        char *c = realloc(br->carry, br->carry_len + len);
        if (!c)
            return -ENOMEM;
        br->carry = c;
        br->carry_cap = br->carry_len + len;
    }
    memcpy(br->carry + br->carry_len, p, len);
    br->carry_len += len;
    return 0;
}

/* sink_target.put: one message per record; a record cut at the end of p
 * waits in `carry` for the rest. */
static int results_put(void *ctx, const char *p, size_t len)
{
    struct broker *br = ctx;
    const char *end = p + len, *d;
    while ((d = memchr(p, br->o->delim, (size_t)(end - p)))) {
        int rc = 0;
        if (br->carry_len && (rc = carry(br, p, (size_t)(d - p))) == 0) {
            rc = publish(br, br->carry, br->carry_len);
            br->carry_len = 0;
        } else if (rc == 0) {
            rc = publish(br, p, (size_t)(d - p));
        }
        if (rc)
            return rc;
        p = d + 1;
    }
    return carry(br, p, (size_t)(end - p));
}

/* sink_target.sync: waits until every result published is acked; at the
 * end, a last record without delimiter is published first. */
static int results_sync(void *ctx, bool end)
{
    struct broker *br = ctx;
    if (end && br->carry_len) {
        int rc = publish(br, br->carry, br->carry_len);
        br->carry_len = 0;
        if (rc)
            return rc;
    }
    natsStatus s = wait_acks(br, &br->out);
    if (s != NATS_OK || atomic_load(&br->out.failed))
        return pub_failure(br, s);
    return 0;
}

static const char *results_error(void *ctx)
{
    return ((struct broker *)ctx)->pub_err;
}

const struct sink_target *broker_results(struct broker *br)
{
    return br && br->o->nats_to ? &br->results : NULL;
}

/* ---- setup and teardown ------------------------------------------------------------ */

int broker_open(const struct options *o, struct chunk_pool *pool, size_t chunk_size,
                struct broker **out, char *msg, size_t len)
{
    struct broker *br = calloc(1, sizeof *br);
    if (!br || sync_mutex_init(&br->mu) != 0) {
        free(br);
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    if (sync_mutex_init(&br->rej_mu) != 0) {
        pthread_mutex_destroy(&br->mu);
        free(br);
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    br->o = o;
    br->pool = pool;
    br->chunk_size = chunk_size;
    br->results = (struct sink_target){
        .put = results_put, .sync = results_sync, .error = results_error, .ctx = br};
    *out = br;
    int rc = dial(br, msg, len);
    if (rc == 0 && o->nats_from)
        rc = open_source(br, msg, len);
    if (rc == -ENOMEM)
        snprintf(msg, len, "out of memory");
    return rc;
}

void broker_figures(struct broker *br, struct broker_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!br)
        return;
    out->redelivered = atomic_load_explicit(&br->redelivered, memory_order_relaxed);
    out->returned = atomic_load_explicit(&br->returned, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&br->reconnects, memory_order_relaxed);
}

void broker_free(struct broker *br)
{
    if (!br)
        return;
    natsMsg *msgs[SETTLE_STEP];
    for (size_t k = SETTLE_STEP; br->ring && k == SETTLE_STEP;) { /* what is still held goes back */
        uint64_t r = br->base;
        k = take_held(br, &r, br->next, false, msgs);
        answer(msgs, k, false);
    }
    if (br->nc && !natsConnection_IsClosed(br->nc))
        natsConnection_FlushTimeout(
            br->nc, MAX(MIN(br->o->nats_timeout_ns, 5 * NS_PER_SEC) / NS_PER_MS, 1));
    natsSubscription_Destroy(br->sub);
    jsCtx_Destroy(br->js);
    jsCtx_Destroy(br->out.js);
    jsCtx_Destroy(br->rej.js);
    natsConnection_Destroy(br->nc);
    natsOptions_Destroy(br->opts);
    nats_Close();
    free(br->ring);
    free(br->carry);
    pthread_mutex_destroy(&br->mu);
    pthread_mutex_destroy(&br->rej_mu);
    free(br);
}
