/* exec.h - the stage kinds that run COMMAND to completion: once per
 * record (-x, the default with a COMMAND) or once per block of records
 * (--pipe). See stage.h for the interface and child.h for the children. */
#ifndef WEIR_EXEC_H
#define WEIR_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "stage.h"

extern const struct stage_kind exec_kind;

/* Opens a per-record (per_block false) or per-block stage into *impl.
 * 0 or -ENOMEM. */
int exec_open(const struct stage_env *env, bool per_block, void **impl);

#endif
