/* binlogfs — the replay engine's public face: configuration, files,
 * threads, snapshots and commands (see include/binlogfs/engine.h).
 *
 * DESIGN: bl_engine_new checks the target with one connection (so a bad
 * password or socket is reported before anything starts), creates the
 * progress table and reads the resume point, and loads the target's
 * collation names. Threads start in bl_engine_start. Everything the
 * frontends read comes from bl_engine_snapshot, a copy made under the
 * engine lock: a status read never waits for the database.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mariadb/mysqld_error.h>

#include "engine-private.h"

#define DEFAULT_WORKERS 8
#define DEFAULT_MEMORY (64u << 20)
#define MEM_SLACK_MAX (4u << 20) /* mem_fits_locked */

const char *bl_engine_state_name(BlEngineState s)
{
    static const char *const names[] = { "running", "idle", "waiting", "paused", "stopped", "failed" };
    return s < G_N_ELEMENTS(names) ? names[s] : "?";
}

static gboolean load_collations(BlEngine *e, BlConn *c, GError **error)
{
    static const char sql[] = "SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS";
    MYSQL *m = bl_conn_mysql(c);
    if (mysql_real_query(m, sql, sizeof sql - 1) != 0) {
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "cannot read the target's collations: ERROR %u: %s",
                    mysql_errno(m), mysql_error(m));
        return FALSE;
    }
    MYSQL_RES *res = mysql_store_result(m);
    e->charset_by_id = g_new0(char *, 65536);
    e->collation_by_id = g_new0(char *, 65536);
    MYSQL_ROW row;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        if (!row[0] || !row[1] || !row[2])
            continue;
        guint64 id = g_ascii_strtoull(row[0], NULL, 10);
        if (id >= 65536)
            continue;
        e->charset_by_id[id] = g_strdup(row[1]);
        e->collation_by_id[id] = g_strdup(row[2]);
    }
    if (res)
        mysql_free_result(res);
    return TRUE;
}

/* The progress table's name (the configured one or binlogfs.progress)
 * split into *db and *table (new strings). */
static gboolean split_table(const BlEngineConfig *config, char **db, char **table, GError **error)
{
    const char *name = config->progress_table ? config->progress_table : "binlogfs.progress";
    const char *dot = strchr(name, '.');
    if (!dot || dot == name || !dot[1] || strchr(dot + 1, '.') || strchr(name, '`')) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "progress table '%s' must be DB.TABLE", name);
        return FALSE;
    }
    *db = g_strndup(name, (gsize)(dot - name));
    *table = g_strdup(dot + 1);
    return TRUE;
}

BlConn *bl_engine_connect(const BlEngineConfig *cfg, GError **error)
{
    BlConn *c = bl_conn_open(&cfg->target, error);
    if (!c || !cfg->disable_log_bin)
        return c;
    GError *local = NULL;
    if (!bl_conn_session_sql(c, BL_SQL_LOG_BIN_OFF, &local)) {
        gboolean denied = bl_conn_errno(c) == ER_SPECIFIC_ACCESS_DENIED_ERROR;
        g_set_error(error, BL_ERROR, local->code,
                    "--disable-log-bin: %s cannot keep its sessions out of the target's binlog%s: %s",
                    bl_conn_describe(c),
                    denied ? " (SET sql_log_bin=0 needs a privilege the account lacks: on MariaDB "
                             "BINLOG ADMIN or SUPER)"
                           : "",
                    local->message);
        g_error_free(local);
        bl_conn_free(c);
        return NULL;
    }
    return c;
}

gboolean bl_engine_session_logs(BlConn *c)
{
    g_autofree char *v = NULL;
    if (!bl_conn_query_value(c, "SELECT @@global.log_bin AND @@session.sql_log_bin", &v, NULL) || !v)
        return TRUE;
    return !g_str_equal(v, "0");
}

/* A target that keeps a binlog and flushes its logs at every commit,
 * fed in the source's commit order (a window of 1), applies about one
 * transaction per log flush whatever the number of workers: the flushes
 * are the replay's speed (doc/benchmarks.md, run 8). Said once, with the
 * way out, where the DBA will look when the replay seems slow. */
