/* binlogfs — the mount's rendered files (fs/status.c): status.json with
 * the contract's keys (parsed back with json-glib), the progress line,
 * the errors file, Prometheus metrics, the human status; numbers with '.'
 * whatever the locale. Hand-made snapshots, no server, no mount. */
#include <locale.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "../../fs/status.h"

static BlFileStatus *file(const char *name, guint64 size, const char *state, const char *error)
{
    BlFileStatus *f = g_new0(BlFileStatus, 1);
    f->name = g_strdup(name);
    f->size = size;
    f->state = g_strdup(state);
    f->error = g_strdup(error);
    return f;
}

/* A replay under way: two files applied, one reading, one refused. */
static BlSnapshot *busy_snapshot(void)
{
    BlSnapshot *s = g_new0(BlSnapshot, 1);
    s->state = BL_STATE_RUNNING;
    s->workers = 8;
    s->file = g_strdup("mysql-bin.000003");
    s->pos = 4711;
    s->gtid = g_strdup("0-1-99");
    s->applied = 420;
    s->skipped = 5;
    s->retried = 3;
    s->failed = 0;
    s->trx_total = 1000;
    s->bytes_applied = 3 << 20;
    s->bytes_total = 12 << 20;
    s->trx_per_s = 350.4;
    s->bytes_per_s = 1.5 * 1024 * 1024;
    s->eta_s = 3 * 3600 + 25 * 60 + 7;
    s->files = g_ptr_array_new_with_free_func(g_free) /* as the engine's: bl_snapshot_free frees the fields */;
    g_ptr_array_add(s->files, file("mysql-bin.000002", 1000, "applied", NULL));
    g_ptr_array_add(s->files, file("mysql-bin.000003", 2000, "reading", NULL));
    g_ptr_array_add(s->files, file("notes.txt", 12, "rejected", "notes.txt: not a binlog (no \"magic\")\nat all"));
    return s;
}

static BlSnapshot *empty_snapshot(void)
{
    BlSnapshot *s = g_new0(BlSnapshot, 1);
    s->state = BL_STATE_IDLE;
    s->workers = 4;
    s->file = g_strdup("");
    s->gtid = g_strdup("");
    s->eta_s = -1;
    s->files = g_ptr_array_new_with_free_func(g_free) /* as the engine's: bl_snapshot_free frees the fields */;
    return s;
}

static GPtrArray *two_errors(void)
{
    GPtrArray *e = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(e, g_strdup("2026-01-02 03:04:05 control/workers: 'lots' is not a number"));
    g_ptr_array_add(e, g_strdup("2026-01-02 03:04:06 mysql-bin.000003:4711 GTID 0-1-100: error 1062\nDuplicate"));
    return e;
}

