/* binlogfs — fixed layouts of format v4: the common header, packed
 * integers, event type names and the Format_description event.
 *
 * Invariant: nothing here reads past the length it is given.
 */
#include <string.h>
#include <stdio.h>

#include <binlogfs/binlog.h>
#include <binlogfs/error.h>
#include <binlogfs/reader.h>

void bl_header_decode(const guint8 *p, BlEventHeader *h)
{
    h->timestamp = bl_u32(p);
    h->type = p[4];
    h->server_id = bl_u32(p + 5);
    h->size = bl_u32(p + 9);
    h->log_pos = bl_u32(p + 13);
    h->flags = bl_u16(p + 17);
}

void bl_event_seal(GByteArray *b, guint start, gboolean crc)
{
    guint32 size = b->len - start + (crc ? 4 : 0);
    guint8 *p = b->data + start + 9;
    p[0] = (guint8)size;
    p[1] = (guint8)(size >> 8);
    p[2] = (guint8)(size >> 16);
    p[3] = (guint8)(size >> 24);
    if (crc) {
        guint32 c = bl_crc32(0, b->data + start, b->len - start);
        guint8 t[4] = { (guint8)c, (guint8)(c >> 8), (guint8)(c >> 16), (guint8)(c >> 24) };
        g_byte_array_append(b, t, 4);
    }
}

gboolean bl_lenenc(const guint8 **pp, const guint8 *end, guint64 *out)
{
    const guint8 *p = *pp;
    if (p >= end)
        return FALSE;
    guint8 b = *p++;
    gsize n = b < 0xfb ? 0 : b == 0xfc ? 2 : b == 0xfd ? 3 : b == 0xfe ? 8 : G_MAXSIZE;
    if (n == G_MAXSIZE || (gsize)(end - p) < n)
        return FALSE;
    guint64 v = b < 0xfb ? b : 0;
    for (gsize i = 0; i < n; i++)
        v |= (guint64)p[i] << (8 * i);
    *pp = p + n;
    *out = v;
    return TRUE;
}

static const char *const type_names[256] = {
    [0] = "Unknown", [1] = "Start_v3", [2] = "Query", [3] = "Stop", [4] = "Rotate",
    [5] = "Intvar", [6] = "Load", [7] = "Slave", [8] = "Create_file", [9] = "Append_block",
    [10] = "Exec_load", [11] = "Delete_file", [12] = "New_load", [13] = "RAND",
    [14] = "User_var", [15] = "Format_desc", [16] = "Xid", [17] = "Begin_load_query",
    [18] = "Execute_load_query", [19] = "Table_map", [20] = "Write_rows_event_old",
    [21] = "Update_rows_event_old", [22] = "Delete_rows_event_old", [23] = "Write_rows_v1",
    [24] = "Update_rows_v1", [25] = "Delete_rows_v1", [26] = "Incident", [27] = "Heartbeat",
    [28] = "Ignorable", [29] = "Rows_query", [30] = "Write_rows", [31] = "Update_rows",
    [32] = "Delete_rows", [33] = "Gtid", [34] = "Anonymous_Gtid", [35] = "Previous_gtids",
    [36] = "Transaction_context", [37] = "View_change", [38] = "XA_prepare",
    [39] = "Update_rows_partial", [40] = "Transaction_payload", [41] = "Heartbeat_v2",
    [42] = "Gtid_tagged", [160] = "Annotate_rows", [161] = "Binlog_checkpoint",
    [162] = "Gtid", [163] = "Gtid_list", [164] = "Start_encryption",
    [165] = "Query_compressed", [166] = "Write_rows_compressed_v1",
    [167] = "Update_rows_compressed_v1", [168] = "Delete_rows_compressed_v1",
    [169] = "Write_rows_compressed", [170] = "Update_rows_compressed",
    [171] = "Delete_rows_compressed", [172] = "Partial_row_data",
};

const char *bl_event_type_name(guint8 type)
{
    return type_names[type];
}