static void note_flush_bound(const BlEngine *e, BlConn *c)
{
    if (e->order.window > 1)
        return;
    g_autofree char *v = NULL;
    if (!bl_conn_query_value(c,
                             "SELECT CONCAT((@@global.log_bin AND @@session.sql_log_bin) + 0, ' ', "
                             "@@global.sync_binlog + 0, ' ', "
                             "@@global.innodb_flush_log_at_trx_commit + 0)",
                             &v, NULL) || !v)
        return;
    unsigned log_bin = 0, sync = 0, flush = 0;
    if (sscanf(v, "%u %u %u", &log_bin, &sync, &flush) != 3 || !log_bin || (sync != 1 && flush != 1))
        return;
    g_message("the target keeps a binlog and flushes its logs at every commit (sync_binlog=%u, "
              "innodb_flush_log_at_trx_commit=%u), and commits come one at a time in the source's order: "
              "expect about one transaction per log flush, whatever --workers says. --commit-window=N lets "
              "N commits share a flush (the target's binlog then holds each GTID less than N places from "
              "its source position: doc/replay.md); --disable-log-bin keeps the replay out of the "
              "target's binlog and lets consecutive transactions share one commit",
              sync, flush);
}

BlEngine *bl_engine_new(const BlEngineConfig *config, GError **error)
{
    BlEngine *e = g_new0(BlEngine, 1);
    e->cfg = *config;
    if (!e->cfg.workers)
        e->cfg.workers = DEFAULT_WORKERS;
    e->cfg.workers = CLAMP(e->cfg.workers, 1, BL_MAX_WORKERS);
    if (!e->cfg.memory_limit)
        e->cfg.memory_limit = DEFAULT_MEMORY;
    e->cfg.tmpdir = g_strdup(e->cfg.tmpdir ? e->cfg.tmpdir : g_get_tmp_dir());
    e->cfg.database = g_strdup(e->cfg.database);
    e->workers_wanted = e->cfg.workers;
    e->order.window = CLAMP(e->cfg.commit_window ? e->cfg.commit_window : 1, 1, BL_MAX_WORKERS);
    g_mutex_init(&e->lock);
    g_cond_init(&e->changed);
    g_cond_init(&e->mem_cond);
    g_cond_init(&e->feeder_cond);
    g_mutex_init(&e->order.lock);
    g_cond_init(&e->order.cond);
    e->files = g_ptr_array_new();
    e->errors = g_ptr_array_new_with_free_func(g_free);
    e->sched_inbox = g_async_queue_new();
    e->state = BL_STATE_IDLE;
    if (!split_table(&e->cfg, &e->progress_db, &e->progress_table, error))
        goto fail;
    BlConn *c = bl_engine_connect(&e->cfg, error);
    if (!c)
        goto fail;
    e->target_is_mariadb = bl_conn_is_mariadb(c);
    e->resume_done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean ok = bl_progress_setup(c, e->progress_db, e->progress_table, error) &&
                  bl_progress_read(c, e->progress_db, e->progress_table, &e->resume_file,
                                   &e->resume_pos, e->resume_done, &e->pos_file, &e->pos,
                                   &e->pos_gtid, error) &&
                  load_collations(e, c, error);
    if (ok && e->target_is_mariadb && !g_getenv("BINLOGFS_PROGRESS_SQL"))
        bl_progress_layout(c, e->progress_db, e->progress_table, &e->progress_layout);
    if (ok)
        note_flush_bound(e, c);
    bl_conn_free(c);
    if (!ok)
        goto fail;
    if (e->pos_file)
        g_message("resuming after %s:%" G_GUINT64_FORMAT " (GTID %s), where an earlier run stopped",
                  e->pos_file, e->pos, e->pos_gtid ? e->pos_gtid : "");
    if (e->resume_file) {
        e->order.prefix_file = g_strdup(e->resume_file);
        e->order.prefix_pos = e->resume_pos;
    }
    return e;
fail:
    bl_engine_free(e);
    return NULL;
}

gboolean bl_engine_mark_skipped(const BlEngineConfig *config, const char *file, guint64 end_pos,
                                const char *gtid, GError **error)
{
    g_autofree char *db = NULL, *table = NULL;
    if (!split_table(config, &db, &table, error))
        return FALSE;
    gboolean ok = FALSE;
    BlConn *c = bl_engine_connect(config, error);
    if (c) {
        ok = bl_progress_mark_skipped(c, db, table, file, end_pos, gtid, error);
        bl_conn_free(c);
    }
    return ok;
}

static gint cmp_files(gconstpointer a, gconstpointer b)
{
    const FileEntry *x = *(FileEntry *const *)a, *y = *(FileEntry *const *)b;
    return bl_binlog_name_cmp(x->name, y->name);
}

