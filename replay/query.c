/* binlogfs — Query and Execute_load_query events: post-header, status
 * variables, default database and statement text; and the classification
 * of a statement's text (BEGIN, COMMIT, XA, DDL, DML).
 *
 * Invariant: status variables are parsed to the exact end of their block;
 * an unknown code is an error (MariaDB's server silently drops the rest,
 * which would replay a statement in the wrong session context).
 */
#include <string.h>

#include <binlogfs/event.h>

static gboolean bad(GError **error, const char *what)
{
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "Query event: %s", what);
    return FALSE;
}

static gboolean status_vars(const guint8 *p, const guint8 *end, BlQuery *q, GError **error)
{
#define NEED(n) if ((gsize)(end - p) < (gsize)(n)) return bad(error, "status variables run past their block")
    while (p < end) {
        guint8 code = *p++;
        if (code < 64 || (code >= 128 && code < 128 + 24))
            q->present |= G_GUINT64_CONSTANT(1) << (code >= 128 ? code - 128 + 40 : code);
        switch (code) {
        case BL_Q_FLAGS2: NEED(4); q->flags2 = bl_u32(p); p += 4; break;
        case BL_Q_SQL_MODE: NEED(8); q->sql_mode = bl_u64(p); p += 8; break;
        case BL_Q_CATALOG: NEED(1); NEED(1 + p[0] + 1); p += 1 + p[0] + 1; break;
        case BL_Q_AUTO_INCREMENT:
            NEED(4);
            q->auto_increment_increment = bl_u16(p);
            q->auto_increment_offset = bl_u16(p + 2);
            p += 4;
            break;
        case BL_Q_CHARSET:
            NEED(6);
            q->charset_client = bl_u16(p);
            q->collation_connection = bl_u16(p + 2);
            q->collation_server = bl_u16(p + 4);
            p += 6;
            break;
        case BL_Q_TIME_ZONE:
            NEED(1); NEED(1 + p[0]);
            q->time_zone_len = p[0];
            q->time_zone = (const char *)p + 1;
            p += 1 + p[0];
            break;
        case BL_Q_CATALOG_NZ: NEED(1); NEED(1 + p[0]); p += 1 + p[0]; break;
        case BL_Q_LC_TIME_NAMES: NEED(2); q->lc_time_names = bl_u16(p); p += 2; break;
        case BL_Q_CHARSET_DATABASE: NEED(2); q->charset_database = bl_u16(p); p += 2; break;
        case BL_Q_TABLE_MAP_FOR_UPDATE: NEED(8); q->table_map_for_update = bl_u64(p); p += 8; break;
        case BL_Q_MASTER_DATA_WRITTEN: NEED(4); p += 4; break;
        case BL_Q_INVOKER:
            NEED(1); NEED(1 + p[0]);
            q->invoker_user_len = p[0];
            q->invoker_user = (const char *)p + 1;
            p += 1 + p[0];
            NEED(1); NEED(1 + p[0]);
            q->invoker_host_len = p[0];
            q->invoker_host = (const char *)p + 1;
            p += 1 + p[0];
            break;
        case BL_Q_UPDATED_DB_NAMES: {
            NEED(1);
            q->n_updated_dbs = *p++;
            q->updated_dbs = p;
            if (q->n_updated_dbs != 254) {
                for (guint i = 0; i < q->n_updated_dbs; i++) {
                    const guint8 *nul = memchr(p, 0, (gsize)(end - p));
                    if (!nul)
                        return bad(error, "database names in status variables are not terminated");
                    p = nul + 1;
                }
            }
            break;
        }
        case BL_Q_MICROSECONDS: NEED(3); q->microseconds = bl_u24(p); p += 3; break;
        case BL_Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP: NEED(1); q->explicit_defaults_for_timestamp = *p++; break;
        case BL_Q_DDL_LOGGED_WITH_XID: NEED(8); q->ddl_xid = bl_u64(p); p += 8; break;
        case BL_Q_DEFAULT_COLLATION_FOR_UTF8MB4: NEED(2); q->default_collation_for_utf8mb4 = bl_u16(p); p += 2; break;
        case BL_Q_SQL_REQUIRE_PRIMARY_KEY: NEED(1); q->sql_require_primary_key = *p++; break;
        case BL_Q_DEFAULT_TABLE_ENCRYPTION: NEED(1); q->default_table_encryption = *p++; break;
        case BL_Q_HRNOW: NEED(3); q->microseconds = bl_u24(p); p += 3; break;
        case BL_Q_XID: NEED(8); q->ddl_xid = bl_u64(p); p += 8; break;
        case BL_Q_GTID_FLAGS3:
            NEED(1);
            q->gtid_flags3 = *p++;
            if (q->gtid_flags3 & (0x04 | 0x08)) { /* COMMIT/ROLLBACK ALTER */
                NEED(8);
                q->sa_seq_no = bl_u64(p);
                p += 8;
            }
            break;
        default: {
            g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                        "Query event: unknown status variable code %u", code);
            return FALSE;
        }
        }
    }
#undef NEED
    return TRUE;
}