gboolean bl_event_is_rows(guint8 type)
{
    return (type >= BL_WRITE_ROWS_EVENT_V1 && type <= BL_DELETE_ROWS_EVENT_V1) ||
           (type >= BL_WRITE_ROWS_EVENT && type <= BL_DELETE_ROWS_EVENT) ||
           type == BL_PARTIAL_UPDATE_ROWS_EVENT ||
           (type >= BL_WRITE_ROWS_COMPRESSED_EVENT_V1 && type <= BL_DELETE_ROWS_COMPRESSED_EVENT);
}

guint8 bl_event_uncompressed_type(guint8 type)
{
    if (type == BL_QUERY_COMPRESSED_EVENT)
        return BL_QUERY_EVENT;
    if (type >= BL_WRITE_ROWS_COMPRESSED_EVENT_V1 && type <= BL_DELETE_ROWS_COMPRESSED_EVENT_V1)
        return type - BL_WRITE_ROWS_COMPRESSED_EVENT_V1 + BL_WRITE_ROWS_EVENT_V1;
    if (type >= BL_WRITE_ROWS_COMPRESSED_EVENT && type <= BL_DELETE_ROWS_COMPRESSED_EVENT)
        return type - BL_WRITE_ROWS_COMPRESSED_EVENT + BL_WRITE_ROWS_EVENT;
    return type;
}

/* "10.11.19-MariaDB-0+deb12u1-log" -> 101119; "8.0.40-debug" -> 80040 */
static guint parse_version(const char *s)
{
    guint a = 0, b = 0, c = 0;
    if (sscanf(s, "%u.%u.%u", &a, &b, &c) < 2)
        return 0;
    return a * 10000 + b * 100 + c;
}

/* A checksum-capable server (MySQL >= 5.6.1, MariaDB >= 5.3) writes the
 * checksum algorithm byte (+ CRC) at the end of the FDE. */
static gboolean version_has_checksum_alg(BlFlavor flavor, guint v)
{
    if (flavor == BL_FLAVOR_MARIADB)
        return v >= 50300;
    return v >= 50601;
}

gboolean bl_format_decode(const guint8 *ev, gsize len, BlFormat *fmt, GError **error)
{
    memset(fmt, 0, sizeof *fmt);
    if (len < BL_HEADER_LEN + 57) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "Format_description event too short (%zu bytes)", len);
        return FALSE;
    }
    const guint8 *b = ev + BL_HEADER_LEN;
    fmt->binlog_version = bl_u16(b);
    if (fmt->binlog_version != 4) {
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "binlog format version %u is not supported (only v4, MySQL 5.0 and later)",
                    fmt->binlog_version);
        return FALSE;
    }
    memcpy(fmt->server_version, b + 2, 50);
    fmt->server_version[50] = '\0';
    fmt->flavor = strstr(fmt->server_version, "MariaDB") ? BL_FLAVOR_MARIADB : BL_FLAVOR_MYSQL;
    fmt->version = parse_version(fmt->server_version);
    fmt->create_timestamp = bl_u32(b + 52);
    fmt->header_len = b[56];
    if (fmt->header_len < BL_HEADER_LEN) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "Format_description: common header length %u is below 19", fmt->header_len);
        return FALSE;
    }
    gsize rest = len - BL_HEADER_LEN - 57;
    gboolean has_alg = version_has_checksum_alg(fmt->flavor, fmt->version) && rest >= 5;
    gsize n = has_alg ? rest - 5 : rest;
    if (n > 255)
        n = 255;
    fmt->n_types = (guint)n;
    for (gsize i = 0; i < n; i++)
        fmt->post_header_len[i + 1] = b[57 + i];
    fmt->checksum_alg = has_alg ? (BlChecksumAlg)b[57 + rest - 5] : BL_CHECKSUM_UNDEF;
    if (has_alg && fmt->checksum_alg != BL_CHECKSUM_OFF && fmt->checksum_alg != BL_CHECKSUM_CRC32) {
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "unknown checksum algorithm %u in Format_description", fmt->checksum_alg);
        return FALSE;
    }
    return TRUE;
}

void bl_format_inner(const BlFormat *outer, BlFormat *inner)
{
    *inner = *outer;
    inner->checksum_alg = BL_CHECKSUM_OFF;
}
