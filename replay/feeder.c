/* binlogfs — the feeder thread: files -> transactions -> jobs.
 *
 * DESIGN: reads the queued files in binlog sequence order, one event at a
 * time, and builds for each source transaction a job (the parts to send)
 * next to its metadata (trx.c). When a transaction is complete it decides,
 * in this order: already applied by an earlier run (resume point) -> drop;
 * before start-at or in --exclude-gtids -> skip; at or after stop-at ->
 * stop; else compute its dependency and hand it to the scheduler.
 * Invariants: jobs reach the scheduler in source order with consecutive
 * seq numbers; the bytes of jobs not yet committed stay under the memory
 * limit (the feeder waits); nothing here talks to the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <binlogfs/depend.h>
#include <binlogfs/event.h>
#include <binlogfs/reader.h>
#include <binlogfs/rows.h>
#include <binlogfs/trx.h>

#include "catalog.h"
#include "engine-private.h"

#define G_LOG_DOMAIN_FEEDER "binlogfs-feeder"

typedef struct {
    BlEngine *e;
    BlTrxBuilder *builder;
    BlDepTracker *dep;
    BlHintTracker hints;
    BlReader *reader;
    const char *file;       /* base name of the file being read */
    guint64 file_index;
    GBytes *fde;            /* raw FDE of the current file (with CRC if any) */
    gboolean fde_crc;       /* the file's events carry CRC32 */
    Job *job;               /* being built */
    Job *streamed;          /* the job being streamed (also f->job), or NULL */
    guint64 next_seq;
    gboolean start_reached;
    gboolean new_file;
    GHashTable *filtered_tables; /* table ids dropped in this trx: --database,
                                    and binlogfs's own progress table */
    char **progress_heads;       /* how binlogfs's SQL on its progress table begins */
    GHashTable *load_files;      /* file_id -> path of LOAD DATA data */
    char *next_name;        /* Rotate's next file */
    guint64 file_trx_bytes; /* bytes of the file's transactions so far */
    BlCatalog *catalog;     /* the target's keys; NULL: PK metadata only */
} Feeder;

/* ---- raw event normalisation ------------------------------------------- */

/* Event bytes for a BINLOG statement: inner payload events get the CRC the
 * FDE announces; Table_map db names are rewritten. */
static const char *rewrite_db(BlEngine *e, const char *db, gsize len)
{
    if (!e->cfg.rewrites)
        return NULL;
    for (guint i = 0; i < e->cfg.rewrites->len; i++) {
        BlRewrite *r = &g_array_index(e->cfg.rewrites, BlRewrite, i);
        if (strlen(r->from) == len && memcmp(r->from, db, len) == 0)
            return r->to;
    }
    return NULL;
}

/* Returns the event as it must be sent, or NULL if the raw bytes can be
 * used as they are. */
static GByteArray *normalize(Feeder *f, const BlEvent *ev)
{
    const BlFormat *fmt = bl_reader_format_for(f->reader, ev);
    gboolean add_crc = ev->inner && f->fde_crc;
    const char *to = NULL;
    gsize db_off = 0, db_len = 0;
    if (ev->h.type == BL_TABLE_MAP_EVENT) {
        guint phl = fmt->post_header_len[BL_TABLE_MAP_EVENT];
        db_off = fmt->header_len + phl;
        if (ev->body_len > phl + 1) {
            db_len = ev->data[db_off];
            if (phl + 1 + db_len <= ev->body_len)
                to = rewrite_db(f->e, (const char *)ev->data + db_off + 1, db_len);
        }
    }
    if (!add_crc && !to)
        return NULL;
    gsize body_end = fmt->header_len + ev->body_len; /* without CRC */
    GByteArray *b = g_byte_array_sized_new((guint)(ev->h.size + 64));
    if (to) {
        gsize tl = strlen(to);
        g_byte_array_append(b, ev->data, (guint)db_off);
        guint8 l = (guint8)tl;
        g_byte_array_append(b, &l, 1);
        g_byte_array_append(b, (const guint8 *)to, (guint)tl);
        g_byte_array_append(b, ev->data + db_off + 1 + db_len, (guint)(body_end - db_off - 1 - db_len));
    } else {
        g_byte_array_append(b, ev->data, (guint)body_end);
    }
    bl_event_seal(b, 0, f->fde_crc);
    return b;
}

/* ---- Query events -------------------------------------------------------- */

