/* binlogfs — MariaDB compressed events (log_bin_compress).
 *
 * DESIGN: a Query_compressed or Rows_compressed event is rebuilt as the
 * plain event MariaDB would have written without compression: same header
 * (type and size changed), same post-header and uncompressed prefix, the
 * block inflated, and a fresh CRC32 when the file has checksums. The
 * result can be replayed with BINLOG like any other event, and is what
 * mariadb-binlog prints. A compressed block is one header byte
 * 0x80 | alg<<4 | n, n bytes of big-endian length, then a zlib stream.
 */
#include <string.h>
#include <zlib.h>

#include "reader-private.h"

static gboolean corrupt(BlReader *r, const BlEvent *e, GError **error, const char *what)
{
    r->failed = TRUE;
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "%s:%" G_GUINT64_FORMAT ": %s event: %s", r->name,
                e->offset, bl_event_type_name(e->orig_type), what);
    return FALSE;
}

/* Offset in the body where the compressed block starts. */
static gboolean block_start(const BlReader *r, const BlEvent *e, gsize *at)
{
    const guint8 *b = e->body, *end = e->body + e->body_len;
    guint8 plain = bl_event_uncompressed_type(e->orig_type);
    guint8 phl = r->fmt.post_header_len[e->orig_type];
    if (plain == BL_QUERY_EVENT) {
        if (phl < 13 || e->body_len < phl)
            return FALSE;
        guint8 db_len = b[8];
        guint16 status_len = bl_u16(b + 11);
        gsize off = (gsize)phl + status_len + db_len + 1;
        if (off > e->body_len)
            return FALSE;
        *at = off;
        return TRUE;
    }
    /* rows: post-header [, v2 extra], column count, bitmap(s) */
    const guint8 *p = b + phl;
    if (phl < 8 || p > end)
        return FALSE;
    if (plain >= BL_WRITE_ROWS_EVENT) {
        if (phl < 10)
            return FALSE;
        guint16 extra = bl_u16(b + phl - 2);
        if (extra < 2 || (gsize)(end - p) < (gsize)extra - 2)
            return FALSE;
        p += extra - 2;
    }
    guint64 ncols;
    if (!bl_lenenc(&p, end, &ncols) || ncols > 4096)
        return FALSE;
    gsize bm = (gsize)(ncols + 7) / 8;
    gboolean update = plain == BL_UPDATE_ROWS_EVENT_V1 || plain == BL_UPDATE_ROWS_EVENT;
    gsize need = update ? 2 * bm : bm;
    if ((gsize)(end - p) < need)
        return FALSE;
    *at = (gsize)(p + need - b);
    return TRUE;
}

gboolean bl_uncompress_mariadb(BlReader *r, BlEvent *e, GError **error)
{
    gsize at;
    if (!block_start(r, e, &at))
        return corrupt(r, e, error, "layout does not fit the event size");
    const guint8 *blk = e->body + at;
    gsize blk_len = e->body_len - at;
    if (blk_len < 1 || (blk[0] & 0xe0) != 0x80)
        return corrupt(r, e, error, "bad compression header");
    guint alg = (blk[0] >> 4) & 0x07, n = blk[0] & 0x07;
    if (alg != 0)
        return corrupt(r, e, error, "unknown compression algorithm");
    if (n < 1 || n > 4 || blk_len < 1 + n)
        return corrupt(r, e, error, "bad compressed length field");
    guint32 ulen = 0;
    for (guint i = 0; i < n; i++)
        ulen = ulen << 8 | blk[1 + i];
    if (ulen > (1u << 30))
        return corrupt(r, e, error, "uncompressed length above 1 GiB");
    gboolean crc = r->fmt.checksum_alg == BL_CHECKSUM_CRC32;
    gsize hl = r->fmt.header_len;
    gsize size = hl + at + ulen + (crc ? BL_CRC_LEN : 0);
    if (r->plain_cap < size) {
        r->plain_cap = MAX(size, r->plain_cap * 2);
        g_free(r->plain);
        r->plain = g_malloc(r->plain_cap);
    }
    guint8 *out = r->plain;
    memcpy(out, e->data, hl + at);
    uLongf dlen = ulen;
    int zr = uncompress(out + hl + at, &dlen, blk + 1 + n, blk_len - 1 - n);
    if (zr != Z_OK || dlen != ulen)
        return corrupt(r, e, error, "zlib data is damaged or shorter than announced");
    guint8 plain = bl_event_uncompressed_type(e->orig_type);
    out[4] = plain;
    out[9] = (guint8)size;
    out[10] = (guint8)(size >> 8);
    out[11] = (guint8)(size >> 16);
    out[12] = (guint8)(size >> 24);
    if (crc) {
        guint32 c = bl_crc32(0, out, size - BL_CRC_LEN);
        for (int i = 0; i < 4; i++)
            out[size - 4 + i] = (guint8)(c >> (8 * i));
    }
    e->h.type = plain;
    e->h.size = (guint32)size;
    e->data = out;
    e->body = out + hl;
    e->body_len = at + ulen;
    return TRUE;
}
