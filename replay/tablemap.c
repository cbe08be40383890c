/* binlogfs — Table_map events and the table_id -> map cache.
 *
 * Invariant: decoding reads nothing outside the event body. It returns
 * either NULL with an error, or a map whose every column has checked
 * metadata (so bl_value_size can size its values), whose key columns are
 * < n_columns, and whose strings live in the map's own memory. Optional
 * metadata that contradicts the columns in a harmless way (a charset list
 * of the wrong length, a short signedness bitmap) is dropped, leaving
 * "unknown"; metadata that is malformed is an error.
 *
 * The cache owns its maps and keeps each one's raw body: a Table_map
 * whose body is byte-identical to the one held for its table_id returns
 * the held map without decoding. A map stays valid until its table_id is
 * mapped to a different body, the cache is cleared or freed.
 */
#include <stdarg.h>
#include <string.h>

#include "rows-private.h"

typedef struct {
    BlTableMap pub; /* first: a BlTableMap * is a TableMap * */
    guint8 *raw;    /* copy of the event body */
    gsize raw_len;
    char *strings;  /* db, table and column names, NUL-terminated */
    gsize strings_cap, strings_used;
} TableMap;

typedef struct {
    const guint8 *p, *end;
} Cur;

typedef gboolean (*ColPred)(const BlColumn *c, BlFlavor flavor);

static gboolean tm_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean tm_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, BL_ERROR, BL_ERROR_CORRUPT, "table map: %s", msg);
    return FALSE;
}

static gsize cur_left(const Cur *c)
{
    return (gsize)(c->end - c->p);
}

static gboolean cur_lenenc(Cur *c, guint64 *v)
{
    return bl_lenenc(&c->p, c->end, v);
}

/* Copies n bytes into the map's string block; NULL if it does not fit. */
static const char *intern(TableMap *t, const guint8 *s, gsize n)
{
    if (t->strings_cap - t->strings_used < n + 1)
        return NULL;
    char *dst = t->strings + t->strings_used;
    memcpy(dst, s, n);
    dst[n] = '\0';
    t->strings_used += n + 1;
    return dst;
}

/* ---- column classes (as the servers use them for optional metadata) ---- */

static gboolean is_numeric(const BlColumn *c, BlFlavor flavor)
{
    switch (c->real_type) {
    case BL_T_TINY: case BL_T_SHORT: case BL_T_INT24: case BL_T_LONG: case BL_T_LONGLONG:
    case BL_T_YEAR: case BL_T_FLOAT: case BL_T_DOUBLE: case BL_T_DECIMAL: case BL_T_NEWDECIMAL:
        return TRUE;
    default:
        return FALSE;
    }
}

/* MySQL: STRING, VAR_STRING, VARCHAR, BLOB; MariaDB also GEOMETRY (its
 * field class derives from BLOB) [fmt-bin.000001: 12 collations]. */
static gboolean is_character(const BlColumn *c, BlFlavor flavor)
{
    switch (c->real_type) {
    case BL_T_STRING: case BL_T_VAR_STRING: case BL_T_VARCHAR:
    case BL_T_TINY_BLOB: case BL_T_MEDIUM_BLOB: case BL_T_LONG_BLOB: case BL_T_BLOB:
        return TRUE;
    case BL_T_GEOMETRY:
        return flavor == BL_FLAVOR_MARIADB;
    default:
        return FALSE;
    }
}

static gboolean is_enum_or_set(const BlColumn *c, BlFlavor flavor)
{
    return c->real_type == BL_T_ENUM || c->real_type == BL_T_SET;
}

/* ---- per-column metadata ------------------------------------------------ */

