/* binlogfs — a replay session: the engine as a long-lived restore workspace.
 *
 * DESIGN: the session owns one engine at a time. Commands that need a
 * fresh engine (retry, skip, a new start or stop point, a file replaced
 * after replay read it) are queued to the session's thread, which shuts
 * the engine down (transactions in flight commit or roll back) and starts
 * a new one: it resumes from the progress rows on the target, exactly,
 * so a restart never applies anything twice. Frontend calls only take
 * `lock` for short moments and never wait for the database: the engine
 * pointer is swapped under `lock`, and only the session thread frees an
 * engine, after having removed it from `engine`, so a caller that holds
 * `lock` may use `engine` safely.
 *
 * Files are handed to the engine by the session thread. Until replay has
 * a position (no transaction applied yet, no resume point, no FILE:POS
 * start point), it waits for the copies to settle (nothing being written
 * for SETTLE_US) before handing any file over: the engine starts at the
 * lowest file present, and `cp` of several files may write them in any
 * order. Once replay has a position, files go over at once (the engine
 * waits for a missing file in sequence by itself).
 *
 * Counters (applied, skipped, retried, failed) add up over restarts;
 * errors are kept here (the engines report theirs through on_error).
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include <binlogfs/reader.h>
#include <binlogfs/session.h>

#define SETTLE_US (2 * G_USEC_PER_SEC)
#define TICK_US (200 * 1000)

typedef struct {
    char *name;
    char *path;
    guint64 size;
    gint64 mtime_ns;   /* st_mtim: two copies within one second differ */
    const char *state; /* "pending" (not handed over), "given", "rejected" */
    char *error;
} SFile;

typedef enum { CMD_RESTART, CMD_SKIP, CMD_QUIT } CmdKind;

struct BlSession {
    BlEngineConfig cfg;        /* strings owned; start_at/stop_at current */
    char *state_path;

    GMutex lock;
    GCond changed;
    BlEngine *engine;          /* NULL while restarting or after a failed start */
    gboolean restarting;
    char *engine_error;        /* why there is no engine */
    GPtrArray *files;          /* SFile*, sorted by name */
    GHashTable *receiving;     /* name -> open writers (GPOINTER_TO_UINT) */
    gint64 last_activity;
    GPtrArray *errors;         /* char* lines */
    guint64 base_applied, base_skipped, base_retried, base_failed;
    BlSnapshot *last;          /* the previous engine's last snapshot */
    gboolean paused;
    gboolean has_position;     /* replay knows where it stands */
    gboolean shutting_down;
    gboolean started;

    GAsyncQueue *inbox;        /* CmdKind + 1 as pointers */
    guint64 cmd_sent;          /* commands pushed (under lock) */
    guint64 cmd_done;          /* of those, taken into effect */
    GThread *thread;
};

/* ---- small helpers ------------------------------------------------------- */

static void sfile_free(gpointer p)
{
    SFile *f = p;
    g_free(f->name);
    g_free(f->path);
    g_free(f->error);
    g_free(f);
}

static gint sfile_cmp(gconstpointer a, gconstpointer b)
{
    const SFile *x = *(SFile *const *)a, *y = *(SFile *const *)b;
    return bl_binlog_name_cmp(x->name, y->name);
}

static gint64 mtime_ns(const GStatBuf *st)
{
    return (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
}

static SFile *find_file_locked(BlSession *s, const char *name)
{
    for (guint i = 0; i < s->files->len; i++) {
        SFile *f = g_ptr_array_index(s->files, i);
        if (g_str_equal(f->name, name))
            return f;
    }
    return NULL;
}

static void add_error_locked(BlSession *s, const char *msg)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    g_ptr_array_add(s->errors, g_strdup_printf("%s %s", ts, msg));
    g_cond_broadcast(&s->changed);
}

void bl_session_record_error(BlSession *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_warning("%s", msg);
    g_mutex_lock(&s->lock);
    add_error_locked(s, msg);
    g_mutex_unlock(&s->lock);
}

