/* binlogfs — the embedded default: a private mariadbd on a restored data
 * directory (see server.h).
 *
 * DESIGN: binlogfs owns this server from start to stop, so every setting
 * comes from here, none from the system's my.cnf (`--no-defaults`): a
 * production configuration would bring its port, binlog, replication and
 * paths into a restore. The settings, and why they are safe:
 *  - innodb_flush_log_at_trx_commit=2: a commit is written to the OS at
 *    once (a mariadbd crash loses nothing) and flushed to disk once a
 *    second; a machine crash loses the last second of commits. That is
 *    safe here because binlogfs's progress row commits in the same InnoDB
 *    transaction as the data: the redo log is one sequence, so a crash
 *    loses a suffix of both together and a rerun resumes exactly at the
 *    first transaction lost.
 *  - innodb_doublewrite=ON (kept, stated): without it a machine crash can
 *    leave a torn page that no redo log repairs.
 *  - skip-log-bin: the binlogs being replayed are the history; the
 *    restored server's own binlog would write everything a second time
 *    (and sync it) for nothing. The DBA turns it on afterwards by starting
 *    the server with its usual configuration (log_bin in my.cnf); nothing
 *    of ours is persisted in the data directory.
 *  - skip-slave-start, event_scheduler=OFF: a backup may carry its replica
 *    settings and its events; a replica thread or an event firing during
 *    replay would apply changes the binlogs already hold.
 *  - innodb_buffer_pool_size: a quarter of RAM (or of the cgroup's memory
 *    limit), at least 128 MiB, at most 16 GiB.
 *  - innodb_log_file_size = the data directory's own ib_logfile0 size, and
 *    innodb_page_size read from ibdata1, so InnoDB neither resizes the
 *    redo log nor refuses the files.
 *  - innodb_use_native_aio=0: several servers at once exceed
 *    RLIMIT_MEMLOCK with io_uring and InnoDB then fails to start.
 *  - max_allowed_packet=1G (a row event can be as large as the source
 *    allowed), max_connections=512 (up to 256 workers), local_infile=1
 *    (LOAD DATA LOCAL).
 *  - skip-networking; socket, pid file, error log and tmpdir in the
 *    private run directory (mode 0700, owned by the server's user).
 *  - `--user=OWNER` when we are root: the server runs as the owner of the
 *    data directory, root included (mariadbd runs as root only when told
 *    `--user=root`, which a root-owned directory then means). Not root: we
 *    can run it only as ourselves, so the directory must be ours.
 * Then the options of a [binlogfs-server] group in the usual option files
 * (as `my_print_defaults binlogfs-server` prints them) are appended, so
 * they win: the way to add what a data directory needs (encryption
 * plugins, lower_case_table_names, ...) or to change a setting above.
 * Options that decide where the server is or who runs it are ignored with
 * a warning (PROTECTED in server-setup.c, where the checks made before
 * starting live too).
 *
 * The process is followed by PID plus its start time (/proc/PID/stat),
 * which tells it from a reused PID, and is reaped while it is our child.
 * It runs in a session of its own: a Ctrl-C on the terminal reaches
 * binlogfs, which stops it cleanly, not the server. Stopping is SIGTERM,
 * which mariadbd handles as SHUTDOWN (no credentials needed).
 */
#define G_LOG_DOMAIN "binlogfs-server"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mariadb/errmsg.h>
#include <mariadb/mysql.h>
#include <mariadb/mysqld_error.h>

#include "server-private.h"

#define START_TIMEOUT_S 300  /* crash recovery of a large log takes minutes */
#define STOP_TIMEOUT_S 600   /* flushing a large buffer pool too */
#define KILL_TIMEOUT_S 30
#define REPORT_EVERY_S 10
#define LOG_TAIL_LINES 15
#define LOG_TAIL_BYTES 16384

