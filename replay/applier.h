/* binlogfs — what the scheduler asks of the appliers beyond creating,
 * feeding and stopping them (engine-private.h). Private to the engine. */
#ifndef BINLOGFS_APPLIER_H
#define BINLOGFS_APPLIER_H

#include "engine-private.h"

/* How many jobs applier a takes in one batch (job.h): 1 (no batches)
 * when its target keeps a binlog. Constant for the applier's life. */
guint bl_applier_batch_max(const Applier *a);

/* Wakes the appliers whose wait for the commit order is over (call after
 * changing e->order outside applier.c). Takes order.lock. */
void bl_applier_wake(BlEngine *e);

#endif
