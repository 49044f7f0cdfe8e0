/*
 * natstool.c - a small NATS JetStream client for weir's tests and benchmarks.
 *
 * Debian has no `nats` CLI, so this is the one the tests use, written with
 * the NATS C client (libnats). Every subcommand connects to URL, does one
 * thing, and exits 0; on any error it prints one line on stderr and exits 1.
 * The connection does not reconnect: a server that goes away is an error.
 * Every JetStream request waits at most TIMEOUT_MS.
 *
 *   natstool URL stream-add STREAM SUBJECT [--max-msgs N]
 *       File storage, limits retention, one subject. Succeeds if STREAM
 *       already exists with exactly that subject (and N, if given).
 *   natstool URL pub SUBJECT [--count N | --delim C | -0]
 *       Publishes each stdin line (without its '\n'; a last line without
 *       one counts) as one JetStream message, or with --count the N
 *       messages "1".."N". --delim C: records end with the byte C instead
 *       of '\n' (so a payload can hold newlines), -0: with NUL.
 *       Asynchronous, at most MAX_PENDING unacked; fails if any message was
 *       not acked.
 *   natstool URL get STREAM
 *       Prints every message in STREAM, payload and '\n', in stream order,
 *       up to the last one stored when it starts.
 *   natstool URL count STREAM
 *       Prints the number of messages in STREAM.
 *   natstool URL consumer-add STREAM CONSUMER [--ack-wait MS] [--filter SUBJ]
 *       Durable pull consumer, explicit acks, deliver all.
 *   natstool URL info STREAM CONSUMER
 *       Prints one JSON line: {"delivered":N,"ack_floor":N,"num_ack_pending":N,
 *       "num_redelivered":N,"num_pending":N,"num_waiting":N} (delivered and
 *       ack_floor are consumer sequences).
 *   natstool URL fetch STREAM CONSUMER [--nak]
 *       Pulls (no-wait requests of FETCH_BATCH) everything the durable pull
 *       consumer hands out now, until a pull returns nothing, and acks each
 *       message. Prints each as a line "SEQ DELIVERED LEN" (stream
 *       sequence, times delivered, payload bytes), the LEN payload bytes,
 *       and '\n'. --nak: one pull only (at most FETCH_BATCH), and naks its
 *       messages at the end, so that the consumer hands them out again.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#define TIMEOUT_MS 10000
#define MAX_PENDING 4096
#define FETCH_BATCH 500

static const char *cmd = "natstool";

static void usage(void)
{
    fprintf(stderr,
            "usage: natstool URL stream-add STREAM SUBJECT [--max-msgs N]\n"
            "       natstool URL pub SUBJECT [--count N | --delim C | -0]\n"
            "       natstool URL get STREAM\n"
            "       natstool URL count STREAM\n"
            "       natstool URL consumer-add STREAM CONSUMER [--ack-wait MS] [--filter SUBJ]\n"
            "       natstool URL info STREAM CONSUMER\n"
            "       natstool URL fetch STREAM CONSUMER [--nak]\n");
    exit(1);
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...);
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "natstool: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* check(s, jerr, fmt, ...): on error, dies with what fmt says and the
 * library's last error text if it is about s (without its "(file.c:line): "). */
__attribute__((format(printf, 3, 4))) static void check(natsStatus s, jsErrCode jerr,
                                                        const char *fmt, ...);
static void check(natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
    if (s == NATS_OK)
        return;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    if (text == NULL || *text == '\0' || last != s) /* none, or an older one */
        text = natsStatus_GetText(s);
    const char *p = strstr(text, "): ");
    if (text[0] == '(' && p != NULL)
        text = p + 3;
    if (jerr != 0)
        die("%s: %s (JetStream error %d)", what, text, (int)jerr);
    die("%s: %s", what, text);
}

static int64_t parse_num(const char *opt, const char *v, int64_t min)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min)
        die("%s: not a number >= %" PRId64 ": '%s'", opt, min, v);
    return (int64_t)n;
}

/* Options after the positional arguments: "--name value" pairs, and the
 * flags -0 and --nak. */
