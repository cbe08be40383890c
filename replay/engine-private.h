/* binlogfs — the engine's shared state, private to replay/.
 *
 * Ownership and threads:
 *  - `files`, `state`, the counters and `last_error` are guarded by `lock`
 *    (read by snapshots from any thread);
 *  - `order` (the commit order) has its own lock: appliers wait on it for
 *    their turn to commit;
 *  - the scheduler's inbox is the only way to tell the scheduler anything.
 */
#ifndef BINLOGFS_ENGINE_PRIVATE_H
#define BINLOGFS_ENGINE_PRIVATE_H

#include <binlogfs/depend.h>
#include <binlogfs/engine.h>

#include "conn.h"
#include "job.h"
#include "progress-event.h"

#define BL_ORDER_RING 1024 /* > BL_MAX_WORKERS: jobs in flight at once */

typedef struct {
    GMutex lock;
    GCond cond;         /* the prefix moved (for the catalog: see waiters) */
    guint waiters;      /* threads waiting on cond: a broadcast is a system
                           call even when nobody waits, so commits skip it */
    guint64 committed;  /* every job with seq <= committed has committed (the prefix) */
    guint window;       /* COMMITs that may be in flight at once (1 = strict order) */
    gboolean done[BL_ORDER_RING];    /* committed beyond the prefix, by seq % ring */
    char *done_file[BL_ORDER_RING];  /* ... and where each ends */
    guint64 done_pos[BL_ORDER_RING];
    char *prefix_file;  /* end of the prefix's last job (NULL before any) */
    guint64 prefix_pos;
    guint64 abort_gen;  /* bumped to make appliers waiting for their turn roll back */
    guint64 abort_from; /* ... those whose seq > abort_from */
    guint64 failed_seq; /* a job that will never commit (0 = none) */
} BlOrder;

typedef enum {
    MSG_JOB,         /* feeder -> scheduler: job */
    MSG_FEED_END,    /* feeder -> scheduler: no more jobs (state says why) */
    MSG_DONE,        /* applier -> scheduler: job committed */
    MSG_FAILED,      /* applier -> scheduler: job failed for good */
    MSG_IDLE_WORKER, /* applier -> scheduler: ready for work (after start) */
    MSG_WAKE,        /* anyone -> scheduler: look at the state again */
} MsgKind;

typedef struct {
    MsgKind kind;
    Job *job;
    guint worker;
    BlEngineState end_state; /* MSG_FEED_END */
    char *error;             /* MSG_FAILED, MSG_FEED_END */
} Msg;

typedef struct FileEntry {
    char *path;
    char *name;      /* base name */
    guint64 size;
    char *state;     /* static string */
    char *error;
} FileEntry;

typedef struct Applier Applier;

struct BlEngine {
    BlEngineConfig cfg;
    char *progress_db, *progress_table;
    char **charset_by_id;    /* 65536 entries: charset name of a collation id */
    char **collation_by_id;  /* 65536 entries: collation name */
    gboolean target_is_mariadb;
    BlProgressLayout progress_layout; /* usable: progress updates as row events */

    GMutex lock;
    GCond changed;           /* state or counters changed */
    BlEngineState state;
    gboolean paused;
    gboolean shutting_down;
    GPtrArray *files;        /* FileEntry*, sorted by name */
    char *waiting_for;
    char *last_error;
    GPtrArray *errors;       /* char* lines */
    char *held_file;         /* the transaction replay is held at, or NULL */
    guint64 held_start, held_end;
    char *held_gtid;
    char *pos_file;
    guint64 pos;
    char *pos_gtid;
    guint64 applied, skipped, retried, failed;
    guint64 bytes_applied, bytes_total, trx_total;
    gint64 started_us;
    /* rate: exponential moving average over samples */
    gint64 rate_t;
    guint64 rate_trx, rate_bytes;
    double trx_per_s, bytes_per_s;
    /* resume point read from the progress table at start: everything up to
     * resume_file:resume_pos is applied, and so are the transactions
     * ending at the positions in resume_done ("file:pos") */
    char *resume_file;
    guint64 resume_pos;
    GHashTable *resume_done;

    gsize inflight_bytes;    /* bytes of jobs handed out and not committed */
    gsize mem_wanted;        /* the bytes the feeder waits to add to
                                inflight_bytes (0: it does not wait) */
    GCond mem_cond;          /* signalled when they fit (engine.c: mem_fits_locked),
                                or on shutdown */
    GCond feeder_cond;       /* new files, or shutdown */
    gboolean feeder_waiting; /* the feeder waits for a file */
    BlEngineState feed_end_state;

    guint workers_wanted;
    BlOrder order;
    GAsyncQueue *sched_inbox;
    GThread *feeder, *scheduler;
    Applier *appliers[BL_MAX_WORKERS];
    gboolean started;
};

