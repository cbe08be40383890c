/* binlogfs — appliers: one thread and one connection each.
 *
 * DESIGN: an applier takes a job from its inbox, sends its statements in
 * one multi-statement round trip, waits for its turn (every earlier job
 * committed, or with a commit window its slot: commit_slot_locked), then
 * sends the progress-row update and COMMIT; when its turn has already
 * come, body and commit go in the same round trip. Failures:
 * the one classification table (conn.c) says retry (deadlock, lock wait:
 * roll back and run again; the oldest job also makes later jobs waiting
 * for their turn roll back, since they may hold what it waits for),
 * conflict (a dependency the write sets missed: roll back, wait for the
 * turn, run again serially), reconnect (server gone: reconnect, check the
 * progress row to learn whether the commit happened, else run again), or
 * fatal (reported to the scheduler with file:pos, GTID, error and
 * statement).
 * A batch (job.h; targets without a binlog) is sent the same way as one
 * transaction and commits at the strict turn of its first job; when it
 * fails in any way its jobs run again one by one, so that failures and
 * retries stay those of single jobs.
 * A job whose first statement was logged without a default database
 * starts on a session that has none (leave_db).
 * Invariants: a job commits only at its commit slot (order.committed ==
 * seq - 1 with the default window of 1), and order.committed moves only
 * here; jobs that cannot be rolled back (DDL, non-transactional, XA,
 * ROLLBACK-terminated) start only at their turn.
 */
#include <stdio.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "applier.h"
#include "engine-private.h"
#include "progress-event.h"
#include "render.h"

#define MAX_RETRIES 10
#define BINLOG_STMT_MAX (4u << 20)
/* a batch is cut after the statement that takes it to this size */
#define BATCH_TEXT_MAX (4u << 20)
/* Memory of committed jobs is given back in chunks of this size, or when
 * the applier has nothing queued. */
#define RELEASE_CHUNK (256u << 10)

/* Each statement of a batch, for telling which one failed. */
typedef enum {
    STMT_NONE,   /* no statement to blame (a client-side failure) */
    STMT_OURS,   /* binlogfs's: GTID, START TRANSACTION, context, progress, COMMIT */
    STMT_SOURCE, /* the source's statement text */
    STMT_ROWS,   /* BINLOG of row events: quote the Annotate_rows text */
    STMT_FDE,    /* BINLOG of the Format_description event */
    STMT_PROGRESS, /* BINLOG of the progress row update (progress-event.c) */
} StmtKind;

typedef struct {
    gsize end;   /* offset after the statement in its buffer */
    StmtKind kind;
} StmtMark;

typedef enum { WAIT_NONE, WAIT_TURN, WAIT_SLOT } WaitKind;

struct Applier {
    BlEngine *e;
    guint index;
    GThread *thread;
    GAsyncQueue *inbox;
    BlConn *conn;
    BlSession session;
    GString *body, *tail;
    GArray *ends;   /* batch boundaries in body (see bl_render_rows) */
    GArray *flagless; /* scratch for expect_stmts */
    GArray *marks, *tail_marks; /* StmtMark of each statement of body, tail */
    GArray *tmp;    /* scratch offsets */
    GByteArray *rows; /* a batch's row events, concatenated */
    GByteArray *pev;  /* the progress row events being rendered */
    GBytes *fmt_fde;  /* the Format_description `fmt` was decoded from */
    BlFormat fmt;
    guint32 fmt_server_id; /* its header's */
    gboolean fmt_ok;
    /* waiting for the commit order (guarded by e->order.lock) */
    GCond cond;
    WaitKind wait;
    guint64 wait_seq, wait_gen, wait_prev;
    gboolean wait_abortable;
    StmtKind failed_kind;  /* the statement of the last failure */
    char *failed_text;     /* ... abbreviated (STMT_OURS, STMT_SOURCE) */
    guint64 prev_seq; /* the last job this applier committed */
    gboolean temp_tables;  /* the session may hold temporary tables (it ran
                              a pinned job since it connected) */
    gboolean target_binlog; /* the target logs what we apply (log_bin, sql_log_bin) */
    gboolean may_unlog;     /* the account may change sql_log_bin (BINLOG ADMIN) */
    gboolean unlogged;      /* the tail sent turns sql_log_bin off and on */
    gboolean no_db_refused; /* leaving the database with temporary tables
                               needs sql_log_bin=0, which was refused */
    gsize unreleased;       /* bytes of committed jobs not yet released */
};

static gboolean bl_applier_init_session(Applier *a, GError **error);
static char *describe_failure(Applier *a, Job *j, GError *error);
static gboolean target_kept_prefix(Applier *a, char **why);

typedef enum { RUN_OK, RUN_RETRY, RUN_CONFLICT, RUN_RECONNECT, RUN_FATAL, RUN_ABORTED } RunResult;

static gboolean at_turn(BlEngine *e, guint64 seq)
{
    g_mutex_lock(&e->order.lock);
    gboolean r = e->order.committed + 1 == seq;
    g_mutex_unlock(&e->order.lock);
    return r;
}

/* May job `seq` send its COMMIT now? With a window of 1, when every
 * earlier job has committed. With a window of N, when it is among the N
 * jobs after the committed prefix and this applier's previous job is
 * inside that prefix (so each progress row holds at most one transaction
 * beyond the watermark: resume stays exact). Earlier jobs need not have
 * sent their COMMIT: a job whose slot is open when its body is ready
 * sends body and COMMIT in one round trip. Commits may then reach the
 * server in any order within the window, so a target's binlog holds each
 * GTID at most N-1 places away from its source position. Caller holds
 * order.lock. */
static gboolean commit_slot_locked(const BlOrder *o, guint64 seq, guint64 prev)
{
    if (o->window <= 1)
        return o->committed + 1 == seq;
    return seq - o->committed <= o->window && prev <= o->committed;
}

/* Waiting for the commit order. DESIGN: each applier waits on its own
 * condition (a->cond, with order.lock), saying what it waits for, and
 * whoever changes the order (a commit, a COMMIT sent, an abort) signals
 * only the appliers whose wait is over: with one shared condition every
 * commit woke every waiting applier, a context switch each. (The catalog
 * still waits on order.cond, which the engine broadcasts at each commit
 * while it waits.) */
static gboolean wait_done_locked(const BlOrder *o, const Applier *a)
{
    if (a->wait == WAIT_TURN)
        return o->committed + 1 == a->wait_seq;
    return commit_slot_locked(o, a->wait_seq, a->wait_prev);
}