static void fill_ctx(Feeder *f, const BlEvent *ev, const BlQuery *q, QueryCtx *c)
{
    memset(c, 0, sizeof *c);
    c->thread_id = q->thread_id;
    c->timestamp = ev->h.timestamp;
    c->has_usec = BL_QHAS(q, BL_Q_MICROSECONDS) || BL_QHAS(q, BL_Q_HRNOW);
    c->usec = q->microseconds;
    c->has_flags2 = BL_QHAS(q, BL_Q_FLAGS2);
    c->flags2 = q->flags2;
    c->has_sql_mode = BL_QHAS(q, BL_Q_SQL_MODE);
    c->sql_mode = q->sql_mode;
    c->auto_increment_increment = BL_QHAS(q, BL_Q_AUTO_INCREMENT) ? q->auto_increment_increment : 1;
    c->auto_increment_offset = BL_QHAS(q, BL_Q_AUTO_INCREMENT) ? q->auto_increment_offset : 1;
    c->has_charset = BL_QHAS(q, BL_Q_CHARSET);
    c->charset_client = q->charset_client;
    c->collation_connection = q->collation_connection;
    c->collation_server = q->collation_server;
    if (q->time_zone_len && q->time_zone_len < sizeof c->time_zone)
        memcpy(c->time_zone, q->time_zone, q->time_zone_len);
    c->lc_time_names = q->lc_time_names;
    c->collation_database = q->charset_database;
    const char *to = q->db_len ? rewrite_db(f->e, q->db, q->db_len) : NULL;
    if (to)
        g_strlcpy(c->db, to, sizeof c->db);
    else if (q->db_len < sizeof c->db)
        memcpy(c->db, q->db, q->db_len);
    c->use_db = q->db_len > 0 && !(ev->h.flags & BL_F_SUPPRESS_USE);
    c->error_code = q->error_code;
    c->mariadb = bl_reader_format_for(f->reader, ev)->flavor == BL_FLAVOR_MARIADB;
}

static gboolean db_filtered(Feeder *f, const char *db, gsize len)
{
    const char *want = f->e->cfg.database;
    return want && (strlen(want) != len || memcmp(want, db, len) != 0);
}

static gboolean name_is(const char *name, const guint8 *p, gsize len)
{
    return strlen(name) == len && memcmp(name, p, len) == 0;
}

/* The source's own changes to binlogfs's progress table are never
 * applied: the binlog of a server that binlogfs replayed into holds that
 * replay's progress rows (they commit with each transaction). Applied
 * here they would overwrite this replay's rows with the other replay's
 * positions, and a rerun would resume from those (test 0185). Its setup
 * statements (CREATE ... IF NOT EXISTS, INSERT IGNORE) change nothing here
 * and run as they are; row events of the table are dropped by table_map_event. */
