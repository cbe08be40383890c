/* binlogfs — TARGET and REPLAY options (contract: DESIGN.md). Parsing
 * only; the values are checked by the same parsers the engine uses. */
#include <string.h>

#include "replay-options.h"

static const char description[] =
    "TARGET: --host/-h, --port/-P, --socket/-S, --user/-u, --password/-p (no value: prompt),\n"
    "  --defaults-file, --defaults-extra-file; the option groups [client] and [binlogfs]\n"
    "  of the usual option files are read.\n"
    "SPEC (--start-at, --stop-at): FILE:POS, 'YYYY-MM-DD HH:MM:SS' (local time; a trailing Z or\n"
    "  +hh:mm gives the zone; compared with each transaction's commit time), a GTID (D-S-N or\n"
    "  UUID:N), and for --start-at also the content of a backup's binlog info file\n"
    "  (xtrabackup_binlog_info, mariadb_backup_binlog_info). --start-at: the first transaction\n"
    "  applied is the one at that point; --stop-at: the transaction at that point and all after\n"
    "  it are not applied.\n"
    "Progress is kept on the target in binlogfs.progress (one row per worker, updated in the\n"
    "same transaction): after a crash, the same command resumes at the first transaction not\n"
    "applied.\n"
    "Exit status: 0 when every given file is applied or the stop point is reached, 1 on a\n"
    "replay error, 2 on a usage error.";

int bl_replay_options_parse(BlReplayOptions *o, int *argc, char ***argv, const char *summary)
{
    memset(o, 0, sizeof *o);
    g_strlcpy(o->command, (*argv)[0], sizeof o->command);
    o->workers = -1; /* not given */
    GOptionEntry entries[] = {
        { "workers", 'w', 0, G_OPTION_ARG_INT, &o->workers, "Parallel connections, 1..256 (default 8)", "N" },
        { "start-at", 0, 0, G_OPTION_ARG_STRING, &o->start_at, "First transaction to apply", "SPEC" },
        { "stop-at", 0, 0, G_OPTION_ARG_STRING, &o->stop_at, "Stop before this transaction", "SPEC" },
        { "database", 'd', 0, G_OPTION_ARG_STRING, &o->database, "Only changes to this database", "DB" },
        { "rewrite-db", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->rewrite_db, "Apply changes of database FROM to TO (repeatable)", "FROM->TO" },
        { "exclude-gtids", 0, 0, G_OPTION_ARG_STRING, &o->exclude_gtids, "Do not apply these transactions", "SET" },
        { "progress-table", 0, 0, G_OPTION_ARG_STRING, &o->progress_table, "Where progress is kept (default binlogfs.progress)", "DB.TABLE" },
        { "tmpdir", 0, 0, G_OPTION_ARG_FILENAME, &o->tmpdir, "Directory for LOAD DATA files (default $TMPDIR)", "DIR" },
        { "commit-window", 0, 0, G_OPTION_ARG_INT, &o->commit_window, "COMMITs in flight at once (default 1: the source's commit order at every moment; more lets a durable target group its log flushes)", "N" },
        { "memory-limit", 0, 0, G_OPTION_ARG_INT, &o->memory_mib, "MiB of transactions held in memory (default 64); larger transactions are streamed", "MIB" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "No progress bar, no summary", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, bl_target_option_group(&o->target));
    g_option_context_set_description(ctx, description);
    GError *error = NULL;
    /* the mysql password forms are taken out of argv before GOption sees
     * it; the returned array is what is left to parse */
    o->args = bl_target_prepare_argv(&o->target, argc, *argv);
    *argv = o->args;
    if (!g_option_context_parse(ctx, argc, argv, &error))
        goto usage;
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