/* The wait is over: done, or the applier must roll back instead (an
 * earlier job asked for it, or will never commit). */
static gboolean wait_over_locked(const BlOrder *o, const Applier *a)
{
    return wait_done_locked(o, a) || (o->failed_seq && o->failed_seq < a->wait_seq) ||
           (a->wait_abortable && o->abort_gen != a->wait_gen && o->abort_from < a->wait_seq);
}

static void wake_locked(BlEngine *e)
{
    for (guint i = 0; i < BL_MAX_WORKERS; i++) {
        Applier *w = g_atomic_pointer_get(&e->appliers[i]);
        if (w && w->wait != WAIT_NONE && wait_over_locked(&e->order, w))
            g_cond_signal(&w->cond);
    }
}

void bl_applier_wake(BlEngine *e)
{
    g_mutex_lock(&e->order.lock);
    wake_locked(e);
    g_mutex_unlock(&e->order.lock);
}

/* Waits (when `wait`) until the wait is over; TRUE when it is done, FALSE
 * when the applier must roll back instead. Caller holds order.lock. */
static gboolean order_wait_locked(Applier *a, WaitKind kind, guint64 seq, guint64 gen0, gboolean abortable,
                                  gboolean wait)
{
    BlOrder *o = &a->e->order;
    a->wait = kind;
    a->wait_seq = seq;
    a->wait_gen = gen0;
    a->wait_prev = a->prev_seq;
    a->wait_abortable = abortable;
    while (wait && !wait_over_locked(o, a))
        g_cond_wait(&a->cond, &o->lock);
    gboolean ok = wait_done_locked(o, a);
    a->wait = WAIT_NONE;
    return ok;
}

/* Waits for the turn of `seq` (every earlier job committed); FALSE when
 * the applier must roll back instead. */
static gboolean wait_turn(Applier *a, guint64 seq, guint64 gen0, gboolean abortable)
{
    g_mutex_lock(&a->e->order.lock);
    gboolean ok = order_wait_locked(a, WAIT_TURN, seq, gen0, abortable, TRUE);
    g_mutex_unlock(&a->e->order.lock);
    return ok;
}

/* Waits for the commit slot (see above); FALSE when the applier must roll
 * back instead. Fills the watermark to record with the commit. */
static gboolean wait_commit_slot(Applier *a, guint64 seq, guint64 gen0, gboolean abortable, gboolean wait,
                                 char **wm_file, guint64 *wm_pos)
{
    BlOrder *o = &a->e->order;
    g_mutex_lock(&o->lock);
    gboolean ok = order_wait_locked(a, WAIT_SLOT, seq, gen0, abortable, wait);
    if (ok) {
        *wm_file = g_strdup(o->prefix_file);
        *wm_pos = o->prefix_pos;
    }
    g_mutex_unlock(&o->lock);
    return ok;
}

/* Job j committed (or, passed: its turn passed without a commit). */
static void committed(Applier *a, Job *j, gboolean passed)
{
    if (passed)
        bl_engine_passed(a->e, j);
    else
        bl_engine_committed(a->e, j);
    bl_applier_wake(a->e);
}

static guint64 abort_gen(BlEngine *e)
{
    g_mutex_lock(&e->order.lock);
    guint64 g = e->order.abort_gen;
    g_mutex_unlock(&e->order.lock);
    return g;
}

static void ask_later_to_abort(BlEngine *e, guint64 seq)
{
    g_mutex_lock(&e->order.lock);
    e->order.abort_from = seq;
    e->order.abort_gen++;
    wake_locked(e);
    g_mutex_unlock(&e->order.lock);
}

static gboolean must_start_at_turn(const Job *j)
{
    return j->standalone || j->non_transactional || j->xa_prepare || j->rollback || j->pinned ||
           j->barrier;
}

static void mark(GArray *marks, gsize end, StmtKind kind)
{
    StmtMark m = { end, kind };
    g_array_append_val(marks, m);
}

static void body_reset(Applier *a)
{
    g_string_truncate(a->body, 0);
    g_array_set_size(a->ends, 0);
    g_array_set_size(a->marks, 0);
    a->unlogged = FALSE; /* set by the tail that follows, if it is so */
}

static void render_part(Applier *a, const Part *p)
{
    GString *b = a->body;
    switch (p->kind) {
    case PART_ROWS: {
        guint n0 = a->ends->len;
        bl_render_rows(b, a->ends, &a->session, p->data->data, p->data->len, BINLOG_STMT_MAX);
        for (guint i = n0; i < a->ends->len; i++)
            mark(a->marks, g_array_index(a->ends, gsize, i), STMT_ROWS);
        break;
    }
    case PART_QUERY:
        g_array_set_size(a->tmp, 0);
        bl_render_query_ends(b, a->tmp, &a->session, &p->ctx, (const char *)p->data->data, p->data->len,
                             (const char *const *)a->e->charset_by_id, a->e->target_is_mariadb);
        for (guint i = 0; i < a->tmp->len; i++)
            mark(a->marks, g_array_index(a->tmp, gsize, i), i + 1 == a->tmp->len ? STMT_SOURCE : STMT_OURS);
        break;
    case PART_SQL:
        g_string_append_len(b, (const char *)p->data->data, p->data->len);
        g_string_append(b, ";\n");
        mark(a->marks, b->len, STMT_SOURCE);
        break;
    case PART_END:
        break;
    }
}

/* A statement's text for an error message: one line, at most 200 bytes
 * (not cutting a UTF-8 sequence), without its terminator. */
