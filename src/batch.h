/* batch.h - records in flight: reference-counted input chunks and batches
 * of record views into them.
 *
 * Ownership: a chunk is freed when its last reference is dropped; every
 * batch holds one reference to the chunk its records point into, and owns
 * the output buffer its stage wrote (never the chunk: the input stays as
 * read, so that rejects get what came in). A batch
 * has exactly one owner at a time (the reader, the queue, a worker, the
 * writer); handing it on hands on the duty to batch_free it. All
 * *_free(NULL) calls do nothing. Chunk reference counts are atomic; all
 * else is owned by one thread at a time. */
#ifndef WEIR_BATCH_H
#define WEIR_BATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chunk_pool;

struct chunk {
    struct chunk_pool *pool; /* returned here when unreferenced, or NULL */
    struct chunk *next;      /* link while pooled */
    size_t cap;              /* bytes usable in data[] */
    size_t len;              /* bytes filled (reader-owned) */
    atomic_int refs;         /* see chunk_ref/chunk_unref */
    char data[];
};

/* A chunk with one reference; NULL when out of memory. Chunks of the
 * pool's size come from the pool (warm memory, no page faults) when it has
 * one, and go back to it when their last reference goes. */
struct chunk *chunk_new(struct chunk_pool *pool, size_t cap);
void chunk_ref(struct chunk *c);
void chunk_unref(struct chunk *c);

/* Keeps up to `keep` free chunks of `size` bytes. Thread-safe. The pool
 * must outlive its chunks. NULL when out of memory. */
struct chunk_pool *chunk_pool_new(size_t size, size_t keep);
void chunk_pool_free(struct chunk_pool *pool);

/* A record: payload at chunk->data + off, len bytes; the delimiter follows
 * it unless this is the stream's last record and it had none. */
struct rec {
    uint32_t off;
    uint32_t len;
};

/* A piece of output: bytes the writer sends as they are. */
struct seg {
    const char *p;
    size_t len;
};

/* The records of a batch are consecutive in the input and contiguous in
 * their chunk: recs[i+1].off == recs[i].off + recs[i].len + 1. */
/* batch.keyed: the key is found at the pool's gate (0), or intake set it
 * (a message's subject) and it was found, or not (the empty key). */
enum { BATCH_KEY_LATER, BATCH_KEY_FOUND, BATCH_KEY_NONE };

/* How a COMMAND job failed a record: its last wait status (or -errno:
 * -ETIMEDOUT, -EFBIG) and the jobs run for it; for the rejects file. */
struct batch_fault {
    int status;
    unsigned attempts;
};

struct batch {
    struct batch *next;  /* link while queued */
    struct chunk *chunk; /* the records' bytes (one reference held) */
    struct rec *recs;    /* the records, n of them */
    size_t n;
    size_t bytes;     /* payload + delimiters of recs */
    uint64_t recno0;  /* record number of recs[0], 1-based */
    uint64_t piece;   /* output order: numbered when a worker takes it */
    int64_t t_in;     /* when the records were read (ns): timeouts count from here */
    int64_t t_queued; /* when they were admitted to the queue: latency counts from here */
    uint64_t key;     /* --key: the hash of its one record's key (lanes.h) */
    uint8_t keyed;    /* BATCH_KEY_*: key set by intake (subject:N), and whether found */
    bool open_end;    /* the last record lacks its delimiter */
    /* results, filled by the stage */
    struct seg *segs; /* output, in order: into chunk (records kept as they are) or obuf */
    size_t nsegs, segcap;
    char *obuf;                 /* bytes the stage made (upper, lower); see batch_reserve */
    size_t olen, ocap;          /* bytes used, allocated */
    struct chunk *ochunk;       /* the pooled chunk obuf lies in, or NULL when malloc'd */
    uint64_t n_done;            /* records processed */
    uint64_t n_failed;          /* records that failed in the stage */
    uint64_t n_timeouts;        /* of those, records whose job ran past --job-timeout */
    bool *failed;               /* which ones, when some but not all did (else NULL) */
    bool interrupted;           /* a stop signal cut the stage short at record `cut`: */
    size_t cut;                 /* failures from there on count as dropped, not failed */
    uint8_t reason;             /* enum reason of records shed whole (set by who sheds them) */
    struct batch_fault fault;   /* the failed job of a block (all its records) */
    struct batch_fault *faults; /* per record: the failed job of each marked in `failed` */
    uint64_t n_out;             /* records written out */
    uint64_t bytes_out;         /* sum of segs lengths */
};

/* A batch with room for `cap` records of chunk c (takes a new reference to
 * c). NULL when out of memory. */
struct batch *batch_new(struct chunk *c, size_t cap);
void batch_free(struct batch *b);

/* Splits the first k records (0 < k < b->n) off b into a new batch, which
 * shares b's chunk and times (only b's last record can lack a delimiter); b keeps the rest. NULL
 * when out of memory (b unchanged). */
struct batch *batch_split(struct batch *b, size_t k);

/* Gives b a right-sized chunk of its own when it fills less than half of
 * the one it points into, so that a few admitted records do not pin a big
 * chunk whose other records were shed. 0, or -ENOMEM with b unchanged. */
int batch_compact(struct batch *b);

/* The bytes of record i, delimiter included when present. */
static inline size_t batch_rec_size(const struct batch *b, size_t i)
{
    return b->recs[i].len + !(b->open_end && i + 1 == b->n);
}

/* Joins a list of consecutive batches (linked by ->next) into one, with a
 * chunk of its own holding their records; it takes the first one's
 * numbers and times. The list is consumed; a list of one is returned as
 * it is. NULL when out of memory (the list unchanged). */
struct batch *batch_join(struct batch *list);

/* Makes room for cap bytes in b->obuf, keeping its first b->olen bytes;
 * a buffer of a quarter chunk or more is a chunk from the pool of b's
 * chunk (warm memory). Segments point into it, so it must not move once
 * used: reserve all the output the batch can make before emitting from
 * it. Returns 0 or -ENOMEM (b unchanged). */
int batch_reserve(struct batch *b, size_t cap);

/* A stop signal cut b's stage short at record i (the first cut counts). */
static inline void batch_cut(struct batch *b, size_t i)
{
    if (!b->interrupted) {
        b->interrupted = true;
        b->cut = i;
    }
}

/* A failed record i of b was cut short by a stop signal (it counts as
 * dropped), rather than failed by its job. */
static inline bool batch_was_cut(const struct batch *b, size_t i)
{
    return b->interrupted && i >= b->cut;
}

/* Marks record i of b failed by its stage (b->failed, b->n_failed).
 * 0 or -ENOMEM. */
int batch_fail_record(struct batch *b, size_t i);
/* The same, for a record whose job failed as f says (b->faults). */
int batch_fail_job(struct batch *b, size_t i, struct batch_fault f);

/* Appends output segment [p, p+len) to b, merging with the previous one
 * when contiguous. Returns 0 or -ENOMEM. */
int batch_emit(struct batch *b, const char *p, size_t len);

#endif
