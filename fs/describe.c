/* binlogfs — one short description of an event, as text or as JSON
 * members, for `binlogfs inspect --events`.
 *
 * Invariant: describing never fails the walk; a field that cannot be
 * decoded is described as such ("undecodable: reason").
 */
#include <string.h>

#include <binlogfs/event.h>
#include <binlogfs/rows.h>

#include "describe.h"
#include "jsonw.h"

#define SQL_MAX 200

/* key=value pairs: in text "key=value", in JSON ,"key":value */
typedef struct {
    GString *out;
    gboolean json;
} Out;

static void kv_str(Out *o, const char *key, const char *s, gssize len)
{
    if (len < 0)
        len = (gssize)strlen(s);
    if (o->json) {
        jw_kstr(o->out, key, s, len);
        return;
    }
    g_string_append_printf(o->out, " %s=", key);
    gboolean quote = len == 0 || memchr(s, ' ', (gsize)len) || memchr(s, '"', (gsize)len);
    if (quote)
        g_string_append_c(o->out, '"');
    gsize n = MIN((gsize)len, (gsize)SQL_MAX);
    for (gsize i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\t')
            g_string_append_c(o->out, ' ');
        else if (c == '"')
            g_string_append(o->out, "\\\"");
        else if ((guchar)c < 0x20)
            g_string_append_c(o->out, '?');
        else
            g_string_append_c(o->out, c);
    }
    if ((gsize)len > n)
        g_string_append(o->out, "...");
    if (quote)
        g_string_append_c(o->out, '"');
}

static void kv_uint(Out *o, const char *key, guint64 v)
{
    if (o->json)
        jw_kuint(o->out, key, v);
    else
        g_string_append_printf(o->out, " %s=%" G_GUINT64_FORMAT, key, v);
}

static void kv_int(Out *o, const char *key, gint64 v)
{
    if (o->json)
        jw_kint(o->out, key, v);
    else
        g_string_append_printf(o->out, " %s=%" G_GINT64_FORMAT, key, v);
}

static void describe_gtid(Out *o, const BlGtid *g)
{
    char buf[128];
    kv_str(o, "gtid", bl_gtid_format(g, buf, sizeof buf), -1);
    if (g->kind == BL_GTID_MARIADB) {
        GString *f = g_string_new(NULL);
        static const char *const names[] = { "standalone", "group_commit", "trans", "allow_parallel",
                                             "waited", "ddl", "prepared_xa", "completed_xa" };
        for (int i = 0; i < 8; i++)
            if (g->flags2 & (1 << i))
                g_string_append_printf(f, "%s%s", f->len ? "," : "", names[i]);
        if (g->flags_extra & BL_FLX_START_ALTER)
            g_string_append_printf(f, "%sstart_alter", f->len ? "," : "");
        if (g->flags_extra & BL_FLX_COMMIT_ALTER)
            g_string_append_printf(f, "%scommit_alter", f->len ? "," : "");
        if (g->flags_extra & BL_FLX_ROLLBACK_ALTER)
            g_string_append_printf(f, "%srollback_alter", f->len ? "," : "");
        kv_str(o, "gtid_flags", f->str, (gssize)f->len);
        g_string_free(f, TRUE);
        if (g->flags2 & BL_FL_GROUP_COMMIT_ID)
            kv_uint(o, "cid", g->commit_id);
        if (g->has_xid) {
            g_autofree char *x = bl_xid_format(&g->xid);
            kv_str(o, "xid", x, -1);
        }
        if (g->flags_extra & (BL_FLX_COMMIT_ALTER | BL_FLX_ROLLBACK_ALTER))
            kv_uint(o, "start_alter_seq_no", g->sa_seq_no);
        if (g->flags_extra & BL_FLX_THREAD_ID)
            kv_uint(o, "thread", g->thread_id);
    } else if (g->has_logical_clock) {
        kv_int(o, "last_committed", g->last_committed);
        kv_int(o, "sequence_number", g->sequence_number);
        if (g->immediate_commit_us)
            kv_uint(o, "commit_us", g->immediate_commit_us);
        if (g->transaction_length)
            kv_uint(o, "transaction_length", g->transaction_length);
    }
}

static void describe_query(Out *o, const BlQuery *q)
{
    kv_uint(o, "thread", q->thread_id);
    kv_uint(o, "exec_time", q->exec_time);
    if (q->error_code)
        kv_uint(o, "error_code", q->error_code);
    if (q->db_len)
        kv_str(o, "db", q->db, (gssize)q->db_len);
    kv_str(o, "sql", q->sql, (gssize)q->sql_len);
}