gboolean bl_engine_add_file(BlEngine *e, const char *path, GError **error)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: not a readable file", path);
        return FALSE;
    }
    g_autofree char *name = g_path_get_basename(path);
    g_mutex_lock(&e->lock);
    gboolean ok = TRUE;
    gboolean started = e->started;
    for (guint i = 0; i < e->files->len && ok; i++) {
        FileEntry *fe = g_ptr_array_index(e->files, i);
        if (g_str_equal(fe->name, name)) {
            g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s: a file of that name is already queued", name);
            ok = FALSE;
        }
    }
    /* A file wholly before the resume point was applied by an earlier run.
     * Rerunning the same `replay` command lists it again: it is skipped.
     * Dropped into a running workspace (follow), it is refused. */
    const char *cur = started ? e->pos_file : e->resume_file;
    gboolean before = cur && bl_binlog_name_cmp(name, cur) < 0;
    if (ok && before && e->cfg.follow && started) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s sorts before the current position %s:%" G_GUINT64_FORMAT
                    ": it was applied already (or belongs to an older history); not applied",
                    name, e->pos_file ? e->pos_file : cur, e->pos);
        ok = FALSE;
    }
    if (ok) {
        FileEntry *fe = g_new0(FileEntry, 1);
        fe->path = g_strdup(path);
        fe->name = g_strdup(name);
        fe->size = (guint64)st.st_size;
        fe->state = before ? "applied" : "queued";
        g_ptr_array_add(e->files, fe);
        g_ptr_array_sort(e->files, cmp_files);
        if (!before)
            e->bytes_total += fe->size;
        if (!before && e->feeder_waiting) {
            /* the feeder looks at it before the state can say idle (or
             * waiting) again: until then replay is running, so that a
             * `wait` right after a file was handed over does not return
             * the idle of before it (the feeder sets it back when the
             * file is not the one it waits for) */
            e->feeder_waiting = FALSE;
            if (e->state == BL_STATE_IDLE || e->state == BL_STATE_WAITING)
                e->state = BL_STATE_RUNNING;
        }
        g_cond_broadcast(&e->feeder_cond);
    }
    g_mutex_unlock(&e->lock);
    if (ok && e->started)
        bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
    return ok;
}

gboolean bl_engine_start(BlEngine *e, GError **error)
{
    /* the first applier connects here, so that its error reaches the caller */
    e->appliers[0] = bl_applier_new(e, 0, error);
    if (!e->appliers[0])
        return FALSE;
    e->started_us = g_get_monotonic_time();
    e->rate_t = e->started_us;
    /* the scheduler's first update says idle, waiting...; paused already
     * (bl_engine_pause before the start) is paused from the start */
    e->state = e->paused ? BL_STATE_PAUSED : BL_STATE_RUNNING;
    e->started = TRUE;
    e->scheduler = g_thread_new("scheduler", bl_scheduler_main, e);
    e->feeder = g_thread_new("feeder", bl_feeder_main, e);
    return TRUE;
}

BlEngineState bl_engine_wait(BlEngine *e, gint64 timeout_us)
{
    gint64 end = timeout_us < 0 ? G_MAXINT64 : g_get_monotonic_time() + timeout_us;
    g_mutex_lock(&e->lock);
    for (;;) {
        BlEngineState s = e->state;
        if (s == BL_STATE_IDLE || s == BL_STATE_STOPPED || s == BL_STATE_FAILED ||
            (s == BL_STATE_WAITING && !e->cfg.follow))
            break;
        if (!g_cond_wait_until(&e->changed, &e->lock, end))
            break;
    }
    BlEngineState s = e->state;
    g_mutex_unlock(&e->lock);
    return s;
}

static void update_rate_locked(BlEngine *e)
{
    gint64 now = g_get_monotonic_time();
    double dt = (double)(now - e->rate_t) / G_USEC_PER_SEC;
    if (dt < 1.0)
        return;
    double tr = (double)(e->applied - e->rate_trx) / dt, br = (double)(e->bytes_applied - e->rate_bytes) / dt;
    double w = e->trx_per_s == 0 ? 1.0 : 0.3;
    e->trx_per_s = w * tr + (1 - w) * e->trx_per_s;
    e->bytes_per_s = w * br + (1 - w) * e->bytes_per_s;
    e->rate_t = now;
    e->rate_trx = e->applied;
    e->rate_bytes = e->bytes_applied;
}

/* A file's state as shown: one read to its end is applied once the
 * committed prefix (prefix_file) is past it, or once nothing is left to
 * commit (idle, stopped, or waiting for the next file). A static string.
 * Caller holds e->lock. */
