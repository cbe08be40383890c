/* binlogfs — connections to the target server, and the one table that
 * classifies server errors (see conn.h).
 *
 * DESIGN: every connection attempt builds the same session, whatever the
 * option files say: a fresh MYSQL handle per attempt; option files read
 * in the mysql client's order; then, last, our own [binlogfs] lines that
 * force what replay depends on (utf8mb4, LOAD DATA LOCAL, no automatic
 * reconnect), so a user's [client] section cannot undo them. Invariants:
 *  - c->mysql is NULL or a connected handle with that session plus the
 *    session SQL, re-run on every reconnect;
 *  - c->err/c->sqlstate describe the last call: 0/"00000" after a success;
 *  - server errors are classified in bl_server_classify only.
 *
 * Option files. libmariadb reads files only inside mysql_real_connect,
 * from MYSQL_READ_DEFAULT_FILE if set, else from its own list; it has no
 * --defaults-extra-file. So binlogfs always hands it one generated file
 * (a memfd, read through /proc/self/fd) made of `!include` lines, which
 * libmariadb follows in order, then the forced lines:
 *   no --defaults-file:   /etc/my.cnf, /etc/mysql/my.cnf,
 *                         $MARIADB_HOME/my.cnf (else $MYSQL_HOME/my.cnf),
 *                         [--defaults-extra-file], $HOME/.my.cnf
 *   with --defaults-file: that file, [--defaults-extra-file]
 * The default list is libmariadb 3.3's own (ma_default.c; seen with strace
 * on Debian's 3.3.20), with the extra file where the mysql client reads it.
 * In each file the groups [client], [client-server], [client-mariadb] and
 * [binlogfs] are read (libmariadb's fixed groups plus MYSQL_READ_DEFAULT_GROUP);
 * a later line wins, and the command line (BlTarget) wins over all files.
 * Known limit of libmariadb 3.3: `!includedir DIR` reads only DIR/my.cnf,
 * not every .cnf file in DIR, so Debian's /etc/mysql/mariadb.conf.d files
 * are not read (the mariadb client, built on the server's code, reads them).
 */
#define G_LOG_DOMAIN "binlogfs-conn"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mariadb/errmsg.h>
#include <mariadb/mysqld_error.h>

#include "conn.h"

#define CONNECT_TIMEOUT_S 10u
#define RECONNECT_BUDGET_US (30 * G_USEC_PER_SEC)
#define RECONNECT_FIRST_PAUSE_US (100 * 1000)
#define RECONNECT_MAX_PAUSE_US (5 * G_USEC_PER_SEC)
/* libmariadb reads option files in 4 KiB lines. */
#define MAX_OPTION_PATH 4000

/* MySQL 8.0.24+: "The client was disconnected by the server because of
 * inactivity" (ER_CLIENT_INTERACTION_TIMEOUT). MariaDB uses 4031 for
 * ER_REFERENCED_TRG_DOES_NOT_EXIST. */
#define MYSQL_ER_CLIENT_INTERACTION_TIMEOUT 4031

struct BlConn {
    BlTarget target;       /* our copy, for reconnects */
    MYSQL *mysql;          /* NULL while closed */
    char *describe;        /* where we are connected */
    GPtrArray *session;    /* session SQL to re-run after a reconnect */
    guint err;
    char sqlstate[SQLSTATE_LENGTH + 1];
    guint stmt;            /* index in the batch of the statement being read */
    guint expect;          /* statements in the batch sent (0: unknown) */
    GArray *flagless;      /* of them, those whose reply may lack the
                              more-results flag (guint, ascending) */
    guint expect_next;     /* bl_conn_expect's, for the next batch only */
    GArray *flagless_next;
    guint32 version;
    gboolean mariadb;      /* kept while closed: classifies the error that closed it */
    char *label;           /* names the connection in the trace */
};

/* ---- the generated option file ------------------------------------------ */

typedef struct {
    int fd;
    char *path;        /* what libmariadb opens */
    gboolean unlink;   /* a temporary file (no memfd), remove after use */
} OptionFile;