/* Fails with `msg`, also recorded in the errors. */
static gboolean refuse(BlSession *s, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean refuse(BlSession *s, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    bl_session_record_error(s, "%s", msg);
    g_set_error_literal(error, BL_ERROR, BL_ERROR_INVALID, msg);
    return FALSE;
}

static void on_engine_error(const char *line, gpointer data)
{
    BlSession *s = data;
    g_mutex_lock(&s->lock);
    g_ptr_array_add(s->errors, g_strdup(line));
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
}

static guint64 send(BlSession *s, CmdKind k)
{
    g_mutex_lock(&s->lock);
    guint64 seq = ++s->cmd_sent;
    g_async_queue_push(s->inbox, GUINT_TO_POINTER(k + 1));
    g_mutex_unlock(&s->lock);
    return seq;
}

/* Waits (at most CMD_WAIT_US) until command SEQ has taken effect, so that
 * `echo skip > control/state; cat control/state` reads the new state, not
 * the moment in between. A longer wait (an engine whose transaction in
 * flight takes long to roll back) returns anyway: the command is queued. */
#define CMD_WAIT_US (30 * G_TIME_SPAN_SECOND)
static void wait_done(BlSession *s, guint64 seq)
{
    gint64 end = g_get_monotonic_time() + CMD_WAIT_US;
    g_mutex_lock(&s->lock);
    while (s->cmd_done < seq && !s->shutting_down)
        if (!g_cond_wait_until(&s->changed, &s->lock, end))
            break;
    g_mutex_unlock(&s->lock);
}

/* ---- persisted settings ----------------------------------------------------- */

static void save_locked(BlSession *s)
{
    if (!s->state_path)
        return;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_key_file_set_string(kf, "control", "start-at", s->cfg.start_at.kind ? s->cfg.start_at.text : "");
    g_key_file_set_string(kf, "control", "stop-at", s->cfg.stop_at.kind ? s->cfg.stop_at.text : "");
    g_key_file_set_integer(kf, "control", "workers", (gint)s->cfg.workers);
    g_autoptr(GError) err = NULL;
    if (!g_key_file_save_to_file(kf, s->state_path, &err))
        g_warning("cannot save the settings to %s: %s", s->state_path, err->message);
}

static void load(BlSession *s, const BlEngineConfig *given)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!s->state_path || !g_key_file_load_from_file(kf, s->state_path, G_KEY_FILE_NONE, NULL))
        return;
    g_autofree char *start = g_key_file_get_string(kf, "control", "start-at", NULL);
    g_autofree char *stop = g_key_file_get_string(kf, "control", "stop-at", NULL);
    gint workers = g_key_file_get_integer(kf, "control", "workers", NULL);
    g_autoptr(GError) err = NULL;
    if (given->start_at.kind == BL_SPEC_NONE && start && !bl_spec_parse(start, TRUE, &s->cfg.start_at, &err))
        g_warning("%s: start-at ignored: %s", s->state_path, err->message);
    g_clear_error(&err);
    if (given->stop_at.kind == BL_SPEC_NONE && stop && !bl_spec_parse(stop, FALSE, &s->cfg.stop_at, &err))
        g_warning("%s: stop-at ignored: %s", s->state_path, err->message);
    if (!given->workers && workers >= 1 && workers <= BL_MAX_WORKERS)
        s->cfg.workers = (guint)workers;
}

/* ---- life cycle -------------------------------------------------------------- */

BlSession *bl_session_new(const BlEngineConfig *config, const char *state_path, GError **error)
{
    BlSession *s = g_new0(BlSession, 1);
    s->cfg = *config;
    s->cfg.follow = TRUE;
    s->cfg.database = g_strdup(config->database);
    s->cfg.progress_table = g_strdup(config->progress_table);
    s->cfg.tmpdir = g_strdup(config->tmpdir);
    s->cfg.on_error = on_engine_error;
    s->cfg.on_error_data = s;
    s->state_path = g_strdup(state_path);
    g_mutex_init(&s->lock);
    g_cond_init(&s->changed);
    s->files = g_ptr_array_new_with_free_func(sfile_free);
    s->receiving = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->errors = g_ptr_array_new_with_free_func(g_free);
    s->inbox = g_async_queue_new();
    load(s, config);
    if (!s->cfg.workers)
        s->cfg.workers = 8;
    /* the target is checked now, so that its errors reach the terminal */
    s->engine = bl_engine_new(&s->cfg, error);
    if (!s->engine) {
        bl_session_free(s);
        return NULL;
    }
    g_autoptr(BlSnapshot) snap = bl_engine_snapshot(s->engine);
    s->has_position = snap->file[0] != '\0' || s->cfg.start_at.kind == BL_SPEC_POSITION;
    save_locked(s);
    return s;
}

