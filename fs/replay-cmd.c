/* binlogfs — `binlogfs replay [TARGET] [REPLAY] BINLOG...`: apply the
 * given files to the target and exit 0 when they are all applied (or the
 * stop point is reached), non-zero with the error otherwise.
 *
 * DESIGN: a thin frontend on the engine: options -> BlEngineConfig, add
 * the files, start, then show a progress bar on stderr (when it is a
 * terminal) from engine snapshots until the engine settles, and a summary.
 * With --datadir the private server is started first and stopped last,
 * whatever happened in between. A first SIGINT/SIGTERM/SIGHUP stops the
 * replay cleanly: what is in flight rolls back or commits with its
 * progress row, the summary names the position, the same command resumes
 * there (and with --datadir the server is shut down); a second one kills
 * binlogfs at once, which exactly-once progress also survives. A signal
 * ignored when binlogfs starts (SIGINT in a background job) stays ignored.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <binlogfs/engine.h>

#include "commands.h"
#include "replay-options.h"

static void format_hms(gint64 s, char *buf, gsize len)
{
    if (s < 0)
        g_strlcpy(buf, "--:--:--", len);
    else
        g_snprintf(buf, len, "%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                   s / 3600, s / 60 % 60, s % 60);
}

static gint bar_drawn; /* the cursor is at the end of the progress bar */

static void progress_bar(const BlSnapshot *s)
{
    double pct = s->bytes_total ? 100.0 * (double)s->bytes_applied / (double)s->bytes_total : 0.0;
    if (pct > 100.0)
        pct = 100.0;
    char eta[16];
    format_hms(s->eta_s, eta, sizeof eta);
    int width = 30, fill = (int)(pct / 100.0 * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %5.1f%%  %" G_GUINT64_FORMAT " trx  %.0f trx/s  ETA %s  %s:%" G_GUINT64_FORMAT "   ",
            bar, pct, s->applied, s->trx_per_s, eta, s->file, s->pos);
    fflush(stderr);
    g_atomic_int_set(&bar_drawn, 1);
}

static void summary(const BlSnapshot *s, double secs)
{
    fprintf(stderr,
            "binlogfs: %s: %" G_GUINT64_FORMAT " transactions applied, %" G_GUINT64_FORMAT
            " skipped, %" G_GUINT64_FORMAT " retried in %.1f s (%.0f trx/s); position %s:%" G_GUINT64_FORMAT "%s%s\n",
            bl_engine_state_name(s->state), s->applied, s->skipped, s->retried, secs,
            secs > 0 ? (double)s->applied / secs : 0.0, s->file[0] ? s->file : "(start)", s->pos,
            s->gtid[0] ? " GTID " : "", s->gtid);
}

static volatile sig_atomic_t interrupted;

static const char *interrupt_msg;

static void on_signal(int sig)
{
    interrupted = sig;
    if (write(STDERR_FILENO, interrupt_msg, strlen(interrupt_msg)) < 0) {
        /* nothing to do */
    }
}

static void catch_signals(gboolean server)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    interrupt_msg = server ? "\nbinlogfs: interrupted: stopping the replay and the server cleanly (again to "
                             "quit at once and leave the server running)\n"
                           : "\nbinlogfs: interrupted: stopping the replay cleanly (again to quit at once)\n";
    struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    for (guint i = 0; i < G_N_ELEMENTS(sigs); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}