static gboolean describe_body(Out *o, const BlReader *r, const BlEvent *ev, BlTableCache *tables,
                              GError **error)
{
    const BlFormat *fmt = bl_reader_format_for(r, ev);
    guint8 t = ev->h.type;
    switch (t) {
    case BL_FORMAT_DESCRIPTION_EVENT:
        kv_str(o, "server", fmt->server_version, -1);
        kv_uint(o, "binlog_version", fmt->binlog_version);
        kv_str(o, "checksum", fmt->checksum_alg == BL_CHECKSUM_CRC32 ? "CRC32"
                              : fmt->checksum_alg == BL_CHECKSUM_OFF ? "NONE" : "undefined", -1);
        if (ev->h.flags & BL_F_BINLOG_IN_USE)
            kv_str(o, "in_use", "yes", -1);
        bl_table_cache_clear(tables);
        return TRUE;
    case BL_QUERY_EVENT:
    case BL_EXECUTE_LOAD_QUERY_EVENT: {
        BlQuery q;
        if (!bl_decode_query(ev, fmt, &q, error))
            return FALSE;
        describe_query(o, &q);
        if (t == BL_EXECUTE_LOAD_QUERY_EVENT)
            kv_uint(o, "file_id", q.file_id);
        return TRUE;
    }
    case BL_MARIA_GTID_EVENT:
    case BL_GTID_EVENT:
    case BL_ANONYMOUS_GTID_EVENT:
    case BL_GTID_TAGGED_EVENT: {
        BlGtid g;
        if (!bl_decode_gtid(ev, fmt, &g, error))
            return FALSE;
        describe_gtid(o, &g);
        return TRUE;
    }
    case BL_ROTATE_EVENT: {
        BlRotate rot;
        if (!bl_decode_rotate(ev, fmt, &rot, error))
            return FALSE;
        kv_str(o, "next", rot.name, (gssize)rot.name_len);
        kv_uint(o, "pos", rot.position);
        return TRUE;
    }
    case BL_XID_EVENT: {
        guint64 xid;
        if (!bl_decode_xid(ev, fmt, &xid, error))
            return FALSE;
        kv_uint(o, "xid", xid);
        return TRUE;
    }
    case BL_INTVAR_EVENT: {
        BlIntvar iv;
        if (!bl_decode_intvar(ev, fmt, &iv, error))
            return FALSE;
        kv_uint(o, iv.kind == 1 ? "last_insert_id" : "insert_id", iv.value);
        return TRUE;
    }
    case BL_RAND_EVENT: {
        BlRand rd;
        if (!bl_decode_rand(ev, fmt, &rd, error))
            return FALSE;
        kv_uint(o, "seed1", rd.seed1);
        kv_uint(o, "seed2", rd.seed2);
        return TRUE;
    }
    case BL_USER_VAR_EVENT: {
        BlUserVar uv;
        if (!bl_decode_user_var(ev, fmt, &uv, error))
            return FALSE;
        kv_str(o, "name", uv.name, uv.name_len);
        if (uv.is_null)
            kv_str(o, "value", "NULL", -1);
        else
            kv_uint(o, "value_len", uv.value_len);
        return TRUE;
    }
    case BL_XA_PREPARE_EVENT: {
        BlXaPrepare xa;
        if (!bl_decode_xa_prepare(ev, fmt, &xa, error))
            return FALSE;
        g_autofree char *x = bl_xid_format(&xa.xid);
        kv_str(o, "xid", x, -1);
        kv_uint(o, "one_phase", xa.one_phase);
        return TRUE;
    }
    case BL_GTID_LIST_EVENT: {
        GArray *a;
        if (!bl_decode_gtid_list(ev, fmt, &a, error))
            return FALSE;
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < a->len; i++) {
            BlGtidListEntry *e = &g_array_index(a, BlGtidListEntry, i);
            g_string_append_printf(s, "%s%u-%u-%" G_GUINT64_FORMAT, i ? "," : "", e->domain_id,
                                   e->server_id, e->seq_no);
        }
        kv_str(o, "gtids", s->str, (gssize)s->len);
        g_string_free(s, TRUE);
        g_array_unref(a);
        return TRUE;
    }
    case BL_PREVIOUS_GTIDS_EVENT: {
        char *s;
        if (!bl_decode_previous_gtids(ev, fmt, &s, error))
            return FALSE;
        kv_str(o, "gtids", s, -1);
        g_free(s);
        return TRUE;
    }
    case BL_BINLOG_CHECKPOINT_EVENT: {
        const char *name;
        gsize len;
        if (!bl_decode_checkpoint(ev, fmt, &name, &len, error))
            return FALSE;
        kv_str(o, "checkpoint_file", name, (gssize)len);
        return TRUE;
    }
    case BL_ANNOTATE_ROWS_EVENT:
    case BL_ROWS_QUERY_EVENT: {
        const char *sql;
        gsize len;
        if (!bl_decode_annotate(ev, fmt, &sql, &len, error))
            return FALSE;
        kv_str(o, "sql", sql, (gssize)len);
        return TRUE;
    }
    case BL_BEGIN_LOAD_QUERY_EVENT:
    case BL_APPEND_BLOCK_EVENT: {
        BlLoadBlock lb;
        if (!bl_decode_load_block(ev, fmt, &lb, error))
            return FALSE;
        kv_uint(o, "file_id", lb.file_id);
        kv_uint(o, "block_len", lb.len);
        return TRUE;
    }
    case BL_INCIDENT_EVENT: {
        BlIncident in;
        if (!bl_decode_incident(ev, fmt, &in, error))
            return FALSE;
        kv_uint(o, "incident", in.incident);
        kv_str(o, "message", in.msg, (gssize)in.msg_len);
        return TRUE;
    }
    case BL_TRANSACTION_PAYLOAD_EVENT: {
        BlPayload p;
        if (!bl_decode_payload(ev, fmt, &p, error))
            return FALSE;
        kv_str(o, "compression", p.compression == 0 ? "zstd" : p.compression == 255 ? "none" : "?", -1);
        kv_uint(o, "payload_size", p.payload_size);
        kv_uint(o, "uncompressed_size", p.uncompressed_size);
        return TRUE;
    }
    case BL_TABLE_MAP_EVENT: {
        const BlTableMap *tm = bl_table_cache_put(tables, ev, fmt, error);
        if (!tm)
            return FALSE;
        kv_uint(o, "table_id", tm->table_id);
        g_autofree char *name = g_strdup_printf("%s.%s", tm->db, tm->table);
        kv_str(o, "table", name, -1);
        kv_uint(o, "columns", tm->n_columns);
        return TRUE;
    }
    default:
        break;
    }
    if (bl_event_is_rows(t)) {
        BlRows rows;
        if (!bl_rows_decode(ev, fmt, &rows, error))
            return FALSE;
        kv_uint(o, "table_id", rows.table_id);
        const BlTableMap *tm = bl_table_cache_get(tables, rows.table_id);
        if (tm) {
            g_autofree char *name = g_strdup_printf("%s.%s", tm->db, tm->table);
            kv_str(o, "table", name, -1);
            BlRowIter it;
            bl_row_iter_init(&it, &rows, tm);
            guint64 n = 0;
            GError *e = NULL;
            while (bl_row_iter_next(&it, NULL, NULL, &e))
                n++;
            if (e) {
                g_propagate_error(error, e);
                return FALSE;
            }
            kv_uint(o, "rows", n);
        }
        if (rows.flags & BL_ROWS_STMT_END_F)
            kv_str(o, "rows_flags", "STMT_END_F", -1);
        if (ev->orig_type != t)
            kv_str(o, "compressed", "zlib", -1);
    }
    return TRUE;
}

