/* binlogfs — grouping a stream of events into transactions.
 *
 * DESIGN: a small state machine over event types. A transaction starts at
 * a GTID event (or, in files without GTIDs, at BEGIN / the first context or
 * statement event) and ends at Xid, Query COMMIT/ROLLBACK, XA_prepare, or
 * — for standalone groups (MariaDB FL_STANDALONE, MySQL GTID not followed
 * by BEGIN) — at its one statement. A GTID or FDE arriving inside an open
 * transaction cuts it: it never committed on the source.
 * Invariant: the builder holds metadata only; the write set stops growing
 * at max_keys and the transaction is then flagged TOO_LARGE.
 */
#include <string.h>

#include <binlogfs/trx.h>

#define DEFAULT_MAX_KEYS 200000

struct BlTrxBuilder {
    BlTrxOptions opt;
    BlTableCache *tables;
    BlTrx *cur;
    gboolean standalone;   /* ends with its first statement */
    gboolean saw_begin;
    gboolean has_rows, has_stmt, has_ddl, xa_prepare, xa_commit;
    guint64 seq;
    guint64 last_complete;
    guint64 payload_end;   /* end of the Transaction_payload being read */
    BlValue *before, *after;
    guint n_values;
    GHashTable *table_names; /* table hashes in cur->tables, for dedup */
    GHashTable *interned;    /* table hash -> "db.table" (g_intern_string) */
};

const char *bl_trx_kind_name(BlTrxKind k)
{
    static const char *const names[] = { "rows", "statement", "mixed", "ddl", "xa-prepare",
                                         "xa-commit", "empty" };
    return k < G_N_ELEMENTS(names) ? names[k] : "?";
}

void bl_trx_free(BlTrx *t)
{
    if (!t)
        return;
    if (t->tables)
        g_ptr_array_unref(t->tables);
    if (t->keys)
        g_array_unref(t->keys);
    if (t->table_keys)
        g_array_unref(t->table_keys);
    g_free(t);
}

BlTrxBuilder *bl_trx_builder_new(const BlTrxOptions *opt)
{
    BlTrxBuilder *b = g_new0(BlTrxBuilder, 1);
    if (opt)
        b->opt = *opt;
    if (!b->opt.max_keys)
        b->opt.max_keys = DEFAULT_MAX_KEYS;
    b->tables = bl_table_cache_new();
    b->table_names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    b->interned = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    b->last_complete = BL_MAGIC_LEN;
    return b;
}

void bl_trx_builder_free(BlTrxBuilder *b)
{
    if (!b)
        return;
    bl_trx_free(b->cur);
    bl_table_cache_free(b->tables);
    g_hash_table_destroy(b->table_names);
    g_hash_table_destroy(b->interned);
    g_free(b->before);
    g_free(b->after);
    g_free(b);
}

const BlTrx *bl_trx_builder_current(const BlTrxBuilder *b)
{
    return b->cur;
}

gboolean bl_trx_builder_in_trx(const BlTrxBuilder *b)
{
    return b->cur != NULL;
}

guint64 bl_trx_builder_last_complete(const BlTrxBuilder *b)
{
    return b->last_complete;
}

static void start(BlTrxBuilder *b, const BlEvent *ev)
{
    BlTrx *t = g_new0(BlTrx, 1);
    t->seq = ++b->seq;
    t->start_pos = ev->offset;
    t->tables = g_ptr_array_new();
    t->keys = g_array_new(FALSE, FALSE, sizeof(guint64));
    t->table_keys = g_array_new(FALSE, FALSE, sizeof(guint64));
    b->cur = t;
    b->standalone = FALSE;
    b->saw_begin = FALSE;
    b->has_rows = b->has_stmt = b->has_ddl = b->xa_prepare = b->xa_commit = FALSE;
    g_hash_table_remove_all(b->table_names);
}

static BlTrx *finish(BlTrxBuilder *b, const BlEvent *ev)
{
    BlTrx *t = b->cur;
    b->cur = NULL;
    if (b->xa_prepare)
        t->kind = BL_TRX_XA_PREPARE;
    else if (b->xa_commit)
        t->kind = BL_TRX_XA_COMMIT;
    else if (b->has_ddl)
        t->kind = BL_TRX_DDL;
    else if (b->has_rows && b->has_stmt)
        t->kind = BL_TRX_MIXED;
    else if (b->has_rows)
        t->kind = BL_TRX_ROWS;
    else if (b->has_stmt)
        t->kind = BL_TRX_STATEMENT;
    else
        t->kind = BL_TRX_EMPTY;
    if (t->gtid.kind == BL_GTID_MYSQL || t->gtid.kind == BL_GTID_ANONYMOUS)
        if (t->gtid.immediate_commit_us)
            t->commit_time_us = t->gtid.immediate_commit_us;
    if (!t->commit_time_us && ev)
        t->commit_time_us = (guint64)ev->h.timestamp * G_USEC_PER_SEC;
    return t;
}

