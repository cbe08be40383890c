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

static void quote(GString *out, const char *s)
{
    g_string_append_c(out, '\'');
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *s);
    }
    g_string_append_c(out, '\'');
}

gboolean bl_progress_setup(BlConn *c, const char *db, const char *table, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "CREATE DATABASE IF NOT EXISTS `%s`;\n"
        "CREATE TABLE IF NOT EXISTS `%s`.`%s` ("
        " worker SMALLINT UNSIGNED NOT NULL PRIMARY KEY,"
        " file VARCHAR(512) NOT NULL DEFAULT '',"
        " pos BIGINT UNSIGNED NOT NULL DEFAULT 0,"
        " gtid VARCHAR(256) NOT NULL DEFAULT '',"
        " updated DATETIME(6) NULL"
        ") ENGINE=InnoDB COMMENT='binlogfs: where the replay stands (one row per worker)';\n"
        "INSERT IGNORE INTO `%s`.`%s` (worker) SELECT seq FROM seq_0_to_%u",
        db, db, table, db, table, BL_MAX_WORKERS - 1);
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
        " updated DATETIME(6) NULL) ENGINE=InnoDB",
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

gboolean bl_progress_read(BlConn *c, const char *db, const char *table, char **file, guint64 *pos,
                          char **gtid, GError **error)
{
    *file = NULL;
    *gtid = NULL;
    *pos = 0;
    g_autofree char *sql = g_strdup_printf(
        "SELECT file, pos, gtid FROM `%s`.`%s` WHERE file <> ''", db, table);
    MYSQL *m = bl_conn_mysql(c);
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "cannot read the progress table %s.%s: ERROR %u (%s): %s",
                    db, table, mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
        return FALSE;
    }
    MYSQL_RES *res = mysql_store_result(m);
    if (!res)
        return TRUE;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        guint64 p = g_ascii_strtoull(row[1], NULL, 10);
        int cmp = *file ? bl_binlog_name_cmp(row[0], *file) : 1;
        if (cmp > 0 || (cmp == 0 && p > *pos)) {
            g_free(*file);
            g_free(*gtid);
            *file = g_strdup(row[0]);
            *gtid = g_strdup(row[2]);
            *pos = p;
        }
    }
    mysql_free_result(res);
    return TRUE;
}

void bl_progress_sql(GString *out, const char *db, const char *table, guint worker, const Job *j)
{
    g_string_append_printf(out, "UPDATE `%s`.`%s` SET file=", db, table);
    quote(out, j->file);
    g_string_append_printf(out, ", pos=%" G_GUINT64_FORMAT ", gtid=", j->trx->end_pos);
    quote(out, j->gtid_text);
    g_string_append_printf(out, ", updated=NOW(6) WHERE worker=%u;\n", worker);
}
