/* binlogfs — libFuzzer target for the reader and the event decoders.
 *
 * DESIGN: the input is a whole binlog file. It goes through a memfd to
 * bl_reader_open_fd, exactly the path real files take (reads, buffer
 * growth, payload and compressed events), with CRC verification off so
 * mutations get past the checksums. Every event is handed to the decoder
 * its type calls for; rows events are walked row by row against the
 * Table_map seen before them and their primary key is hashed. Everything
 * is freed: LeakSanitizer runs after each input. Criticals (g_return_if_fail)
 * abort: on any input they mean a bug, in the engine or in this target.
 *
 *   make fuzz-build && build/fuzz/fuzz-reader -max_len=65536 CORPUS...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <binlogfs/event.h>
#include <binlogfs/rows.h>

static GLogWriterOutput quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                     gpointer user_data)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return g_log_writer_standard_streams(level, fields, n_fields, user_data);
    return G_LOG_WRITER_HANDLED;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_log_set_writer_func(quiet_writer, NULL, NULL);
    g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
    return 0;
}

/* A memfd holding `data`, positioned at 0; -1 on failure. */
static int memfd_with(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Values of one image: touch every present value so ASan sees reads past
 * the event, then hash the primary key. */
static guint64 use_image(const BlTableMap *tm, const BlValue *vals)
{
    guint64 acc = 0;
    for (guint c = 0; c < tm->n_columns; c++) {
        const BlValue *v = &vals[c];
        if (v->present && !v->is_null && v->len > 0)
            acc += v->p[0] + v->p[v->len - 1];
    }
    guint64 h;
    if (tm->has_pk && bl_key_hash(tm, 0, &tm->pk, vals, &h))
        acc ^= h;
    return acc;
}

static void do_rows(BlTableCache *cache, const BlEvent *ev, const BlFormat *fmt)
{
    BlRows rows;
    g_autoptr(GError) err = NULL;
    if (!bl_rows_decode(ev, fmt, &rows, &err))
        return;
    const BlTableMap *tm = bl_table_cache_get(cache, rows.table_id);
    if (!tm)
        return;
    (void)bl_table_hash(tm->db, tm->table);
    g_autofree BlValue *before = g_new0(BlValue, tm->n_columns + 1);
    g_autofree BlValue *after = g_new0(BlValue, tm->n_columns + 1);
    BlRowIter it;
    bl_row_iter_init(&it, &rows, tm);
    volatile guint64 sink = 0;
    while (bl_row_iter_next(&it, before, after, &err)) {
        if (!rows.is_delete || rows.is_update)
            sink += use_image(tm, after);
        if (rows.is_delete || rows.is_update)
            sink += use_image(tm, before);
    }
    (void)sink;
}

static void do_gtid(const BlEvent *ev, const BlFormat *fmt)
{
    BlGtid g;
    g_autoptr(GError) err = NULL;
    if (!bl_decode_gtid(ev, fmt, &g, &err))
        return;
    char buf[96];
    (void)bl_gtid_format(&g, buf, sizeof buf);
    if (g.has_xid)
        g_free(bl_xid_format(&g.xid));
}

static void do_event(BlTableCache *cache, const BlReader *r, const BlEvent *ev)
{
    const BlFormat *fmt = bl_reader_format_for(r, ev);
    g_autoptr(GError) err = NULL;
    (void)bl_event_type_name(ev->orig_type);

    switch (ev->h.type) {
    case BL_MARIA_GTID_EVENT:
    case BL_GTID_EVENT:
    case BL_ANONYMOUS_GTID_EVENT:
    case BL_GTID_TAGGED_EVENT:
        do_gtid(ev, fmt);
        break;
    case BL_QUERY_EVENT:
    case BL_EXECUTE_LOAD_QUERY_EVENT: {
        BlQuery q;
        if (bl_decode_query(ev, fmt, &q, &err))
            (void)bl_sql_classify(q.sql, q.sql_len);
        break;
    }
    case BL_ROTATE_EVENT: {
        BlRotate rot;
        (void)bl_decode_rotate(ev, fmt, &rot, &err);
        break;
    }
    case BL_XID_EVENT: {
        guint64 xid;
        (void)bl_decode_xid(ev, fmt, &xid, &err);
        break;
    }
    case BL_INTVAR_EVENT: {
        BlIntvar iv;
        (void)bl_decode_intvar(ev, fmt, &iv, &err);
        break;
    }
    case BL_RAND_EVENT: {
        BlRand rnd;
        (void)bl_decode_rand(ev, fmt, &rnd, &err);
        break;
    }
    case BL_USER_VAR_EVENT: {
        BlUserVar uv;
        (void)bl_decode_user_var(ev, fmt, &uv, &err);
        break;
    }
    case BL_XA_PREPARE_EVENT: {
        BlXaPrepare xa;
        if (bl_decode_xa_prepare(ev, fmt, &xa, &err))
            g_free(bl_xid_format(&xa.xid));
        break;
    }
    case BL_GTID_LIST_EVENT: {
        GArray *list = NULL;
        if (bl_decode_gtid_list(ev, fmt, &list, &err))
            g_array_unref(list);
        break;
    }
    case BL_PREVIOUS_GTIDS_EVENT: {
        char *text = NULL;
        if (bl_decode_previous_gtids(ev, fmt, &text, &err))
            g_free(text);
        break;
    }
    case BL_BEGIN_LOAD_QUERY_EVENT:
    case BL_APPEND_BLOCK_EVENT: {
        BlLoadBlock lb;
        (void)bl_decode_load_block(ev, fmt, &lb, &err);
        break;
    }
    case BL_INCIDENT_EVENT: {
        BlIncident inc;
        (void)bl_decode_incident(ev, fmt, &inc, &err);
        break;
    }
    case BL_ANNOTATE_ROWS_EVENT:
    case BL_ROWS_QUERY_EVENT: {
        const char *sql;
        gsize len;
        (void)bl_decode_annotate(ev, fmt, &sql, &len, &err);
        break;
    }
    case BL_BINLOG_CHECKPOINT_EVENT: {
        const char *name;
        gsize len;
        (void)bl_decode_checkpoint(ev, fmt, &name, &len, &err);
        break;
    }
    case BL_TRANSACTION_PAYLOAD_EVENT: {
        BlPayload pl;
        (void)bl_decode_payload(ev, fmt, &pl, &err);
        break;
    }
    case BL_TABLE_MAP_EVENT:
        (void)bl_table_cache_put(cache, ev, fmt, &err);
        break;
    default:
        if (bl_event_is_rows(ev->h.type))
            do_rows(cache, ev, fmt);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_with(data, size);
    if (fd < 0)
        abort(); /* the environment, not the input: stop loudly */
    g_autoptr(GError) err = NULL;
    g_autoptr(BlReader) r = bl_reader_open_fd(fd, "fuzz", &err);
    if (!r)
        return 0;
    bl_reader_set_verify_checksums(r, FALSE);
    (void)bl_reader_format(r);
    g_autoptr(BlTableCache) cache = bl_table_cache_new();
    const BlEvent *ev;
    while (bl_reader_next(r, &ev, &err)) {
        g_assert(ev->data != NULL);
        do_event(cache, r, ev);
        (void)bl_reader_position(r);
    }
    (void)bl_reader_peak_buffer(r);
    return 0;
}
