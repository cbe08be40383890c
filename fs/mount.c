/* binlogfs — `binlogfs mount [TARGET] [REPLAY] --spool=DIR [-f] [-o OPTS]
 * MOUNTPOINT`: the restore workspace as a FUSE file system.
 *
 * DESIGN: everything that can fail for a reason the user must see runs
 * in the foreground, before daemonizing: options (every setting also as
 * `-o key=value`, for fstab and mount.fuse3), the password prompt, the
 * paths (absolute, existing, writable; the spool locked against a second
 * mount), the private server of --datadir, the target (bl_session_new
 * connects once and creates the progress table), the files already in
 * the spool (a remount resumes with them) and the mount itself. Then
 * fuse_daemonize() forks (unless -f), the log goes to SPOOL/binlogfs.log,
 * and only then do threads start (the session's, FUSE's). At the end
 * (fusermount3 -u, SIGTERM, SIGINT) the loop returns; the session is
 * freed (transactions in flight commit or roll back), then the private
 * server is shut down cleanly.
 */
#define G_LOG_DOMAIN "binlogfs-mount"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <fcntl.h>
#include <glib/gstdio.h>

#include "commands.h"
#include "mount.h"
#include "replay-options.h"


/* FUSE threads: each reader of `wait` holds one while it blocks */
#define MAX_FUSE_THREADS 64

static const char summary[] =
    "MOUNTPOINT - mount a restore workspace\n"
    "\n"
    "Drop binlogs into MOUNTPOINT/binlogs (cp, rsync, mv, dd): each is replayed once complete,\n"
    "in binlog sequence order. Watch and steer with cat and echo:\n"
    "  status, status.json, progress, errors, metrics (Prometheus)   read-only\n"
    "  wait             a read blocks until idle, stopped or failed, and returns that word\n"
    "  control/state    running idle waiting paused stopped failed; write pause resume skip retry\n"
    "  control/workers  1..256, changed live\n"
    "  control/start-at, control/stop-at   a SPEC, or empty\n"
    "Unmount with `fusermount3 -u MOUNTPOINT`: transactions in flight commit or roll back;\n"
    "mounting again with the same spool and target resumes exactly where it stopped.\n"
    "\n"
    "Mount options:\n"
    "  --spool=DIR       where the dropped binlogs (DIR/binlogs), the settings (DIR/binlogfs.state)\n"
    "                    and the log (DIR/binlogfs.log) are kept; required\n"
    "  -f, --foreground  stay in the foreground and log to stderr\n"
    "  --debug           also show FUSE's requests (implies -f)\n"
    "  -o OPTS           comma-separated KEY[=VALUE]: any long option of this command without\n"
    "                    its dashes (spool=DIR,socket=PATH,workers=8,start-at=SPEC; a comma in\n"
    "                    a value as \\,), or a FUSE mount option (allow_other, ro, ...). Only\n"
    "                    the mounting user may use the mount unless allow_other is given.\n"
    "Exit status of mount: 0 after a clean unmount, 1 when mounting failed or the private\n"
    "server did not stop cleanly, 2 on a usage error.";

/* the long options that may be given as -o KEY=VALUE */
static const char *const o_keys[] = {
    "host",     "port",          "socket",  "user",           "password",      "defaults-file",
    "defaults-extra-file", "datadir", "workers", "start-at", "stop-at",       "database",
    "rewrite-db", "exclude-gtids", "progress-table", "tmpdir", "commit-window", "batch", "memory-limit",
    "disable-log-bin", "spool", "quiet",
};

typedef struct {
    gboolean foreground, debug;
    char *spool;
    GPtrArray *fuse_opts; /* char*, owned */
    GPtrArray *args;      /* argv for bl_replay_options_parse: char*, owned */
} MountArgs;

static void mount_args_clear(MountArgs *a)
{
    g_free(a->spool);
    g_clear_pointer(&a->fuse_opts, g_ptr_array_unref);
    g_clear_pointer(&a->args, g_ptr_array_unref);
}