static gpointer session_main(gpointer data);

gboolean bl_session_start(BlSession *s, GError **error)
{
    g_return_val_if_fail(!s->started, FALSE);
    if (!bl_engine_start(s->engine, error))
        return FALSE;
    s->started = TRUE;
    s->last_activity = g_get_monotonic_time();
    s->thread = g_thread_new("session", session_main, s);
    return TRUE;
}

void bl_session_free(BlSession *s)
{
    if (!s)
        return;
    if (s->thread) {
        g_mutex_lock(&s->lock);
        s->shutting_down = TRUE;
        g_cond_broadcast(&s->changed);
        g_mutex_unlock(&s->lock);
        send(s, CMD_QUIT);
        g_thread_join(s->thread);
    }
    g_mutex_lock(&s->lock);
    BlEngine *e = s->engine;
    s->engine = NULL;
    g_mutex_unlock(&s->lock);
    bl_engine_free(e); /* shuts down: in flight, commit or roll back */
    g_async_queue_unref(s->inbox);
    g_ptr_array_unref(s->files);
    g_hash_table_destroy(s->receiving);
    g_ptr_array_unref(s->errors);
    bl_snapshot_free(s->last);
    g_free(s->engine_error);
    g_free(s->cfg.database);
    g_free(s->cfg.progress_table);
    g_free(s->cfg.tmpdir);
    g_free(s->state_path);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->changed);
    g_free(s);
}

/* ---- the session thread ------------------------------------------------------- */

/* Takes the engine out and shuts it down; its counters join the base. */
static void retire_engine(BlSession *s)
{
    g_mutex_lock(&s->lock);
    BlEngine *old = s->engine;
    s->engine = NULL;
    s->restarting = TRUE;
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
    if (!old)
        return;
    bl_engine_shutdown(old);
    BlSnapshot *snap = bl_engine_snapshot(old);
    bl_engine_free(old);
    g_mutex_lock(&s->lock);
    s->base_applied += snap->applied;
    s->base_skipped += snap->skipped;
    s->base_retried += snap->retried;
    s->base_failed += snap->failed;
    bl_snapshot_free(s->last);
    s->last = snap;
    g_mutex_unlock(&s->lock);
}

/* Starts a new engine (resuming from the progress rows) with every file
 * handed over so far. */
static void start_engine(BlSession *s)
{
    g_mutex_lock(&s->lock);
    BlEngineConfig cfg = s->cfg;
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < s->files->len; i++) {
        SFile *f = g_ptr_array_index(s->files, i);
        if (f->state && g_str_equal(f->state, "given"))
            g_ptr_array_add(paths, g_strdup(f->path));
    }
    gboolean paused = s->paused;
    g_mutex_unlock(&s->lock);
    GError *err = NULL;
    BlEngine *e = bl_engine_new(&cfg, &err);
    for (guint i = 0; e && i < paths->len; i++) {
        GError *ferr = NULL;
        if (!bl_engine_add_file(e, g_ptr_array_index(paths, i), &ferr)) {
            bl_session_record_error(s, "%s", ferr->message);
            g_error_free(ferr);
        }
    }
    g_ptr_array_unref(paths);
    if (e && paused)
        bl_engine_pause(e);
    if (e && !bl_engine_start(e, &err))
        g_clear_pointer(&e, bl_engine_free);
    g_mutex_lock(&s->lock);
    s->engine = e;
    s->restarting = FALSE;
    g_clear_pointer(&s->engine_error, g_free);
    if (!e) {
        s->engine_error = g_strdup_printf("replay cannot restart: %s (write `retry` to control/state to try again)",
                                          err->message);
        add_error_locked(s, s->engine_error);
        g_warning("%s", s->engine_error);
        g_error_free(err);
    }
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
}