static char *abbreviate(const char *text, gsize len)
{
    while (len && (g_ascii_isspace(text[0]) || text[0] == ';'))
        text++, len--;
    while (len && (g_ascii_isspace(text[len - 1]) || text[len - 1] == ';'))
        len--;
    gsize n = MIN(len, 200u);
    while (n < len && n > 0 && ((guint8)text[n] & 0xC0) == 0x80)
        n--;
    GString *s = g_string_sized_new(n + 3);
    for (gsize k = 0; k < n; k++) {
        char c = text[k];
        g_string_append_c(s, c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    if (len > n)
        g_string_append(s, "...");
    return g_string_free(s, FALSE);
}

/* After a failed batch buf[start..]: remembers which of its statements
 * (marks) the server refused, for describe_failure. */
static void note_failure(Applier *a, const GString *buf, const GArray *marks, gsize start)
{
    a->failed_kind = STMT_NONE;
    g_clear_pointer(&a->failed_text, g_free);
    guint code = bl_conn_errno(a->conn);
    if (code == 0 || (code >= 2000 && code < 3000))
        return; /* the client's: no statement to blame */
    guint k = bl_conn_failed_statement(a->conn);
    gsize prev = start;
    for (guint i = 0; i < marks->len; i++) {
        const StmtMark *m = &g_array_index(marks, StmtMark, i);
        if (m->end <= start)
            continue;
        if (k == 0) {
            a->failed_kind = m->kind;
            if (m->kind == STMT_OURS || m->kind == STMT_SOURCE)
                a->failed_text = abbreviate(buf->str + prev, m->end - prev);
            return;
        }
        k--;
        prev = m->end;
    }
}

/* Tells the connection what the batch buf[start..end) holds: its
 * statements (marks) and which are BINLOG statements of row events. */
static void expect_stmts(Applier *a, const GArray *marks, gsize start, gsize end)
{
    guint n = 0;
    g_array_set_size(a->flagless, 0);
    for (guint i = 0; i < marks->len; i++) {
        const StmtMark *m = &g_array_index(marks, StmtMark, i);
        if (m->end <= start || m->end > end)
            continue;
        if (m->kind == STMT_ROWS || m->kind == STMT_PROGRESS)
            g_array_append_val(a->flagless, n);
        n++;
    }
    bl_conn_expect(a->conn, n, a->flagless);
}

/* Runs buf[start..end) as one batch; on failure, notes the statement. */
static gboolean query_batch(Applier *a, const GString *buf, const GArray *marks, gsize start, gsize end,
                            GError **error)
{
    expect_stmts(a, marks, start, end);
    if (bl_conn_query(a->conn, buf->str + start, end - start, error))
        return TRUE;
    note_failure(a, buf, marks, start);
    return FALSE;
}

static gboolean is_txn(const Job *j)
{
    return !j->standalone && !j->xa_prepare;
}

/* The progress row update as row events (progress-event.c), appended to
 * the tail, encoded for the Format_description the session has: FALSE
 * (nothing appended) when that cannot be done. */
static gboolean render_progress_events(Applier *a, Job *j, const char *wm_file, guint64 wm_pos)
{
    BlEngine *e = a->e;
    GBytes *fde = a->session.fde;
    if (!e->progress_layout.usable || !fde)
        return FALSE;
    if (!a->fmt_fde || !g_bytes_equal(a->fmt_fde, fde)) {
        g_clear_pointer(&a->fmt_fde, g_bytes_unref);
        gsize len;
        const guint8 *d = g_bytes_get_data(fde, &len);
        a->fmt_ok = bl_format_decode(d, len, &a->fmt, NULL);
        a->fmt_server_id = a->fmt_ok ? bl_u32(d + 5) : 0;
        a->fmt_fde = g_bytes_ref(fde);
    }
    if (!a->fmt_ok)
        return FALSE;
    gint64 now = g_get_real_time();
    BlProgressRow row = {
        .worker = (guint16)a->index,
        .file = j->file,
        .pos = j->trx->end_pos,
        .gtid = j->gtid_text,
        .wm_file = wm_file ? wm_file : "",
        .wm_pos = wm_pos,
        .updated_us = now + (gint64)e->progress_layout.utc_offset_s * G_USEC_PER_SEC,
    };
    g_byte_array_set_size(a->pev, 0);
    if (!bl_progress_events(a->pev, &e->progress_layout, &a->fmt, a->fmt_server_id,
                            (guint32)(now / G_USEC_PER_SEC), (guint32)MIN(j->trx->end_pos, G_MAXUINT32),
                            e->progress_db, e->progress_table, &row))
        return FALSE;
    g_string_append(a->tail, "BINLOG '");
    bl_base64_append(a->tail, a->pev->data, a->pev->len);
    g_string_append(a->tail, "';\n");
    return TRUE;
}

/* The tail: progress row, then COMMIT (or autocommit for what already
 * committed itself: DDL, XA PREPARE, ROLLBACK-terminated groups). */
static void render_tail(Applier *a, Job *j, const char *wm_file, guint64 wm_pos)
{
    GString *t = a->tail;
    g_string_truncate(t, 0);
    g_array_set_size(a->tail_marks, 0);
    if (j->rollback && is_txn(j)) {
        g_string_append(t, "ROLLBACK;\n");
        mark(a->tail_marks, t->len, STMT_OURS);
    }
    /* A progress update that commits by itself (after a DDL, XA PREPARE,
     * a ROLLBACK-terminated group) would be a transaction of its own in
     * the target's binlog, with the next sequence number of the source's
     * domain and server id: the same GTID as the source's next
     * transaction (gtid_strict_mode refuses that one then, ERROR 1950;
     * without it the GTID is logged twice). Kept out of the binlog. So is
     * the one of a non-transactional group (MyISAM, Aria: the source logged
     * it ending in a Query COMMIT): the target logs those changes at once,
     * as the group with the job's GTID, and the progress row (InnoDB)
     * would commit as a group of its own; it follows the COMMIT instead
     * (those changes were committed at their statement's end anyway). */
    gboolean commits = is_txn(j) && !j->rollback;
    gboolean nontrans = a->target_binlog && commits && j->non_transactional;
    if (nontrans) {
        g_string_append(t, "COMMIT;\n");
        mark(a->tail_marks, t->len, STMT_OURS);
    }
    gboolean unlogged = a->target_binlog && a->may_unlog && (!commits || nontrans);
    a->unlogged = unlogged;
    if (unlogged) {
        g_string_append(t, BL_SQL_LOG_BIN_OFF ";\n");
        mark(a->tail_marks, t->len, STMT_OURS);
    }
    if (render_progress_events(a, j, wm_file, wm_pos)) {
        mark(a->tail_marks, t->len, STMT_PROGRESS);
    } else {
        bl_progress_sql(t, a->e->progress_db, a->e->progress_table, a->index, j, wm_file, wm_pos);
        mark(a->tail_marks, t->len, STMT_OURS);
    }
    if (unlogged) {
        g_string_append(t, BL_SQL_LOG_BIN_ON ";\n");
        mark(a->tail_marks, t->len, STMT_OURS);
    }
    if (commits && !nontrans) {
        g_string_append(t, "COMMIT;\n");
        mark(a->tail_marks, t->len, STMT_OURS);
    }
}

/* Sets the session's isolation level for the next transaction when it is
 * not that already: once per session, not once per transaction. */
static void render_isolation(Applier *a, BlIsolation want)
{
    if (a->session.isolation == want)
        return;
    GString *b = a->body;
    if (want == BL_ISO_READ_COMMITTED)
        g_string_append(b, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;\n");
    else if (a->e->target_is_mariadb)
        g_string_append(b, "SET @@session.tx_isolation=@@global.tx_isolation;\n");
    else
        g_string_append(b, "SET @@session.transaction_isolation=@@global.transaction_isolation;\n");
    mark(a->marks, b->len, STMT_OURS);
    a->session.isolation = want;
}

static void render_body(Applier *a, Job *j)
{
    BlEngine *e = a->e;
    GString *b = a->body;
    body_reset(a);
    if (bl_render_fde(b, &a->session, j->fde))
        mark(a->marks, b->len, STMT_FDE);
    const BlGtid *g = &j->gtid;
    if (g->kind == BL_GTID_MARIADB && e->target_is_mariadb && a->target_binlog) {
        g_string_append_printf(b,
                               "SET @@session.gtid_domain_id=%u, @@session.server_id=%u, "
                               "@@session.gtid_seq_no=%" G_GUINT64_FORMAT ";\n",
                               g->domain_id, g->server_id, g->seq_no);
        mark(a->marks, b->len, STMT_OURS);
    } else if (g->kind == BL_GTID_MARIADB && e->target_is_mariadb && j->kind_hint != BL_TRX_ROWS) {
        /* nothing logged, so no GTID to give (and gtid_strict_mode checks
         * gtid_seq_no even then: a target whose binlog is ahead refuses
         * it under --disable-log-bin); a statement may still read
         * @@server_id or @@gtid_domain_id, as with mariadb-binlog's output */
        g_string_append_printf(b, "SET @@session.gtid_domain_id=%u, @@session.server_id=%u;\n", g->domain_id,
                               g->server_id);
        mark(a->marks, b->len, STMT_OURS);
    }
    /* every job sets it: a DDL or non-transactional statement after a row
     * transaction must not run at READ COMMITTED (statement logging) */
    render_isolation(a, is_txn(j) && j->kind_hint == BL_TRX_ROWS && !j->streaming ? BL_ISO_READ_COMMITTED
                                                                                   : BL_ISO_DEFAULT);
    if (is_txn(j)) {
        /* not BEGIN: under sql_mode=ORACLE it opens a PL/SQL block */
        g_string_append(b, "START TRANSACTION;\n");
        mark(a->marks, b->len, STMT_OURS);
    }
    if (g->kind == BL_GTID_MARIADB && (g->flags2 & BL_FL_PREPARED_XA) && g->has_xid) {
        g_autofree char *x = bl_xid_format(&g->xid);
        g_string_append_printf(b, "XA START %s;\n", x);
        mark(a->marks, b->len, STMT_OURS);
    }
    GPtrArray *parts = j->streaming ? j->head : j->parts;
    for (guint i = 0; i < parts->len; i++)
        render_part(a, g_ptr_array_index(parts, i));
}

/* Does the job's first statement need the session to have no default
 * database (it was logged without one) while it may have one? Later
 * statements of the same transaction cannot leave it: on the source, only
 * a stored procedure returning to a session without one does that. */
static gboolean needs_no_db(Applier *a, Job *j)
{
    GPtrArray *parts = j->streaming ? j->head : j->parts;
    for (guint i = 0; i < parts->len; i++) {
        Part *p = g_ptr_array_index(parts, i);
        if (p->kind == PART_QUERY)
            return bl_query_needs_no_db(&a->session, &p->ctx);
    }
    return FALSE;
}

/* Leaves the session's default database, before a job's transaction (both
 * ways end one). A session reset (COM_CHANGE_USER) is the way, but it
 * would drop the temporary tables the session may hold: then the session
 * makes a private database its default and drops it, which leaves none
 * (DDL, so not binlogged on a target with a binlog: sql_log_bin=0, where
 * the account may set it). */
static gboolean leave_db(Applier *a, GError **error)
{
    if (!a->temp_tables) {
        if (!bl_conn_reset_session(a->conn, error))
            return FALSE;
        bl_session_reset(&a->session);
        a->session.db = BL_DB_NONE;
        return bl_applier_init_session(a, error);
    }
    if (a->no_db_refused)
        return TRUE;
    g_autoptr(GString) sql = g_string_new(NULL);
    if (a->target_binlog && !bl_conn_query(a->conn, BL_SQL_LOG_BIN_OFF, sizeof BL_SQL_LOG_BIN_OFF - 1, error)) {
        if (bl_conn_errno(a->conn) != ER_SPECIFIC_ACCESS_DENIED_ERROR)
            return FALSE;
        g_clear_error(error);
        g_warning("worker %u: cannot set sql_log_bin=0 (%u): statements logged without a default "
                  "database run in the previous one while this session holds temporary tables",
                  a->index, bl_conn_errno(a->conn));
        a->no_db_refused = TRUE;
        return TRUE;
    }
    g_string_append_printf(sql,
                           "CREATE DATABASE IF NOT EXISTS `binlogfs_nodb_%u`; USE `binlogfs_nodb_%u`; "
                           "DROP DATABASE `binlogfs_nodb_%u`",
                           a->index, a->index, a->index);
    if (a->target_binlog)
        g_string_append(sql, "; " BL_SQL_LOG_BIN_ON);
    if (!bl_conn_query(a->conn, sql->str, sql->len, error)) {
        /* never go on with sql_log_bin=0 (if this fails too, the
         * connection is gone) */
        if (a->target_binlog)
            bl_conn_query(a->conn, BL_SQL_LOG_BIN_ON, sizeof BL_SQL_LOG_BIN_ON - 1, NULL);
        return FALSE;
    }
    a->session.db = BL_DB_NONE;
    return TRUE;
}

static RunResult classify(Applier *a, GError *error)
{
    if (!error)
        return RUN_OK;
    /* a statement before the isolation setting may have failed: set it
     * again on the next attempt */
    a->session.isolation = BL_ISO_UNKNOWN;
    RunResult r;
    switch (bl_server_classify(bl_conn_errno(a->conn))) {
    case BL_SERVER_RETRY: r = RUN_RETRY; break;
    case BL_SERVER_CONFLICT: r = RUN_CONFLICT; break;
    case BL_SERVER_RECONNECT: r = RUN_RECONNECT; break;
    default: r = RUN_FATAL; break;
    }
    /* a tail that failed between its sql_log_bin=0 and =1: what comes next
     * on this session must be logged (a new session is, by default) */
    if (a->unlogged && r != RUN_RECONNECT)
        bl_conn_query(a->conn, BL_SQL_LOG_BIN_ON, sizeof BL_SQL_LOG_BIN_ON - 1, NULL);
    a->unlogged = FALSE;
    return r;
}

/* Rolls back whatever transaction the session has open (its failure is
 * the next statement's). */
static void rollback(Applier *a)
{
    bl_conn_query(a->conn, "ROLLBACK", 8, NULL);
}

/* When the tail's first statement is the BINLOG of the progress row
 * events and the body ends with a BINLOG of row events, the progress
 * events join that statement (a BINLOG statement takes several base64
 * chunks, as mysqlbinlog writes them): one statement, one reply less per
 * transaction, unless that statement was sent already (the body's text
 * from `start` on was not). Returns the bytes of the tail now in the body
 * (0: none). */
static gsize join_progress(Applier *a, const GString *tail, gsize start)
{
    static const char head[] = "BINLOG '", end[] = "';\n";
    const gsize hl = sizeof head - 1, el = sizeof end - 1;
    if (!a->tail_marks->len || !a->marks->len)
        return 0;
    const StmtMark *first = &g_array_index(a->tail_marks, StmtMark, 0);
    StmtMark *body_last = &g_array_index(a->marks, StmtMark, a->marks->len - 1);
    GString *b = a->body;
    /* start: where the batch not yet sent begins (a statement boundary);
     * a body's large first part may have gone in a batch of its own */
    if (first->kind != STMT_PROGRESS || body_last->kind != STMT_ROWS || body_last->end != b->len || start >= b->len ||
        b->len < el || memcmp(b->str + b->len - el, end, el) != 0 || first->end < hl + el ||
        memcmp(tail->str, head, hl) != 0)
        return 0;
    g_string_truncate(b, b->len - el);
    g_string_append_c(b, '\n');
    g_string_append_len(b, tail->str + hl, (gssize)(first->end - hl));
    body_last->end = b->len;
    return first->end;
}

/* Sends the body in as few batches as the server takes: a batch is cut
 * after a BINLOG statement once it holds BATCH_TEXT_MAX bytes, so a
 * batch stays far below max_allowed_packet (16 MiB by default) whatever
 * the transaction's size. `tail` (progress row and COMMIT), when
 * given, joins the last batch. */
static gboolean send_body(Applier *a, const GString *tail, GError **error)
{
    gsize start = 0;
    for (guint i = 0; i <= a->ends->len; i++) {
        gboolean last = i == a->ends->len;
        gsize end = last ? a->body->len : g_array_index(a->ends, gsize, i);
        if (!last && end - start < BATCH_TEXT_MAX)
            continue;
        if (last && tail) {
            gsize skip = join_progress(a, tail, start);
            gsize base = a->body->len - skip;
            for (guint k = skip ? 1 : 0; k < a->tail_marks->len; k++) {
                const StmtMark *m = &g_array_index(a->tail_marks, StmtMark, k);
                mark(a->marks, base + m->end, m->kind);
            }
            g_string_append_len(a->body, tail->str + skip, (gssize)(tail->len - skip));
            end = a->body->len;
            expect_stmts(a, a->marks, start, end);
            if (!bl_conn_send(a->conn, a->body->str + start, end - start, error))
                return FALSE;
            if (bl_conn_finish(a->conn, error))
                return TRUE;
            note_failure(a, a->body, a->marks, start);
            return FALSE;
        }
        if (end > start && !query_batch(a, a->body, a->marks, start, end, error))
            return FALSE;
        start = end;
    }
    return TRUE;
}

/* Sends the tail as a batch of its own; on failure, notes the statement. */
static gboolean send_tail(Applier *a, GError **error)
{
    expect_stmts(a, a->tail_marks, 0, a->tail->len);
    if (!bl_conn_send(a->conn, a->tail->str, a->tail->len, error))
        return FALSE;
    if (bl_conn_finish(a->conn, error))
        return TRUE;
    note_failure(a, a->tail, a->tail_marks, 0);
    return FALSE;
}

/* One attempt. On failure *error is set and the transaction rolled back
 * (or the connection is gone). `*committing`: the failure hit the tail. */
static RunResult run_once(Applier *a, Job *j, gboolean serial, gboolean *committing, GError **error)
{
    BlEngine *e = a->e;
    *committing = FALSE;
    a->failed_kind = STMT_NONE;
    g_clear_pointer(&a->failed_text, g_free);
    if ((serial || must_start_at_turn(j)) && !wait_turn(a, j->seq, 0, FALSE))
        return RUN_ABORTED;
    guint64 gen = abort_gen(e);
    if (j->pinned)
        a->temp_tables = TRUE;
    if (needs_no_db(a, j) && !leave_db(a, error))
        return classify(a, *error);
    render_body(a, j);
    g_autofree char *wm_file = NULL;
    guint64 wm_pos = 0;
    if (wait_commit_slot(a, j->seq, gen, FALSE, FALSE, &wm_file, &wm_pos)) {
        /* its turn has come already: body and commit in one go */
        render_tail(a, j, wm_file, wm_pos);
        *committing = TRUE;
        if (!send_body(a, a->tail, error))
            return classify(a, *error);
        return RUN_OK;
    }
    if (!send_body(a, NULL, error))
        return classify(a, *error);
    if (!wait_commit_slot(a, j->seq, gen, TRUE, TRUE, &wm_file, &wm_pos)) {
        rollback(a);
        return RUN_ABORTED;
    }
    render_tail(a, j, wm_file, wm_pos);
    *committing = TRUE;
    if (!send_tail(a, error))
        return classify(a, *error);
    return RUN_OK;
}

/* Takes every remaining part of a streamed job (after a failure), so the
 * feeder is never left waiting for memory. */
static void drain_stream(Applier *a, Job *j)
{
    for (;;) {
        Part *p = g_async_queue_pop(j->stream);
        gboolean end = p->kind == PART_END;
        bl_engine_release_bytes(a->e, p->data->len + sizeof *p);
        bl_part_free(p);
        if (end)
            return;
    }
}

/* A streamed job: at its turn, the parts read so far, then each part as
 * it arrives, then the commit. It cannot be retried (its parts are gone);
 * a failure is final. */
static gboolean apply_streamed(Applier *a, Job *j, char **failure)
{
    BlEngine *e = a->e;
    GError *error = NULL;
    a->failed_kind = STMT_NONE;
    g_clear_pointer(&a->failed_text, g_free);
    if (!wait_turn(a, j->seq, 0, FALSE)) {
        drain_stream(a, j);
        *failure = NULL;
        return FALSE;
    }
    if (j->pinned)
        a->temp_tables = TRUE;
    gboolean ok = !needs_no_db(a, j) || leave_db(a, &error);
    if (ok) {
        render_body(a, j);
        ok = send_body(a, NULL, &error);
    }
    while (ok) {
        Part *p = g_async_queue_pop(j->stream);
        gsize n = p->data->len + sizeof *p;
        if (p->kind == PART_END) {
            bl_engine_release_bytes(e, n);
            bl_part_free(p);
            break;
        }
        body_reset(a);
        render_part(a, p);
        ok = send_body(a, NULL, &error);
        bl_engine_release_bytes(e, n);
        bl_part_free(p);
        if (!ok)
            drain_stream(a, j);
    }
    if (ok && j->abort) {
        bl_conn_query(a->conn, is_txn(j) ? "ROLLBACK" : "DO 0", is_txn(j) ? 8 : 4, NULL);
        committed(a, j, TRUE);
        return TRUE;
    }
    if (ok) {
        g_autofree char *wm_file = NULL;
        guint64 wm_pos = 0;
        wait_commit_slot(a, j->seq, 0, FALSE, TRUE, &wm_file, &wm_pos);
        render_tail(a, j, wm_file, wm_pos);
        ok = send_tail(a, &error);
    }
    if (!ok) {
        rollback(a);
        *failure = describe_failure(a, j, error);
        g_clear_error(&error);
        return FALSE;
    }
    committed(a, j, FALSE);
    a->prev_seq = j->seq;
    return TRUE;
}

/* After a reconnect: does the target still hold everything committed so
 * far? A target that restarted without durable commits
 * (innodb_flush_log_at_trx_commit != 1) may have lost some; carrying on
 * would leave a hole. The progress rows commit with the data, so they
 * tell what the target kept. */
static gboolean target_kept_prefix(Applier *a, char **why)
{
    BlEngine *e = a->e;
    g_autofree char *wm = NULL, *last = NULL, *gtid = NULL;
    guint64 wm_pos = 0, last_pos = 0;
    g_autoptr(GHashTable) done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!bl_progress_read(a->conn, e->progress_db, e->progress_table, &wm, &wm_pos, done, &last, &last_pos,
                          &gtid, NULL))
        return TRUE; /* cannot tell: the next statement will fail if the server is gone */
    g_mutex_lock(&e->order.lock);
    g_autofree char *pf = g_strdup(e->order.prefix_file);
    guint64 pp = e->order.prefix_pos;
    g_mutex_unlock(&e->order.lock);
    if (!pf)
        return TRUE;
    int c = last ? bl_binlog_name_cmp(last, pf) : -1;
    if (c > 0 || (c == 0 && last_pos >= pp))
        return TRUE;
    *why = g_strdup_printf("the target lost committed transactions while it was away: binlogfs had "
                           "committed up to %s:%" G_GUINT64_FORMAT ", the target now holds only up to %s:%"
                           G_GUINT64_FORMAT " (commits not durable: innodb_flush_log_at_trx_commit != 1?). "
                           "Run the same command again: it resumes from what the target kept",
                           pf, pp, last ? last : "(nothing)", last_pos);
    return FALSE;
}

/* After a lost connection during COMMIT: did it commit? */
static gboolean committed_before(Applier *a, Job *j)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT CONCAT(file, ':', pos) FROM `%s`.`%s` WHERE worker=%u", a->e->progress_db,
        a->e->progress_table, a->index);
    g_autofree char *v = NULL;
    if (!bl_conn_query_value(a->conn, sql, &v, NULL) || !v)
        return FALSE;
    g_autofree char *want = g_strdup_printf("%s:%" G_GUINT64_FORMAT, j->file, j->trx->end_pos);
    return g_str_equal(v, want);
}