struct opts {
    int64_t max_msgs, count, ack_wait_ms;
    const char *filter;
    int delim; /* pub's record delimiter, -1: not given ('\n') */
    bool nak;
};

/* name is one of the space-separated words of list. */
static bool is_word_of(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static void parse_opts(int argc, char **argv, const char *allowed, struct opts *o)
{
    *o = (struct opts){.max_msgs = -1, .count = -1, .ack_wait_ms = -1, .delim = -1};
    for (int i = 0; i < argc;) {
        const char *name = argv[i++];
        if (name[0] != '-' || !is_word_of(allowed, name))
            die("unknown option or extra argument '%s'", name);
        if (strcmp(name, "-0") == 0) {
            o->delim = '\0';
            continue;
        }
        if (strcmp(name, "--nak") == 0) {
            o->nak = true;
            continue;
        }
        if (i >= argc)
            die("%s needs a value", name);
        const char *v = argv[i++];
        if (strcmp(name, "--max-msgs") == 0)
            o->max_msgs = parse_num(name, v, 1);
        else if (strcmp(name, "--count") == 0)
            o->count = parse_num(name, v, 0);
        else if (strcmp(name, "--ack-wait") == 0)
            o->ack_wait_ms = parse_num(name, v, 1);
        else if (strcmp(name, "--filter") == 0)
            o->filter = v;
        else if (strcmp(name, "--delim") == 0) {
            if (strlen(v) != 1)
                die("--delim: not one byte: '%s' (-0 for NUL)", v);
            o->delim = (unsigned char)v[0];
        } else
            die("unknown option '%s'", name);
    }
    if (o->count >= 0 && o->delim >= 0)
        die("--count reads no input: no --delim or -0 with it");
}

static void stream_add(jsCtx *js, const char *stream, const char *subject, const struct opts *o)
{
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    const char *subjects[] = {subject};

    check(jsStreamConfig_Init(&cfg), 0, "stream config");
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    if (o->max_msgs > 0)
        cfg.MaxMsgs = o->max_msgs;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        /* Exists with another configuration: fine if it is the same subject. */
        jerr = 0;
        check(js_GetStreamInfo(&si, js, stream, NULL, &jerr), jerr, "stream %s", stream);
        const jsStreamConfig *c = si->Config;
        if (c->SubjectsLen != 1 || strcmp(c->Subjects[0], subject) != 0)
            die("stream %s already exists with other subjects", stream);
        if (o->max_msgs > 0 && c->MaxMsgs != o->max_msgs)
            die("stream %s already exists with max_msgs %" PRId64, stream, c->MaxMsgs);
        s = NATS_OK;
    }
    check(s, jerr, "adding stream %s", stream);
    jsStreamInfo_Destroy(si);
}

/* Failed acks, counted by the library's thread; the first one's text kept. */
static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pub_failed;
static char pub_first_err[256];

static void on_pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)closure;
    pthread_mutex_lock(&pub_lock);
    if (pub_failed++ == 0) {
        const char *t = pae->ErrText != NULL ? pae->ErrText : natsStatus_GetText(pae->Err);
        if (pae->ErrCode != 0)
            snprintf(pub_first_err, sizeof pub_first_err, "%s (JetStream error %d)", t,
                     (int)pae->ErrCode);
        else
            snprintf(pub_first_err, sizeof pub_first_err, "%s", t);
    }
    pthread_mutex_unlock(&pub_lock);
}