/* A path libmariadb's parser can take in an `!include` line. */
static gboolean includable(const char *path)
{
    gsize len = strlen(path);
    return len > 0 && len < MAX_OPTION_PATH && !strpbrk(path, "\n\r") &&
           !g_ascii_isspace(path[len - 1]);
}

static gboolean check_named_file(const char *option, const char *path, GError **error)
{
    if (!includable(path)) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s %s: the client library cannot read a file with this name", option, path);
        return FALSE;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s %s: %s", option, path, g_strerror(e));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* Default files are included only when readable, as libmariadb does. */
static void include_default(GString *text, const char *dir, const char *name)
{
    if (!dir || !*dir)
        return;
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (includable(path) && access(path, R_OK) == 0)
        g_string_append_printf(text, "!include %s\n", path);
}

static char *option_text(const BlTarget *t, GError **error)
{
    g_autoptr(GString) text = g_string_new("# generated by binlogfs\n");
    g_autofree char *defaults = t->defaults_file ? g_canonicalize_filename(t->defaults_file, NULL)
                                                 : NULL;
    g_autofree char *extra = t->defaults_extra_file
                                 ? g_canonicalize_filename(t->defaults_extra_file, NULL)
                                 : NULL;
    if (defaults) {
        if (!check_named_file("--defaults-file", defaults, error))
            return NULL;
        g_string_append_printf(text, "!include %s\n", defaults);
    } else {
        include_default(text, "/etc", "my.cnf");
        include_default(text, "/etc/mysql", "my.cnf");
        const char *home = g_getenv("MARIADB_HOME");
        include_default(text, home ? home : g_getenv("MYSQL_HOME"), "my.cnf");
    }
    if (extra) {
        if (!check_named_file("--defaults-extra-file", extra, error))
            return NULL;
        g_string_append_printf(text, "!include %s\n", extra);
    }
    if (!defaults)
        include_default(text, g_getenv("HOME"), ".my.cnf");
    /* Last, so they win over every file. */
    g_string_append(text, "[binlogfs]\n"
                          "default-character-set=utf8mb4\n"
                          "local-infile=1\n"
                          "reconnect=0\n");
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static gboolean write_all(int fd, const char *buf, gsize len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FALSE;
        buf += w;
        len -= (gsize)w;
    }
    return TRUE;
}

static void option_file_drop(OptionFile *of)
{
    if (of->fd >= 0)
        close(of->fd);
    if (of->unlink && of->path)
        unlink(of->path);
    g_free(of->path);
    of->fd = -1;
    of->path = NULL;
}

static gboolean option_file_make(const BlTarget *t, OptionFile *of, GError **error)
{
    of->fd = -1;
    of->path = NULL;
    of->unlink = FALSE;
    g_autofree char *text = option_text(t, error);
    if (!text)
        return FALSE;
    gsize len = strlen(text);

    of->fd = memfd_create("binlogfs-options", MFD_CLOEXEC);
    if (of->fd >= 0) {
        of->path = g_strdup_printf("/proc/self/fd/%d", of->fd);
        if (write_all(of->fd, text, len) && access(of->path, R_OK) == 0)
            return TRUE;
        option_file_drop(of);
    }
    /* No memfd or no /proc: a private temporary file, removed after use. */
    g_autoptr(GError) tmp_error = NULL;
    of->fd = g_file_open_tmp("binlogfs-XXXXXX.cnf", &of->path, &tmp_error);
    if (of->fd < 0) {
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot make the client option file: %s",
                    tmp_error->message);
        return FALSE;
    }
    of->unlink = TRUE;
    if (!write_all(of->fd, text, len)) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot write the client option file %s: %s",
                    of->path, g_strerror(e));
        option_file_drop(of);
        return FALSE;
    }
    return TRUE;
}

/* ---- errors ------------------------------------------------------------- */

static void clear_error(BlConn *c)
{
    c->err = 0;
    g_strlcpy(c->sqlstate, "00000", sizeof c->sqlstate);
}

static void record_error(BlConn *c, MYSQL *m)
{
    c->err = mysql_errno(m);
    g_strlcpy(c->sqlstate, mysql_sqlstate(m), sizeof c->sqlstate);
}