/* "FILE:POS GTID G: ERROR ...; statement: ..." quoting the statement the
 * server refused (noted by note_failure), abbreviated. */
static char *describe_failure(Applier *a, Job *j, GError *error)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s:%" G_GUINT64_FORMAT, j->file, j->start_pos);
    if (j->gtid_text[0])
        g_string_append_printf(s, " GTID %s", j->gtid_text);
    g_string_append_printf(s, ": %s", error ? error->message : "failed");
    switch (a->failed_kind) {
    case STMT_SOURCE:
        g_string_append_printf(s, "; statement: %s", a->failed_text);
        break;
    case STMT_OURS:
        g_string_append_printf(s, "; statement (binlogfs's own): %s", a->failed_text);
        break;
    case STMT_ROWS:
        if (j->annotate) {
            g_autofree char *t = abbreviate(j->annotate, strlen(j->annotate));
            g_string_append_printf(s, "; statement (as logged with its rows): %s", t);
        } else {
            g_string_append(s, "; statement: BINLOG of row events (the source logged no statement text)");
        }
        break;
    case STMT_FDE:
        g_string_append_printf(s, "; statement: BINLOG of the Format_description event of %s", j->file);
        break;
    case STMT_PROGRESS:
        g_string_append_printf(s, "; statement (binlogfs's own): the update of its progress row in %s.%s, "
                               "as BINLOG row events", a->e->progress_db, a->e->progress_table);
        break;
    case STMT_NONE:
        break;
    }
    return g_string_free(s, FALSE);
}