/* Bytes of metadata a column type carries in the map; -1 = unknown type. */
static int meta_bytes(guint8 type)
{
    switch (type) {
    case BL_T_DECIMAL: case BL_T_TINY: case BL_T_SHORT: case BL_T_LONG: case BL_T_NULL:
    case BL_T_TIMESTAMP: case BL_T_LONGLONG: case BL_T_INT24: case BL_T_DATE: case BL_T_TIME:
    case BL_T_DATETIME: case BL_T_YEAR: case BL_T_NEWDATE:
        return 0;
    case BL_T_FLOAT: case BL_T_DOUBLE: case BL_T_TIMESTAMP2: case BL_T_DATETIME2:
    case BL_T_TIME2: case BL_T_TINY_BLOB: case BL_T_MEDIUM_BLOB: case BL_T_LONG_BLOB:
    case BL_T_BLOB: case BL_T_GEOMETRY: case BL_T_JSON: case BL_T_VECTOR:
        return 1;
    case BL_T_VARCHAR: case BL_T_VAR_STRING: case BL_T_BIT: case BL_T_NEWDECIMAL:
    case BL_T_ENUM: case BL_T_SET: case BL_T_STRING:
        return 2;
    default:
        return -1;
    }
}

/* STRING's metadata hides the real type (CHAR, ENUM, SET) and the length. */
static void resolve_string(BlColumn *c)
{
    guint m0 = c->meta & 0xff, m1 = c->meta >> 8;
    if ((m0 & 0x30) != 0x30) {
        c->real_type = (guint8)(m0 | 0x30);
        c->max_len = m1 | (((m0 & 0x30) ^ 0x30) << 4);
    } else {
        c->real_type = (guint8)m0;
        c->max_len = m1;
    }
}

/* Fills real_type/max_len from type + meta; returns what is wrong with
 * them, or NULL. */
static const char *resolve_column(BlColumn *c)
{
    guint m0 = c->meta & 0xff, m1 = c->meta >> 8;
    c->real_type = c->type;
    switch (c->type) {
    case BL_T_STRING:
        resolve_string(c);
        if (c->real_type == BL_T_ENUM)
            return c->max_len == 1 || c->max_len == 2 ? NULL : "ENUM storage size is not 1 or 2";
        if (c->real_type == BL_T_SET)
            return c->max_len >= 1 && c->max_len <= 8 ? NULL : "SET storage size is not 1..8";
        return c->real_type == BL_T_STRING || c->real_type == BL_T_VAR_STRING
                   ? NULL : "STRING metadata names an unknown real type";
    case BL_T_ENUM: case BL_T_SET:
        c->max_len = m1;
        return m1 >= 1 && m1 <= (c->type == BL_T_ENUM ? 2u : 8u) ? NULL : "bad ENUM/SET size";
    case BL_T_VARCHAR: case BL_T_VAR_STRING:
        c->max_len = c->meta;
        return NULL;
    case BL_T_TINY_BLOB: case BL_T_MEDIUM_BLOB: case BL_T_LONG_BLOB: case BL_T_BLOB:
    case BL_T_GEOMETRY: case BL_T_JSON: case BL_T_VECTOR:
        c->max_len = m0;
        return m0 >= 1 && m0 <= 4 ? NULL : "length-prefix size is not 1..4";
    case BL_T_TIMESTAMP2: case BL_T_DATETIME2: case BL_T_TIME2:
        return m0 <= 6 ? NULL : "fractional-second precision above 6";
    case BL_T_NEWDECIMAL:
        return m0 >= 1 && m0 <= 65 && m1 <= m0 ? NULL : "bad DECIMAL precision/scale";
    case BL_T_BIT:
        return m0 <= 7 && m1 <= 8 && m0 + 8 * m1 >= 1 && m0 + 8 * m1 <= 64 ? NULL
                                                                          : "bad BIT length";
    default:
        return NULL;
    }
}