/* Adds the files, replays, reports. The exit status. */
static int replay(BlReplayOptions *o, int argc, char **argv)
{
    GError *error = NULL;
    BlEngine *e = bl_engine_new(&o->config, &error);
    if (!e) {
        g_printerr("binlogfs: %s\n", error->message);
        if (o->datadir && strstr(error->message, "ERROR 1045 "))
            g_printerr("binlogfs: the private server's accounts did not let %s in: give --user (and "
                       "--password, or --defaults-file) for an account of %s\n",
                       o->target.user, o->datadir);
        g_error_free(error);
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (!bl_engine_add_file(e, argv[i], &error)) {
            g_printerr("binlogfs: %s\n", error->message);
            g_clear_error(&error);
            status = 1;
        }
    }
    if (!status) {
        /* Rerunning the same command after a crash lists files already
         * applied: they are skipped. Files that are all before the
         * position are a mistake: refuse them. */
        g_autoptr(BlSnapshot) s = bl_engine_snapshot(e);
        guint applied = 0;
        for (guint i = 0; i < s->files->len; i++)
            applied += g_str_equal(((BlFileStatus *)g_ptr_array_index(s->files, i))->state, "applied");
        for (guint i = 0; i < s->files->len && applied < s->files->len && !o->quiet; i++) {
            BlFileStatus *fs = g_ptr_array_index(s->files, i);
            if (g_str_equal(fs->state, "applied"))
                g_printerr("binlogfs: %s: applied already by an earlier run (position %s:%" G_GUINT64_FORMAT
                           "), skipped\n", fs->name, s->file, s->pos);
        }
        if (applied && applied == s->files->len) {
            for (guint i = 0; i < s->files->len; i++)
                g_printerr("binlogfs: %s sorts before the position already applied, %s:%" G_GUINT64_FORMAT
                           " (GTID %s): refused, nothing applied\n",
                           ((BlFileStatus *)g_ptr_array_index(s->files, i))->name, s->file, s->pos, s->gtid);
            status = 1;
        }
    }
    if (status) {
        bl_engine_free(e);
        return status;
    }
    gint64 t0 = g_get_monotonic_time();
    if (!bl_engine_start(e, &error)) {
        g_printerr("binlogfs: %s\n", error->message);
        g_error_free(error);
        bl_engine_free(e);
        return 1;
    }
    gboolean tty = isatty(STDERR_FILENO) && !o->quiet;
    BlEngineState st;
    gint64 drawn = 0;
    for (;;) {
        /* short waits: a signal's flag is seen within 50 ms (a condition
         * variable cannot be signalled from a handler) */
        st = bl_engine_wait(e, 50 * 1000);
        gint64 now = g_get_monotonic_time();
        if (tty && now - drawn >= 500 * 1000) {
            drawn = now;
            g_autoptr(BlSnapshot) s = bl_engine_snapshot(e);
            progress_bar(s);
        }
        if (st == BL_STATE_IDLE || st == BL_STATE_STOPPED || st == BL_STATE_FAILED ||
            st == BL_STATE_WAITING || interrupted)
            break;
    }
    if (tty && g_atomic_int_exchange(&bar_drawn, 0))
        fputc('\n', stderr);
    double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    /* interrupted: the position once what was in flight has settled */
    if (interrupted)
        bl_engine_shutdown(e);
    g_autoptr(BlSnapshot) s = bl_engine_snapshot(e);
    bl_engine_shutdown(e);
    if (interrupted) {
        status = 128 + interrupted;
        g_printerr("binlogfs: interrupted by signal %d: the same command resumes after %s:%" G_GUINT64_FORMAT
                   "%s%s\n",
                   (int)interrupted, s->file[0] ? s->file : "(start)", s->pos, s->gtid[0] ? " GTID " : "", s->gtid);
    } else if (st == BL_STATE_FAILED || st == BL_STATE_WAITING) {
        g_printerr("binlogfs: replay failed: %s\n", s->last_error ? s->last_error : "unknown error");
        status = 1;
    }
    if (!o->quiet || status)
        summary(s, secs);
    bl_engine_free(e);
    return status;
}

/* With --datadir: every file is readable before a server is started. */
static gboolean files_readable(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (access(argv[i], R_OK) != 0) {
            g_printerr("binlogfs: %s: %s\n", argv[i], g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

/* The engine's messages and warnings on stderr in the command's own
 * voice ("binlogfs: ..."), not GLib's "** Message: 12:00:00.000: ...",
 * on a line of their own when the progress bar is drawn; the other
 * levels (debug output with G_MESSAGES_DEBUG, criticals) keep GLib's. */
static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    if (!(level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
        return g_log_writer_default(level, fields, n, data);
    const char *message = NULL;
    for (gsize i = 0; i < n; i++)
        if (!strcmp(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    fprintf(stderr, "%sbinlogfs: %s%s\n", g_atomic_int_exchange(&bar_drawn, 0) ? "\n" : "",
            level & G_LOG_LEVEL_WARNING ? "warning: " : "", message ? message : "");
    return G_LOG_WRITER_HANDLED;
}

int cmd_replay(int argc, char **argv)
{
    BlReplayOptions opt;
    g_set_prgname("binlogfs replay");
    g_log_set_writer_func(log_writer, NULL, NULL);
    static const char more_help[] =
        "A first SIGINT/SIGTERM/SIGHUP (Ctrl-C) stops the replay cleanly and names the position\n"
        "where the same command resumes; a second one quits at once.\n"
        "Exit status: 0 when every given file is applied or the stop point is reached, 1 on a\n"
        "replay error, 2 on a usage error, 128+N when stopped by signal N.";
    int rc = bl_replay_options_parse(&opt, &argc, &argv, "BINLOG... - apply binlogs to a server in parallel",
                                     more_help);
    if (rc >= 0)
        return rc;
    if (argc < 2) {
        g_printerr("binlogfs replay: no binlog file given\nTry 'binlogfs replay --help'.\n");
        bl_replay_options_clear(&opt);
        return 2;
    }
    int status = 0;
    GError *error = NULL;
    catch_signals(opt.datadir != NULL);
    if (opt.datadir) {
        if (!files_readable(argc, argv)) {
            bl_replay_options_clear(&opt);
            return 1;
        }
        if (!opt.quiet)
            g_printerr("binlogfs: starting mariadbd on %s\n", opt.datadir);
        if (!bl_replay_options_start_server(&opt, &error)) {
            g_printerr("binlogfs: %s\n", error->message);
            g_error_free(error);
            bl_replay_options_clear(&opt);
            return 1;
        }
        if (!opt.quiet)
            g_printerr("binlogfs: mariadbd (pid %d) is up, socket %s\n", bl_server_pid(opt.server),
                       opt.target.socket);
    }
    status = interrupted ? 128 + interrupted : replay(&opt, argc, argv);
    if (opt.datadir) {
        if (!opt.quiet)
            g_printerr("binlogfs: shutting down mariadbd (pid %d)\n", bl_server_pid(opt.server));
        if (!bl_replay_options_stop_server(&opt, &error)) {
            g_printerr("binlogfs: %s\n", error->message);
            g_error_free(error);
            status = status ? status : 1;
        } else if (!opt.quiet) {
            g_printerr("binlogfs: mariadbd shut down cleanly; %s is ready to start\n", opt.datadir);
        }
    }
    bl_replay_options_clear(&opt);
    return status;
}
