/* binlogfs — the embedded server before it starts: the checks on the data
 * directory, who runs the server and who connects, its run directory and
 * its command line (see server-private.h).
 *
 * DESIGN: every check that can be made without the server is made here,
 * so that the common mistakes get a message of ours naming the cause
 * rather than fifteen lines of mariadbd's log: not a data directory, a
 * backup not prepared, a directory in use by another server (found by
 * the same fcntl locks InnoDB and Aria take), a directory the server's
 * user cannot reach. The settings, and why they are safe, are explained
 * at the top of server.c.
 */
#define G_LOG_DOMAIN "binlogfs-server"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server-private.h"

#define POOL_MIN ((guint64)128 << 20)
#define POOL_MAX ((guint64)16 << 30)

/* ---- checks --------------------------------------------------------------------- */

/* The process holding a write lock on DIR/NAME (an fcntl lock, as InnoDB
 * takes on ibdata1 and Aria on aria_log_control): TRUE with its pid. */
static gboolean lock_holder(const char *datadir, const char *name, pid_t *pid)
{
    g_autofree char *path = g_build_filename(datadir, name, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    gboolean held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    *pid = fl.l_pid;
    return held;
}

static gboolean check_not_in_use(const char *datadir, GError **error)
{
    static const char *const files[] = { "ibdata1", "aria_log_control" };
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        pid_t pid = 0;
        if (!lock_holder(datadir, files[i], &pid))
            continue;
        g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", (int)pid);
        g_autofree char *comm = NULL;
        if (pid <= 0 || !g_file_get_contents(comm_path, &comm, NULL, NULL))
            comm = g_strdup("a process of another namespace");
        g_strchomp(comm);
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s is in use by a running server (%s, pid %d, holds the lock on %s): "
                    "stop it first (kill -TERM %d shuts a mariadbd down cleanly)", datadir, comm, (int)pid,
                    files[i], (int)pid);
        return FALSE;
    }
    return TRUE;
}

/* A mariadb-backup (xtrabackup) copy must be prepared before a server
 * can use it: its checkpoints file says so. */
static gboolean check_prepared(const char *datadir, GError **error)
{
    static const char *const files[] = { "mariadb_backup_checkpoints", "xtrabackup_checkpoints" };
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(datadir, files[i], NULL);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            g_auto(GStrv) kv = g_strsplit(*l, "=", 2);
            if (!kv[0] || !kv[1] || strcmp(g_strstrip(kv[0]), "backup_type"))
                continue;
            const char *type = g_strstrip(kv[1]);
            if (!strcmp(type, "full-backuped") || !strcmp(type, "incremental")) {
                g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                            "%s is a backup that was not prepared (backup_type = %s in %s): run "
                            "mariadb-backup --prepare --target-dir=%s first",
                            datadir, type, files[i], datadir);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean check_datadir(const char *datadir, struct stat *st, GError **error)
{
    if (!g_path_is_absolute(datadir)) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s: the data directory must be an absolute path",
                    datadir);
        return FALSE;
    }
    if (stat(datadir, st) != 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "data directory %s: %s", datadir, g_strerror(e));
        return FALSE;
    }
    g_autofree char *mysql = g_build_filename(datadir, "mysql", NULL);
    struct stat m;
    int e = stat(mysql, &m) == 0 ? 0 : errno;
    if (!S_ISDIR(st->st_mode) || (e != EACCES && (e || !S_ISDIR(m.st_mode)))) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s is not a MariaDB data directory (no mysql/ in it)", datadir);
        return FALSE;
    }
    return TRUE; /* EACCES: choose_users() says whose it is */
}

/* After choose_users(): what needs the directory's content. */
static gboolean check_content(const char *datadir, GError **error)
{
    return check_prepared(datadir, error) && check_not_in_use(datadir, error);
}

/* When we are root and the server runs as pw: every directory above
 * `path` must let pw through (mariadbd opens files by absolute path after
 * it dropped root). `what` names path in the error. */