static gboolean read_column_meta(TableMap *t, const guint8 *types, Cur m, GError **error)
{
    BlColumn *cols = t->pub.columns;
    for (guint i = 0; i < t->pub.n_columns; i++) {
        BlColumn *c = &cols[i];
        int nb = meta_bytes(types[i]);
        c->type = types[i];
        c->is_unsigned = -1;
        if (nb < 0)
            return tm_error(error, "column %u has unknown type %u", i + 1, types[i]);
        if (cur_left(&m) < (gsize)nb)
            return tm_error(error, "column metadata is shorter than the column types need");
        c->meta = nb == 0 ? 0 : nb == 1 ? m.p[0] : (guint16)(m.p[0] | m.p[1] << 8);
        m.p += nb;
        const char *bad = resolve_column(c);
        if (bad)
            return tm_error(error, "column %u (%s): %s", i + 1, bl_column_type_name(c->type), bad);
        c->size = bl_column_fixed_size(c);
        t->pub.n_json += c->type == BL_T_JSON;
    }
    if (cur_left(&m) != 0)
        return tm_error(error, "column metadata is %zu bytes longer than the column types need",
                        cur_left(&m));
    return TRUE;
}

/* ---- optional metadata -------------------------------------------------- */

enum {
    OM_SIGNEDNESS = 1, OM_DEFAULT_CHARSET, OM_COLUMN_CHARSET, OM_COLUMN_NAME, OM_SET_STR_VALUE,
    OM_ENUM_STR_VALUE, OM_GEOMETRY_TYPE, OM_SIMPLE_PRIMARY_KEY, OM_PRIMARY_KEY_WITH_PREFIX,
    OM_ENUM_AND_SET_DEFAULT_CHARSET, OM_ENUM_AND_SET_COLUMN_CHARSET, OM_COLUMN_VISIBILITY,
    OM_VECTOR_DIMENSIONALITY,
};

typedef struct {
    TableMap *t;
    BlFlavor flavor;
} Ctx;

/* Indexes of the columns matching pred; returns the count. */
static guint select_columns(const Ctx *x, ColPred pred, guint *idx)
{
    guint n = 0;
    for (guint i = 0; i < x->t->pub.n_columns; i++)
        if (pred(&x->t->pub.columns[i], x->flavor))
            idx[n++] = i;
    return n;
}

static void forget_collations(const Ctx *x, const guint *idx, guint n)
{
    for (guint i = 0; i < n; i++)
        x->t->pub.columns[idx[i]].collation = 0;
}

/* One bit per numeric column, MSB first. Too short: left unknown. */
static gboolean om_signedness(const Ctx *x, Cur v)
{
    BlTableMap *tm = &x->t->pub;
    guint k = 0;
    for (guint i = 0; i < tm->n_columns; i++)
        k += is_numeric(&tm->columns[i], x->flavor);
    if (cur_left(&v) < (k + 7) / 8)
        return TRUE;
    k = 0;
    for (guint i = 0; i < tm->n_columns; i++) {
        if (!is_numeric(&tm->columns[i], x->flavor))
            continue;
        tm->columns[i].is_unsigned = (v.p[k / 8] >> (7 - k % 8)) & 1;
        k++;
    }
    return TRUE;
}

static gboolean read_collation(Cur *v, guint16 *coll)
{
    guint64 c;
    if (!cur_lenenc(v, &c) || c > G_MAXUINT16)
        return FALSE;
    *coll = (guint16)c;
    return TRUE;
}

/* Default collation, then {index among the selected columns, collation}. */
static gboolean om_default_charset(const Ctx *x, Cur v, ColPred pred)
{
    g_autofree guint *idx = g_new(guint, x->t->pub.n_columns);
    guint n = select_columns(x, pred, idx);
    guint16 coll;
    if (!read_collation(&v, &coll))
        return FALSE;
    for (guint i = 0; i < n; i++)
        x->t->pub.columns[idx[i]].collation = coll;
    while (cur_left(&v) > 0) {
        guint64 k;
        if (!cur_lenenc(&v, &k) || !read_collation(&v, &coll))
            return FALSE;
        if (k >= n) {
            forget_collations(x, idx, n);
            return TRUE;
        }
        x->t->pub.columns[idx[k]].collation = coll;
    }
    return TRUE;
}