static void do_skip(BlSession *s)
{
    g_mutex_lock(&s->lock);
    BlSnapshot *snap = s->engine ? bl_engine_snapshot(s->engine) : NULL;
    g_mutex_unlock(&s->lock);
    if (!snap || !snap->held_file || !snap->held_end ||
        (snap->state != BL_STATE_FAILED && snap->state != BL_STATE_STOPPED)) {
        bl_session_record_error(s, "skip: replay is no longer held at a transaction; nothing skipped");
        bl_snapshot_free(snap);
        return;
    }
    gboolean stopped = snap->state == BL_STATE_STOPPED;
    retire_engine(s);
    g_mutex_lock(&s->lock);
    BlEngineConfig cfg = s->cfg;
    g_mutex_unlock(&s->lock);
    GError *err = NULL;
    if (bl_engine_mark_skipped(&cfg, snap->held_file, snap->held_end, snap->held_gtid, &err)) {
        g_message("skipped the transaction %s at %s:%" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
                  " (on request); replay is paused before the next one",
                  snap->held_gtid, snap->held_file, snap->held_start, snap->held_end);
        g_mutex_lock(&s->lock);
        s->base_skipped++;
        s->paused = TRUE;
        if (stopped) /* the stop point was this transaction: it is passed */
            memset(&s->cfg.stop_at, 0, sizeof s->cfg.stop_at);
        save_locked(s);
        g_mutex_unlock(&s->lock);
    } else {
        bl_session_record_error(s, "skip of %s at %s:%" G_GUINT64_FORMAT " failed: %s", snap->held_gtid,
                                snap->held_file, snap->held_start, err->message);
        g_error_free(err);
    }
    bl_snapshot_free(snap);
    start_engine(s);
}

/* Hands the pending files to the engine once that is safe (see DESIGN). */
static void hand_over(BlSession *s)
{
    g_mutex_lock(&s->lock);
    if (s->engine && !s->has_position) {
        g_autoptr(BlSnapshot) snap = bl_engine_snapshot(s->engine);
        s->has_position = snap->file[0] != '\0' || s->cfg.start_at.kind == BL_SPEC_POSITION;
    }
    gboolean settled = g_hash_table_size(s->receiving) == 0 &&
                       g_get_monotonic_time() - s->last_activity >= SETTLE_US;
    if (s->engine && (s->has_position || settled)) {
        for (guint i = 0; i < s->files->len; i++) {
            SFile *f = g_ptr_array_index(s->files, i);
            if (!g_str_equal(f->state, "pending") || g_hash_table_contains(s->receiving, f->name))
                continue;
            GError *err = NULL;
            if (bl_engine_add_file(s->engine, f->path, &err)) {
                f->state = "given";
            } else {
                f->state = "rejected";
                g_free(f->error);
                f->error = g_strdup(err->message);
                add_error_locked(s, err->message);
                g_warning("%s", err->message);
                g_error_free(err);
            }
        }
    }
    g_mutex_unlock(&s->lock);
}

static gpointer session_main(gpointer data)
{
    BlSession *s = data;
    for (;;) {
        gpointer m = g_async_queue_timeout_pop(s->inbox, TICK_US);
        /* every command counted here is in the queue (pushed under the
         * lock), so it is taken below or was taken by an earlier round */
        g_mutex_lock(&s->lock);
        guint64 seq = s->cmd_sent;
        g_mutex_unlock(&s->lock);
        gboolean restart = FALSE, skip = FALSE, quit = FALSE;
        while (m) { /* take every queued command: restarts coalesce */
            CmdKind k = (CmdKind)(GPOINTER_TO_UINT(m) - 1);
            restart |= k == CMD_RESTART;
            skip |= k == CMD_SKIP;
            quit |= k == CMD_QUIT;
            m = g_async_queue_try_pop(s->inbox);
        }
        if (quit)
            break;
        if (skip) {
            do_skip(s);
        } else if (restart) {
            retire_engine(s);
            start_engine(s);
        }
        if (seq) { /* a command was counted: its writer waits on `changed` */
            g_mutex_lock(&s->lock);
            if (s->cmd_done != seq) {
                s->cmd_done = seq;
                g_cond_broadcast(&s->changed);
            }
            g_mutex_unlock(&s->lock);
        }
        hand_over(s);
    }
    return NULL;
}