/* `-o password=SECRET`: the value is overwritten with 'x' in argv's
 * memory, as bl_target_scrub_argv does for --password=. */
static void scrub_o_password(char *opts)
{
    for (char *p = opts; p && *p;) {
        if (!strncmp(p, "password=", 9)) {
            for (p += 9; *p && *p != ','; p++) {
                if (*p == '\\' && p[1])
                    *p++ = 'x'; /* an escaped comma is part of the value */
                *p = 'x';
            }
        }
        while (*p && *p != ',')
            p += p[0] == '\\' && p[1] ? 2 : 1;
        if (*p)
            p++;
    }
}

/* One -o argument: our keys become long options, the rest FUSE options. */
static void split_o(MountArgs *a, const char *opts)
{
    GString *tok = g_string_new(NULL);
    for (const char *p = opts;; p++) {
        if (*p == '\\' && p[1]) {
            g_string_append_c(tok, *++p);
            continue;
        }
        if (*p && *p != ',') {
            g_string_append_c(tok, *p);
            continue;
        }
        if (tok->len) {
            const char *eq = strchr(tok->str, '=');
            g_autofree char *key = g_strndup(tok->str, eq ? (gsize)(eq - tok->str) : tok->len);
            g_strdelimit(key, "_", '-');
            gboolean ours = FALSE;
            for (guint i = 0; i < G_N_ELEMENTS(o_keys) && !ours; i++)
                ours = !strcmp(key, o_keys[i]);
            if (!ours) {
                g_ptr_array_add(a->fuse_opts, g_strdup(tok->str));
            } else if (!strcmp(key, "spool")) {
                g_free(a->spool);
                a->spool = g_strdup(eq ? eq + 1 : "");
            } else {
                g_ptr_array_add(a->args, eq ? g_strconcat("--", key, eq, NULL) : g_strconcat("--", key, NULL));
            }
            g_string_truncate(tok, 0);
        }
        if (!*p)
            break;
    }
    g_string_free(tok, TRUE);
}

/* Takes the mount's own options out of argv (-f, --debug, --spool, -o); what
 * is left goes to bl_replay_options_parse. */
static gboolean split_args(MountArgs *a, int argc, char **argv, GError **error)
{
    a->fuse_opts = g_ptr_array_new_with_free_func(g_free);
    a->args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a->args, g_strdup(argv[0]));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) {
            for (; i < argc; i++)
                g_ptr_array_add(a->args, g_strdup(argv[i]));
            break;
        }
        if (!strcmp(arg, "-f") || !strcmp(arg, "--foreground")) {
            a->foreground = TRUE;
        } else if (!strcmp(arg, "--debug")) {
            a->foreground = a->debug = TRUE;
        } else if (!strcmp(arg, "-o") || !strcmp(arg, "--spool")) {
            if (i + 1 >= argc) {
                g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s needs a value", arg);
                return FALSE;
            }
            if (arg[1] == 'o') {
                split_o(a, argv[i + 1]);
                scrub_o_password(argv[i + 1]);
            } else {
                g_free(a->spool);
                a->spool = g_strdup(argv[i + 1]);
            }
            i++;
        } else if (g_str_has_prefix(arg, "-o")) {
            split_o(a, arg + 2);
            scrub_o_password(argv[i] + 2);
        } else if (g_str_has_prefix(arg, "--spool=")) {
            g_free(a->spool);
            a->spool = g_strdup(arg + strlen("--spool="));
        } else {
            g_ptr_array_add(a->args, g_strdup(arg));
        }
    }
    g_ptr_array_add(a->args, NULL);
    return TRUE;
}

/* ---- logging: one writer, with timestamps; stderr, or the spool's log file ---- */

