/* binlogfs — rows events (v1, v2, PARTIAL_UPDATE_ROWS) and their rows.
 *
 * Invariant: no byte outside [ev->body, ev->body + ev->body_len) is ever
 * read, whatever the bytes say; every length is checked against what is
 * left before it is used. The row iterator allocates nothing: a row is
 * walked with one pass over the columns, testing the column and NULL
 * bitmaps inline, and each BlValue points into the event.
 */
#include <string.h>

#include "rows-private.h"

/* ---- column types ------------------------------------------------------ */

static const char *const type_names[256] = {
    [BL_T_DECIMAL] = "DECIMAL", [BL_T_TINY] = "TINY", [BL_T_SHORT] = "SHORT",
    [BL_T_LONG] = "LONG", [BL_T_FLOAT] = "FLOAT", [BL_T_DOUBLE] = "DOUBLE",
    [BL_T_NULL] = "NULL", [BL_T_TIMESTAMP] = "TIMESTAMP", [BL_T_LONGLONG] = "LONGLONG",
    [BL_T_INT24] = "INT24", [BL_T_DATE] = "DATE", [BL_T_TIME] = "TIME",
    [BL_T_DATETIME] = "DATETIME", [BL_T_YEAR] = "YEAR", [BL_T_NEWDATE] = "NEWDATE",
    [BL_T_VARCHAR] = "VARCHAR", [BL_T_BIT] = "BIT", [BL_T_TIMESTAMP2] = "TIMESTAMP2",
    [BL_T_DATETIME2] = "DATETIME2", [BL_T_TIME2] = "TIME2", [BL_T_TYPED_ARRAY] = "TYPED_ARRAY",
    [BL_T_VECTOR] = "VECTOR", [BL_T_JSON] = "JSON", [BL_T_NEWDECIMAL] = "NEWDECIMAL",
    [BL_T_ENUM] = "ENUM", [BL_T_SET] = "SET", [BL_T_TINY_BLOB] = "TINY_BLOB",
    [BL_T_MEDIUM_BLOB] = "MEDIUM_BLOB", [BL_T_LONG_BLOB] = "LONG_BLOB", [BL_T_BLOB] = "BLOB",
    [BL_T_VAR_STRING] = "VAR_STRING", [BL_T_STRING] = "STRING", [BL_T_GEOMETRY] = "GEOMETRY",
};

const char *bl_column_type_name(guint8 real_type)
{
    return type_names[real_type];
}

/* Bytes of a packed decimal with `digits` digits (MySQL dig2bytes). */
static guint32 decimal_digits_size(guint digits)
{
    static const guint8 dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
    return (digits / 9) * 4 + dig2bytes[digits % 9];
}

static guint32 decimal_size(guint precision, guint scale)
{
    if (scale > precision)
        return 0;
    return decimal_digits_size(precision - scale) + decimal_digits_size(scale);
}

guint32 bl_column_fixed_size(const BlColumn *c)
{
    guint m0 = c->meta & 0xff, m1 = c->meta >> 8;
    switch (c->real_type) {
    case BL_T_TINY: case BL_T_YEAR:
        return 1;
    case BL_T_SHORT:
        return 2;
    case BL_T_INT24: case BL_T_DATE: case BL_T_NEWDATE: case BL_T_TIME:
        return 3;
    case BL_T_LONG: case BL_T_FLOAT: case BL_T_TIMESTAMP:
        return 4;
    case BL_T_LONGLONG: case BL_T_DOUBLE: case BL_T_DATETIME:
        return 8;
    case BL_T_TIMESTAMP2:
        return m0 <= 6 ? 4 + (m0 + 1) / 2 : 0;
    case BL_T_DATETIME2:
        return m0 <= 6 ? 5 + (m0 + 1) / 2 : 0;
    case BL_T_TIME2:
        return m0 <= 6 ? 3 + (m0 + 1) / 2 : 0;
    case BL_T_NEWDECIMAL:
        return decimal_size(m0, m1);
    case BL_T_BIT:
        return m1 + (m0 != 0);
    case BL_T_ENUM: case BL_T_SET:
        return c->max_len;
    default:
        return 0;
    }
}

