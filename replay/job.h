/* binlogfs — a job: one source transaction ready to apply, as the feeder
 * builds it and an applier consumes it. Private to the engine.
 *
 * A job is a list of parts in order: raw row events (sent as BINLOG
 * statements), Query statements with their session context, and ready SQL
 * (SET INSERT_ID, user variables...). Ownership: the feeder creates a job,
 * hands it to the scheduler, which hands it to one applier, which frees it
 * after commit. A job above the streaming threshold is handed out before
 * it is complete; its parts then arrive through `stream` (see feeder.c).
 */
#ifndef BINLOGFS_JOB_H
#define BINLOGFS_JOB_H

#include <binlogfs/event.h>
#include <binlogfs/trx.h>

typedef enum {
    PART_ROWS,   /* raw events (Table_map + rows), concatenated */
    PART_QUERY,  /* a Query event: ctx + text */
    PART_SQL,    /* a ready statement */
    PART_END,    /* end of a streamed job (job->abort says how it ends) */
} PartKind;

/* The session context a Query event carries (mysqlbinlog prints it as
 * SET statements before the query). */
typedef struct {
    guint32 thread_id;
    guint32 timestamp;
    guint32 usec;
    gboolean has_usec;
    guint32 flags2;
    gboolean has_flags2;
    guint64 sql_mode;
    gboolean has_sql_mode;
    guint16 auto_increment_increment, auto_increment_offset;
    gboolean has_charset;
    guint16 charset_client, collation_connection, collation_server;
    char time_zone[64];
    guint16 lc_time_names;
    guint16 collation_database;
    char db[200];           /* after --rewrite-db */
    gboolean use_db;        /* USE db before it (no SUPPRESS_USE flag) */
    guint16 error_code;     /* expected error on the source (usually 0) */
    gboolean mariadb;       /* written by MariaDB: flags2 has its extra bits */
} QueryCtx;

typedef struct {
    PartKind kind;
    GByteArray *data;  /* PART_ROWS: events; PART_QUERY/PART_SQL: text */
    QueryCtx ctx;      /* PART_QUERY */
    char *load_file;   /* PART_QUERY of LOAD DATA: the local file to send */
} Part;

typedef struct Job Job;
struct Job {
    guint64 seq;           /* 1.. in apply order (consecutive over applied jobs) */
    guint64 dep;           /* may start when every job <= dep has committed */
    gboolean barrier;
    BlTrx *trx;            /* metadata (owned); for a streamed job, set
                              before its PART_END is pushed */
    BlGtid gtid;           /* known from the start, also when streamed */
    guint64 start_pos;
    BlTrxKind kind_hint;   /* kind as far as known when rendering starts */
    char *file;            /* binlog file base name */
    guint64 file_seq;      /* index of the file in the engine's sequence */
    char gtid_text[96];
    gboolean standalone;   /* no BEGIN/COMMIT around it (DDL, XA COMMIT) */
    gboolean xa_prepare;   /* ends with XA END + XA PREPARE, not COMMIT */
    gboolean non_transactional;
    gboolean pinned;       /* must run on the applier owning thread_id */
    guint32 pin_thread;
    GBytes *fde;           /* Format_description of its file (raw event) */
    gboolean rollback;     /* ends with ROLLBACK (non-transactional parts stay) */
    GPtrArray *parts;      /* of Part* */
    gsize bytes;           /* memory held by parts */
    /* streaming (huge transactions): the job is handed out before it is
     * complete, its further parts follow through `stream`, ended by a
     * PART_END; such a job cannot be retried */
    GAsyncQueue *stream;
    GPtrArray *head;       /* a streamed job's parts read before it was handed
                              out (the applier's); `parts` is then the feeder's */
    gboolean streaming;
    gboolean abort;        /* roll back at the end: the source never
                              committed it, or it is past the stop point */
    gboolean discard;      /* being read only to be skipped */
    gsize stream_pending;  /* bytes of parts not yet streamed */
    int attempts;
    char *annotate;        /* the first statement text logged with its row
                              events (Annotate_rows / Rows_query), for errors */
    Job *batch_next;       /* the next job of the same batch (see below), not
                              owned: each job of a batch is freed by itself */
};

/* Batches: consecutive jobs (in seq order) that one applier commits as a
 * single target transaction, when nothing can tell the difference (a
 * target without a binlog: there are no GTIDs to keep apart). Only plain
 * row transactions take part: not streamed, no barrier, no DDL, XA,
 * non-transactional table, temporary table, ROLLBACK or abort. */
#define BL_BATCH_MAX_BYTES (1u << 20)
gboolean bl_job_batchable(const Job *j);

Job *bl_job_new(void);
void bl_job_free(Job *j);
Part *bl_part_new(PartKind kind);
void bl_part_free(Part *p);

/* Appends raw event bytes to the job's last PART_ROWS (or a new one). */
void bl_job_add_rows(Job *j, const guint8 *data, gsize len);
Part *bl_job_add_sql(Job *j, const char *sql, gssize len);
Part *bl_job_add_query(Job *j, const QueryCtx *ctx, const char *sql, gsize len);

#endif