static gboolean is_progress_sql(Feeder *f, const char *sql, gsize len)
{
    for (char **h = f->progress_heads; *h; h++) {
        gsize n = strlen(*h);
        if (len >= n && memcmp(sql, *h, n) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean query_event(Feeder *f, const BlEvent *ev, GError **error)
{
    BlQuery q;
    if (!bl_decode_query(ev, bl_reader_format_for(f->reader, ev), &q, error))
        return FALSE;
    Job *j = f->job;
    BlSqlKind k = bl_sql_classify(q.sql, q.sql_len);
    switch (k) {
    case BL_SQL_BEGIN:
        return TRUE; /* the applier opens its own transaction */
    case BL_SQL_COMMIT:
        return TRUE;
    case BL_SQL_ROLLBACK:
        j->rollback = TRUE;
        return TRUE;
    case BL_SQL_XA_START:
        j->xa_prepare = TRUE;
        bl_job_add_sql(j, q.sql, (gssize)q.sql_len);
        return TRUE;
    case BL_SQL_XA_END:
        bl_job_add_sql(j, q.sql, (gssize)q.sql_len);
        return TRUE;
    default:
        break;
    }
    if (db_filtered(f, q.db, q.db_len) && k != BL_SQL_XA_COMMIT && k != BL_SQL_XA_ROLLBACK)
        return TRUE;
    if (is_progress_sql(f, q.sql, q.sql_len))
        return TRUE;
    QueryCtx ctx;
    fill_ctx(f, ev, &q, &ctx);
    if (ev->h.type == BL_EXECUTE_LOAD_QUERY_EVENT) {
        const char *path = g_hash_table_lookup(f->load_files, GUINT_TO_POINTER(q.file_id));
        if (!path) {
            g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                        "LOAD DATA: the data of file id %u is not in the binlog before it", q.file_id);
            return FALSE;
        }
        /* [fn_pos_start, fn_pos_end) holds " [LOCAL] INFILE 'name' [IGNORE|REPLACE]
         * INTO", as mysqlbinlog rewrites it */
        GString *s = g_string_new_len(q.sql, q.fn_pos_start);
        g_string_append_printf(s, " LOCAL INFILE '%s'", path);
        if (q.dup_handling == 1)
            g_string_append(s, " IGNORE");
        else if (q.dup_handling == 2)
            g_string_append(s, " REPLACE");
        g_string_append(s, " INTO");
        g_string_append_len(s, q.sql + q.fn_pos_end, (gssize)(q.sql_len - q.fn_pos_end));
        Part *p = bl_job_add_query(j, &ctx, s->str, s->len);
        p->load_file = g_strdup(path);
        g_hash_table_remove(f->load_files, GUINT_TO_POINTER(q.file_id));
        g_string_free(s, TRUE);
        return TRUE;
    }
    bl_job_add_query(j, &ctx, q.sql, q.sql_len);
    return TRUE;
}

/* ---- context events ------------------------------------------------------- */

static void append_hex(GString *s, const guint8 *p, gsize n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (gsize i = 0; i < n; i++) {
        g_string_append_c(s, hex[p[i] >> 4]);
        g_string_append_c(s, hex[p[i] & 15]);
    }
}

/* A binary DECIMAL of a User_var event: [precision, scale, bytes]. */
static gboolean decimal_text(const guint8 *v, gsize len, GString *out)
{
    static const int dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
    if (len < 2)
        return FALSE;
    int prec = v[0], scale = v[1];
    if (prec < 1 || prec > 65 || scale > prec || scale > 38)
        return FALSE;
    int intg = prec - scale;
    int ifull = intg / 9, ix = intg % 9, ffull = scale / 9, fx = scale % 9;
    gsize need = (gsize)(ifull * 4 + dig2bytes[ix] + ffull * 4 + dig2bytes[fx]);
    if (len - 2 < need)
        return FALSE;
    guint8 buf[40];
    memcpy(buf, v + 2, need);
    gboolean neg = !(buf[0] & 0x80);
    buf[0] ^= 0x80;
    if (neg)
        for (gsize i = 0; i < need; i++)
            buf[i] = (guint8)~buf[i];
    const guint8 *p = buf;
    GString *digits = g_string_new(NULL);
    gboolean started = FALSE;
#define TAKE(n, digs)                                                                               \
    do {                                                                                            \
        guint32 x = 0;                                                                              \
        for (int b = 0; b < (n); b++)                                                               \
            x = x << 8 | *p++;                                                                      \
        if (started)                                                                                \
            g_string_append_printf(digits, "%0*u", (digs), x);                                      \
        else if (x)                                                                                 \
            g_string_append_printf(digits, "%u", x);                                                \
        if (x)                                                                                      \
            started = TRUE;                                                                         \
    } while (0)
    if (ix)
        TAKE(dig2bytes[ix], ix);
    for (int i = 0; i < ifull; i++)
        TAKE(4, 9);
#undef TAKE
    g_string_append(out, neg ? "-" : "");
    g_string_append(out, digits->len ? digits->str : "0");
    if (scale) {
        g_string_append_c(out, '.');
        for (int i = 0; i < ffull; i++) {
            guint32 x = (guint32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
            p += 4;
            g_string_append_printf(out, "%09u", x);
        }
        if (fx) {
            guint32 x = 0;
            for (int b = 0; b < dig2bytes[fx]; b++)
                x = x << 8 | *p++;
            g_string_append_printf(out, "%0*u", fx, x);
        }
    }
    g_string_free(digits, TRUE);
    return TRUE;
}

static gboolean user_var_event(Feeder *f, const BlEvent *ev, GError **error)
{
    BlUserVar uv;
    if (!bl_decode_user_var(ev, bl_reader_format_for(f->reader, ev), &uv, error))
        return FALSE;
    GString *s = g_string_new("SET @`");
    for (guint i = 0; i < uv.name_len; i++) {
        if (uv.name[i] == '`')
            g_string_append_c(s, '`');
        g_string_append_c(s, uv.name[i]);
    }
    g_string_append(s, "`:=");
    if (uv.is_null) {
        g_string_append(s, "NULL");
    } else if (uv.type == 0) {
        const char *cs = bl_engine_collation_charset(f->e, uv.charset);
        const char *co = bl_engine_collation_name(f->e, uv.charset);
        if (!cs || !co) {
            g_string_free(s, TRUE);
            g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                        "User_var @%.*s: collation id %u is unknown to the target server",
                        (int)uv.name_len, uv.name, uv.charset);
            return FALSE;
        }
        g_string_append_printf(s, "_%s X'", cs);
        append_hex(s, uv.value, uv.value_len);
        g_string_append_printf(s, "' COLLATE `%s`", co);
    } else if (uv.type == 1 && uv.value_len == 8) {
        double d;
        memcpy(&d, uv.value, 8);
        g_string_append_printf(s, "%.17g", d);
    } else if (uv.type == 2 && uv.value_len == 8) {
        guint64 v = bl_u64(uv.value);
        if (uv.flags & 1)
            g_string_append_printf(s, "%" G_GUINT64_FORMAT, v);
        else
            g_string_append_printf(s, "%" G_GINT64_FORMAT, (gint64)v);
    } else if (uv.type == 4 && decimal_text(uv.value, uv.value_len, s)) {
        /* appended */
    } else {
        g_string_free(s, TRUE);
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "User_var: value of type %u cannot be decoded",
                    uv.type);
        return FALSE;
    }
    bl_job_add_sql(f->job, s->str, (gssize)s->len);
    g_string_free(s, TRUE);
    return TRUE;
}

static gboolean load_block(Feeder *f, const BlEvent *ev, GError **error)
{
    BlLoadBlock lb;
    if (!bl_decode_load_block(ev, bl_reader_format_for(f->reader, ev), &lb, error))
        return FALSE;
    const char *path = g_hash_table_lookup(f->load_files, GUINT_TO_POINTER(lb.file_id));
    int fd;
    if (!path || ev->h.type == BL_BEGIN_LOAD_QUERY_EVENT) {
        char *p = g_strdup_printf("%s/binlogfs-load-%d-%u-%" G_GUINT64_FORMAT, f->e->cfg.tmpdir,
                                  (int)getpid(), lb.file_id, f->next_seq);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            g_set_error(error, BL_ERROR, BL_ERROR_IO, "LOAD DATA: cannot create %s: %s", p,
                        g_strerror(errno));
            g_free(p);
            return FALSE;
        }
        g_hash_table_replace(f->load_files, GUINT_TO_POINTER(lb.file_id), p);
        path = p;
    } else {
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    }
    gboolean ok = fd >= 0 && write(fd, lb.data, lb.len) == (ssize_t)lb.len;
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "LOAD DATA: cannot write %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* ---- rows ------------------------------------------------------------------ */

static gboolean rows_event(Feeder *f, const BlEvent *ev)
{
    if (g_hash_table_size(f->filtered_tables)) {
        guint64 id = bl_u48(ev->body);
        if (g_hash_table_contains(f->filtered_tables, &id))
            return TRUE;
    }
    GByteArray *b = normalize(f, ev);
    if (b) {
        bl_job_add_rows(f->job, b->data, b->len);
        g_byte_array_unref(b);
    } else {
        bl_job_add_rows(f->job, ev->data, ev->h.size);
    }
    return TRUE;
}

/* Whether a Table_map's table is not applied: another database than
 * --database, or binlogfs's own progress table. Its body after the post
 * header: [len][db]\0[len][table]\0... */
static gboolean table_dropped(Feeder *f, const BlEvent *ev, guint phl)
{
    gsize n = ev->body_len;
    if (n <= (gsize)phl + 1)
        return FALSE;
    const guint8 *db = ev->body + phl + 1;
    guint8 len = ev->body[phl];
    if ((gsize)phl + 1 + len > n)
        return FALSE;
    if (db_filtered(f, (const char *)db, len))
        return TRUE;
    if ((gsize)phl + 1 + len + 2 > n || (gsize)phl + 1 + len + 2 + db[len + 1] > n)
        return FALSE;
    return name_is(f->e->progress_db, db, len) && name_is(f->e->progress_table, db + len + 2, db[len + 1]);
}

static gboolean table_map_event(Feeder *f, const BlEvent *ev)
{
    const BlFormat *fmt = bl_reader_format_for(f->reader, ev);
    guint phl = fmt->post_header_len[BL_TABLE_MAP_EVENT];
    if (table_dropped(f, ev, phl)) {
        guint64 *id = g_new(guint64, 1);
        *id = phl == 6 ? bl_u32(ev->body) : bl_u48(ev->body);
        g_hash_table_add(f->filtered_tables, id);
        return TRUE;
    }
    return rows_event(f, ev);
}

/* ---- transactions ------------------------------------------------------------ */

static void end_stream(Feeder *f, Job *j, gboolean abort);

/* Drops the job being built. A streamed one belongs to its applier: it
 * is told to roll back (its transaction never committed on the source). */
static void drop_job(Feeder *f)
{
    if (f->job && f->job->streaming) {
        g_message("%s: streamed transaction %s never committed on the source: rolled back",
                  f->file, f->job->gtid_text);
        end_stream(f, f->job, TRUE);
        f->streamed = NULL;
    } else {
        bl_job_free(f->job);
    }
    f->job = NULL;
}

static void new_job(Feeder *f)
{
    drop_job(f);
    f->job = bl_job_new();
    f->job->fde = g_bytes_ref(f->fde);
    f->job->file = g_strdup(f->file);
    f->job->file_seq = f->file_index;
    if (f->filtered_tables)
        g_hash_table_remove_all(f->filtered_tables);
}

/* Waits until the bytes in flight leave room for `bytes` more. */
static void wait_memory(BlEngine *e, gsize bytes)
{
    g_mutex_lock(&e->lock);
    while (e->inflight_bytes > 0 && e->inflight_bytes + bytes > e->cfg.memory_limit &&
           !e->shutting_down) {
        e->mem_wanted = bytes;
        g_cond_wait(&e->mem_cond, &e->lock);
    }
    e->mem_wanted = 0;
    e->inflight_bytes += bytes;
    g_mutex_unlock(&e->lock);
}

static gboolean position_le(const char *fa, guint64 pa, const char *fb, guint64 pb)
{
    int c = bl_binlog_name_cmp(fa, fb);
    return c < 0 || (c == 0 && pa <= pb);
}

typedef enum { TRX_APPLY, TRX_SKIP, TRX_DONE_BEFORE, TRX_STOP } TrxFate;

static TrxFate fate(Feeder *f, const BlTrx *t)
{
    BlEngine *e = f->e;
    /* resume points are transaction ends: a transaction starting before
     * one was applied by the earlier run */
    if (e->resume_file && position_le(f->file, t->start_pos + 1, e->resume_file, e->resume_pos))
        return TRX_DONE_BEFORE;
    if (t->end_pos && g_hash_table_size(e->resume_done)) {
        char key[600];
        g_snprintf(key, sizeof key, "%s:%" G_GUINT64_FORMAT, f->file, t->end_pos);
        if (g_hash_table_contains(e->resume_done, key))
            return TRX_DONE_BEFORE;
    }
    const BlSpec *stop = &e->cfg.stop_at;
    if (stop->kind != BL_SPEC_NONE && bl_spec_compare(stop, f->file, t) >= 0)
        return TRX_STOP;
    const BlSpec *start = &e->cfg.start_at;
    if (!f->start_reached && start->kind != BL_SPEC_NONE) {
        if (bl_spec_compare(start, f->file, t) < 0)
            return TRX_SKIP;
        f->start_reached = TRUE;
    }
    if (e->cfg.exclude_gtids && bl_gtid_set_contains(e->cfg.exclude_gtids, &t->gtid))
        return TRX_SKIP;
    if (t->flags & BL_TRXF_INCOMPLETE)
        return TRX_SKIP;
    return TRX_APPLY;
}

/* The dependency: write sets for row transactions, the source's hints
 * where write sets cannot tell (statements), a barrier otherwise. */
static guint64 job_dep(Feeder *f, BlTrx *t)
{
    guint64 ws = bl_dep_add(f->dep, t);
    guint64 hint = bl_hint_dep(&f->hints, t, f->new_file);
    f->new_file = FALSE;
    const char *why = bl_trx_barrier_reason(t);
    if (!why)
        return ws;
    if (g_str_equal(why, "statement") && !(t->flags & BL_TRXF_THREAD_SPECIFIC))
        return MIN(hint, t->seq - 1);
    return t->seq - 1;
}

#define STREAM_CHUNK (1u << 20)

static gsize stream_threshold(const BlEngine *e)
{
    return MIN((gsize)16 << 20, e->cfg.memory_limit / 4);
}

/* Moves the job's parts to its stream, within the memory limit. */
static void stream_parts(Feeder *f, Job *j, gboolean all)
{
    while (j->parts->len > (all ? 0u : 1u)) {
        Part *p = g_ptr_array_steal_index(j->parts, 0);
        gsize n = p->data->len + sizeof *p;
        j->stream_pending -= MIN(j->stream_pending, n);
        wait_memory(f->e, n);
        g_async_queue_push(j->stream, p);
    }
}

static void end_stream(Feeder *f, Job *j, gboolean abort)
{
    stream_parts(f, j, TRUE);
    j->abort = abort;
    g_async_queue_push(j->stream, bl_part_new(PART_END));
}

/* A transaction above the threshold is handed out before its end: it
 * runs alone (a barrier), its parts follow as they are read. */
static void maybe_stream(Feeder *f)
{
    Job *j = f->job;
    const BlTrx *cur = bl_trx_builder_current(f->builder);
    if (!j || !cur || j->discard)
        return;
    if (j->streaming) {
        if (j->stream_pending >= STREAM_CHUNK || j->parts->len > 1)
            stream_parts(f, j, j->stream_pending >= STREAM_CHUNK);
        return;
    }
    if (j->bytes < stream_threshold(f->e))
        return;
    BlTrx probe = *cur;
    probe.commit_time_us = 0;
    TrxFate what = fate(f, &probe);
    if (what == TRX_SKIP || what == TRX_DONE_BEFORE) {
        j->discard = TRUE;
        if (what == TRX_SKIP)
            bl_engine_count_skipped(f->e, 1);
        g_ptr_array_set_size(j->parts, 0);
        j->bytes = 0;
        return;
    }
    if (what == TRX_STOP)
        return; /* decided at its end, when it is dropped */
    g_mutex_lock(&f->e->lock);
    f->e->trx_total++;
    g_mutex_unlock(&f->e->lock);
    j->seq = ++f->next_seq;
    j->dep = j->seq - 1;
    j->barrier = TRUE;
    j->streaming = TRUE;
    j->stream = g_async_queue_new();
    /* what is read so far goes with the job; what follows, through the
     * stream: the feeder never touches the applier's array */
    j->head = j->parts;
    j->parts = g_ptr_array_new_with_free_func((GDestroyNotify)bl_part_free);
    j->gtid = cur->gtid;
    j->start_pos = cur->start_pos;
    bl_gtid_format(&cur->gtid, j->gtid_text, sizeof j->gtid_text);
    j->xa_prepare = j->xa_prepare || (cur->gtid.flags2 & BL_FL_PREPARED_XA);
    g_message("%s:%" G_GUINT64_FORMAT ": transaction %s above %zu MiB: streamed, applied alone",
              f->file, cur->start_pos, j->gtid_text, stream_threshold(f->e) >> 20);
    wait_memory(f->e, j->bytes);
    bl_sched_send(f->e, MSG_JOB, j, 0, NULL);
    f->streamed = j;
}

static gboolean finish_trx(Feeder *f, BlTrx *t)
{
    Job *j = f->job;
    f->job = NULL;
    f->file_trx_bytes += t->bytes;
    if (j && j->discard) {
        bl_engine_count_passed_bytes(f->e, t->bytes);
        bl_job_free(j);
        bl_trx_free(t);
        return TRUE;
    }
    if (j && j->streaming) {
        gboolean stop = f->e->cfg.stop_at.kind != BL_SPEC_NONE && bl_spec_compare(&f->e->cfg.stop_at, f->file, t) >= 0;
        gboolean incomplete = (t->flags & BL_TRXF_INCOMPLETE) != 0;
        t->seq = j->seq;
        t->flags |= BL_TRXF_TOO_LARGE;
        bl_dep_add(f->dep, t);
        bl_hint_dep(&f->hints, t, f->new_file);
        f->new_file = FALSE;
        j->trx = t;
        j->non_transactional = (t->flags & BL_TRXF_NON_TRANSACTIONAL) != 0;
        f->streamed = NULL;
        if (stop)
            bl_engine_hold_trx(f->e, f->file, t);
        end_stream(f, j, stop || incomplete); /* the applier owns j from here */
        return !stop;
    }
    TrxFate what = fate(f, t);
    if (what != TRX_APPLY) {
        if (what == TRX_SKIP)
            bl_engine_count_skipped(f->e, 1);
        if (what == TRX_STOP)
            bl_engine_hold_trx(f->e, f->file, t);
        else
            bl_engine_count_passed_bytes(f->e, t->bytes);
        bl_job_free(j);
        bl_trx_free(t);
        return what != TRX_STOP;
    }
    g_mutex_lock(&f->e->lock);
    f->e->trx_total++;
    g_mutex_unlock(&f->e->lock);
    t->seq = ++f->next_seq;
    j->seq = t->seq;
    j->dep = job_dep(f, t);
    j->barrier = bl_trx_is_barrier(t);
    bl_gtid_format(&t->gtid, j->gtid_text, sizeof j->gtid_text);
    j->standalone = t->kind == BL_TRX_DDL || t->kind == BL_TRX_XA_COMMIT ||
                    (t->gtid.kind == BL_GTID_MARIADB && (t->gtid.flags2 & BL_FL_STANDALONE));
    j->non_transactional = (t->flags & BL_TRXF_NON_TRANSACTIONAL) != 0;
    if (t->flags & BL_TRXF_THREAD_SPECIFIC) {
        j->pinned = TRUE;
        j->pin_thread = t->thread_id;
    }
    j->trx = t;
    /* what the job costs besides its SQL: it counts against the limit */
    j->bytes += sizeof *j + sizeof *t + 64 * (j->parts->len + t->tables->len) +
                8 * (t->keys->len + t->table_keys->len) + 256;
    j->gtid = t->gtid;
    j->start_pos = t->start_pos;
    j->kind_hint = t->kind;
    if (t->kind == BL_TRX_DDL && f->catalog)
        bl_catalog_invalidate(f->catalog, j->seq);
    wait_memory(f->e, j->bytes);
    bl_sched_send(f->e, MSG_JOB, j, 0, NULL);
    return TRUE;
}

/* Translates one event into the job being built. */
static gboolean event_to_job(Feeder *f, const BlEvent *ev, GError **error)
{
    switch (ev->h.type) {
    case BL_QUERY_EVENT:
    case BL_EXECUTE_LOAD_QUERY_EVENT:
        return query_event(f, ev, error);
    case BL_TABLE_MAP_EVENT:
        return table_map_event(f, ev);
    case BL_INTVAR_EVENT: {
        BlIntvar iv;
        if (!bl_decode_intvar(ev, bl_reader_format_for(f->reader, ev), &iv, error))
            return FALSE;
        char sql[64];
        g_snprintf(sql, sizeof sql, "SET %s=%" G_GUINT64_FORMAT,
                   iv.kind == 1 ? "LAST_INSERT_ID" : "INSERT_ID", iv.value);
        bl_job_add_sql(f->job, sql, -1);
        return TRUE;
    }
    case BL_RAND_EVENT: {
        BlRand rd;
        if (!bl_decode_rand(ev, bl_reader_format_for(f->reader, ev), &rd, error))
            return FALSE;
        char sql[96];
        g_snprintf(sql, sizeof sql, "SET @@RAND_SEED1=%" G_GUINT64_FORMAT ", @@RAND_SEED2=%" G_GUINT64_FORMAT,
                   rd.seed1, rd.seed2);
        bl_job_add_sql(f->job, sql, -1);
        return TRUE;
    }
    case BL_USER_VAR_EVENT:
        return user_var_event(f, ev, error);
    case BL_BEGIN_LOAD_QUERY_EVENT:
    case BL_APPEND_BLOCK_EVENT:
        return load_block(f, ev, error);
    case BL_DELETE_FILE_EVENT:
        return TRUE;
    case BL_ANNOTATE_ROWS_EVENT:
    case BL_ROWS_QUERY_EVENT: {
        const char *sql;
        gsize len;
        if (!f->job->annotate && bl_decode_annotate(ev, bl_reader_format_for(f->reader, ev), &sql, &len, NULL))
            f->job->annotate = g_strndup(sql, len);
        return TRUE;
    }
    case BL_XA_PREPARE_EVENT: {
        BlXaPrepare xa;
        if (!bl_decode_xa_prepare(ev, bl_reader_format_for(f->reader, ev), &xa, error))
            return FALSE;
        g_autofree char *x = bl_xid_format(&xa.xid);
        g_autofree char *sql = g_strdup_printf("XA PREPARE %s", x);
        bl_job_add_sql(f->job, sql, -1);
        f->job->xa_prepare = TRUE;
        return TRUE;
    }
    case BL_INCIDENT_EVENT:
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "Incident event: the source lost events here (e.g. LOST_EVENTS); replaying "
                    "past this point would not give the source's data. Restore from a backup "
                    "taken after it, or use --start-at past it knowingly");
        return FALSE;
    case BL_PARTIAL_ROW_DATA_EVENT:
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "Partial_row_data event (MariaDB 12.3 fragmented rows) is not supported yet");
        return FALSE;
    default:
        break;
    }
    if (bl_event_is_rows(ev->h.type))
        return rows_event(f, ev);
    switch (ev->h.type) {
    case BL_LOAD_EVENT: case BL_CREATE_FILE_EVENT: case BL_EXEC_LOAD_EVENT: case BL_NEW_LOAD_EVENT:
    case BL_PRE_GA_WRITE_ROWS_EVENT: case BL_PRE_GA_UPDATE_ROWS_EVENT:
    case BL_PRE_GA_DELETE_ROWS_EVENT: case BL_SLAVE_EVENT:
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "%s event (MySQL 5.0/5.1 pre-GA format) cannot be replayed",
                    bl_event_type_name(ev->h.type));
        return FALSE;
    default:
        return TRUE; /* GTIDs, Xid, annotations, payload headers: metadata only */
    }
}