static void account(BlTrxBuilder *b, const BlEvent *ev)
{
    b->cur->n_events++;
    if (!ev->inner)
        b->cur->bytes += ev->stored_size;
}

static void add_table(BlTrxBuilder *b, const BlTableMap *tm)
{
    /* keyed by the map's table hash: no string is built for a table the
     * transaction already names (Table_maps repeat before every statement) */
    guint64 h = tm->table_hash ? tm->table_hash : bl_table_hash(tm->db, tm->table);
    if (g_hash_table_contains(b->table_names, &h))
        return;
    guint64 *k = g_new(guint64, 1);
    *k = h;
    g_hash_table_add(b->table_names, k);
    const char *name = g_hash_table_lookup(b->interned, &h);
    if (!name) {
        g_autofree char *s = g_strdup_printf("%s.%s", tm->db, tm->table);
        name = g_intern_string(s);
        guint64 *k2 = g_new(guint64, 1);
        *k2 = h;
        g_hash_table_insert(b->interned, k2, (gpointer)name);
    }
    g_ptr_array_add(b->cur->tables, (gpointer)name);
}

static void add_key(BlTrxBuilder *b, guint64 h)
{
    BlTrx *t = b->cur;
    if (t->flags & BL_TRXF_TOO_LARGE)
        return;
    if (t->keys->len >= b->opt.max_keys) {
        t->flags |= BL_TRXF_TOO_LARGE;
        g_array_set_size(t->keys, 0);
        return;
    }
    g_array_append_val(t->keys, h);
}

/* Records a write to a table: shared (keyed rows) or exclusive (the
 * whole table); exclusive wins over shared. */
static void add_table_key(BlTrxBuilder *b, guint64 table, gboolean exclusive)
{
    GArray *a = b->cur->table_keys;
    guint64 base = table & ~G_GUINT64_CONSTANT(1);
    for (guint i = 0; i < a->len; i++) {
        guint64 *k = &g_array_index(a, guint64, i);
        if ((*k & ~G_GUINT64_CONSTANT(1)) == base) {
            *k |= exclusive ? 1 : 0;
            return;
        }
    }
    guint64 v = base | (exclusive ? 1 : 0);
    g_array_append_val(a, v);
}

static void image_keys(BlTrxBuilder *b, const BlTableMap *tm, const BlKeyDef *defs, guint n,
                       const BlValue *vals)
{
    for (guint k = 0; k < n; k++) {
        const BlKeyDef *d = &defs[k];
        guint64 h;
        if (bl_key_hash(tm, k, d, vals, &h)) {
            add_key(b, h);
            continue;
        }
        /* A key part absent from the image (binlog_row_image=MINIMAL or
         * NOBLOB): its value is unknown, so the row may conflict with any
         * row of the key's table. NULL parts never conflict. */
        for (guint i = 0; i < d->n_parts; i++) {
            if (d->col[i] < tm->n_columns && !vals[d->col[i]].present) {
                add_table_key(b, d->space ? d->space : bl_table_hash(tm->db, tm->table), TRUE);
                break;
            }
        }
    }
}

