/* binlogfs — `binlogfs inspect`: events, transactions or a summary of
 * binlog files, as text or JSON, without a server.
 *
 * DESIGN: one pass over the files in the order given, through the same
 * reader, transaction builder and dependency trackers the replay engine
 * uses, so the summary's parallelism figures are what a replay would see
 * (with primary keys from the binlog's metadata only: tables without it
 * are treated as one key, which is conservative). A file that fails is
 * reported with file:offset and where its last complete transaction ends;
 * the other files are still read; the exit status is then 1.
 */
#include <stdio.h>
#include <string.h>

#include <binlogfs/depend.h>
#include <binlogfs/event.h>
#include <binlogfs/reader.h>
#include <binlogfs/trx.h>

#include "commands.h"
#include "describe.h"
#include "jsonw.h"

typedef enum { MODE_SUMMARY, MODE_EVENTS, MODE_TRANSACTIONS } Mode;

typedef struct {
    Mode mode;
    gboolean json;
    gboolean no_verify;
    GString *out;
    /* summary */
    guint64 files, bytes, events, type_count[256];
    guint64 trx, trx_kind[8], incomplete, rolled_back, rows, no_keys;
    GHashTable *barriers; /* reason -> count */
    GHashTable *tables;   /* name -> transactions */
    char first_gtid[96], last_gtid[96];
    guint64 first_time_us, last_time_us;
    BlDepTracker *dep;
    BlHintTracker hints;
    BlLevels *lv_ws, *lv_hint;
    guint64 max_trx_bytes;
    gsize peak_buffer;
    gboolean new_file;
    gint64 t0;
} Inspect;

static void flush_out(Inspect *in, gboolean force)
{
    if (in->out->len >= (force ? 1 : 1u << 16)) {
        fwrite(in->out->str, 1, in->out->len, stdout);
        g_string_truncate(in->out, 0);
    }
}