gboolean bl_describe_event(GString *out, gboolean json, const BlReader *r, const BlEvent *ev,
                           BlTableCache *tables, GError **error)
{
    Out o = { out, json };
    const char *name = bl_event_type_name(ev->orig_type);
    char unknown[32];
    if (!name) {
        g_snprintf(unknown, sizeof unknown, "Unknown_%u", ev->orig_type);
        name = unknown;
    }
    if (json) {
        g_string_append_c(out, '{');
        jw_key(out, "file", TRUE);
        jw_str(out, bl_reader_name(r), -1);
        jw_kuint(out, "offset", ev->offset);
        if (ev->inner)
            jw_kuint(out, "inner_offset", ev->inner_offset);
        jw_kstr(out, "type", name, -1);
        jw_kuint(out, "type_code", ev->orig_type);
        jw_kuint(out, "size", ev->stored_size);
        jw_kuint(out, "timestamp", ev->h.timestamp);
        jw_kuint(out, "server_id", ev->h.server_id);
        jw_kuint(out, "end_log_pos", ev->h.log_pos);
        jw_kuint(out, "flags", ev->h.flags);
    } else {
        if (ev->inner)
            g_string_append_printf(out, "%" G_GUINT64_FORMAT "+%u %s size=%u", ev->offset,
                                   ev->inner_offset, name, ev->stored_size);
        else
            g_string_append_printf(out, "%" G_GUINT64_FORMAT " %s size=%u", ev->offset, name,
                                   ev->stored_size);
    }
    GError *e = NULL;
    gboolean ok = describe_body(&o, r, ev, tables, &e);
    if (!ok) {
        g_set_error(error, BL_ERROR, e->code, "%s:%" G_GUINT64_FORMAT ": %s", bl_reader_name(r),
                    ev->offset, e->message);
        g_error_free(e);
    }
    if (json)
        g_string_append_c(out, '}');
    g_string_append_c(out, '\n');
    return ok;
}
