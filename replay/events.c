/* binlogfs — decoders of the small fixed-layout events (Rotate, Xid,
 * Intvar, Rand, User_var, XA_prepare, Gtid_list, Previous_gtids, load
 * blocks, Incident, Annotate/Rows_query, Binlog_checkpoint, and the
 * Transaction_payload header).
 *
 * Invariant: every field is bounds-checked against ev->body_len.
 */
#include <string.h>

#include <binlogfs/event.h>

static gboolean too_short(const BlEvent *ev, GError **error)
{
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "%s event is too short (%zu bytes of body)",
                bl_event_type_name(ev->h.type) ? bl_event_type_name(ev->h.type) : "unknown",
                ev->body_len);
    return FALSE;
}

#define NEED(n)                                                                                     \
    do {                                                                                            \
        if (ev->body_len < (gsize)(n))                                                              \
            return too_short(ev, error);                                                            \
    } while (0)

gboolean bl_decode_rotate(const BlEvent *ev, const BlFormat *fmt, BlRotate *out, GError **error)
{
    guint phl = fmt->post_header_len[BL_ROTATE_EVENT] ? fmt->post_header_len[BL_ROTATE_EVENT] : 8;
    NEED(phl);
    out->position = bl_u64(ev->body);
    out->name = (const char *)ev->body + phl;
    out->name_len = ev->body_len - phl;
    if (out->name_len == 0 || out->name_len > 512 || memchr(out->name, '/', out->name_len)) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "Rotate event: bad next file name");
        return FALSE;
    }
    return TRUE;
}

gboolean bl_decode_xid(const BlEvent *ev, const BlFormat *fmt, guint64 *xid, GError **error)
{
    NEED(8);
    *xid = bl_u64(ev->body);
    return TRUE;
}

gboolean bl_decode_intvar(const BlEvent *ev, const BlFormat *fmt, BlIntvar *out, GError **error)
{
    NEED(9);
    out->kind = ev->body[0];
    out->value = bl_u64(ev->body + 1);
    if (out->kind != 1 && out->kind != 2) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "Intvar event: unknown kind %u", out->kind);
        return FALSE;
    }
    return TRUE;
}

gboolean bl_decode_rand(const BlEvent *ev, const BlFormat *fmt, BlRand *out, GError **error)
{
    NEED(16);
    out->seed1 = bl_u64(ev->body);
    out->seed2 = bl_u64(ev->body + 8);
    return TRUE;
}

gboolean bl_decode_user_var(const BlEvent *ev, const BlFormat *fmt, BlUserVar *out, GError **error)
{
    memset(out, 0, sizeof *out);
    const guint8 *p = ev->body, *end = ev->body + ev->body_len;
    NEED(5);
    out->name_len = bl_u32(p);
    p += 4;
    if ((gsize)(end - p) < (gsize)out->name_len + 1)
        return too_short(ev, error);
    out->name = (const char *)p;
    p += out->name_len;
    out->is_null = *p++ != 0;
    if (out->is_null)
        return TRUE;
    if (end - p < 9)
        return too_short(ev, error);
    out->type = p[0];
    out->charset = bl_u32(p + 1);
    out->value_len = bl_u32(p + 5);
    p += 9;
    if ((gsize)(end - p) < out->value_len)
        return too_short(ev, error);
    out->value = p;
    p += out->value_len;
    if (p < end)
        out->flags = *p;
    if (out->type != 0 && out->type != 1 && out->type != 2 && out->type != 4) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "User_var event: unknown value type %u",
                    out->type);
        return FALSE;
    }
    return TRUE;
}

gboolean bl_decode_xa_prepare(const BlEvent *ev, const BlFormat *fmt, BlXaPrepare *out,
                              GError **error)
{
    memset(out, 0, sizeof *out);
    NEED(13);
    const guint8 *p = ev->body;
    out->one_phase = p[0] != 0;
    out->xid.format_id = bl_u32(p + 1);
    guint32 g = bl_u32(p + 5), b = bl_u32(p + 9);
    if (g > 64 || b > 64) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "XA_prepare event: XID lengths %u/%u above 64",
                    g, b);
        return FALSE;
    }
    NEED(13 + g + b);
    out->xid.gtrid_len = (guint8)g;
    out->xid.bqual_len = (guint8)b;
    memcpy(out->xid.data, p + 13, g + b);
    return TRUE;
}

gboolean bl_decode_gtid_list(const BlEvent *ev, const BlFormat *fmt, GArray **out, GError **error)
{
    NEED(4);
    guint32 n = bl_u32(ev->body) & 0x0fffffff;
    if ((ev->body_len - 4) / 16 < n)
        return too_short(ev, error);
    GArray *a = g_array_sized_new(FALSE, FALSE, sizeof(BlGtidListEntry), n);
    for (guint32 i = 0; i < n; i++) {
        const guint8 *p = ev->body + 4 + 16 * i;
        BlGtidListEntry e = { bl_u32(p), bl_u32(p + 4), bl_u64(p + 8) };
        g_array_append_val(a, e);
    }
    *out = a;
    return TRUE;
}

