/* binlogfs — the TARGET and REPLAY options shared by `replay` and `mount`. */
#ifndef BINLOGFS_REPLAY_OPTIONS_H
#define BINLOGFS_REPLAY_OPTIONS_H

#include <binlogfs/engine.h>

typedef struct {
    BlTarget target;
    BlEngineConfig config;
    gint workers;
    gint memory_mib;
    gint commit_window;
    char *start_at, *stop_at, *exclude_gtids, *database, *progress_table, *tmpdir;
    char **rewrite_db;
    gboolean quiet;
    GArray *rewrites;
    char **args;        /* argv as left for GOption (owned array) */
    char command[32];
    BlGtidSet *exclude;
} BlReplayOptions;

/* Parses argv (removing what it recognises). Returns -1 when the caller
 * should go on, else the exit status (0 after --help, 2 on a usage
 * error, with the message printed). */
int bl_replay_options_parse(BlReplayOptions *o, int *argc, char ***argv, const char *summary);
void bl_replay_options_clear(BlReplayOptions *o);

#endif
