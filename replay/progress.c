/* binlogfs — the progress rows on the target: exactly-once replay.
 *
 * DESIGN: one row per worker, updated inside each transaction the worker
 * commits (in the same round trip as its COMMIT). Commits happen in source
 * order, so the greatest (file, position) over all rows is the end of the
 * last transaction applied and everything before it is applied too: a
 * restart resumes right after it. One row per worker, not one shared row:
 * a shared row would make every transaction wait for the previous one's
 * row lock. A DDL statement or a non-transactional group commits by itself,
 * so its progress update follows it in the same round trip; a crash exactly
 * between the two would run that one statement again on restart (noted in
 * doc/replay.md).
 */
#include <string.h>

#include <binlogfs/spec.h>

#include "engine-private.h"

/* A string literal that reads the same under every sql_mode (quotes are
 * doubled, never backslash-escaped: NO_BACKSLASH_ESCAPES). */
static void quote(GString *out, const char *s)
{
    g_string_append_c(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            g_string_append_c(out, '\'');
        g_string_append_c(out, *s);
    }
    g_string_append_c(out, '\'');
}

/* On a target that keeps a binlog, binlogfs's own statements outside the
 * source's transactions (the table's setup, a skip's record) are kept out
 * of it: logged, each would be a transaction of the target's own with a
 * GTID of its own, in the source's domain, ahead of the source's sequence
 * numbers (gtid_strict_mode then refuses the source's first transaction:
 * ERROR 1950), on every run. TRUE when the session no longer logs; FALSE,
 * with a warning, when it logs as before (no log_bin or a session that
 * does not log anyway: --disable-log-bin; or the account may not change
 * sql_log_bin). */
static gboolean unlogged_begin(BlConn *c)
{
    if (!bl_engine_session_logs(c))
        return FALSE;
    g_autoptr(GError) err = NULL;
    if (bl_conn_query(c, BL_SQL_LOG_BIN_OFF, sizeof BL_SQL_LOG_BIN_OFF - 1, &err))
        return TRUE;
    g_warning("the target keeps a binlog, and binlogfs's own statements on its progress table (its set-up; "
              "the update after a DDL, an XA PREPARE or a non-transactional group) will be logged there as "
              "transactions of their own (with gtid_strict_mode the replay then fails with ERROR 1950): "
              "cannot turn sql_log_bin off for them: %s", err->message);
    return FALSE;
}

static void unlogged_end(BlConn *c, gboolean on)
{
    if (on)
        bl_conn_query(c, BL_SQL_LOG_BIN_ON, sizeof BL_SQL_LOG_BIN_ON - 1, NULL);
}

static gboolean progress_setup(BlConn *c, const char *db, const char *table, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "CREATE DATABASE IF NOT EXISTS `%s`;\n"
        "CREATE TABLE IF NOT EXISTS `%s`.`%s` ("
        " worker SMALLINT UNSIGNED NOT NULL PRIMARY KEY,"
        " file VARCHAR(512) NOT NULL DEFAULT '',"
        " pos BIGINT UNSIGNED NOT NULL DEFAULT 0,"
        " gtid VARCHAR(256) NOT NULL DEFAULT '',"
        " updated DATETIME(6) NULL,"
        " wm_file VARCHAR(512) NOT NULL DEFAULT '',"
        " wm_pos BIGINT UNSIGNED NOT NULL DEFAULT 0"
        ") ENGINE=InnoDB COMMENT='binlogfs: where the replay stands (one row per worker)';\n"
        "ALTER TABLE `%s`.`%s` ADD COLUMN IF NOT EXISTS wm_file VARCHAR(512) NOT NULL DEFAULT '',"
        " ADD COLUMN IF NOT EXISTS wm_pos BIGINT UNSIGNED NOT NULL DEFAULT 0;\n"
        "INSERT IGNORE INTO `%s`.`%s` (worker) SELECT seq FROM seq_0_to_%u",
        db, db, table, db, table, db, table, BL_MAX_WORKERS - 1);
    if (bl_conn_query(c, sql, strlen(sql), NULL))
        return TRUE;
    /* No SEQUENCE engine (MySQL): insert the rows one by one. */
    g_autofree char *base = g_strdup_printf(
        "CREATE DATABASE IF NOT EXISTS `%s`;\n"
        "CREATE TABLE IF NOT EXISTS `%s`.`%s` ("
        " worker SMALLINT UNSIGNED NOT NULL PRIMARY KEY,"
        " file VARCHAR(512) NOT NULL DEFAULT '',"
        " pos BIGINT UNSIGNED NOT NULL DEFAULT 0,"
        " gtid VARCHAR(256) NOT NULL DEFAULT '',"
        " updated DATETIME(6) NULL,"
        " wm_file VARCHAR(512) NOT NULL DEFAULT '',"
        " wm_pos BIGINT UNSIGNED NOT NULL DEFAULT 0) ENGINE=InnoDB",
        db, db, table);
    if (!bl_conn_query(c, base, strlen(base), error)) {
        g_prefix_error(error, "cannot create the progress table %s.%s: ", db, table);
        return FALSE;
    }
    GString *ins = g_string_new(NULL);
    g_string_append_printf(ins, "INSERT IGNORE INTO `%s`.`%s` (worker) VALUES ", db, table);
    for (guint i = 0; i < BL_MAX_WORKERS; i++)
        g_string_append_printf(ins, "%s(%u)", i ? "," : "", i);
    gboolean ok = bl_conn_query(c, ins->str, ins->len, error);
    g_string_free(ins, TRUE);
    if (!ok)
        g_prefix_error(error, "cannot fill the progress table %s.%s: ", db, table);
    return ok;
}

