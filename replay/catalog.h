/* binlogfs — the target's keys for write sets (see catalog.c). Private
 * to the engine; used by the feeder thread only. */
#ifndef BINLOGFS_CATALOG_H
#define BINLOGFS_CATALOG_H

#include <binlogfs/rows.h>

typedef struct BlCatalog BlCatalog;
typedef struct BlEngine BlEngine;

/* Opens a connection of its own. NULL with an error naming the server. */
BlCatalog *bl_catalog_new(BlEngine *e, GError **error);
void bl_catalog_free(BlCatalog *cat);
/* Forget what is cached; the next read waits for job `ddl_seq` to commit. */
void bl_catalog_invalidate(BlCatalog *cat, guint64 ddl_seq);
/* A BlKeyLookup (trx.h): keys of tm's table on the target, PK first, then
 * unique keys, then foreign keys in their parent's key space; NULL when
 * unknown (no such table, columns differ, no unique key). Borrowed. */
const GArray *bl_catalog_keys(const BlTableMap *tm, gpointer catalog);

#endif