/* After a lost connection: connects again and checks that the target
 * kept what was committed. FALSE with *failure when replay cannot go on
 * (j: the earliest job in hand). */
static gboolean reconnect(Applier *a, Job *j, char **failure)
{
    BlEngine *e = a->e;
    GError *rc = NULL;
    bl_session_reset(&a->session);
    if (!bl_conn_reconnect(a->conn, &rc)) {
        *failure = describe_failure(a, j, rc);
        g_error_free(rc);
        return FALSE;
    }
    a->temp_tables = FALSE; /* gone with the old connection */
    bl_applier_init_session(a, NULL);
    char *why = NULL;
    if (!target_kept_prefix(a, &why)) {
        *failure = why;
        g_mutex_lock(&e->order.lock);
        if (!e->order.failed_seq || e->order.failed_seq > j->seq)
            e->order.failed_seq = j->seq; /* nothing later may commit */
        g_cond_broadcast(&e->order.cond);
        wake_locked(e);
        g_mutex_unlock(&e->order.lock);
        return FALSE;
    }
    return TRUE;
}

/* Applies a job until it commits or fails for good. */
static gboolean apply(Applier *a, Job *j, char **failure)
{
    BlEngine *e = a->e;
    if (j->streaming)
        return apply_streamed(a, j, failure);
    gboolean serial = FALSE;
    for (int attempt = 0;; attempt++) {
        GError *error = NULL;
        gboolean committing;
        RunResult r = run_once(a, j, serial, &committing, &error);
        if (r == RUN_OK) {
            committed(a, j, FALSE);
            a->prev_seq = j->seq;
            return TRUE;
        }
        if (r == RUN_ABORTED) {
            g_mutex_lock(&e->order.lock);
            gboolean doomed = e->order.failed_seq && e->order.failed_seq < j->seq;
            g_mutex_unlock(&e->order.lock);
            if (doomed) {
                *failure = NULL; /* rolled back: an earlier job failed */
                return FALSE;
            }
            serial = TRUE; /* run again after the earlier job */
            bl_engine_count_retry(e);
            continue;
        }
        if (r == RUN_RECONNECT) {
            if (!reconnect(a, j, failure)) {
                g_clear_error(&error);
                return FALSE;
            }
            if (committing && committed_before(a, j)) {
                g_clear_error(&error);
                committed(a, j, FALSE);
                a->prev_seq = j->seq;
                return TRUE;
            }
        } else {
            rollback(a);
        }
        if (attempt >= MAX_RETRIES || r == RUN_FATAL || (r == RUN_CONFLICT && serial)) {
            *failure = describe_failure(a, j, error);
            g_clear_error(&error);
            return FALSE;
        }
        if (r == RUN_RETRY && at_turn(e, j->seq))
            ask_later_to_abort(e, j->seq);
        if (r == RUN_CONFLICT || r == RUN_RETRY)
            serial = TRUE;
        g_debug("worker %u: %s:%" G_GUINT64_FORMAT " retried after: %s", a->index, j->file,
                j->start_pos, error ? error->message : "?");
        g_clear_error(&error);
        bl_engine_count_retry(e);
        if (r == RUN_RETRY)
            g_usleep(1000 * (1u << MIN(attempt, 8)));
    }
}