/* One collation per selected column. */
static gboolean om_column_charset(const Ctx *x, Cur v, ColPred pred)
{
    g_autofree guint *idx = g_new(guint, x->t->pub.n_columns);
    guint n = select_columns(x, pred, idx), k = 0;
    guint16 coll;
    for (; cur_left(&v) > 0; k++) {
        if (!read_collation(&v, &coll))
            return FALSE;
        if (k < n)
            x->t->pub.columns[idx[k]].collation = coll;
    }
    if (k != n)
        forget_collations(x, idx, n);
    return TRUE;
}

static gboolean om_column_name(const Ctx *x, Cur v)
{
    BlTableMap *tm = &x->t->pub;
    for (guint i = 0; i < tm->n_columns; i++) {
        guint64 len;
        if (!cur_lenenc(&v, &len) || len > cur_left(&v))
            return FALSE;
        tm->columns[i].name = intern(x->t, v.p, (gsize)len);
        if (!tm->columns[i].name)
            return FALSE;
        v.p += len;
    }
    return cur_left(&v) == 0;
}

/* A list of lenenc values to the end (GEOMETRY_TYPE, VECTOR_DIMENSIONALITY):
 * checked for shape, not kept. */
static gboolean om_lenenc_list(Cur v)
{
    guint64 val;
    while (cur_left(&v) > 0)
        if (!cur_lenenc(&v, &val))
            return FALSE;
    return TRUE;
}

static gboolean om_primary_key(const Ctx *x, Cur v, gboolean with_prefix)
{
    BlTableMap *tm = &x->t->pub;
    BlKeyDef pk = { 0 };
    while (cur_left(&v) > 0) {
        guint64 col, prefix = 0;
        if (!cur_lenenc(&v, &col) || (with_prefix && !cur_lenenc(&v, &prefix)))
            return FALSE;
        if (col >= tm->n_columns || prefix > G_MAXUINT32 || pk.n_parts == BL_MAX_KEY_PARTS)
            return FALSE;
        pk.col[pk.n_parts] = (guint16)col;
        pk.prefix[pk.n_parts++] = (guint32)prefix;
    }
    if (pk.n_parts == 0)
        return FALSE;
    tm->pk = pk;
    tm->has_pk = TRUE;
    return TRUE;
}

/* One bit per column, MSB first, 1 = visible. */
static gboolean om_visibility(const Ctx *x, Cur v)
{
    BlTableMap *tm = &x->t->pub;
    if (cur_left(&v) < (tm->n_columns + 7) / 8)
        return FALSE;
    for (guint i = 0; i < tm->n_columns; i++)
        tm->columns[i].invisible = !((v.p[i / 8] >> (7 - i % 8)) & 1);
    return TRUE;
}

static const char *om_name(guint8 type)
{
    static const char *const names[] = {
        NULL, "SIGNEDNESS", "DEFAULT_CHARSET", "COLUMN_CHARSET", "COLUMN_NAME",
        "SET_STR_VALUE", "ENUM_STR_VALUE", "GEOMETRY_TYPE", "SIMPLE_PRIMARY_KEY",
        "PRIMARY_KEY_WITH_PREFIX", "ENUM_AND_SET_DEFAULT_CHARSET",
        "ENUM_AND_SET_COLUMN_CHARSET", "COLUMN_VISIBILITY", "VECTOR_DIMENSIONALITY",
    };
    return type < G_N_ELEMENTS(names) ? names[type] : NULL;
}