struct BlServer {
    BlServerSetup s;   /* paths, users, binary */
    GPid pid;          /* 0 once it is gone (or was never started) */
    guint64 start;     /* its start time, /proc/PID/stat field 22 (0: unknown) */
    gboolean child;    /* still our child: waitpid() works */
    gboolean reaped;   /* status is valid */
    int status;
};

/* ---- the process ---------------------------------------------------------- */

/* The state (field 3) and start time (field 22) of /proc/PID/stat; FALSE
 * when there is no such process. */
static gboolean proc_stat(GPid pid, char *state, guint64 *start)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return FALSE;
    const char *p = strrchr(text, ')'); /* the name may hold ')' and spaces */
    if (!p || p[1] != ' ')
        return FALSE;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return FALSE;
        p++;
    }
    *start = g_ascii_strtoull(p, NULL, 10);
    return TRUE;
}

/* Whether our server still runs. Reaps it when it is our child. */
static gboolean server_alive(BlServer *srv)
{
    if (!srv->pid)
        return FALSE;
    if (srv->child) {
        int status;
        pid_t r = waitpid(srv->pid, &status, WNOHANG);
        if (r == srv->pid) {
            srv->reaped = TRUE;
            srv->status = status;
            srv->child = FALSE;
            return FALSE;
        }
        if (r < 0 && errno == ECHILD)
            srv->child = FALSE; /* we are a daemonized copy of the starter */
        else if (r == 0)
            return TRUE;
    }
    char state;
    guint64 start;
    return proc_stat(srv->pid, &state, &start) && (!srv->start || start == srv->start) &&
           state != 'Z' && state != 'X';
}

/* Waits up to timeout_s for the server to be gone; with `report`, says
 * every REPORT_EVERY_S seconds that it is still waiting. */
static gboolean wait_gone(BlServer *srv, int timeout_s, gboolean report)
{
    gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)timeout_s * G_USEC_PER_SEC;
    gint64 next_report = t0 + REPORT_EVERY_S * G_USEC_PER_SEC;
    gulong pause = 20 * 1000;
    while (server_alive(srv)) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline)
            return FALSE;
        if (report && now >= next_report) {
            g_message("waiting for mariadbd (pid %d) to shut down: %d s (InnoDB writes its changed "
                      "pages; see %s)", (int)srv->pid, (int)((now - t0) / G_USEC_PER_SEC),
                      srv->s.error_log);
            next_report += REPORT_EVERY_S * G_USEC_PER_SEC;
        }
        g_usleep(pause);
        pause = MIN(pause * 2, 250 * 1000);
    }
    return TRUE;
}

/* Stops a server that failed to start: SIGTERM, then SIGKILL. */
static void terminate(BlServer *srv)
{
    if (server_alive(srv)) {
        kill(srv->pid, SIGTERM);
        if (!wait_gone(srv, KILL_TIMEOUT_S, FALSE)) {
            kill(srv->pid, SIGKILL);
            wait_gone(srv, KILL_TIMEOUT_S, FALSE);
        }
    }
    srv->pid = 0;
}

/* "exited with status 1", "was killed by signal 9 (Killed)", "exited". */
static char *exit_text(const BlServer *srv)
{
    if (!srv->reaped)
        return g_strdup("exited");
    if (WIFEXITED(srv->status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(srv->status));
    if (WIFSIGNALED(srv->status))
        return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(srv->status),
                               g_strsignal(WTERMSIG(srv->status)));
    return g_strdup("exited");
}

/* ---- the error log ---------------------------------------------------------- */

