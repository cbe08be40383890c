/* binlogfs — the target connection module: TARGET option parsing and argv
 * scrubbing, the password prompt (on a pseudo-terminal, and without any
 * terminal), the server error table; and, when BL_TEST_SOCKET names the
 * socket of a running server where root@localhost has no password
 * (tests/integration/0100-connect.sh starts one), real connections:
 * multi-statement errors, query values, failure messages, option files and
 * their groups and order, reconnects. Without BL_TEST_SOCKET those tests
 * are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "conn.h"

/* ---- option parsing -------------------------------------------------------- */

typedef struct {
    BlTarget t;
    char **orig;  /* the argv given (strings scrubbed in place) */
    char **rest;  /* what GOption left, copied */
    gboolean ok;
    GError *error;
} Parsed;

static void parsed_clear(Parsed *p)
{
    bl_target_clear(&p->t);
    g_strfreev(p->orig);
    g_strfreev(p->rest);
    g_clear_error(&p->error);
}

/* prepare + GOption, as a frontend does it. */
static void parse(Parsed *p, const char *const *args)
{
    memset(p, 0, sizeof *p);
    p->orig = g_strdupv((char **)args);
    int argc = (int)g_strv_length(p->orig);
    g_autofree char **argv = bl_target_prepare_argv(&p->t, &argc, p->orig);
    g_assert_null(argv[argc]);
    g_autoptr(GOptionContext) ctx = g_option_context_new("ARGS");
    g_option_context_set_help_enabled(ctx, FALSE);
    g_option_context_add_group(ctx, bl_target_option_group(&p->t));
    char **parse_argv = argv;
    p->ok = g_option_context_parse(ctx, &argc, &parse_argv, &p->error);
    p->rest = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++)
        p->rest[i] = g_strdup(parse_argv[i]);
}

static void assert_strv(char **got, const char *const *want)
{
    g_autofree char *g = g_strjoinv(" | ", got);
    g_autofree char *w = g_strjoinv(" | ", (char **)want);
    g_assert_cmpstr(g, ==, w);
}

static void test_argv_separate_and_prompt(void)
{
    Parsed p;
    parse(&p, (const char *const[]){ "binlogfs", "-h", "db1", "-P", "3307", "-S", "/x", "--user",
                                     "u", "-p", "/mnt/restore", NULL });
    g_assert_no_error(p.error);
    g_assert_true(p.ok);
    g_assert_cmpstr(p.t.host, ==, "db1");
    g_assert_cmpuint(p.t.port, ==, 3307);
    g_assert_cmpstr(p.t.socket, ==, "/x");
    g_assert_cmpstr(p.t.user, ==, "u");
    g_assert_true(p.t.password_prompt);
    g_assert_null(p.t.password);
    /* -p did not take the mount point. */
    assert_strv(p.rest, (const char *const[]){ "binlogfs", "/mnt/restore", NULL });
    parsed_clear(&p);

    parse(&p, (const char *const[]){ "binlogfs", "mount", "--password", "/mnt", "--port=3308",
                                     "--host=h2", NULL });
    g_assert_true(p.ok);
    g_assert_true(p.t.password_prompt);
    g_assert_null(p.t.password);
    g_assert_cmpuint(p.t.port, ==, 3308);
    g_assert_cmpstr(p.t.host, ==, "h2");
    assert_strv(p.rest, (const char *const[]){ "binlogfs", "mount", "/mnt", NULL });
    parsed_clear(&p);
}