static gboolean check_reachable(const char *path, const char *what, const struct passwd *pw,
                                GError **error)
{
    if (geteuid() != 0 || pw->pw_uid == 0)
        return TRUE;
    g_autofree char *name = g_strdup(pw->pw_name); /* getpwuid() below reuses *pw */
    uid_t uid = pw->pw_uid;
    gid_t groups[256];
    int n = G_N_ELEMENTS(groups);
    if (getgrouplist(name, pw->pw_gid, groups, &n) < 0)
        n = 0;
    g_autofree char *dir = g_path_get_dirname(path);
    for (;;) {
        struct stat st;
        if (stat(dir, &st) == 0) {
            mode_t bit = S_IXOTH;
            if (st.st_uid == uid)
                bit = S_IXUSR;
            else
                for (int i = 0; i < n; i++)
                    if (groups[i] == st.st_gid)
                        bit = S_IXGRP;
            if (!(st.st_mode & bit)) {
                struct passwd *owner = getpwuid(st.st_uid);
                g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                            "%s %s: the server runs as %s (the owner of the data directory), who "
                            "cannot enter %s (mode %04o, owner %s)", what, path, name, dir,
                            (unsigned)(st.st_mode & 07777), owner ? owner->pw_name : "?");
                return FALSE;
            }
        }
        if (!strcmp(dir, "/") || !strcmp(dir, "."))
            return TRUE;
        char *up = g_path_get_dirname(dir);
        g_free(dir);
        dir = up;
    }
}

/* Who runs the server (--user, NULL: ourselves) and who connects. */
static gboolean choose_users(const char *datadir, const struct stat *st, char **run_as,
                             char **connect_as, GError **error)
{
    struct passwd *pw = getpwuid(st->st_uid);
    if (geteuid() == 0) {
        if (!pw) {
            g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                        "%s is owned by uid %u, which has no user name: mariadbd cannot run as it "
                        "(chown -R mysql: %s)", datadir, (unsigned)st->st_uid, datadir);
            return FALSE;
        }
        if (!check_reachable(datadir, "data directory", pw, error))
            return FALSE;
        *run_as = g_strdup(pw->pw_name);
        /* root@localhost: unix_socket authentication as the OS root */
        *connect_as = g_strdup("root");
        return TRUE;
    }
    if (st->st_uid != geteuid()) {
        g_autofree char *owner = pw ? g_strdup(pw->pw_name) : g_strdup_printf("uid %u", (unsigned)st->st_uid);
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s is owned by %s: the server runs as the owner of its data directory, so "
                    "run binlogfs as %s or as root", datadir, owner, owner);
        return FALSE;
    }
    *run_as = NULL;
    /* mariadb-install-db run by this user made USER@localhost (unix_socket) */
    *connect_as = g_strdup(g_get_user_name());
    return TRUE;
}