static void pub(jsCtx *js, const char *subject, const struct opts *o)
{
    jsPubOptions po;
    char num[32];
    char *line = NULL;
    size_t cap = 0;
    uint64_t sent = 0;
    int delim = o->delim >= 0 ? o->delim : '\n';

    check(jsPubOptions_Init(&po), 0, "publish options");
    po.MaxWait = TIMEOUT_MS; /* an ack later than this is a failure */
    for (;;) {
        const char *data;
        size_t len;
        if (o->count >= 0) {
            if (sent == (uint64_t)o->count)
                break;
            len = (size_t)snprintf(num, sizeof num, "%" PRIu64, sent + 1);
            data = num;
        } else {
            ssize_t n = getdelim(&line, &cap, delim, stdin);
            if (n < 0)
                break;
            len = (size_t)n;
            if (len > 0 && line[len - 1] == delim)
                len--;
            data = line;
        }
        if (len > INT32_MAX)
            die("record %" PRIu64 " is too long", sent + 1);
        check(js_PublishAsync(js, subject, data, (int)len, &po), 0, "publishing to %s", subject);
        sent++;
    }
    if (ferror(stdin))
        die("reading stdin: %s", strerror(errno));
    free(line);
    if (sent == 0)
        return; /* libnats 3.4 crashes in GetPendingList before any publish */

    natsStatus s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK && s != NATS_TIMEOUT)
        check(s, 0, "waiting for acks");
    natsMsgList unacked = {0};
    s = js_PublishAsyncGetPendingList(&unacked, js);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        check(s, 0, "pending list");
    uint64_t missing = (uint64_t)unacked.Count;
    natsMsgList_Destroy(&unacked);

    pthread_mutex_lock(&pub_lock);
    uint64_t failed = pub_failed;
    pthread_mutex_unlock(&pub_lock);
    if (failed > 0)
        die("%" PRIu64 " of %" PRIu64 " messages failed, first: %s", failed, sent, pub_first_err);
    if (missing > 0)
        die("%" PRIu64 " of %" PRIu64 " messages not acked within %d ms", missing, sent,
            TIMEOUT_MS);
}

static jsStreamInfo *stream_info(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    check(js_GetStreamInfo(&si, js, stream, NULL, &jerr), jerr, "stream %s", stream);
    return si;
}

/* An ordered consumer (ephemeral, flow-controlled, no acks; the library
 * recreates it on a gap) over all subjects (">"), read up to the last
 * sequence the stream had when we started. */
static void get(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = stream_info(js, stream);
    uint64_t n = si->State.Msgs, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    if (n == 0)
        return;

    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsErrCode jerr = 0;
    check(jsSubOptions_Init(&so), 0, "subscribe options");
    so.Stream = stream;
    so.Ordered = true;
    check(js_SubscribeSync(&sub, js, ">", NULL, &so, &jerr), jerr, "reading stream %s", stream);
    for (uint64_t seq = 0, pending = 1; seq < last && pending > 0;) {
        natsMsg *m = NULL;
        jsMsgMetaData *meta = NULL;
        check(natsSubscription_NextMsg(&m, sub, TIMEOUT_MS), 0, "stream %s after message %" PRIu64,
              stream, seq);
        check(natsMsg_GetMetaData(&meta, m), 0, "stream %s: message metadata", stream);
        seq = meta->Sequence.Stream;
        pending = meta->NumPending; /* 0: nothing after this one, even if seq < last */
        jsMsgMetaData_Destroy(meta);
        size_t len = (size_t)natsMsg_GetDataLength(m);
        if (fwrite(natsMsg_GetData(m), 1, len, stdout) != len || putchar('\n') == EOF)
            die("writing stdout: %s", strerror(errno));
        natsMsg_Destroy(m);
    }
    check(natsSubscription_Unsubscribe(sub), 0, "unsubscribing");
    natsSubscription_Destroy(sub);
}

static void count(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = stream_info(js, stream);
    printf("%" PRIu64 "\n", si->State.Msgs);
    jsStreamInfo_Destroy(si);
}

static void consumer_add(jsCtx *js, const char *stream, const char *consumer, const struct opts *o)
{
    jsConsumerConfig cc;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;

    check(jsConsumerConfig_Init(&cc), 0, "consumer config");
    cc.Durable = consumer;
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    if (o->ack_wait_ms > 0)
        cc.AckWait = o->ack_wait_ms * 1000000; /* nanoseconds */
    cc.FilterSubject = o->filter;
    check(js_AddConsumer(&ci, js, stream, &cc, NULL, &jerr), jerr,
          "adding consumer %s to stream %s", consumer, stream);
    jsConsumerInfo_Destroy(ci);
}

