/* binlogfs — GTID events: MariaDB (162), MySQL GTID / ANONYMOUS_GTID
 * (33/34) and MySQL 8.3+ GTID_TAGGED (42), decoded to one BlGtid.
 *
 * Invariant: every read is bounds-checked against the event body; optional
 * trailing fields are read only when bytes remain, as the servers do.
 */
#include <stdio.h>
#include <string.h>

#include <binlogfs/event.h>

#define NEED(n)                                                                                     \
    do {                                                                                            \
        if ((gsize)(end - p) < (gsize)(n))                                                          \
            return short_event(error, ev);                                                          \
    } while (0)

static gboolean short_event(GError **error, const BlEvent *ev)
{
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "%s event is too short (%zu bytes of body)",
                bl_event_type_name(ev->h.type), ev->body_len);
    return FALSE;
}

static gboolean decode_mariadb(const BlEvent *ev, BlGtid *g, GError **error)
{
    const guint8 *p = ev->body, *end = ev->body + ev->body_len;
    g->kind = BL_GTID_MARIADB;
    g->server_id = ev->h.server_id;
    NEED(13);
    g->seq_no = bl_u64(p);
    g->domain_id = bl_u32(p + 8);
    g->flags2 = p[12];
    p += 13;
    if (g->flags2 & BL_FL_GROUP_COMMIT_ID) {
        NEED(8);
        g->commit_id = bl_u64(p);
        p += 8;
    }
    if (g->flags2 & (BL_FL_PREPARED_XA | BL_FL_COMPLETED_XA)) {
        NEED(6);
        g->has_xid = TRUE;
        g->xid.format_id = bl_u32(p);
        g->xid.gtrid_len = p[4];
        g->xid.bqual_len = p[5];
        p += 6;
        gsize n = (gsize)g->xid.gtrid_len + g->xid.bqual_len;
        if (g->xid.gtrid_len > 64 || g->xid.bqual_len > 64) {
            g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "GTID event: XID lengths %u/%u above 64",
                        g->xid.gtrid_len, g->xid.bqual_len);
            return FALSE;
        }
        NEED(n);
        memcpy(g->xid.data, p, n);
        p += n;
    }
    /* The rest is optional: flags_extra and what it announces. */
    if (p < end) {
        g->flags_extra = *p++;
        if (g->flags_extra & BL_FLX_MULTI_ENGINE) {
            NEED(1);
            p++;
        }
        if (g->flags_extra & (BL_FLX_COMMIT_ALTER | BL_FLX_ROLLBACK_ALTER)) {
            NEED(8);
            g->sa_seq_no = bl_u64(p);
            p += 8;
        }
        if (g->flags_extra & BL_FLX_THREAD_ID) {
            NEED(4);
            g->thread_id = bl_u32(p);
        }
    }
    return TRUE;
}

static gboolean decode_mysql(const BlEvent *ev, BlGtid *g, GError **error)
{
    const guint8 *p = ev->body, *end = ev->body + ev->body_len;
    NEED(25);
    g->mysql_flags = p[0];
    memcpy(g->uuid, p + 1, 16);
    g->gno = (gint64)bl_u64(p + 17);
    g->kind = ev->h.type == BL_ANONYMOUS_GTID_EVENT ? BL_GTID_ANONYMOUS : BL_GTID_MYSQL;
    p += 25;
    if (end - p >= 17 && p[0] == 2) {
        g->has_logical_clock = TRUE;
        g->last_committed = (gint64)bl_u64(p + 1);
        g->sequence_number = (gint64)bl_u64(p + 9);
        p += 17;
    }
    if (end - p >= 7) {
        guint64 ts = bl_u32(p) | (guint64)bl_u24(p + 4) << 32;
        p += 7;
        if (ts & (G_GUINT64_CONSTANT(1) << 55)) {
            ts &= ~(G_GUINT64_CONSTANT(1) << 55);
            NEED(7);
            g->original_commit_us = bl_u32(p) | (guint64)bl_u24(p + 4) << 32;
            p += 7;
        } else {
            g->original_commit_us = ts;
        }
        g->immediate_commit_us = ts;
    }
    if (p < end) {
        if (!bl_lenenc(&p, end, &g->transaction_length))
            return short_event(error, ev);
    }
    if (end - p >= 4) {
        guint32 v = bl_u32(p);
        p += 4;
        if (v & 0x80000000u) {
            v &= 0x7fffffffu;
            NEED(4);
            g->original_server_version = bl_u32(p);
        } else {
            g->original_server_version = v;
        }
        g->immediate_server_version = v;
    }
    return TRUE;
}

/* mysql::serialization varlen: the number of trailing 1 bits of the first
 * byte tells how many more bytes follow. */