static JsonObject *parse_object(const char *text, JsonParser *p)
{
    GError *error = NULL;
    if (!json_parser_load_from_data(p, text, -1, &error))
        g_error("not JSON: %s\n%s", error->message, text);
    JsonNode *root = json_parser_get_root(p);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

static void test_json_keys(void)
{
    g_autoptr(BlSnapshot) s = busy_snapshot();
    g_autoptr(GPtrArray) errors = two_errors();
    FsStatusView v = { .snap = s, .errors = errors, .start_at = "mysql-bin.000002:4", .stop_at = "" };
    g_autofree char *text = fs_status_json(&v);
    g_assert_true(g_str_has_suffix(text, "}\n"));
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_object(text, p);
    static const char *const keys[] = { "state", "workers", "position", "transactions", "bytes", "rate",
                                        "eta_s", "waiting_for", "files", "last_error" };
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
        if (!json_object_has_member(o, keys[i]))
            g_error("status.json lacks \"%s\": %s", keys[i], text);
    g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "running");
    g_assert_cmpint(json_object_get_int_member(o, "workers"), ==, 8);
    JsonObject *pos = json_object_get_object_member(o, "position");
    g_assert_cmpstr(json_object_get_string_member(pos, "file"), ==, "mysql-bin.000003");
    g_assert_cmpint(json_object_get_int_member(pos, "pos"), ==, 4711);
    g_assert_cmpstr(json_object_get_string_member(pos, "gtid"), ==, "0-1-99");
    JsonObject *trx = json_object_get_object_member(o, "transactions");
    g_assert_cmpint(json_object_get_int_member(trx, "applied"), ==, 420);
    g_assert_cmpint(json_object_get_int_member(trx, "skipped"), ==, 5);
    g_assert_cmpint(json_object_get_int_member(trx, "retried"), ==, 3);
    g_assert_cmpint(json_object_get_int_member(trx, "failed"), ==, 0);
    JsonObject *bytes = json_object_get_object_member(o, "bytes");
    g_assert_cmpint(json_object_get_int_member(bytes, "applied"), ==, 3 << 20);
    g_assert_cmpint(json_object_get_int_member(bytes, "total"), ==, 12 << 20);
    JsonObject *rate = json_object_get_object_member(o, "rate");
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(rate, "transactions_per_s"), 350.4, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(rate, "bytes_per_s"), 1.5 * 1024 * 1024, 1e-3);
    g_assert_cmpint(json_object_get_int_member(o, "eta_s"), ==, 12307);
    g_assert_true(json_object_get_null_member(o, "waiting_for"));
    g_assert_true(json_object_get_null_member(o, "held"));
    g_assert_cmpstr(json_object_get_string_member(o, "start_at"), ==, "mysql-bin.000002:4");
    g_assert_true(json_object_get_null_member(o, "stop_at"));
    g_assert_cmpint(json_object_get_int_member(o, "errors"), ==, 2);
    JsonArray *files = json_object_get_array_member(o, "files");
    g_assert_cmpuint(json_array_get_length(files), ==, 3);
    JsonObject *f0 = json_array_get_object_element(files, 0);
    g_assert_cmpstr(json_object_get_string_member(f0, "name"), ==, "mysql-bin.000002");
    g_assert_cmpint(json_object_get_int_member(f0, "size"), ==, 1000);
    g_assert_cmpstr(json_object_get_string_member(f0, "state"), ==, "applied");
    g_assert_true(json_object_get_null_member(f0, "error"));
    JsonObject *f2 = json_array_get_object_element(files, 2);
    g_assert_cmpstr(json_object_get_string_member(f2, "error"), ==, "notes.txt: not a binlog (no \"magic\")\nat all");
    g_assert_true(json_object_get_null_member(o, "last_error"));
}

static void test_json_held_and_unknowns(void)
{
    g_autoptr(BlSnapshot) s = empty_snapshot();
    s->state = BL_STATE_FAILED;
    s->held_file = g_strdup("mysql-bin.000009");
    s->held_start = 120;
    s->held_end = 900;
    s->held_gtid = g_strdup("0-1-7");
    s->last_error = g_strdup("mysql-bin.000009:120: error 1146: Table 'a.b' doesn't exist");
    s->waiting_for = g_strdup("");
    FsStatusView v = { .snap = s };
    g_autofree char *text = fs_status_json(&v);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_object(text, p);
    g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "failed");
    g_assert_true(json_object_get_null_member(o, "eta_s"));
    g_assert_true(json_object_get_null_member(o, "waiting_for"));
    g_assert_true(json_object_get_null_member(o, "start_at"));
    g_assert_cmpint(json_object_get_int_member(o, "errors"), ==, 0);
    g_assert_cmpstr(json_object_get_string_member(o, "last_error"), ==, s->last_error);
    JsonObject *held = json_object_get_object_member(o, "held");
    g_assert_cmpstr(json_object_get_string_member(held, "file"), ==, "mysql-bin.000009");
    g_assert_cmpint(json_object_get_int_member(held, "start"), ==, 120);
    g_assert_cmpint(json_object_get_int_member(held, "end"), ==, 900);
    g_assert_cmpstr(json_object_get_string_member(held, "gtid"), ==, "0-1-7");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "files")), ==, 0);
}

static void test_progress(void)
{
    g_autoptr(BlSnapshot) s = busy_snapshot();
    g_autofree char *line = fs_status_progress(s);
    g_assert_cmpstr(line, ==, "25.0% 425/1000 trx 350 trx/s ETA 03:25:07\n");
    g_autoptr(BlSnapshot) e = empty_snapshot();
    g_autofree char *none = fs_status_progress(e);
    g_assert_cmpstr(none, ==, "0.0% 0/0 trx 0 trx/s ETA --:--:--\n");
    /* more applied than the total read so far (counters over restarts): never above */
    e->applied = 10;
    e->bytes_total = 100;
    e->bytes_applied = 150;
    e->eta_s = 100 * 3600;
    g_autofree char *over = fs_status_progress(e);
    g_assert_cmpstr(over, ==, "100.0% 10/10 trx 0 trx/s ETA 100:00:00\n");
}