/* ---- files ------------------------------------------------------------------ */

static const char *engine_file_state_locked(BlSession *s, const char *name)
{
    return s->engine ? bl_engine_file_state(s->engine, name) : NULL;
}

gboolean bl_session_add_file(BlSession *s, const char *path, GError **error)
{
    g_autofree char *name = g_path_get_basename(path);
    if (name[0] == '.')
        return refuse(s, error, "%s: names beginning with '.' are temporary and never replayed", name);
    GStatBuf st;
    if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return refuse(s, error, "%s: not a readable file", name);
    GError *rerr = NULL;
    BlReader *r = bl_reader_open(path, name, &rerr);
    bl_reader_free(r);
    g_mutex_lock(&s->lock);
    s->last_activity = g_get_monotonic_time();
    SFile *f = find_file_locked(s, name);
    gboolean ok = TRUE, restart = FALSE;
    g_autofree char *msg = NULL;
    if (rerr) {
        msg = g_strdup_printf("%s; the file is not replayed", rerr->message);
        g_error_free(rerr);
        if (!f) {
            f = g_new0(SFile, 1);
            f->name = g_strdup(name);
            g_ptr_array_add(s->files, f);
        }
        if (!g_str_equal(f->state ? f->state : "", "given"))
            f->state = "rejected";
        ok = FALSE;
    } else if (f && g_str_equal(f->state, "given")) {
        const char *es = engine_file_state_locked(s, name);
        gboolean same = f->size == (guint64)st.st_size && f->mtime_ns == mtime_ns(&st);
        g_autoptr(BlSnapshot) snap = es && g_str_equal(es, "applied") ? bl_engine_snapshot(s->engine) : NULL;
        if (es && g_str_equal(es, "failed"))
            restart = TRUE; /* copied again after a failure (cp -p keeps size and time): try it again */
        else if (es && (g_str_equal(es, "stopped") || g_str_equal(es, "reading") || g_str_equal(es, "read")) &&
                 !same)
            restart = TRUE; /* a new copy of a file replay read: carry on from the progress rows */
        else if (snap && !same && (!snap->file[0] || bl_binlog_name_cmp(name, snap->file) >= 0))
            /* applied to its end, but it is where replay stands (the last file,
             * without a Rotate: the source's active binlog copied again with
             * more in it, or a copy cut at a transaction's end): the same */
            restart = TRUE;
        else if (es && g_str_equal(es, "applied") && !same) {
            msg = g_strdup_printf("%s was applied already; its new content is not replayed", name);
            ok = FALSE;
        }
    } else if (!f || !g_str_equal(f->state, "pending")) {
        g_autoptr(BlSnapshot) snap = s->engine && s->started ? bl_engine_snapshot(s->engine) : NULL;
        if (snap && snap->file[0] && bl_binlog_name_cmp(name, snap->file) < 0) {
            msg = g_strdup_printf("%s sorts before the current position %s:%" G_GUINT64_FORMAT
                                  ": it was applied already (or belongs to an older history); not applied",
                                  name, snap->file, snap->pos);
            ok = FALSE;
        }
        if (!f) {
            f = g_new0(SFile, 1);
            f->name = g_strdup(name);
            g_ptr_array_add(s->files, f);
        }
        f->state = ok ? "pending" : "rejected";
        GError *aerr = NULL;
        if (ok && !s->started) { /* already in the spool: complete; before the position, applied */
            if (bl_engine_add_file(s->engine, path, &aerr)) {
                f->state = "given";
            } else {
                msg = g_strdup(aerr->message);
                f->state = "rejected";
                ok = FALSE;
                g_error_free(aerr);
            }
        }
    }
    g_free(f->path);
    f->path = g_strdup(path);
    f->size = (guint64)st.st_size;
    f->mtime_ns = mtime_ns(&st);
    g_free(f->error);
    f->error = g_strdup(msg);
    g_ptr_array_sort(s->files, sfile_cmp);
    if (msg)
        add_error_locked(s, msg);
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
    if (msg) {
        g_warning("%s", msg);
        g_set_error_literal(error, BL_ERROR, BL_ERROR_INVALID, msg);
    }
    if (restart) {
        g_message("%s: a new copy of a file replay had read: replay restarts from the progress rows", name);
        send(s, CMD_RESTART);
    }
    return ok;
}