/* Records m's error in c and sets `error` to "PREFIXERROR n (state): msg". */
static gboolean fail_server(BlConn *c, MYSQL *m, const char *prefix, GError **error)
{
    record_error(c, m);
    g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "%sERROR %u (%s): %s", prefix ? prefix : "",
                c->err, c->sqlstate, mysql_error(m));
    return FALSE;
}

static gboolean fail_closed(BlConn *c, GError **error)
{
    c->err = CR_SERVER_GONE_ERROR;
    g_strlcpy(c->sqlstate, "HY000", sizeof c->sqlstate);
    g_set_error(error, BL_ERROR, BL_ERROR_SERVER,
                "ERROR %u (%s): not connected to %s (the last reconnect failed)", c->err,
                c->sqlstate, c->describe ? c->describe : "the server");
    return FALSE;
}

/* ---- connecting ---------------------------------------------------------- */

/* Where m connects (or tried to): the command line first, then what the
 * option files put in m's options (kept after a failure thanks to
 * CLIENT_REMEMBER_OPTIONS), then the library's defaults. */
static char *describe_effective(const BlTarget *t, MYSQL *m)
{
    BlTarget eff = {
        .host = t->host && *t->host ? t->host : m->options.host,
        .port = t->port ? t->port : m->options.port,
        .socket = t->socket && *t->socket ? t->socket : m->options.unix_socket,
        .user = t->user && *t->user ? t->user : m->options.user,
    };
    return bl_target_describe(&eff);
}

static void close_handle(BlConn *c)
{
    if (c->mysql) {
        mysql_close(c->mysql);
        c->mysql = NULL;
    }
}

/* One attempt: a new handle, connected and set up, in c->mysql. On failure
 * c->err says why (0 for errors that are not the server's). */
static gboolean connect_once(BlConn *c, GError **error)
{
    const BlTarget *t = &c->target;
    close_handle(c);
    clear_error(c);
    if (t->password_prompt && !t->password) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "-p was given but the password was not read (bl_target_resolve_password)");
        return FALSE;
    }
    OptionFile of;
    if (!option_file_make(t, &of, error))
        return FALSE;

    MYSQL *m = mysql_init(NULL);
    if (!m) {
        option_file_drop(&of);
        c->err = CR_OUT_OF_MEMORY;
        g_strlcpy(c->sqlstate, "HY000", sizeof c->sqlstate);
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "cannot connect: ERROR %u (HY000): %s",
                    c->err, "out of memory (mysql_init)");
        return FALSE;
    }
    unsigned int timeout = CONNECT_TIMEOUT_S, local_infile = 1;
    my_bool reconnect = 0;
    mysql_optionsv(m, MYSQL_READ_DEFAULT_FILE, of.path);
    mysql_optionsv(m, MYSQL_READ_DEFAULT_GROUP, "binlogfs");
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    mysql_optionsv(m, MYSQL_OPT_RECONNECT, &reconnect);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

    const unsigned long flags =
        CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS | CLIENT_REMEMBER_OPTIONS;
    MYSQL *ok = mysql_real_connect(m, t->host, t->user, t->password, NULL, t->port, t->socket,
                                   flags);
    option_file_drop(&of);
    g_autofree char *where = describe_effective(t, m);
    g_autofree char *prefix = g_strdup_printf("cannot connect to %s: ", where);
    if (!ok) {
        fail_server(c, m, prefix, error);
        mysql_close(m);
        return FALSE;
    }
    /* Belt and braces: the forced [binlogfs] lines should have done this. */
    mysql_optionsv(m, MYSQL_OPT_RECONNECT, &reconnect);
    if (strcmp(mysql_character_set_name(m), "utf8mb4") != 0 &&
        mysql_set_character_set(m, "utf8mb4") != 0) {
        g_autofree char *p = g_strdup_printf("%scannot use utf8mb4: ", prefix);
        fail_server(c, m, p, error);
        mysql_close(m);
        return FALSE;
    }
    if (!(m->client_flag & CLIENT_LOCAL_FILES))
        g_warning("%s: LOAD DATA LOCAL is not available; replaying LOAD DATA will fail", where);

    c->mysql = m;
    g_free(c->describe);
    c->describe = g_steal_pointer(&where);
    c->version = (guint32)mysql_get_server_version(m);
    c->mariadb = mariadb_connection(m) != 0;
    for (guint i = 0; i < c->session->len; i++) {
        const char *sql = c->session->pdata[i];
        if (!bl_conn_query(c, sql, strlen(sql), error)) {
            g_prefix_error(error, "%ssession SQL \"%s\": ", prefix, sql);
            close_handle(c);
            return FALSE;
        }
    }
    g_debug("connected to %s (server %u, %s)", c->describe, c->version,
            c->mariadb ? "MariaDB" : "MySQL");
    return TRUE;
}