static void test_errors(void)
{
    g_autoptr(GPtrArray) errors = two_errors();
    g_autofree char *text = fs_status_errors(errors);
    g_assert_cmpstr(text, ==,
                    "2026-01-02 03:04:05 control/workers: 'lots' is not a number\n"
                    "2026-01-02 03:04:06 mysql-bin.000003:4711 GTID 0-1-100: error 1062 Duplicate\n");
    g_autofree char *empty = fs_status_errors(NULL);
    g_assert_cmpstr(empty, ==, "");
}

/* Every line is a comment (# HELP/# TYPE) or "name{labels} value";
 * every sample's metric has a TYPE. */
static void check_exposition(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GHashTable) typed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GRegex) sample = g_regex_new("^(binlogfs_[a-z_]+)(\\{[a-z_]+=\"[^\"]*\"\\})? (-?[0-9]+(\\.[0-9]+)?|NaN)$",
                                          0, 0, NULL);
    g_autoptr(GRegex) type = g_regex_new("^# TYPE (binlogfs_[a-z_]+) (gauge|counter)$", 0, 0, NULL);
    for (char **l = lines; *l; l++) {
        if (!**l) {
            g_assert_null(l[1]); /* only the final newline */
            continue;
        }
        g_autoptr(GMatchInfo) mi = NULL;
        if (g_str_has_prefix(*l, "# HELP binlogfs_"))
            continue;
        if (g_regex_match(type, *l, 0, &mi)) {
            g_hash_table_add(typed, g_match_info_fetch(mi, 1));
            continue;
        }
        g_clear_pointer(&mi, g_match_info_free);
        if (!g_regex_match(sample, *l, 0, &mi))
            g_error("not exposition format: '%s'", *l);
        g_autofree char *name = g_match_info_fetch(mi, 1);
        if (!g_hash_table_contains(typed, name))
            g_error("sample before its # TYPE: '%s'", *l);
    }
}

static void test_metrics(void)
{
    g_autoptr(BlSnapshot) s = busy_snapshot();
    g_autoptr(GPtrArray) errors = two_errors();
    FsStatusView v = { .snap = s, .errors = errors, .uptime_s = 61 };
    g_autofree char *text = fs_status_metrics(&v);
    check_exposition(text);
    g_assert_nonnull(strstr(text, "\nbinlogfs_state{state=\"running\"} 1\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_state{state=\"idle\"} 0\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_workers 8\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_transactions_total{result=\"applied\"} 420\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_transactions_total{result=\"retried\"} 3\n"));
    g_assert_nonnull(strstr(text, "# TYPE binlogfs_transactions_total counter\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_bytes_applied_total 3145728\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_transactions_per_second 350.400\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_eta_seconds 12307.000\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_position_bytes{file=\"mysql-bin.000003\"} 4711\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_files{state=\"applied\"} 1\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_files{state=\"rejected\"} 1\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_files{state=\"failed\"} 0\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_errors_total 2\n"));
    g_assert_nonnull(strstr(text, "\nbinlogfs_uptime_seconds 61\n"));

    g_autoptr(BlSnapshot) e = empty_snapshot();
    FsStatusView ve = { .snap = e, .uptime_s = -1 };
    g_autofree char *idle = fs_status_metrics(&ve);
    check_exposition(idle);
    g_assert_nonnull(strstr(idle, "\nbinlogfs_eta_seconds NaN\n"));
    g_assert_null(strstr(idle, "uptime"));
    g_assert_nonnull(strstr(idle, "\nbinlogfs_state{state=\"idle\"} 1\n"));
}

static void test_metrics_label_escaping(void)
{
    g_autoptr(BlSnapshot) s = empty_snapshot();
    g_free(s->file);
    s->file = g_strdup("we\"ird\\name");
    FsStatusView v = { .snap = s, .uptime_s = -1 };
    g_autofree char *text = fs_status_metrics(&v);
    g_assert_nonnull(strstr(text, "binlogfs_position_bytes{file=\"we\\\"ird\\\\name\"} 0\n"));
}