static gboolean starts_trx(guint8 type)
{
    return type == BL_MARIA_GTID_EVENT || type == BL_GTID_EVENT || type == BL_ANONYMOUS_GTID_EVENT ||
           type == BL_GTID_TAGGED_EVENT;
}

/* Reads one file to its end. Returns FALSE on an error (recorded) or
 * when the stop point is reached (*stopped). */
static gboolean feed_file(Feeder *f, FileEntry *fe, gboolean *stopped, GError **error)
{
    f->reader = bl_reader_open(fe->path, fe->name, error);
    if (!f->reader)
        return FALSE;
    f->file = fe->name;
    f->new_file = TRUE;
    f->file_trx_bytes = 0;
    g_clear_pointer(&f->next_name, g_free);
    const BlEvent *ev;
    gboolean ok = TRUE;
    while (ok && bl_reader_next(f->reader, &ev, error)) {
        if (g_atomic_int_get(&f->e->shutting_down))
            break;
        if (ev->h.type == BL_FORMAT_DESCRIPTION_EVENT) {
            if (f->fde)
                g_bytes_unref(f->fde);
            f->fde = g_bytes_new(ev->data, ev->h.size);
            f->fde_crc = bl_reader_format(f->reader)->checksum_alg == BL_CHECKSUM_CRC32;
        } else if (ev->h.type == BL_ROTATE_EVENT && !(ev->h.flags & BL_F_ARTIFICIAL) && !ev->inner) {
            BlRotate rot;
            if (bl_decode_rotate(ev, bl_reader_format(f->reader), &rot, NULL))
                f->next_name = g_strndup(rot.name, rot.name_len);
        }
        if (starts_trx(ev->h.type) || !f->job)
            new_job(f);
        BlTrx *done = NULL, *cut = NULL;
        if (!bl_trx_builder_feed(f->builder, f->reader, ev, &done, &cut, error)) {
            ok = FALSE;
            break;
        }
        if (cut) { /* never committed on the source: drop it */
            g_message("%s: transaction at %" G_GUINT64_FORMAT " never committed on the source; not applied",
                      fe->name, cut->start_pos);
            bl_trx_free(cut);
            if (!starts_trx(ev->h.type))
                new_job(f);
        }
        GError *e = NULL;
        if (!event_to_job(f, ev, &e)) {
            g_set_error(error, BL_ERROR, e->code, "%s:%" G_GUINT64_FORMAT ": %s", fe->name, ev->offset,
                        e->message);
            g_error_free(e);
            ok = FALSE;
            break;
        }
        if (f->job && f->job->discard) {
            g_ptr_array_set_size(f->job->parts, 0);
            f->job->bytes = 0;
        } else if (!done) {
            maybe_stream(f);
        }
        if (done && !finish_trx(f, done)) {
            *stopped = TRUE;
            break;
        }
    }
    BlTrx *open_trx = bl_trx_builder_finish(f->builder);
    if (open_trx) {
        /* after a read error the transaction is cut by it, not uncommitted */
        if (ok && !*error && !*stopped && !g_atomic_int_get(&f->e->shutting_down))
            g_message("%s: ends inside a transaction (from %" G_GUINT64_FORMAT ") that never committed; "
                      "it is not applied", fe->name, open_trx->start_pos);
        bl_trx_free(open_trx);
    }
    drop_job(f);
    if (*error && ok)
        ok = FALSE;
    if (ok && !*stopped) { /* the events outside transactions: headers, rotate */
        guint64 end = bl_reader_position(f->reader);
        bl_engine_count_passed_bytes(f->e, end > f->file_trx_bytes ? end - f->file_trx_bytes : 0);
    }
    if (*error && (*error)->code == BL_ERROR_TRUNCATED) {
        GError *tmp = *error;
        *error = g_error_new(BL_ERROR, tmp->code, "%s (the last complete transaction ends at %s:%" G_GUINT64_FORMAT ")",
                             tmp->message, fe->name, bl_trx_builder_last_complete(f->builder));
        g_error_free(tmp);
    }
    g_clear_pointer(&f->reader, bl_reader_free);
    return ok;
}

