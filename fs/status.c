/* binlogfs — rendering of the mount's read-only files (see status.h).
 *
 * DESIGN: every function here is a pure function of an FsStatusView, so
 * the formats are tested without a server or a mount. Numbers that
 * scripts parse (progress, status.json, metrics) are formatted with
 * g_ascii_formatd: '.' as decimal point whatever LC_NUMERIC says.
 */
#include <math.h>
#include <string.h>

#include "jsonw.h"
#include "status.h"

#define NSTATES (BL_STATE_FAILED + 1)

/* the file states the engine and the session use, listed in metrics even
 * when no file is in them (stable series) */
static const char *const file_states[] = { "receiving", "queued", "reading", "read",    "applied",
                                           "skipped",   "stopped", "failed",  "rejected" };

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

void fs_format_hms(gint64 s, char *buf, gsize len)
{
    if (s < 0)
        g_strlcpy(buf, "--:--:--", len);
    else
        g_snprintf(buf, len, "%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                   s / 3600, s / 60 % 60, s % 60);
}

/* v with `fmt` ("%.1f"...) in the C locale, appended */
static void append_double(GString *out, const char *fmt, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, fmt, v));
}

static double percent(const BlSnapshot *s)
{
    if (!s->bytes_total)
        return 0.0;
    double pct = 100.0 * (double)s->bytes_applied / (double)s->bytes_total;
    return pct > 100.0 ? 100.0 : pct;
}

/* "12.3 MiB" */
static void append_size(GString *out, double bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    guint u = 0;
    while (bytes >= 1024.0 && u + 1 < G_N_ELEMENTS(units)) {
        bytes /= 1024.0;
        u++;
    }
    append_double(out, u ? "%.1f" : "%.0f", bytes);
    g_string_append_printf(out, " %s", units[u]);
}

