/* intake.c - intake's interface and what its kinds share (see intake.h,
 * intake_int.h): the kind picked by the options, the reader thread's
 * frame (the kind's loop, then the queue closed), counting and admitting
 * fresh batches, and the warning for records longer than --max-record. */
#include "intake.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit.h"
#include "batch.h"
#include "intake_int.h"
#include "options.h"
#include "queue.h"
#include "report.h"
#include "stream.h"

#define OVERSIZE_WARNINGS 10 /* oversize records named on stderr */

int intake_new(const struct intake_config *cfg, struct intake **out)
{
    struct intake *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    in->cfg = *cfg;
    in->kind = cfg->broker ? &intake_nats : &intake_stdin;
    int rc = in->kind->open(in);
    if (rc) {
        free(in);
        return rc;
    }
    *out = in;
    return 0;
}

void intake_free(struct intake *in)
{
    if (!in)
        return;
    in->kind->close(in);
    free(in);
}

void *intake_main(void *arg)
{
    struct intake *in = arg;
    in->kind->run(in);
    queue_close(in->cfg.queue);
    return NULL;
}

int64_t intake_tick(struct intake *in, int64_t now)
{
    return in->kind->tick(in, now);
}

uint64_t intake_size(const struct intake *in)
{
    struct stat st;
    if (in->cfg.broker || fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
    return at >= 0 && st.st_size > at ? (uint64_t)(st.st_size - at) : 0;
}

void intake_figures(struct intake *in, struct intake_figures *out)
{
    out->records = atomic_load_explicit(&in->records, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&in->bytes, memory_order_relaxed);
    out->compressed = in->in && source_compressed(in->in);
    out->compressed_bytes = in->in ? source_compressed_bytes(in->in) : 0;
}

void intake_count(struct intake *in, uint64_t records, uint64_t bytes)
{
    atomic_fetch_add_explicit(&in->records, records, memory_order_relaxed);
    atomic_fetch_add_explicit(&in->bytes, bytes, memory_order_relaxed);
}

void intake_admit(struct intake *in, struct batch *b)
{
    intake_count(in, b->n, b->bytes);
    admit_batch(in->cfg.admit, b); /* once the run stops, the rest is shed the same way */
}

void intake_oversize(struct intake *in, uint64_t recno)
{
    if (in->oversize_seen++ < OVERSIZE_WARNINGS)
        report_warning("record %" PRIu64 " is longer than --max-record %zu bytes: failed%s", recno,
                       in->cfg.o->max_record,
                       in->oversize_seen == OVERSIZE_WARNINGS ? " (further ones not reported)"
                                                              : "");
}
