/* binlogfs — the TARGET options (see include/binlogfs/target.h).
 *
 * DESIGN: a BlTarget owns its strings, and the password exists in exactly
 * one heap copy, which is overwritten with zeros before it is freed or
 * replaced (set_password/forget_password are the only writers). The
 * password never stays readable in argv: bl_target_prepare_argv copies it
 * out and overwrites the original bytes with 'x' before GOption runs, and
 * GOption never sees it. Paths are made absolute when given, so that a
 * daemon's chdir("/") cannot change what they name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <mariadb/mariadb_version.h>

#include <binlogfs/target.h>

#define PASSWORD_MAX 1024

static void forget_password(BlTarget *t)
{
    if (t->password) {
        explicit_bzero(t->password, strlen(t->password));
        g_free(t->password);
        t->password = NULL;
    }
}

static void set_password(BlTarget *t, const char *value)
{
    forget_password(t);
    t->password = g_strdup(value);
    t->password_prompt = FALSE;
}

static void set_prompt(BlTarget *t)
{
    forget_password(t);
    t->password_prompt = TRUE;
}

static void set_string(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}

static void set_path(char **field, const char *value)
{
    g_free(*field);
    *field = g_canonicalize_filename(value, NULL);
}

/* ---- GOption callbacks; `data` is the group's BlTarget ------------------ */

static gboolean host_cb(const char *name, const char *value, gpointer data, GError **error)
{
    set_string(&((BlTarget *)data)->host, value);
    return TRUE;
}

static gboolean user_cb(const char *name, const char *value, gpointer data, GError **error)
{
    set_string(&((BlTarget *)data)->user, value);
    return TRUE;
}

static gboolean socket_cb(const char *name, const char *value, gpointer data, GError **error)
{
    set_path(&((BlTarget *)data)->socket, value);
    return TRUE;
}

static gboolean defaults_file_cb(const char *name, const char *value, gpointer data,
                                 GError **error)
{
    set_path(&((BlTarget *)data)->defaults_file, value);
    return TRUE;
}

static gboolean defaults_extra_file_cb(const char *name, const char *value, gpointer data,
                                       GError **error)
{
    set_path(&((BlTarget *)data)->defaults_extra_file, value);
    return TRUE;
}

static gboolean port_cb(const char *name, const char *value, gpointer data, GError **error)
{
    guint64 port;
    if (!g_ascii_string_to_unsigned(value, 10, 0, 65535, &port, NULL)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "%s: '%s' is not a port number (0..65535)", name, value);
        return FALSE;
    }
    ((BlTarget *)data)->port = (guint)port;
    return TRUE;
}

/* Reached only for forms bl_target_prepare_argv did not take out, i.e.
 * when the caller did not call it: `--password=VALUE` works, `-p` alone
 * then takes the next argument (GOption's rule). */
static gboolean password_cb(const char *name, const char *value, gpointer data, GError **error)
{
    if (value)
        set_password(data, value);
    else
        set_prompt(data);
    return TRUE;
}

GOptionGroup *bl_target_option_group(BlTarget *t)
{
    /* All callbacks take the bytes as given (FILENAME: no conversion from
     * the locale's charset, which fails on non-ASCII under LC_ALL=C). */
    const GOptionFlags raw = G_OPTION_FLAG_FILENAME;
    const GOptionEntry entries[] = {
        { "host", 'h', raw, G_OPTION_ARG_CALLBACK, (gpointer)host_cb,
          "Connect to the server on HOST (default: localhost, through the socket)", "HOST" },
        { "port", 'P', raw, G_OPTION_ARG_CALLBACK, (gpointer)port_cb,
          "TCP port of the server (default 3306)", "PORT" },
        { "socket", 'S', raw, G_OPTION_ARG_CALLBACK, (gpointer)socket_cb,
          "Unix socket of the server, for localhost", "PATH" },
        { "user", 'u', raw, G_OPTION_ARG_CALLBACK, (gpointer)user_cb,
          "User name (default: the login name)", "USER" },
        { "password", 'p', raw | G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK,
          (gpointer)password_cb,
          "Password; -p or --password alone asks for it on the terminal. Better: an option file",
          "PASSWORD" },
        { "defaults-file", 0, raw, G_OPTION_ARG_CALLBACK, (gpointer)defaults_file_cb,
          "Read client options from FILE only (groups [client] and [binlogfs])", "FILE" },
        { "defaults-extra-file", 0, raw, G_OPTION_ARG_CALLBACK, (gpointer)defaults_extra_file_cb,
          "Read FILE after the global option files, before ~/.my.cnf", "FILE" },
        { NULL },
    };
    GOptionGroup *group = g_option_group_new("target", "Target server options (as the mysql client):",
                                             "Show the target server options", t, NULL);
    g_option_group_add_entries(group, entries);
    return group;
}

/* ---- argv ---------------------------------------------------------------- */

/* The value of a password option in `arg`, or NULL if it is none or has
 * no value. */
static char *password_value(char *arg)
{
    if (arg[0] == '-' && arg[1] == 'p' && arg[2])
        return arg + 2;
    if (g_str_has_prefix(arg, "--password="))
        return arg + strlen("--password=");
    return NULL;
}

void bl_target_scrub_argv(int argc, char **argv)
{
    for (int i = 1; i < argc && argv[i]; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        char *value = password_value(argv[i]);
        if (value)
            memset(value, 'x', strlen(value));
    }
}