/* a message on one line: newlines and tabs become spaces */
static void append_line(GString *out, const char *s)
{
    for (; *s; s++)
        g_string_append_c(out, *s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
}

char *fs_status_progress(const BlSnapshot *s)
{
    GString *out = g_string_new(NULL);
    char eta[32];
    fs_format_hms(s->eta_s, eta, sizeof eta);
    append_double(out, "%.1f", percent(s));
    g_string_append_printf(out, "%% %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " trx ",
                           s->applied + s->skipped, MAX(s->trx_total, s->applied + s->skipped));
    append_double(out, "%.0f", s->trx_per_s);
    g_string_append_printf(out, " trx/s ETA %s\n", eta);
    return g_string_free(out, FALSE);
}

char *fs_status_errors(GPtrArray *errors)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; errors && i < errors->len; i++) {
        append_line(out, g_ptr_array_index(errors, i));
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

/* ---- status ---- */

static void text_key(GString *out, const char *key)
{
    g_string_append_printf(out, "%-14s", key);
}

char *fs_status_text(const FsStatusView *v)
{
    const BlSnapshot *s = v->snap;
    GString *out = g_string_new(NULL);
    char eta[32];

    text_key(out, "state:");
    g_string_append_printf(out, "%s\n", bl_engine_state_name(s->state));
    text_key(out, "workers:");
    g_string_append_printf(out, "%u\n", s->workers);
    text_key(out, "position:");
    if (nonempty(s->file))
        g_string_append_printf(out, "%s:%" G_GUINT64_FORMAT "\n", s->file, s->pos);
    else
        g_string_append(out, "(none yet)\n");
    text_key(out, "gtid:");
    g_string_append_printf(out, "%s\n", nonempty(s->gtid) ? s->gtid : "(none)");
    text_key(out, "transactions:");
    g_string_append_printf(out,
                           "%" G_GUINT64_FORMAT " applied, %" G_GUINT64_FORMAT " skipped, %" G_GUINT64_FORMAT
                           " retried, %" G_GUINT64_FORMAT " failed (%" G_GUINT64_FORMAT " read)\n",
                           s->applied, s->skipped, s->retried, s->failed, s->trx_total);
    text_key(out, "bytes:");
    append_size(out, (double)s->bytes_applied);
    g_string_append(out, " of ");
    append_size(out, (double)s->bytes_total);
    g_string_append(out, " (");
    append_double(out, "%.1f", percent(s));
    g_string_append(out, "%)\n");
    text_key(out, "rate:");
    append_double(out, "%.0f", s->trx_per_s);
    g_string_append(out, " trx/s, ");
    append_size(out, s->bytes_per_s);
    g_string_append(out, "/s\n");
    text_key(out, "eta:");
    fs_format_hms(s->eta_s, eta, sizeof eta);
    g_string_append_printf(out, "%s\n", eta);
    if (nonempty(s->waiting_for)) {
        text_key(out, "waiting for:");
        g_string_append_printf(out, "%s\n", s->waiting_for);
    }
    if (nonempty(s->held_file)) {
        text_key(out, "held at:");
        g_string_append_printf(out, "%s:%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "%s%s\n", s->held_file,
                               s->held_start, s->held_end, nonempty(s->held_gtid) ? " GTID " : "",
                               nonempty(s->held_gtid) ? s->held_gtid : "");
    }
    text_key(out, "start-at:");
    g_string_append_printf(out, "%s\n", nonempty(v->start_at) ? v->start_at : "(none)");
    text_key(out, "stop-at:");
    g_string_append_printf(out, "%s\n", nonempty(v->stop_at) ? v->stop_at : "(none)");
    text_key(out, "errors:");
    g_string_append_printf(out, "%u\n", v->errors ? v->errors->len : 0);
    text_key(out, "last error:");
    if (nonempty(s->last_error))
        append_line(out, s->last_error);
    else
        g_string_append(out, "(none)");
    g_string_append_c(out, '\n');
    text_key(out, "files:");
    g_string_append_printf(out, "%u\n", s->files ? s->files->len : 0);
    for (guint i = 0; s->files && i < s->files->len; i++) {
        const BlFileStatus *f = g_ptr_array_index(s->files, i);
        g_string_append_printf(out, "  %-24s %12" G_GUINT64_FORMAT "  %s", f->name, f->size, f->state);
        if (nonempty(f->error)) {
            g_string_append(out, ": ");
            append_line(out, f->error);
        }
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

/* ---- status.json ---- */

static void json_str_or_null(GString *out, const char *key, const char *s)
{
    jw_key(out, key, FALSE);
    if (nonempty(s))
        jw_str(out, s, -1);
    else
        g_string_append(out, "null");
}

static void json_double(GString *out, const char *key, double v)
{
    jw_key(out, key, FALSE);
    if (isfinite(v))
        append_double(out, "%.3f", v);
    else
        g_string_append(out, "null");
}

static void json_files(GString *out, const BlSnapshot *s)
{
    jw_key(out, "files", FALSE);
    g_string_append_c(out, '[');
    for (guint i = 0; s->files && i < s->files->len; i++) {
        const BlFileStatus *f = g_ptr_array_index(s->files, i);
        if (i)
            g_string_append_c(out, ',');
        g_string_append_c(out, '{');
        jw_key(out, "name", TRUE);
        jw_str(out, f->name, -1);
        jw_kuint(out, "size", f->size);
        jw_kstr(out, "state", f->state ? f->state : "", -1);
        json_str_or_null(out, "error", f->error);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
}

char *fs_status_json(const FsStatusView *v)
{
    const BlSnapshot *s = v->snap;
    GString *out = g_string_new("{");
    jw_key(out, "state", TRUE);
    jw_str(out, bl_engine_state_name(s->state), -1);
    jw_kuint(out, "workers", s->workers);

    jw_key(out, "position", FALSE);
    g_string_append_c(out, '{');
    jw_key(out, "file", TRUE);
    jw_str(out, s->file ? s->file : "", -1);
    jw_kuint(out, "pos", s->pos);
    jw_kstr(out, "gtid", s->gtid ? s->gtid : "", -1);
    g_string_append_c(out, '}');

    jw_key(out, "transactions", FALSE);
    g_string_append_c(out, '{');
    jw_key(out, "applied", TRUE);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, s->applied);
    jw_kuint(out, "skipped", s->skipped);
    jw_kuint(out, "retried", s->retried);
    jw_kuint(out, "failed", s->failed);
    jw_kuint(out, "read", s->trx_total);
    g_string_append_c(out, '}');

    jw_key(out, "bytes", FALSE);
    g_string_append_c(out, '{');
    jw_key(out, "applied", TRUE);
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, s->bytes_applied);
    jw_kuint(out, "total", s->bytes_total);
    g_string_append_c(out, '}');

    jw_key(out, "rate", FALSE);
    g_string_append_c(out, '{');
    jw_key(out, "transactions_per_s", TRUE);
    append_double(out, "%.3f", isfinite(s->trx_per_s) ? s->trx_per_s : 0.0);
    json_double(out, "bytes_per_s", s->bytes_per_s);
    g_string_append_c(out, '}');

    jw_key(out, "eta_s", FALSE);
    if (s->eta_s >= 0)
        g_string_append_printf(out, "%" G_GINT64_FORMAT, s->eta_s);
    else
        g_string_append(out, "null");
    json_str_or_null(out, "waiting_for", s->waiting_for);
    json_files(out, s);
    json_str_or_null(out, "last_error", s->last_error);

    jw_key(out, "held", FALSE);
    if (nonempty(s->held_file)) {
        g_string_append_c(out, '{');
        jw_key(out, "file", TRUE);
        jw_str(out, s->held_file, -1);
        jw_kuint(out, "start", s->held_start);
        jw_kuint(out, "end", s->held_end);
        json_str_or_null(out, "gtid", s->held_gtid);
        g_string_append_c(out, '}');
    } else {
        g_string_append(out, "null");
    }
    json_str_or_null(out, "start_at", v->start_at);
    json_str_or_null(out, "stop_at", v->stop_at);
    jw_kuint(out, "errors", v->errors ? v->errors->len : 0);
    g_string_append(out, "}\n");
    return g_string_free(out, FALSE);
}

/* ---- metrics ---- */

static void metric_head(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP binlogfs_%s %s\n# TYPE binlogfs_%s %s\n", name, help, name, type);
}

/* a label value: \, " and newline escaped */
static void append_label(GString *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            g_string_append_c(out, '\\');
        if (*s == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *s);
    }
}

static void metric_uint(GString *out, const char *name, guint64 v)
{
    g_string_append_printf(out, "binlogfs_%s %" G_GUINT64_FORMAT "\n", name, v);
}

static void metric_double(GString *out, const char *name, double v)
{
    g_string_append_printf(out, "binlogfs_%s ", name);
    if (isfinite(v))
        append_double(out, "%.3f", v);
    else
        g_string_append(out, "NaN");
    g_string_append_c(out, '\n');
}

static void metric_files(GString *out, const BlSnapshot *s)
{
    /* the known states first, then any other one met, in order */
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GArray) counts = g_array_new(FALSE, TRUE, sizeof(guint));
    for (guint i = 0; i < G_N_ELEMENTS(file_states); i++) {
        g_ptr_array_add(names, (gpointer)file_states[i]);
        g_array_set_size(counts, names->len);
    }
    for (guint i = 0; s->files && i < s->files->len; i++) {
        const BlFileStatus *f = g_ptr_array_index(s->files, i);
        const char *st = f->state ? f->state : "";
        guint k = 0;
        while (k < names->len && strcmp(g_ptr_array_index(names, k), st))
            k++;
        if (k == names->len) {
            g_ptr_array_add(names, (gpointer)st);
            g_array_set_size(counts, names->len);
        }
        g_array_index(counts, guint, k)++;
    }
    metric_head(out, "files", "gauge", "Binlog files in the spool known to replay, by state.");
    for (guint k = 0; k < names->len; k++) {
        g_string_append(out, "binlogfs_files{state=\"");
        append_label(out, g_ptr_array_index(names, k));
        g_string_append_printf(out, "\"} %u\n", g_array_index(counts, guint, k));
    }
}