gboolean bl_decode_query(const BlEvent *ev, const BlFormat *fmt, BlQuery *q, GError **error)
{
    memset(q, 0, sizeof *q);
    guint8 type = ev->h.type;
    guint phl = fmt->post_header_len[type];
    if (type == BL_QUERY_EVENT && phl < 13)
        phl = 13;
    if (type == BL_EXECUTE_LOAD_QUERY_EVENT && phl < 26)
        return bad(error, "Execute_load_query post-header shorter than 26 bytes");
    if (ev->body_len < phl)
        return bad(error, "event shorter than its post-header");
    const guint8 *b = ev->body, *end = ev->body + ev->body_len;
    q->thread_id = bl_u32(b);
    q->exec_time = bl_u32(b + 4);
    guint8 db_len = b[8];
    q->error_code = bl_u16(b + 9);
    guint16 sv_len = bl_u16(b + 11);
    if (type == BL_EXECUTE_LOAD_QUERY_EVENT) {
        q->file_id = bl_u32(b + 13);
        q->fn_pos_start = bl_u32(b + 17);
        q->fn_pos_end = bl_u32(b + 21);
        q->dup_handling = b[25];
    }
    const guint8 *p = b + phl;
    if ((gsize)(end - p) < (gsize)sv_len + db_len + 1)
        return bad(error, "status variables and database name run past the event");
    if (!status_vars(p, p + sv_len, q, error))
        return FALSE;
    p += sv_len;
    q->db = (const char *)p;
    q->db_len = db_len;
    p += db_len;
    if (*p != 0)
        return bad(error, "database name is not NUL-terminated");
    p++;
    q->sql = (const char *)p;
    q->sql_len = (gsize)(end - p);
    if (type == BL_EXECUTE_LOAD_QUERY_EVENT &&
        (q->fn_pos_start > q->fn_pos_end || q->fn_pos_end > q->sql_len))
        return bad(error, "Execute_load_query file name position outside the statement");
    return TRUE;
}

/* ---- statement classification ------------------------------------------ */

static const char *skip_space_comments(const char *s, const char *end)
{
    for (;;) {
        while (s < end && g_ascii_isspace(*s))
            s++;
        if (end - s >= 2 && s[0] == '/' && s[1] == '*' && !(end - s >= 3 && s[2] == '!')) {
            const char *c = g_strstr_len(s + 2, end - s - 2, "*/");
            if (!c)
                return end;
            s = c + 2;
            continue;
        }
        if (end - s >= 2 && s[0] == '/' && s[1] == '*') { /* versioned comment: look inside */
            s += 3;
            while (s < end && g_ascii_isdigit(*s))
                s++;
            continue;
        }
        if ((end - s >= 2 && s[0] == '-' && s[1] == '-') || (s < end && s[0] == '#')) {
            const char *nl = memchr(s, '\n', (gsize)(end - s));
            if (!nl)
                return end;
            s = nl + 1;
            continue;
        }
        return s;
    }
}

/* Is the next word `w` (case-insensitive, followed by a non-identifier)? */
static gboolean word(const char **ps, const char *end, const char *w)
{
    const char *s = skip_space_comments(*ps, end);
    gsize n = strlen(w);
    if ((gsize)(end - s) < n || g_ascii_strncasecmp(s, w, n) != 0)
        return FALSE;
    if (s + n < end && (g_ascii_isalnum(s[n]) || s[n] == '_'))
        return FALSE;
    *ps = s + n;
    return TRUE;
}

BlSqlKind bl_sql_classify(const char *sql, gsize len)
{
    const char *s = sql, *end = sql + len;
    if (word(&s, end, "BEGIN"))
        return BL_SQL_BEGIN;
    if (word(&s, end, "START"))
        return word(&s, end, "TRANSACTION") ? BL_SQL_BEGIN : BL_SQL_OTHER;
    if (word(&s, end, "COMMIT"))
        return BL_SQL_COMMIT;
    if (word(&s, end, "ROLLBACK")) {
        word(&s, end, "WORK");
        return word(&s, end, "TO") ? BL_SQL_SAVEPOINT : BL_SQL_ROLLBACK;
    }
    if (word(&s, end, "SAVEPOINT") || word(&s, end, "RELEASE"))
        return BL_SQL_SAVEPOINT;
    if (word(&s, end, "XA")) {
        if (word(&s, end, "START") || word(&s, end, "BEGIN"))
            return BL_SQL_XA_START;
        if (word(&s, end, "END"))
            return BL_SQL_XA_END;
        if (word(&s, end, "PREPARE"))
            return BL_SQL_XA_PREPARE;
        if (word(&s, end, "COMMIT"))
            return BL_SQL_XA_COMMIT;
        if (word(&s, end, "ROLLBACK"))
            return BL_SQL_XA_ROLLBACK;
        return BL_SQL_OTHER;
    }
    static const char *const dml[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "SELECT",
                                       "WITH", "DO", "CALL", "SET", NULL };
    for (int i = 0; dml[i]; i++)
        if (word(&s, end, dml[i]))
            return BL_SQL_DML;
    static const char *const ddl[] = { "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT",
                                       "REVOKE", "ANALYZE", "OPTIMIZE", "REPAIR", "FLUSH",
                                       "INSTALL", "UNINSTALL", "LOCK", "UNLOCK", NULL };
    for (int i = 0; ddl[i]; i++)
        if (word(&s, end, ddl[i]))
            return BL_SQL_DDL;
    return BL_SQL_OTHER;
}
