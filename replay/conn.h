/* binlogfs — one connection to the target server (engine only).
 *
 * A BlConn is used by one thread at a time. It keeps a copy of its target
 * so that it can reconnect by itself; the client library's automatic
 * reconnect is off, because a silent reconnect would lose the session
 * state a transaction depends on.
 *
 * Every connection: option groups [client], [client-server],
 * [client-mariadb] and [binlogfs] of the option files (see conn.c for which
 * files, in which order), CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS,
 * LOAD DATA LOCAL allowed, character set utf8mb4, connect timeout 10 s, no
 * read or write timeout (a replayed statement may run for hours).
 *
 * Errors are BL_ERROR_SERVER with "ERROR <code> (<sqlstate>): <message>";
 * the code and SQLSTATE of the last error stay readable with
 * bl_conn_errno/bl_conn_sqlstate, and bl_conn_classify says what to do
 * about it. Call mysql_library_init() before the first thread starts and
 * mysql_thread_end() at the end of every thread that used a BlConn.
 */
#ifndef BINLOGFS_CONN_H
#define BINLOGFS_CONN_H

#include <mariadb/mysql.h>

#include <binlogfs/target.h>

G_BEGIN_DECLS

typedef struct BlConn BlConn;

/* Connects to t (copied; t may go away). t's password must be resolved
 * (bl_target_resolve_password) if it is to be prompted. Returns NULL with
 * BL_ERROR_INVALID for an unreadable --defaults-file/--defaults-extra-file
 * or an unresolved prompt, BL_ERROR_SERVER when the connection fails:
 * "cannot connect to USER@HOST...: ERROR 2002 (HY000): ...", naming the
 * server and user actually used (option files included). */
BlConn *bl_conn_open(const BlTarget *t, GError **error);

/* Names c in the trace of statements sent (BINLOGFS_TRACE_SQL): a line
 * "-- LABEL" before each batch ("-- connection" without a label). */
void bl_conn_set_label(BlConn *c, const char *label);

/* Closes the connection (if any) and frees c. NULL is allowed. */
void bl_conn_free(BlConn *c);

/* Runs `sql` (len bytes, may hold several statements separated by ';'),
 * reads and frees every result set. Returns FALSE at the first statement
 * that fails (the server runs none after it) with BL_ERROR_SERVER
 * "ERROR <code> (<sqlstate>): <message>"; the code is then
 * bl_conn_errno(c). A connection that is closed (after a failed
 * reconnect) fails with 2006 (server gone). */
gboolean bl_conn_query(BlConn *c, const char *sql, gsize len, GError **error);

/* bl_conn_query in two halves: send the batch, then read every reply
 * (the caller may do something in between, e.g. let others know the
 * batch reached the server). Errors as bl_conn_query. */
gboolean bl_conn_send(BlConn *c, const char *sql, gsize len, GError **error);
gboolean bl_conn_finish(BlConn *c, GError **error);

/* Runs `sql` (NUL terminated) and sets *value to the first column of its
 * first row (a new string, g_free), or to NULL when that is SQL NULL or
 * there is no row. Further rows and result sets are read and dropped.
 * Fails as bl_conn_query, and with BL_ERROR_INVALID (errno 0) when the
 * first statement returns no result set at all (not a SELECT). *value is
 * NULL on failure. */
gboolean bl_conn_query_value(BlConn *c, const char *sql, char **value, GError **error);

/* The next batch sent (by bl_conn_query, bl_conn_send or
 * bl_conn_query_value; that one only) holds n statements,
 * and `flagless` (guint indexes from 0, or NULL) lists those that are
 * BINLOG statements of row events: MariaDB's reply to one lacks
 * SERVER_MORE_RESULTS_EXIST though the server runs the rest of the batch,
 * so after such a reply the replies go on while fewer than n were read.
 * Anywhere else (and without this call) they end where the server's flag
 * says; a failed statement ends them either way. */
void bl_conn_expect(BlConn *c, guint n, const GArray *flagless);

/* Runs `sql` now (as bl_conn_query) and again after every reconnect, in
 * the order given: session settings a connection must keep. */
gboolean bl_conn_session_sql(BlConn *c, const char *sql, GError **error);

/* Resets the session without reconnecting (COM_CHANGE_USER to the same
 * account, no default database): afterwards DATABASE() is NULL, every
 * session variable has its global value, user variables and temporary
 * tables are gone and an open transaction is rolled back; then the
 * session SQL is re-run. The only way a client can leave its default
 * database (USE cannot). Fails as bl_conn_query (bl_conn_errno is the
 * server's code: 2013 for a lost server, 1045 for a refused account...)
 * and then leaves the connection closed: a reconnect is needed. */
gboolean bl_conn_reset_session(BlConn *c, GError **error);

/* Closes the connection and opens it again with the same target, then
 * re-runs the session SQL. Attempts are repeated with a growing pause
 * (0.1 s doubling, at most 5 s) while they fail with an error classified
 * BL_SERVER_RECONNECT or BL_SERVER_RETRY (server down, restarting, too
 * many connections), for at most about 30 s in all; any other error (bad
 * password, unknown host) fails at once. On failure c stays closed: its
 * queries fail with 2006 until a later reconnect succeeds. */
gboolean bl_conn_reconnect(BlConn *c, GError **error);

/* The code and SQLSTATE of the last failed call on c (0 and "00000" after
 * a success). The string is owned by c. */
guint bl_conn_errno(const BlConn *c);
const char *bl_conn_sqlstate(const BlConn *c);

/* After a failed bl_conn_query or bl_conn_finish: the index (from 0) in
 * the batch of the statement that failed; the statements before it ran.
 * Counts one result per statement (true of everything replay sends; a
 * CALL returning result sets would count more). */
guint bl_conn_failed_statement(const BlConn *c);

/* The handle, for what this module does not wrap (NULL while closed).
 * Owned by c; do not close it, and do not keep it across a reconnect. */
MYSQL *bl_conn_mysql(BlConn *c);

/* The server's version as major*10000 + minor*100 + patch (101119 for
 * 10.11.19), 0 while closed; and whether it is MariaDB (not MySQL). */
guint32 bl_conn_server_version(BlConn *c);
gboolean bl_conn_is_mariadb(BlConn *c);

/* Where c is connected: "root@localhost via socket /x.sock", with what the
 * option files gave. Owned by c, valid until the next reconnect/free. */
const char *bl_conn_describe(const BlConn *c);

/* ---- the one table of server errors ------------------------------------- */

typedef enum {
    BL_SERVER_RETRY,     /* transient: roll back, run the transaction again */
    BL_SERVER_RECONNECT, /* the connection is gone: reconnect, then run it again */
    BL_SERVER_CONFLICT,  /* maybe a hidden dependency: run it once more, alone */
    BL_SERVER_FATAL,     /* stop and report */
} BlServerClass;

/* The class of a server or client error code (table and reasons in
 * conn.c). 0 (no error) is FATAL: there is nothing to retry. */
BlServerClass bl_server_classify(guint code);

/* The class of c's last error, taking the server's flavour into account
 * where MySQL and MariaDB use one code for different things (4031). */
BlServerClass bl_conn_classify(const BlConn *c);

/* "retry", "reconnect", "conflict", "fatal" (static). */
const char *bl_server_class_name(BlServerClass cls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlConn, bl_conn_free)

G_END_DECLS

#endif