static void test_argv_attached_and_scrubbed(void)
{
    Parsed p;
    parse(&p, (const char *const[]){ "binlogfs", "-pSECRET", "-uroot", "-hdb2", "-P3309",
                                     "-Srel.sock", "pos", NULL });
    g_assert_no_error(p.error);
    g_assert_cmpstr(p.t.password, ==, "SECRET");
    g_assert_false(p.t.password_prompt);
    g_assert_cmpstr(p.t.user, ==, "root");
    g_assert_cmpstr(p.t.host, ==, "db2");
    g_assert_cmpuint(p.t.port, ==, 3309);
    /* Paths are made absolute at once. */
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *want_sock = g_build_filename(cwd, "rel.sock", NULL);
    g_assert_cmpstr(p.t.socket, ==, want_sock);
    assert_strv(p.rest, (const char *const[]){ "binlogfs", "pos", NULL });
    /* The original argv bytes no longer hold the password. */
    g_assert_cmpstr(p.orig[1], ==, "-pxxxxxx");
    g_assert_cmpstr(p.orig[2], ==, "-uroot");
    parsed_clear(&p);

    parse(&p, (const char *const[]){ "binlogfs", "--password=SECRET", "x", NULL });
    g_assert_cmpstr(p.t.password, ==, "SECRET");
    g_assert_cmpstr(p.orig[1], ==, "--password=xxxxxx");
    assert_strv(p.rest, (const char *const[]){ "binlogfs", "x", NULL });
    parsed_clear(&p);

    /* An empty value is an empty password, not a prompt (as mysql). */
    parse(&p, (const char *const[]){ "binlogfs", "--password=", NULL });
    g_assert_cmpstr(p.t.password, ==, "");
    g_assert_false(p.t.password_prompt);
    parsed_clear(&p);
}

static void test_argv_last_wins_and_dashdash(void)
{
    Parsed p;
    parse(&p, (const char *const[]){ "b", "-pA", "-p", NULL });
    g_assert_true(p.t.password_prompt);
    g_assert_null(p.t.password);
    parsed_clear(&p);

    parse(&p, (const char *const[]){ "b", "-p", "--password=B", NULL });
    g_assert_false(p.t.password_prompt);
    g_assert_cmpstr(p.t.password, ==, "B");
    parsed_clear(&p);

    /* Nothing after "--" is an option, nor scrubbed. */
    parse(&p, (const char *const[]){ "b", "-uu1", "--", "-pNOTME", "-uu2", NULL });
    g_assert_true(p.ok);
    g_assert_null(p.t.password);
    g_assert_cmpstr(p.t.user, ==, "u1");
    g_assert_cmpstr(p.orig[3], ==, "-pNOTME");
    g_assert_true(g_strv_contains((const char *const *)p.rest, "-pNOTME"));
    g_assert_true(g_strv_contains((const char *const *)p.rest, "-uu2"));
    parsed_clear(&p);
}

static void test_argv_bad_port(void)
{
    const char *bad[] = { "70000", "-1", "x", "" };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        Parsed p;
        parse(&p, (const char *const[]){ "b", "-P", bad[i], NULL });
        g_assert_false(p.ok);
        g_assert_error(p.error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
        g_assert_nonnull(strstr(p.error->message, "port"));
        parsed_clear(&p);
    }
}

/* Without bl_target_prepare_argv, --password=VALUE still works through
 * GOption; the standalone scrub does what prepare does to argv's bytes. */
static void test_goption_fallback_and_scrub(void)
{
    BlTarget t = { 0 };
    g_auto(GStrv) strings = g_strsplit("b --password=PW", " ", -1);
    char *args[] = { strings[0], strings[1], NULL };
    char **argv = args;
    int argc = 2;
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_option_context_add_group(ctx, bl_target_option_group(&t));
    g_assert_true(g_option_context_parse(ctx, &argc, &argv, NULL));
    g_assert_cmpstr(t.password, ==, "PW");
    bl_target_clear(&t);

    char *v[] = { g_strdup("b"), g_strdup("-pS3"), g_strdup("--password=S4"), g_strdup("-p"),
                  g_strdup("pos"), g_strdup("--"), g_strdup("-pS5"), NULL };
    bl_target_scrub_argv(7, v);
    bl_target_scrub_argv(7, v); /* idempotent */
    const char *want[] = { "b", "-pxx", "--password=xx", "-p", "pos", "--", "-pS5", NULL };
    assert_strv(v, want);
    for (int i = 0; v[i]; i++)
        g_free(v[i]);
}