/* Applies one TLV; FALSE if its value is malformed. Unknown types pass. */
static gboolean apply_tlv(const Ctx *x, guint8 type, Cur v)
{
    switch (type) {
    case OM_SIGNEDNESS: return om_signedness(x, v);
    case OM_DEFAULT_CHARSET: return om_default_charset(x, v, is_character);
    case OM_COLUMN_CHARSET: return om_column_charset(x, v, is_character);
    case OM_COLUMN_NAME: return om_column_name(x, v);
    case OM_GEOMETRY_TYPE: return om_lenenc_list(v);
    case OM_SIMPLE_PRIMARY_KEY: return om_primary_key(x, v, FALSE);
    case OM_PRIMARY_KEY_WITH_PREFIX: return om_primary_key(x, v, TRUE);
    case OM_ENUM_AND_SET_DEFAULT_CHARSET: return om_default_charset(x, v, is_enum_or_set);
    case OM_ENUM_AND_SET_COLUMN_CHARSET: return om_column_charset(x, v, is_enum_or_set);
    case OM_COLUMN_VISIBILITY: return om_visibility(x, v);
    case OM_VECTOR_DIMENSIONALITY: return om_lenenc_list(v);
    default: return TRUE; /* SET/ENUM strings and future types: skipped */
    }
}

static gboolean read_optional_metadata(TableMap *t, Cur c, BlFlavor flavor, GError **error)
{
    Ctx x = { t, flavor };
    while (cur_left(&c) > 0) {
        guint8 type = *c.p++;
        guint64 len;
        if (!cur_lenenc(&c, &len) || len > cur_left(&c))
            return tm_error(error, "optional metadata field %u runs past the end of the event",
                            type);
        Cur v = { c.p, c.p + len };
        if (!apply_tlv(&x, type, v))
            return tm_error(error, "optional metadata %s is malformed", om_name(type));
        c.p += len;
        t->pub.has_optional_metadata = TRUE;
    }
    return TRUE;
}

/* ---- the event ---------------------------------------------------------- */

static gboolean read_name(TableMap *t, Cur *c, const char **out, const char *what,
                          GError **error)
{
    if (cur_left(c) < 1 || cur_left(c) - 1 < (gsize)c->p[0] + 1)
        return tm_error(error, "%s name runs past the end of the event", what);
    gsize len = c->p[0];
    if (c->p[1 + len] != '\0')
        return tm_error(error, "%s name is not NUL-terminated", what);
    *out = intern(t, c->p + 1, len);
    g_assert(*out); /* the string block has room for every name in the body */
    c->p += len + 2;
    return TRUE;
}

static TableMap *table_map_new(const BlEvent *ev)
{
    TableMap *t = g_new0(TableMap, 1);
    t->raw_len = ev->body_len;
    t->raw = g_memdup2(ev->body, ev->body_len);
    t->strings_cap = ev->body_len + 1;
    t->strings = g_malloc(t->strings_cap);
    return t;
}

/* db, table, column count and types. */
static gboolean read_head(TableMap *t, Cur *c, const guint8 **types, GError **error)
{
    guint64 n;
    const char *db, *table;
    if (!read_name(t, c, &db, "database", error) || !read_name(t, c, &table, "table", error))
        return FALSE;
    t->pub.db = (char *)db; /* owned by the string block */
    t->pub.table = (char *)table;
    if (!cur_lenenc(c, &n) || n > cur_left(c))
        return tm_error(error, "column types run past the end of the event");
    if (n == 0 || n > G_MAXUINT16)
        return tm_error(error, "impossible column count %" G_GUINT64_FORMAT, n);
    t->pub.n_columns = (guint)n;
    t->pub.columns = g_new0(BlColumn, n);
    *types = c->p;
    c->p += n;
    return TRUE;
}

/* Column metadata and the nullability bitmap. */
static gboolean read_columns(TableMap *t, Cur *c, const guint8 *types, GError **error)
{
    guint64 mlen;
    if (!cur_lenenc(c, &mlen) || mlen > cur_left(c))
        return tm_error(error, "column metadata runs past the end of the event");
    Cur m = { c->p, c->p + mlen };
    c->p += mlen;
    if (!read_column_meta(t, types, m, error))
        return FALSE;
    gsize nb = (t->pub.n_columns + 7) / 8;
    if (cur_left(c) < nb)
        return tm_error(error, "NULL bitmap runs past the end of the event");
    for (guint i = 0; i < t->pub.n_columns; i++)
        t->pub.columns[i].nullable = (c->p[i / 8] >> (i % 8)) & 1;
    c->p += nb;
    return TRUE;
}

