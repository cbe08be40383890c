/* binlogfs — the progress row update as binlog row events.
 *
 * DESIGN: every transaction binlogfs applies also updates its worker's
 * progress row. As an SQL UPDATE that costs the target as much as a
 * quarter of its CPU on small transactions (parse, open, optimise,
 * execute one more statement, and one more reply; doc/benchmarks.md,
 * run 11). As row events inside a BINLOG statement, the server applies it
 * as it applies the source's rows: a Table_map event naming the progress
 * table and an Update_rows event whose before image holds the primary
 * key (the worker) and whose after image holds every column. The events
 * are encoded for the Format_description the connection was last given
 * (the job's file's), so the server reads them as it reads that file's.
 * The table must be exactly binlogfs's (progress.c checks it, in
 * bl_progress_layout); otherwise the SQL update is used.
 */
#include <string.h>

#include <binlogfs/rows.h>

#include "progress-event.h"

/* A table id for the progress table's map inside one BINLOG statement:
 * the map is sent after the transaction's own rows events (their
 * statements are complete), so even a source table with the same id
 * could not be confused with it. */
#define PROGRESS_TABLE_ID G_GUINT64_CONSTANT(0xfffffffffe)

#define N_COLS 7

static void put16(GByteArray *b, guint16 v)
{
    guint8 x[2] = { (guint8)v, (guint8)(v >> 8) };
    g_byte_array_append(b, x, 2);
}

static void put32(GByteArray *b, guint32 v)
{
    guint8 x[4] = { (guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24) };
    g_byte_array_append(b, x, 4);
}

static void put48(GByteArray *b, guint64 v)
{
    put32(b, (guint32)v);
    put16(b, (guint16)(v >> 32));
}

static void put64(GByteArray *b, guint64 v)
{
    put32(b, (guint32)v);
    put32(b, (guint32)(v >> 32));
}

static void put8(GByteArray *b, guint8 v) { g_byte_array_append(b, &v, 1); }

/* A VARCHAR value: 1 length byte up to 255 bytes of maximum length, else
 * 2. ASCII only: other bytes would need the conversion to the column's
 * character set that the SQL update gets from the server. */
static gboolean put_varchar(GByteArray *b, const char *s, guint16 max)
{
    gsize n = strlen(s);
    if (n > max)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if ((guchar)s[i] >= 0x80)
            return FALSE;
    if (max > 255)
        put16(b, (guint16)n);
    else
        put8(b, (guint8)n);
    g_byte_array_append(b, (const guint8 *)s, (guint)n);
    return TRUE;
}

/* DATETIME(6) in the binary format of MySQL 5.6 (MYSQL_TYPE_DATETIME2):
 * 5 bytes big-endian of the packed date and time plus 2^39, then 3 bytes
 * big-endian of the microseconds. */
static void put_datetime2(GByteArray *b, gint64 us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
    guint64 ym = (guint64)g_date_time_get_year(t) * 13 + (guint64)g_date_time_get_month(t);
    guint64 ymd = ym << 5 | (guint64)g_date_time_get_day_of_month(t);
    guint64 hms = (guint64)g_date_time_get_hour(t) << 12 | (guint64)g_date_time_get_minute(t) << 6 |
                  (guint64)g_date_time_get_second(t);
    guint64 v = (ymd << 17 | hms) + G_GUINT64_CONSTANT(0x8000000000);
    guint32 frac = (guint32)(us % G_USEC_PER_SEC);
    guint8 x[8] = { (guint8)(v >> 32), (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v,
                    (guint8)(frac >> 16), (guint8)(frac >> 8), (guint8)frac };
    g_byte_array_append(b, x, 8);
}

/* Starts an event: the common header, its size filled in by bl_event_seal. */
static guint begin_event(GByteArray *b, guint8 type, guint32 timestamp, guint32 server_id, guint32 log_pos)
{
    guint start = b->len;
    put32(b, timestamp);
    put8(b, type);
    put32(b, server_id);
    put32(b, 0); /* size */
    put32(b, log_pos);
    put16(b, 0); /* flags */
    return start;
}

gboolean bl_progress_events(GByteArray *out, const BlProgressLayout *lay, const BlFormat *fmt,
                            guint32 server_id, guint32 timestamp, guint32 log_pos, const char *db,
                            const char *table, const BlProgressRow *row)
{
    gsize dlen = strlen(db), tlen = strlen(table);
    if (!lay->usable || fmt->header_len != BL_HEADER_LEN || fmt->post_header_len[BL_TABLE_MAP_EVENT] != 8 ||
        fmt->post_header_len[BL_UPDATE_ROWS_EVENT_V1] != 8 || dlen > 64 || tlen > 64)
        return FALSE;
    guint old_len = out->len;

    /* Table_map: id, flags, db, table, column types, metadata, nullable */
    guint ev = begin_event(out, BL_TABLE_MAP_EVENT, timestamp, server_id, log_pos);
    put48(out, PROGRESS_TABLE_ID);
    put16(out, 1); /* TM_BIT_LEN_EXACT_F */
    put8(out, (guint8)dlen);
    g_byte_array_append(out, (const guint8 *)db, (guint)dlen + 1);
    put8(out, (guint8)tlen);
    g_byte_array_append(out, (const guint8 *)table, (guint)tlen + 1);
    static const guint8 types[N_COLS] = { BL_T_SHORT, BL_T_VARCHAR, BL_T_LONGLONG, BL_T_VARCHAR,
                                          BL_T_DATETIME2, BL_T_VARCHAR, BL_T_LONGLONG };
    put8(out, N_COLS);
    g_byte_array_append(out, types, N_COLS);
    put8(out, 7); /* metadata bytes: three VARCHAR lengths, the DATETIME2 precision */
    put16(out, lay->file_len);
    put16(out, lay->gtid_len);
    put8(out, 6);
    put16(out, lay->wm_file_len);
    put8(out, 1 << 4); /* `updated` is the only nullable column */
    bl_event_seal(out, ev, fmt->checksum_alg == BL_CHECKSUM_CRC32);

    /* Update_rows v1: id, flags, columns, before columns, after columns, images */
    ev = begin_event(out, BL_UPDATE_ROWS_EVENT_V1, timestamp, server_id, log_pos);
    put48(out, PROGRESS_TABLE_ID);
    put16(out, BL_ROWS_STMT_END_F);
    put8(out, N_COLS);
    put8(out, 0x01);                /* before: the worker */
    put8(out, (1 << N_COLS) - 1);   /* after: every column */
    put8(out, 0);                   /* before image: no NULL */
    put16(out, row->worker);
    put8(out, 0);                   /* after image: no NULL */
    put16(out, row->worker);
    gboolean ok = put_varchar(out, row->file, lay->file_len);
    put64(out, row->pos);
    ok = ok && put_varchar(out, row->gtid, lay->gtid_len);
    put_datetime2(out, row->updated_us);
    ok = ok && put_varchar(out, row->wm_file, lay->wm_file_len);
    put64(out, row->wm_pos);
    bl_event_seal(out, ev, fmt->checksum_alg == BL_CHECKSUM_CRC32);
    if (!ok)
        g_byte_array_set_size(out, old_len);
    return ok;
}
