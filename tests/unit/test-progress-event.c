/* Unit tests: the progress row update as binlog row events
 * (replay/progress-event.c), compared byte for byte with the events
 * MariaDB 10.11 itself logged for the same update of binlogfs.progress,
 * and read back with binlogfs's own Table_map and rows decoders. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <binlogfs/reader.h>
#include <binlogfs/rows.h>

#include "progress-event.h"

/* Logged by mariadbd 10.11.19 (binlog_format=ROW, binlog_row_image=FULL)
 * for UPDATE binlogfs.progress SET file='source-bin.000002', pos=100,
 * gtid='0-1-1', wm_file='source-bin.000002', wm_pos=90,
 * updated='2026-11-27 02:39:25.414000' WHERE worker=5, on the table
 * bl_progress_setup makes (latin1): the Table_map body after its table
 * id, and the after image of the Update_rows event. */
static const char server_map_tail[] = "0100" "0862696e6c6f67667300" "0870726f677265737300"
                                      "07" "020f080f120f08" "07" "00020001060002" "10";
static const char server_after[] = "80" "0500" "1100736f757263652d62696e2e303030303032" "6400000000000000"
                                   "0500302d312d31" "99bb7629d9065130" "1100736f757263652d62696e2e303030303032"
                                   "5a00000000000000";

static GByteArray *unhex(const char *h)
{
    GByteArray *b = g_byte_array_new();
    for (; h[0] && h[1]; h += 2) {
        guint8 v = (guint8)(g_ascii_xdigit_value(h[0]) << 4 | g_ascii_xdigit_value(h[1]));
        g_byte_array_append(b, &v, 1);
    }
    return b;
}

static void fmt_init(BlFormat *fmt, BlChecksumAlg alg)
{
    memset(fmt, 0, sizeof *fmt);
    fmt->binlog_version = 4;
    fmt->flavor = BL_FLAVOR_MARIADB;
    fmt->header_len = BL_HEADER_LEN;
    fmt->post_header_len[BL_TABLE_MAP_EVENT] = 8;
    fmt->post_header_len[BL_UPDATE_ROWS_EVENT_V1] = 8;
    fmt->checksum_alg = alg;
}

static const BlProgressLayout layout = { TRUE, 512, 256, 512 };

/* the DATETIME 2026-11-27 02:39:25.414000, as the caller gives it (the
 * calendar value, no zone applied) */
static gint64 updated_us(void)
{
    g_autoptr(GDateTime) t = g_date_time_new_utc(2026, 11, 27, 2, 39, 25);
    return g_date_time_to_unix(t) * G_USEC_PER_SEC + 414000;
}

static BlProgressRow sample_row(void)
{
    BlProgressRow r = { 5, "source-bin.000002", 100, "0-1-1", "source-bin.000002", 90, updated_us() };
    return r;
}

/* Splits out the event at *off, checking its header and checksum. */
static BlEvent next_event(const GByteArray *b, gsize *off, const BlFormat *fmt, guint8 type)
{
    g_assert_cmpuint(*off + BL_HEADER_LEN, <=, b->len);
    BlEvent ev = { 0 };
    bl_header_decode(b->data + *off, &ev.h);
    g_assert_cmpuint(ev.h.type, ==, type);
    g_assert_cmpuint(ev.h.server_id, ==, 7);
    g_assert_cmpuint(ev.h.log_pos, ==, 4242);
    g_assert_cmpuint(*off + ev.h.size, <=, b->len);
    gsize crc = fmt->checksum_alg == BL_CHECKSUM_CRC32 ? 4 : 0;
    if (crc)
        g_assert_cmpuint(bl_u32(b->data + *off + ev.h.size - 4), ==,
                         bl_crc32(0, b->data + *off, ev.h.size - 4));
    ev.data = b->data + *off;
    ev.body = ev.data + BL_HEADER_LEN;
    ev.body_len = ev.h.size - BL_HEADER_LEN - crc;
    *off += ev.h.size;
    return ev;
}

