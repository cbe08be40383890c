/* binlogfs — the target server: where replay connects, and how the user
 * says so (the TARGET options of the interface contract, with the mysql
 * client's names).
 *
 * A BlTarget holds only what the command line gave; everything left NULL/0
 * comes from the option files ([client], [client-server], [client-mariadb]
 * and [binlogfs] groups, read when connecting) or the client library's
 * defaults. It starts zeroed (`BlTarget t = { 0 };` or
 * `g_auto(BlTarget) t = { 0 };`) and every string in it is owned by it.
 *
 * Command-line use, in this order:
 *
 *     g_auto(BlTarget) t = { 0 };
 *     g_autofree char **args = bl_target_prepare_argv(&t, &argc, argv);
 *     g_option_context_add_group(ctx, bl_target_option_group(&t));
 *     g_option_context_parse(ctx, &argc, &args, &error);  (not _parse_strv)
 *     bl_target_resolve_password(&t, &error);              (before daemonizing)
 *
 * GOption alone cannot parse the mysql forms: it reads `-pSECRET` and
 * `-uroot` as clusters of one-letter flags, and an optional value takes the
 * next argument (`-p /mnt` would make "/mnt" the password).
 * bl_target_prepare_argv handles them before GOption sees argv.
 */
#ifndef BINLOGFS_TARGET_H
#define BINLOGFS_TARGET_H

#include <binlogfs/error.h>

G_BEGIN_DECLS

typedef struct {
    char *host;                /* -h; NULL = option files, else localhost */
    guint port;                /* -P; 0 = option files, else 3306 */
    char *socket;              /* -S; absolute path; NULL = option files/default */
    char *user;                /* -u; NULL = option files, else the login name */
    char *password;            /* -pVALUE; NULL = option files (or prompt) */
    gboolean password_prompt;  /* -p / --password without a value */
    char *defaults_file;       /* --defaults-file: read only this file (absolute) */
    char *defaults_extra_file; /* --defaults-extra-file: read it too (absolute) */
} BlTarget;

/* A GOptionGroup "target" with --host/-h, --port/-P, --socket/-S,
 * --user/-u, --password/-p[=VALUE], --defaults-file, --defaults-extra-file,
 * storing into *t (which must outlive the parse). Paths are made absolute
 * against the current directory, so a later chdir (daemon) does not change
 * them. --port outside 0..65535 fails the parse. The caller owns the group
 * (g_option_context_add_group takes it). */
GOptionGroup *bl_target_option_group(BlTarget *t);

/* Before g_option_context_parse(): returns a new argv (the array is owned
 * by the caller, free it with g_free(); its strings are borrowed from
 * `argv` or static) and updates *argc, in which
 *  - every password option (`-p`, `-pVALUE`, `--password`,
 *    `--password=VALUE`) is applied to t (the last one wins; `-p` and
 *    `--password` alone set password_prompt) and removed, and its value is
 *    overwritten with 'x' in argv's memory (bl_target_scrub_argv), so that
 *    it does not show in ps and GOption never takes the next argument;
 *  - `-hHOST`, `-PPORT`, `-SSOCKET`, `-uUSER` are split in two arguments
 *    that GOption understands.
 * Nothing after "--" is touched. Never fails. */
char **bl_target_prepare_argv(BlTarget *t, int *argc, char **argv);

/* Overwrites with 'x', in place, the value of every `-pVALUE` and
 * `--password=VALUE` in argv[1..argc) (up to "--"). Idempotent. GOption
 * removes parsed options from its argv, so after parsing give it a copy of
 * the original pointer array (bl_target_prepare_argv already did this). */
void bl_target_scrub_argv(int argc, char **argv);

/* Frees every string, overwriting the password with zeros first, and
 * zeroes *t. */
void bl_target_clear(BlTarget *t);

/* *dst = a deep copy of *src (dst is overwritten, not cleared first). */
void bl_target_copy(BlTarget *dst, const BlTarget *src);

/* "root@localhost via socket /run/mysqld/mysqld.sock" or
 * "repl@db1.example.com:3306" ([::1]:3306 for IPv6 addresses), from t's
 * fields with the client library's defaults for what is unset (login
 * name, localhost, MYSQL_UNIX_PORT or the built-in socket, MYSQL_TCP_PORT
 * or 3306). Never the password. Returns a new string (g_free). */
char *bl_target_describe(const BlTarget *t);

/* If password_prompt is set and no password is known yet, asks for it on
 * the controlling terminal (/dev/tty) without echo and stores it in t.
 * Otherwise does nothing. Fails with BL_ERROR_INVALID when there is no
 * terminal, BL_ERROR_IO when reading it fails. Call it once, before
 * daemonizing and before starting threads. */
gboolean bl_target_resolve_password(BlTarget *t, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BlTarget, bl_target_clear)

G_END_DECLS

#endif