static const char *shown_state_locked(const BlEngine *e, const FileEntry *fe, const char *prefix_file)
{
    gboolean done = g_str_equal(fe->state, "read") &&
                    ((prefix_file && bl_binlog_name_cmp(fe->name, prefix_file) < 0) ||
                     e->state == BL_STATE_IDLE || e->state == BL_STATE_STOPPED || e->state == BL_STATE_WAITING);
    return done ? "applied" : fe->state;
}

const char *bl_engine_file_state(BlEngine *e, const char *name)
{
    /* order.lock is never held with e->lock: read it first */
    g_mutex_lock(&e->order.lock);
    g_autofree char *prefix = g_strdup(e->order.prefix_file);
    g_mutex_unlock(&e->order.lock);
    const char *state = NULL;
    g_mutex_lock(&e->lock);
    for (guint i = 0; i < e->files->len && !state; i++) {
        const FileEntry *fe = g_ptr_array_index(e->files, i);
        if (g_str_equal(fe->name, name))
            state = shown_state_locked(e, fe, prefix);
    }
    g_mutex_unlock(&e->lock);
    return state;
}

BlSnapshot *bl_engine_snapshot(BlEngine *e)
{
    BlSnapshot *s = g_new0(BlSnapshot, 1);
    /* order.lock is never held with e->lock: read it first */
    g_mutex_lock(&e->order.lock);
    g_autofree char *prefix = g_strdup(e->order.prefix_file);
    g_mutex_unlock(&e->order.lock);
    g_mutex_lock(&e->lock);
    update_rate_locked(e);
    s->state = e->state;
    s->workers = e->workers_wanted;
    s->file = g_strdup(e->pos_file ? e->pos_file : "");
    s->pos = e->pos;
    s->gtid = g_strdup(e->pos_gtid ? e->pos_gtid : "");
    s->applied = e->applied;
    s->skipped = e->skipped;
    s->retried = e->retried;
    s->failed = e->failed;
    s->bytes_applied = e->bytes_applied;
    s->bytes_total = e->bytes_total;
    s->trx_total = e->trx_total;
    s->trx_per_s = e->trx_per_s;
    s->bytes_per_s = e->bytes_per_s;
    guint64 left = e->bytes_total > e->bytes_applied ? e->bytes_total - e->bytes_applied : 0;
    s->eta_s = e->bytes_per_s > 1 ? (gint64)((double)left / e->bytes_per_s) : -1;
    s->waiting_for = g_strdup(e->waiting_for);
    s->last_error = g_strdup(e->last_error);
    s->started_us = e->started_us;
    s->held_file = g_strdup(e->held_file);
    s->held_start = e->held_start;
    s->held_end = e->held_end;
    s->held_gtid = g_strdup(e->held_gtid);
    s->files = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < e->files->len; i++) {
        FileEntry *fe = g_ptr_array_index(e->files, i);
        BlFileStatus *f = g_new0(BlFileStatus, 1);
        f->name = g_strdup(fe->name);
        f->size = fe->size;
        f->state = g_strdup(shown_state_locked(e, fe, prefix));
        f->error = g_strdup(fe->error);
        g_ptr_array_add(s->files, f);
    }
    g_mutex_unlock(&e->lock);
    return s;
}

void bl_snapshot_free(BlSnapshot *s)
{
    if (!s)
        return;
    g_free(s->file);
    g_free(s->gtid);
    g_free(s->waiting_for);
    g_free(s->last_error);
    g_free(s->held_file);
    g_free(s->held_gtid);
    for (guint i = 0; s->files && i < s->files->len; i++) {
        BlFileStatus *f = g_ptr_array_index(s->files, i);
        g_free(f->name);
        g_free(f->state);
        g_free(f->error);
    }
    if (s->files)
        g_ptr_array_unref(s->files);
    g_free(s);
}

void bl_engine_set_workers(BlEngine *e, guint n)
{
    g_mutex_lock(&e->lock);
    e->workers_wanted = CLAMP(n, 1, BL_MAX_WORKERS);
    g_mutex_unlock(&e->lock);
    if (e->started)
        bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
}

void bl_engine_pause(BlEngine *e)
{
    g_mutex_lock(&e->lock);
    e->paused = TRUE;
    g_mutex_unlock(&e->lock);
    if (e->started)
        bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
}

void bl_engine_resume(BlEngine *e)
{
    g_mutex_lock(&e->lock);
    e->paused = FALSE;
    g_mutex_unlock(&e->lock);
    if (e->started)
        bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
}

