/* binlogfs — the embedded server's setup, shared by server.c (start, stop)
 * and server-setup.c (checks, users, run directory, command line). */
#ifndef BINLOGFS_SERVER_PRIVATE_H
#define BINLOGFS_SERVER_PRIVATE_H

#include <binlogfs/server.h>

/* Files in the run directory. The error log needs an extension: without
 * one mariadbd appends ".err". */
#define BL_SERVER_SOCKET "mysqld.sock"
#define BL_SERVER_PID_FILE "mysqld.pid"
#define BL_SERVER_ERROR_LOG "error.log"
#define BL_SERVER_OUT_LOG "mariadbd.out" /* its stdout and stderr */

typedef struct {
    char *datadir, *rundir;
    char *socket, *pid_file, *error_log, *out_log; /* in rundir */
    char *mariadbd;   /* the binary */
    char *run_as;     /* --user=..., NULL: ourselves (we are not root) */
    char *connect_as; /* the account binlogfs uses */
} BlServerSetup;

/* Fills *s (zeroed first; free with bl_server_setup_clear, also after a
 * failure): checks that `datadir` is a usable data directory not in use,
 * decides who runs the server and who connects, finds mariadbd, and makes
 * `rundir` (mode 0700, owned by the server's user). Errors name the
 * directory and the reason. */
gboolean bl_server_setup(BlServerSetup *s, const char *datadir, const char *rundir, GError **error);
void bl_server_setup_clear(BlServerSetup *s);

/* mariadbd's argv (NULL-terminated, owned by the caller; the strings by
 * the array): our settings, then the [binlogfs-server] group's options
 * that are not protected (warnings for those that are). */
GPtrArray *bl_server_argv(const BlServerSetup *s);

#endif
