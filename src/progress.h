/* progress.h - the text of the --progress line: from the figures it shows
 * and the width it must fit in, to one line. Pure (no clock, no terminal,
 * no state), so any thread may call it and tests drive it directly. */
#ifndef WEIR_PROGRESS_H
#define WEIR_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_figures {
    double elapsed_s;                       /* since the run started */
    uint64_t input_size;                    /* bytes stdin holds from the start, 0: unknown */
    uint64_t input_done;                    /* of those, read so far */
    uint64_t records_in, bytes_in;          /* read so far */
    uint64_t records_out;                   /* written so far */
    double rate_in, byte_rate_in, rate_out; /* per second, over the last second or so */
    uint64_t queue_records, queue_capacity; /* queued now; the bound, 0: none in records */
    uint64_t shed, failed;                  /* records dropped or timed out; failed */
};

/* Writes the line for f into buf (len bytes, NUL-terminated) and returns
 * its length, at most width - 1 characters, so it never reaches a
 * terminal's last column and wraps. Full, it reads
 *   weir 0:02 54% ETA 0:02 | in 1.04M (10.8 MiB) 399k/s 4.3 MiB/s
 *   | out 1.0M 399k/s | queue 12/1024 | shed 0 failed 0
 * (share and ETA only when the input size is known). Narrower, it gives up
 * whole pieces, least useful first: the byte rate, the byte size, the
 * record rates, the elapsed time, the counts in and out, the ETA, the
 * share, the name. The queue, shed and failed counts stay; only a line
 * too narrow for them too is cut short on the right. */
size_t progress_compose(const struct progress_figures *f, unsigned width, char *buf, size_t len);

/* Seconds left when `share` (0..1] of the input took elapsed_s, rounded
 * up to the whole second (a second and less left shows as 0:01, not
 * 0:00); -1 when unknown (nothing done yet, or too far off to say). */
long progress_eta(double elapsed_s, double share);

#endif