BlConn *bl_conn_open(const BlTarget *t, GError **error)
{
    BlConn *c = g_new0(BlConn, 1);
    bl_target_copy(&c->target, t);
    c->session = g_ptr_array_new_with_free_func(g_free);
    c->flagless = g_array_new(FALSE, FALSE, sizeof(guint));
    c->flagless_next = g_array_new(FALSE, FALSE, sizeof(guint));
    clear_error(c);
    if (!connect_once(c, error)) {
        bl_conn_free(c);
        return NULL;
    }
    return c;
}

void bl_conn_free(BlConn *c)
{
    if (!c)
        return;
    close_handle(c);
    bl_target_clear(&c->target);
    g_ptr_array_unref(c->session);
    g_array_unref(c->flagless);
    g_array_unref(c->flagless_next);
    g_free(c->describe);
    g_free(c->label);
    g_free(c);
}

gboolean bl_conn_reconnect(BlConn *c, GError **error)
{
    close_handle(c);
    const gint64 start = g_get_monotonic_time();
    gulong pause = RECONNECT_FIRST_PAUSE_US;
    for (guint attempt = 1;; attempt++) {
        g_autoptr(GError) err = NULL;
        if (connect_once(c, &err)) {
            if (attempt > 1)
                g_message("reconnected to %s after %u attempts", c->describe, attempt);
            return TRUE;
        }
        BlServerClass cls = g_error_matches(err, BL_ERROR, BL_ERROR_SERVER)
                                ? bl_server_classify(c->err)
                                : BL_SERVER_FATAL;
        gint64 now = g_get_monotonic_time();
        gint64 left = start + RECONNECT_BUDGET_US - now;
        if ((cls != BL_SERVER_RECONNECT && cls != BL_SERVER_RETRY) || left <= 0) {
            g_propagate_prefixed_error(error, g_steal_pointer(&err),
                                       "reconnect failed (%u attempt%s in %.1f s): ", attempt,
                                       attempt == 1 ? "" : "s",
                                       (double)(now - start) / G_USEC_PER_SEC);
            return FALSE;
        }
        /* The last pause is cut short so that the last attempt is at the
         * end of the budget. */
        gulong nap = (gint64)pause < left ? pause : (gulong)left;
        g_debug("reconnect attempt %u: %s; next in %lu ms", attempt, err->message, nap / 1000);
        g_usleep(nap);
        pause = MIN(pause * 2, (gulong)RECONNECT_MAX_PAUSE_US);
    }
}

gboolean bl_conn_reset_session(BlConn *c, GError **error)
{
    if (!c->mysql)
        return fail_closed(c, error);
    /* the library frees its copies of user and password on success */
    g_autofree char *user = g_strdup(c->mysql->user ? c->mysql->user : "");
    g_autofree char *password = g_strdup(c->mysql->passwd ? c->mysql->passwd : "");
    if (mysql_change_user(c->mysql, user, password, NULL) != 0) {
        fail_server(c, c->mysql, "cannot reset the session (COM_CHANGE_USER): ", error);
        close_handle(c);
        return FALSE;
    }
    for (guint i = 0; i < c->session->len; i++) {
        const char *sql = c->session->pdata[i];
        if (!bl_conn_query(c, sql, strlen(sql), error)) {
            g_prefix_error(error, "after a session reset, session SQL \"%s\": ", sql);
            close_handle(c);
            return FALSE;
        }
    }
    clear_error(c);
    return TRUE;
}