static gboolean varlen_u(const guint8 **pp, const guint8 *end, guint64 *out)
{
    const guint8 *p = *pp;
    if (p >= end)
        return FALSE;
    guint8 b = p[0];
    guint k = 0;
    while (k < 8 && (b >> k) & 1)
        k++;
    if (k == 8) {
        if (end - p < 9)
            return FALSE;
        *out = bl_u64(p + 1);
        *pp = p + 9;
        return TRUE;
    }
    if ((gsize)(end - p) < k + 1)
        return FALSE;
    guint64 v = 0;
    for (guint i = 0; i <= k; i++)
        v |= (guint64)p[i] << (8 * i);
    *out = v >> (k + 1);
    *pp = p + k + 1;
    return TRUE;
}

static gint64 zigzag(guint64 v)
{
    return (gint64)(v >> 1) ^ -(gint64)(v & 1);
}

static gboolean decode_tagged(const BlEvent *ev, BlGtid *g, GError **error)
{
    const guint8 *p = ev->body, *end = ev->body + ev->body_len;
    guint64 v, size, last_id;
    g->kind = BL_GTID_MYSQL;
    if (!varlen_u(&p, end, &v) || !varlen_u(&p, end, &size) || !varlen_u(&p, end, &last_id))
        return short_event(error, ev);
    gboolean have_orig_ts = FALSE, have_orig_ver = FALSE;
    while (p < end) {
        guint64 id;
        if (!varlen_u(&p, end, &id))
            return short_event(error, ev);
        switch (id) {
        case 0: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->mysql_flags = (guint8)v; break;
        case 1:
            for (int i = 0; i < 16; i++) {
                if (!varlen_u(&p, end, &v))
                    return short_event(error, ev);
                g->uuid[i] = (guint8)v;
            }
            break;
        case 2: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->gno = zigzag(v); break;
        case 3: {
            if (!varlen_u(&p, end, &v) || v > 32 || (guint64)(end - p) < v)
                return short_event(error, ev);
            memcpy(g->tag, p, v);
            g->tag[v] = '\0';
            p += v;
            break;
        }
        case 4: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->last_committed = zigzag(v); g->has_logical_clock = TRUE; break;
        case 5: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->sequence_number = zigzag(v); break;
        case 6: if (!varlen_u(&p, end, &g->immediate_commit_us)) return short_event(error, ev); break;
        case 7: if (!varlen_u(&p, end, &g->original_commit_us)) return short_event(error, ev); have_orig_ts = TRUE; break;
        case 8: if (!varlen_u(&p, end, &g->transaction_length)) return short_event(error, ev); break;
        case 9: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->immediate_server_version = (guint32)v; break;
        case 10: if (!varlen_u(&p, end, &v)) return short_event(error, ev); g->original_server_version = (guint32)v; have_orig_ver = TRUE; break;
        case 11: if (!varlen_u(&p, end, &v)) return short_event(error, ev); break;
        default:
            /* Fields past the last non-ignorable one may be skipped; their
             * encoding is unknown, so stop reading there. */
            if (id > last_id)
                goto done;
            g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                        "Gtid_tagged event: unknown field %" G_GUINT64_FORMAT, id);
            return FALSE;
        }
    }
done:
    if (!have_orig_ts)
        g->original_commit_us = g->immediate_commit_us;
    if (!have_orig_ver)
        g->original_server_version = g->immediate_server_version;
    return TRUE;
}

gboolean bl_decode_gtid(const BlEvent *ev, const BlFormat *fmt, BlGtid *out, GError **error)
{
    memset(out, 0, sizeof *out);
    switch (ev->h.type) {
    case BL_MARIA_GTID_EVENT: return decode_mariadb(ev, out, error);
    case BL_GTID_EVENT:
    case BL_ANONYMOUS_GTID_EVENT: return decode_mysql(ev, out, error);
    case BL_GTID_TAGGED_EVENT: return decode_tagged(ev, out, error);
    default:
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "event type %u is not a GTID event",
                    ev->h.type);
        return FALSE;
    }
}

const char *bl_gtid_format(const BlGtid *g, char *buf, gsize len)
{
    const guint8 *u = g->uuid;
    switch (g->kind) {
    case BL_GTID_MARIADB:
        g_snprintf(buf, len, "%u-%u-%" G_GUINT64_FORMAT, g->domain_id, g->server_id, g->seq_no);
        break;
    case BL_GTID_MYSQL:
        g_snprintf(buf, len,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x%s%s:%" G_GINT64_FORMAT,
                   u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                   u[13], u[14], u[15], g->tag[0] ? ":" : "", g->tag, g->gno);
        break;
    case BL_GTID_ANONYMOUS: g_strlcpy(buf, "ANONYMOUS", len); break;
    default: g_strlcpy(buf, "", len); break;
    }
    return buf;
}

char *bl_xid_format(const BlXid *x)
{
    GString *s = g_string_new("X'");
    for (guint i = 0; i < x->gtrid_len; i++)
        g_string_append_printf(s, "%02x", x->data[i]);
    g_string_append(s, "',X'");
    for (guint i = 0; i < x->bqual_len; i++)
        g_string_append_printf(s, "%02x", x->data[x->gtrid_len + i]);
    g_string_append_printf(s, "',%u", x->format_id);
    return g_string_free(s, FALSE);
}