typedef struct {
    FILE *out;
} MountLog;

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    MountLog *log = data;
    const char *domain = NULL, *message = NULL;
    for (gsize i = 0; i < n; i++) {
        if (!strcmp(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
        else if (!strcmp(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    if (g_log_writer_default_would_drop(level, domain))
        return G_LOG_WRITER_HANDLED;
    const char *what = level & G_LOG_LEVEL_ERROR      ? "ERROR"
                       : level & G_LOG_LEVEL_CRITICAL ? "CRITICAL"
                       : level & G_LOG_LEVEL_WARNING  ? "WARNING"
                       : level & G_LOG_LEVEL_MESSAGE  ? "MESSAGE"
                       : level & G_LOG_LEVEL_INFO     ? "INFO"
                                                      : "DEBUG";
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    fprintf(log->out, "%s %s %s: %s\n", stamp, what, domain ? domain : "binlogfs", message ? message : "");
    fflush(log->out);
    return G_LOG_WRITER_HANDLED;
}

/* ---- checks ---- */

/* An existing, writable directory, as an absolute path (new string). */
static char *check_dir(const char *what, const char *path, gboolean create, GError **error)
{
    if (!path || !*path) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s: no directory given", what);
        return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (create && g_mkdir(abs, 0700) == 0)
        g_message("%s: created %s", what, abs);
    char *real = realpath(abs, NULL);
    if (!real || !g_file_test(real, G_FILE_TEST_IS_DIR) || access(real, W_OK | X_OK) < 0) {
        int e = real && !g_file_test(real, G_FILE_TEST_IS_DIR) ? ENOTDIR : errno;
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "%s %s: %s", what, abs, g_strerror(e));
        free(real);
        return NULL;
    }
    char *out = g_strdup(real);
    free(real);
    return out;
}

static gboolean is_within(const char *inner, const char *outer)
{
    gsize n = strlen(outer);
    return !strcmp(inner, outer) || (!strncmp(inner, outer, n) && (inner[n] == '/' || !strcmp(outer, "/")));
}

/* The spool is ours alone while mounted: an flock on its directory
 * (kept across the fork of daemonizing). Returns the descriptor. */
static int lock_spool(const char *spool, GError **error)
{
    int fd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "spool %s: %s", spool,
                    e == EWOULDBLOCK ? "in use by another binlogfs mount" : g_strerror(e));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* ---- the FUSE side ---- */

static struct fuse *fuse_setup(FsMount *m, MountArgs *a, const char *mountpoint, GError **error)
{
    struct fuse_args fargs = FUSE_ARGS_INIT(0, NULL);
    fuse_opt_add_arg(&fargs, "binlogfs");
    if (a->debug)
        fuse_opt_add_arg(&fargs, "-d");
    fuse_opt_add_arg(&fargs, "-odefault_permissions,fsname=binlogfs,subtype=binlogfs");
    for (guint i = 0; i < a->fuse_opts->len; i++) {
        /* fuse_opt splits at commas: quote them again */
        g_auto(GStrv) parts = g_strsplit(g_ptr_array_index(a->fuse_opts, i), ",", -1);
        g_autofree char *q = g_strjoinv("\\,", parts);
        g_autofree char *o = g_strconcat("-o", q, NULL);
        fuse_opt_add_arg(&fargs, o);
    }
    struct fuse *f = fuse_new(&fargs, fs_mount_operations(), sizeof(struct fuse_operations), m);
    fuse_opt_free_args(&fargs);
    if (!f) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "the FUSE options were refused (see above)");
        return NULL;
    }
    if (fuse_mount(f, mountpoint) != 0) {
        fuse_destroy(f);
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot mount on %s (see above)", mountpoint);
        return NULL;
    }
    return f;
}

static int fuse_run(struct fuse *f)
{
    struct fuse_session *se = fuse_get_session(f);
    if (fuse_set_signal_handlers(se) != 0)
        return -1;
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, MAX_FUSE_THREADS);
    int rc = fuse_loop_mt(f, cfg);
    fuse_loop_cfg_destroy(cfg);
    fuse_remove_signal_handlers(se);
    return rc;
}