static gboolean is_blob_like(guint8 t)
{
    return (t >= BL_T_TINY_BLOB && t <= BL_T_BLOB) || t == BL_T_GEOMETRY || t == BL_T_JSON ||
           t == BL_T_VECTOR;
}

static gboolean is_char_like(guint8 t)
{
    return t == BL_T_VARCHAR || t == BL_T_VAR_STRING || t == BL_T_STRING;
}

guint bl_column_length_bytes(const BlColumn *c)
{
    if (is_char_like(c->real_type))
        return c->max_len < 256 ? 1 : 2;
    if (is_blob_like(c->real_type))
        return c->max_len;
    return 0;
}

gboolean bl_column_type_known(const BlColumn *c)
{
    if (c->real_type == BL_T_NULL || is_char_like(c->real_type))
        return TRUE;
    if (is_blob_like(c->real_type))
        return c->max_len >= 1 && c->max_len <= 4;
    return bl_column_fixed_size(c) != 0;
}

/* Little-endian unsigned integer of n (1..4) bytes. */
static guint32 le_uint(const guint8 *p, guint n)
{
    guint32 v = 0;
    for (guint i = 0; i < n; i++)
        v |= (guint32)p[i] << (8 * i);
    return v;
}

gboolean bl_value_size(const BlColumn *c, const guint8 *p, gsize avail, guint32 *size)
{
    guint64 n = bl_column_fixed_size(c);
    if (n == 0) {
        guint lb = bl_column_length_bytes(c);
        if (c->real_type == BL_T_NULL)
            n = 0;
        else if (lb >= 1 && lb <= 4 && avail >= lb)
            n = (guint64)lb + le_uint(p, lb);
        else
            return FALSE;
    }
    if (n > avail)
        return FALSE;
    *size = (guint32)n;
    return TRUE;
}

/* ---- the rows event ---------------------------------------------------- */

static gboolean corrupt(GError **error, const char *what)
{
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "rows event: %s", what);
    return FALSE;
}

/* Post-header length for `type`, with the standard value when the FDE does
 * not list the type. */
static guint rows_post_header_len(const BlFormat *fmt, guint8 type, gboolean v2)
{
    guint n = fmt->post_header_len[type];
    return n ? n : v2 ? 10 : 8;
}

static gboolean set_kind(BlRows *out, guint8 type, gboolean *v2, GError **error)
{
    *v2 = type >= BL_WRITE_ROWS_EVENT;
    switch (type) {
    case BL_WRITE_ROWS_EVENT_V1: case BL_WRITE_ROWS_EVENT:
        return TRUE;
    case BL_UPDATE_ROWS_EVENT_V1: case BL_UPDATE_ROWS_EVENT:
        out->is_update = TRUE;
        return TRUE;
    case BL_DELETE_ROWS_EVENT_V1: case BL_DELETE_ROWS_EVENT:
        out->is_delete = TRUE;
        return TRUE;
    case BL_PARTIAL_UPDATE_ROWS_EVENT:
        out->is_update = out->is_partial = TRUE;
        return TRUE;
    default:
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "rows event: event type %u is not a (plain) rows event", type);
        return FALSE;
    }
}

/* table_id, flags and (v2) the extra data; returns where the body starts. */
static const guint8 *decode_post_header(const BlEvent *ev, const BlFormat *fmt, gboolean v2,
                                        BlRows *out, GError **error)
{
    const guint8 *b = ev->body, *end = ev->body + ev->body_len;
    guint phl = rows_post_header_len(fmt, ev->h.type, v2);
    guint idlen = phl == 6 ? 4 : 6;
    if (phl < idlen + 2u || ev->body_len < phl) {
        corrupt(error, "event shorter than its post-header");
        return NULL;
    }
    out->table_id = idlen == 4 ? bl_u32(b) : bl_u48(b);
    out->flags = bl_u16(b + idlen);
    const guint8 *p = b + phl;
    if (v2 && phl >= idlen + 4u) {
        guint extra = bl_u16(b + idlen + 2);
        if (extra < 2 || (gsize)(end - p) < extra - 2u) {
            corrupt(error, "extra row data runs past the end of the event");
            return NULL;
        }
        p += extra - 2;
    }
    return p;
}