static gboolean rows_event(BlTrxBuilder *b, const BlReader *r, const BlEvent *ev, GError **error)
{
    const BlFormat *fmt = bl_reader_format_for(r, ev);
    BlRows rows;
    if (!bl_rows_decode(ev, fmt, &rows, error))
        return FALSE;
    const BlTableMap *tm = bl_table_cache_get(b->tables, rows.table_id);
    if (!tm) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "rows event for table id %" G_GUINT64_FORMAT " without a Table_map before it",
                    rows.table_id);
        return FALSE;
    }
    b->has_rows = TRUE;
    if (rows.is_partial)
        b->cur->flags |= BL_TRXF_PARTIAL_JSON;
    const BlKeyDef *defs = NULL;
    guint n_defs = 0;
    const GArray *looked = b->opt.key_lookup ? b->opt.key_lookup(tm, b->opt.key_lookup_data) : NULL;
    if (looked) {
        defs = (const BlKeyDef *)(gconstpointer)looked->data;
        n_defs = looked->len;
    } else if (tm->has_pk) {
        defs = &tm->pk;
        n_defs = 1;
    }
    gboolean want_keys = n_defs > 0 && !(b->cur->flags & BL_TRXF_TOO_LARGE);
    if (n_defs == 0) {
        b->cur->flags |= BL_TRXF_NO_KEYS;
        add_table_key(b, bl_table_hash(tm->db, tm->table), TRUE);
    } else {
        add_table_key(b, bl_table_hash(tm->db, tm->table), FALSE);
    }
    if (b->n_values < tm->n_columns) {
        b->n_values = tm->n_columns;
        b->before = g_renew(BlValue, b->before, b->n_values);
        b->after = g_renew(BlValue, b->after, b->n_values);
    }
    BlRowIter it;
    bl_row_iter_init(&it, &rows, tm);
    GError *e = NULL;
    while (bl_row_iter_next(&it, want_keys ? b->before : NULL, want_keys ? b->after : NULL, &e)) {
        b->cur->n_rows++;
        if (!want_keys || (b->cur->flags & BL_TRXF_TOO_LARGE))
            continue;
        if (!rows.is_update && !rows.is_delete)
            image_keys(b, tm, defs, n_defs, b->after);
        else
            image_keys(b, tm, defs, n_defs, b->before);
        if (rows.is_update)
            image_keys(b, tm, defs, n_defs, b->after);
    }
    if (e) {
        g_propagate_prefixed_error(error, e, "table %s.%s: ", tm->db, tm->table);
        return FALSE;
    }
    return TRUE;
}

/* A Query event inside or outside a transaction. Returns TRUE if it ends
 * the transaction. */
static gboolean query_event(BlTrxBuilder *b, const BlReader *r, const BlEvent *ev, gboolean *ends,
                            GError **error)
{
    BlQuery q;
    if (!bl_decode_query(ev, bl_reader_format_for(r, ev), &q, error))
        return FALSE;
    BlSqlKind k = bl_sql_classify(q.sql, q.sql_len);
    gboolean fresh = b->cur == NULL;
    if (fresh) {
        start(b, ev);
        b->standalone = k != BL_SQL_BEGIN && k != BL_SQL_XA_START;
    } else if (b->cur->n_events == 1 && b->cur->gtid.kind != BL_GTID_MARIADB &&
               b->cur->gtid.kind != BL_GTID_NONE && !b->saw_begin) {
        /* MySQL: GTID then BEGIN opens a group; anything else stands alone. */
        b->standalone = k != BL_SQL_BEGIN && k != BL_SQL_XA_START;
    }
    account(b, ev);
    BlTrx *t = b->cur;
    if (!t->thread_id)
        t->thread_id = q.thread_id;
    if (ev->h.flags & BL_F_THREAD_SPECIFIC)
        t->flags |= BL_TRXF_THREAD_SPECIFIC;
    if (ev->h.type == BL_EXECUTE_LOAD_QUERY_EVENT)
        t->flags |= BL_TRXF_LOAD_DATA;
    *ends = FALSE;
    switch (k) {
    case BL_SQL_BEGIN: b->saw_begin = TRUE; break;
    case BL_SQL_XA_START: b->saw_begin = TRUE; break;
    case BL_SQL_COMMIT:
        t->flags |= BL_TRXF_NON_TRANSACTIONAL;
        *ends = TRUE;
        break;
    case BL_SQL_ROLLBACK:
        t->flags |= BL_TRXF_ROLLED_BACK;
        *ends = TRUE;
        break;
    case BL_SQL_XA_COMMIT:
    case BL_SQL_XA_ROLLBACK:
        b->xa_commit = TRUE;
        *ends = TRUE;
        break;
    case BL_SQL_XA_END:
    case BL_SQL_XA_PREPARE:
    case BL_SQL_SAVEPOINT: break;
    case BL_SQL_DDL:
        b->has_ddl = TRUE;
        break;
    case BL_SQL_DML:
    case BL_SQL_OTHER:
        b->has_stmt = TRUE;
        t->flags |= BL_TRXF_UNSAFE;
        break;
    }
    if (b->standalone && k != BL_SQL_BEGIN && k != BL_SQL_XA_START)
        *ends = TRUE;
    return TRUE;
}

static gboolean gtid_event(BlTrxBuilder *b, const BlReader *r, const BlEvent *ev, GError **error)
{
    BlGtid g;
    if (!bl_decode_gtid(ev, bl_reader_format_for(r, ev), &g, error))
        return FALSE;
    start(b, ev);
    b->cur->gtid = g;
    if (g.kind == BL_GTID_MARIADB) {
        b->standalone = (g.flags2 & BL_FL_STANDALONE) != 0;
        b->saw_begin = !b->standalone;
        if (g.flags_extra & BL_FLX_THREAD_ID)
            b->cur->thread_id = g.thread_id;
    }
    account(b, ev);
    return TRUE;
}