/* Picks the next file to read, waiting for it when following. Returns
 * NULL when there is nothing more (the engine state says why). */
static FileEntry *next_file(Feeder *f, const char *prev)
{
    BlEngine *e = f->e;
    g_mutex_lock(&e->lock);
    FileEntry *found = NULL;
    for (;;) {
        if (e->shutting_down)
            break;
        for (guint i = 0; i < e->files->len && !found; i++) {
            FileEntry *fe = g_ptr_array_index(e->files, i);
            if (prev && bl_binlog_name_cmp(fe->name, prev) <= 0)
                continue;
            if (!prev && e->resume_file && bl_binlog_name_cmp(fe->name, e->resume_file) < 0) {
                fe->state = "applied";
                continue;
            }
            if (!prev && e->cfg.start_at.kind == BL_SPEC_POSITION &&
                bl_binlog_name_cmp(fe->name, e->cfg.start_at.file) < 0) {
                fe->state = "skipped";
                continue;
            }
            found = fe;
        }
        if (found && prev && f->next_name && !g_str_equal(found->name, f->next_name)) {
            /* a gap: the next file in sequence is missing */
            g_free(e->waiting_for);
            e->waiting_for = g_strdup(f->next_name);
            found = NULL;
        }
        if (found) {
            g_clear_pointer(&e->waiting_for, g_free);
            found->state = "reading";
            break;
        }
        if (!e->cfg.follow)
            break;
        if (prev && f->next_name && !e->waiting_for)
            e->waiting_for = g_strdup(f->next_name);
        e->feeder_waiting = TRUE;
        g_cond_broadcast(&e->changed);
        bl_sched_send(e, MSG_WAKE, NULL, 0, NULL);
        g_cond_wait(&e->feeder_cond, &e->lock);
        e->feeder_waiting = FALSE;
    }
    g_mutex_unlock(&e->lock);
    return found;
}

