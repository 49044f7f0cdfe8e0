/* coproc.h - the co-process stage kind (--coproc): each worker keeps one
 * COMMAND running and writes it every record, reading back exactly one
 * delimited record per record sent. See coproc.c. */
#ifndef WEIR_COPROC_H
#define WEIR_COPROC_H

struct stage_kind;

/* The co-process starts with a worker's first batch; a worker takes as
 * many records at a time as may be written ahead of their replies. */
extern const struct stage_kind coproc_kind;

#endif
