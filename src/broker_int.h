/* broker_int.h - what the files of the broker share, private to them
 * (broker.h is the interface): the one struct, each part owned by one
 * file, and the calls between them. Only broker*.c include it.
 *
 *   broker.c       open, free, figures: puts the parts together
 *   broker_conn.c  the connection: servers, TLS, credentials, redaction,
 *                  libnats's error text, the disconnect callbacks
 *   broker_pull.c  the source: stream and consumer, pulls, --idle-exit
 *   broker_ack.c   settling: acks, naks, in-progress acks
 *   broker_pub.c   publishing: --to (the results sink), --rejects-subject
 *   held.c         the ring of held messages (no libnats, no locking)
 *
 * A part's fields are written by its file; others only read what the
 * comments say they may. Locks, in the order they may be taken: src.mu,
 * then src.tick_mu; pub.rej_mu is never held with either, and none of
 * them while another module's lock is taken. None is held across a
 * libnats call that sends or waits, except tick_mu (in-progress acks)
 * and rej_mu (the rejects' publishes and the wait for their acks). */
#ifndef WEIR_BROKER_INT_H
#define WEIR_BROKER_INT_H

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "stream.h"
#include "sync.h"

#define SETTLE_STEP 256 /* messages settled or kept alive per lock hold */

/* broker_conn.c: written while opening, then only by libnats's callbacks. */
struct broker_conn {
    natsOptions *opts;
    natsConnection *nc;         /* any part uses it */
    _Atomic int64_t down_since; /* disconnected since (ns), 0 while connected */
    _Atomic uint64_t reconnects;
};

/* broker_pull.c and broker_ack.c: the --from source. */
struct broker_source {
    struct chunk_pool *pool;
    size_t chunk_size;
    jsCtx *js;               /* the source's JetStream context */
    natsSubscription *sub;   /* --from, or NULL */
    char stream[256];        /* --from STREAM/CONSUMER */
    const char *consumer;    /* (in the options) */
    int64_t ack_wait_ns;     /* the consumer's */
    size_t pull_max;         /* messages in one pull at most: half its MaxAckPending */
    size_t msg_size;         /* bytes a message may take, from recent pulls (reader) */
    int64_t last_msg;        /* when a message last came (reader) */
    int64_t idle_since;      /* when the stream first looked idle, or 0 (reader) */
    char idle_note[200];     /* why --idle-exit left with messages pending (reader) */
    char err[256];           /* broker_error (reader) */
    pthread_mutex_t mu;      /* held and fetching */
    struct held *held;       /* natsMsg * by record number: fetched, not settled */
    bool fetching;           /* until broker_end_fetch: hand-backs wait */
    pthread_mutex_t tick_mu; /* held while in-progress acks go out (broker_ack.c) */
    _Atomic uint64_t redelivered, returned;
    const struct key_spec *subject_key; /* --key subject:N (the caller's), or NULL */
};

/* broker_pub.c: a JetStream context that publishes asynchronously, and
 * what the server refused of it. */
struct publisher {
    jsCtx *js;
    const char *subject;
    atomic_uint failed; /* publishes refused or never acked */
    atomic_int status;  /* the first one's natsStatus, once text is set */
    char text[160];     /* the first one's error */
};

struct broker_sink {
    struct publisher out, rej; /* --to, --rejects-subject */
    struct sink_target results;
    char pub_err[200]; /* what results_sync failed with (the writer) */
    char *carry;       /* an output record not yet ended by its delimiter */
    size_t carry_len, carry_cap;
    pthread_mutex_t rej_mu; /* one rejects publisher at a time */
    char rej_err[200];      /* why the first one failed (under rej_mu) */
};

/* broker_ack.c: where settling reports and stops (broker_hook). */
struct broker_settle {
    struct run *run;
    struct reporter *rep;
    atomic_bool rejects_broken; /* --rejects-subject failed (reported) */
};

struct broker {
    const struct options *o;
    struct broker_conn conn;
    struct broker_source src;
    struct broker_sink pub;
    struct broker_settle settle;
};

/* broker_conn.c. Connects as the options say; 0, or -errno with one line
 * in msg (URLs shown redacted). */
int broker_conn_dial(struct broker *br, char *msg, size_t len);
/* A JetStream context on the connection, with the --nats-timeout wait and
 * a window of asynchronous publishes whose failures go to on_error. */
natsStatus broker_conn_js(struct broker *br, jsCtx **js, jsPubAckErrHandler on_error,
                          void *closure);
void broker_conn_flush(struct broker *br); /* sends what libnats buffers, if connected */
void broker_conn_free(struct broker *br);  /* the connection, then libnats itself */
/* "what: libnats's text" into msg, with the last error's details when
 * they are s's; returns -ENOMEM or -EIO. */
int broker_fail(char *msg, size_t len, natsStatus s, jsErrCode jerr, const char *what);

/* broker_pull.c: the stream and consumer of --from, and the subscription. */
int broker_src_open(struct broker *br, char *msg, size_t len);
void broker_src_free(struct broker *br); /* after broker_src_drain */

/* broker_ack.c: naks what is still held, once no other thread is left. */
void broker_src_drain(struct broker *br);

/* broker_pub.c */
natsStatus broker_pub_open(struct broker *br); /* the two publishers' contexts */
void broker_pub_free(struct broker *br);
/* Records i..i+n-1 of b to --rejects-subject, their acks awaited. False
 * when one was not acked (pub.rej_err then says why: written once, before
 * the first false). */
bool broker_pub_rejects(struct broker *br, const struct batch *b, size_t i, size_t n);

#endif
