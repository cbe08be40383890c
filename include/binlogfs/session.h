/* binlogfs — a replay session: the engine as a long-lived restore
 * workspace (the FUSE mount's model; no FUSE in it).
 *
 * A session owns one engine at a time and restarts it, from the progress
 * rows on the target (exact resume), when a command needs a fresh one:
 * `retry`, `skip`, a new start or stop point, a file replaced after a
 * failure. Everything a frontend calls here returns at once: nothing
 * waits for the database (restarts run on the session's own thread),
 * except bl_session_wait(), which is meant to block.
 *
 * Files: the frontend hands over complete files (bl_session_add_file),
 * and tells which names are still being written (bl_session_receiving),
 * so that `wait` never reports idle while a copy is under way and the
 * first file is picked only once the copies have settled.
 *
 * Settings (start-at, stop-at, workers) persist in a small state file
 * (GKeyFile), so that a remount over the same spool carries on with them.
 */
#ifndef BINLOGFS_SESSION_H
#define BINLOGFS_SESSION_H

#include <binlogfs/engine.h>

G_BEGIN_DECLS

typedef struct BlSession BlSession;

/* Checks the target (connects once, creates the progress table) with
 * `config` (copied; follow is forced on; the target is borrowed and must
 * outlive the session). `state_path` (may be NULL) holds the persisted
 * settings: a setting given in `config` (start_at/stop_at kind not NONE,
 * workers not 0) wins over the persisted one. Starts no thread, so that
 * the caller may daemonize (fork) after it. */
BlSession *bl_session_new(const BlEngineConfig *config, const char *state_path, GError **error);

/* Starts the session's threads (after daemonizing). */
gboolean bl_session_start(BlSession *s, GError **error);

/* A complete file in the spool (absolute path). Its header is checked
 * here (magic, Format_description): a file that is not a binlog, or that
 * sorts before the current position, is refused with a message naming
 * the file (also added to the errors). The same name again replaces the
 * earlier copy: if replay already read it (a truncated copy, say), the
 * engine restarts and carries on from the progress rows. */
gboolean bl_session_add_file(BlSession *s, const char *path, GError **error);
/* Files already in the spool when the session begins (a remount) go in
 * BEFORE bl_session_start: they are complete, and those before the
 * position read from the target count as applied (after the start, a
 * file before the position is refused, as the contract says). */

/* The spool file `name` is (no longer) being written. */
void bl_session_receiving(BlSession *s, const char *name, gboolean writing);

/* The file `name` was removed from the spool (not yet read: dropped from
 * the queue; read already: nothing changes). */
void bl_session_remove_file(BlSession *s, const char *name);

/* A consistent copy of the state (counters accumulated over restarts).
 * Never blocks on the database. */
BlSnapshot *bl_session_snapshot(BlSession *s);

/* Every error so far, oldest first, one line each ("YYYY-MM-DD HH:MM:SS
 * message"); a new array of new strings (g_ptr_array_unref). */
GPtrArray *bl_session_errors(BlSession *s);

/* Adds a line to the errors (a frontend's refusal, say). */
void bl_session_record_error(BlSession *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Control. Each validates at once and fails with BL_ERROR_INVALID and a
 * message that says why (also added to the errors), or queues the work
 * and returns TRUE:
 *  - "pause", "resume" (from paused), "skip" (the transaction replay is
 *    held at, when stopped or failed: recorded as applied without
 *    running it, and replay stays paused before the next one; from
 *    stopped the stop point is cleared), "retry" (when failed: run the
 *    failed transaction again and carry on);
 *  - workers 1..BL_MAX_WORKERS, changed live;
 *  - start-at / stop-at: a SPEC, or "" to clear. */
gboolean bl_session_command(BlSession *s, const char *word, GError **error);
gboolean bl_session_set_workers(BlSession *s, guint n, GError **error);
gboolean bl_session_set_start_at(BlSession *s, const char *spec, GError **error);
gboolean bl_session_set_stop_at(BlSession *s, const char *spec, GError **error);
/* The current settings' text ("" when unset); new strings. */
char *bl_session_start_at(BlSession *s);
char *bl_session_stop_at(BlSession *s);

/* Blocks until the state is IDLE (no file being received or waiting to
 * be handed over either), STOPPED or FAILED: returns TRUE with that state
 * in *state. Returns FALSE, with the current state in *state, when
 * timeout_us passes first (-1 = none) or the session is shutting down. */
gboolean bl_session_wait(BlSession *s, gint64 timeout_us, BlEngineState *state);

/* Stops: the transactions in flight commit or roll back, threads end.
 * bl_session_wait() callers return. Then frees. */
void bl_session_free(BlSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlSession, bl_session_free)

G_END_DECLS

#endif