char *fs_status_metrics(const FsStatusView *v)
{
    const BlSnapshot *s = v->snap;
    GString *out = g_string_new(NULL);

    metric_head(out, "state", "gauge", "Replay state: 1 for the current one, 0 for the others.");
    for (int st = 0; st < NSTATES; st++)
        g_string_append_printf(out, "binlogfs_state{state=\"%s\"} %d\n", bl_engine_state_name((BlEngineState)st),
                               st == (int)s->state);
    metric_head(out, "workers", "gauge", "Parallel connections to the target.");
    metric_uint(out, "workers", s->workers);

    metric_head(out, "transactions_total", "counter", "Transactions by result since the mount.");
    static const char *const results[] = { "applied", "skipped", "retried", "failed" };
    const guint64 values[] = { s->applied, s->skipped, s->retried, s->failed };
    for (guint i = 0; i < G_N_ELEMENTS(results); i++)
        g_string_append_printf(out, "binlogfs_transactions_total{result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               results[i], values[i]);
    metric_head(out, "transactions_read_total", "counter", "Transactions read from the binlogs.");
    metric_uint(out, "transactions_read_total", s->trx_total);
    metric_head(out, "bytes_applied_total", "counter", "Bytes of binlog applied.");
    metric_uint(out, "bytes_applied_total", s->bytes_applied);
    metric_head(out, "binlog_bytes", "gauge", "Bytes of the binlog files handed to replay.");
    metric_uint(out, "binlog_bytes", s->bytes_total);
    metric_head(out, "transactions_per_second", "gauge", "Recent rate of transactions applied.");
    metric_double(out, "transactions_per_second", s->trx_per_s);
    metric_head(out, "bytes_per_second", "gauge", "Recent rate of binlog bytes applied.");
    metric_double(out, "bytes_per_second", s->bytes_per_s);
    metric_head(out, "eta_seconds", "gauge", "Estimated seconds until what was handed over is applied (NaN: unknown).");
    metric_double(out, "eta_seconds", s->eta_s >= 0 ? (double)s->eta_s : NAN);

    metric_head(out, "position_bytes", "gauge",
                "End of the last transaction applied: byte offset, labelled with its file.");
    g_string_append(out, "binlogfs_position_bytes{file=\"");
    append_label(out, s->file ? s->file : "");
    g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", s->pos);
    metric_head(out, "held", "gauge", "1 when replay is held at a transaction (failed, or at the stop point).");
    metric_uint(out, "held", nonempty(s->held_file) ? 1 : 0);
    metric_files(out, s);
    metric_head(out, "errors_total", "counter", "Errors recorded (the errors file).");
    metric_uint(out, "errors_total", v->errors ? v->errors->len : 0);
    if (v->uptime_s >= 0) {
        metric_head(out, "uptime_seconds", "gauge", "Seconds since the mount.");
        metric_uint(out, "uptime_seconds", (guint64)v->uptime_s);
    }
    return g_string_free(out, FALSE);
}