/* One attempt at a batch (job.h) as one target transaction: the row
 * events of all its jobs in as few BINLOG statements as the size allows,
 * then, at the strict turn of its first job (every job before it
 * committed, whatever the commit window), the progress row and COMMIT.
 * The progress row names the last job, with the end of the job before it
 * as the watermark: when the row becomes visible, every job up to there
 * has committed (those before the batch earlier, the batch's in this
 * transaction), which is what committing them one by one would record,
 * so resume stays exact. On failure the transaction is rolled back (or
 * the connection is gone). */
static RunResult run_batch(Applier *a, Job *first, Job *last, const Job *before_last, gboolean *committing,
                           GError **error)
{
    BlEngine *e = a->e;
    *committing = FALSE;
    a->failed_kind = STMT_NONE;
    g_clear_pointer(&a->failed_text, g_free);
    guint64 gen = abort_gen(e);
    GString *b = a->body;
    body_reset(a);
    if (bl_render_fde(b, &a->session, first->fde))
        mark(a->marks, b->len, STMT_FDE);
    render_isolation(a, BL_ISO_READ_COMMITTED);
    g_string_append(b, "START TRANSACTION;\n");
    mark(a->marks, b->len, STMT_OURS);
    g_byte_array_set_size(a->rows, 0);
    for (Job *j = first; j; j = j->batch_next)
        for (guint i = 0; i < j->parts->len; i++) {
            const Part *p = g_ptr_array_index(j->parts, i);
            g_byte_array_append(a->rows, p->data->data, p->data->len);
        }
    guint n0 = a->ends->len;
    bl_render_rows(b, a->ends, &a->session, a->rows->data, a->rows->len, BINLOG_STMT_MAX);
    for (guint i = n0; i < a->ends->len; i++)
        mark(a->marks, g_array_index(a->ends, gsize, i), STMT_ROWS);
    if (!send_body(a, NULL, error))
        return classify(a, *error);
    if (!wait_turn(a, first->seq, gen, TRUE)) {
        rollback(a);
        return RUN_ABORTED;
    }
    render_tail(a, last, before_last->file, before_last->trx->end_pos);
    *committing = TRUE;
    if (!send_tail(a, error))
        return classify(a, *error);
    return RUN_OK;
}