gboolean bl_rows_decode(const BlEvent *ev, const BlFormat *fmt, BlRows *out, GError **error)
{
    gboolean v2;
    memset(out, 0, sizeof *out);
    out->type = ev->h.type;
    if (!set_kind(out, ev->h.type, &v2, error))
        return FALSE;
    const guint8 *end = ev->body + ev->body_len;
    const guint8 *p = decode_post_header(ev, fmt, v2, out, error);
    if (!p)
        return FALSE;
    guint64 n;
    if (!bl_lenenc(&p, end, &n))
        return corrupt(error, "column count runs past the end of the event");
    if (n == 0 || n > G_MAXUINT16)
        return corrupt(error, "impossible column count");
    gsize nb = (gsize)(n + 7) / 8;
    if ((gsize)(end - p) < (out->is_update ? 2 * nb : nb))
        return corrupt(error, "column bitmap runs past the end of the event");
    out->n_columns = (guint)n;
    out->cols_before = out->cols_after = p;
    p += nb;
    if (out->is_update) {
        out->cols_after = p;
        p += nb;
    }
    out->rows = p;
    out->rows_end = end;
    return TRUE;
}

/* ---- the row iterator -------------------------------------------------- */

static inline gboolean bit_lsb(const guint8 *map, guint i)
{
    return (map[i >> 3] >> (i & 7)) & 1;
}

static guint popcount_bits(const guint8 *map, guint nbits)
{
    guint n = 0;
    for (guint i = 0; i < nbits / 8; i++)
        n += (guint)__builtin_popcount(map[i]);
    if (nbits & 7)
        n += (guint)__builtin_popcount(map[nbits / 8] & ((1u << (nbits & 7)) - 1));
    return n;
}

void bl_row_iter_init(BlRowIter *it, const BlRows *rows, const BlTableMap *tm)
{
    g_assert(rows && tm);
    it->rows = rows;
    it->tm = tm;
    it->p = rows->rows;
    it->index = 0;
    it->n_before = popcount_bits(rows->cols_before, rows->n_columns);
    it->n_after = popcount_bits(rows->cols_after, rows->n_columns);
}

typedef struct {
    const char *image; /* "before image" / "after image" */
    guint col;         /* 0-based; G_MAXUINT = not at a column */
} Where;

static gboolean row_error(const BlRowIter *it, Where w, const char *what, GError **error)
{
    guint row = it->index + 1;
    if (w.col == G_MAXUINT) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "rows event: row %u%s%s%s: %s", row,
                    w.image ? " (" : "", w.image ? w.image : "", w.image ? ")" : "", what);
        return FALSE;
    }
    const BlColumn *c = &it->tm->columns[w.col];
    const char *tn = bl_column_type_name(c->real_type);
    g_autofree char *tbuf = tn ? NULL : g_strdup_printf("type %u", c->real_type);
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                "rows event: row %u (%s), column %u%s%s%s (%s): %s", row, w.image, w.col + 1,
                c->name ? " `" : "", c->name ? c->name : "", c->name ? "`" : "", tn ? tn : tbuf,
                what);
    return FALSE;
}

/* The PARTIAL_UPDATE after image prefix: value_options and, when bit 0 is
 * set, one bit per JSON column of the table. Sets *pbits (NULL = none). */
static gboolean read_value_options(BlRowIter *it, const guint8 **pp, const guint8 **pbits,
                                   GError **error)
{
    const guint8 *end = it->rows->rows_end;
    Where w = { "after image", G_MAXUINT };
    guint64 opts;
    *pbits = NULL;
    if (!bl_lenenc(pp, end, &opts))
        return row_error(it, w, "value_options run past the end of the event", error);
    if (!(opts & 1))
        return TRUE;
    gsize nb = (it->tm->n_json + 7) / 8;
    if ((gsize)(end - *pp) < nb)
        return row_error(it, w, "partial JSON bitmap runs past the end of the event", error);
    *pbits = *pp;
    *pp += nb;
    return TRUE;
}