static void check_events(BlChecksumAlg alg)
{
    BlFormat fmt;
    fmt_init(&fmt, alg);
    BlProgressRow row = sample_row();
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_byte_array_append(out, (const guint8 *)"xyz", 3); /* appends */
    g_assert_true(bl_progress_events(out, &layout, &fmt, 7, 1764211165, 4242, "binlogfs", "progress", &row));
    gsize off = 3;
    BlEvent map = next_event(out, &off, &fmt, BL_TABLE_MAP_EVENT);
    BlEvent upd = next_event(out, &off, &fmt, BL_UPDATE_ROWS_EVENT_V1);
    g_assert_cmpuint(off, ==, out->len);

    /* the Table_map, but for its table id, is the server's */
    g_autoptr(GByteArray) want_map = unhex(server_map_tail);
    g_assert_cmpuint(map.body_len, ==, 6 + want_map->len);
    g_assert_cmpmem(map.body + 6, want_map->len, want_map->data, want_map->len);

    /* and the reader takes it */
    g_autoptr(GError) err = NULL;
    g_autoptr(BlTableMap) tm = bl_table_map_decode(&map, &fmt, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(tm->db, ==, "binlogfs");
    g_assert_cmpstr(tm->table, ==, "progress");
    g_assert_cmpuint(tm->n_columns, ==, 7);
    g_assert_cmpuint(tm->columns[1].max_len, ==, 512);
    g_assert_cmpuint(tm->columns[3].max_len, ==, 256);
    g_assert_true(tm->columns[4].nullable);
    g_assert_false(tm->columns[0].nullable);

    BlRows rows;
    g_assert_true(bl_rows_decode(&upd, &fmt, &rows, &err));
    g_assert_no_error(err);
    g_assert_true(rows.is_update);
    g_assert_cmpuint(rows.table_id, ==, tm->table_id);
    g_assert_cmpuint(rows.flags, ==, BL_ROWS_STMT_END_F);
    g_assert_cmpuint(rows.n_columns, ==, 7);
    g_assert_cmpuint(rows.cols_before[0], ==, 0x01); /* the key only */
    g_assert_cmpuint(rows.cols_after[0], ==, 0x7f);  /* every column */
    BlRowIter it;
    BlValue before[7], after[7];
    bl_row_iter_init(&it, &rows, tm);
    g_assert_true(bl_row_iter_next(&it, before, after, &err));
    g_assert_no_error(err);
    g_assert_true(before[0].present);
    g_assert_false(before[1].present);
    g_assert_cmpuint(bl_u16(before[0].p), ==, 5);
    for (guint i = 0; i < 7; i++)
        g_assert_true(after[i].present && !after[i].is_null);
    g_assert_false(bl_row_iter_next(&it, before, after, &err));
    g_assert_no_error(err);

    /* the after image is the server's (which sets the unused bits of
     * its NULL bitmap; nothing reads them) */
    g_autoptr(GByteArray) want = unhex(server_after);
    want->data[0] &= 0x7f;
    const guint8 *image = after[0].p - 1; /* its NULL bitmap */
    g_assert_cmpuint((gsize)(rows.rows_end - image), ==, want->len);
    g_assert_cmpmem(image, want->len, want->data, want->len);
}

static void test_crc32(void) { check_events(BL_CHECKSUM_CRC32); }
static void test_no_checksum(void)
{
    check_events(BL_CHECKSUM_OFF);
    check_events(BL_CHECKSUM_UNDEF);
}

/* Whatever cannot be encoded appends nothing: the SQL update is used. */
static void test_refused(void)
{
    BlFormat fmt;
    fmt_init(&fmt, BL_CHECKSUM_CRC32);
    g_autoptr(GByteArray) out = g_byte_array_new();
    BlProgressRow row = sample_row();

    BlProgressLayout unusable = layout;
    unusable.usable = FALSE;
    g_assert_false(bl_progress_events(out, &unusable, &fmt, 7, 0, 4242, "binlogfs", "progress", &row));

    BlFormat old = fmt; /* 4-byte table ids (MySQL 5.1 and older) */
    old.post_header_len[BL_TABLE_MAP_EVENT] = 6;
    g_assert_false(bl_progress_events(out, &layout, &old, 7, 0, 4242, "binlogfs", "progress", &row));
    old = fmt;
    old.header_len = 20;
    g_assert_false(bl_progress_events(out, &layout, &old, 7, 0, 4242, "binlogfs", "progress", &row));

    BlProgressRow accented = row; /* needs the server's charset conversion */
    accented.file = "bin-\xc3\xa9t\xc3\xa9.000001";
    g_assert_false(bl_progress_events(out, &layout, &fmt, 7, 0, 4242, "binlogfs", "progress", &accented));

    BlProgressLayout narrow = layout; /* a value longer than its column */
    narrow.gtid_len = 4;
    g_assert_false(bl_progress_events(out, &narrow, &fmt, 7, 0, 4242, "binlogfs", "progress", &row));
    g_assert_cmpuint(out->len, ==, 0);

    /* a column of at most 255 bytes has a one-byte length */
    narrow.gtid_len = 64;
    g_assert_true(bl_progress_events(out, &narrow, &fmt, 7, 0, 4242, "binlogfs", "progress", &row));
}

int main(int argc, char **argv)
{
    /* binlogfs's own zone must not matter: the server's offset is the
     * caller's (BlProgressLayout.utc_offset_s) */
    g_setenv("TZ", "XST-5:30", TRUE);
    tzset();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/progress-event/crc32", test_crc32);
    g_test_add_func("/progress-event/no-checksum", test_no_checksum);
    g_test_add_func("/progress-event/refused", test_refused);
    return g_test_run();
}
