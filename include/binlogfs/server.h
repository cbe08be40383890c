/* binlogfs — the embedded default: a private mariadbd on a restored data
 * directory (`--datadir=DIR` instead of a server).
 *
 * The server listens on a unix socket in a private directory (mode 0700),
 * never on the network, runs as the owner of the data directory, with
 * settings chosen for a fast and safe restore (see replay/server.c), and
 * is stopped cleanly (a normal shutdown, InnoDB's log checkpointed) by
 * bl_server_stop(), leaving a data directory ready to put into service.
 * The process is followed by PID; it is a child of whoever started it, or
 * of init after the starter daemonized, and bl_server_stop() works in
 * either case.
 */
#ifndef BINLOGFS_SERVER_H
#define BINLOGFS_SERVER_H

#include <binlogfs/target.h>

G_BEGIN_DECLS

typedef struct BlServer BlServer;

/* Starts mariadbd on `datadir` (absolute; must hold a data directory: its
 * mysql/ system schema) with its socket, pid file and error log in
 * `rundir` (created if needed, mode 0700), and waits until it accepts
 * connections. Fills *target (cleared first) with the socket and the user
 * to connect as. Errors: the data directory is missing or not one, it is
 * in use by another server, or the server did not start (the error
 * names the error log and quotes its last lines). */
BlServer *bl_server_start(const char *datadir, const char *rundir, BlTarget *target, GError **error);

/* The server's pid, or 0. */
int bl_server_pid(const BlServer *srv);

/* Shuts the server down cleanly and waits for it (up to its own
 * shutdown timeout). FALSE with an error if it had to be killed or was
 * already gone. */
gboolean bl_server_stop(BlServer *srv, GError **error);

/* Stops the server if still running, then frees. */
void bl_server_free(BlServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlServer, bl_server_free)

G_END_DECLS

#endif
