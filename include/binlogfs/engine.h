/* binlogfs — the replay engine: applies binlog files to a target server
 * over N connections in parallel, commit order preserved, exactly once.
 *
 * Threads: one feeder (reads files, groups transactions, computes
 * dependencies), one scheduler (the only one deciding what runs when), N
 * appliers (one connection each). They talk through queues. Frontends
 * (binlogfs replay, the FUSE mount) use only this header: they add files,
 * read snapshots, and send commands; they never touch the database.
 */
#ifndef BINLOGFS_ENGINE_H
#define BINLOGFS_ENGINE_H

#include <binlogfs/spec.h>
#include <binlogfs/target.h>

G_BEGIN_DECLS

#define BL_MAX_WORKERS 256
#define BL_BATCH_DEFAULT 64
#define BL_BATCH_MAX 256

typedef struct {
    BlTarget target;            /* borrowed for the engine's lifetime */
    guint workers;              /* 1..256; 0 = default */
    BlSpec start_at, stop_at;
    char *database;             /* --database: only this database; NULL = all */
    GArray *rewrites;           /* of BlRewrite; may be NULL */
    BlGtidSet *exclude_gtids;   /* may be NULL; borrowed */
    char *progress_table;       /* default "binlogfs.progress" */
    gsize memory_limit;         /* bytes of transactions in flight; 0 = default */
    char *tmpdir;               /* LOAD DATA files; NULL = g_get_tmp_dir() */
    gboolean follow;            /* keep running when files are exhausted (mount) */
    guint commit_window;        /* COMMITs in flight at once; 1 (default) keeps
                                   the source's commit order at every moment;
                                   N > 1 lets the target group its log flushes
                                   (transactions then become visible in
                                   source order only up to N at a time; resume
                                   stays exact) */
    guint batch;                /* source transactions committed as one target
                                   transaction at most (only on a target that
                                   keeps no binlog); 0 = default
                                   (BL_BATCH_DEFAULT), 1 = no batches */
    gboolean disable_log_bin;   /* every session runs with sql_log_bin=0: the
                                   replay is kept out of the target's binlog
                                   (as `mariadb-binlog -D`), so batches are
                                   allowed there too */
    /* called (from any engine thread, without engine locks held) with
     * each error line as added to the errors ("YYYY-MM-DD HH:MM:SS msg");
     * may be NULL */
    void (*on_error)(const char *line, gpointer data);
    gpointer on_error_data;
} BlEngineConfig;

typedef enum {
    BL_STATE_RUNNING,
    BL_STATE_IDLE,     /* everything given is applied */
    BL_STATE_WAITING,  /* the next file in sequence is missing */
    BL_STATE_PAUSED,
    BL_STATE_STOPPED,  /* the stop point is reached */
    BL_STATE_FAILED,
} BlEngineState;

const char *bl_engine_state_name(BlEngineState s);

typedef struct {
    char *name;
    guint64 size;
    char *state;  /* queued, reading, applied, failed, rejected */
    char *error;
} BlFileStatus;

/* A consistent copy of the engine's state; free with bl_snapshot_free. */
typedef struct {
    BlEngineState state;
    guint workers;
    char *file;          /* position: the last committed transaction's end */
    guint64 pos;
    char *gtid;
    guint64 applied, skipped, retried, failed;
    guint64 bytes_applied, bytes_total;
    guint64 trx_total;   /* transactions read so far (known total) */
    double trx_per_s, bytes_per_s;
    gint64 eta_s;        /* -1 unknown */
    char *waiting_for;
    char *last_error;
    GPtrArray *files;    /* of BlFileStatus* */
    gint64 started_us;
    /* the transaction replay is held at (state FAILED: the one that
     * failed; STOPPED: the first one at the stop point), held_file NULL
     * when none */
    char *held_file;
    guint64 held_start, held_end;
    char *held_gtid;
} BlSnapshot;

void bl_snapshot_free(BlSnapshot *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlSnapshot, bl_snapshot_free)

typedef struct BlEngine BlEngine;

/* Checks the target (connects once), creates the progress table if
 * needed and reads where a previous run stopped. Does not start threads.
 * Errors name the server and the user. */
BlEngine *bl_engine_new(const BlEngineConfig *config, GError **error);

/* Queues a complete binlog file. Files are applied in binlog sequence
 * order, whatever the order they are added in. A file that sorts before
 * the current position is rejected (error set) once the engine runs with
 * `follow`; before bl_engine_start, or without `follow`, it is taken as
 * applied by an earlier run (state "applied") and skipped. */
gboolean bl_engine_add_file(BlEngine *e, const char *path, GError **error);

/* Starts the threads. */
gboolean bl_engine_start(BlEngine *e, GError **error);

/* Blocks until the state is IDLE (and no file is pending), STOPPED or
 * FAILED (or WAITING when not following), or until timeout_us (-1 = no
 * timeout). Returns the state. */
BlEngineState bl_engine_wait(BlEngine *e, gint64 timeout_us);

BlSnapshot *bl_engine_snapshot(BlEngine *e);

/* The state of the queued file `name` as a snapshot would show it (a
 * static string: queued, reading, read, applied, failed, stopped,
 * skipped), or NULL when no file of that name is queued. */
const char *bl_engine_file_state(BlEngine *e, const char *name);

void bl_engine_set_workers(BlEngine *e, guint n);

/* Records on the target, in the progress table of `config`, that the
 * transaction of `file` ending at `end_pos` (GTID text `gtid`) is applied
 * without running it (`skip`): an engine started afterwards passes over
 * it. Call with no engine running on that target. Connects once. */
gboolean bl_engine_mark_skipped(const BlEngineConfig *config, const char *file, guint64 end_pos,
                                const char *gtid, GError **error);
void bl_engine_pause(BlEngine *e);
void bl_engine_resume(BlEngine *e);
/* Stops cleanly: no new transaction starts; those in flight commit or
 * roll back; then threads end. */
void bl_engine_shutdown(BlEngine *e);
void bl_engine_free(BlEngine *e);

G_END_DECLS

#endif
