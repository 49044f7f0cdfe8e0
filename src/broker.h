/* broker.h - NATS JetStream in place of stdin and stdout: the only module
 * that uses libnats.
 *
 * Source (--from STREAM/CONSUMER): a durable pull consumer with explicit
 * acks. broker_fetch pulls at most what the caller has room for and makes
 * a batch of it, one record per message (its payload, then the
 * delimiter), numbered on from 1. Each message is held until its record's
 * outcome is final, then the settle hook the broker gave the shed
 * (broker_hook) acknowledges it (done, or shed to the rejects: ack), or
 * hands it back (nak: delivered again at once, to this process or
 * another). broker_tick keeps held messages alive with
 * in-progress acks; broker_free naks any still held. A process that dies
 * holds nothing: the server redelivers after the consumer's ack wait.
 *
 * Sinks: --to SUBJECT publishes each result record as a message, through a
 * sink_target (stream.h) whose sync waits for the JetStream publish acks;
 * --rejects-subject publishes shed records before they are acked.
 *
 * Thread-safe: the reader fetches, any thread settles, the writer
 * publishes, the main thread ticks. libnats reconnects by itself; a server
 * gone longer than --nats-timeout is an error. */
#ifndef WEIR_BROKER_H
#define WEIR_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "shed.h"

struct batch;
struct broker;
struct key_spec;
struct chunk_pool;
struct reporter;
struct run;
struct shed;
struct sink_target;

/* Connects and sets up what the options ask for (the stream and consumer
 * of --from, created when missing), before any input is read. 0, or
 * -errno with one line in msg (credentials never appear in it). Records
 * are made in chunks of chunk_size (from pool) or bigger. */
int broker_open(const struct options *o, struct chunk_pool *pool, size_t chunk_size,
                struct broker **out, char *msg, size_t msglen);
void broker_free(struct broker *br); /* naks what is still held; NULL is fine */

/* --key subject:N: each message fetched gets its key from its subject
 * (broker_fetch). key outlives br; other kinds of key are ignored. */
void broker_use_key(struct broker *br, const struct key_spec *key);

/* Fetches up to max_records messages (and about max_bytes), waiting up to
 * wait_ns for the first. *out is a batch of them (with --key subject:N, a
 * list of batches of one linked by ->next, each with its key: batch.h),
 * or NULL when none came.
 * Returns 0; BROKER_IDLE when none came for --idle-exit and the consumer
 * has none pending acknowledgement by another reader (those it waits for,
 * up to the ack wait); or -errno with broker_error() saying why (the
 * server gone past --nats-timeout). */
int broker_fetch(struct broker *br, size_t max_records, size_t max_bytes, int64_t wait_ns,
                 struct batch **out);
#define BROKER_IDLE 1
const char *broker_error(const struct broker *br);

/* After BROKER_IDLE: "" when the consumer had nothing left for anyone, or
 * one line saying what was still pending when the wait for the other
 * readers' messages (up to the ack wait and a margin) gave up. */
const char *broker_idle_note(const struct broker *br);

/* Makes the broker the shed's settle target (shed.h), before anything is
 * read: the final outcome of a --from record reaches its message from the
 * shed directly. Done: acked; rejected: published to --rejects-subject if
 * given, then acked; returned: naked (delivered again at once, here or
 * elsewhere; while fetching goes on, only once it ends, or they would
 * come straight back here). A --rejects-subject that fails is reported on
 * rep, once, and stops the run (RUN_ERROR: exit 1); the records it could
 * not keep are returned. Records not from the broker are ignored. */
void broker_hook(struct broker *br, struct shed *shed, struct run *run, struct reporter *rep);

/* The reader fetches no more: what was handed back goes to the stream. */
void broker_end_fetch(struct broker *br);

/* In-progress acks for messages held a third of the ack wait; the next
 * call is due at the returned time (ns). Any thread, now and then. */
int64_t broker_tick(struct broker *br, int64_t now);

/* The --to sink, or NULL without --to. */
const struct sink_target *broker_results(struct broker *br);

struct broker_figures {
    uint64_t redelivered; /* messages that had been delivered before */
    uint64_t returned;    /* messages handed back (nak) */
    uint64_t reconnects;  /* times the connection came back */
};
void broker_figures(struct broker *br, struct broker_figures *out); /* any thread */

#endif