/* feeder.c */
gpointer bl_feeder_main(gpointer engine);
/* Tells the feeder new files were added (it may be waiting). */
void bl_feeder_kick(BlEngine *e);

/* scheduler.c */
gpointer bl_scheduler_main(gpointer engine);
void bl_sched_send(BlEngine *e, MsgKind kind, Job *job, guint worker, const char *error);

/* applier.c */
Applier *bl_applier_new(BlEngine *e, guint index, GError **error);
/* Gives the applier a job (it owns it from now on). */
void bl_applier_push(Applier *a, Job *job);
/* Ask the applier to finish its current job and exit; joins. */
void bl_applier_stop(Applier *a);

/* progress.c */
gboolean bl_progress_setup(BlConn *c, const char *db, const char *table, GError **error);
/* Whether the progress table (made by bl_progress_setup) is exactly
 * binlogfs's, so that its updates may travel as row events; never fails
 * (the SQL update is the fallback). */
void bl_progress_layout(BlConn *c, const char *db, const char *table, BlProgressLayout *out);
/* Reads the resume point: *file:*pos = the greatest watermark (all
 * before it applied), *done = "file:pos" ends of transactions applied
 * beyond it, and (*last, *last_pos, *gtid) the greatest position applied. */
/* Records a skipped transaction: a row of its own (worker >= BL_MAX_WORKERS,
 * no watermark), so that a restart counts it applied. Rows of skipped
 * transactions the watermark has passed are deleted by bl_progress_read. */
gboolean bl_progress_mark_skipped(BlConn *c, const char *db, const char *table, const char *file,
                                  guint64 end_pos, const char *gtid, GError **error);
gboolean bl_progress_read(BlConn *c, const char *db, const char *table, char **file, guint64 *pos,
                          GHashTable *done, char **last, guint64 *last_pos, char **gtid, GError **error);
/* The progress update of job j, recording wm_file:wm_pos as the
 * watermark (every job up to there has committed). */
void bl_progress_sql(GString *out, const char *db, const char *table, guint worker, const Job *j,
                     const char *wm_file, guint64 wm_pos);
/* How binlogfs's own SQL statements on the progress table begin (NULL-
 * terminated; g_strfreev): a binlog written by a server binlogfs replayed
 * into holds them, and the feeder does not apply them. */
char **bl_progress_sql_heads(const char *db, const char *table);

/* The session's binlog switch, as sent (bl_conn_query takes the length:
 * sizeof - 1). */
#define BL_SQL_LOG_BIN_OFF "SET @@session.sql_log_bin=0"
#define BL_SQL_LOG_BIN_ON "SET @@session.sql_log_bin=1"

/* engine.c: for the threads */
/* A new connection to the target with the session every engine
 * connection needs (--disable-log-bin: sql_log_bin=0, kept over
 * reconnects and session resets). Fails as bl_conn_open, or when the
 * target refuses that setting. */
BlConn *bl_engine_connect(const BlEngineConfig *cfg, GError **error);
/* Whether what this session commits goes to the target's binlog:
 * @@global.log_bin and @@session.sql_log_bin (TRUE when unknown). */
gboolean bl_engine_session_logs(BlConn *c);
void bl_engine_record_error(BlEngine *e, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void bl_engine_set_state(BlEngine *e, BlEngineState s);
/* Job j committed: moves the prefix and the counters. Called by the job's
 * applier only, which then sends MSG_DONE or MSG_FAILED (that message, not
 * this call, wakes the scheduler). */
void bl_engine_committed(BlEngine *e, const Job *j);
void bl_engine_count_skipped(BlEngine *e, guint64 n);
/* Records the transaction replay is held at (failed, or at the stop
 * point): the one `skip` would skip. */
void bl_engine_hold(BlEngine *e, const Job *j);
void bl_engine_hold_trx(BlEngine *e, const char *file, const BlTrx *t);
void bl_engine_count_retry(BlEngine *e);
/* Bytes read that no transaction applied will count: skipped or applied
 * before transactions, and each file's events outside transactions; so
 * that bytes_applied reaches bytes_total. */
void bl_engine_count_passed_bytes(BlEngine *e, guint64 n);
const char *bl_engine_collation_charset(BlEngine *e, guint id);
const char *bl_engine_collation_name(BlEngine *e, guint id);
/* The job's bytes no longer count against the memory limit. */
void bl_engine_release(BlEngine *e, Job *j);
void bl_engine_release_bytes(BlEngine *e, gsize n);
/* A job's turn passed without committing anything (a streamed job rolled
 * back): later jobs may commit. By its applier, as bl_engine_committed. */
void bl_engine_passed(BlEngine *e, const Job *j);


#endif