static void info(jsCtx *js, const char *stream, const char *consumer)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    check(js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr), jerr,
          "consumer %s of stream %s", consumer, stream);
    printf("{\"delivered\":%" PRIu64 ",\"ack_floor\":%" PRIu64 ",\"num_ack_pending\":%" PRId64
           ",\"num_redelivered\":%" PRId64 ",\"num_pending\":%" PRIu64 ",\"num_waiting\":%" PRId64
           "}\n",
           ci->Delivered.Consumer, ci->AckFloor.Consumer, ci->NumAckPending, ci->NumRedelivered,
           ci->NumPending, ci->NumWaiting);
    jsConsumerInfo_Destroy(ci);
}

/* The status of a pull request's reply that is not a message ("404",
 * "408", ...), with its description if any, in what[size]; false if m
 * has no status either. */
static bool pull_status(natsMsg *m, char *what, size_t size)
{
    const char *st = NULL, *desc = NULL;
    if (natsMsgHeader_Get(m, "Status", &st) != NATS_OK)
        return false;
    if (natsMsgHeader_Get(m, "Description", &desc) != NATS_OK)
        desc = NULL;
    snprintf(what, size, "%s%s%s", st, desc != NULL ? " " : "", desc != NULL ? desc : "");
    return true;
}

/* Writes m out: "SEQ DELIVERED LEN\n", the payload, '\n'. */
static void write_fetched(natsMsg *m, const char *stream, const char *consumer)
{
    jsMsgMetaData *meta = NULL;
    check(natsMsg_GetMetaData(&meta, m), 0, "consumer %s of stream %s: message metadata", consumer,
          stream);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    int w = printf("%" PRIu64 " %" PRIu64 " %zu\n", meta->Sequence.Stream, meta->NumDelivered, len);
    jsMsgMetaData_Destroy(meta);
    if (w < 0 || fwrite(natsMsg_GetData(m), 1, len, stdout) != len || putchar('\n') == EOF)
        die("writing stdout: %s", strerror(errno));
}

/* The JetStream pull protocol itself (libnats 3.4's no-wait fetch does
 * not wait for the server's answer): no-wait requests of FETCH_BATCH to
 * $JS.API.CONSUMER.MSG.NEXT.STREAM.CONSUMER, each with a reply subject of
 * its own, until one returns nothing. A request ends with its last message,
 * or, short of FETCH_BATCH, with a status: 404 (nothing now) or 408 (the
 * end reached). Each message is written out, then acked. With --nak, one
 * request only, and its messages are nak'd once it has ended: a message
 * nak'd earlier could come again in the same request, and unsettled ones
 * stop the server's deliveries at the consumer's max ack pending. */