/* ---- the command ---- */

/* A signal during the set-up (the private server starting, the session,
 * the mount): noted, and the set-up stops at its next step and tears down
 * what it built, the private server included. (Once mounted, FUSE's own
 * handlers end the loop.) */
static volatile sig_atomic_t setup_signal;

static void on_setup_signal(int sig)
{
    setup_signal = sig;
}

/* on: our handler, the dispositions found kept; off: those put back (before
 * the FUSE loop, whose handlers go only where the disposition is the
 * default: an ignored SIGINT, as in a background job, stays ignored) */
static void catch_setup_signals(gboolean on)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    static struct sigaction old[G_N_ELEMENTS(sigs)];
    static gboolean caught;
    if (on == caught)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(sigs); i++) {
        if (on) {
            struct sigaction sa = { .sa_handler = on_setup_signal, .sa_flags = SA_RESTART };
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, &old[i]);
        } else {
            sigaction(sigs[i], &old[i], NULL);
        }
    }
    caught = on;
}

static gboolean interrupted(GError **error)
{
    if (!setup_signal)
        return FALSE;
    g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "interrupted by signal %d (%s)", (int)setup_signal,
                g_strsignal(setup_signal));
    return TRUE;
}

static void fail_msg(const char *what, GError *error, gboolean daemon)
{
    if (daemon)
        g_warning("%s: %s", what, error->message);
    else
        g_printerr("binlogfs mount: %s: %s\n", what, error->message);
}