gboolean bl_progress_setup(BlConn *c, const char *db, const char *table, GError **error)
{
    gboolean off = unlogged_begin(c);
    gboolean ok = progress_setup(c, db, table, error);
    unlogged_end(c, off);
    return ok;
}

/* information_schema.COLUMNS of binlogfs's progress table, column by
 * column: name, DATA_TYPE, unsigned, nullable. */
static const struct {
    const char *name, *type;
    gboolean is_unsigned, nullable;
} progress_columns[] = {
    { "worker", "smallint", TRUE, FALSE },  { "file", "varchar", FALSE, FALSE },
    { "pos", "bigint", TRUE, FALSE },       { "gtid", "varchar", FALSE, FALSE },
    { "updated", "datetime", FALSE, TRUE }, { "wm_file", "varchar", FALSE, FALSE },
    { "wm_pos", "bigint", TRUE, FALSE },
};

void bl_progress_layout(BlConn *c, const char *db, const char *table, BlProgressLayout *out)
{
    memset(out, 0, sizeof *out);
    MYSQL *m = bl_conn_mysql(c);
    /* A DATETIME(6) column of MariaDB's older format (made while
     * mysql56_temporal_format=OFF; information_schema does not tell it
     * apart) takes the DATETIME2 value of the events as well: the server
     * converts between its temporal formats without slave_type_conversions
     * (test 0185) */
    g_autofree char *sql = g_strdup_printf(
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, CHARACTER_OCTET_LENGTH,"
        " DATETIME_PRECISION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='%s' AND TABLE_NAME='%s'"
        " ORDER BY ORDINAL_POSITION",
        db, table);
    if (strchr(db, '\'') || strchr(table, '\'') || mysql_real_query(m, sql, strlen(sql)) != 0)
        return;
    MYSQL_RES *res = mysql_store_result(m);
    if (!res)
        return;
    guint n = 0, len[G_N_ELEMENTS(progress_columns)] = { 0 };
    gboolean ok = TRUE;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        if (n >= G_N_ELEMENTS(progress_columns) || !row[0] || !row[1] || !row[2] || !row[3] || !row[4]) {
            ok = FALSE;
            break;
        }
        const char *ctype = row[2];
        ok = ok && g_ascii_strcasecmp(row[0], progress_columns[n].name) == 0 &&
             g_ascii_strcasecmp(row[1], progress_columns[n].type) == 0 &&
             (strstr(ctype, "unsigned") != NULL) == progress_columns[n].is_unsigned &&
             g_str_equal(row[3], "YES") == progress_columns[n].nullable &&
             g_str_equal(row[4], "PRI") == (n == 0);
        if (g_str_equal(progress_columns[n].type, "varchar"))
            len[n] = row[5] ? (guint)g_ascii_strtoull(row[5], NULL, 10) : 0;
        if (g_str_equal(progress_columns[n].type, "datetime"))
            ok = ok && row[6] && g_str_equal(row[6], "6");
        n++;
    }
    mysql_free_result(res);
    if (!ok || n != G_N_ELEMENTS(progress_columns))
        return;
    for (guint i = 0; i < n; i++)
        if (g_str_equal(progress_columns[i].type, "varchar") && (len[i] < 64 || len[i] > 65535))
            return;
    out->file_len = (guint16)len[1];
    out->gtid_len = (guint16)len[3];
    out->wm_file_len = (guint16)len[5];
    /* the server's zone now, to the quarter hour (zones are whole quarter
     * hours; a daylight saving change during the replay shifts the
     * informative `updated` by its hour until the next run) */
    g_autofree char *off = NULL;
    if (!bl_conn_query_value(c, "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())", &off, NULL) || !off)
        return;
    gint64 s = g_ascii_strtoll(off, NULL, 10);
    out->utc_offset_s = (gint32)((s >= 0 ? s + 450 : s - 450) / 900 * 900);
    out->usable = TRUE;
}

static int pos_cmp(const char *fa, guint64 pa, const char *fb, guint64 pb)
{
    if (!fa || !fa[0])
        return fb && fb[0] ? -1 : 0;
    if (!fb || !fb[0])
        return 1;
    int c = bl_binlog_name_cmp(fa, fb);
    return c ? c : pa < pb ? -1 : pa > pb;
}