static void append_uuid(GString *s, const guint8 *u)
{
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            g_string_append_c(s, '-');
        g_string_append_printf(s, "%02x", u[i]);
    }
}

gboolean bl_decode_previous_gtids(const BlEvent *ev, const BlFormat *fmt, char **out,
                                  GError **error)
{
    const guint8 *p = ev->body, *end = ev->body + ev->body_len;
    NEED(8);
    gboolean tagged = p[0] == 1 && p[7] == 1;
    guint64 n = tagged ? (bl_u64(p) >> 8) & G_GUINT64_CONSTANT(0xffffffffffff) : bl_u64(p);
    p += 8;
    g_autoptr(GString) s = g_string_new(NULL);
    for (guint64 i = 0; i < n; i++) {
        if (end - p < 16)
            return too_short(ev, error);
        if (i)
            g_string_append_c(s, ',');
        append_uuid(s, p);
        p += 16;
        if (tagged) {
            /* tag: varlen length (one byte for <= 32 chars: len << 1) + ASCII */
            if (p >= end)
                return too_short(ev, error);
            guint len = p[0] >> 1;
            if ((p[0] & 1) || len > 32 || end - p < 1 + (gssize)len)
                return too_short(ev, error);
            if (len)
                g_string_append_printf(s, ":%.*s", (int)len, (const char *)p + 1);
            p += 1 + len;
        }
        if (end - p < 8)
            return too_short(ev, error);
        guint64 ni = bl_u64(p);
        p += 8;
        if ((guint64)(end - p) / 16 < ni)
            return too_short(ev, error);
        for (guint64 j = 0; j < ni; j++, p += 16) {
            guint64 a = bl_u64(p), b = bl_u64(p + 8);
            if (b == a + 1)
                g_string_append_printf(s, ":%" G_GUINT64_FORMAT, a);
            else
                g_string_append_printf(s, ":%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, a, b - 1);
        }
    }
    *out = g_strdup(s->str);
    return TRUE;
}

gboolean bl_decode_load_block(const BlEvent *ev, const BlFormat *fmt, BlLoadBlock *out,
                              GError **error)
{
    NEED(4);
    out->file_id = bl_u32(ev->body);
    out->data = ev->body + 4;
    out->len = ev->body_len - 4;
    return TRUE;
}

gboolean bl_decode_incident(const BlEvent *ev, const BlFormat *fmt, BlIncident *out,
                            GError **error)
{
    NEED(2);
    out->incident = bl_u16(ev->body);
    out->msg = "";
    out->msg_len = 0;
    if (ev->body_len >= 3) {
        guint8 n = ev->body[2];
        if (ev->body_len < 3u + n)
            return too_short(ev, error);
        out->msg = (const char *)ev->body + 3;
        out->msg_len = n;
    }
    return TRUE;
}

gboolean bl_decode_annotate(const BlEvent *ev, const BlFormat *fmt, const char **sql, gsize *len,
                            GError **error)
{
    if (ev->h.type == BL_ROWS_QUERY_EVENT) {
        NEED(1);
        *sql = (const char *)ev->body + 1;
        *len = ev->body_len - 1;
    } else {
        *sql = (const char *)ev->body;
        *len = ev->body_len;
    }
    return TRUE;
}

gboolean bl_decode_checkpoint(const BlEvent *ev, const BlFormat *fmt, const char **name, gsize *len,
                              GError **error)
{
    NEED(4);
    guint32 n = bl_u32(ev->body);
    NEED(4 + (gsize)n);
    *name = (const char *)ev->body + 4;
    *len = n;
    return TRUE;
}

gboolean bl_decode_payload(const BlEvent *ev, const BlFormat *fmt, BlPayload *out, GError **error)
{
    memset(out, 0, sizeof *out);
    /* The TLV header starts right after the common header, whatever the
     * FDE advertises as post-header length. */
    const guint8 *p = ev->data + BL_HEADER_LEN;
    const guint8 *end = ev->body + ev->body_len;
    gboolean have_size = FALSE;
    for (;;) {
        guint64 type, len;
        if (!bl_lenenc(&p, end, &type))
            return too_short(ev, error);
        if (type == 0)
            break;
        if (!bl_lenenc(&p, end, &len) || (guint64)(end - p) < len)
            return too_short(ev, error);
        const guint8 *v = p, *vend = p + len;
        guint64 val = 0;
        if (type <= 3 && !bl_lenenc(&v, vend, &val))
            return too_short(ev, error);
        if (type == 1) {
            out->payload_size = val;
            have_size = TRUE;
        } else if (type == 2) {
            out->compression = val;
        } else if (type == 3) {
            out->uncompressed_size = val;
        }
        p += len;
    }
    if (!have_size || (guint64)(end - p) < out->payload_size) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "Transaction_payload: payload size %" G_GUINT64_FORMAT
                    " does not fit the event (%td bytes left)",
                    out->payload_size, end - p);
        return FALSE;
    }
    out->payload = p;
    return TRUE;
}