static void test_describe_copy_clear(void)
{
    BlTarget t = { 0 };
    t.user = g_strdup("root");
    t.socket = g_strdup("/x/y.sock");
    t.password = g_strdup("hunter2");
    g_autofree char *d1 = bl_target_describe(&t);
    g_assert_cmpstr(d1, ==, "root@localhost via socket /x/y.sock");

    t.host = g_strdup("db.example.com");
    t.port = 3310;
    g_autofree char *d2 = bl_target_describe(&t);
    g_assert_cmpstr(d2, ==, "root@db.example.com:3310");

    BlTarget c = { 0 };
    bl_target_copy(&c, &t);
    g_assert_cmpstr(c.password, ==, "hunter2");
    g_assert_true(c.password != t.password);
    bl_target_clear(&t);
    g_assert_null(t.host);
    g_assert_null(t.password);
    g_assert_cmpuint(t.port, ==, 0);

    g_free(c.host);
    c.host = g_strdup("::1");
    c.port = 0;
    g_unsetenv("MYSQL_TCP_PORT");
    g_autofree char *d3 = bl_target_describe(&c);
    g_assert_cmpstr(d3, ==, "root@[::1]:3306");
    g_assert_null(strstr(d3, "hunter2"));

    /* Defaults: the login name, the library's socket (or MYSQL_UNIX_PORT). */
    bl_target_clear(&c);
    g_setenv("MYSQL_UNIX_PORT", "/env/sock", TRUE);
    g_autofree char *d4 = bl_target_describe(&c);
    g_unsetenv("MYSQL_UNIX_PORT");
    g_assert_true(g_str_has_suffix(d4, "@localhost via socket /env/sock"));
    g_assert_cmpuint(strlen(d4), >, strlen("@localhost via socket /env/sock"));
}

/* ---- the password prompt ---------------------------------------------------- */

static void test_prompt_without_terminal(void)
{
    if (g_test_subprocess()) {
        /* A new session has no controlling terminal: /dev/tty fails. */
        g_assert_cmpint(setsid(), >=, 0);
        BlTarget t = { 0 };
        t.password_prompt = TRUE;
        GError *error = NULL;
        g_assert_false(bl_target_resolve_password(&t, &error));
        g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "option file"));
        g_error_free(error);
        /* Nothing to ask: no terminal needed. */
        t.password_prompt = FALSE;
        g_assert_true(bl_target_resolve_password(&t, NULL));
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

/* Reads what the pseudo-terminal shows until `until` appears or the other
 * side is gone; returns all of it. */
static char *read_pty(int master, const char *until)
{
    GString *s = g_string_new(NULL);
    for (;;) {
        struct pollfd pfd = { .fd = master, .events = POLLIN };
        if (poll(&pfd, 1, 10000) <= 0)
            break;
        char buf[256];
        ssize_t r = read(master, buf, sizeof buf);
        if (r <= 0)
            break;
        g_string_append_len(s, buf, r);
        if (until && strstr(s->str, until))
            break;
    }
    return g_string_free(s, FALSE);
}

static void test_prompt_on_pty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        g_test_skip("no pseudo-terminals");
        if (master >= 0)
            close(master);
        return;
    }
    g_autofree char *slave = g_strdup(ptsname(master));
    int out[2];
    g_assert_cmpint(pipe(out), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        /* The child: the pty becomes its controlling terminal. */
        close(master);
        close(out[0]);
        if (setsid() < 0 || open(slave, O_RDWR) < 0)
            _exit(2);
        BlTarget t = { 0 };
        t.password_prompt = TRUE;
        GError *error = NULL;
        const char *got = bl_target_resolve_password(&t, &error) ? t.password : "(failed)";
        if (write(out[1], got, strlen(got)) < 0)
            _exit(3);
        _exit(t.password_prompt ? 4 : 0);
    }
    close(out[1]);
    g_autofree char *prompt = read_pty(master, "Enter password: ");
    g_assert_nonnull(strstr(prompt, "Enter password: "));
    const char typed[] = "s3cret pw\n";
    g_assert_cmpint(write(master, typed, sizeof typed - 1), ==, (ssize_t)(sizeof typed - 1));
    g_autofree char *echo = read_pty(master, NULL);
    /* Nothing typed was echoed; only the newline we print. */
    g_assert_null(strstr(echo, "s3cret"));
    char got[64] = { 0 };
    ssize_t n = read(out[0], got, sizeof got - 1);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpstr(got, ==, "s3cret pw");
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    close(out[0]);
    close(master);
}

/* ---- the error table ---------------------------------------------------------- */