static gboolean make_rundir(const char *rundir, const struct stat *owner, GError **error)
{
    struct stat st;
    if (g_mkdir_with_parents(rundir, 0700) != 0 || lstat(rundir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        chmod(rundir, 0700) != 0 ||
        (geteuid() == 0 && chown(rundir, owner->st_uid, owner->st_gid) != 0)) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: cannot make it the server's run directory: %s",
                    rundir, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* ---- the settings ------------------------------------------------------------- */

static guint64 buffer_pool_size(void)
{
    guint64 ram = (guint64)sysconf(_SC_PHYS_PAGES) * (guint64)sysconf(_SC_PAGESIZE);
    g_autofree char *limit = NULL;
    if (g_file_get_contents("/sys/fs/cgroup/memory.max", &limit, NULL, NULL)) {
        guint64 v = g_ascii_strtoull(limit, NULL, 10); /* "max": 0 */
        if (v && v < ram)
            ram = v;
    }
    guint64 pool = CLAMP(ram / 4, POOL_MIN, POOL_MAX);
    return pool / POOL_MIN * POOL_MIN; /* whole 128 MiB chunks */
}

/* innodb_page_size from ibdata1's tablespace flags (page 0, offset 38+16),
 * 0 when unknown or the default. */
static guint page_size(const char *datadir)
{
    g_autofree char *path = g_build_filename(datadir, "ibdata1", NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    guint8 b[4];
    ssize_t n = pread(fd, b, sizeof b, 54);
    close(fd);
    if (n != sizeof b)
        return 0;
    guint32 flags = (guint32)b[0] << 24 | (guint32)b[1] << 16 | (guint32)b[2] << 8 | b[3];
    /* full_crc32 format: marker bit 4, ssize in bits 0-3; else bits 6-9 */
    guint ssize = flags & (1u << 4) ? flags & 15u : (flags >> 6) & 15u;
    guint size = ssize ? 512u << ssize : 16384u;
    return ssize >= 3 && ssize <= 7 && size != 16384 ? size : 0;
}

/* Options that decide where the server is or who runs it. */
static const char *const PROTECTED[] = {
    "datadir", "socket", "pid-file", "log-error", "log-basename", "user", "networking",
    "port", "bind-address", "no-defaults", "defaults-file", "defaults-extra-file",
    "defaults-group-suffix", "print-defaults", NULL,
};

static gboolean protected_option(const char *arg)
{
    g_autofree char *name = g_strndup(arg + 2, strcspn(arg + 2, "="));
    g_strdelimit(name, "_", '-');
    const char *base = name;
    if (g_str_has_prefix(base, "loose-"))
        base += strlen("loose-");
    static const char *const prefixes[] = { "skip-", "enable-", "disable-", "maximum-" };
    for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++)
        if (g_str_has_prefix(base, prefixes[i]))
            base += strlen(prefixes[i]);
    return g_strv_contains(PROTECTED, base);
}

/* Appends the options of the [binlogfs-server] group of the option files. */
static void add_group_options(GPtrArray *args, const char *mariadbd)
{
    g_autofree char *dir = g_path_get_dirname(mariadbd);
    g_autofree char *beside = g_build_filename(dir, "..", "bin", "my_print_defaults", NULL);
    g_autofree char *tool = g_find_program_in_path("my_print_defaults");
    if (!tool && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        tool = g_strdup(beside);
    if (!tool) {
        g_debug("my_print_defaults not found: no [binlogfs-server] options");
        return;
    }
    const char *argv[] = { tool, "binlogfs-server", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;
    GError *error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL, &out, &err, &status, &error) ||
        !g_spawn_check_wait_status(status, &error)) {
        g_warning("cannot read the [binlogfs-server] option group (%s): %s%s%s", tool, error->message,
                  err && *err ? ": " : "", err ? g_strstrip(err) : "");
        g_error_free(error);
        return;
    }
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!g_str_has_prefix(*l, "--"))
            continue;
        if (protected_option(*l))
            g_warning("[binlogfs-server] %s ignored: binlogfs decides where its server is and who "
                      "runs it", *l);
        else
            g_ptr_array_add(args, g_strdup(*l));
    }
}