void bl_session_receiving(BlSession *s, const char *name, gboolean writing)
{
    g_mutex_lock(&s->lock);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->receiving, name));
    if (writing)
        g_hash_table_replace(s->receiving, g_strdup(name), GUINT_TO_POINTER(n + 1));
    else if (n > 1)
        g_hash_table_replace(s->receiving, g_strdup(name), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(s->receiving, name);
    s->last_activity = g_get_monotonic_time();
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
}

void bl_session_remove_file(BlSession *s, const char *name)
{
    g_mutex_lock(&s->lock);
    SFile *f = find_file_locked(s, name);
    gboolean restart = FALSE;
    if (f) {
        const char *es = g_str_equal(f->state, "given") ? engine_file_state_locked(s, name) : NULL;
        if (!g_str_equal(f->state, "given") || (es && g_str_equal(es, "queued"))) {
            restart = es != NULL; /* the engine has it queued: a new engine without it */
            g_ptr_array_remove(s->files, f);
        }
    }
    g_cond_broadcast(&s->changed);
    g_mutex_unlock(&s->lock);
    if (restart)
        send(s, CMD_RESTART);
}

/* ---- state ---------------------------------------------------------------------- */

static BlSnapshot *empty_snapshot(const BlSnapshot *last)
{
    BlSnapshot *n = g_new0(BlSnapshot, 1);
    n->file = g_strdup(last ? last->file : "");
    n->pos = last ? last->pos : 0;
    n->gtid = g_strdup(last ? last->gtid : "");
    n->bytes_applied = last ? last->bytes_applied : 0;
    n->bytes_total = last ? last->bytes_total : 0;
    n->eta_s = -1;
    n->files = g_ptr_array_new_with_free_func(g_free);
    return n;
}

static gboolean pending_locked(BlSession *s)
{
    for (guint i = 0; i < s->files->len; i++)
        if (g_str_equal(((SFile *)g_ptr_array_index(s->files, i))->state, "pending"))
            return TRUE;
    return FALSE;
}

static gint file_status_cmp(gconstpointer a, gconstpointer b)
{
    const BlFileStatus *x = *(BlFileStatus *const *)a, *y = *(BlFileStatus *const *)b;
    return bl_binlog_name_cmp(x->name, y->name);
}

/* The engine's snapshot, or a stand-in while there is no engine, with
 * the session's counters and state rules. */
static BlSnapshot *snapshot_locked(BlSession *s, gboolean with_files)
{
    BlSnapshot *snap = s->engine ? bl_engine_snapshot(s->engine) : empty_snapshot(s->last);
    snap->workers = s->cfg.workers;
    snap->applied += s->base_applied;
    snap->skipped += s->base_skipped;
    snap->retried += s->base_retried;
    snap->failed += s->base_failed;
    if (!s->engine) {
        snap->state = s->restarting ? (s->paused ? BL_STATE_PAUSED : BL_STATE_RUNNING) : BL_STATE_FAILED;
        if (s->engine_error) {
            g_free(snap->last_error);
            snap->last_error = g_strdup(s->engine_error);
        }
    } else if (snap->state == BL_STATE_IDLE && pending_locked(s)) {
        snap->state = s->paused ? BL_STATE_PAUSED : BL_STATE_RUNNING;
    }
    if (!snap->last_error && s->errors->len) {
        const char *line = g_ptr_array_index(s->errors, s->errors->len - 1);
        snap->last_error = g_strdup(strlen(line) > 20 ? line + 20 : line); /* without the time */
    }
    if (!with_files)
        return snap;
    /* the engine's files, and the session's own: pending, rejected, being received */
    for (guint i = 0; i < s->files->len; i++) {
        SFile *f = g_ptr_array_index(s->files, i);
        if (g_str_equal(f->state, "given"))
            continue;
        BlFileStatus *fs = g_new0(BlFileStatus, 1);
        fs->name = g_strdup(f->name);
        fs->size = f->size;
        fs->state = g_strdup(g_hash_table_contains(s->receiving, f->name) ? "receiving"
                             : g_str_equal(f->state, "pending")           ? "queued"
                                                                           : f->state);
        fs->error = g_strdup(f->error);
        g_ptr_array_add(snap->files, fs);
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, s->receiving);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (find_file_locked(s, key))
            continue;
        BlFileStatus *fs = g_new0(BlFileStatus, 1);
        fs->name = g_strdup(key);
        fs->state = g_strdup("receiving");
        g_ptr_array_add(snap->files, fs);
    }
    g_ptr_array_sort(snap->files, file_status_cmp);
    return snap;
}

