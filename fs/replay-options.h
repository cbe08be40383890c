/* binlogfs — the TARGET and REPLAY options shared by `replay` and `mount`.
 *
 * TARGET is a server (--host/--socket/... in `target`) or, with
 * --datadir=DIR, a private mariadbd that the frontend starts on DIR with
 * bl_replay_options_start_server() (before daemonizing, so errors reach
 * the terminal) and stops with bl_replay_options_stop_server().
 */
#ifndef BINLOGFS_REPLAY_OPTIONS_H
#define BINLOGFS_REPLAY_OPTIONS_H

#include <binlogfs/engine.h>
#include <binlogfs/server.h>

typedef struct {
    BlTarget target;
    BlEngineConfig config;
    gint workers;
    gint memory_mib;
    gint commit_window;
    gint batch;
    char *start_at, *stop_at, *exclude_gtids, *database, *progress_table, *tmpdir;
    char **rewrite_db;
    gboolean quiet;
    GArray *rewrites;
    char **args;        /* argv as left for GOption (owned array) */
    char command[32];
    BlGtidSet *exclude;
    char *datadir;      /* --datadir: absolute, NULL when a server is given */
    BlServer *server;   /* the private server while it runs */
    char *rundir;       /* its run directory (made and removed by us) */
    char *rundir_fixed; /* if set before starting the server: use this run
                           directory (made if missing, mode 0700) instead of
                           a temporary one, so its socket has a known path
                           (the mount uses SPOOL/run) */
} BlReplayOptions;

/* Parses argv (removing what it recognises). Returns -1 when the caller
 * should go on, else the exit status (0 after --help, 2 on a usage
 * error, with the message printed). `more_help`: the command's own lines
 * after the shared description in --help (NULL: none). */
int bl_replay_options_parse(BlReplayOptions *o, int *argc, char ***argv, const char *summary,
                            const char *more_help);
/* Also stops the private server if it still runs (a warning if that
 * fails) and removes its run directory. */
void bl_replay_options_clear(BlReplayOptions *o);

/* With --datadir: makes a private run directory (mode 0700, under
 * --tmpdir, else $TMPDIR), starts mariadbd on the data directory and
 * points o->target and o->config.target at it: its socket, the user the
 * server's system tables let us in as unless --user was given, and no
 * option files unless --defaults-file/--defaults-extra-file was given.
 * Does nothing without --datadir. On failure the run directory is kept
 * when it holds the server's error log, and the error names it. */
gboolean bl_replay_options_start_server(BlReplayOptions *o, GError **error);

/* Shuts the private server down cleanly (see bl_server_stop) and removes
 * its run directory; kept, and named in the error, when the shutdown was
 * not clean. TRUE without --datadir or when it is already stopped. */
gboolean bl_replay_options_stop_server(BlReplayOptions *o, GError **error);

#endif