/* ---- queries --------------------------------------------------------------- */

/* Is statement `stmt` of the batch one whose reply may lack the
 * more-results flag (bl_conn_expect)? */
static gboolean flagless(const BlConn *c, guint stmt)
{
    for (guint i = 0; i < c->flagless->len; i++)
        if (g_array_index(c->flagless, guint, i) == stmt)
            return TRUE;
    return FALSE;
}

/* Reads every result of the statement just sent. With `value`, the first
 * column of the first row of the first result goes there (and *has_result
 * says whether that statement had a result set). */
static gboolean read_results(BlConn *c, char **value, gboolean *has_result, GError **error)
{
    MYSQL *m = c->mysql;
    for (gboolean first = TRUE;; first = FALSE) {
        MYSQL_RES *res = mysql_store_result(m);
        if (!res && mysql_field_count(m) != 0)
            return fail_server(c, m, NULL, error); /* the rows could not be read */
        if (first && has_result)
            *has_result = res != NULL;
        if (res && first && value) {
            MYSQL_ROW row = mysql_fetch_row(res);
            if (row && row[0]) {
                unsigned long len = mysql_fetch_lengths(res)[0];
                *value = g_malloc(len + 1);
                memcpy(*value, row[0], len);
                (*value)[len] = '\0';
            }
        }
        if (res)
            mysql_free_result(res);
        /* 0: another result follows; -1: that was the last; >0: the next
         * statement of the batch failed (and the server ran none after). */
        int status = mysql_next_result(m);
        if (status < 0 && c->stmt + 1 < c->expect && flagless(c, c->stmt)) {
            /* MariaDB clears SERVER_MORE_RESULTS_EXIST in its reply to a
             * BINLOG statement of row events, though it runs the rest of
             * the batch: the statements counted tell that more follow */
            m->server_status |= SERVER_MORE_RESULTS_EXIST;
            status = mysql_next_result(m);
        }
        if (status < 0)
            break;
        c->stmt++;
        if (status > 0)
            return fail_server(c, m, NULL, error);
    }
    clear_error(c);
    return TRUE;
}

void bl_conn_expect(BlConn *c, guint n, const GArray *flagless)
{
    c->expect_next = n;
    g_array_set_size(c->flagless_next, 0);
    if (flagless)
        g_array_append_vals(c->flagless_next, flagless->data, flagless->len);
}

void bl_conn_set_label(BlConn *c, const char *label)
{
    g_free(c->label);
    c->label = g_strdup(label);
}

/* BINLOGFS_TRACE_SQL=FILE appends every batch sent on any connection to
 * FILE, after a line "-- LABEL" (debugging and tests/bench/ceiling.sh;
 * it holds the data of the binlogs: keep it private). */
static void trace(const BlConn *c, const char *sql, gsize len)
{
    static gsize once;
    static FILE *out;
    static GMutex lock;
    if (g_once_init_enter(&once)) {
        const char *path = g_getenv("BINLOGFS_TRACE_SQL");
        out = path && path[0] ? fopen(path, "a") : NULL;
        g_once_init_leave(&once, 1);
    }
    if (!out)
        return;
    g_mutex_lock(&lock);
    fprintf(out, "-- %s\n%.*s\n", c->label ? c->label : "connection", (int)len, sql);
    fflush(out);
    g_mutex_unlock(&lock);
}

/* A batch is sent: bl_conn_expect's counts (or none) hold for its replies
 * and are used up, so that they never reach a later batch (e.g. the
 * session's statements after a reconnect). */
static void begin_batch(BlConn *c)
{
    c->stmt = 0;
    c->expect = c->expect_next;
    c->expect_next = 0;
    GArray *t = c->flagless;
    c->flagless = c->flagless_next;
    c->flagless_next = t;
    g_array_set_size(c->flagless_next, 0);
}

