/* coproc.h - the co-process stage kind (--coproc): each worker keeps one
 * COMMAND running and writes it every record, reading back exactly one
 * delimited record per record sent. See coproc.c. */
#ifndef WEIR_COPROC_H
#define WEIR_COPROC_H

#include <stddef.h>

#include "stage.h"

extern const struct stage_kind coproc_kind;

/* Opens the stage into *impl (the co-process starts with the first
 * batch). 0 or -ENOMEM. */
int coproc_open(const struct stage_env *env, void **impl, char *msg, size_t msglen);

#endif
