/* binlogfs — TARGET and REPLAY options (contract: DESIGN.md). Parsing,
 * with the values checked by the same parsers the engine uses; and the
 * private server of --datadir (the embedded default), started and
 * stopped here so that every frontend does it the same way. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "replay-options.h"

static const char description[] =
    "TARGET: --host/-h, --port/-P, --socket/-S, --user/-u, --password/-p (no value: prompt),\n"
    "  --defaults-file, --defaults-extra-file; the option groups [client] and [binlogfs]\n"
    "  of the usual option files are read.\n"
    "  Or --datadir=DIR: binlogfs starts a private mariadbd on the restored data directory DIR\n"
    "  (as DIR's owner, on a socket in a private directory, no networking; settings for a fast\n"
    "  and safe restore, plus the [binlogfs-server] group of the server's option files),\n"
    "  replays, and shuts it down cleanly, leaving DIR ready to start. It connects as root when\n"
    "  run as root, else as the login name, unless --user is given, and reads only the option\n"
    "  files named by --defaults-file/--defaults-extra-file. Not with --host, --port, --socket.\n"
    "SPEC (--start-at, --stop-at): FILE:POS, 'YYYY-MM-DD HH:MM:SS' (local time; a trailing Z or\n"
    "  +hh:mm gives the zone; compared with each transaction's commit time), a GTID (D-S-N or\n"
    "  UUID:N), and for --start-at also the content of a backup's binlog info file\n"
    "  (xtrabackup_binlog_info, mariadb_backup_binlog_info). --start-at: the first transaction\n"
    "  applied is the one at that point; --stop-at: the transaction at that point and all after\n"
    "  it are not applied.\n"
    "Progress is kept on the target in binlogfs.progress (one row per worker, updated in the\n"
    "same transaction): after a crash, the same command resumes at the first transaction not\n"
    "applied.";

int bl_replay_options_parse(BlReplayOptions *o, int *argc, char ***argv, const char *summary,
                            const char *more_help)
{
    memset(o, 0, sizeof *o);
    g_strlcpy(o->command, (*argv)[0], sizeof o->command);
    o->workers = -1; /* not given */
    o->batch = -1;
    GOptionEntry entries[] = {
        { "workers", 'w', 0, G_OPTION_ARG_INT, &o->workers, "Parallel connections, 1..256 (default 8)", "N" },
        { "start-at", 0, 0, G_OPTION_ARG_STRING, &o->start_at, "First transaction to apply", "SPEC" },
        { "stop-at", 0, 0, G_OPTION_ARG_STRING, &o->stop_at, "Stop before this transaction", "SPEC" },
        { "database", 'd', 0, G_OPTION_ARG_STRING, &o->database, "Only changes to this database", "DB" },
        { "rewrite-db", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->rewrite_db, "Apply changes of database FROM to TO (repeatable)", "FROM->TO" },
        { "exclude-gtids", 0, 0, G_OPTION_ARG_STRING, &o->exclude_gtids, "Do not apply these transactions", "SET" },
        { "progress-table", 0, 0, G_OPTION_ARG_STRING, &o->progress_table, "Where progress is kept (default binlogfs.progress)", "DB.TABLE" },
        { "tmpdir", 0, 0, G_OPTION_ARG_FILENAME, &o->tmpdir, "Directory for LOAD DATA files (default $TMPDIR)", "DIR" },
        { "commit-window", 0, 0, G_OPTION_ARG_INT, &o->commit_window, "COMMITs in flight at once (default 1: the source's commit order at every moment; more lets a durable target group its log flushes, and a target's binlog then holds GTIDs out of order by less than N)", "N" },
        { "batch", 0, 0, G_OPTION_ARG_INT, &o->batch, "Source transactions committed as one target transaction, 1..256 (default 64; only when the target keeps no binlog, or with --disable-log-bin; 1: never)", "N" },
        { "disable-log-bin", 'D', 0, G_OPTION_ARG_NONE, &o->config.disable_log_bin, "Keep the replay out of the target's binlog (sql_log_bin=0 in every session, as mariadb-binlog -D; needs BINLOG ADMIN or SUPER): faster on a target with a binlog, which then does not record the replayed transactions or their GTIDs", NULL },
        { "memory-limit", 0, 0, G_OPTION_ARG_INT, &o->memory_mib, "MiB of transactions held in memory (default 64); larger transactions are streamed", "MIB" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No progress bar, no summary", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    GOptionGroup *target = bl_target_option_group(&o->target);
    const GOptionEntry target_entries[] = {
        { "datadir", 0, 0, G_OPTION_ARG_FILENAME, &o->datadir,
          "Instead of a server: start a private mariadbd on this restored data directory, "
          "and shut it down cleanly at the end", "DIR" },
        { NULL },
    };
    g_option_group_add_entries(target, target_entries);
    g_option_context_add_group(ctx, target);
    g_autofree char *help = g_strconcat(description, more_help ? "\n" : "", more_help ? more_help : "", NULL);
    g_option_context_set_description(ctx, help);
    GError *error = NULL;
    /* the mysql password forms are taken out of argv before GOption sees
     * it; the returned array is what is left to parse */
    o->args = bl_target_prepare_argv(&o->target, argc, *argv);
    *argv = o->args;
    if (!g_option_context_parse(ctx, argc, argv, &error))
        goto usage;
    if (o->datadir) {
        if (o->target.host || o->target.socket || o->target.port) {
            g_set_error(&error, BL_ERROR, BL_ERROR_INVALID,
                        "--datadir starts a server of its own: it cannot be given with --host, "
                        "--port or --socket");
            goto usage;
        }
        if (!*o->datadir) {
            g_set_error(&error, BL_ERROR, BL_ERROR_INVALID, "--datadir: empty directory name");
            goto usage;
        }
        char *abs = g_canonicalize_filename(o->datadir, NULL);
        g_free(o->datadir);
        o->datadir = abs;
    }
    if (o->workers == -1)
        o->workers = 0; /* the engine's default */
    else if (o->workers < 1 || o->workers > BL_MAX_WORKERS) {
        g_set_error(&error, BL_ERROR, BL_ERROR_INVALID, "--workers must be between 1 and %d", BL_MAX_WORKERS);
        goto usage;
    }
    o->config.workers = (guint)o->workers;
    if (o->commit_window < 0 || o->commit_window > BL_MAX_WORKERS) {
        g_set_error(&error, BL_ERROR, BL_ERROR_INVALID, "--commit-window must be between 1 and %d", BL_MAX_WORKERS);
        goto usage;
    }
    o->config.commit_window = (guint)o->commit_window;
    if (o->batch == -1)
        o->batch = 0; /* the engine's default */
    else if (o->batch < 1 || o->batch > BL_BATCH_MAX) {
        g_set_error(&error, BL_ERROR, BL_ERROR_INVALID, "--batch must be between 1 and %d", BL_BATCH_MAX);
        goto usage;
    }
    o->config.batch = (guint)o->batch;
    if (o->memory_mib < 0 || o->memory_mib > 1 << 20) {
        g_set_error(&error, BL_ERROR, BL_ERROR_INVALID, "--memory-limit must be between 16 and 1048576 MiB");
        goto usage;
    }
    if (o->memory_mib)
        o->config.memory_limit = (gsize)MAX(o->memory_mib, 16) << 20;
    if (o->start_at && !bl_spec_parse(o->start_at, TRUE, &o->config.start_at, &error))
        goto usage;
    if (o->stop_at && !bl_spec_parse(o->stop_at, FALSE, &o->config.stop_at, &error))
        goto usage;
    if (o->exclude_gtids) {
        o->exclude = bl_gtid_set_parse(o->exclude_gtids, &error);
        if (!o->exclude)
            goto usage;
        o->config.exclude_gtids = o->exclude;
    }
    o->rewrites = g_array_new(FALSE, TRUE, sizeof(BlRewrite));
    for (char **r = o->rewrite_db; r && *r; r++) {
        BlRewrite rw;
        if (!bl_rewrite_parse(*r, &rw, &error))
            goto usage;
        g_array_append_val(o->rewrites, rw);
    }
    if (o->rewrites->len)
        o->config.rewrites = o->rewrites;
    if (!bl_target_resolve_password(&o->target, &error))
        goto usage;
    o->config.target = o->target;
    o->config.database = o->database;
    o->config.progress_table = o->progress_table;
    o->config.tmpdir = o->tmpdir;
    return -1;
usage:
    g_printerr("binlogfs: %s\nTry '%s --help'.\n", error->message, g_get_prgname());
    g_error_free(error);
    bl_replay_options_clear(o);
    return 2;
}

void bl_replay_options_clear(BlReplayOptions *o)
{
    GError *error = NULL;
    if (!bl_replay_options_stop_server(o, &error)) {
        g_warning("%s", error->message);
        g_error_free(error);
    }
    g_free(o->datadir);
    g_free(o->rundir_fixed);
    if (o->rewrites) {
        for (guint i = 0; i < o->rewrites->len; i++)
            bl_rewrite_clear(&g_array_index(o->rewrites, BlRewrite, i));
        g_array_unref(o->rewrites);
    }
    bl_gtid_set_free(o->exclude);
    bl_target_clear(&o->target);
    g_free(o->start_at);
    g_free(o->stop_at);
    g_free(o->exclude_gtids);
    g_free(o->database);
    g_free(o->progress_table);
    g_free(o->tmpdir);
    g_strfreev(o->rewrite_db);
    g_free(o->args);
    memset(o, 0, sizeof *o);
}

/* ---- the private server of --datadir ------------------------------------------ */

/* Removes DIR and everything in it (no symbolic link is followed). */
static void remove_tree(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(path);
            else if (unlink(path) != 0)
                g_warning("%s: %s", path, g_strerror(errno));
        }
        g_dir_close(d);
    }
    if (rmdir(dir) != 0)
        g_warning("%s: %s", dir, g_strerror(errno));
}