static void format_time(guint64 us, char *buf, gsize len, gboolean utc)
{
    g_autoptr(GDateTime) dt = utc ? g_date_time_new_from_unix_utc((gint64)(us / G_USEC_PER_SEC))
                                  : g_date_time_new_from_unix_local((gint64)(us / G_USEC_PER_SEC));
    g_autofree char *s = dt ? g_date_time_format(dt, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S")
                            : g_strdup("?");
    g_strlcpy(buf, s, len);
}

static void print_trx(Inspect *in, const BlReader *r, const BlTrx *t, guint64 dep_ws, guint64 dep_hint)
{
    char gtid[96], when[32];
    bl_gtid_format(&t->gtid, gtid, sizeof gtid);
    GString *o = in->out;
    const char *barrier = bl_trx_barrier_reason(t);
    if (in->json) {
        format_time(t->commit_time_us, when, sizeof when, TRUE);
        g_string_append_c(o, '{');
        jw_key(o, "file", TRUE);
        jw_str(o, bl_reader_name(r), -1);
        jw_kuint(o, "seq", t->seq);
        jw_kuint(o, "start", t->start_pos);
        jw_kuint(o, "end", t->end_pos);
        jw_kstr(o, "gtid", gtid, -1);
        jw_kstr(o, "kind", bl_trx_kind_name(t->kind), -1);
        jw_kstr(o, "commit_time", when, -1);
        jw_kuint(o, "commit_time_us", t->commit_time_us);
        jw_kuint(o, "events", t->n_events);
        jw_kuint(o, "rows", t->n_rows);
        jw_kuint(o, "bytes", t->bytes);
        jw_kuint(o, "keys", t->keys->len);
        jw_kuint(o, "depends_on", dep_ws);
        jw_kuint(o, "source_depends_on", dep_hint);
        if (barrier)
            jw_kstr(o, "barrier", barrier, -1);
        jw_kbool(o, "complete", !(t->flags & BL_TRXF_INCOMPLETE));
        jw_key(o, "tables", FALSE);
        g_string_append_c(o, '[');
        for (guint i = 0; i < t->tables->len; i++) {
            if (i)
                g_string_append_c(o, ',');
            jw_str(o, g_ptr_array_index(t->tables, i), -1);
        }
        g_string_append(o, "]}\n");
        return;
    }
    format_time(t->commit_time_us, when, sizeof when, FALSE);
    g_string_append_printf(o, "%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " %s %s %s rows=%" G_GUINT64_FORMAT
                           " events=%u bytes=%" G_GUINT64_FORMAT " dep=%" G_GUINT64_FORMAT,
                           t->start_pos, t->end_pos, gtid[0] ? gtid : "-", bl_trx_kind_name(t->kind),
                           when, t->n_rows, t->n_events, t->bytes, dep_ws);
    if (t->tables->len) {
        g_string_append(o, " tables=");
        for (guint i = 0; i < t->tables->len; i++)
            g_string_append_printf(o, "%s%s", i ? "," : "", (char *)g_ptr_array_index(t->tables, i));
    }
    if (barrier)
        g_string_append_printf(o, " barrier=%s", barrier);
    if (t->flags & BL_TRXF_INCOMPLETE)
        g_string_append(o, " INCOMPLETE");
    if (t->flags & BL_TRXF_ROLLED_BACK)
        g_string_append(o, " ROLLBACK");
    g_string_append_c(o, '\n');
}

/* Counters in a table of string -> guint64 (both owned by the table). */
static void count(GHashTable *h, const char *key)
{
    guint64 *v = g_hash_table_lookup(h, key);
    if (!v) {
        v = g_new0(guint64, 1);
        g_hash_table_insert(h, g_strdup(key), v);
    }
    (*v)++;
}

static void on_trx(Inspect *in, const BlReader *r, BlTrx *t)
{
    guint64 dep_ws = bl_dep_add(in->dep, t);
    guint64 dep_hint = bl_hint_dep(&in->hints, t, in->new_file);
    in->new_file = FALSE;
    if (in->mode == MODE_TRANSACTIONS)
        print_trx(in, r, t, dep_ws, dep_hint);
    bl_levels_add(in->lv_ws, t->seq, dep_ws);
    bl_levels_add(in->lv_hint, t->seq, dep_hint);
    in->trx++;
    in->trx_kind[t->kind]++;
    in->rows += t->n_rows;
    in->max_trx_bytes = MAX(in->max_trx_bytes, t->bytes);
    if (t->flags & BL_TRXF_INCOMPLETE)
        in->incomplete++;
    if (t->flags & BL_TRXF_ROLLED_BACK)
        in->rolled_back++;
    if (t->flags & BL_TRXF_NO_KEYS)
        in->no_keys++;
    const char *reason = bl_trx_barrier_reason(t);
    if (reason)
        count(in->barriers, reason);
    for (guint i = 0; i < t->tables->len; i++) {
        gpointer name = g_ptr_array_index(t->tables, i);
        guint64 *v = g_hash_table_lookup(in->tables, name);
        if (!v) {
            v = g_new0(guint64, 1);
            g_hash_table_insert(in->tables, name, v);
        }
        (*v)++;
    }
    if (t->gtid.kind != BL_GTID_NONE) {
        char buf[96];
        bl_gtid_format(&t->gtid, buf, sizeof buf);
        if (!in->first_gtid[0])
            g_strlcpy(in->first_gtid, buf, sizeof in->first_gtid);
        g_strlcpy(in->last_gtid, buf, sizeof in->last_gtid);
    }
    if (t->commit_time_us) {
        if (!in->first_time_us || t->commit_time_us < in->first_time_us)
            in->first_time_us = t->commit_time_us;
        in->last_time_us = MAX(in->last_time_us, t->commit_time_us);
    }
    bl_trx_free(t);
}

/* Reads one file; FALSE (and a message on stderr) if it failed. */
static gboolean inspect_file(Inspect *in, const char *path, BlTrxBuilder *b, BlTableCache *tables)
{
    GError *error = NULL;
    g_autoptr(BlReader) r = bl_reader_open(path, path, &error);
    if (!r) {
        g_printerr("binlogfs: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    bl_reader_set_verify_checksums(r, !in->no_verify);
    in->files++;
    in->new_file = TRUE;
    if (in->mode == MODE_EVENTS && !in->json)
        g_string_append_printf(in->out, "# %s\n", path);
    const BlEvent *ev;
    gboolean ok = TRUE;
    while (bl_reader_next(r, &ev, &error)) {
        in->events++;
        in->type_count[ev->orig_type]++;
        if (in->mode == MODE_EVENTS && !bl_describe_event(in->out, in->json, r, ev, tables, &error)) {
            ok = FALSE;
            break;
        }
        BlTrx *done, *cut;
        if (!bl_trx_builder_feed(b, r, ev, &done, &cut, &error)) {
            ok = FALSE;
            break;
        }
        if (cut)
            on_trx(in, r, cut);
        if (done)
            on_trx(in, r, done);
        flush_out(in, FALSE);
    }
    if (error)
        ok = FALSE;
    BlTrx *open_trx = bl_trx_builder_finish(b);
    if (open_trx)
        on_trx(in, r, open_trx);
    in->bytes += bl_reader_position(r);
    in->peak_buffer = MAX(in->peak_buffer, bl_reader_peak_buffer(r));
    flush_out(in, TRUE);
    if (!ok) {
        g_printerr("binlogfs: %s\n", error->message);
        if (error->code == BL_ERROR_TRUNCATED || error->code == BL_ERROR_CHECKSUM ||
            error->code == BL_ERROR_CORRUPT)
            g_printerr("binlogfs: %s: the last complete transaction ends at offset %" G_GUINT64_FORMAT
                       " (%s:%" G_GUINT64_FORMAT ")\n",
                       path, bl_trx_builder_last_complete(b), path, bl_trx_builder_last_complete(b));
        g_error_free(error);
    } else if (open_trx) {
        g_printerr("binlogfs: %s: ends inside a transaction that never committed (from offset %" G_GUINT64_FORMAT
                   "): the server stopped mid-write; it will not be replayed\n",
                   path, bl_trx_builder_last_complete(b));
    }
    return ok;
}

static double ratio(guint64 n, guint64 path)
{
    return path ? (double)n / (double)path : 0.0;
}

static void print_summary(Inspect *in)
{
    double secs = (double)(g_get_monotonic_time() - in->t0) / G_USEC_PER_SEC;
    guint64 cp_ws = bl_levels_critical_path(in->lv_ws), cp_hint = bl_levels_critical_path(in->lv_hint);
    char t1[32] = "", t2[32] = "";
    if (in->first_time_us) {
        format_time(in->first_time_us, t1, sizeof t1, !!in->json);
        format_time(in->last_time_us, t2, sizeof t2, !!in->json);
    }
    GString *o = in->out;
    GHashTableIter it;
    gpointer k, v;
    if (in->json) {
        g_string_append_c(o, '{');
        jw_key(o, "files", TRUE);
        g_string_append_printf(o, "%" G_GUINT64_FORMAT, in->files);
        jw_kuint(o, "bytes", in->bytes);
        jw_kuint(o, "events", in->events);
        jw_key(o, "event_types", FALSE);
        g_string_append_c(o, '{');
        gboolean first = TRUE;
        for (int i = 0; i < 256; i++) {
            if (!in->type_count[i])
                continue;
            const char *name = bl_event_type_name((guint8)i);
            char buf[32];
            if (!name) {
                g_snprintf(buf, sizeof buf, "Unknown_%d", i);
                name = buf;
            }
            jw_key(o, name, first);
            g_string_append_printf(o, "%" G_GUINT64_FORMAT, in->type_count[i]);
            first = FALSE;
        }
        g_string_append_c(o, '}');
        jw_kuint(o, "transactions", in->trx);
        jw_key(o, "transaction_kinds", FALSE);
        g_string_append_c(o, '{');
        for (int i = 0; i <= BL_TRX_EMPTY; i++) {
            jw_key(o, bl_trx_kind_name((BlTrxKind)i), i == 0);
            g_string_append_printf(o, "%" G_GUINT64_FORMAT, in->trx_kind[i]);
        }
        g_string_append_c(o, '}');
        jw_kuint(o, "incomplete", in->incomplete);
        jw_kuint(o, "rolled_back", in->rolled_back);
        jw_kuint(o, "rows", in->rows);
        jw_kuint(o, "largest_transaction_bytes", in->max_trx_bytes);
        jw_kstr(o, "first_gtid", in->first_gtid, -1);
        jw_kstr(o, "last_gtid", in->last_gtid, -1);
        jw_kstr(o, "first_commit", t1, -1);
        jw_kstr(o, "last_commit", t2, -1);
        jw_key(o, "tables", FALSE);
        g_string_append_c(o, '{');
        first = TRUE;
        g_hash_table_iter_init(&it, in->tables);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            jw_key(o, k, first);
            g_string_append_printf(o, "%" G_GUINT64_FORMAT, *(guint64 *)v);
            first = FALSE;
        }
        g_string_append_c(o, '}');
        jw_key(o, "barriers", FALSE);
        g_string_append_c(o, '{');
        first = TRUE;
        g_hash_table_iter_init(&it, in->barriers);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            jw_key(o, k, first);
            g_string_append_printf(o, "%" G_GUINT64_FORMAT, *(guint64 *)v);
            first = FALSE;
        }
        g_string_append_c(o, '}');
        jw_key(o, "parallelism", FALSE);
        g_string_append_c(o, '{');
        jw_key(o, "writeset_critical_path", TRUE);
        g_string_append_printf(o, "%" G_GUINT64_FORMAT, cp_ws);
        jw_kdouble(o, "writeset", ratio(in->trx, cp_ws));
        jw_kuint(o, "source_hints_critical_path", cp_hint);
        jw_kdouble(o, "source_hints", ratio(in->trx, cp_hint));
        jw_kuint(o, "transactions_without_keys", in->no_keys);
        g_string_append_c(o, '}');
        jw_kdouble(o, "read_seconds", secs);
        jw_kuint(o, "peak_buffer_bytes", in->peak_buffer);
        g_string_append(o, "}\n");
        return;
    }
    g_string_append_printf(o, "files:          %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " bytes)\n",
                           in->files, in->bytes);
    g_string_append_printf(o, "events:         %" G_GUINT64_FORMAT "\n", in->events);
    for (int i = 0; i < 256; i++)
        if (in->type_count[i])
            g_string_append_printf(o, "  %-26s %" G_GUINT64_FORMAT "\n",
                                   bl_event_type_name((guint8)i) ? bl_event_type_name((guint8)i) : "Unknown",
                                   in->type_count[i]);
    g_string_append_printf(o, "transactions:   %" G_GUINT64_FORMAT, in->trx);
    for (int i = 0; i <= BL_TRX_EMPTY; i++)
        if (in->trx_kind[i])
            g_string_append_printf(o, "%s %s %" G_GUINT64_FORMAT, i ? "," : " (", bl_trx_kind_name((BlTrxKind)i),
                                   in->trx_kind[i]);
    g_string_append(o, in->trx ? ")\n" : "\n");
    if (in->incomplete)
        g_string_append_printf(o, "  incomplete (never committed, not replayed): %" G_GUINT64_FORMAT "\n",
                               in->incomplete);
    if (in->rolled_back)
        g_string_append_printf(o, "  rolled back: %" G_GUINT64_FORMAT "\n", in->rolled_back);
    g_string_append_printf(o, "rows:           %" G_GUINT64_FORMAT "\n", in->rows);
    g_string_append_printf(o, "largest trx:    %" G_GUINT64_FORMAT " bytes\n", in->max_trx_bytes);
    if (in->first_gtid[0])
        g_string_append_printf(o, "GTIDs:          %s .. %s\n", in->first_gtid, in->last_gtid);
    if (t1[0])
        g_string_append_printf(o, "commit times:   %s .. %s\n", t1, t2);
    g_string_append_printf(o, "tables:         %u\n", g_hash_table_size(in->tables));
    g_hash_table_iter_init(&it, in->tables);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_string_append_printf(o, "  %-40s %" G_GUINT64_FORMAT " trx\n", (char *)k, *(guint64 *)v);
    if (g_hash_table_size(in->barriers)) {
        g_string_append(o, "barriers (run alone):\n");
        g_hash_table_iter_init(&it, in->barriers);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_string_append_printf(o, "  %-26s %" G_GUINT64_FORMAT "\n", (char *)k, *(guint64 *)v);
    }
    g_string_append(o, "potential parallelism (transactions at once, unlimited workers, commit order kept):\n");
    g_string_append_printf(o, "  by write sets:      %.1f (critical path %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ")\n",
                           ratio(in->trx, cp_ws), cp_ws, in->trx);
    g_string_append_printf(o, "  by source's hints:  %.1f (critical path %" G_GUINT64_FORMAT ")\n",
                           ratio(in->trx, cp_hint), cp_hint);
    if (in->no_keys)
        g_string_append_printf(o, "  %" G_GUINT64_FORMAT " transactions touch tables whose keys the binlog does not "
                               "carry (binlog_row_metadata=FULL gives them): counted as whole-table writes\n",
                               in->no_keys);
    g_string_append_printf(o, "read in %.2f s (%.0f MiB/s)\n", secs,
                           secs > 0 ? (double)in->bytes / 1048576.0 / secs : 0.0);
}