static void release_free(Applier *a, Job *j)
{
    bl_engine_release(a->e, j);
    bl_job_free(j);
}

/* Applies a batch: as one transaction, or, when that fails in any way,
 * job by job, so that an error names its own transaction and retries are
 * bounded as usual. Frees every job that committed, and those after one
 * that failed for good; returns that one (with *failure, NULL when it
 * was only rolled back because an earlier job failed), or NULL when all
 * committed. */
static Job *apply_batch(Applier *a, Job *first, char **failure)
{
    BlEngine *e = a->e;
    Job *last = first, *before_last = first;
    while (last->batch_next) {
        before_last = last;
        last = last->batch_next;
    }
    GError *error = NULL;
    gboolean committing;
    RunResult r = run_batch(a, first, last, before_last, &committing, &error);
    gboolean done = r == RUN_OK;
    if (r == RUN_RECONNECT) {
        if (!reconnect(a, first, failure)) {
            g_clear_error(&error);
            for (Job *j = first->batch_next, *next; j; j = next) {
                next = j->batch_next;
                release_free(a, j);
            }
            first->batch_next = NULL;
            return first;
        }
        done = committing && committed_before(a, last);
    } else if (r != RUN_OK && r != RUN_ABORTED) {
        rollback(a);
    }
    if (done) {
        gsize bytes = 0;
        for (Job *j = first; j; j = j->batch_next) {
            bl_engine_committed(e, j);
            bytes += j->bytes;
            j->bytes = 0;
        }
        bl_applier_wake(e);
        a->prev_seq = last->seq;
        /* at once: the feeder, waiting for memory, wakes once, not per job */
        bl_engine_release_bytes(e, bytes);
    } else {
        g_debug("worker %u: batch %s:%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT " applied one by one after: %s",
                a->index, first->file, first->start_pos, last->start_pos, error ? error->message : "abort");
        bl_engine_count_retry(e);
    }
    g_clear_error(&error);
    for (Job *j = first, *next; j; j = next) {
        next = j->batch_next;
        j->batch_next = NULL;
        if (!done && !apply(a, j, failure)) {
            for (Job *k = next, *after; k; k = after) {
                after = k->batch_next;
                release_free(a, k);
            }
            return j;
        }
        release_free(a, j);
    }
    return NULL;
}