gboolean bl_progress_read(BlConn *c, const char *db, const char *table, char **file, guint64 *pos,
                          GHashTable *done, char **last, guint64 *last_pos, char **gtid, GError **error)
{
    *file = NULL;
    *pos = 0;
    *last = NULL;
    *last_pos = 0;
    *gtid = NULL;
    g_autofree char *sql = g_strdup_printf(
        "SELECT file, pos, gtid, wm_file, wm_pos, worker FROM `%s`.`%s` WHERE file <> ''", db, table);
    MYSQL *m = bl_conn_mysql(c);
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "cannot read the progress table %s.%s: ERROR %u (%s): %s",
                    db, table, mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
        return FALSE;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res)
        return TRUE;
    /* Each row: the last transaction its worker committed, and the
     * watermark (everything before it committed) when it did. A worker
     * commits a transaction only once its previous one is below the
     * watermark, so every transaction applied beyond the greatest
     * watermark is some row's own position. */
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        char **v = g_new0(char *, 7);
        for (int i = 0; i < 6; i++)
            v[i] = g_strdup(row[i] ? row[i] : "");
        g_ptr_array_add(rows, v);
        guint64 wp = g_ascii_strtoull(v[4], NULL, 10);
        if (pos_cmp(v[3], wp, *file, *pos) > 0) {
            g_free(*file);
            *file = g_strdup(v[3]);
            *pos = wp;
        }
        guint64 p = g_ascii_strtoull(v[1], NULL, 10);
        if (pos_cmp(v[0], p, *last, *last_pos) > 0) {
            g_free(*last);
            g_free(*gtid);
            *last = g_strdup(v[0]);
            *last_pos = p;
            *gtid = g_strdup(v[2]);
        }
    }
    mysql_free_result(res);
    GString *stale = g_string_new(NULL);
    for (guint i = 0; i < rows->len; i++) {
        char **v = g_ptr_array_index(rows, i);
        guint64 p = g_ascii_strtoull(v[1], NULL, 10);
        if (pos_cmp(v[0], p, *file, *pos) > 0)
            g_hash_table_add(done, g_strdup_printf("%s:%" G_GUINT64_FORMAT, v[0], p));
        else if (g_ascii_strtoull(v[5], NULL, 10) >= BL_MAX_WORKERS)
            g_string_append_printf(stale, "%s%s", stale->len ? "," : "", v[5]);
    }
    g_ptr_array_unref(rows);
    if (stale->len) { /* skipped transactions the watermark has passed */
        g_autofree char *del = g_strdup_printf("DELETE FROM `%s`.`%s` WHERE worker IN (%s)", db, table, stale->str);
        if (mysql_real_query(m, del, strlen(del)) != 0)
            g_warning("cannot delete old rows of skipped transactions from %s.%s: %s", db, table, mysql_error(m));
    }
    g_string_free(stale, TRUE);
    if (*file && !(*file)[0])
        g_clear_pointer(file, g_free);
    return TRUE;
}

/* How binlogfs's own statements on the progress table begin (the update
 * of a transaction; the row of a skipped one): bl_progress_sql_heads. */
#define UPDATE_HEAD "UPDATE `%s`.`%s` SET file="
#define SKIP_HEAD "INSERT INTO `%s`.`%s` (worker, file, pos, gtid, updated) SELECT GREATEST("

char **bl_progress_sql_heads(const char *db, const char *table)
{
    char **v = g_new0(char *, 3);
    v[0] = g_strdup_printf(UPDATE_HEAD, db, table);
    v[1] = g_strdup_printf(SKIP_HEAD, db, table);
    return v;
}

gboolean bl_progress_mark_skipped(BlConn *c, const char *db, const char *table, const char *file,
                                  guint64 end_pos, const char *gtid, GError **error)
{
    /* a row number of its own above the workers' (SMALLINT UNSIGNED) */
    GString *sql = g_string_new(NULL);
    g_string_append_printf(sql, SKIP_HEAD "%u, COALESCE(MAX(worker), 0) + 1), ", db, table, BL_MAX_WORKERS);
    quote(sql, file);
    g_string_append_printf(sql, ", %" G_GUINT64_FORMAT ", ", end_pos);
    quote(sql, gtid ? gtid : "");
    g_string_append_printf(sql, ", NOW(6) FROM `%s`.`%s`", db, table);
    gboolean off = unlogged_begin(c);
    gboolean ok = bl_conn_query(c, sql->str, sql->len, error);
    unlogged_end(c, off);
    g_string_free(sql, TRUE);
    if (!ok)
        g_prefix_error(error, "cannot record the skipped transaction in %s.%s: ", db, table);
    return ok;
}

void bl_progress_sql(GString *out, const char *db, const char *table, guint worker, const Job *j,
                     const char *wm_file, guint64 wm_pos)
{
    g_string_append_printf(out, UPDATE_HEAD, db, table);
    quote(out, j->file);
    g_string_append_printf(out, ", pos=%" G_GUINT64_FORMAT ", gtid=", j->trx->end_pos);
    quote(out, j->gtid_text);
    g_string_append(out, ", wm_file=");
    quote(out, wm_file ? wm_file : "");
    g_string_append_printf(out, ", wm_pos=%" G_GUINT64_FORMAT ", updated=NOW(6) WHERE worker=%u;\n",
                           wm_pos, worker);
}