void bl_feeder_kick(BlEngine *e)
{
    g_mutex_lock(&e->lock);
    g_cond_broadcast(&e->feeder_cond);
    g_mutex_unlock(&e->lock);
}

gpointer bl_feeder_main(gpointer data)
{
    BlEngine *e = data;
    Feeder f = { .e = e };
    GError *cerr = NULL;
    f.catalog = bl_catalog_new(e, &cerr);
    if (!f.catalog) {
        g_warning("cannot read the target's keys (%s): write sets use the binlog's primary keys only",
                  cerr->message);
        g_error_free(cerr);
    }
    BlTrxOptions topt = { .key_lookup = f.catalog ? bl_catalog_keys : NULL, .key_lookup_data = f.catalog };
    f.builder = bl_trx_builder_new(&topt);
    f.dep = bl_dep_new(1u << 20);
    bl_hint_init(&f.hints);
    f.filtered_tables = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    f.progress_heads = bl_progress_sql_heads(e->progress_db, e->progress_table);
    f.load_files = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    char *prev = NULL;
    BlEngineState end = BL_STATE_IDLE;
    char *err_text = NULL;
    for (;;) {
        FileEntry *fe = next_file(&f, prev);
        if (!fe) {
            g_mutex_lock(&e->lock);
            if (e->waiting_for && !e->shutting_down) {
                end = BL_STATE_FAILED;
                err_text = g_strdup_printf("%s is missing: %s ends with a Rotate to it", e->waiting_for,
                                           prev ? prev : "?");
            }
            g_mutex_unlock(&e->lock);
            break;
        }
        GError *error = NULL;
        gboolean stopped = FALSE;
        gboolean ok = feed_file(&f, fe, &stopped, &error);
        g_mutex_lock(&e->lock);
        fe->state = ok ? "read" : stopped ? "stopped" : "failed";
        if (error)
            fe->error = g_strdup(error->message);
        g_mutex_unlock(&e->lock);
        g_free(prev);
        prev = g_strdup(fe->name);
        if (stopped) {
            end = BL_STATE_STOPPED;
            break;
        }
        if (!ok) {
            end = BL_STATE_FAILED;
            err_text = g_strdup(error ? error->message : "read failed");
            g_clear_error(&error);
            break;
        }
    }
    if (end == BL_STATE_IDLE && !e->cfg.follow && e->cfg.start_at.kind != BL_SPEC_NONE &&
        !f.start_reached && !e->resume_file && !g_hash_table_size(e->resume_done)) {
        /* a mistyped start point must not look like a finished restore */
        end = BL_STATE_FAILED;
        err_text = g_strdup_printf("--start-at %s: no transaction at or after that point in the files "
                                   "given; nothing was applied", e->cfg.start_at.text);
    }
    g_mutex_lock(&e->lock);
    e->feed_end_state = end;
    g_mutex_unlock(&e->lock);
    bl_sched_send(e, MSG_FEED_END, NULL, 0, err_text);
    g_free(err_text);
    g_free(prev);
    g_free(f.next_name);
    if (f.fde)
        g_bytes_unref(f.fde);
    g_hash_table_destroy(f.filtered_tables);
    g_strfreev(f.progress_heads);
    g_hash_table_destroy(f.load_files);
    bl_dep_free(f.dep);
    bl_trx_builder_free(f.builder);
    bl_catalog_free(f.catalog);
    return NULL;
}
