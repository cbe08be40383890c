/* binlogfs — dependencies between transactions.
 *
 * Each transaction gets one number, `dep`: the newest earlier transaction
 * (by seq) it must wait for. Everything at or before dep must have
 * committed before it may start; everything after dep is independent of
 * it. Two sources of this number:
 *  - write sets (BlDepTracker): the last writer of any of its keys, or the
 *    last barrier (DDL, unanalysable statements, ...);
 *  - the source's own hints (BlHintTracker): MySQL last_committed, MariaDB
 *    group commit ids.
 * BlLevels turns deps into the critical path: how many transactions could
 * run at once with unlimited workers.
 */
#ifndef BINLOGFS_DEPEND_H
#define BINLOGFS_DEPEND_H

#include <binlogfs/trx.h>

G_BEGIN_DECLS

/* Must this transaction run alone (wait for all before, all after wait
 * for it)? DDL, statement DML, XA, non-transactional engines, temporary
 * tables, LOAD DATA, incidents, write sets too large to analyse. */
gboolean bl_trx_is_barrier(const BlTrx *t);
/* A short word for why (for logs and inspect), or NULL. */
const char *bl_trx_barrier_reason(const BlTrx *t);

typedef struct BlDepTracker BlDepTracker;
/* `capacity`: keys remembered; when the history is full it is forgotten
 * and the next transaction depends on everything before (memory bound). */
BlDepTracker *bl_dep_new(guint capacity);
void bl_dep_free(BlDepTracker *d);
/* The write-set dep of t (t->seq must increase by one each call). */
guint64 bl_dep_add(BlDepTracker *d, const BlTrx *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlDepTracker, bl_dep_free)

typedef struct {
    guint64 prev_seq;
    gint64 prev_sequence_number;
    guint64 base;
    guint64 prev_commit_id;
    gboolean prev_has_commit_id;
    guint64 group_dep;
} BlHintTracker;
void bl_hint_init(BlHintTracker *h);
/* The dep the source's hints allow (seq - 1 when there are none). A new
 * file (`new_file`) restarts MySQL's logical clock. */
guint64 bl_hint_dep(BlHintTracker *h, const BlTrx *t, gboolean new_file);

typedef struct BlLevels BlLevels;
BlLevels *bl_levels_new(void);
void bl_levels_free(BlLevels *l);
void bl_levels_add(BlLevels *l, guint64 seq, guint64 dep);
/* Length of the longest chain of dependent transactions so far. */
guint64 bl_levels_critical_path(const BlLevels *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlLevels, bl_levels_free)

G_END_DECLS

#endif