void bl_engine_shutdown(BlEngine *e)
{
    if (!e->started)
        return;
    g_mutex_lock(&e->lock);
    /* atomic: the feeder and the catalog also read it without e->lock */
    g_atomic_int_set(&e->shutting_down, TRUE);
    g_cond_broadcast(&e->feeder_cond);
    g_cond_broadcast(&e->mem_cond);
    g_cond_broadcast(&e->changed);
    g_mutex_unlock(&e->lock);
    g_thread_join(e->feeder);
    bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
    g_thread_join(e->scheduler);
    for (guint i = 0; i < BL_MAX_WORKERS; i++) {
        bl_applier_stop(e->appliers[i]);
        e->appliers[i] = NULL;
    }
    e->started = FALSE;
}

void bl_engine_free(BlEngine *e)
{
    if (!e)
        return;
    bl_engine_shutdown(e);
    for (guint i = 0; i < e->files->len; i++) {
        FileEntry *fe = g_ptr_array_index(e->files, i);
        g_free(fe->path);
        g_free(fe->name);
        g_free(fe->error);
        g_free(fe);
    }
    g_ptr_array_unref(e->files);
    g_ptr_array_unref(e->errors);
    Msg *m;
    while ((m = g_async_queue_try_pop(e->sched_inbox)) != NULL) {
        bl_job_free(m->job);
        g_free(m->error);
        g_free(m);
    }
    g_async_queue_unref(e->sched_inbox);
    if (e->charset_by_id) {
        for (guint i = 0; i < 65536; i++) {
            g_free(e->charset_by_id[i]);
            g_free(e->collation_by_id[i]);
        }
        g_free(e->charset_by_id);
        g_free(e->collation_by_id);
    }
    g_free(e->progress_db);
    g_free(e->progress_table);
    g_free(e->cfg.tmpdir);
    g_free(e->cfg.database);
    g_free(e->waiting_for);
    g_free(e->last_error);
    g_free(e->held_file);
    g_free(e->held_gtid);
    g_free(e->pos_file);
    g_free(e->pos_gtid);
    g_free(e->resume_file);
    if (e->resume_done)
        g_hash_table_destroy(e->resume_done);
    for (guint i = 0; i < BL_ORDER_RING; i++)
        g_free(e->order.done_file[i]);
    g_free(e->order.prefix_file);
    g_mutex_clear(&e->lock);
    g_cond_clear(&e->changed);
    g_cond_clear(&e->mem_cond);
    g_cond_clear(&e->feeder_cond);
    g_mutex_clear(&e->order.lock);
    g_cond_clear(&e->order.cond);
    g_free(e);
}

/* ---- for the threads ------------------------------------------------------ */

void bl_engine_record_error(BlEngine *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_warning("%s", msg);
    g_mutex_lock(&e->lock);
    g_free(e->last_error);
    e->last_error = g_strdup(msg);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    char *line = g_strdup_printf("%s %s", ts, msg);
    g_ptr_array_add(e->errors, line);
    e->failed++;
    g_cond_broadcast(&e->changed);
    g_mutex_unlock(&e->lock);
    if (e->cfg.on_error)
        e->cfg.on_error(line, e->cfg.on_error_data);
    g_free(msg);
}

void bl_engine_set_state(BlEngine *e, BlEngineState s)
{
    g_mutex_lock(&e->lock);
    e->state = s;
    g_cond_broadcast(&e->changed);
    g_mutex_unlock(&e->lock);
}

/* Marks job j committed (or passed) and moves the prefix over every job
 * that is done. Caller holds order.lock. */
static void order_done_locked(BlOrder *o, const Job *j, gboolean moved)
{
    g_assert(j->seq > o->committed && j->seq - o->committed <= BL_ORDER_RING);
    guint i = j->seq % BL_ORDER_RING;
    o->done[i] = TRUE;
    g_free(o->done_file[i]);
    o->done_file[i] = moved && j->trx ? g_strdup(j->file) : NULL;
    o->done_pos[i] = moved && j->trx ? j->trx->end_pos : 0;
    for (;;) {
        guint k = (o->committed + 1) % BL_ORDER_RING;
        if (!o->done[k])
            break;
        o->done[k] = FALSE;
        if (o->done_file[k]) {
            g_free(o->prefix_file);
            o->prefix_file = o->done_file[k];
            o->prefix_pos = o->done_pos[k];
            o->done_file[k] = NULL;
        }
        o->committed++;
    }
    if (o->waiters)
        g_cond_broadcast(&o->cond);
}