/* Whether the run directory holds a log worth keeping after a failure. */
static gboolean rundir_has_log(const char *rundir)
{
    static const char *const logs[] = { "error.log", "mariadbd.out" };
    for (gsize i = 0; i < G_N_ELEMENTS(logs); i++) {
        g_autofree char *path = g_build_filename(rundir, logs[i], NULL);
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size > 0)
            return TRUE;
    }
    return FALSE;
}

/* After a failure: keep the run directory if it holds a log, and say so. */
static void keep_or_remove_rundir(BlReplayOptions *o, GError **error)
{
    if (error && *error && rundir_has_log(o->rundir)) {
        char *msg = g_strdup_printf("%s\n(the server's files are kept in %s)", (*error)->message, o->rundir);
        g_free((*error)->message);
        (*error)->message = msg;
    } else
        remove_tree(o->rundir);
    g_clear_pointer(&o->rundir, g_free);
}

gboolean bl_replay_options_start_server(BlReplayOptions *o, GError **error)
{
    if (!o->datadir || o->server)
        return TRUE;
    /* a unix socket path must fit sockaddr_un.sun_path (108 bytes) */
    if (o->rundir_fixed && strlen(o->rundir_fixed) + sizeof "/mysqld.sock" > 108) {
        g_warning("%s is too long a path for the server's socket; its run directory is a temporary one",
                  o->rundir_fixed);
        g_clear_pointer(&o->rundir_fixed, g_free);
    }
    if (o->rundir_fixed) {
        o->rundir = g_strdup(o->rundir_fixed);
        if (g_mkdir_with_parents(o->rundir, 0700) != 0 || g_chmod(o->rundir, 0700) != 0) {
            int e = errno;
            g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: cannot make a directory for the server: %s",
                        o->rundir, g_strerror(e));
            g_clear_pointer(&o->rundir, g_free);
            return FALSE;
        }
    } else {
        o->rundir = g_build_filename(o->tmpdir ? o->tmpdir : g_get_tmp_dir(), "binlogfs-server-XXXXXX", NULL);
    }
    if (!o->rundir_fixed && !g_mkdtemp(o->rundir)) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "%s: cannot make a directory for the server: %s",
                    o->rundir, g_strerror(e));
        g_clear_pointer(&o->rundir, g_free);
        return FALSE;
    }
    g_auto(BlTarget) t = { 0 };
    o->server = bl_server_start(o->datadir, o->rundir, &t, error);
    if (!o->server) {
        keep_or_remove_rundir(o, error);
        return FALSE;
    }
    g_free(o->target.host);
    o->target.host = g_steal_pointer(&t.host);
    g_free(o->target.socket);
    o->target.socket = g_steal_pointer(&t.socket);
    if (!o->target.user)
        o->target.user = g_steal_pointer(&t.user);
    /* A user's [client] lines (a password, protocol=tcp, another host)
     * are meant for their servers, not for this one. */
    if (!o->target.defaults_file)
        o->target.defaults_file = g_strdup("/dev/null");
    o->config.target = o->target;
    return TRUE;
}

gboolean bl_replay_options_stop_server(BlReplayOptions *o, GError **error)
{
    if (!o->server)
        return TRUE;
    gboolean ok = bl_server_stop(o->server, error);
    g_clear_pointer(&o->server, bl_server_free);
    if (ok)
        remove_tree(o->rundir);
    else
        keep_or_remove_rundir(o, error);
    g_clear_pointer(&o->rundir, g_free);
    return ok;
}