GPtrArray *bl_server_argv(const BlServerSetup *s)
{
    const char *mariadbd = s->mariadbd, *run_as = s->run_as;
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup(mariadbd));
    g_ptr_array_add(a, g_strdup("--no-defaults")); /* must come first */
    g_ptr_array_add(a, g_strdup_printf("--datadir=%s", s->datadir));
    g_ptr_array_add(a, g_strdup_printf("--socket=%s", s->socket));
    g_ptr_array_add(a, g_strdup_printf("--pid-file=%s", s->pid_file));
    g_ptr_array_add(a, g_strdup_printf("--log-error=%s", s->error_log));
    g_ptr_array_add(a, g_strdup_printf("--tmpdir=%s", s->rundir));
    g_ptr_array_add(a, g_strdup("--skip-networking"));
    if (run_as)
        g_ptr_array_add(a, g_strdup_printf("--user=%s", run_as));
    g_ptr_array_add(a, g_strdup("--skip-log-bin"));
    g_ptr_array_add(a, g_strdup("--skip-slave-start"));
    g_ptr_array_add(a, g_strdup("--event-scheduler=OFF"));
    g_ptr_array_add(a, g_strdup("--innodb-flush-log-at-trx-commit=2"));
    g_ptr_array_add(a, g_strdup("--innodb-doublewrite=ON"));
    g_ptr_array_add(a, g_strdup("--innodb-use-native-aio=0"));
    g_ptr_array_add(a, g_strdup_printf("--innodb-buffer-pool-size=%" G_GUINT64_FORMAT, buffer_pool_size()));
    g_autofree char *log0 = g_build_filename(s->datadir, "ib_logfile0", NULL);
    struct stat st;
    if (stat(log0, &st) == 0 && st.st_size >= (1 << 20) && st.st_size % 4096 == 0)
        g_ptr_array_add(a, g_strdup_printf("--innodb-log-file-size=%lld", (long long)st.st_size));
    guint ps = page_size(s->datadir);
    if (ps)
        g_ptr_array_add(a, g_strdup_printf("--innodb-page-size=%u", ps));
    g_ptr_array_add(a, g_strdup("--max-allowed-packet=1G"));
    g_ptr_array_add(a, g_strdup("--max-connections=512"));
    g_ptr_array_add(a, g_strdup("--local-infile=1"));
    add_group_options(a, mariadbd);
    g_ptr_array_add(a, NULL);
    return a;
}


static char *find_mariadbd(GError **error)
{
    const char *env = g_getenv("BINLOGFS_MARIADBD");
    if (env && *env)
        return g_strdup(env);
    if (g_file_test("/usr/sbin/mariadbd", G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup("/usr/sbin/mariadbd");
    char *p = g_find_program_in_path("mariadbd");
    if (!p)
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "mariadbd not found (install mariadb-server, or set BINLOGFS_MARIADBD)");
    return p;
}

/* ---- all of it -------------------------------------------------------------------- */

gboolean bl_server_setup(BlServerSetup *s, const char *datadir, const char *rundir, GError **error)
{
    memset(s, 0, sizeof *s);
    s->datadir = g_strdup(datadir);
    s->rundir = g_strdup(rundir);
    s->socket = g_build_filename(rundir, BL_SERVER_SOCKET, NULL);
    s->pid_file = g_build_filename(rundir, BL_SERVER_PID_FILE, NULL);
    s->error_log = g_build_filename(rundir, BL_SERVER_ERROR_LOG, NULL);
    s->out_log = g_build_filename(rundir, BL_SERVER_OUT_LOG, NULL);
    struct stat st;
    if (!check_datadir(datadir, &st, error) ||
        !choose_users(datadir, &st, &s->run_as, &s->connect_as, error) || !check_content(datadir, error))
        return FALSE;
    s->mariadbd = find_mariadbd(error);
    if (!s->mariadbd)
        return FALSE;
    if (strlen(s->socket) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "%s: the socket path is too long for a unix socket; use a shorter temporary directory",
                    s->socket);
        return FALSE;
    }
    struct passwd *pw = s->run_as ? getpwnam(s->run_as) : NULL;
    if (pw && !check_reachable(rundir, "run directory (under --tmpdir or $TMPDIR)", pw, error))
        return FALSE;
    return make_rundir(rundir, &st, error);
}

void bl_server_setup_clear(BlServerSetup *s)
{
    g_free(s->datadir);
    g_free(s->rundir);
    g_free(s->socket);
    g_free(s->pid_file);
    g_free(s->error_log);
    g_free(s->out_log);
    g_free(s->mariadbd);
    g_free(s->run_as);
    g_free(s->connect_as);
    memset(s, 0, sizeof *s);
}