BlSnapshot *bl_session_snapshot(BlSession *s)
{
    g_mutex_lock(&s->lock);
    BlSnapshot *snap = snapshot_locked(s, TRUE);
    g_mutex_unlock(&s->lock);
    return snap;
}

GPtrArray *bl_session_errors(BlSession *s)
{
    g_mutex_lock(&s->lock);
    GPtrArray *a = g_ptr_array_new_full(s->errors->len, g_free);
    for (guint i = 0; i < s->errors->len; i++)
        g_ptr_array_add(a, g_strdup(g_ptr_array_index(s->errors, i)));
    g_mutex_unlock(&s->lock);
    return a;
}

gboolean bl_session_wait(BlSession *s, gint64 timeout_us, BlEngineState *state)
{
    gint64 end = timeout_us < 0 ? G_MAXINT64 : g_get_monotonic_time() + timeout_us;
    g_mutex_lock(&s->lock);
    BlEngineState st;
    gboolean reached = FALSE;
    for (;;) {
        g_autoptr(BlSnapshot) snap = snapshot_locked(s, FALSE);
        st = snap->state;
        gboolean busy = s->restarting || g_hash_table_size(s->receiving) > 0 || pending_locked(s);
        if (!busy && (st == BL_STATE_IDLE || st == BL_STATE_STOPPED || st == BL_STATE_FAILED)) {
            reached = TRUE;
            break;
        }
        gint64 now = g_get_monotonic_time();
        if (s->shutting_down || now >= end)
            break;
        /* the engine's own changes do not signal `changed`: look again each tick */
        g_cond_wait_until(&s->changed, &s->lock, MIN(end, now + TICK_US));
    }
    g_mutex_unlock(&s->lock);
    if (state)
        *state = st;
    return reached;
}

/* ---- control -------------------------------------------------------------------- */

static BlEngineState state_now(BlSession *s)
{
    g_mutex_lock(&s->lock);
    g_autoptr(BlSnapshot) snap = snapshot_locked(s, FALSE);
    g_mutex_unlock(&s->lock);
    return snap->state;
}