static gboolean is_outside(guint8 type)
{
    switch (type) {
    case BL_FORMAT_DESCRIPTION_EVENT:
    case BL_ROTATE_EVENT:
    case BL_STOP_EVENT:
    case BL_GTID_LIST_EVENT:
    case BL_BINLOG_CHECKPOINT_EVENT:
    case BL_PREVIOUS_GTIDS_EVENT:
    case BL_HEARTBEAT_EVENT:
    case BL_HEARTBEAT_EVENT_V2:
    case BL_START_ENCRYPTION_EVENT:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean bl_trx_builder_feed(BlTrxBuilder *b, const BlReader *r, const BlEvent *ev, BlTrx **done,
                             BlTrx **cut, GError **error)
{
    *done = NULL;
    *cut = NULL;
    guint8 type = ev->h.type;
    GError *e = NULL;
    if (type == BL_FORMAT_DESCRIPTION_EVENT || type == BL_MARIA_GTID_EVENT ||
        type == BL_GTID_EVENT || type == BL_ANONYMOUS_GTID_EVENT || type == BL_GTID_TAGGED_EVENT) {
        if (b->cur) {
            *cut = finish(b, NULL);
            (*cut)->flags |= BL_TRXF_INCOMPLETE;
        }
        if (type == BL_FORMAT_DESCRIPTION_EVENT) {
            if (ev->offset == BL_MAGIC_LEN)
                b->last_complete = BL_MAGIC_LEN;
            bl_table_cache_clear(b->tables);
            return TRUE;
        }
        if (!gtid_event(b, r, ev, &e))
            goto fail;
        return TRUE;
    }
    if (is_outside(type)) {
        if (!b->cur)
            b->last_complete = ev->offset + ev->stored_size;
        return TRUE;
    }
    if (type == BL_TRANSACTION_PAYLOAD_EVENT && !ev->inner)
        b->payload_end = ev->offset + ev->stored_size;
    gboolean ends = FALSE;
    if (type == BL_QUERY_EVENT || type == BL_EXECUTE_LOAD_QUERY_EVENT) {
        if (!query_event(b, r, ev, &ends, &e))
            goto fail;
    } else {
        if (!b->cur) {
            start(b, ev);
            b->standalone = FALSE;
        }
        account(b, ev);
        switch (type) {
        case BL_TABLE_MAP_EVENT: {
            const BlTableMap *tm = bl_table_cache_put(b->tables, ev, bl_reader_format_for(r, ev), &e);
            if (!tm)
                goto fail;
            add_table(b, tm);
            break;
        }
        case BL_XID_EVENT: ends = TRUE; break;
        case BL_XA_PREPARE_EVENT:
            b->xa_prepare = TRUE;
            ends = TRUE;
            break;
        case BL_BEGIN_LOAD_QUERY_EVENT:
        case BL_APPEND_BLOCK_EVENT:
            b->cur->flags |= BL_TRXF_LOAD_DATA;
            break;
        case BL_INCIDENT_EVENT:
            b->cur->flags |= BL_TRXF_INCIDENT;
            ends = b->cur->n_events == 1;
            break;
        default:
            if (bl_event_is_rows(type)) {
                if (!rows_event(b, r, ev, &e))
                    goto fail;
            } else if (type < BL_ROWS_QUERY_EVENT && type != BL_INTVAR_EVENT &&
                       type != BL_RAND_EVENT && type != BL_USER_VAR_EVENT &&
                       type != BL_DELETE_FILE_EVENT) {
                /* pre-5.0 LOAD events and pre-GA rows: cannot be analysed */
                b->cur->flags |= BL_TRXF_UNSAFE;
                b->has_stmt = TRUE;
            }
            break;
        }
    }
    if (ends) {
        *done = finish(b, ev);
        (*done)->end_pos = ev->inner ? b->payload_end : ev->offset + ev->stored_size;
        b->last_complete = (*done)->end_pos;
    } else if (b->cur) {
        b->cur->end_pos = ev->inner ? b->payload_end : ev->offset + ev->stored_size;
    }
    return TRUE;
fail:
    g_set_error(error, BL_ERROR, e->code, "%s:%" G_GUINT64_FORMAT ": %s", bl_reader_name(r),
                ev->offset, e->message);
    g_error_free(e);
    return FALSE;
}

BlTrx *bl_trx_builder_finish(BlTrxBuilder *b)
{
    if (!b->cur)
        return NULL;
    BlTrx *t = finish(b, NULL);
    t->flags |= BL_TRXF_INCOMPLETE;
    return t;
}
