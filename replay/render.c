/* binlogfs — turning a job into SQL text for one connection.
 *
 * DESIGN: a connection remembers the session context it last set (default
 * database, sql_mode, charsets, ...) and each Query part emits only what
 * differs, as mysqlbinlog does for one session; row events become BINLOG
 * statements (base64 of the raw events), preceded once per connection by
 * the file's Format_description event. Invariant: the text rendered for a
 * part never depends on anything but that part and the session state, so a
 * retry renders the same statements after a reset of the state.
 */
#include <string.h>

#include "render.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void bl_base64_append(GString *out, const guint8 *in, gsize len)
{
    gsize olen = (len + 2) / 3 * 4;
    gsize pos = out->len;
    g_string_set_size(out, pos + olen);
    char *o = out->str + pos;
    gsize i = 0;
    for (; i + 3 <= len; i += 3) {
        guint32 v = (guint32)in[i] << 16 | (guint32)in[i + 1] << 8 | in[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = b64[(v >> 6) & 63];
        *o++ = b64[v & 63];
    }
    if (i < len) {
        guint32 v = (guint32)in[i] << 16 | (i + 1 < len ? (guint32)in[i + 1] << 8 : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
}

void bl_session_reset(BlSession *s)
{
    if (s->fde)
        g_bytes_unref(s->fde);
    if (s->open_maps)
        g_byte_array_unref(s->open_maps);
    memset(s, 0, sizeof *s);
}

static void binlog_stmt(GString *out, const guint8 *data, gsize len)
{
    g_string_append(out, "BINLOG '");
    bl_base64_append(out, data, len);
    g_string_append(out, "';\n");
}

gboolean bl_render_fde(GString *out, BlSession *s, GBytes *fde)
{
    if (!fde || (s->fde && g_bytes_equal(s->fde, fde)))
        return FALSE;
    gsize len;
    const guint8 *d = g_bytes_get_data(fde, &len);
    binlog_stmt(out, d, len);
    if (s->fde)
        g_bytes_unref(s->fde);
    s->fde = g_bytes_ref(fde);
    return TRUE;
}

/* Splits a run of row events into BINLOG statements of about `max` bytes
 * of events, cutting after a rows event.
 * Two server behaviours shape this (MariaDB 10.11, found by tests):
 *  - the reply to a BINLOG statement holding rows events has
 *    SERVER_MORE_RESULTS_EXISTS cleared, though the server runs the rest
 *    of a multi-statement batch: the applier counts the statements it
 *    sends and reads on (bl_conn_expect). The offset after each such
 *    statement is appended to `ends`, where a large batch may be cut;
 *  - table maps do not outlive a BINLOG statement: rows events sent in a
 *    later statement than their Table_map are silently ignored. A
 *    statement that starts inside an SQL statement's events therefore
 *    repeats the Table_map events of that statement (kept in
 *    s->open_maps until a rows event with STMT_END_F). */
void bl_render_rows(GString *out, GArray *ends, BlSession *s, const guint8 *data, gsize len, gsize max)
{
    if (!s->open_maps)
        s->open_maps = g_byte_array_new();
    GByteArray *chunk = g_byte_array_new();
    gsize pos = 0;
    gboolean stmt_ended = s->open_maps->len == 0;
    while (pos + 19 <= len) {
        guint32 size = bl_u32(data + pos + 9);
        if (size < 19 || pos + size > len)
            break;
        const guint8 *ev = data + pos;
        guint8 type = ev[4];
        gboolean rows = bl_event_is_rows(type);
        if (chunk->len == 0 && rows)
            g_byte_array_append(chunk, s->open_maps->data, s->open_maps->len);
        g_byte_array_append(chunk, ev, size);
        if (type == BL_TABLE_MAP_EVENT) {
            if (stmt_ended)
                g_byte_array_set_size(s->open_maps, 0);
            stmt_ended = FALSE;
            g_byte_array_append(s->open_maps, ev, size);
        } else if (rows && size >= 19 + 8 && (bl_u16(ev + 19 + 6) & 0x01)) {
            stmt_ended = TRUE; /* STMT_END_F: the maps are released */
            g_byte_array_set_size(s->open_maps, 0);
        }
        pos += size;
        if (rows && chunk->len >= max) {
            binlog_stmt(out, chunk->data, chunk->len);
            g_array_append_val(ends, out->len);
            g_byte_array_set_size(chunk, 0);
        }
    }
    if (chunk->len) {
        binlog_stmt(out, chunk->data, chunk->len);
        g_array_append_val(ends, out->len);
    }
    g_byte_array_unref(chunk);
}

static void sep(GString *out, gboolean *first)
{
    g_string_append(out, *first ? "SET " : ", ");
    *first = FALSE;
}

static void end_stmt(GString *out, GArray *ends)
{
    if (ends)
        g_array_append_val(ends, out->len);
}

void bl_render_query(GString *out, BlSession *s, const QueryCtx *c, const char *sql, gsize len,
                     const char *const *collation_names, gboolean target_mariadb)
{
    bl_render_query_ends(out, NULL, s, c, sql, len, collation_names, target_mariadb);
}

void bl_render_query_ends(GString *out, GArray *ends, BlSession *s, const QueryCtx *c, const char *sql,
                          gsize len, const char *const *collation_names, gboolean target_mariadb)
{
    if (c->use_db && c->db[0] && (s->db != BL_DB_NAMED || strcmp(s->ctx.db, c->db) != 0)) {
        g_string_append(out, "USE `");
        for (const char *p = c->db; *p; p++) {
            if (*p == '`')
                g_string_append_c(out, '`');
            g_string_append_c(out, *p);
        }
        g_string_append(out, "`;\n");
        end_stmt(out, ends);
        g_strlcpy(s->ctx.db, c->db, sizeof s->ctx.db);
        s->db = BL_DB_NAMED;
    }
    gboolean first = TRUE;
    QueryCtx *o = &s->ctx;
    gboolean all = !s->valid;
    sep(out, &first);
    if (c->has_usec)
        g_string_append_printf(out, "TIMESTAMP=%u.%06u", c->timestamp, c->usec);
    else
        g_string_append_printf(out, "TIMESTAMP=%u", c->timestamp);
    if (all || o->thread_id != c->thread_id) {
        sep(out, &first);
        g_string_append_printf(out, "@@session.pseudo_thread_id=%u", c->thread_id);
    }
    if (c->has_flags2 && (all || !o->has_flags2 || o->flags2 != c->flags2)) {
        sep(out, &first);
        g_string_append_printf(out,
                               "@@session.foreign_key_checks=%d, @@session.sql_auto_is_null=%d, "
                               "@@session.unique_checks=%d",
                               !(c->flags2 & 0x4000000), !!(c->flags2 & 0x4000), !(c->flags2 & 0x8000000));
        if (c->mariadb && target_mariadb)
            /* MariaDB's further option bits, as mariadb-binlog sets them:
             * explicit_defaults_for_timestamp changes what a CREATE TABLE
             * makes of a TIMESTAMP column */
            g_string_append_printf(out,
                                   ", @@session.check_constraint_checks=%d"
                                   ", @@session.explicit_defaults_for_timestamp=%d"
                                   ", @@session.system_versioning_insert_history=%d",
                                   !(c->flags2 & 0x8000), !!(c->flags2 & 0x1000000),
                                   !!(c->flags2 & 0x40000000));
    }
    if (c->has_sql_mode && (all || !o->has_sql_mode || o->sql_mode != c->sql_mode)) {
        sep(out, &first);
        g_string_append_printf(out, "@@session.sql_mode=%" G_GUINT64_FORMAT, c->sql_mode);
    }
    if (all || o->auto_increment_increment != c->auto_increment_increment ||
        o->auto_increment_offset != c->auto_increment_offset) {
        sep(out, &first);
        g_string_append_printf(out, "@@session.auto_increment_increment=%u, @@session.auto_increment_offset=%u",
                               c->auto_increment_increment, c->auto_increment_offset);
    }
    if (c->has_charset && (all || !o->has_charset || o->charset_client != c->charset_client ||
                           o->collation_connection != c->collation_connection ||
                           o->collation_server != c->collation_server)) {
        const char *cs = collation_names ? collation_names[c->charset_client] : NULL;
        sep(out, &first);
        if (cs)
            g_string_append_printf(out, "@@session.character_set_client=%s, ", cs);
        else
            g_string_append_printf(out, "@@session.character_set_client=%u, ", c->charset_client);
        g_string_append_printf(out, "@@session.collation_connection=%u, @@session.collation_server=%u",
                               c->collation_connection, c->collation_server);
    }
    if (all || strcmp(o->time_zone, c->time_zone) != 0) {
        sep(out, &first);
        if (c->time_zone[0]) {
            g_string_append(out, "@@session.time_zone='");
            for (const char *p = c->time_zone; *p; p++) {
                if (*p == '\'') /* doubled: right under NO_BACKSLASH_ESCAPES too */
                    g_string_append_c(out, '\'');
                g_string_append_c(out, *p);
            }
            g_string_append_c(out, '\'');
        } else {
            g_string_append(out, "@@session.time_zone=DEFAULT");
        }
    }
    if (all || o->lc_time_names != c->lc_time_names) {
        sep(out, &first);
        g_string_append_printf(out, "@@session.lc_time_names=%u", c->lc_time_names);
    }
    if (all || o->collation_database != c->collation_database) {
        sep(out, &first);
        if (c->collation_database)
            g_string_append_printf(out, "@@session.collation_database=%u", c->collation_database);
        else
            g_string_append(out, "@@session.collation_database=DEFAULT");
    }
    g_string_append(out, ";\n");
    end_stmt(out, ends);
    char db[sizeof s->ctx.db];
    g_strlcpy(db, s->ctx.db, sizeof db);
    s->ctx = *c;
    g_strlcpy(s->ctx.db, db, sizeof s->ctx.db);
    s->valid = TRUE;
    /* a statement run without its own USE (CREATE/ALTER/DROP DATABASE are
     * logged with SUPPRESS_USE) may drop the session's database: DROP
     * DATABASE of the current one leaves none */
    if (!c->use_db && c->db[0] && s->db != BL_DB_NONE)
        s->db = BL_DB_UNKNOWN;
    /* a statement may end in a -- comment: the newline keeps it from
     * swallowing the next one */
    g_string_append_len(out, sql, (gssize)len);
    g_string_append(out, "\n;\n");
    end_stmt(out, ends);
}

gboolean bl_query_needs_no_db(const BlSession *s, const QueryCtx *c)
{
    return !c->use_db && !c->db[0] && s->db != BL_DB_NONE;
}
