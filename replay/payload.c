/* binlogfs — the events inside a MySQL Transaction_payload (type 40).
 *
 * DESIGN: the payload (zstd, or stored) is inflated as a stream into a
 * window that holds at most one inner event plus one zstd output chunk, so
 * a payload of any size costs the largest inner event, not its whole
 * uncompressed size. Inner events have no CRC; they are yielded with
 * `inner` set and the outer event's offset. The outer event's bytes stay
 * in the reader's buffer while the payload is active (the reader does not
 * read on until it is exhausted).
 */
#include <string.h>
#include <zstd.h>

#include <binlogfs/event.h>

#include "reader-private.h"

#define OUT_CHUNK (128u * 1024)

struct BlPayloadState {
    ZSTD_DStream *zs;         /* NULL for an uncompressed payload */
    ZSTD_inBuffer in;
    guint64 outer_offset;
    guint64 expected;         /* uncompressed size announced */
    guint64 produced;         /* bytes inflated so far */
    guint8 *win;              /* inflated bytes not yet yielded: win[start..end) */
    gsize cap, start, end;
    gsize peak;
    guint32 inner_pos;        /* offset of win[start] in the payload */
    gboolean input_done;
    BlEvent ev;
};

static gboolean payload_fail(BlReader *r, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean payload_fail(BlReader *r, GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    guint64 off = r->payload ? r->payload->outer_offset : 0;
    guint32 in = r->payload ? r->payload->inner_pos : 0;
    r->failed = TRUE;
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                "%s:%" G_GUINT64_FORMAT ": Transaction_payload, inner offset %u: %s", r->name, off,
                in, msg);
    g_free(r->error_message);
    r->error_message = g_strdup_printf("%s:%" G_GUINT64_FORMAT ": Transaction_payload: %s", r->name,
                                       off, msg);
    return FALSE;
}

gboolean bl_payload_begin(BlReader *r, const BlEvent *outer, GError **error)
{
    BlPayload p;
    GError *e = NULL;
    if (!bl_decode_payload(outer, &r->fmt, &p, &e)) {
        r->failed = TRUE;
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "%s:%" G_GUINT64_FORMAT ": %s", r->name,
                    outer->offset, e->message);
        g_error_free(e);
        return FALSE;
    }
    if (p.compression != 0 && p.compression != 255) {
        r->failed = TRUE;
        g_set_error(error, BL_ERROR, BL_ERROR_UNSUPPORTED,
                    "%s:%" G_GUINT64_FORMAT ": Transaction_payload compression type %" G_GUINT64_FORMAT
                    " is not supported (only zstd and none)",
                    r->name, outer->offset, p.compression);
        return FALSE;
    }
    bl_payload_reset(r);
    BlPayloadState *s = g_new0(BlPayloadState, 1);
    r->payload = s;
    s->outer_offset = outer->offset;
    s->expected = p.uncompressed_size;
    s->in.src = p.payload;
    s->in.size = p.payload_size;
    s->in.pos = 0;
    if (p.compression == 0) {
        s->zs = ZSTD_createDStream();
        ZSTD_initDStream(s->zs);
    }
    s->cap = OUT_CHUNK * 2;
    s->win = g_malloc(s->cap);
    s->peak = s->cap;
    return TRUE;
}

gboolean bl_payload_active(const BlReader *r)
{
    return r->payload != NULL;
}

/* Inflates more bytes into the window; FALSE on a zstd error. */
static gboolean inflate_more(BlReader *r, gsize need, GError **error)
{
    BlPayloadState *s = r->payload;
    while (s->end - s->start < need && !s->input_done) {
        if (s->start > 0) {
            memmove(s->win, s->win + s->start, s->end - s->start);
            s->end -= s->start;
            s->start = 0;
        }
        if (s->cap - s->end < OUT_CHUNK || s->cap < need) {
            s->cap = MAX(s->cap * 2, need + OUT_CHUNK);
            s->win = g_realloc(s->win, s->cap);
            s->peak = MAX(s->peak, s->cap);
        }
        if (!s->zs) {
            gsize n = MIN(s->in.size - s->in.pos, s->cap - s->end);
            memcpy(s->win + s->end, (const guint8 *)s->in.src + s->in.pos, n);
            s->in.pos += n;
            s->end += n;
            s->produced += n;
            if (s->in.pos == s->in.size)
                s->input_done = TRUE;
            continue;
        }
        ZSTD_outBuffer out = { s->win + s->end, s->cap - s->end, 0 };
        size_t rc = ZSTD_decompressStream(s->zs, &out, &s->in);
        if (ZSTD_isError(rc))
            return payload_fail(r, error, "zstd: %s", ZSTD_getErrorName(rc));
        s->end += out.pos;
        s->produced += out.pos;
        if (s->produced > s->expected + OUT_CHUNK && s->expected)
            return payload_fail(r, error, "inflates to more than the announced %" G_GUINT64_FORMAT
                                " bytes", s->expected);
        if (rc == 0 || (s->in.pos == s->in.size && out.pos == 0))
            s->input_done = s->in.pos == s->in.size;
    }
    return TRUE;
}

gboolean bl_payload_next(BlReader *r, const BlEvent **out, GError **error)
{
    BlPayloadState *s = r->payload;
    if (!inflate_more(r, BL_HEADER_LEN, error))
        return FALSE;
    gsize avail = s->end - s->start;
    if (avail == 0 && s->input_done) {
        if (s->expected && s->produced != s->expected) {
            payload_fail(r, error, "inflated to %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                         " announced", s->produced, s->expected);
            return FALSE;
        }
        bl_payload_reset(r);
        return FALSE;
    }
    if (avail < BL_HEADER_LEN)
        return payload_fail(r, error, "ends inside an event header");
    BlEventHeader h;
    bl_header_decode(s->win + s->start, &h);
    if (h.size < BL_HEADER_LEN || h.size > (1u << 30))
        return payload_fail(r, error, "inner event has an impossible size %u", h.size);
    if (!inflate_more(r, h.size, error))
        return FALSE;
    if (s->end - s->start < h.size)
        return payload_fail(r, error, "ends inside a %u-byte event", h.size);
    if (h.type == BL_TRANSACTION_PAYLOAD_EVENT || h.type == BL_FORMAT_DESCRIPTION_EVENT ||
        (bl_event_type_name(h.type) == NULL && !(h.flags & BL_F_IGNORABLE)))
        return payload_fail(r, error, "inner event of type %u is not allowed in a payload", h.type);
    BlEvent *e = &s->ev;
    memset(e, 0, sizeof *e);
    e->h = h;
    e->orig_type = h.type;
    e->inner = TRUE;
    e->offset = s->outer_offset;
    e->inner_offset = s->inner_pos;
    e->stored_size = h.size;
    e->data = s->win + s->start;
    e->body = e->data + r->inner_fmt.header_len;
    e->body_len = h.size > r->inner_fmt.header_len ? h.size - r->inner_fmt.header_len : 0;
    s->start += h.size;
    s->inner_pos += h.size;
    *out = e;
    return TRUE;
}

void bl_payload_reset(BlReader *r)
{
    BlPayloadState *s = r->payload;
    if (!s)
        return;
    if (s->zs)
        ZSTD_freeDStream(s->zs);
    g_free(s->win);
    g_free(s);
    r->payload = NULL;
}

gsize bl_payload_peak(const BlReader *r)
{
    return r->payload ? r->payload->peak : 0;
}