static void test_text(void)
{
    g_autoptr(BlSnapshot) s = busy_snapshot();
    g_autoptr(GPtrArray) errors = two_errors();
    s->waiting_for = g_strdup("mysql-bin.000004");
    FsStatusView v = { .snap = s, .errors = errors, .stop_at = "0-1-500" };
    g_autofree char *text = fs_status_text(&v);
    g_assert_true(g_str_has_prefix(text, "state:        running\n"));
    g_assert_nonnull(strstr(text, "\nposition:     mysql-bin.000003:4711\n"));
    g_assert_nonnull(strstr(text, "\ngtid:         0-1-99\n"));
    g_assert_nonnull(strstr(text, "\ntransactions: 420 applied, 5 skipped, 3 retried, 0 failed (1000 read)\n"));
    g_assert_nonnull(strstr(text, "\nbytes:        3.0 MiB of 12.0 MiB (25.0%)\n"));
    g_assert_nonnull(strstr(text, "\nrate:         350 trx/s, 1.5 MiB/s\n"));
    g_assert_nonnull(strstr(text, "\neta:          03:25:07\n"));
    g_assert_nonnull(strstr(text, "\nwaiting for:  mysql-bin.000004\n"));
    g_assert_nonnull(strstr(text, "\nstart-at:     (none)\n"));
    g_assert_nonnull(strstr(text, "\nstop-at:      0-1-500\n"));
    g_assert_nonnull(strstr(text, "\nerrors:       2\n"));
    g_assert_nonnull(strstr(text, "\nfiles:        3\n"));
    /* a file's error stays on its line */
    g_assert_nonnull(strstr(text, "rejected: notes.txt: not a binlog (no \"magic\") at all\n"));
    g_assert_null(strstr(text, "held at:"));

    g_autoptr(BlSnapshot) e = empty_snapshot();
    FsStatusView ve = { .snap = e };
    g_autofree char *idle = fs_status_text(&ve);
    g_assert_nonnull(strstr(idle, "\nposition:     (none yet)\n"));
    g_assert_nonnull(strstr(idle, "\nlast error:   (none)\n"));
}

/* A locale with a decimal comma must not leak into what scripts parse. */
static void test_locale(void)
{
    const char *locales[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8" };
    g_autofree char *set = NULL; /* a copy: the next setlocale frees setlocale's string */
    for (guint i = 0; i < G_N_ELEMENTS(locales) && !set; i++)
        set = g_strdup(setlocale(LC_NUMERIC, locales[i]));
    g_autoptr(BlSnapshot) s = busy_snapshot();
    FsStatusView v = { .snap = s, .uptime_s = -1 };
    g_autofree char *json = fs_status_json(&v);
    g_autofree char *progress = fs_status_progress(s);
    g_autofree char *metrics = fs_status_metrics(&v);
    setlocale(LC_NUMERIC, "C");
    g_assert_nonnull(strstr(json, "\"transactions_per_s\":350.400"));
    g_assert_true(g_str_has_prefix(progress, "25.0% "));
    check_exposition(metrics);
    if (!set || g_str_has_prefix(set, "C"))
        g_test_message("no locale with a decimal comma installed: checked in C only");
}

static void test_hms(void)
{
    char buf[32];
    fs_format_hms(0, buf, sizeof buf);
    g_assert_cmpstr(buf, ==, "00:00:00");
    fs_format_hms(3599, buf, sizeof buf);
    g_assert_cmpstr(buf, ==, "00:59:59");
    fs_format_hms(-1, buf, sizeof buf);
    g_assert_cmpstr(buf, ==, "--:--:--");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/status/json/keys", test_json_keys);
    g_test_add_func("/status/json/held-and-unknowns", test_json_held_and_unknowns);
    g_test_add_func("/status/progress", test_progress);
    g_test_add_func("/status/errors", test_errors);
    g_test_add_func("/status/metrics", test_metrics);
    g_test_add_func("/status/metrics/label-escaping", test_metrics_label_escaping);
    g_test_add_func("/status/text", test_text);
    g_test_add_func("/status/locale", test_locale);
    g_test_add_func("/status/hms", test_hms);
    return g_test_run();
}