char **bl_target_prepare_argv(BlTarget *t, int *argc, char **argv)
{
    static const char letters[] = "hPSu";
    static char split_names[][3] = { "-h", "-P", "-S", "-u" };
    int n = 0;
    /* At most every argument is split in two. */
    char **out = g_new0(char *, 2 * (gsize)*argc + 1);
    gboolean options = TRUE;
    for (int i = 0; i < *argc; i++) {
        char *a = argv[i];
        if (i == 0 || !options || a[0] != '-') {
            out[n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options = FALSE;
            out[n++] = a;
            continue;
        }
        if (strcmp(a, "-p") == 0 || strcmp(a, "--password") == 0) {
            set_prompt(t);
            continue;
        }
        char *value = password_value(a);
        if (value) {
            set_password(t, value);
            memset(value, 'x', strlen(value));
            continue;
        }
        const char *split = a[1] && a[2] ? strchr(letters, a[1]) : NULL;
        if (split) {
            out[n++] = split_names[split - letters];
            out[n++] = a + 2;
            continue;
        }
        out[n++] = a;
    }
    out[n] = NULL;
    *argc = n;
    return out;
}

/* ---- the rest ------------------------------------------------------------ */

void bl_target_clear(BlTarget *t)
{
    forget_password(t);
    g_free(t->host);
    g_free(t->socket);
    g_free(t->user);
    g_free(t->defaults_file);
    g_free(t->defaults_extra_file);
    memset(t, 0, sizeof *t);
}

void bl_target_copy(BlTarget *dst, const BlTarget *src)
{
    dst->host = g_strdup(src->host);
    dst->port = src->port;
    dst->socket = g_strdup(src->socket);
    dst->user = g_strdup(src->user);
    dst->password = g_strdup(src->password);
    dst->password_prompt = src->password_prompt;
    dst->defaults_file = g_strdup(src->defaults_file);
    dst->defaults_extra_file = g_strdup(src->defaults_extra_file);
}

/* The client library's choices when nothing is configured (libmariadb
 * read_user_name, mysql_once_init). */
static const char *default_user(void)
{
    return geteuid() == 0 ? "root" : g_get_user_name();
}

static const char *default_socket(void)
{
    const char *env = g_getenv("MYSQL_UNIX_PORT");
    return env && *env ? env : MARIADB_UNIX_ADDR;
}

static guint default_port(void)
{
    const char *env = g_getenv("MYSQL_TCP_PORT");
    guint64 port;
    if (env && g_ascii_string_to_unsigned(env, 10, 1, 65535, &port, NULL))
        return (guint)port;
    return MARIADB_PORT;
}

char *bl_target_describe(const BlTarget *t)
{
    const char *user = t->user && *t->user ? t->user : default_user();
    if (!t->host || !*t->host || strcmp(t->host, "localhost") == 0)
        return g_strdup_printf("%s@localhost via socket %s", user,
                               t->socket && *t->socket ? t->socket : default_socket());
    gboolean ipv6 = strchr(t->host, ':') != NULL;
    return g_strdup_printf("%s@%s%s%s:%u", user, ipv6 ? "[" : "", t->host, ipv6 ? "]" : "",
                           t->port ? t->port : default_port());
}

/* Reads one line from the terminal `fd` with echo off into buf (NUL
 * terminated, without the newline). */
static gboolean read_hidden_line(int fd, char *buf, gsize size, GError **error)
{
    struct termios saved, quiet;
    if (tcgetattr(fd, &saved) != 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot read the password: /dev/tty: %s",
                    g_strerror(e));
        return FALSE;
    }
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tcsetattr(fd, TCSAFLUSH, &quiet);

    static const char prompt[] = "Enter password: ";
    gboolean ok = write(fd, prompt, sizeof prompt - 1) == (ssize_t)(sizeof prompt - 1);
    gsize len = 0;
    gboolean too_long = FALSE;
    int read_errno = 0;
    while (ok) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            read_errno = errno;
            ok = FALSE;
            break;
        }
        if (r == 0 || c == '\n')
            break;
        if (len + 1 < size)
            buf[len++] = c;
        else
            too_long = TRUE;
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';

    tcsetattr(fd, TCSAFLUSH, &saved);
    if (write(fd, "\n", 1) != 1) {
        /* Only cosmetic: the cursor stays after the prompt. */
    }
    if (!ok) {
        g_set_error(error, BL_ERROR, BL_ERROR_IO, "cannot read the password: /dev/tty: %s",
                    g_strerror(read_errno ? read_errno : EIO));
        return FALSE;
    }
    if (too_long) {
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID, "the password is longer than %zu bytes",
                    size - 1);
        return FALSE;
    }
    return TRUE;
}

gboolean bl_target_resolve_password(BlTarget *t, GError **error)
{
    if (!t->password_prompt || t->password)
        return TRUE;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, BL_ERROR, BL_ERROR_INVALID,
                    "-p/--password without a value asks for the password on the terminal, "
                    "but there is none (/dev/tty: %s); give the password in an option file "
                    "([client] or [binlogfs] password=..., see --defaults-extra-file)",
                    g_strerror(e));
        return FALSE;
    }
    char buf[PASSWORD_MAX];
    gboolean ok = read_hidden_line(fd, buf, sizeof buf, error);
    close(fd);
    if (ok)
        set_password(t, buf);
    explicit_bzero(buf, sizeof buf);
    return ok;
}