/* The end of a file (at most LOG_TAIL_BYTES), or NULL. */
static char *file_tail(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    off_t from = fstat(fd, &st) == 0 && st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
    char *buf = g_malloc(LOG_TAIL_BYTES + 1);
    ssize_t n = pread(fd, buf, LOG_TAIL_BYTES, from);
    close(fd);
    if (n <= 0) {
        g_free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The last LOG_TAIL_LINES lines of the error log (else of mariadbd's
 * stdout/stderr), each indented, after a line naming the file. */
static char *log_quote(const BlServer *srv)
{
    const char *path = srv->s.error_log;
    g_autofree char *text = file_tail(path);
    if (!text || !*text) {
        g_free(text);
        path = srv->s.out_log;
        text = file_tail(path);
    }
    if (!text || !*text)
        return g_strdup_printf("; %s is empty", srv->s.error_log);
    g_strchomp(text);
    char *p = text + strlen(text);
    for (int lines = 0; p > text; p--)
        if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES)
            break;
    g_auto(GStrv) lines = g_strsplit(p, "\n", -1);
    g_autofree char *body = g_strjoinv("\n  ", lines);
    return g_strdup_printf("; the last lines of %s:\n  %s", path, body);
}

/* The error log says the files are locked by another server. */
static gboolean log_says_locked(const BlServer *srv)
{
    g_autofree char *text = file_tail(srv->s.error_log);
    return text && (strstr(text, "Unable to lock") || strstr(text, "Can't lock aria control file"));
}

/* ---- start ----------------------------------------------------------------------- */

/* In the child, before exec: a session of its own, away from the
 * terminal's signals. */
static void child_setup(gpointer data)
{
    setsid();
}

/* The server accepts connections: a connection succeeds, or the server
 * itself refuses it (an error it sends, e.g. access denied). */
static gboolean answers(const BlServer *srv)
{
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return FALSE;
    unsigned int timeout = 5, protocol = MYSQL_PROTOCOL_SOCKET;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
    gboolean up = mysql_real_connect(m, "localhost", srv->s.connect_as, NULL, NULL, 0, srv->s.socket, 0) != NULL;
    if (!up) {
        unsigned int e = mysql_errno(m);
        up = e > 0 && e < CR_MIN_ERROR && e != ER_SERVER_SHUTDOWN;
        if (up)
            g_debug("%s answers: %s", srv->s.socket, mysql_error(m));
    }
    mysql_close(m);
    return up;
}

static gboolean fail_start(BlServer *srv, const char *what, GError **error)
{
    gboolean locked = log_says_locked(srv);
    terminate(srv);
    g_autofree char *quote = log_quote(srv);
    if (locked) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s is in use by another server (mariadbd could not lock its files)%s",
                    srv->s.datadir, quote);
        return FALSE;
    }
    g_set_error(error, BL_ERROR, BL_ERROR_SERVER, "mariadbd on %s %s%s", srv->s.datadir, what, quote);
    return FALSE;
}

static gboolean wait_ready(BlServer *srv, GError **error)
{
    gint64 t0 = g_get_monotonic_time();
    gint64 next_report = t0 + REPORT_EVERY_S * G_USEC_PER_SEC;
    for (;;) {
        if (!server_alive(srv)) {
            g_autofree char *how = exit_text(srv);
            g_autofree char *what = g_strdup_printf("%s during startup", how);
            return fail_start(srv, what, error);
        }
        if (log_says_locked(srv))
            return fail_start(srv, "", error);
        if (g_file_test(srv->s.socket, G_FILE_TEST_EXISTS) && answers(srv))
            return TRUE;
        gint64 now = g_get_monotonic_time();
        if (now - t0 >= START_TIMEOUT_S * G_USEC_PER_SEC) {
            g_autofree char *what = g_strdup_printf("did not accept connections within %d s: stopped",
                                                    START_TIMEOUT_S);
            return fail_start(srv, what, error);
        }
        if (now >= next_report) {
            g_message("waiting for mariadbd (pid %d) to accept connections: %d s (crash recovery "
                      "can take minutes; see %s)", (int)srv->pid, (int)((now - t0) / G_USEC_PER_SEC),
                      srv->s.error_log);
            next_report += REPORT_EVERY_S * G_USEC_PER_SEC;
        }
        g_usleep(100 * 1000);
    }
}