gboolean bl_conn_query(BlConn *c, const char *sql, gsize len, GError **error)
{
    begin_batch(c);
    if (!c->mysql)
        return fail_closed(c, error);
    trace(c, sql, len);
    if (mysql_real_query(c->mysql, sql, (unsigned long)len) != 0)
        return fail_server(c, c->mysql, NULL, error);
    return read_results(c, NULL, NULL, error);
}

gboolean bl_conn_send(BlConn *c, const char *sql, gsize len, GError **error)
{
    begin_batch(c);
    if (!c->mysql)
        return fail_closed(c, error);
    trace(c, sql, len);
    if (mysql_send_query(c->mysql, sql, (unsigned long)len) != 0)
        return fail_server(c, c->mysql, NULL, error);
    return TRUE;
}

gboolean bl_conn_finish(BlConn *c, GError **error)
{
    if (!c->mysql)
        return fail_closed(c, error);
    if (mysql_read_query_result(c->mysql) != 0)
        return fail_server(c, c->mysql, NULL, error);
    return read_results(c, NULL, NULL, error);
}

gboolean bl_conn_query_value(BlConn *c, const char *sql, char **value, GError **error)
{
    begin_batch(c);
    *value = NULL;
    if (!c->mysql)
        return fail_closed(c, error);
    trace(c, sql, strlen(sql));
    if (mysql_real_query(c->mysql, sql, (unsigned long)strlen(sql)) != 0)
        return fail_server(c, c->mysql, NULL, error);
    gboolean has_result = FALSE;
    if (!read_results(c, value, &has_result, error)) {
        g_clear_pointer(value, g_free);
        return FALSE;
    }
    if (!has_result) {
        clear_error(c);
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "\"%s\" returned no result set", sql);
        return FALSE;
    }
    return TRUE;
}

gboolean bl_conn_session_sql(BlConn *c, const char *sql, GError **error)
{
    if (!bl_conn_query(c, sql, strlen(sql), error))
        return FALSE;
    g_ptr_array_add(c->session, g_strdup(sql));
    return TRUE;
}

/* ---- accessors ------------------------------------------------------------- */

guint bl_conn_errno(const BlConn *c)
{
    return c->err;
}

guint bl_conn_failed_statement(const BlConn *c)
{
    return c->stmt;
}

const char *bl_conn_sqlstate(const BlConn *c)
{
    return c->sqlstate;
}

MYSQL *bl_conn_mysql(BlConn *c)
{
    return c->mysql;
}

guint32 bl_conn_server_version(BlConn *c)
{
    return c->mysql ? c->version : 0;
}

gboolean bl_conn_is_mariadb(BlConn *c)
{
    return c->mariadb;
}

const char *bl_conn_describe(const BlConn *c)
{
    return c->describe;
}

/* ---- the one table of server errors ------------------------------------- */