guint bl_applier_batch_max(const Applier *a)
{
    if (a->target_binlog)
        return 1;
    return a->e->cfg.batch ? MIN(a->e->cfg.batch, BL_BATCH_MAX) : BL_BATCH_DEFAULT;
}

static gpointer applier_main(gpointer data)
{
    Applier *a = data;
    for (;;) {
        Job *j = g_async_queue_pop(a->inbox);
        if (j == (Job *)a)
            break;
        if (j->batch_next) {
            char *failure = NULL;
            Job *failed = apply_batch(a, j, &failure);
            if (failed)
                bl_sched_send(a->e, MSG_FAILED, failed, a->index, failure);
            else
                bl_sched_send(a->e, MSG_DONE, NULL, a->index, NULL);
            g_free(failure);
            continue;
        }
        char *failure = NULL;
        gboolean ok = apply(a, j, &failure);
        if (ok) {
            /* released in chunks: every release wakes the feeder */
            a->unreleased += j->bytes;
            j->bytes = 0;
            if (a->unreleased >= RELEASE_CHUNK || g_async_queue_length(a->inbox) <= 0) {
                bl_engine_release_bytes(a->e, a->unreleased);
                a->unreleased = 0;
            }
            bl_sched_send(a->e, MSG_DONE, NULL, a->index, NULL);
            bl_job_free(j);
        } else {
            bl_engine_release(a->e, j);
            bl_sched_send(a->e, MSG_FAILED, j, a->index, failure);
            g_free(failure);
        }
    }
    if (a->unreleased)
        bl_engine_release_bytes(a->e, a->unreleased);
    mysql_thread_end();
    return NULL;
}

/* The applier's own session settings, on every new or reset session.
 * Failures are logged (and returned when error is given). */
static gboolean bl_applier_init_session(Applier *a, GError **error)
{
    static const char init[] =
        "SET @@session.pseudo_slave_mode=1, @@session.innodb_lock_wait_timeout=10, "
        "@@session.max_statement_time=0";
    GError *local = NULL;
    if (!bl_conn_query(a->conn, init, sizeof init - 1, &local)) {
        g_warning("worker %u: %s", a->index, local->message);
        g_propagate_error(error, local);
        return FALSE;
    }
    /* A MariaDB target that keeps a binlog would annotate the row events
     * of each BINLOG statement with that statement's own text: the whole
     * base64 again, doubling what its binlog writes, and useless to read.
     * Not fatal when refused (only the binlog's size suffers). */
    static const char no_annotate[] = "SET @@session.binlog_annotate_row_events=0";
    if (a->e->target_is_mariadb && !bl_conn_query(a->conn, no_annotate, sizeof no_annotate - 1, &local)) {
        if (bl_conn_errno(a->conn) == 0 || bl_server_classify(bl_conn_errno(a->conn)) == BL_SERVER_RECONNECT) {
            g_propagate_error(error, local);
            return FALSE;
        }
        g_debug("worker %u: %s (the target's binlog keeps BINLOG statements as annotations)", a->index,
                local->message);
        g_clear_error(&local);
    }
    return TRUE;
}

Applier *bl_applier_new(BlEngine *e, guint index, GError **error)
{
    BlConn *c = bl_engine_connect(&e->cfg, error);
    if (!c)
        return NULL;
    g_autofree char *label = g_strdup_printf("worker %u", index);
    bl_conn_set_label(c, label);
    Applier *a = g_new0(Applier, 1);
    a->e = e;
    a->index = index;
    a->conn = c;
    a->inbox = g_async_queue_new();
    a->body = g_string_sized_new(1 << 16);
    a->tail = g_string_sized_new(256);
    a->ends = g_array_new(FALSE, FALSE, sizeof(gsize));
    a->flagless = g_array_new(FALSE, FALSE, sizeof(guint));
    a->marks = g_array_new(FALSE, FALSE, sizeof(StmtMark));
    a->tail_marks = g_array_new(FALSE, FALSE, sizeof(StmtMark));
    a->tmp = g_array_new(FALSE, FALSE, sizeof(gsize));
    a->rows = g_byte_array_new();
    a->pev = g_byte_array_new();
    g_cond_init(&a->cond);
    bl_applier_init_session(a, NULL);
    a->target_binlog = bl_engine_session_logs(c);
    /* Without BINLOG ADMIN (or SUPER) the account replays as the pipe
     * would, and the tails that would leave the binlog stay in it: the
     * progress set-up has warned (progress.c). Setting the value the
     * session has is the test. */
    a->may_unlog = a->target_binlog && (bl_conn_query(c, BL_SQL_LOG_BIN_ON, sizeof BL_SQL_LOG_BIN_ON - 1, NULL) ||
                                        bl_conn_errno(c) != ER_SPECIFIC_ACCESS_DENIED_ERROR);
    char name[16];
    g_snprintf(name, sizeof name, "applier-%u", index);
    a->thread = g_thread_new(name, applier_main, a);
    return a;
}

void bl_applier_push(Applier *a, Job *job)
{
    g_async_queue_push(a->inbox, job);
}

void bl_applier_stop(Applier *a)
{
    if (!a)
        return;
    g_async_queue_push(a->inbox, a); /* the applier itself is the end marker */
    g_thread_join(a->thread);
    g_async_queue_unref(a->inbox);
    bl_conn_free(a->conn);
    bl_session_reset(&a->session);
    g_string_free(a->body, TRUE);
    g_string_free(a->tail, TRUE);
    g_array_unref(a->ends);
    g_array_unref(a->flagless);
    g_array_unref(a->marks);
    g_array_unref(a->tail_marks);
    g_array_unref(a->tmp);
    g_byte_array_unref(a->rows);
    g_byte_array_unref(a->pev);
    if (a->fmt_fde)
        g_bytes_unref(a->fmt_fde);
    g_cond_clear(&a->cond);
    g_free(a->failed_text);
    g_free(a);
}