static gboolean decode_into(TableMap *t, const BlEvent *ev, const BlFormat *fmt, GError **error)
{
    guint phl = fmt->post_header_len[BL_TABLE_MAP_EVENT] ? fmt->post_header_len[BL_TABLE_MAP_EVENT]
                                                         : 8;
    guint idlen = phl == 6 ? 4 : 6;
    if (phl < idlen + 2 || ev->body_len < phl)
        return tm_error(error, "event shorter than its post-header");
    t->pub.table_id = idlen == 4 ? bl_u32(ev->body) : bl_u48(ev->body);
    t->pub.flags = bl_u16(ev->body + idlen);
    Cur c = { ev->body + phl, ev->body + ev->body_len };
    const guint8 *types = NULL;
    if (!read_head(t, &c, &types, error) || !read_columns(t, &c, types, error) ||
        !read_optional_metadata(t, c, fmt->flavor, error))
        return FALSE;
    t->pub.table_hash = bl_table_hash(t->pub.db, t->pub.table);
    return TRUE;
}

BlTableMap *bl_table_map_decode(const BlEvent *ev, const BlFormat *fmt, GError **error)
{
    g_return_val_if_fail(ev != NULL && fmt != NULL, NULL);
    if (ev->h.type != BL_TABLE_MAP_EVENT) {
        tm_error(error, "event type %u is not Table_map", ev->h.type);
        return NULL;
    }
    TableMap *t = table_map_new(ev);
    if (!decode_into(t, ev, fmt, error)) {
        bl_table_map_free(&t->pub);
        return NULL;
    }
    return &t->pub;
}

void bl_table_map_free(BlTableMap *tm)
{
    if (!tm)
        return;
    TableMap *t = (TableMap *)tm;
    g_free(t->pub.columns);
    g_free(t->strings);
    g_free(t->raw);
    g_free(t);
}

/* ---- the cache ---------------------------------------------------------- */

struct BlTableCache {
    GHashTable *maps; /* &map->table_id -> TableMap (owned) */
    TableMap *last;   /* the map last put or got, or NULL */
};

BlTableCache *bl_table_cache_new(void)
{
    BlTableCache *c = g_new0(BlTableCache, 1);
    c->maps = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                    (GDestroyNotify)bl_table_map_free);
    return c;
}

void bl_table_cache_free(BlTableCache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->maps);
    g_free(c);
}

static gboolean same_body(const TableMap *t, const BlEvent *ev)
{
    return t->raw_len == ev->body_len && memcmp(t->raw, ev->body, ev->body_len) == 0;
}

const BlTableMap *bl_table_cache_put(BlTableCache *c, const BlEvent *ev, const BlFormat *fmt,
                                     GError **error)
{
    if (c->last && same_body(c->last, ev))
        return &c->last->pub;
    guint phl = fmt->post_header_len[BL_TABLE_MAP_EVENT];
    if (ev->h.type == BL_TABLE_MAP_EVENT && ev->body_len >= 6) {
        guint64 id = phl == 6 ? bl_u32(ev->body) : bl_u48(ev->body);
        TableMap *old = g_hash_table_lookup(c->maps, &id);
        if (old && same_body(old, ev))
            return &(c->last = old)->pub;
    }
    BlTableMap *tm = bl_table_map_decode(ev, fmt, error);
    if (!tm)
        return NULL;
    g_hash_table_replace(c->maps, &tm->table_id, tm);
    c->last = (TableMap *)tm;
    return tm;
}

const BlTableMap *bl_table_cache_get(BlTableCache *c, guint64 table_id)
{
    if (c->last && c->last->pub.table_id == table_id)
        return &c->last->pub;
    TableMap *t = g_hash_table_lookup(c->maps, &table_id);
    if (t)
        c->last = t;
    return t ? &t->pub : NULL;
}

void bl_table_cache_clear(BlTableCache *c)
{
    g_hash_table_remove_all(c->maps);
    c->last = NULL;
}