static void test_classify(void)
{
    const guint retry[] = { 1213, 1205, 1020, 1412, 1637, 1689, 1613, 1614 };
    const guint reconnect[] = { 2006, 2013, 2055, 2002, 2003, 1927, 1053,
                                1158, 1159, 1160, 1161, 1040, 1203 };
    const guint conflict[] = { 1062, 1586, 1022, 1032, 1451, 1452, 1216, 1217 };
    const guint fatal[] = { 0, 1045, 2005, 1146, 1049, 1064, 1317, 1969, 2014, 1180, 1226,
                            1048, 1105, 4031, 99999 };
    for (gsize i = 0; i < G_N_ELEMENTS(retry); i++)
        g_assert_cmpint(bl_server_classify(retry[i]), ==, BL_SERVER_RETRY);
    for (gsize i = 0; i < G_N_ELEMENTS(reconnect); i++)
        g_assert_cmpint(bl_server_classify(reconnect[i]), ==, BL_SERVER_RECONNECT);
    for (gsize i = 0; i < G_N_ELEMENTS(conflict); i++)
        g_assert_cmpint(bl_server_classify(conflict[i]), ==, BL_SERVER_CONFLICT);
    for (gsize i = 0; i < G_N_ELEMENTS(fatal); i++)
        g_assert_cmpint(bl_server_classify(fatal[i]), ==, BL_SERVER_FATAL);
    g_assert_cmpstr(bl_server_class_name(BL_SERVER_RETRY), ==, "retry");
    g_assert_cmpstr(bl_server_class_name(BL_SERVER_RECONNECT), ==, "reconnect");
    g_assert_cmpstr(bl_server_class_name(BL_SERVER_CONFLICT), ==, "conflict");
    g_assert_cmpstr(bl_server_class_name(BL_SERVER_FATAL), ==, "fatal");
}

/* ---- with a server ------------------------------------------------------------ */

static const char *server_socket(void)
{
    const char *s = g_getenv("BL_TEST_SOCKET");
    if (!s || !*s) {
        g_test_skip("BL_TEST_SOCKET not set (tests/integration/0100-connect.sh sets it)");
        return NULL;
    }
    return s;
}

static void root_target(BlTarget *t, const char *sock)
{
    memset(t, 0, sizeof *t);
    t->user = g_strdup("root");
    t->socket = g_strdup(sock);
}

static BlConn *open_root(const char *sock)
{
    g_auto(BlTarget) t = { 0 };
    root_target(&t, sock);
    GError *error = NULL;
    BlConn *c = bl_conn_open(&t, &error);
    g_assert_no_error(error);
    g_assert_nonnull(c);
    return c;
}

static char *value_of(BlConn *c, const char *sql)
{
    char *v = NULL;
    GError *error = NULL;
    g_assert_true(bl_conn_query_value(c, sql, &v, &error));
    g_assert_no_error(error);
    return v;
}

static void run(BlConn *c, const char *sql)
{
    GError *error = NULL;
    if (!bl_conn_query(c, sql, strlen(sql), &error))
        g_error("%s: %s", sql, error->message);
    g_assert_cmpuint(bl_conn_errno(c), ==, 0);
    g_assert_cmpstr(bl_conn_sqlstate(c), ==, "00000");
}

static void test_server_connect(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_autoptr(BlConn) c = open_root(sock);
    g_autofree char *want = g_strdup_printf("root@localhost via socket %s", sock);
    g_assert_cmpstr(bl_conn_describe(c), ==, want);
    g_assert_nonnull(bl_conn_mysql(c));
    g_assert_cmpuint(bl_conn_server_version(c), >=, 100000);
    g_autofree char *version = value_of(c, "SELECT VERSION()");
    g_assert_cmpint(bl_conn_is_mariadb(c), ==, strstr(version, "MariaDB") != NULL);
    g_autofree char *cs = value_of(c, "SELECT @@character_set_client");
    g_assert_cmpstr(cs, ==, "utf8mb4");
    g_autofree char *user = value_of(c, "SELECT CURRENT_USER()");
    g_assert_cmpstr(user, ==, "root@localhost");
}