void bl_engine_committed(BlEngine *e, const Job *j)
{
    g_mutex_lock(&e->order.lock);
    order_done_locked(&e->order, j, TRUE);
    g_mutex_unlock(&e->order.lock);
    g_mutex_lock(&e->lock);
    e->applied++;
    e->bytes_applied += j->trx->bytes;
    /* the position shown is the furthest applied transaction */
    if (!e->pos_file || bl_binlog_name_cmp(j->file, e->pos_file) > 0 ||
        (g_str_equal(j->file, e->pos_file) && j->trx->end_pos > e->pos)) {
        if (!e->pos_file || !g_str_equal(e->pos_file, j->file)) {
            g_free(e->pos_file);
            e->pos_file = g_strdup(j->file);
        }
        e->pos = j->trx->end_pos;
        g_free(e->pos_gtid);
        e->pos_gtid = g_strdup(j->gtid_text);
    }
    g_mutex_unlock(&e->lock);
    /* no MSG_WAKE: the applier's MSG_DONE (or MSG_FAILED) follows at once
     * and lets the scheduler start what waited for this job; a second
     * message per transaction only woke it twice */
}

/* Do the bytes the feeder waits for fit now? With e->lock held. Not as
 * soon as they would: once a little more is free too (an eighth of the
 * limit, at most 4 MiB), so that the feeder, once woken, reads on for a
 * while instead of waking for each transaction committed. */
static gboolean mem_fits_locked(const BlEngine *e)
{
    gsize limit = e->cfg.memory_limit;
    gsize slack = e->mem_wanted < limit ? MIN(MIN(limit / 8, MEM_SLACK_MAX), limit - e->mem_wanted) : 0;
    return e->inflight_bytes == 0 || e->inflight_bytes + e->mem_wanted + slack <= limit;
}

void bl_engine_release_bytes(BlEngine *e, gsize n)
{
    g_mutex_lock(&e->lock);
    e->inflight_bytes -= MIN(e->inflight_bytes, n);
    if (e->mem_wanted && mem_fits_locked(e))
        g_cond_signal(&e->mem_cond);
    g_mutex_unlock(&e->lock);
}

void bl_engine_release(BlEngine *e, Job *j)
{
    if (!j->bytes)
        return;
    bl_engine_release_bytes(e, j->bytes);
    j->bytes = 0;
}

void bl_engine_passed(BlEngine *e, const Job *j)
{
    g_mutex_lock(&e->order.lock);
    order_done_locked(&e->order, j, FALSE);
    g_mutex_unlock(&e->order.lock);
    /* the scheduler learns it from the applier's MSG_DONE, as above */
}

void bl_engine_count_skipped(BlEngine *e, guint64 n)
{
    g_mutex_lock(&e->lock);
    e->skipped += n;
    g_mutex_unlock(&e->lock);
}

static void hold(BlEngine *e, const char *file, guint64 start, guint64 end, const char *gtid)
{
    g_mutex_lock(&e->lock);
    if (!e->held_file) { /* the first one held is the earliest */
        e->held_file = g_strdup(file);
        e->held_start = start;
        e->held_end = end;
        e->held_gtid = g_strdup(gtid);
    }
    g_mutex_unlock(&e->lock);
}

void bl_engine_hold(BlEngine *e, const Job *j)
{
    hold(e, j->file, j->trx ? j->trx->start_pos : j->start_pos, j->trx ? j->trx->end_pos : 0, j->gtid_text);
}

void bl_engine_hold_trx(BlEngine *e, const char *file, const BlTrx *t)
{
    char g[96];
    bl_gtid_format(&t->gtid, g, sizeof g);
    hold(e, file, t->start_pos, t->end_pos, g);
}

void bl_engine_count_passed_bytes(BlEngine *e, guint64 n)
{
    g_mutex_lock(&e->lock);
    e->bytes_applied += n;
    g_mutex_unlock(&e->lock);
}

void bl_engine_count_retry(BlEngine *e)
{
    g_mutex_lock(&e->lock);
    e->retried++;
    g_mutex_unlock(&e->lock);
}

const char *bl_engine_collation_charset(BlEngine *e, guint id)
{
    return id < 65536 && e->charset_by_id ? e->charset_by_id[id] : NULL;
}

const char *bl_engine_collation_name(BlEngine *e, guint id)
{
    return id < 65536 && e->collation_by_id ? e->collation_by_id[id] : NULL;
}