static void fetch(natsConnection *nc, jsCtx *js, const char *stream, const char *consumer,
                  const struct opts *o)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    check(js_GetConsumerInfo(&ci, js, stream, consumer, NULL, &jerr), jerr,
          "consumer %s of stream %s", consumer, stream);
    bool push = ci->Config != NULL && ci->Config->DeliverSubject != NULL;
    jsConsumerInfo_Destroy(ci);
    if (push)
        die("consumer %s of stream %s is a push consumer", consumer, stream);

    char next[600], reply[300], wild[300], req[64], what[256];
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    natsMsg *naks[FETCH_BATCH];
    if ((size_t)snprintf(next, sizeof next, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, consumer) >=
        sizeof next)
        die("stream or consumer name too long");
    snprintf(req, sizeof req, "{\"batch\":%d,\"no_wait\":true}", FETCH_BATCH);
    check(natsInbox_Create(&inbox), 0, "inbox");
    snprintf(wild, sizeof wild, "%s.*", inbox);
    check(natsConnection_SubscribeSync(&sub, nc, wild), 0, "subscribing to %s", wild);
    check(natsSubscription_SetPendingLimits(sub, -1, -1), 0, "subscription limits");

    uint64_t got = 0;
    int n = FETCH_BATCH;
    for (int nreq = 1; n > 0 && (nreq == 1 || !o->nak); nreq++) {
        snprintf(reply, sizeof reply, "%s.%d", inbox, nreq);
        check(natsConnection_PublishRequestString(nc, next, reply, req), 0,
              "pull request to consumer %s of stream %s", consumer, stream);
        for (n = 0; n < FETCH_BATCH;) {
            natsMsg *m = NULL;
            check(natsSubscription_NextMsg(&m, sub, TIMEOUT_MS), 0,
                  "consumer %s of stream %s after %" PRIu64 " messages", consumer, stream, got);
            const char *r = natsMsg_GetReply(m);
            if (r == NULL || strncmp(r, "$JS.ACK.", 8) != 0) {
                if (!pull_status(m, what, sizeof what))
                    die("consumer %s of stream %s: a message with no ack subject on %s", consumer,
                        stream, natsMsg_GetSubject(m));
                bool mine = strcmp(natsMsg_GetSubject(m), reply) == 0;
                natsMsg_Destroy(m);
                if (!mine) /* the end of an earlier request */
                    continue;
                if (strncmp(what, "404", 3) == 0 || strncmp(what, "408", 3) == 0)
                    break;
                die("consumer %s of stream %s: %s", consumer, stream, what);
            }
            write_fetched(m, stream, consumer);
            got++;
            if (o->nak) {
                naks[n++] = m;
                continue;
            }
            check(natsConnection_PublishString(nc, r, "+ACK"), 0, "acking message %" PRIu64, got);
            natsMsg_Destroy(m);
            n++;
        }
    }
    for (int i = 0; o->nak && i < n; i++) {
        check(natsConnection_PublishString(nc, natsMsg_GetReply(naks[i]), "-NAK"), 0,
              "nak of message %d", i + 1);
        natsMsg_Destroy(naks[i]);
    }
    /* the acks are on their way to the server before we exit */
    check(natsConnection_FlushTimeout(nc, TIMEOUT_MS), 0, "sending the acks");
    check(natsSubscription_Unsubscribe(sub), 0, "unsubscribing");
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
}

/* The subcommands: name, positional arguments, allowed options. */
static const struct {
    const char *name;
    int nargs;
    const char *opts;
} cmds[] = {
    {"stream-add", 2, "--max-msgs"},
    {"pub", 1, "--count --delim -0"},
    {"get", 1, ""},
    {"count", 1, ""},
    {"consumer-add", 2, "--ack-wait --filter"},
    {"info", 2, ""},
    {"fetch", 2, "--nak"},
};

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *url = argv[1];
    size_t k = 0, ncmds = sizeof cmds / sizeof cmds[0];
    while (k < ncmds && strcmp(argv[2], cmds[k].name) != 0)
        k++;
    if (k == ncmds || argc < 3 + cmds[k].nargs)
        usage();
    cmd = cmds[k].name;
    char **a = argv + 3;
    struct opts o;
    parse_opts(argc - 3 - cmds[k].nargs, a + cmds[k].nargs, cmds[k].opts, &o);

    natsOptions *no = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    check(natsOptions_Create(&no), 0, "options");
    check(natsOptions_SetURL(no, url), 0, "%s", url);
    check(natsOptions_SetName(no, "natstool"), 0, "options");
    check(natsOptions_SetTimeout(no, TIMEOUT_MS), 0, "options");
    check(natsOptions_SetAllowReconnect(no, false), 0, "options");
    check(natsConnection_Connect(&nc, no), 0, "connecting to %s", url);
    check(jsOptions_Init(&jo), 0, "jetstream options");
    jo.Wait = TIMEOUT_MS;
    jo.PublishAsync.MaxPending = MAX_PENDING;
    jo.PublishAsync.StallWait = TIMEOUT_MS;
    jo.PublishAsync.ErrHandler = on_pub_err;
    check(natsConnection_JetStream(&js, nc, &jo), 0, "jetstream");

    if (k == 0)
        stream_add(js, a[0], a[1], &o);
    else if (k == 1)
        pub(js, a[0], &o);
    else if (k == 2)
        get(js, a[0]);
    else if (k == 3)
        count(js, a[0]);
    else if (k == 4)
        consumer_add(js, a[0], a[1], &o);
    else if (k == 5)
        info(js, a[0], a[1]);
    else
        fetch(nc, js, a[0], a[1], &o);
    if (fflush(stdout) != 0 || ferror(stdout))
        die("writing stdout: %s", strerror(errno));

    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(no);
    nats_Close();
    return 0;
}