BlServer *bl_server_start(const char *datadir, const char *rundir, BlTarget *target, GError **error)
{
    bl_target_clear(target);
    g_autoptr(BlServer) srv = g_new0(BlServer, 1);
    if (!bl_server_setup(&srv->s, datadir, rundir, error))
        return NULL;
    unlink(srv->s.socket);
    unlink(srv->s.pid_file);
    int out = open(srv->s.out_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: %s", srv->s.out_log, g_strerror(e));
        return NULL;
    }
    g_autoptr(GPtrArray) args = bl_server_argv(&srv->s);
    g_autofree char *cmdline = g_strjoinv(" ", (char **)args->pdata);
    g_debug("starting %s", cmdline);
    GError *spawn_error = NULL;
    gboolean spawned = g_spawn_async_with_fds(rundir, (char **)args->pdata, NULL,
                                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                              child_setup, NULL, &srv->pid, -1, out, out, &spawn_error);
    close(out);
    if (!spawned) {
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot start %s: %s", srv->s.mariadbd,
                    spawn_error->message);
        g_error_free(spawn_error);
        srv->pid = 0;
        return NULL;
    }
    srv->child = TRUE;
    char state;
    if (!proc_stat(srv->pid, &state, &srv->start))
        srv->start = 0;
    if (!wait_ready(srv, error))
        return NULL;
    target->host = g_strdup("localhost");
    target->socket = g_strdup(srv->s.socket);
    target->user = g_strdup(srv->s.connect_as);
    return g_steal_pointer(&srv);
}

int bl_server_pid(const BlServer *srv)
{
    return srv ? (int)srv->pid : 0;
}

/* ---- stop ------------------------------------------------------------------------ */

gboolean bl_server_stop(BlServer *srv, GError **error)
{
    g_return_val_if_fail(srv != NULL, FALSE);
    if (!srv->pid) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "mariadbd on %s is not running", srv->s.datadir);
        return FALSE;
    }
    GPid pid = srv->pid;
    if (!server_alive(srv)) {
        g_autofree char *how = exit_text(srv);
        g_autofree char *quote = log_quote(srv);
        srv->pid = 0;
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER,
                    "mariadbd on %s (pid %d) %s before it was asked to stop%s", srv->s.datadir,
                    (int)pid, how, quote);
        return FALSE;
    }
    g_debug("stopping mariadbd (pid %d)", (int)pid);
    if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot stop mariadbd (pid %d): %s", (int)pid,
                    g_strerror(e));
        return FALSE;
    }
    if (!wait_gone(srv, STOP_TIMEOUT_S, TRUE)) {
        kill(pid, SIGKILL);
        wait_gone(srv, KILL_TIMEOUT_S, FALSE);
        srv->pid = 0;
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER,
                    "mariadbd on %s (pid %d) did not shut down within %d s and was killed: the data "
                    "is safe, InnoDB recovers it at the next start (see %s)",
                    srv->s.datadir, (int)pid, STOP_TIMEOUT_S, srv->s.error_log);
        return FALSE;
    }
    srv->pid = 0;
    /* Our child: its status says it; else its log must say it. */
    g_autofree char *tail = file_tail(srv->s.error_log);
    gboolean clean = srv->reaped ? WIFEXITED(srv->status) && WEXITSTATUS(srv->status) == 0
                                 : tail && strstr(tail, "Shutdown complete");
    if (!clean) {
        g_autofree char *how = exit_text(srv);
        g_autofree char *quote = log_quote(srv);
        g_set_error(error, BL_ERROR, BL_ERROR_SERVER,
                    "mariadbd on %s (pid %d) %s, not a clean shutdown%s", srv->s.datadir, (int)pid,
                    how, quote);
        return FALSE;
    }
    return TRUE;
}

void bl_server_free(BlServer *srv)
{
    if (!srv)
        return;
    if (server_alive(srv)) {
        GError *error = NULL;
        if (!bl_server_stop(srv, &error)) {
            g_warning("%s", error->message);
            g_error_free(error);
        }
    }
    bl_server_setup_clear(&srv->s);
    g_free(srv);
}
