/* broker.c - NATS JetStream as source and sink (see broker.h): puts the
 * parts together. broker_int.h lists the files and what each owns:
 * broker_conn.c the connection, broker_pull.c the source's pulls,
 * broker_ack.c its acks, broker_pub.c the publishers, held.c the ring of
 * held messages.
 *
 * broker_open and broker_free run with no other thread about; libnats's
 * threads come and go inside them. Locks (struct broker_source and struct
 * broker_sink): src.mu guards the held messages and taking them out;
 * src.tick_mu is held while in-progress acks go out, taken after src.mu;
 * pub.rej_mu makes the rejects' publishers take turns, alone. Acks, naks
 * and in-progress acks are sent outside src.mu. The figures are atomics. */
#include "broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_int.h"
#include "common.h"

/* The broker's three mutexes; 0 or -ENOMEM with none left initialised. */
static int init_locks(struct broker *br)
{
    if (sync_mutex_init(&br->src.mu) != 0)
        return -ENOMEM;
    if (sync_mutex_init(&br->src.tick_mu) != 0) {
        pthread_mutex_destroy(&br->src.mu);
        return -ENOMEM;
    }
    if (sync_mutex_init(&br->pub.rej_mu) != 0) {
        pthread_mutex_destroy(&br->src.tick_mu);
        pthread_mutex_destroy(&br->src.mu);
        return -ENOMEM;
    }
    return 0;
}

int broker_open(const struct options *o, struct chunk_pool *pool, size_t chunk_size,
                struct broker **out, char *msg, size_t len)
{
    struct broker *br = calloc(1, sizeof *br);
    if (!br || init_locks(br) != 0) {
        free(br);
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    br->o = o;
    br->src.pool = pool;
    br->src.chunk_size = chunk_size;
    int rc = broker_conn_dial(br, msg, len);
    if (rc == 0) {
        natsStatus s = broker_conn_js(br, &br->src.js, NULL, NULL);
        if (s == NATS_OK)
            s = broker_pub_open(br);
        if (s != NATS_OK)
            rc = broker_fail(msg, len, s, 0, "JetStream");
    }
    if (rc == 0 && o->nats_from)
        rc = broker_src_open(br, msg, len);
    if (rc == -ENOMEM)
        snprintf(msg, len, "out of memory");
    if (rc)
        broker_free(br); /* nothing is held yet: no naks */
    else
        *out = br;
    return rc;
}

void broker_figures(struct broker *br, struct broker_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!br)
        return;
    out->redelivered = atomic_load_explicit(&br->src.redelivered, memory_order_relaxed);
    out->returned = atomic_load_explicit(&br->src.returned, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&br->conn.reconnects, memory_order_relaxed);
}

void broker_free(struct broker *br)
{
    if (!br)
        return;
    broker_src_drain(br); /* what is still held goes back */
    broker_conn_flush(br);
    broker_src_free(br);
    broker_pub_free(br);
    broker_conn_free(br);
    pthread_mutex_destroy(&br->src.mu);
    pthread_mutex_destroy(&br->src.tick_mu);
    pthread_mutex_destroy(&br->pub.rej_mu);
    free(br);
}