static void test_server_multi_statement(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_autoptr(BlConn) c = open_root(sock);
    run(c, "DROP DATABASE IF EXISTS bl_conn; CREATE DATABASE bl_conn; "
           "CREATE TABLE bl_conn.t (id INT PRIMARY KEY) ENGINE=InnoDB");
    /* Result sets inside a batch are read and dropped. */
    run(c, "SELECT 1; SELECT 2, 3 UNION SELECT 4, 5; DO 0; SELECT * FROM bl_conn.t");

    /* The second statement fails: reported, and the third never runs. */
    GError *error = NULL;
    const char *batch = "INSERT INTO bl_conn.t VALUES (1); INSERT INTO bl_conn.t VALUES (1); "
                        "INSERT INTO bl_conn.t VALUES (2)";
    g_assert_false(bl_conn_query(c, batch, strlen(batch), &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_SERVER);
    g_assert_true(g_str_has_prefix(error->message, "ERROR 1062 (23000): Duplicate entry '1'"));
    g_clear_error(&error);
    g_assert_cmpuint(bl_conn_errno(c), ==, 1062);
    g_assert_cmpstr(bl_conn_sqlstate(c), ==, "23000");
    g_assert_cmpint(bl_conn_classify(c), ==, BL_SERVER_CONFLICT);
    g_autofree char *ids = value_of(c, "SELECT GROUP_CONCAT(id ORDER BY id) FROM bl_conn.t");
    g_assert_cmpstr(ids, ==, "1");
    g_assert_cmpuint(bl_conn_errno(c), ==, 0);

    /* A failure after a result set, and a failing first statement. */
    batch = "SELECT 1; SELECT * FROM bl_conn.nonexistent; SELECT 2";
    g_assert_false(bl_conn_query(c, batch, strlen(batch), &error));
    g_assert_cmpuint(bl_conn_errno(c), ==, 1146);
    g_assert_true(g_str_has_prefix(error->message, "ERROR 1146 (42S02): "));
    g_clear_error(&error);
    batch = "SELEC 1; SELECT 2";
    g_assert_false(bl_conn_query(c, batch, strlen(batch), &error));
    g_assert_cmpuint(bl_conn_errno(c), ==, 1064);
    g_assert_cmpint(bl_conn_classify(c), ==, BL_SERVER_FATAL);
    g_clear_error(&error);
    /* len is honoured: only the first statement is sent. */
    batch = "INSERT INTO bl_conn.t VALUES (3); garbage";
    g_assert_true(bl_conn_query(c, batch, strlen("INSERT INTO bl_conn.t VALUES (3)"), NULL));
    /* The connection is still usable after all that. */
    g_autofree char *n = value_of(c, "SELECT COUNT(*) FROM bl_conn.t");
    g_assert_cmpstr(n, ==, "2");
    run(c, "DROP DATABASE bl_conn");
}

static void test_server_query_value(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_autoptr(BlConn) c = open_root(sock);
    g_autofree char *a = value_of(c, "SELECT 'a' UNION ALL SELECT 'b'");
    g_assert_cmpstr(a, ==, "a");
    g_autofree char *null = value_of(c, "SELECT NULL");
    g_assert_null(null);
    g_autofree char *none = value_of(c, "SELECT 1 FROM DUAL WHERE 0");
    g_assert_null(none);
    g_autofree char *two = value_of(c, "SELECT 'x', 'y'; SELECT 'z'");
    g_assert_cmpstr(two, ==, "x");
    g_autofree char *utf8 = value_of(c, "SELECT 'ü€'");
    g_assert_cmpstr(utf8, ==, "ü€");

    char *v = (char *)"untouched";
    GError *error = NULL;
    g_assert_false(bl_conn_query_value(c, "DO 1", &v, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_null(v);
    g_clear_error(&error);
    g_assert_false(bl_conn_query_value(c, "SELECT 1; SELECT nonexistent_column", &v, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_SERVER);
    g_assert_null(v);
    g_assert_cmpuint(bl_conn_errno(c), ==, 1054);
    g_clear_error(&error);
}

static void test_server_connect_failures(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_auto(BlTarget) t = { 0 };
    g_autofree char *nope = g_strdup_printf("%s.nope", sock);
    root_target(&t, nope);
    GError *error = NULL;
    g_assert_null(bl_conn_open(&t, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_SERVER);
    g_autofree char *want =
        g_strdup_printf("cannot connect to root@localhost via socket %s: ERROR 2002 (HY000): "
                        "Can't connect to local server through socket '%s'",
                        nope, nope);
    if (!g_str_has_prefix(error->message, want))
        g_error("got: %s\nwant: %s...", error->message, want);
    g_clear_error(&error);

    /* Access denied names the user and is fatal. */
    bl_target_clear(&t);
    root_target(&t, sock);
    g_free(t.user);
    t.user = g_strdup("bl_nosuchuser");
    t.password = g_strdup("wrong-password");
    g_assert_null(bl_conn_open(&t, &error));
    g_assert_nonnull(strstr(error->message, "cannot connect to bl_nosuchuser@localhost"));
    g_assert_nonnull(strstr(error->message, "ERROR 1045 (28000)"));
    g_assert_null(strstr(error->message, "wrong-password"));
    g_assert_cmpint(bl_server_classify(1045), ==, BL_SERVER_FATAL);
    g_clear_error(&error);

    /* An unresolved prompt is refused before connecting. */
    bl_target_clear(&t);
    root_target(&t, sock);
    t.password_prompt = TRUE;
    g_assert_null(bl_conn_open(&t, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_clear_error(&error);
}

/* Writes `text` (with @SOCK@ replaced) to DIR/name; returns the path. */
static char *write_cnf(const char *dir, const char *name, const char *text, const char *sock)
{
    g_autoptr(GString) s = g_string_new(text);
    g_string_replace(s, "@SOCK@", sock, 0);
    char *path = g_build_filename(dir, name, NULL);
    GError *error = NULL;
    g_assert_true(g_file_set_contents(path, s->str, -1, &error));
    g_assert_no_error(error);
    return path;
}

/* bl_conn_open on t; returns NULL on success, else the error message. */
static char *try_open(const BlTarget *t, BlConn **out)
{
    GError *error = NULL;
    BlConn *c = bl_conn_open(t, &error);
    if (out)
        *out = c;
    else
        bl_conn_free(c);
    if (c)
        return NULL;
    char *msg = g_strdup(error->message);
    g_error_free(error);
    return msg;
}

static void test_server_option_files(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_autofree char *dir = g_dir_make_tmp("bl-conn-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_auto(BlTarget) t = { 0 };
    char *msg;

    /* [client] is read, [mysql] is not. */
    g_autofree char *a = write_cnf(dir, "a.cnf",
                                   "[client]\nuser=root\nsocket=@SOCK@\n"
                                   "[mysql]\nuser=bl_wrong\nsocket=/nonexistent/m.sock\n",
                                   sock);
    t.defaults_file = g_strdup(a);
    BlConn *c = NULL;
    msg = try_open(&t, &c);
    g_assert_cmpstr(msg, ==, NULL);
    g_autofree char *want = g_strdup_printf("root@localhost via socket %s", sock);
    g_assert_cmpstr(bl_conn_describe(c), ==, want);
    bl_conn_free(c);

    /* [binlogfs] is read, after [client] in the file; so are [client-server]
     * and [client-mariadb]. */
    g_autofree char *b = write_cnf(dir, "b.cnf",
                                   "[client]\nuser=bl_wrong\nsocket=/nonexistent/c.sock\n"
                                   "[binlogfs]\nuser=root\nsocket=@SOCK@\n",
                                   sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(b);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);
    g_autofree char *b2 = write_cnf(dir, "b2.cnf", "[client-server]\nuser=root\nsocket=@SOCK@\n",
                                    sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(b2);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);
    g_autofree char *b3 = write_cnf(dir, "b3.cnf", "[client-mariadb]\nuser=root\nsocket=@SOCK@\n",
                                    sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(b3);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);

    /* A group that is not ours is ignored; the error names what the files
     * said (socket and user). */
    g_autofree char *d = write_cnf(dir, "d.cnf",
                                   "[client]\nuser=bl_fileuser\nsocket=/nonexistent/d.sock\n"
                                   "[mysqldump]\nuser=root\nsocket=@SOCK@\n",
                                   sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(d);
    msg = try_open(&t, NULL);
    g_assert_nonnull(msg);
    g_assert_true(g_str_has_prefix(
        msg, "cannot connect to bl_fileuser@localhost via socket /nonexistent/d.sock: ERROR 2002"));
    g_free(msg);

    /* The command line wins over the files. */
    bl_target_clear(&t);
    t.defaults_file = g_strdup(d);
    t.user = g_strdup("root");
    t.socket = g_strdup(sock);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);

    /* --defaults-extra-file is read after --defaults-file. */
    g_autofree char *e = write_cnf(dir, "e.cnf", "[client]\nuser=root\nsocket=@SOCK@\n", sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(d);
    t.defaults_extra_file = g_strdup(e);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);

    /* Without --defaults-file: global files, then the extra file, then
     * ~/.my.cnf (HOME points at our directory). */
    const char *old_home = g_getenv("HOME");
    g_autofree char *saved_home = old_home ? g_strdup(old_home) : NULL;
    g_setenv("HOME", dir, TRUE);
    g_autofree char *mycnf = write_cnf(dir, ".my.cnf", "[client]\nuser=root\n", sock);
    g_autofree char *x = write_cnf(dir, "x.cnf", "[client]\nuser=bl_wrong\nsocket=@SOCK@\n", sock);
    bl_target_clear(&t);
    t.defaults_extra_file = g_strdup(x);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL); /* socket from x.cnf, user from ~/.my.cnf */
    g_unlink(mycnf);
    msg = try_open(&t, NULL);
    g_assert_nonnull(msg); /* now the user is x.cnf's */
    g_assert_nonnull(strstr(msg, "bl_wrong@localhost"));
    g_free(msg);
    if (saved_home)
        g_setenv("HOME", saved_home, TRUE);
    else
        g_unsetenv("HOME");

    /* Option files cannot undo utf8mb4, LOAD DATA LOCAL, or turn on the
     * library's reconnect. */
    g_autofree char *f = write_cnf(dir, "f.cnf",
                                   "[client]\nuser=root\nsocket=@SOCK@\n"
                                   "default-character-set=latin1\nlocal-infile=0\nreconnect=1\n",
                                   sock);
    g_autofree char *data = g_build_filename(dir, "rows.tsv", NULL);
    g_assert_true(g_file_set_contents(data, "1\tone\n2\ttwo\n", -1, NULL));
    bl_target_clear(&t);
    t.defaults_file = g_strdup(f);
    msg = try_open(&t, &c);
    g_assert_cmpstr(msg, ==, NULL);
    g_autofree char *cs = value_of(c, "SELECT @@character_set_client");
    g_assert_cmpstr(cs, ==, "utf8mb4");
    my_bool reconnect = 1;
    g_assert_cmpint(mysql_get_optionv(bl_conn_mysql(c), MYSQL_OPT_RECONNECT, &reconnect), ==, 0);
    g_assert_false(reconnect);
    g_autofree char *load = g_strdup_printf(
        "CREATE DATABASE IF NOT EXISTS bl_conn_li; "
        "CREATE OR REPLACE TABLE bl_conn_li.t (id INT PRIMARY KEY, v VARCHAR(10)); "
        "LOAD DATA LOCAL INFILE '%s' INTO TABLE bl_conn_li.t",
        data);
    run(c, load);
    g_autofree char *n = value_of(c, "SELECT COUNT(*) FROM bl_conn_li.t");
    g_assert_cmpstr(n, ==, "2");
    run(c, "DROP DATABASE bl_conn_li");
    bl_conn_free(c);

    /* A password from a file. */
    c = open_root(sock);
    run(c, "CREATE OR REPLACE USER bl_pw@localhost IDENTIFIED BY 'pw one'");
    g_autofree char *p = write_cnf(dir, "p.cnf",
                                   "[client]\nuser=bl_pw\npassword=\"pw one\"\nsocket=@SOCK@\n",
                                   sock);
    bl_target_clear(&t);
    t.defaults_file = g_strdup(p);
    msg = try_open(&t, NULL);
    g_assert_cmpstr(msg, ==, NULL);
    t.password = g_strdup("wrong"); /* the command line wins */
    msg = try_open(&t, NULL);
    g_assert_nonnull(msg);
    g_assert_nonnull(strstr(msg, "ERROR 1045"));
    g_free(msg);
    run(c, "DROP USER bl_pw@localhost");
    bl_conn_free(c);

    /* Unreadable option files are the user's error, named. */
    bl_target_clear(&t);
    g_autofree char *missing = g_build_filename(dir, "missing.cnf", NULL);
    t.defaults_file = g_strdup(missing);
    GError *error = NULL;
    g_assert_null(bl_conn_open(&t, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "--defaults-file"));
    g_assert_nonnull(strstr(error->message, missing));
    g_clear_error(&error);
    bl_target_clear(&t);
    t.defaults_extra_file = g_strdup(missing);
    g_assert_null(bl_conn_open(&t, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "--defaults-extra-file"));
    g_clear_error(&error);

    const char *names[] = { "a.cnf", "b.cnf", "b2.cnf", "b3.cnf", "d.cnf", "e.cnf",
                            "x.cnf", "f.cnf", "p.cnf", "rows.tsv" };
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(dir, names[i], NULL);
        g_unlink(path);
    }
    g_rmdir(dir);
}

static void test_server_reconnect(void)
{
    const char *sock = server_socket();
    if (!sock)
        return;
    g_autoptr(BlConn) admin = open_root(sock);
    run(admin, "CREATE OR REPLACE USER bl_re@localhost IDENTIFIED BY 'one'");
    g_auto(BlTarget) t = { 0 };
    t.user = g_strdup("bl_re");
    t.password = g_strdup("one");
    t.socket = g_strdup(sock);
    GError *error = NULL;
    g_autoptr(BlConn) c = bl_conn_open(&t, &error);
    g_assert_no_error(error);
    g_assert_true(bl_conn_session_sql(c, "SET @bl_marker = 42", &error));
    g_assert_no_error(error);
    g_autofree char *id1 = value_of(c, "SELECT CONNECTION_ID()");

    /* Killed: the next query fails with a RECONNECT error. */
    g_autofree char *kill = g_strdup_printf("KILL %s", id1);
    run(admin, kill);
    g_assert_false(bl_conn_query(c, "SELECT 1", 8, &error));
    g_assert_error(error, BL_ERROR, BL_ERROR_SERVER);
    g_test_message("after KILL: %s", error->message);
    g_clear_error(&error);
    g_assert_cmpint(bl_conn_classify(c), ==, BL_SERVER_RECONNECT);

    /* The session SQL runs again on the new connection. */
    g_assert_true(bl_conn_reconnect(c, &error));
    g_assert_no_error(error);
    g_autofree char *id2 = value_of(c, "SELECT CONNECTION_ID()");
    g_assert_cmpstr(id1, !=, id2);
    g_autofree char *marker = value_of(c, "SELECT @bl_marker");
    g_assert_cmpstr(marker, ==, "42");

    /* A reconnect that cannot succeed (the password changed) fails at once,
     * and leaves c closed: queries fail with 2006, classified RECONNECT. */
    run(admin, "ALTER USER bl_re@localhost IDENTIFIED BY 'two'");
    gint64 start = g_get_monotonic_time();
    g_assert_false(bl_conn_reconnect(c, &error));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    g_assert_error(error, BL_ERROR, BL_ERROR_SERVER);
    g_assert_nonnull(strstr(error->message, "ERROR 1045"));
    g_assert_true(g_str_has_prefix(error->message, "reconnect failed (1 attempt in "));
    g_clear_error(&error);
    g_assert_null(bl_conn_mysql(c));
    g_assert_cmpuint(bl_conn_server_version(c), ==, 0);
    g_assert_false(bl_conn_query(c, "SELECT 1", 8, &error));
    g_assert_cmpuint(bl_conn_errno(c), ==, 2006);
    g_assert_cmpint(bl_conn_classify(c), ==, BL_SERVER_RECONNECT);
    g_clear_error(&error);
    run(admin, "DROP USER bl_re@localhost");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    mysql_library_init(0, NULL, NULL);
    g_test_add_func("/target/argv-separate-and-prompt", test_argv_separate_and_prompt);
    g_test_add_func("/target/argv-attached-and-scrubbed", test_argv_attached_and_scrubbed);
    g_test_add_func("/target/argv-last-wins-and-dashdash", test_argv_last_wins_and_dashdash);
    g_test_add_func("/target/argv-bad-port", test_argv_bad_port);
    g_test_add_func("/target/goption-fallback-and-scrub", test_goption_fallback_and_scrub);
    g_test_add_func("/target/describe-copy-clear", test_describe_copy_clear);
    g_test_add_func("/target/prompt-without-terminal", test_prompt_without_terminal);
    g_test_add_func("/target/prompt-on-pty", test_prompt_on_pty);
    g_test_add_func("/conn/classify", test_classify);
    g_test_add_func("/conn/server/connect", test_server_connect);
    g_test_add_func("/conn/server/multi-statement", test_server_multi_statement);
    g_test_add_func("/conn/server/query-value", test_server_query_value);
    g_test_add_func("/conn/server/connect-failures", test_server_connect_failures);
    g_test_add_func("/conn/server/option-files", test_server_option_files);
    g_test_add_func("/conn/server/reconnect", test_server_reconnect);
    int rc = g_test_run();
    mysql_library_end();
    return rc;
}