/* Mounts, serves until unmounted (or a signal), tears down. The exit status. */
static int run_mount(MountArgs *a, BlReplayOptions *o, const char *mp_arg, MountLog *log)
{
    GError *error = NULL;
    FsMount m = { .binlogs_fd = -1, .incomplete_fd = -1, .uid = getuid(), .gid = getgid() };
    struct fuse *f = NULL;
    FILE *logfile = NULL;
    int status = 1, lock_fd = -1;
    gboolean daemon = FALSE, mounted = FALSE;
    const char *step = "cannot mount";
    g_autofree char *state_path = NULL, *log_path = NULL, *target = NULL;

    /* daemonizing changes to "/": every path must be absolute by then */
    if (o->tmpdir && !g_path_is_absolute(o->tmpdir)) {
        char *abs = g_canonicalize_filename(o->tmpdir, NULL);
        g_free(o->tmpdir);
        o->config.tmpdir = o->tmpdir = abs;
    }
    g_autofree char *mountpoint = check_dir("mountpoint", mp_arg, FALSE, &error);
    g_autofree char *spool = mountpoint ? check_dir("spool", a->spool, TRUE, &error) : NULL;
    if (!spool)
        goto out;
    if (is_within(spool, mountpoint) || is_within(mountpoint, spool)) {
        g_set_error(&error, BL_ERROR, BL_ERROR_INVALID,
                    "the spool (%s) and the mountpoint (%s) must not be inside one another", spool, mountpoint);
        goto out;
    }
    if ((lock_fd = lock_spool(spool, &error)) < 0)
        goto out;
    m.spool = spool;
    state_path = g_build_filename(spool, "binlogfs.state", NULL);
    log_path = g_build_filename(spool, "binlogfs.log", NULL);
    if (!a->foreground && !(logfile = fopen(log_path, "ae"))) {
        int e = errno;
        g_set_error(&error, BL_ERROR, BL_ERROR_IO, "%s: %s", log_path, g_strerror(e));
        goto out;
    }
    if (!fs_spool_open(&m, &error))
        goto out;
    catch_setup_signals(TRUE);
    step = "cannot start the private server";
    /* the private server's socket at a known place: SPOOL/run/mysqld.sock */
    g_free(o->rundir_fixed);
    o->rundir_fixed = g_build_filename(spool, "run", NULL);
    if (!bl_replay_options_start_server(o, &error) || interrupted(&error))
        goto out;
    step = "cannot use the target";
    target = bl_target_describe(&o->config.target);
    m.session = bl_session_new(&o->config, state_path, &error);
    if (!m.session || interrupted(&error))
        goto out;
    fs_spool_hand_over_existing(&m);
    clock_gettime(CLOCK_REALTIME, &m.mounted_at);
    m.mounted_us = g_get_monotonic_time();
    step = "cannot mount";
    if (!(f = fuse_setup(&m, a, mountpoint, &error)))
        goto out;
    mounted = TRUE;
    if (interrupted(&error))
        goto out;
    if (fuse_daemonize(a->foreground) != 0) {
        g_set_error(&error, BL_ERROR, BL_ERROR_IO, "cannot daemonize");
        goto out;
    }
    if (!a->foreground) {
        daemon = TRUE;
        log->out = logfile;
    }
    g_message("mounted on %s; spool %s; target %s%s%s", mountpoint, spool, target,
              o->datadir ? ", private server on " : "", o->datadir ? o->datadir : "");
    step = "cannot start replay";
    if (!bl_session_start(m.session, &error) || interrupted(&error))
        goto out;
    catch_setup_signals(FALSE);
    if (interrupted(&error)) /* one that came in between */
        goto out;
    int loop = fuse_run(f);
    if (loop < 0)
        g_warning("the FUSE loop ended with an error");
    else if (loop > 0)
        g_message("signal %d (%s) received", loop, g_strsignal(loop));
    g_message("unmounting: the transactions in flight commit or roll back");
    status = 0;
out:
    if (error) {
        /* a signal stops the set-up at whatever step it had reached */
        fail_msg(setup_signal ? "set-up stopped" : step, error, daemon);
        g_clear_error(&error);
    }
    if (mounted)
        fuse_unmount(f);
    g_clear_pointer(&m.session, bl_session_free);
    g_clear_pointer(&f, fuse_destroy);
    fs_spool_close(&m);
    if (o->server) {
        if (bl_replay_options_stop_server(o, &error)) {
            g_message("the private server on %s stopped cleanly", o->datadir);
        } else {
            fail_msg("the private server did not stop cleanly", error, daemon);
            g_clear_error(&error);
            status = 1;
        }
    }
    if (status == 0)
        g_message("unmounted %s", mountpoint);
    catch_setup_signals(FALSE);
    if (lock_fd >= 0)
        close(lock_fd);
    if (logfile) {
        log->out = stderr;
        fclose(logfile);
    }
    return status;
}

int cmd_mount(int argc, char **argv)
{
    g_set_prgname("binlogfs mount");
    MountArgs a = { 0 };
    GError *error = NULL;
    if (!split_args(&a, argc, argv, &error)) {
        g_printerr("binlogfs mount: %s\nTry 'binlogfs mount --help'.\n", error->message);
        g_error_free(error);
        mount_args_clear(&a);
        return 2;
    }
    int pargc = (int)a.args->len - 1;
    char **pargv = (char **)a.args->pdata;
    BlReplayOptions opt;
    int rc = bl_replay_options_parse(&opt, &pargc, &pargv, summary, NULL);
    if (rc >= 0) {
        mount_args_clear(&a);
        return rc;
    }
    const char *usage = pargc != 2 ? "give exactly one MOUNTPOINT" : !a.spool ? "--spool=DIR is required" : NULL;
    if (usage) {
        g_printerr("binlogfs mount: %s\nTry 'binlogfs mount --help'.\n", usage);
        rc = 2;
    } else {
        MountLog log = { stderr };
        g_log_set_writer_func(log_writer, &log, NULL);
        rc = run_mount(&a, &opt, pargv[1], &log);
    }
    bl_replay_options_clear(&opt);
    mount_args_clear(&a);
    return rc;
}