gboolean bl_session_command(BlSession *s, const char *word, GError **error)
{
    BlEngineState st = state_now(s);
    const char *now = bl_engine_state_name(st);
    if (g_str_equal(word, "pause")) {
        g_mutex_lock(&s->lock);
        s->paused = TRUE;
        if (s->engine)
            bl_engine_pause(s->engine);
        g_mutex_unlock(&s->lock);
        g_message("paused (on request)");
        return TRUE;
    }
    if (g_str_equal(word, "resume")) {
        if (st == BL_STATE_STOPPED)
            return refuse(s, error, "resume: replay is stopped at the stop point; clear or move control/stop-at, "
                                    "or write skip to pass over the transaction at that point");
        if (st == BL_STATE_FAILED)
            return refuse(s, error, "resume: replay failed; write retry to run the failed transaction again, "
                                    "or skip to pass over it");
        g_mutex_lock(&s->lock);
        s->paused = FALSE;
        if (s->engine)
            bl_engine_resume(s->engine);
        g_mutex_unlock(&s->lock);
        g_message("resumed (on request)");
        return TRUE;
    }
    if (g_str_equal(word, "skip")) {
        g_mutex_lock(&s->lock);
        g_autoptr(BlSnapshot) snap = s->engine ? bl_engine_snapshot(s->engine) : NULL;
        g_mutex_unlock(&s->lock);
        if ((st != BL_STATE_STOPPED && st != BL_STATE_FAILED) || !snap || !snap->held_file)
            return refuse(s, error, "skip: replay is not held at a transaction (state %s); skip applies in state "
                                    "stopped or failed", now);
        if (!snap->held_end)
            return refuse(s, error, "skip: the end of the transaction %s at %s:%" G_GUINT64_FORMAT
                                    " is not known (the file ends inside it); it cannot be skipped",
                          snap->held_gtid, snap->held_file, snap->held_start);
        wait_done(s, send(s, CMD_SKIP));
        return TRUE;
    }
    if (g_str_equal(word, "retry")) {
        if (st != BL_STATE_FAILED)
            return refuse(s, error, "retry: replay has not failed (state %s)", now);
        g_mutex_lock(&s->lock);
        s->paused = FALSE;
        g_mutex_unlock(&s->lock);
        g_message("retry (on request): replay restarts from the progress rows");
        wait_done(s, send(s, CMD_RESTART));
        return TRUE;
    }
    return refuse(s, error, "control/state: '%s' is not a command; write pause, resume, skip or retry", word);
}

gboolean bl_session_set_workers(BlSession *s, guint n, GError **error)
{
    if (n < 1 || n > BL_MAX_WORKERS)
        return refuse(s, error, "control/workers: %u is out of range; write an integer from 1 to %u", n,
                      BL_MAX_WORKERS);
    g_mutex_lock(&s->lock);
    s->cfg.workers = n;
    if (s->engine)
        bl_engine_set_workers(s->engine, n);
    save_locked(s);
    g_mutex_unlock(&s->lock);
    g_message("workers: %u (on request)", n);
    return TRUE;
}

static gboolean set_spec(BlSession *s, const char *what, const char *text, gboolean backup_info, GError **error)
{
    BlSpec spec;
    GError *perr = NULL;
    if (!bl_spec_parse(text, backup_info, &spec, &perr)) {
        gboolean r = refuse(s, error, "control/%s: %s", what, perr->message);
        g_error_free(perr);
        return r;
    }
    g_mutex_lock(&s->lock);
    if (backup_info)
        s->cfg.start_at = spec;
    else
        s->cfg.stop_at = spec;
    /* a FILE:POS start point is a position; another one (or none) is not:
     * hand_over looks again whether replay has one of its own, and until
     * then files wait for the copies to settle */
    if (backup_info)
        s->has_position = spec.kind == BL_SPEC_POSITION;
    save_locked(s);
    gboolean restart = s->started;
    g_mutex_unlock(&s->lock);
    g_message("%s: %s (on request)%s", what, spec.kind ? spec.text : "(none)",
              restart ? "; replay restarts from the progress rows with it" : "");
    if (restart)
        wait_done(s, send(s, CMD_RESTART));
    return TRUE;
}

gboolean bl_session_set_start_at(BlSession *s, const char *spec, GError **error)
{
    return set_spec(s, "start-at", spec, TRUE, error);
}

gboolean bl_session_set_stop_at(BlSession *s, const char *spec, GError **error)
{
    return set_spec(s, "stop-at", spec, FALSE, error);
}

char *bl_session_start_at(BlSession *s)
{
    g_mutex_lock(&s->lock);
    char *t = g_strdup(s->cfg.start_at.kind ? s->cfg.start_at.text : "");
    g_mutex_unlock(&s->lock);
    return t;
}

char *bl_session_stop_at(BlSession *s)
{
    g_mutex_lock(&s->lock);
    char *t = g_strdup(s->cfg.stop_at.kind ? s->cfg.stop_at.text : "");
    g_mutex_unlock(&s->lock);
    return t;
}