/* Size of a JSON diff value (u32 length + diffs). */
static gboolean json_diff_size(const guint8 *p, gsize avail, guint32 *size)
{
    if (avail < 4 || bl_u32(p) > avail - 4)
        return FALSE;
    *size = bl_u32(p) + 4;
    return TRUE;
}

static gboolean value_error(const BlRowIter *it, Where w, GError **error)
{
    const BlColumn *c = &it->tm->columns[w.col];
    if (!bl_column_type_known(c))
        return row_error(it, w, "column type not supported (cannot size its values)", error);
    return row_error(it, w, "value runs past the end of the event", error);
}

/* Walks one image at it->p; fills out[] (may be NULL). */
static gboolean read_image(BlRowIter *it, const guint8 *cols, guint npresent, gboolean after,
                           BlValue *out, GError **error)
{
    const BlColumn *colv = it->tm->columns;
    const guint8 *p = it->p, *end = it->rows->rows_end, *pbits = NULL;
    guint n = it->rows->n_columns, j = 0, jjson = 0;
    Where w = { after ? "after image" : "before image", G_MAXUINT };
    if (after && it->rows->is_partial && !read_value_options(it, &p, &pbits, error))
        return FALSE;
    gsize nb = (npresent + 7) / 8;
    if ((gsize)(end - p) < nb)
        return row_error(it, w, "NULL bitmap runs past the end of the event", error);
    const guint8 *nulls = p;
    p += nb;
    for (guint i = 0; i < n; i++) {
        const BlColumn *c = &colv[i];
        gboolean partial = FALSE;
        if (G_UNLIKELY(pbits != NULL) && c->type == BL_T_JSON)
            partial = bit_lsb(pbits, jjson++);
        if (!bit_lsb(cols, i)) {
            if (out)
                out[i] = (BlValue){ NULL, 0, FALSE, FALSE };
            continue;
        }
        if (bit_lsb(nulls, j++)) {
            if (out)
                out[i] = (BlValue){ NULL, 0, TRUE, TRUE };
            continue;
        }
        guint32 sz = c->size;
        gsize avail = (gsize)(end - p);
        if (G_UNLIKELY(sz == 0 || sz > avail || partial)) {
            w.col = i;
            if (partial ? !json_diff_size(p, avail, &sz) : !bl_value_size(c, p, avail, &sz))
                return value_error(it, w, error);
        }
        if (out)
            out[i] = (BlValue){ p, sz, TRUE, FALSE };
        p += sz;
    }
    it->p = p;
    return TRUE;
}

gboolean bl_row_iter_next(BlRowIter *it, BlValue *before, BlValue *after, GError **error)
{
    const BlRows *r = it->rows;
    if (it->p >= r->rows_end)
        return FALSE;
    if (r->n_columns != it->tm->n_columns) {
        g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT,
                    "rows event: %u columns but the table map of `%s`.`%s` has %u", r->n_columns,
                    it->tm->db, it->tm->table, it->tm->n_columns);
        return FALSE;
    }
    const guint8 *start = it->p;
    gboolean ok;
    if (r->is_update)
        ok = read_image(it, r->cols_before, it->n_before, FALSE, before, error) &&
             read_image(it, r->cols_after, it->n_after, TRUE, after, error);
    else if (r->is_delete)
        ok = read_image(it, r->cols_before, it->n_before, FALSE, before, error);
    else
        ok = read_image(it, r->cols_after, it->n_after, TRUE, after, error);
    if (ok && it->p == start) {
        Where w = { NULL, G_MAXUINT };
        return row_error(it, w, "row has no columns (empty column bitmap)", error);
    }
    if (ok)
        it->index++;
    return ok;
}
