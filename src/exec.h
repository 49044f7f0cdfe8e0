/* exec.h - the stage kinds that run COMMAND to completion: once per
 * record (-x, the default with a COMMAND) or once per block of records
 * (--pipe). See stage.h for the interface and child.h for the children. */
#ifndef WEIR_EXEC_H
#define WEIR_EXEC_H

struct stage_kind;

/* COMMAND once per record: records are taken one at a time, so that all
 * workers share them out. */
extern const struct stage_kind exec_kind;

/* COMMAND once per block (--pipe): a worker takes queued batches up to
 * --block (records and bytes) and they are joined into one. */
extern const struct stage_kind pipe_kind;

#endif