static void usage_error(const char *msg)
{
    g_printerr("binlogfs inspect: %s\nTry 'binlogfs inspect --help'.\n", msg);
}

int cmd_inspect(int argc, char **argv)
{
    gboolean events = FALSE, transactions = FALSE, summary = FALSE, json = FALSE, no_verify = FALSE;
    GOptionEntry entries[] = {
        { "events", 'e', 0, G_OPTION_ARG_NONE, &events, "One line per event, starting with its byte offset", NULL },
        { "transactions", 't', 0, G_OPTION_ARG_NONE, &transactions, "One line per transaction", NULL },
        { "summary", 's', 0, G_OPTION_ARG_NONE, &summary, "Counts, ranges and potential parallelism (default)", NULL },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "JSON: one object per line for --events/--transactions, one object for --summary", NULL },
        { "no-verify-checksums", 0, 0, G_OPTION_ARG_NONE, &no_verify, "Do not verify CRC32 checksums", NULL },
        { NULL },
    };
    g_set_prgname("binlogfs inspect");
    g_autoptr(GOptionContext) ctx = g_option_context_new("BINLOG... - read binlogs without a server");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Reads MySQL (5.6 to 9.x) and MariaDB (10.x, 11.x) binary logs, verifies their\n"
        "checksums, and prints their events, their transactions, or a summary with the\n"
        "parallelism a replay can expect. Errors name the file and byte offset.\n"
        "Exit status: 0 if every file was read completely, 1 otherwise, 2 on usage errors.");
    GError *error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        usage_error(error->message);
        g_error_free(error);
        return 2;
    }
    if (events + transactions + summary > 1) {
        usage_error("choose one of --events, --transactions, --summary");
        return 2;
    }
    if (argc < 2) {
        usage_error("no binlog file given");
        return 2;
    }
    Inspect in = { 0 };
    in.mode = events ? MODE_EVENTS : transactions ? MODE_TRANSACTIONS : MODE_SUMMARY;
    in.json = json;
    in.no_verify = no_verify;
    in.out = g_string_sized_new(1 << 17);
    in.barriers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    in.tables = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free); /* interned names */
    in.dep = bl_dep_new(1u << 20);
    bl_hint_init(&in.hints);
    in.lv_ws = bl_levels_new();
    in.lv_hint = bl_levels_new();
    in.t0 = g_get_monotonic_time();
    g_autoptr(BlTrxBuilder) b = bl_trx_builder_new(NULL);
    g_autoptr(BlTableCache) tables = bl_table_cache_new();
    int status = 0;
    for (int i = 1; i < argc; i++)
        if (!inspect_file(&in, argv[i], b, tables))
            status = 1;
    if (in.mode == MODE_SUMMARY)
        print_summary(&in);
    flush_out(&in, TRUE);
    fflush(stdout);
    g_string_free(in.out, TRUE);
    g_hash_table_destroy(in.barriers);
    g_hash_table_destroy(in.tables);
    bl_dep_free(in.dep);
    bl_levels_free(in.lv_ws);
    bl_levels_free(in.lv_hint);
    return status;
}