BlServerClass bl_server_classify(guint code)
{
    switch (code) {
    /* RETRY: the transaction was rolled back (or the statement refused) for
     * a reason that goes away by itself; the connection is fine. */
    case ER_LOCK_DEADLOCK:            /* 1213: chosen as the deadlock victim; rolled back */
    case ER_LOCK_WAIT_TIMEOUT:        /* 1205: a lock held by another session (ours, or
                                       * a user's) for innodb_lock_wait_timeout; retrying
                                       * after the other commits succeeds */
    case ER_CHECKREAD:                /* 1020: record changed since last read (optimistic
                                       * engines, InnoDB snapshot isolation) */
    case ER_TABLE_DEF_CHANGED:        /* 1412: table definition changed under a consistent
                                       * read; the server says "please retry transaction" */
    case ER_TOO_MANY_CONCURRENT_TRXS: /* 1637: InnoDB undo slots exhausted, freed as other
                                       * transactions end */
    case ER_LOCK_ABORTED:             /* 1689: lock wait aborted for a pending exclusive
                                       * lock (DDL); retry after it */
    case ER_XA_RBDEADLOCK:            /* 1614: XA branch rolled back by a deadlock */
    case ER_XA_RBTIMEOUT:             /* 1613: XA branch rolled back by a lock timeout */
        return BL_SERVER_RETRY;

    /* RECONNECT: this connection is unusable (or could not be made) but the
     * server may well come back; reconnect, then check the progress row
     * before running the transaction again (its COMMIT may have landed). */
    case CR_SERVER_GONE_ERROR:         /* 2006: closed between queries (wait_timeout, restart) */
    case CR_SERVER_LOST:               /* 2013: lost during a query */
    case CR_SERVER_LOST_EXTENDED:      /* 2055: lost, with the system error */
    case CR_CONNECTION_ERROR:          /* 2002: socket connect failed: server restarting */
    case CR_CONN_HOST_ERROR:           /* 2003: TCP connect failed: server restarting */
    case ER_CONNECTION_KILLED:         /* 1927: MariaDB, our connection was KILLed */
    case ER_SERVER_SHUTDOWN:           /* 1053: server shutdown in progress */
    case ER_NET_READ_ERROR:            /* 1158 */
    case ER_NET_READ_INTERRUPTED:      /* 1159 */
    case ER_NET_ERROR_ON_WRITE:        /* 1160 */
    case ER_NET_WRITE_INTERRUPTED:     /* 1161: the server's side of the network failed;
                                        * it closes the connection after these */
    case ER_CON_COUNT_ERROR:           /* 1040: too many connections; at connect time only,
                                        * frees up as other sessions end (the reconnect
                                        * loop is bounded) */
    case ER_TOO_MANY_USER_CONNECTIONS: /* 1203: max_user_connections, same */
        return BL_SERVER_RECONNECT;

    /* CONFLICT: what a transaction run too early causes when it depends on
     * an earlier one in a way the write sets did not show (a trigger, a
     * cascade, a key binlogfs could not see). Run serially after everything
     * before it has committed, it succeeds; if it fails again it is fatal. */
    case ER_DUP_ENTRY:                /* 1062: the earlier DELETE of that key not yet done */
    case ER_DUP_ENTRY_WITH_KEY_NAME:  /* 1586: the same, MySQL's wording */
    case ER_DUP_KEY:                  /* 1022: the same, from some engines */
    case ER_KEY_NOT_FOUND:            /* 1032: HA_ERR_KEY_NOT_FOUND from an Update/Delete
                                       * rows event: the earlier INSERT not yet done */
    case ER_ROW_IS_REFERENCED_2:      /* 1451: parent row still referenced: the earlier
                                       * DELETE of the child not yet done */
    case ER_NO_REFERENCED_ROW_2:      /* 1452: parent row missing: the earlier INSERT of
                                       * the parent not yet done */
    case ER_ROW_IS_REFERENCED:        /* 1217: the same two, older wording */
    case ER_NO_REFERENCED_ROW:        /* 1216 */
        return BL_SERVER_CONFLICT;

    /* FATAL: everything else, among them, on purpose:
     * 0 (no error); 1045 access denied and 2005 unknown host (configuration,
     * never better by waiting); 1146/1049 missing table/database (DDL is a
     * barrier, so never a reordering effect); 1317 query interrupted (a KILL
     * QUERY is an operator's decision: surface it, `retry` resumes); 1969
     * max_statement_time (would time out again); 2014 commands out of sync
     * (a bug); 1180 error during COMMIT (cause unknown); 1226 user resource
     * limit (max_questions etc. last an hour). */
    default:
        return BL_SERVER_FATAL;
    }
}

BlServerClass bl_conn_classify(const BlConn *c)
{
    if (c->err == MYSQL_ER_CLIENT_INTERACTION_TIMEOUT && !c->mariadb)
        return BL_SERVER_RECONNECT; /* MySQL closed the idle connection */
    return bl_server_classify(c->err);
}

const char *bl_server_class_name(BlServerClass cls)
{
    switch (cls) {
    case BL_SERVER_RETRY:
        return "retry";
    case BL_SERVER_RECONNECT:
        return "reconnect";
    case BL_SERVER_CONFLICT:
        return "conflict";
    case BL_SERVER_FATAL:
        return "fatal";
    }
    return "fatal";
}
